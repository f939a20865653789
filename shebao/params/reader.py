"""The ID card reader's settings (读卡器设置): where the page finds the service on the operator's
PC, its three endpoints and the names of its reply's fields (docs/reader.md).

`reader_config()` is what the page uses: the administrator's row (params.ReaderSettings)
where it says something, the SHEBAO_READER_* settings otherwise (also when there is no row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext as _

# The reply's fields the page reads, by their meaning, with the names of the most widespread
# reader service (HTTP on 127.0.0.1:19196, docs/reader.md).
DEFAULT_FIELDS: dict[str, str] = {
    "result": "resultFlag",
    "error": "errorMsg",
    "name": "partyName",
    "gender": "gender",
    "nation": "nation",
    "born": "bornDay",
    "address": "certAddress",
    "number": "certNumber",
    "org": "certOrg",
    "eff_date": "effDate",
    "exp_date": "expDate",
    "cert_type": "certType",
    "photo": "identityPic",
}


@dataclass(frozen=True)
class ReaderConfig:
    origin: str
    open_path: str
    read_path: str
    close_path: str
    fields: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.origin + path


def normalise_origin(value: str) -> str:
    """scheme://host[:port] of an http(s) URL without path, query or user; ValueError otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(value)
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ValueError(value)
    parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _path_ok(path: str) -> bool:
    return path.startswith("/") and not any(c in path for c in " \"'<>\\#?") and len(path) <= 100


def _env_fields() -> dict[str, str]:
    raw = settings.SHEBAO_READER_FIELDS
    if not raw:
        return {}
    try:
        names = json.loads(raw)
    except ValueError:
        names = None
    if not isinstance(names, dict):
        raise ImproperlyConfigured('SHEBAO_READER_FIELDS must be a JSON object, e.g. {"name": "xm"}')
    return {k: str(v) for k, v in names.items() if k in DEFAULT_FIELDS and v}


def default_config() -> ReaderConfig:
    """The SHEBAO_READER_* settings."""
    return ReaderConfig(
        origin=normalise_origin(settings.SHEBAO_READER_ORIGIN),
        open_path=settings.SHEBAO_READER_OPEN_PATH,
        read_path=settings.SHEBAO_READER_READ_PATH,
        close_path=settings.SHEBAO_READER_CLOSE_PATH,
        fields={**DEFAULT_FIELDS, **_env_fields()},
    )


def reader_config() -> ReaderConfig:
    from shebao.params.models import ReaderSettings

    base = default_config()
    row = ReaderSettings.objects.order_by("pk").first()
    if row is None:
        return base
    # What the administrator's form checked (validate_row); a value stored another way that
    # would not pass is not used.
    try:
        origin = normalise_origin(row.origin) if row.origin else base.origin
    except ValueError:
        origin = base.origin
    given = row.field_names if isinstance(row.field_names, dict) else {}
    names = {k: v for k, v in given.items() if k in DEFAULT_FIELDS and isinstance(v, str) and v.strip()}

    def path(value: str, default: str) -> str:
        return value if value and _path_ok(value) else default

    return ReaderConfig(
        origin=origin,
        open_path=path(row.open_path, base.open_path),
        read_path=path(row.read_path, base.read_path),
        close_path=path(row.close_path, base.close_path),
        fields={**base.fields, **names},
    )


def validate_row(row) -> None:
    """The administrator's row, with a Chinese message per field."""
    errors: dict[str, str] = {}
    if row.origin:
        try:
            row.origin = normalise_origin(row.origin)
        except ValueError:
            errors["origin"] = _("请填写 http:// 或 https:// 开头的地址，只含主机和端口，如 http://127.0.0.1:19196。")
    for name in ("open_path", "read_path", "close_path"):
        value = getattr(row, name)
        if value and not _path_ok(value):
            errors[name] = _("路径须以 / 开头，不含空格、引号、?、# 等字符，如 /readcard。")
    names = row.field_names
    if names in (None, ""):
        row.field_names = {}
    elif not isinstance(names, dict):
        errors["field_names"] = _('请填写 JSON 对象，如 {"name": "xm"}。')
    else:
        unknown = sorted(set(names) - set(DEFAULT_FIELDS))
        if unknown:
            errors["field_names"] = _("未知的字段：%(unknown)s。可用的字段：%(known)s。") % {
                "unknown": ", ".join(unknown),
                "known": ", ".join(DEFAULT_FIELDS),
            }
        elif not all(isinstance(v, str) and v.strip() and len(v) <= 50 for v in names.values()):
            errors["field_names"] = _("每个字段名须为不超过 50 个字符的非空文字。")
    if errors:
        raise ValidationError(errors)
