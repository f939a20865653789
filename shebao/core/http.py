"""Small request helpers shared by the page apps."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from shebao.core.converters import MAX_ID, MAX_ID_DIGITS
from shebao.core.errors import ApplicationError

# Versions start at 0 and count the changes of one transaction: a 32-bit column.
MAX_VERSION = 2**31 - 1


def parse_id(value: object) -> int | None:
    """A database id sent by a page (a ticked row, a photo's item), or None if it cannot be one.

    Only ASCII digits, at most as many as <id:…> in a URL takes: str.isdigit() also accepts
    "²" (which int() refuses) and "٣" (which int() reads as 3), and 30 digits overflow
    SQLite's 64-bit integers. An id that cannot exist is simply not found.
    """
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values) -> list[int]:
    """The ids among posted values (see parse_id), without the ones that cannot exist."""
    return sorted({number for number in map(parse_id, values) if number is not None})


def posted_version(request) -> int:
    """The version of the object the user saw, posted back by every transition form."""
    text = request.POST.get("version", "").strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_VERSION)) and int(text) <= MAX_VERSION:
        return int(text)
    raise ApplicationError(_("请求缺少版本信息，请刷新页面后重试。"), code="BAD_REQUEST")


def url_or_empty(name: str, **kwargs) -> str:
    """A URL of an optional part of the product, or "" where it is not installed."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def private_jpeg(data: bytes | memoryview) -> HttpResponse:
    """A stored photo, served to the one user allowed to see it and never cached."""
    response = HttpResponse(bytes(data), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


# A stored file opened in the browser can do nothing: no script, no plugin, no form, no
# request anywhere, not framed; an image shows as an image. Chromium's PDF viewer does not
# render in a sandboxed document, so a PDF (written anew without scripts, core.scans) gets
# the same policy without `sandbox`: it is never parsed as HTML (nosniff, its own type).
_FILE_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})


def private_file(data: bytes | memoryview, *, content_type: str, filename: str, as_attachment: bool) -> HttpResponse:
    """A stored file (an attached scan), served to a user allowed to see it: shown in the
    browser (images, PDF) or downloaded, under its own name (RFC 6266/5987), never sniffed,
    never cached, and unable to run anything."""
    from django.utils.http import content_disposition_header

    inline = not as_attachment and content_type in INLINE_TYPES
    response = HttpResponse(bytes(data), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename) or "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = _FILE_CSP + ("" if content_type == "application/pdf" else "; sandbox")
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response
