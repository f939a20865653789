"""Scanned materials (不见面审批): PDF, JPEG or PNG, judged by their content, never by the
file's name or the browser's content type, and never stored as sent.

- JPEG and PNG go through the photo checks of core.images (magic bytes, the declared size
  checked before anything is decoded, decompression bombs, data that does not fill the
  declared size) with the limits of a document scan, and are re-encoded in the same format:
  whatever followed or hid inside the image (a script, an HTML page, EXIF with a location)
  is not in what is stored. A small JPEG preview is made for the clerk's page.
- PDF starts with ``%PDF-``, is parsed with pypdf and refused when it is encrypted, cannot
  be read, has no page or more than the page limit. It is written anew by pypdf without its
  scripts, automatic actions and embedded files; bytes after the document's end are dropped.

Every refusal is an ApplicationError with a stable code and a message that names the file
and says what to do, in the reader's language.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image

from shebao.core import images
from shebao.core.errors import ApplicationError

log = logging.getLogger(__name__)

# A page scanned at 600 dpi is about 5,000×7,000 pixels (A4) and 7,000×9,900 (A3).
SCAN_LIMITS = images.Limits(max_pixels=50_000_000, max_side=12_000, min_size=(200, 200))
# A long receipt is narrow, but a strip of pixels is no document.
MAX_ASPECT = 12
PREVIEW_SIZE = (480, 480)
NAME_MAX = 120

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
EXTENSIONS = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",)}
_KNOWN_EXTENSIONS = frozenset(ext for exts in EXTENSIONS.values() for ext in exts)


@dataclass(frozen=True)
class Scan:
    """A checked scan: what is stored and served, never the bytes as sent."""

    name: str  # the sanitised file name, its extension that of the content
    content_type: str
    data: bytes
    preview: bytes | None  # a small JPEG of an image (None for a PDF)
    pages: int

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_uploaded_scan(file, *, max_bytes: int, max_pages: int) -> Scan:
    """An uploaded file (Django's UploadedFile, or None when none was chosen) checked as
    check_scan does; its size is looked at before anything is read."""
    if file is None:
        raise ApplicationError(_("请选择要上传的材料文件（PDF、JPEG 或 PNG）。"), code="SCAN_MISSING")
    name = clean_filename(getattr(file, "name", "") or "")
    if file.size > max_bytes:
        raise _too_large(name, max_bytes)
    return check_scan(
        file.read(max_bytes + 1), getattr(file, "name", "") or "", max_bytes=max_bytes, max_pages=max_pages
    )


def check_scan(data: bytes, filename: str, *, max_bytes: int, max_pages: int) -> Scan:
    """The scan as it will be stored, or ApplicationError naming the file and the reason."""
    shown = clean_filename(filename)
    if not data:
        raise ApplicationError(
            _("「%(name)s」是空文件（0 字节），请重新选择要上传的材料。") % {"name": shown}, code="SCAN_EMPTY"
        )
    if len(data) > max_bytes:
        raise _too_large(shown, max_bytes)
    if data.startswith(b"%PDF-"):
        content, pages = _pdf(data, shown, max_pages)
        return Scan(clean_filename(filename, PDF), PDF, content, None, pages)
    if images.is_jpeg_or_png(data):
        content_type, content, preview = _image(data, shown)
        return Scan(clean_filename(filename, content_type), content_type, content, preview, 1)
    raise ApplicationError(
        _(
            "「%(name)s」不是 PDF、JPEG 或 PNG 文件（系统按文件内容判断，不看扩展名）。"
            "请将材料扫描或导出为 PDF、JPEG 或 PNG 后上传。"
        )
        % {"name": shown},
        code="SCAN_FORMAT",
    )


def _too_large(name: str, max_bytes: int) -> ApplicationError:
    return ApplicationError(
        _("「%(name)s」超过 %(mb)s MB 的上限，请降低扫描分辨率、压缩或分成几个文件后上传。")
        % {"name": name, "mb": _megabytes(max_bytes)},
        code="SCAN_TOO_LARGE",
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


# --- file names ------------------------------------------------------------------------------

# Control characters, and the invisible format characters (a right-to-left override makes
# "gpj.exe" read as "exe.jpg"), surrogates, private-use and unassigned code points.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean_filename(name: str, content_type: str = "") -> str:
    """The name a file is stored and shown under: no folder, no control or invisible
    characters, spaces collapsed, at most 120 characters; with a content type, its extension
    is one of that type (a PNG sent as "scan.pdf" is kept as "scan.png")."""
    text = unicodedata.normalize("NFC", str(name))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED)
    text = " ".join(text.split()).strip(" .")
    if not content_type:
        return text[:NAME_MAX] or _("附件")
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    extension = f".{extension}" if extension else ""
    wanted = EXTENSIONS[content_type]
    if extension.lower() in wanted:
        suffix = extension
    else:
        if extension and extension.lower() not in _KNOWN_EXTENSIONS:
            stem = text  # "报告.2026" stays "报告.2026.pdf"; a wrong known one is replaced
        suffix = wanted[0]
    stem = stem.strip(" .") or _("附件")
    return stem[: NAME_MAX - len(suffix)].rstrip(" .") + suffix


# --- images ----------------------------------------------------------------------------------


def _image(data: bytes, name: str) -> tuple[str, bytes, bytes]:
    try:
        image, kind = images.decode_checked(data, SCAN_LIMITS)
    except images.ImageRefused as refusal:
        raise _image_refusal(refusal, name) from None
    width, height = image.size
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ApplicationError(
            _("「%(name)s」的宽高比例异常（%(width)d×%(height)d 像素），不像是文件的扫描件。请重新扫描后上传。")
            % {"name": name, "width": width, "height": height},
            code="SCAN_ASPECT",
        )
    out = io.BytesIO()
    if kind == "JPEG":
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90)
        content_type = JPEG
    else:
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(out, "PNG")
        content_type = PNG
    return content_type, out.getvalue(), _preview(image)


def _preview(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail(PREVIEW_SIZE, Image.Resampling.LANCZOS)
    if small.mode in ("RGBA", "LA", "P"):
        rgba = small.convert("RGBA")
        small = Image.new("RGB", rgba.size, (255, 255, 255))
        small.paste(rgba, mask=rgba.getchannel("A"))
    elif small.mode not in ("L", "RGB"):
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()


def _image_refusal(refusal: images.ImageRefused, name: str) -> ApplicationError:
    values = {"name": name, "width": refusal.width, "height": refusal.height}
    if refusal.reason == images.PIXELS:
        message = _("「%(name)s」像素过多（超过 %(mp)d 万像素），请以 300 dpi 左右重新扫描后上传。")
        values["mp"] = SCAN_LIMITS.max_pixels // 10_000
    elif refusal.reason == images.SIDE:
        message = _("「%(name)s」的宽或高超过 %(max)d 像素（本文件为 %(width)d×%(height)d），请缩小后上传。")
        values["max"] = SCAN_LIMITS.max_side
    elif refusal.reason == images.SMALL:
        message = _("「%(name)s」太小（至少 %(min)d×%(min)d 像素），看不清内容，请重新扫描后上传。")
        values["min"] = SCAN_LIMITS.min_size[0]
    elif refusal.reason == images.INCOMPLETE:
        message = _(
            "「%(name)s」不完整：图像数据没有填满文件声明的 %(width)d×%(height)d 像素，文件可能在传输中被截断或已损坏。"
            "请用原文件重新上传。"
        )
    else:
        message = _("「%(name)s」无法读取，文件可能已损坏。请重新扫描或导出后上传。")
    return ApplicationError(message % values, code=f"SCAN_{refusal.reason.upper()}")


# --- PDF -------------------------------------------------------------------------------------

# What a PDF may do by itself when it is opened: none of it is kept.
_ACTIVE_CATALOGUE = ("/OpenAction", "/AA")
_ACTIVE_NAMES = ("/JavaScript", "/EmbeddedFiles")
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/RichMediaExecute"})


def _pdf(data: bytes, name: str, max_pages: int) -> tuple[bytes, int]:
    from pypdf import PdfReader, PdfWriter

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ApplicationError(
                _("「%(name)s」设置了密码或加密，经办机构无法查看。请另存为不加密的 PDF 后上传。") % {"name": name},
                code="SCAN_PDF_ENCRYPTED",
            )
        pages = len(reader.pages)
        if pages == 0:
            raise ApplicationError(
                _("「%(name)s」没有任何页面，请检查文件后重新上传。") % {"name": name}, code="SCAN_PDF_EMPTY"
            )
        if pages > max_pages:
            raise ApplicationError(
                _("「%(name)s」共 %(pages)d 页，超过每个文件 %(max)d 页的上限，请分成几个文件上传。")
                % {"name": name, "pages": pages, "max": max_pages},
                code="SCAN_PDF_PAGES",
            )
        writer = PdfWriter(clone_from=reader)
        _make_inert(writer)
        out = io.BytesIO()
        writer.write(out)
    except ApplicationError:
        raise
    except Exception:  # pypdf raises many kinds on a broken file (and RecursionError on a crafted one)
        log.info("PDF %r refused as unreadable", name, exc_info=True)
        raise ApplicationError(
            _("「%(name)s」无法作为 PDF 读取，文件可能已损坏。请重新扫描或导出为 PDF 后上传。") % {"name": name},
            code="SCAN_PDF_UNREADABLE",
        ) from None
    return out.getvalue(), pages


def _make_inert(writer) -> None:
    """Drop what runs by itself: document and page actions, scripts, embedded files, XFA
    forms and the actions of links that start programs or scripts."""
    root = writer.root_object
    for key in _ACTIVE_CATALOGUE:
        root.pop(key, None)
    names = root.get("/Names")
    if names is not None:
        names = names.get_object()
        for key in _ACTIVE_NAMES:
            names.pop(key, None)
    form = root.get("/AcroForm")
    if form is not None:
        form.get_object().pop("/XFA", None)
    for page in writer.pages:
        page.pop("/AA", None)
        annotations = page.get("/Annots")
        for annotation in annotations.get_object() if annotations is not None else []:
            annotation = annotation.get_object()
            annotation.pop("/AA", None)
            action = annotation.get("/A")
            if action is not None and action.get_object().get("/S") in _ACTIVE_ACTIONS:
                annotation.pop("/A", None)
