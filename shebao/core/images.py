"""Photos for the social security card: checked, re-encoded, never stored as sent.

The checks of a JPEG or PNG (`decode_checked`, with the declared size's `Limits`) serve
scanned documents too (core.scans), with limits of their own and messages that name the file.

Refused with a reason each: not JPEG/PNG, more than 40 million pixels (decompression bombs
included), a side over 6,000 px, under 100×120 px, width/height (as shown, EXIF orientation
applied) outside 0.5–1.5, or image data that does not fill the declared size.

A photo is refused unless its image data fills the size its header declares. Pillow's own
answer to that depends on its process-wide LOAD_TRUNCATED_IMAGES, which WeasyPrint (the PDF
exports) switches on when it is imported and which must never be switched back and forth
here (other threads decode images at the same time). So the check does not ask Pillow:
- a file that ends before its image data does is seen by the file object handed to Pillow
  (a read at the end of the data raises);
- a JPEG whose header declares more pixels than its data holds decodes, whatever the flag,
  with the rest filled grey: its scans are checked against what the header declares;
- a PNG whose header declares more rows than its compressed data holds: the data is
  inflated and counted against the size the header declares.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageOps, UnidentifiedImageError

from shebao.core.errors import ApplicationError

PHOTO_SIZE = (358, 441)
PHOTO_MAX_OUT = 60 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded (named in PHOTO_PIXELS)
MAX_SIDE = 6000
MIN_SIZE = (100, 120)
ASPECT_RANGE = (0.5, 1.5)  # width / height, as the photo is shown (EXIF orientation applied)


def _refused(msgid: str, code: str, **params: object) -> ApplicationError:
    """A refusal in the reader's language; its msgid and parameters ride along (extra), so a
    refusal stored now (a batch's photo result) is shown later in its reader's language."""
    message = _(msgid) % params if params else _(msgid)
    return ApplicationError(message, code=code, extra={"msgid": msgid, "params": params})


class _Incomplete(Exception):
    """The image data ended before the image did."""


class _StrictReader(io.BytesIO):
    """Once armed, a read at the end of the data means the decoder wanted more than the file has."""

    armed = False

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if self.armed and not data and size != 0:
            raise _Incomplete
        return data


@dataclass(frozen=True)
class Limits:
    """What an image's header may declare: at most max_pixels (decompression bombs) and
    max_side on either side, at least min_size (width, height). A card photo's are the
    module's constants; a scanned document (core.scans) allows more."""

    max_pixels: int
    max_side: int
    min_size: tuple[int, int]


PHOTO_LIMITS = Limits(MAX_PIXELS, MAX_SIDE, MIN_SIZE)


class ImageRefused(Exception):
    """Why an image cannot be taken, for the caller to say in its own words: `reason` is one
    of FORMAT (not JPEG/PNG), PIXELS, SIDE, SMALL, INCOMPLETE (width, height: declared) and
    UNREADABLE."""

    def __init__(self, reason: str, width: int = 0, height: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.width, self.height = reason, width, height


FORMAT, PIXELS, SIDE, SMALL, INCOMPLETE, UNREADABLE = "format", "pixels", "side", "small", "incomplete", "unreadable"


def is_jpeg_or_png(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")


def decode_checked(data: bytes, limits: Limits) -> tuple[Image.Image, str]:
    """A JPEG or PNG decoded in full, EXIF orientation applied, and its format ("JPEG" or
    "PNG"); ImageRefused when it is neither, declares a size outside `limits`, or its data
    is unreadable or does not fill the size it declares. Nothing is decoded before the
    declared size has been checked."""
    if not is_jpeg_or_png(data):
        raise ImageRefused(FORMAT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            reader = _StrictReader(data)
            with Image.open(reader) as probe:
                if probe.format not in ("JPEG", "PNG"):
                    raise ImageRefused(FORMAT)
                _check_declared_size(*probe.size, limits)
                if probe.format == "PNG" and not _png_data_fills(data):
                    raise ImageRefused(INCOMPLETE, *probe.size)
                reader.armed = True
                probe.load()
                if probe.format == "JPEG" and not _jpeg_data_fills(data):
                    raise ImageRefused(INCOMPLETE, *probe.size)
                kind = str(probe.format)
                image = ImageOps.exif_transpose(probe)
    except ImageRefused:
        raise
    except _Incomplete:
        raise ImageRefused(INCOMPLETE, *probe.size) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error):
        raise ImageRefused(UNREADABLE) from None
    return image, kind


def reencode_photo(data: bytes, max_bytes: int) -> bytes:
    """Return a 358×441 JPEG of at most 60 KB, or raise ApplicationError with the reason."""
    if not data:
        raise _refused(gettext_noop("照片文件为空，请重新选择。"), "PHOTO_EMPTY")
    if len(data) > max_bytes:
        raise _refused(
            gettext_noop("照片文件超过 %(mb)d MB，请压缩后上传。"), "PHOTO_TOO_LARGE", mb=max_bytes // (1024 * 1024)
        )
    try:
        decoded, _kind = decode_checked(data, PHOTO_LIMITS)
    except ImageRefused as refusal:
        raise _photo_refusal(refusal) from None
    image = decoded.convert("RGB")
    _check_aspect(*image.size)
    image = ImageOps.fit(image, PHOTO_SIZE, Image.Resampling.LANCZOS)
    for quality in (85, 75, 65, 55, 45, 35, 25):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= PHOTO_MAX_OUT:
            return out.getvalue()
    raise _refused(gettext_noop("照片无法压缩到 60 KB 以内，请换一张背景简单的证件照。"), "PHOTO_TOO_COMPLEX")


def _photo_refusal(refusal: ImageRefused) -> ApplicationError:
    if refusal.reason == PIXELS:
        return _too_many_pixels()
    if refusal.reason == SIDE:
        return _refused(
            gettext_noop("照片的宽或高超过 %(max)d 像素（本照片为 %(width)d×%(height)d），请缩小后上传。"),
            "PHOTO_SIDE",
            max=MAX_SIDE,
            width=refusal.width,
            height=refusal.height,
        )
    if refusal.reason == SMALL:
        return _refused(gettext_noop("照片太小（至少 100×120 像素），请上传清晰的证件照。"), "PHOTO_SMALL")
    if refusal.reason == INCOMPLETE:
        return _incomplete(refusal.width, refusal.height)
    if refusal.reason == UNREADABLE:
        return _refused(gettext_noop("无法读取该照片文件，文件可能已损坏或不是图片。"), "PHOTO_UNREADABLE")
    return _refused(gettext_noop("照片须为 JPEG 或 PNG 格式的图片。"), "PHOTO_FORMAT")


def _too_many_pixels() -> ApplicationError:
    return _refused(gettext_noop("照片像素过大（超过 4000 万像素），请缩小后上传普通证件照。"), "PHOTO_PIXELS")


def _incomplete(width: int, height: int) -> ApplicationError:
    return _refused(
        gettext_noop(
            "照片文件不完整：图像数据没有填满文件声明的 %(width)d×%(height)d 像素，文件可能在传输中被截断或已损坏。"
            "请用原图重新导出后上传。"
        ),
        "PHOTO_INCOMPLETE",
        width=width,
        height=height,
    )


def _check_declared_size(width: int, height: int, limits: Limits) -> None:
    """What the header says, checked before any pixel is decoded."""
    if width * height > limits.max_pixels:
        raise ImageRefused(PIXELS, width, height)
    if width > limits.max_side or height > limits.max_side:
        raise ImageRefused(SIDE, width, height)
    if width < limits.min_size[0] or height < limits.min_size[1]:
        raise ImageRefused(SMALL, width, height)


def _check_aspect(width: int, height: int) -> None:
    low, high = ASPECT_RANGE
    if not low <= width / height <= high:
        raise _refused(
            gettext_noop(
                "照片的宽高比例不合适（本照片为 %(width)d×%(height)d）：宽度须为高度的 %(low)s–%(high)s 倍。"
                "请裁剪为竖版证件照后上传。"
            ),
            "PHOTO_ASPECT",
            width=width,
            height=height,
            low=low,
            high=high,
        )


# --- JPEG ------------------------------------------------------------------------------------
# libjpeg decodes a JPEG whose scans hold fewer blocks than the frame header declares without
# an error: when a scan's data runs into the next marker, the missing blocks are mid-grey.
# Two checks see it. A scan with restart markers must have one restart interval per
# (restart interval) blocks it declares. And the end of every scan's data is given bytes that
# are not a marker: a complete scan never reads them (the decoder skips them as extraneous
# bytes before the next marker), a short one decodes them instead of the grey filler, so the
# picture comes out different (compared at 1/8 scale, where the decoder does little more
# than read the data).

_SCAN_PADDING = b"\xff\x00" * 64  # stuffed 0xFF bytes: 512 one-bits, never a valid Huffman code
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg_data_fills(data: bytes) -> bool:
    ends, short_interval = _jpeg_scans(data)
    if short_interval:
        return False
    padded = b"".join(data[start:end] + _SCAN_PADDING for start, end in zip([0, *ends], ends, strict=False))
    return _jpeg_eighth(data) == _jpeg_eighth(padded + data[ends[-1] :]) if ends else False


def _jpeg_eighth(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
        return image.tobytes()


def _jpeg_scans(data: bytes) -> tuple[list[int], bool]:
    """Where each scan's entropy-coded data ends, and whether a scan with restart markers has
    fewer restart intervals than the blocks it declares need."""
    ends: list[int] = []
    size, components, restart = (0, 0), {}, 0
    offset = 2
    while offset + 1 < len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            offset += 2
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        segment = data[offset + 4 : offset + 2 + length]
        offset += 2 + length
        if marker in _SOF_MARKERS:
            height, width, count = struct.unpack(">HHB", segment[1:6])
            size = (width, height)
            components = {segment[6 + 3 * i]: (segment[7 + 3 * i] >> 4, segment[7 + 3 * i] & 15) for i in range(count)}
        elif marker == 0xDD:  # DRI
            (restart,) = struct.unpack(">H", segment[:2])
        elif marker == 0xDA:  # SOS: entropy-coded data follows, up to the next marker
            in_scan = [segment[1 + 2 * i] for i in range(segment[0])]
            restarts = 0
            while True:
                offset = data.find(b"\xff", offset)
                if offset < 0 or offset + 1 >= len(data):
                    return ends, False  # no marker after the data: Pillow has refused it already
                following = data[offset + 1]
                if following == 0x00:
                    offset += 2
                elif 0xD0 <= following <= 0xD7:
                    restarts += 1
                    offset += 2
                else:
                    break
            ends.append(offset)
            if restart and restarts + 1 < _ceil(_scan_units(size, components, in_scan), restart):
                return ends, True
    return ends, False


def _scan_units(size: tuple[int, int], components: dict, in_scan: list[int]) -> int:
    """The MCUs of a scan: of the interleaved components, or the blocks of the one component."""
    width, height = size
    h_max = max((h for h, _v in components.values()), default=1)
    v_max = max((v for _h, v in components.values()), default=1)
    if len(in_scan) == 1:
        h, v = components.get(in_scan[0], (1, 1))
        return _ceil(_ceil(width * h, h_max), 8) * _ceil(_ceil(height * v, v_max), 8)
    return _ceil(width, 8 * h_max) * _ceil(height, 8 * v_max)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


# --- PNG -------------------------------------------------------------------------------------

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _png_data_fills(data: bytes) -> bool:
    """The inflated IDAT data holds every row (and its filter byte) that IHDR declares."""
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", data[16:29])
    bits = _PNG_CHANNELS.get(colour, 4) * depth

    def size(w: int, h: int) -> int:
        return h * (1 + (w * bits + 7) // 8) if w and h else 0

    if interlace:
        expected = sum(
            size((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy)
            for x0, y0, dx, dy in _ADAM7
            if width > x0 and height > y0
        )
    else:
        expected = size(width, height)
    inflater, got, offset = zlib.decompressobj(), 0, 8
    while offset + 8 <= len(data) and got < expected:
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            chunk = data[offset + 8 : offset + 8 + length]
            while chunk and got < expected:
                got += len(inflater.decompress(chunk, 1 << 20))
                chunk = inflater.unconsumed_tail
        elif kind == b"IEND":
            break
        offset += 12 + length
    return got >= expected


def reencode_uploaded_photo(file, max_bytes: int) -> bytes:
    """An uploaded photo file (a form's 直接上传) checked and re-encoded: refused with a reason
    when none was chosen or it is larger than max_bytes, otherwise as reencode_photo."""
    if file is None:
        raise ApplicationError(_("请选择要上传的照片。"), code="PHOTO_EMPTY")
    if file.size > max_bytes:
        raise ApplicationError(
            _("照片文件超过 %(mb)d MB，请压缩后上传。") % {"mb": max_bytes // (1024 * 1024)}, code="PHOTO_TOO_LARGE"
        )
    return reencode_photo(file.read(max_bytes + 1), max_bytes)


# --- the ID card reader's photo ----------------------------------------------------------------
# The chip holds a 102×126 photo; a reader service hands it over as a JPEG or an uncompressed
# BMP. Its limits fit that size: at least 100×120 (as an upload), at most 1,000 px a side.

READER_LIMITS = Limits(max_pixels=1_000_000, max_side=1000, min_size=MIN_SIZE)


def _bmp_as_png(data: bytes) -> bytes:
    """An uncompressed 24- or 32-bit BMP whose pixel data is all there, as PNG bytes for the
    photo checks; ImageRefused otherwise. Its declared size is checked before decoding."""
    if len(data) < 54:
        raise ImageRefused(UNREADABLE)
    offset, header_size = struct.unpack("<I", data[10:14])[0], struct.unpack("<I", data[14:18])[0]
    if header_size < 40:
        raise ImageRefused(FORMAT)
    width, height, _planes, bits, compression = struct.unpack("<iiHHI", data[18:34])
    height = abs(height)
    if width <= 0 or height <= 0 or bits not in (24, 32) or compression not in (0, 3):
        raise ImageRefused(FORMAT)
    _check_declared_size(width, height, READER_LIMITS)
    stride = (width * bits // 8 + 3) // 4 * 4
    if offset < 14 + header_size or len(data) < offset + stride * height:
        raise ImageRefused(INCOMPLETE, width, height)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "BMP" or probe.size != (width, height):
                raise ImageRefused(FORMAT)
            probe.load()
            out = io.BytesIO()
            probe.convert("RGB").save(out, "PNG")
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error):
        raise ImageRefused(UNREADABLE) from None
    return out.getvalue()


def reencode_reader_photo(data: bytes, max_bytes: int) -> bytes:
    """The photo a card reader read from the chip (JPEG, PNG or BMP), checked with the reader's
    limits and re-encoded like an upload (reencode_photo): a 358×441 JPEG of at most 60 KB."""
    if not data:
        raise _refused(gettext_noop("读卡器没有返回照片，请将身份证重新放到读卡器上再读一次。"), "READER_PHOTO_EMPTY")
    if len(data) > max_bytes:
        raise _refused(
            gettext_noop("读卡器返回的照片超过 %(kb)d KB，不是身份证芯片中的照片。"),
            "READER_PHOTO_TOO_LARGE",
            kb=max_bytes // 1024,
        )
    try:
        if data.startswith(b"BM"):
            data = _bmp_as_png(data)
        else:
            decode_checked(data, READER_LIMITS)
    except ImageRefused as refusal:
        if refusal.reason == SIDE:
            raise _refused(
                gettext_noop("读卡器返回的照片为 %(width)d×%(height)d 像素，不是身份证芯片中的照片（102×126）。"),
                "READER_PHOTO_SIDE",
                width=refusal.width,
                height=refusal.height,
            ) from None
        if refusal.reason == FORMAT:
            raise _refused(
                gettext_noop("读卡器返回的照片不是 JPEG、PNG 或 BMP 图片。"), "READER_PHOTO_FORMAT"
            ) from None
        raise _photo_refusal(refusal) from None
    return reencode_photo(data, max(max_bytes, len(data)))
