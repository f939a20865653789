"""What every request to /api/ goes through before its operation, in this order: the language
of its messages, hostile bytes (NUL) and the body's size, the token, the rate limit, and the
Idempotency-Key of a POST. Each refusal is a problem details response (problems.py)."""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from shebao.accounts.middleware import has_nul
from shebao.api import idempotency, limits, problems, tokens
from shebao.workflow import services as engine

log = logging.getLogger(__name__)
PREFIX = "/api/"


def requested_language(request) -> str:
    """Accept-Language: en… answers in English; anything else in Chinese (the service hall's)."""
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip().lower()
    return "en" if first.startswith("en") else "zh-hans"


def _form_has_nul(request) -> bool:
    """A NUL in a multipart form's field (refused here as a problem, not by the site's
    RejectNulMiddleware as text)."""
    if request.method != "POST" or not request.META.get("CONTENT_TYPE", "").startswith("multipart/"):
        return False
    try:
        return has_nul(request.POST)
    except Exception:  # an unreadable body: the operation refuses it
        return False


def _nul_refused():
    return problems.of_msgid(400, "NUL_CHARACTER", gettext_noop("请求中含有不允许的控制字符（NUL），请删除后重试。"))


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        language = requested_language(request)
        reset = problems.REQUESTED.set(language)
        via = engine.VIA.set(None)
        try:
            # Services run in Chinese, the source language: a refusal's message is its msgid,
            # which problems.py renders in both languages.
            with translation.override("zh-hans"):
                response = self._handle(request)
        finally:
            engine.VIA.reset(via)
            problems.REQUESTED.reset(reset)
        # The answer's language, whatever the pages' LanguageMiddleware (inside this one) set.
        response["Content-Language"] = language
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _handle(self, request):
        request.api_token = None
        # No cookie counts here: the API takes no session (a token only) and answers in the
        # language Accept-Language asks for, never the pages' language cookie.
        request.COOKIES = {}
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query.lower() or "\x00" in query:
            return _nul_refused()
        refused = self._read_body(request)
        if refused is not None:
            return refused
        if _form_has_nul(request):
            return _nul_refused()
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, raw = header.partition(" ")
            token = tokens.authenticate(raw.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                return problems.of_msgid(
                    401,
                    "TOKEN_INVALID",
                    gettext_noop("接口令牌无效或已吊销，请在「接口令牌」页面创建新令牌。"),
                    headers={"WWW-Authenticate": 'Bearer realm="shebao"'},
                )
            request.api_token = token
            # The history of what this request changes names the token it came with.
            engine.VIA.set({"token": token.name, "prefix": token.prefix})
            try:
                limits.check_rate(token)
            except limits.LimitReached as limit:
                return problems.of_msgid(
                    429,
                    "RATE_LIMITED",
                    gettext_noop("请求过于频繁：每个令牌每分钟最多 %(limit)d 次请求，请 %(seconds)d 秒后重试。"),
                    {"limit": limit.limit, "seconds": limit.retry_after},
                    headers={"Retry-After": str(limit.retry_after)},
                )
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key is not None and request.api_token is not None:
            return self._idempotent(request, request.api_token, key)
        return self.get_response(request)

    def _read_body(self, request):
        """The API's own body limit (10,000 rows of JSON are bigger than a form's limit)."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.SHEBAO_API_MAX_BODY_BYTES
        if length > limit:
            return problems.of_msgid(
                413,
                "BODY_TOO_LARGE",
                gettext_noop("请求内容超过 %(mb)d MB 的上限，请分批提交。"),
                {"mb": limit // (1024 * 1024)},
            )
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method in ("POST", "PUT", "PATCH") and not content_type.startswith("multipart/"):
            request._body = request.read(limit + 1)
            request._stream = io.BytesIO(request._body)
        return None

    def _idempotent(self, request, token, key: str):
        if not idempotency.valid_key(key):
            return problems.of_msgid(
                400,
                "IDEMPOTENCY_KEY_INVALID",
                gettext_noop("Idempotency-Key 应为 1 至 255 个可见的 ASCII 字符（建议使用 UUID）。"),
            )
        print_ = idempotency.fingerprint(
            request.method,
            request.path,
            request.META.get("QUERY_STRING", ""),
            request.META.get("CONTENT_TYPE", "").split(";")[0],
            self._parts(request),
        )
        outcome = idempotency.begin(token, key, print_)
        if outcome.reused:
            return problems.of_msgid(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                gettext_noop("该 Idempotency-Key 已用于另一个请求，请为新的请求使用新的键。"),
            )
        if outcome.running:
            return problems.of_msgid(
                409,
                "IDEMPOTENCY_IN_PROGRESS",
                gettext_noop("使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。"),
                headers={"Retry-After": "1"},
            )
        if outcome.replay is not None:
            return self._replay(outcome.replay)
        record = outcome.record
        assert record is not None
        try:
            response = self.get_response(request)
        except BaseException:
            idempotency.abandon(record)
            raise
        if getattr(response, "streaming", False):
            idempotency.abandon(record)
            return response
        headers = {name: response[name] for name in idempotency.KEPT_HEADERS if response.has_header(name)}
        idempotency.finish(record, response.status_code, response.get("Content-Type", ""), headers, response.content)
        return response

    @staticmethod
    def _parts(request) -> list[bytes]:
        """The request's content: the body, or (multipart, whose boundary differs per retry)
        its fields and files in order."""
        content_type = request.META.get("CONTENT_TYPE", "")
        if not content_type.startswith("multipart/"):
            return [request.body]
        parts: list[bytes] = []
        try:
            for name in sorted(request.POST):
                parts += [name.encode(), *(v.encode() for v in request.POST.getlist(name))]
            for name in sorted(request.FILES):
                for upload in request.FILES.getlist(name):
                    parts += [name.encode(), (upload.name or "").encode(), upload.read()]
                    upload.seek(0)
        except Exception:  # an unreadable body: the operation refuses it as it would without a key
            log.info("an unreadable multipart body under an Idempotency-Key", exc_info=True)
        return parts

    @staticmethod
    def _replay(record):
        from django.http import HttpResponse

        response = HttpResponse(bytes(record.body), status=record.status, content_type=record.content_type or None)
        for name, value in (record.headers or {}).items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response
