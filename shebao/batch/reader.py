"""Reading an uploaded batch file: what it is, whether it is the template, and its rows.

`inspect()` runs in the web request and refuses a file as a whole (empty, not a
spreadsheet, encrypted, zip bomb, too big, too many rows, not the template) before anything
is written. `iter_rows()` runs in the worker and yields the data rows with the same layout.
Magic bytes decide the format, never the file name.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation

from shebao.core.errors import ApplicationError
from shebao.core.months import FULLWIDTH
from shebao.workflow.fields import FieldSpec
from shebao.workflow.rules import Issue

MAX_ROWS = 100_000
ZIP_MAX_UNPACKED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100
HEADER_SCAN_ROWS = 10
INSTRUCTIONS_SHEET = "填写说明"

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Directory entry names in an OLE2 container are UTF-16LE.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_XLS_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_NOT_SPREADSHEET_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"BM",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"MZ",
    b"\x7fELF",
    b"{\\rtf",
)


class FileRefused(ApplicationError):
    """The file as a whole is refused: nothing is created."""

    def __init__(self, code: str, **params: object) -> None:
        issue = Issue(code, "", params)
        super().__init__(issue.message(), code=code, extra={"params": params})
        self.issue: Issue = issue


@dataclass
class Layout:
    kind: str
    sheet_index: int = 0
    sheet_name: str = ""
    header_row: int = 1  # 1-based
    columns: dict[str, int] = field(default_factory=dict)  # field name -> 0-based index in the row
    data_rows: int = 0
    encoding: str = ""
    delimiter: str = ""


# --- headers -------------------------------------------------------------------------------


def norm_header(value: object) -> str:
    """How a person means a header: full-width to half-width, no spaces, no '*' marker."""
    text = str(value if value is not None else "").translate(FULLWIDTH)
    text = re.sub(r"\s+", "", text)
    return text.strip("*")


def template_specs(specs: list[FieldSpec]) -> list[FieldSpec]:
    return [s for s in specs if s.in_template]


def required_specs(specs: list[FieldSpec]) -> list[FieldSpec]:
    """Columns a file must have: required fields without a default (证件类型 defaults)."""
    return [s for s in template_specs(specs) if s.required and not s.default]


@dataclass
class _HeaderMatch:
    row_index: int
    columns: dict[str, int]
    duplicates: list[str]
    missing: list[FieldSpec]


def _match_header(cells: list, specs: list[FieldSpec]) -> _HeaderMatch:
    by_label = {norm_header(s.msgid): s for s in template_specs(specs)}
    columns: dict[str, int] = {}
    duplicates: list[str] = []
    for index, cell in enumerate(cells):
        spec = by_label.get(norm_header(cell))
        if spec is None:
            continue
        if spec.name in columns:
            if spec.msgid not in duplicates:
                duplicates.append(spec.msgid)
            continue
        columns[spec.name] = index
    missing = [s for s in required_specs(specs) if s.name not in columns]
    return _HeaderMatch(-1, columns, duplicates, missing)


def find_header(rows: list[list], business) -> _HeaderMatch:
    """The first of the first rows that holds every required header; else refuse, naming why."""
    best: _HeaderMatch | None = None
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        match = _match_header(cells, business.fields)
        match.row_index = index
        if not match.missing and match.columns:
            if match.duplicates:
                raise FileRefused("FILE_DUPLICATE_COLUMN", columns="、".join(match.duplicates))
            return match
        if best is None or len(match.columns) > len(best.columns):
            best = match
    raise _header_refusal(best, rows, business)


def _header_refusal(best: _HeaderMatch | None, rows: list[list], business) -> FileRefused:
    from shebao.workflow import registry

    required = required_specs(business.fields)
    missing = best.missing if best else required
    names = "、".join(s.msgid for s in missing) or "、".join(s.msgid for s in template_specs(business.fields))
    # Is it another business type's template?
    other = None
    for candidate in registry.all_types():
        if candidate.code == business.code or not candidate.batch:
            continue
        for cells in rows[:HEADER_SCAN_ROWS]:
            match = _match_header(cells, candidate.fields)
            if match.columns and not match.missing:
                other = candidate
                break
        if other:
            break
    found = len(best.columns) if best else 0
    if other is not None or found * 2 < max(len(required), 1):
        hint = f"（该文件像是「{other.names.title}」的模板）" if other is not None else ""
        return FileRefused("FILE_WRONG_TEMPLATE", business=business.names.title, hint=hint, columns=names)
    return FileRefused("FILE_MISSING_COLUMNS", columns=names)


def is_blank(cells: list, columns: dict[str, int]) -> bool:
    for index in columns.values():
        if index < len(cells):
            value = cells[index]
            if isinstance(value, str):
                if value.strip():
                    return False
            elif value is not None and value != "":
                return False
    return True


# --- format detection ----------------------------------------------------------------------


def sniff(data: bytes) -> str:
    """xlsx, xls or csv by content; refuse what is none of them."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise FileRefused("FILE_ENCRYPTED")
        if not any(name in data for name in _XLS_STREAMS):
            raise FileRefused("FILE_NOT_SPREADSHEET")  # a Word or other OLE2 document
        return "xls"
    if data.startswith(_NOT_SPREADSHEET_MAGIC):
        raise FileRefused("FILE_NOT_SPREADSHEET")
    return "csv"


def check_zip(data: bytes) -> None:
    """Refuse a zip bomb before any parser sees it, from the directory and then the streams.

    The declared sizes come first (cheap); then every member is decompressed in chunks
    through zipfile, which stops at the declared size and checks the CRC, so a directory
    that lies about the sizes is caught too.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused("FILE_UNREADABLE") from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise FileRefused("FILE_NOT_SPREADSHEET")  # a .docx, a plain zip …
    if any(info.flag_bits & 0x1 for info in infos):
        raise FileRefused("FILE_ENCRYPTED")
    declared = sum(info.file_size for info in infos)
    _check_expansion(declared, len(data))
    total = 0
    try:
        for info in infos:
            with archive.open(info) as member:
                while True:
                    chunk = member.read(1 << 20)
                    if not chunk:
                        break
                    total += len(chunk)
                    _check_expansion(total, len(data))
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError):
        raise FileRefused("FILE_UNREADABLE") from None


def _check_expansion(unpacked: int, packed: int) -> None:
    ratio = unpacked / max(packed, 1)
    if unpacked > ZIP_MAX_UNPACKED or ratio > ZIP_MAX_RATIO:
        raise FileRefused("FILE_ZIP_BOMB", size=max(unpacked // (1024 * 1024), 1), ratio=int(ratio))


def decode_csv(data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        # UTF-16 ("Unicode text") or binary: not one of the encodings we read.
        if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileRefused("FILE_NOT_SPREADSHEET")
        raise FileRefused("FILE_ENCODING")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise FileRefused("FILE_ENCODING") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise FileRefused("FILE_ENCODING") from None


def _control_chars(text: str) -> bool:
    sample = text[:4096]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return bad > 0


def _delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    counts = {d: head.count(d) for d in (",", "\t", ";", "，")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# --- reading rows --------------------------------------------------------------------------


def _open_workbook(data: bytes):
    import python_calamine as pc

    try:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        raise FileRefused("FILE_ENCRYPTED") from None
    except Exception as error:  # calamine raises several error types for broken files
        if "password" in str(error).lower() or "encrypt" in str(error).lower():
            raise FileRefused("FILE_ENCRYPTED") from None
        raise FileRefused("FILE_UNREADABLE") from None


def _sheet_rows(workbook, index: int) -> Iterator[list]:
    import python_calamine as pc

    try:
        sheet = workbook.get_sheet_by_index(index)
    except pc.PasswordError:
        raise FileRefused("FILE_ENCRYPTED") from None
    except Exception:
        raise FileRefused("FILE_UNREADABLE") from None
    # iter_rows yields rows from the sheet's first row (A1), so the row numbers stay those
    # the user sees; columns start at the first used column, the same for header and data.
    yield from sheet.iter_rows()


def _csv_rows(text: str, delimiter: str) -> Iterator[list]:
    if text.startswith("\ufeff"):
        text = text[1:]
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _candidate_sheets(workbook) -> list[tuple[int, str]]:
    import python_calamine as pc

    visible: list[tuple[int, str]] = []
    hidden: list[tuple[int, str]] = []
    for index, meta in enumerate(workbook.sheets_metadata):
        if meta.typ != pc.SheetTypeEnum.WorkSheet or meta.name.strip() == INSTRUCTIONS_SHEET:
            continue
        (visible if meta.visible == pc.SheetVisibleEnum.Visible else hidden).append((index, meta.name))
    return visible + hidden


def inspect(data: bytes, business) -> Layout:
    """Every check cheap enough for the request; raises FileRefused. Writes nothing."""
    if not data:
        raise FileRefused("FILE_EMPTY")
    limit = settings.SHEBAO_UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise FileRefused("FILE_TOO_LARGE", size=_mb(len(data)), max=_mb(limit))
    with translation.override("zh-hans"):
        kind = sniff(data)
        if kind == "csv":
            return _inspect_csv(data, business)
        if kind == "xlsx":
            check_zip(data)
        return _inspect_workbook(data, kind, business)


def _mb(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _count_rows(rows: Iterator[list], columns: dict[str, int]) -> int:
    count = 0
    for cells in rows:
        if not is_blank(cells, columns):
            count += 1
    return count


def _inspect_workbook(data: bytes, kind: str, business) -> Layout:
    workbook = _open_workbook(data)
    first_refusal: FileRefused | None = None
    for index, name in _candidate_sheets(workbook):
        rows = _sheet_rows(workbook, index)
        head = [cells for _, cells in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]
        if not any(any(_text(c) for c in cells) for cells in head):
            continue  # an empty sheet
        try:
            match = find_header(head, business)
        except FileRefused as refusal:
            first_refusal = first_refusal or refusal
            continue
        layout = Layout(kind, index, name, match.row_index + 1, match.columns)
        remaining = head[match.row_index + 1 :]
        layout.data_rows = _count_rows(iter(remaining), match.columns) + _count_rows(rows, match.columns)
        _check_rows(layout)
        return layout
    if first_refusal is not None:
        raise first_refusal
    raise FileRefused("FILE_NO_ROWS")


def _inspect_csv(data: bytes, business) -> Layout:
    text, encoding = decode_csv(data)
    if _control_chars(text):
        raise FileRefused("FILE_NOT_SPREADSHEET")
    delimiter = _delimiter(text)
    rows = _csv_rows(text, delimiter)
    try:
        head = [cells for _, cells in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]
        try:
            match = find_header(head, business)
        except FileRefused:
            if encoding == "gb18030" and not any(_match_header(cells, business.fields).columns for cells in head):
                # Not a single header readable: most likely an encoding we do not read.
                raise FileRefused("FILE_ENCODING") from None
            raise
        layout = Layout("csv", 0, "", match.row_index + 1, match.columns, encoding=encoding, delimiter=delimiter)
        remaining = head[match.row_index + 1 :]
        layout.data_rows = _count_rows(iter(remaining), match.columns) + _count_rows(rows, match.columns)
    except csv.Error:
        raise FileRefused("FILE_UNREADABLE") from None
    _check_rows(layout)
    return layout


def _check_rows(layout: Layout) -> None:
    if layout.data_rows == 0:
        raise FileRefused("FILE_NO_ROWS")
    if layout.data_rows > MAX_ROWS:
        raise FileRefused("FILE_TOO_MANY_ROWS", rows=layout.data_rows, max=MAX_ROWS)


def _text(value: object) -> bool:
    return bool(str(value).strip()) if value is not None else False


def iter_rows(data: bytes, layout: Layout) -> Iterator[tuple[int, list]]:
    """(row number as the user sees it, cells) of every non-blank data row."""
    if layout.kind == "csv":
        text = data.decode("utf-8-sig" if layout.encoding.startswith("utf-8") else layout.encoding)
        rows = _csv_rows(text, layout.delimiter or ",")
    else:
        rows = _sheet_rows(_open_workbook(data), layout.sheet_index)
    for index, cells in enumerate(rows):
        row_no = index + 1
        if row_no <= layout.header_row:
            continue
        if is_blank(cells, layout.columns):
            continue
        yield row_no, cells


# --- cells ---------------------------------------------------------------------------------


def raw_cell(value: object) -> object:
    """A cell as stored in Item.raw: JSON-able, as close to what was typed as possible."""
    if type(value) is str:  # most cells: the checks below would all miss
        return value.replace("\x00", "")  # PostgreSQL refuses NUL in text
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return int(value)
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dt.time, dt.timedelta)):
        return str(value)
    return str(value).replace("\x00", "")  # PostgreSQL refuses NUL in text


def cooked_cell(value: object) -> object:
    """What check_row gets: text, except a long number stays a float so that an ID typed as
    a number is recognised as one that lost its digits (ID_NUMERIC_CELL)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return value if abs(value) >= 1e15 else repr(value)
    if isinstance(value, int):
        return float(value) if abs(value) >= 10**15 and len(str(abs(value))) != 15 else str(value)
    return value


# --- the photos of a batch (a .zip of 证件号码.jpg) -------------------------------------------

PHOTOS_MAX_ENTRIES = 2000
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png")


@dataclass
class PhotoEntry:
    name: str  # the entry's own name (no folders), as shown on the import screen
    number: str  # the 证件号码 the name stands for, upper-case; "" when the name is not one
    info: zipfile.ZipInfo


def _ignored(info: zipfile.ZipInfo) -> bool:
    """Folders, macOS resource forks (__MACOSX/…, ._x.jpg) and dotfiles (.DS_Store)."""
    parts = info.filename.replace("\\", "/").split("/")
    return info.is_dir() or "__MACOSX" in parts or not parts[-1] or parts[-1].startswith(".")


def photo_number(name: str) -> str:
    """证件号码 from 420102199001011234.jpg; "" for a name that is not a number and a photo type."""
    stem, dot, extension = name.rpartition(".")
    if not dot or f".{extension.lower()}" not in PHOTO_EXTENSIONS:
        return ""
    number = stem.strip().translate(FULLWIDTH).upper()
    return number if re.fullmatch(r"[0-9A-Z()（）-]{5,40}", number) else ""


def check_photos(data: bytes) -> list[PhotoEntry]:
    """The zip of photos as a whole, in the request; raises FileRefused. Writes nothing.

    Limits like the spreadsheet's: the size of the upload, the number of entries, each
    entry at most the size of one uploaded photo, the total unpacked size and the
    compression ratio (declared, then counted while every entry is decompressed).
    """
    if not data:
        raise FileRefused("PHOTOS_EMPTY")
    limit = settings.SHEBAO_UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise FileRefused("PHOTOS_TOO_LARGE", size=_mb(len(data)), max=_mb(limit))
    if not data.startswith(ZIP_MAGIC):
        raise FileRefused("PHOTOS_NOT_ZIP")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused("PHOTOS_NOT_ZIP") from None
    if len(infos) > PHOTOS_MAX_ENTRIES * 2:  # folders and resource forks count here
        raise FileRefused("PHOTOS_TOO_MANY", count=len(infos), max=PHOTOS_MAX_ENTRIES)
    entries = [i for i in infos if not _ignored(i)]
    if not entries:
        raise FileRefused("PHOTOS_EMPTY")
    if len(entries) > PHOTOS_MAX_ENTRIES:
        raise FileRefused("PHOTOS_TOO_MANY", count=len(entries), max=PHOTOS_MAX_ENTRIES)
    if any(info.flag_bits & 0x1 for info in entries):
        raise FileRefused("PHOTOS_ENCRYPTED")
    entry_max = settings.SHEBAO_PHOTO_MAX_BYTES
    out: list[PhotoEntry] = []
    seen: dict[str, str] = {}
    for info in entries:
        name = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        if info.file_size > entry_max:
            raise FileRefused("PHOTOS_ENTRY_TOO_LARGE", name=name, max=_mb(entry_max))
        number = photo_number(name)
        if number and number in seen:
            raise FileRefused("PHOTOS_DUPLICATE", number=number, first=seen[number], second=name)
        if number:
            seen[number] = name
        out.append(PhotoEntry(name=name, number=number, info=info))
    _check_photo_expansion(sum(i.file_size for i in entries), len(data))
    total = 0
    try:
        for entry in out:
            with archive.open(entry.info) as member:
                size = 0
                while chunk := member.read(1 << 20):
                    size += len(chunk)
                    total += len(chunk)
                    if size > entry_max:
                        raise FileRefused("PHOTOS_ENTRY_TOO_LARGE", name=entry.name, max=_mb(entry_max))
                    _check_photo_expansion(total, len(data))
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError):
        raise FileRefused("PHOTOS_UNREADABLE") from None
    return out


def _check_photo_expansion(unpacked: int, packed: int) -> None:
    ratio = unpacked / max(packed, 1)
    if unpacked > ZIP_MAX_UNPACKED or ratio > ZIP_MAX_RATIO:
        raise FileRefused("PHOTOS_ZIP_BOMB", size=max(unpacked // (1024 * 1024), 1), ratio=int(ratio))


def iter_photos(data: bytes) -> Iterator[tuple[PhotoEntry, bytes | None]]:
    """The entries again, in the worker (checked in the request): each with its bytes, or
    None when the entry cannot be read after all."""
    entries = check_photos(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    for entry in entries:
        try:
            content = archive.read(entry.info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError):
            content = None
        yield entry, content
