"""读卡器: the ID card reader button of the forms that take a person (docs/reader.md).

The page's script (static shebao/reader.js) talks to the reader service on the operator's
PC; the server sees only the photo the chip held, which it checks and re-encodes like an
uploaded one (core.images.reencode_reader_photo):
- `reader_photo_check`: the new form's read: checked, nothing stored; the form posts the
  photo again with 保存 (`posted_photo`), and the new transaction's row gets it (`attach`);
- `tx_reader_photo`: an editable transaction's page: the row's photo, like 直接上传.
The Content-Security-Policy of a page with the button allows the reader's origin in
connect-src (`ReaderCSPMiddleware`), and only that page's.
"""

from __future__ import annotations

import base64
import binascii
import re

from django.conf import settings
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shebao.accounts.scoping import employer_required
from shebao.core.errors import ApplicationError, Conflict
from shebao.core.images import reencode_reader_photo
from shebao.params.reader import ReaderConfig
from shebao.workflow import registry, services
from shebao.workflow.models import Transaction

PERSON_FIELDS = frozenset({"id_type", "id_number", "name"})
_DATA_URL = re.compile(r"^data:image/[a-z]+;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def offers_reader(business) -> bool:
    """A form that takes a person: its type declares the identity fields (证件类型, 证件号码, 姓名)."""
    return PERSON_FIELDS <= {spec.name for spec in business.fields}


def mark_page(request, config: ReaderConfig) -> None:
    """This response's CSP allows the reader's origin (ReaderCSPMiddleware)."""
    request.reader_origin = config.origin


class ReaderCSPMiddleware:
    """Adds the reader's origin to connect-src of the pages that show the 读卡器 button. Listed
    after csp.middleware.CSPMiddleware, so that it sees the response first."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origin = getattr(request, "reader_origin", None)
        if origin:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["connect-src"] = [*update.get("connect-src", []), origin]
            response._csp_update = update
        return response


def decode_picture(value: str) -> bytes:
    """The reader's identityPic (base64, optionally a data: URL) as bytes; a refusal for text
    that is not base64 or is far too long for a chip's photo."""
    limit = settings.SHEBAO_READER_PHOTO_MAX_BYTES
    text = _WHITESPACE.sub("", _DATA_URL.sub("", (value or "").strip(), count=1))
    if not text:
        raise ApplicationError(_("读卡器没有返回照片，请将身份证重新放到读卡器上再读一次。"), code="READER_PHOTO_EMPTY")
    if len(text) > (limit // 3 + 1) * 4:
        raise ApplicationError(
            _("读卡器返回的照片超过 %(kb)d KB，不是身份证芯片中的照片。") % {"kb": limit // 1024},
            code="READER_PHOTO_TOO_LARGE",
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError(
            _("读卡器返回的照片数据无法识别（不是 Base64 编码），请重新读卡；仍不行请改用「直接上传」。"),
            code="READER_PHOTO_BASE64",
        ) from None


def checked_photo(value: str) -> bytes:
    """The reader's photo checked and re-encoded: the JPEG to store."""
    return reencode_reader_photo(decode_picture(value), settings.SHEBAO_READER_PHOTO_MAX_BYTES)


def posted_photo(request, business) -> bytes | None:
    """The photo a read put on the new form (its hidden reader_photo), checked again at 保存;
    None when there is none or the type takes no photo."""
    value = request.POST.get("reader_photo", "")
    if not value or business.photo is None:
        return None
    return checked_photo(value)


def attach(tx: Transaction, actor, jpeg: bytes | None) -> None:
    """The new transaction's row gets the photo read from the card (its first version)."""
    if jpeg is not None:
        services.item_set_photo(tx=tx, actor=actor, version=tx.version, jpeg=jpeg)


def _refusal(error: ApplicationError, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "code": error.code, "message": error.message}, status=status)


@employer_required
@require_POST
def reader_photo_check(request, code: str):
    """The new form's read: is the card's photo one the product takes? Nothing is stored."""
    business = registry.find(code)
    if business is None or business.photo is None:
        raise Http404
    try:
        checked_photo(request.POST.get("pic", ""))
    except ApplicationError as error:
        return _refusal(error)
    return JsonResponse({"ok": True, "message": _("已读取身份证照片，保存后作为本人照片。")})


@employer_required
@require_POST
def tx_reader_photo(request, pk: int):
    """An editable transaction's page: the card's photo becomes its row's photo (直接上传's way)."""
    tx = Transaction.objects.filter(employer=request.employer, pk=pk).first()
    if tx is None:
        raise Http404
    business = registry.find(tx.business_type)
    if business is None or business.photo is None or not tx.items.filter(row_no=1).exists():
        raise Http404
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return _refusal(ApplicationError(_("页面已过期，请刷新后重试。"), code="BAD_VERSION"))
    try:
        jpeg = checked_photo(request.POST.get("pic", ""))
        tx = services.item_set_photo(tx=tx, actor=request.user, version=version, jpeg=jpeg)
    except Conflict as error:
        return _refusal(error, status=409)
    except ApplicationError as error:
        return _refusal(error)
    return JsonResponse(
        {
            "ok": True,
            "message": _("已读取身份证照片，已转换为 358×441 像素 JPEG，见下方“照片”。"),
            "version": tx.version,
            "photo_url": f"{reverse('web:tx_photo', kwargs={'pk': tx.pk})}?v={tx.version}",
        }
    )
