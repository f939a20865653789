"""Photos for the social security card: checked, re-encoded, never stored as sent."""

from __future__ import annotations

import io
import warnings

from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from shebao.core.errors import ApplicationError

PHOTO_SIZE = (358, 441)
PHOTO_MAX_OUT = 60 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


def reencode_photo(data: bytes, max_bytes: int) -> bytes:
    """Return a 358×441 JPEG of at most 60 KB, or raise ApplicationError with the reason."""
    if not data:
        raise ApplicationError(_("照片文件为空，请重新选择。"), code="PHOTO_EMPTY")
    if len(data) > max_bytes:
        raise ApplicationError(_("照片文件超过 %(mb)d MB，请压缩后上传。") % {"mb": max_bytes // (1024 * 1024)},
                               code="PHOTO_TOO_LARGE")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise ApplicationError(_("照片须为 JPEG 或 PNG 格式的图片。"), code="PHOTO_FORMAT")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ("JPEG", "PNG"):
                    raise ApplicationError(_("照片须为 JPEG 或 PNG 格式的图片。"), code="PHOTO_FORMAT")
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise ApplicationError(_("照片像素过大，请上传普通证件照。"), code="PHOTO_PIXELS")
                if width < 100 or height < 120:
                    raise ApplicationError(_("照片太小（至少 100×120 像素），请上传清晰的证件照。"), code="PHOTO_SMALL")
                _load_strict(probe)
                image = ImageOps.exif_transpose(probe).convert("RGB")
    except ApplicationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, SyntaxError):
        raise ApplicationError(_("无法读取该照片文件，文件可能已损坏或不是图片。"), code="PHOTO_UNREADABLE") from None
    image = ImageOps.fit(image, PHOTO_SIZE, Image.Resampling.LANCZOS)
    for quality in (85, 75, 65, 55, 45, 35, 25):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= PHOTO_MAX_OUT:
            return out.getvalue()
    raise ApplicationError(_("照片无法压缩到 60 KB 以内，请换一张背景简单的证件照。"), code="PHOTO_TOO_COMPLEX")


def _load_strict(image: Image.Image) -> None:
    """Decode fully; a truncated file is an error even though WeasyPrint, once imported,
    sets Pillow's process-wide LOAD_TRUNCATED_IMAGES (which would pad a cut-off photo grey)."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
