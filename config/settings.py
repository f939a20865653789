"""Shebao settings, read from the environment.

Defaults run the embedded setup (SQLite in ./var). Production sets DJANGO_ENV=production,
which refuses to start with the default secret key.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHEBAO_VAR_DIR", BASE_DIR / "var"))

DEFAULT_SECRET_KEY = "dev-insecure-shebao-secret-key-change-me-0123456789"


def env(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (for secrets mounted as files)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


ENVIRONMENT = env("DJANGO_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
SECRET_KEY = env("SECRET_KEY", DEFAULT_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value in production.")
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "csp",
    "ninja",  # django-ninja: its Swagger UI is served from its own static files, not a CDN
    "shebao.core",
    "shebao.accounts",
    "shebao.employers",
    "shebao.params",
    "shebao.register",
    "shebao.workflow",
    "shebao.inbox",
    "shebao.business",
    "shebao.batch",
    "shebao.exports",
    "shebao.web",
    "shebao.backoffice",
    "shebao.api",
    "shebao.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /api/: the language, the body's size, the token, the rate limit and Idempotency-Key.
    "shebao.api.middleware.ApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shebao.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "shebao.accounts.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shebao.accounts.middleware.NoStoreMiddleware",
    "shebao.accounts.middleware.IdleTimeoutMiddleware",
    "shebao.accounts.middleware.ForcePasswordChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shebao.web.reader.ReaderCSPMiddleware",  # after CSPMiddleware: its response is seen first
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "shebao" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shebao.web.context.current_actor",
                "shebao.inbox.context.unread",
            ],
            "builtins": ["shebao.core.templatetags.shebao_tags", "shebao.workflow.templatetags.workflow_tags"],
        },
    },
]


def database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or "postgres"),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 600),
            # Off by default, as in Django: a check is one more round trip on every request
            # (a fifth of 首页's cost). Without it the first request on a connection broken by a
            # database restart fails once, and that connection is then replaced.
            "CONN_HEALTH_CHECKS": env_bool("CONN_HEALTH_CHECKS", False),
            "TEST": {"NAME": env("TEST_DATABASE_NAME", "") or None},
        }
    if parsed.scheme == "sqlite":
        return sqlite_database(Path(unquote(parsed.path)) if parsed.path else VAR_DIR / "shebao.sqlite3")
    raise ImproperlyConfigured(f"Unsupported DATABASE_URL scheme: {parsed.scheme}")


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Every atomic block takes SQLite's single write lock at BEGIN, so two writers never
        # deadlock upgrading read locks; the long timeout lets them queue instead of failing.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 90,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=90000;",
        },
        "TEST": {"NAME": env("TEST_SQLITE_NAME", "") or None},
    }


DATABASES = {"default": database_from_url(env("DATABASE_URL", f"sqlite://{VAR_DIR / 'shebao.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "shebao.accounts.passwords.ComplexityValidator"},
    {"NAME": "shebao.accounts.passwords.NoIdentityValidator"},
    {"NAME": "shebao.accounts.passwords.HistoryValidator"},
]
AUTHENTICATION_BACKENDS = ["shebao.accounts.backends.ShebaoBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"

SESSION_ENGINE = "shebao.accounts.sessions"
SESSION_COOKIE_AGE = 30 * 60
SESSION_IDLE_SECONDS = 30 * 60
# The idle clock is refreshed at most once a minute, so a busy user does not write the
# session row on every request.
SESSION_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Login throttling (shebao.accounts.lockout, on django-axes' counters in the database, so
# every web process counts the same failures): five failures lock the attempted
# (单位编号, 用户名) for 15 minutes, existing or not; an address is refused after many failures
# of any identities within a day (an office of many operators shares one address).
LOGIN_MAX_FAILURES = 5
LOGIN_LOCK_MINUTES = 15
LOGIN_ADDRESS_MAX_FAILURES = env_int("LOGIN_ADDRESS_MAX_FAILURES", 100)
LOGIN_ADDRESS_WINDOW_MINUTES = env_int("LOGIN_ADDRESS_WINDOW_MINUTES", 24 * 60)
# Proxies in front of the web processes that append to X-Forwarded-For (production runs behind
# one TLS-terminating proxy); 0 takes REMOTE_ADDR as the client's address.
SHEBAO_PROXY_COUNT = env_int("SHEBAO_PROXY_COUNT", 1 if PRODUCTION else 0)
AXES_ENABLED = True  # django-axes' default, named because accounts.lockout reads it
AXES_HANDLER = "shebao.accounts.lockout.LoginAttemptHandler"
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = "shebao.accounts.lockout.lock_duration"
AXES_LOCKOUT_PARAMETERS = "shebao.accounts.lockout.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "shebao.accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "shebao.accounts.lockout.attempted_identity"
AXES_CLIENT_IP_CALLABLE = "shebao.accounts.lockout.client_address"
AXES_RESET_ON_SUCCESS = True  # a success clears its identity's failures (only its own)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a refused attempt never prolongs a lock
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failure: what the address limit counts
AXES_VERBOSE = False
# Locks are seen and lifted on the users (登录锁定, 解除登录锁定), not in axes' own tables.
AXES_ENABLE_ADMIN = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "shebao" / "locale"]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from the finders in development
MEDIA_ROOT = VAR_DIR / "media"  # never served directly: photos and exports go through views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
SHEBAO_PHOTO_MAX_BYTES = 5 * 1024 * 1024
# The second-generation ID card reader (读卡器, docs/reader.md): the local service the vendor
# installs on the operator's PC. Defaults of the 读卡器设置 an administrator edits in 系统管理
# (params.ReaderSettings); the Content-Security-Policy of a page with the 读卡器 button
# allows exactly this origin in connect-src. SHEBAO_READER_FIELDS: JSON {"name": "partyName", …}
# overriding the reply's field names. The photo from the chip (102×126) is at most this big.
SHEBAO_READER_ORIGIN = env("SHEBAO_READER_ORIGIN", "http://127.0.0.1:19196")
SHEBAO_READER_OPEN_PATH = env("SHEBAO_READER_OPEN_PATH", "/OpenDevice")
SHEBAO_READER_READ_PATH = env("SHEBAO_READER_READ_PATH", "/readcard")
SHEBAO_READER_CLOSE_PATH = env("SHEBAO_READER_CLOSE_PATH", "/CloseDevice")
SHEBAO_READER_FIELDS = env("SHEBAO_READER_FIELDS", "")
SHEBAO_READER_PHOTO_MAX_BYTES = env_int("SHEBAO_READER_PHOTO_MAX_BYTES", 256 * 1024)
SHEBAO_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
# Scanned materials attached to a transaction (不见面审批): the size of one file, the files
# of one transaction and the pages of one PDF. Files bigger than FILE_UPLOAD_MAX_MEMORY_SIZE
# are spooled to a temporary file while the request is read; the front web server's body
# limit (e.g. nginx client_max_body_size) must allow SHEBAO_ATTACHMENT_MAX_BYTES plus the form.
SHEBAO_ATTACHMENT_MAX_BYTES = env_int("SHEBAO_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
SHEBAO_ATTACHMENT_MAX_COUNT = env_int("SHEBAO_ATTACHMENT_MAX_COUNT", 20)
SHEBAO_ATTACHMENT_MAX_PAGES = env_int("SHEBAO_ATTACHMENT_MAX_PAGES", 50)
# 统一社会信用代码 (GB 32100), position 1: the registration authority codes accepted.
SHEBAO_USCC_AUTHORITIES = "".join(env("SHEBAO_USCC_AUTHORITIES", "123456789ANY").upper().split())
if not SHEBAO_USCC_AUTHORITIES or set(SHEBAO_USCC_AUTHORITIES) - set("0123456789ABCDEFGHJKLMNPQRTUWXY"):
    raise ImproperlyConfigured("SHEBAO_USCC_AUTHORITIES must be code characters of GB 32100, e.g. 123456789ANY.")

# Background work: django-q2 with its ORM broker (see docs/operations.md).
# "short" serves single audits; "long" serves batches, so a big batch never delays a single.
Q_SHORT = "short"
Q_LONG = "long"
Q_OUTBOX = "outbox"
Q_CLUSTER = {
    "name": Q_SHORT,
    "orm": "default",
    "workers": env_int("Q_WORKERS", 1),
    "recycle": 2000,  # a restarted worker costs a second of Django start-up
    "timeout": env_int("Q_TIMEOUT", 600),
    "retry": env_int("Q_RETRY", 720),
    "max_attempts": 5,
    "poll": float(env("Q_POLL", "0.05")),
    "bulk": 1,
    "queue_limit": 4,
    "ack_failures": True,
    # Results live on our own rows (state, counters, events), so successful tasks are not
    # stored: the monitor's pruning of kept successes cost 12 ms of CPU per single audit at
    # 500 (bench/submit_latency.py). Failures are still stored for the admin.
    "save_limit": -1,
    "catch_up": False,
    "label": gettext_lazy("后台任务"),  # the admin app name of django-q
    "ALT_CLUSTERS": {
        Q_LONG: {"timeout": env_int("Q_LONG_TIMEOUT", 1800), "retry": env_int("Q_LONG_RETRY", 1900), "poll": 0.2},
        # The outbox's deliveries: the message centre's messages and e-mails and the API's
        # webhooks. Apart from the audits, so that at a busy time a single audit never waits
        # behind them, and a slow or hanging receiver never holds up an audit or an import.
        Q_OUTBOX: {"timeout": env_int("Q_OUTBOX_TIMEOUT", 120), "retry": env_int("Q_OUTBOX_RETRY", 150), "poll": 0.2},
    },
}
# An audit or import whose heartbeat (updated every chunk) is older than this is re-queued;
# the conditional finish and the chunk-wise import make a duplicate job harmless, so this
# can be much shorter than the broker's redelivery time.
SHEBAO_AUDIT_STUCK_SECONDS = env_int("SHEBAO_AUDIT_STUCK_SECONDS", 300)
# Deliveries of one import or audit job (counted on the transaction) before it is given up:
# the import then shows its error and can be cancelled, the audit returns the transaction.
# The queue's own max_attempts counts per queued task, and the sweepers queue new ones.
SHEBAO_JOB_MAX_ATTEMPTS = env_int("SHEBAO_JOB_MAX_ATTEMPTS", 3)
# The long cluster (batches, big exports) runs at a lower CPU priority, so that on a small
# machine a big batch leaves the CPU to single audits (0 disables).
SHEBAO_LONG_NICE = env_int("SHEBAO_LONG_NICE", 10)
# The outbox cluster (messages, e-mails, webhooks) too, a little: a message may wait a moment.
SHEBAO_OUTBOX_NICE = env_int("SHEBAO_OUTBOX_NICE", 5)
# Processes that share the import of a big file on PostgreSQL (the worker forks the others;
# each commits its own chunks). 1 imports in the worker alone.
SHEBAO_IMPORT_PROCESSES = env_int("SHEBAO_IMPORT_PROCESSES", 2)
# Rows audited per committed chunk (progress and heartbeat are written per chunk).
SHEBAO_AUDIT_CHUNK = env_int("SHEBAO_AUDIT_CHUNK", 2000)
# Rows whose effect is applied per step of a finishing batch (all in one database transaction).
SHEBAO_APPLY_CHUNK = env_int("SHEBAO_APPLY_CHUNK", 500)
# Between chunks a batch waits at most this long while single audits are queued.
SHEBAO_BATCH_YIELD_SECONDS = float(env("SHEBAO_BATCH_YIELD_SECONDS", "1.0"))

# The API (/api/v1/, docs/api.md). Requests per token and minute (429 with Retry-After past
# it), validate calls per token and day, and the largest JSON body (10,000 rows of JSON fit).
SHEBAO_API_RATE_PER_MINUTE = env_int("SHEBAO_API_RATE_PER_MINUTE", 3000)
SHEBAO_API_VALIDATE_PER_DAY = env_int("SHEBAO_API_VALIDATE_PER_DAY", 500)
SHEBAO_API_MAX_BODY_BYTES = env_int("SHEBAO_API_MAX_BODY_BYTES", 32 * 1024 * 1024)
# Idempotency keys are kept this long; a request still running after SHEBAO_API_RUNNING_SECONDS
# is taken for abandoned (its process died) and may be retried.
SHEBAO_API_IDEMPOTENCY_HOURS = env_int("SHEBAO_API_IDEMPOTENCY_HOURS", 24)
SHEBAO_API_RUNNING_SECONDS = env_int("SHEBAO_API_RUNNING_SECONDS", 600)
# Webhooks: https only in production; loopback targets only where a setting allows them (tests,
# the demo); private and link-local targets never. Attempts per event before it is given up,
# the first retry's delay (doubling each time) and the receiver's time to answer.
SHEBAO_WEBHOOK_HTTPS_ONLY = env_bool("SHEBAO_WEBHOOK_HTTPS_ONLY", PRODUCTION)
SHEBAO_WEBHOOK_ALLOW_LOOPBACK = env_bool("SHEBAO_WEBHOOK_ALLOW_LOOPBACK", False)
SHEBAO_WEBHOOK_MAX_ATTEMPTS = env_int("SHEBAO_WEBHOOK_MAX_ATTEMPTS", 8)
SHEBAO_WEBHOOK_FIRST_RETRY_SECONDS = env_int("SHEBAO_WEBHOOK_FIRST_RETRY_SECONDS", 30)
SHEBAO_WEBHOOK_TIMEOUT_SECONDS = float(env("SHEBAO_WEBHOOK_TIMEOUT_SECONDS", "5"))
# The delivery log (回调投递记录) keeps a delivery that ended (送达 or 已放弃) this long.
SHEBAO_WEBHOOK_KEEP_DAYS = env_int("SHEBAO_WEBHOOK_KEEP_DAYS", 90)

# Every process keeps its own cache; nothing in it needs sharing, because what is cached is
# keyed by a version kept in the database (the task lists of 首页: shebao.workflow.tasklists).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "shebao",
        "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 5000)},
    },
}
# How long a rendered task list stays in the cache (a newer version is never served stale;
# this only bounds memory).
SHEBAO_TASK_LIST_CACHE_SECONDS = env_int("SHEBAO_TASK_LIST_CACHE_SECONDS", 600)

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Every page may load only the product's own files: no inline script, event handler or style
# attribute, nothing from elsewhere (a script sets a progress bar's width; the admin's pages
# comply as well). The printable PDF forms are rendered by WeasyPrint, never served as HTML.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

# 消息中心: e-mail to the operators who ask for it (Django's e-mail framework; the console back
# end unless EMAIL_BACKEND names another, e.g. django.core.mail.backends.smtp.EmailBackend
# with EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@shebao.example")
# The address the e-mails' links start with.
SHEBAO_SITE_URL = env("SHEBAO_SITE_URL", "http://127.0.0.1:8000")
