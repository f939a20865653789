"""Batch transactions: upload, background import, deleting rows, saving.

The engine (shebao.workflow.services) owns submit, the audit, cancel and the clerk's
actions for batches as for single transactions; this module adds what only a file has.
Works for any registered business type with `batch = True`: the columns are its FIELDS,
the row checks its `check_row`, the locks those it declares.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import logging
import os
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count, F, JSONField, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shebao.batch import reader, sheets
from shebao.batch.models import Upload
from shebao.core import bulk
from shebao.core.errors import ApplicationError, NotFound, in_languages
from shebao.core.http import parse_ids
from shebao.core.identity import id_key as make_id_key
from shebao.core.identity import id_text
from shebao.core.images import reencode_photo
from shebao.core.text import without_hidden_characters
from shebao.params.services import ParamSnapshot
from shebao.workflow import locks, registry, rules
from shebao.workflow.fields import FieldSpec, RowResult, choice_value, raw_values
from shebao.workflow.models import (
    EDITABLE_STATES,
    AuditStatus,
    Item,
    ItemStatus,
    Mode,
    State,
    Transaction,
)
from shebao.workflow.rules import Issue, has_errors
from shebao.workflow.services import log_event, make_serial, requeue_silent, run_job, stale_conflict, transition
from shebao.workflow.services import transaction_cancel as cancel

log = logging.getLogger(__name__)

IMPORT_CHUNK = 2000
ID_FIELD_CODES = {
    "REQUIRED",
    "ID_FORMAT",
    "ID_NUMERIC_CELL",
    "ID_REGION",
    "ID_BIRTH_DATE",
    "ID_CHECKSUM",
    "ID_FORMAT_HMT",
    "ID_FORMAT_FOREIGN",
    "ID_TYPE",
    "CHOICE",
}
MAX_ROWS_NAMED = 20


def batch_business(code: str) -> registry.BusinessType:
    try:
        business = registry.get(code)
    except KeyError:
        raise NotFound(_("未找到该业务类型。"), code="NOT_FOUND") from None
    if not business.batch:
        raise NotFound(_("该业务不支持批量办理。"), code="NOT_FOUND")
    return business


def header_specs(business) -> list[FieldSpec]:
    """Business-level values asked once per file (e.g. 申报年度): the type's header fields."""
    return list(business.header_fields)


def check_header(business, values, params: ParamSnapshot | None = None) -> RowResult:
    """A batch's header (asked once per file, e.g. 申报年度) from a form's POST or an API body,
    checked by the type's header rules: the upload page, 免费预检 and the API all call this."""
    if not business.header_fields:
        return RowResult()
    return business.check_header(raw_values(business.header_fields, values), params or ParamSnapshot.load())


# --- upload --------------------------------------------------------------------------------


def batch_upload(
    *,
    employer,
    actor,
    business_type: str,
    filename: str,
    data: bytes,
    header: dict | None = None,
    photos: bytes | None = None,
    photos_filename: str = "",
    replaces: int | None = None,
) -> Transaction:
    """浏览/上传: refuse the file (and the zip of photos beside it) as a whole in the
    request, or create the transaction (导入中) with both and queue the import on the long
    queue in the same commit. The photos are read by the import job.

    `replaces`: 用新文件替换未提交的批次. The saved or returned batch of this employer and
    type named there is cancelled, and its person locks pass to the new batch, in the commit
    that ends the import; until then it stays as it was, and a file refused as a whole (here
    or by the import job) leaves it so."""
    business = batch_business(business_type)
    replaced = _replaceable(employer, business, replaces) if replaces is not None else None
    layout = reader.inspect(data, business)  # FileRefused: nothing written
    if photos is not None:
        if business.photo is None:
            raise ApplicationError(_("该业务不需要照片。"), code="NO_PHOTOS")
        reader.check_photos(photos)  # FileRefused: nothing written
    filename = without_hidden_characters(filename or "")[:255]  # stored and shown as it reads
    with transaction.atomic():
        tx = Transaction.objects.create(
            employer=employer,
            business_type=business.code,
            mode=Mode.BATCH,
            operator=actor,
            state=State.IMPORTING,
            header=header or {},
            progress_total=layout.data_rows,
            progress_done=0,
            heartbeat_at=timezone.now(),
        )
        tx.serial = make_serial(tx)
        tx.save(update_fields=["serial"])
        Upload.objects.create(
            transaction=tx,
            filename=filename,
            kind=layout.kind,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            sheet_index=layout.sheet_index,
            sheet_name=layout.sheet_name[:100],
            header_row=layout.header_row,
            columns=layout.columns,
            data_rows=layout.data_rows,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            photos=photos,
            photos_filename=without_hidden_characters(photos_filename or "")[:255] if photos is not None else "",
            replaces=replaced,
        )
        detail = {"filename": filename, "row_count": layout.data_rows, "format": layout.kind}
        if replaced is not None:
            detail["replaces"] = replaced.serial
        log_event(tx, actor=actor, action="create", to_state=State.IMPORTING, detail=detail)
        enqueue_import(tx)
    return tx


def batch_reupload_replacing(*, tx: Transaction, actor, version: int, replaces: int) -> Transaction:
    """On a file whose rows another unsubmitted batch held (LOCKED_HERE): the same file is
    uploaded again as a new batch that replaces that one, and this batch is cancelled, in one
    commit (nothing changes when either is refused)."""
    upload = Upload.objects.filter(transaction=tx).first()
    if upload is None or replaces == tx.pk:
        raise ApplicationError(_("该批次不能替换。"), code="NOT_REPLACEABLE")
    with transaction.atomic():
        new = batch_upload(
            employer=tx.employer,
            actor=actor,
            business_type=tx.business_type,
            filename=upload.filename,
            data=bytes(upload.content),
            header=tx.header,
            photos=bytes(upload.photos) if upload.photos is not None else None,
            photos_filename=upload.photos_filename,
            replaces=replaces,
        )
        cancel(tx=tx, actor=actor, version=version, reason=gettext_noop("改为用本文件替换未提交的批次，已重新导入"))
    return new


def replaceable_batches(employer, business) -> QuerySet[Transaction]:
    """The batches a new file may replace: this employer's saved or returned batches of the
    type (never one submitted: its rows are being audited or reviewed), newest first."""
    return (
        Transaction.objects.filter(
            employer=employer, business_type=business.code, mode=Mode.BATCH, state__in=EDITABLE_STATES
        )
        .select_related("upload")
        .defer("header", "upload__content", "upload__photos")
        .order_by("-created_at", "-id")
    )


def replacing_upload(tx: Transaction) -> Upload | None:
    """The new file still importing that will replace this batch when its import ends."""
    return (
        Upload.objects.filter(replaces=tx, transaction__state=State.IMPORTING, transaction__job_failed_at__isnull=True)
        .select_related("transaction")
        .defer("content", "photos")
        .first()
    )


def _replaceable(employer, business, pk: int) -> Transaction:
    old = replaceable_batches(employer, business).filter(pk=pk).first()
    if old is None:
        raise ApplicationError(
            _("要替换的批次不存在，或已提交、已退单，不能替换。请刷新页面后重新选择。"), code="NOT_REPLACEABLE"
        )
    pending = replacing_upload(old)
    if pending is not None:
        raise ApplicationError(
            _("流水号 %(serial)s 的新文件正在导入，导入完成后将替换该批次，请等待其完成。")
            % {"serial": pending.transaction.serial},
            code="NOT_REPLACEABLE",
        )
    return old


def enqueue_import(tx: Transaction) -> None:
    from django_q.tasks import async_task

    async_task(
        "shebao.batch.jobs.import_job", tx.pk, cluster=settings.Q_LONG, task_name=f"import-{tx.serial}", group="import"
    )


def run_import_job(tx_id: int) -> str:
    """The import job as the worker runs it: attempts counted on the transaction, and an
    import that fails its last attempt stays visible with its reason and can be cancelled."""
    return run_job(tx_id, State.IMPORTING, run_import)


def sweep_stuck_imports(now=None) -> int:
    """Re-queue imports whose job went silent (a worker killed, a queue row lost) for
    SHEBAO_AUDIT_STUCK_SECONDS, sooner than the broker's redelivery. A live import beats
    its heart at every chunk; a duplicate job imports only the rows still missing."""
    return requeue_silent(State.IMPORTING, enqueue_import, "requeue_import", now)


# --- import (worker) -----------------------------------------------------------------------


@functools.cache
def _spec_of_kind(business, kind: str) -> FieldSpec | None:
    """The first field of that kind (fields never change: asked per row, answered once)."""
    return next((s for s in business.fields if s.kind == kind), None)


def _quick_key(business, cooked: dict) -> str:
    """The person key normalise_row computes for a valid number, cheaply and unchecked, for
    finding the persons on several rows (a row whose number fails its check gets no key,
    and so no duplicate issue, from the row check itself)."""
    id_spec = _spec_of_kind(business, "id_number")
    if id_spec is None:
        return ""
    value = cooked.get(id_spec.name)
    if value in (None, ""):
        return ""
    id_type = "01"
    type_spec = _spec_of_kind(business, "id_type")
    if type_spec is not None:
        typed = cooked.get(type_spec.name)
        if typed in (None, "") or (isinstance(typed, str) and not typed.strip()):
            id_type = type_spec.default or "01"
        else:
            code = choice_value(type_spec, typed)
            if code is None:
                return ""  # an unknown ID type: the row fails its check
            id_type = code
    text = id_text(id_type, value)
    return make_id_key(id_type, text) if text else ""


def _row_key(business, result) -> str:
    id_spec = _spec_of_kind(business, "id_number")
    if id_spec is None:
        return ""
    type_spec = _spec_of_kind(business, "id_type")
    bad = {id_spec.name} | ({type_spec.name} if type_spec else set())
    # A row whose check raised holds its cells as typed, not a checked number: no person key.
    if any((i.field in bad and i.code in ID_FIELD_CODES) or i.code == "ROW_INTERNAL_ERROR" for i in result.issues):
        return ""
    number = result.data.get(id_spec.name, "")
    if not number:
        return ""
    id_type = result.data.get(type_spec.name, "") if type_spec else ""
    return make_id_key(id_type or "01", number)


def _rows_text(rows: list[int]) -> str:
    shown = "、".join(str(r) for r in rows[:MAX_ROWS_NAMED])
    return shown + ("等" if len(rows) > MAX_ROWS_NAMED else "")


def _layout(upload: Upload) -> reader.Layout:
    return reader.Layout(
        kind=upload.kind,
        sheet_index=upload.sheet_index,
        sheet_name=upload.sheet_name,
        header_row=upload.header_row,
        columns=upload.columns,
        data_rows=upload.data_rows,
        encoding=upload.encoding,
        delimiter=upload.delimiter,
    )


def run_import(tx_id: int) -> str:
    """Read every row, check it, store it, take the locks; then 导入中 → 未提交.

    The file is read and its duplicates found once; then chunks of at most IMPORT_CHUNK
    rows, each committed with its items, its locks and the progress counter, so a
    redelivered job imports only the rows not yet committed. No per-row query. On
    PostgreSQL a big file's chunks are shared by SHEBAO_IMPORT_PROCESSES processes.
    """
    started = time.perf_counter()
    tx = Transaction.objects.select_related("employer").filter(pk=tx_id).first()
    if tx is None or tx.state != State.IMPORTING:
        return "skipped"
    upload = Upload.objects.get(transaction=tx)
    business = registry.get(tx.business_type)
    params = ParamSnapshot.load()
    layout = _layout(upload)
    try:
        rows = read_rows(business, bytes(upload.content), layout)
    except reader.FileRefused as refusal:
        return _refuse_in_worker(tx, refusal.issue)
    if len(rows) > reader.MAX_ROWS:
        return _refuse_in_worker(tx, Issue("FILE_TOO_MANY_ROWS", "", {"rows": len(rows), "max": reader.MAX_ROWS}))
    read = time.perf_counter()
    cook = cooker(dict(tx.header or {}))
    # Pass 1: the same person on several rows fails on every such row.
    duplicates = find_duplicates(business, rows)
    paired = time.perf_counter()

    # Chunks are cut from the whole file, so every delivery of the job cuts the same ones;
    # rows committed by an earlier delivery are not imported again.
    processes = _import_processes(len(rows))
    size = _chunk_size(len(rows), processes)
    committed = set(Item.objects.filter(transaction=tx).values_list("row_no", flat=True))
    chunks = [[row for row in rows[o : o + size] if row[0] not in committed] for o in range(0, len(rows), size)]
    chunks = [chunk for chunk in chunks if chunk]
    if committed:
        Transaction.objects.filter(pk=tx.pk).update(progress_done=len(committed))
    job = _ImportJob(
        tx=tx, business=business, params=params, cook=cook, duplicates=duplicates, replaces=upload.replaces_id
    )
    holders = dict(upload.lock_holders or {})
    processes = min(processes, len(chunks)) or 1
    if processes > 1:
        ok = _import_in_processes(job, chunks, processes, holders)
    else:
        ok = all(_import_chunk(job, chunk, holders) for chunk in chunks)
    if not ok:
        return "skipped"
    if upload.photos is not None and not _attach_photos(tx, upload):
        return "skipped"
    outcome = _finish_import(tx, business, upload, holders, len(rows))
    log.info(
        "import %s: %d rows; file read in %.2f s, duplicates in %.2f s, rows checked and stored in %.2f s "
        "by %d process(es)",
        tx.serial,
        len(rows),
        read - started,
        paired - read,
        time.perf_counter() - paired,
        processes,
    )
    if outcome == "saved":
        # The import screen is read next: plans for the rows now in the table (see bulk).
        # After the commit, so the screen is shown without waiting for it.
        bulk.refresh_statistics(Item, len(rows))
    return outcome


# --- the template and the failure lists ---------------------------------------------------------


def template_file(business, employer) -> bytes:
    """模板下载: the type's template, pre-filled for this employer where the type does so."""
    header, rows = business.template_rows(employer, ParamSnapshot.load())
    note = business.template_note.format(**header) if rows and business.template_note else ""
    return sheets.write_template(business, rows, note)


# 《导入失败人员列表》 / 《审核失败人员列表》: the rows each lists.
FAILURE_KINDS = {"import": gettext_noop("导入失败人员列表"), "audit": gettext_noop("审核失败人员列表")}


def failure_items(tx: Transaction, kind: str) -> Iterator[Item]:
    """The rows of a failure list, in row order, with the columns a list shows, a chunk at a
    time (NotFound for a kind that is none)."""
    if kind == "import":
        query = Item.objects.filter(transaction=tx, status=ItemStatus.IMPORT_FAILED)
    elif kind == "audit":
        query = Item.objects.filter(transaction=tx, status=ItemStatus.IMPORTED, audit_status=AuditStatus.FAILED)
    else:
        raise NotFound(_("没有这种失败人员列表。"), code="NOT_FOUND")
    return query.order_by("row_no", "id").only("id", "row_no", "raw", "import_issues", "audit_issues").iterator(2000)


# --- reading rows, and checking them without storing them ------------------------------------


def read_rows(business, data: bytes, layout: reader.Layout) -> list[tuple[int, dict]]:
    """(row number as the user sees it, the cells of the type's columns) of every data row."""
    fields = [s for s in business.fields if s.name in layout.columns]
    rows = []
    for row_no, cells in reader.iter_rows(data, layout):
        raw = {}
        for spec in fields:
            index = layout.columns[spec.name]
            raw[spec.name] = reader.raw_cell(cells[index] if index < len(cells) else "")
        rows.append((row_no, raw))
    return rows


def cooker(header_values: dict) -> Callable[[dict], dict]:
    """What check_row reads of a row's cells: the header's values (e.g. the declared year),
    then the cells, a text's leading apostrophe (Excel's "as text") taken off."""

    def cook(raw: dict) -> dict:
        cooked = dict(header_values)
        for name, value in raw.items():
            if isinstance(value, str):
                if value.startswith("'"):
                    value = _unquote(value)
                cooked[name] = value
            else:
                cooked[name] = reader.cooked_cell(value)
        return cooked

    return cook


def find_duplicates(business, rows: list[tuple[int, dict]]) -> dict[str, list[int]]:
    """The persons on more than one row: person key → their row numbers."""
    rows_of: dict[str, list[int]] = defaultdict(list)
    id_names = [s.name for s in (_spec_of_kind(business, "id_type"), _spec_of_kind(business, "id_number")) if s]
    for row_no, raw in rows:
        try:
            key = _quick_key(business, {n: reader.cooked_cell(_unquote(raw.get(n, ""))) for n in id_names})
        except Exception:  # the row's own check fails it (and logs why); it pairs with no other row
            key = ""
        if key:
            rows_of[key].append(row_no)
    return {key: numbers for key, numbers in rows_of.items() if len(numbers) > 1}


def _row_issues(business, duplicates: dict[str, list[int]], row_no: int, result) -> tuple[str, list[Issue]]:
    """A checked row's person key and issues, with DUPLICATE_IN_FILE where it is on others."""
    key = _row_key(business, result)
    issues = list(result.issues)
    if key in duplicates:
        id_spec = _spec_of_kind(business, "id_number")
        others = [n for n in duplicates[key] if n != row_no]
        issues.append(Issue("DUPLICATE_IN_FILE", id_spec.name if id_spec else "", {"rows": _rows_text(others)}))
    return key, issues


def _check_chunk(
    business, chunk: list[tuple[int, dict]], params, employer, cook, duplicates: dict[str, list[int]], where: str
) -> list[tuple[int, dict, dict, str, list[Issue]]]:
    """Rows checked as the import checks them: (row number, raw cells, data, person key,
    issues) of each. First each row's rules (a rule that raises fails that row with
    ROW_INTERNAL_ERROR, logged as `where` row N, never the chunk), then the rules on this
    employer's own register for the chunk at once (one query), then DUPLICATE_IN_FILE."""
    results = [
        registry.check_row_safely(business, raw, params, employer, prepare=cook, where=f"{where} row {row_no}")
        for row_no, raw in chunk
    ]
    registry.check_known_rows_safely(business, results, employer, where=where)
    out = []
    for (row_no, raw), result in zip(chunk, results, strict=True):
        key, issues = _row_issues(business, duplicates, row_no, result)
        out.append((row_no, raw, result.data, key, issues))
    return out


ROW_NOT_OBJECT = gettext_noop("第 %(row)d 行不是对象：每行应为「字段名: 值」的 JSON 对象。")
UNKNOWN_ROW_FIELDS = gettext_noop("第 %(row)d 行含有该业务没有的字段：%(fields)s。字段名见 GET /api/v1/types。")


def _refused(msgid: str, code: str, params: dict) -> ApplicationError:
    """A refusal of JSON rows, in the reader's language and in every language (the API)."""
    return ApplicationError(_(msgid) % params, code=code, messages=in_languages(msgid, params))


def json_rows(business, rows: list) -> list[tuple[int, dict]]:
    """Rows given as JSON objects (field name → value), in what the import reads of a file's
    cells, numbered as the rows of the same data in the template: from 2, after the titles
    (so that 免费预检 and the batch the rows become name the same row by the same number). A
    name that is no field of the type, or a row that is no object, is refused as a whole,
    naming it."""
    names = {spec.name for spec in business.fields}
    out = []
    for number, row in enumerate(rows, start=2):
        if not isinstance(row, dict):
            raise _refused(ROW_NOT_OBJECT, "ROW_NOT_OBJECT", {"row": number})
        unknown = sorted(str(k) for k in row if k not in names)
        if unknown:
            raise _refused(UNKNOWN_ROW_FIELDS, "UNKNOWN_FIELD", {"row": number, "fields": "、".join(unknown[:10])})
        out.append((number, {name: reader.raw_cell(value) for name, value in row.items()}))
    if len(out) > reader.MAX_ROWS:
        raise reader.FileRefused("FILE_TOO_MANY_ROWS", rows=len(out), max=reader.MAX_ROWS)
    return out


def json_file(business, rows: list[tuple[int, dict]]) -> bytes:
    """JSON rows as the CSV file the import reads (the template's column titles, UTF-8 with a
    BOM): a batch sent as JSON is imported, stored and shown exactly as an uploaded file."""
    specs = reader.template_specs(business.fields)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spec.msgid for spec in specs])
    for _number, row in rows:
        writer.writerow(["" if row.get(spec.name) is None else str(row.get(spec.name)) for spec in specs])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass
class CheckedRow:
    row_no: int
    data: dict
    issues: list[Issue]

    @property
    def has_errors(self) -> bool:
        return has_errors(self.issues)


@dataclass
class Checked:
    """What 免费预检 found: the header's issues and every row's."""

    business: registry.BusinessType
    header_issues: list[Issue]
    rows: list[CheckedRow]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def failed(self) -> int:
        return sum(1 for row in self.rows if row.has_errors)

    @property
    def warned(self) -> int:
        return sum(1 for row in self.rows if row.issues and not row.has_errors)


def check_rows(
    *, employer, business_type: str, header: dict | None = None, rows: list | None = None, data: bytes | None = None
) -> Checked:
    """免费预检: the rows (a file's, or JSON objects) checked as the import checks them, by the
    row rules and the rules on this employer's own register (`check_known_rows`), and the
    persons on several rows. Nothing is stored and no lock is taken; rules that read other
    employers' data (the audit's) are not run, so nothing of theirs can be learnt here. A file
    refused as a whole raises FileRefused, as at the upload."""
    business = batch_business(business_type)
    params = ParamSnapshot.load()
    head = check_header(business, header or {}, params)
    if data is not None:
        layout = reader.inspect(data, business)
        numbered = read_rows(business, data, layout)
    else:
        numbered = json_rows(business, rows or [])
    cook = cooker(head.data)
    duplicates = find_duplicates(business, numbered)
    out: list[CheckedRow] = []
    for start in range(0, len(numbered), IMPORT_CHUNK):
        chunk = numbered[start : start + IMPORT_CHUNK]
        checked = _check_chunk(business, chunk, params, employer, cook, duplicates, "validate")
        out += [CheckedRow(row_no, values, issues) for row_no, _raw, values, _key, issues in checked]
    return Checked(business, list(head.issues), out)


# --- the photos of a batch ----------------------------------------------------------------

PHOTO_HEARTBEAT = 50


def _photo_line(file: str, ok: bool, msgid: str, params: dict | None = None, attached: list[int] | None = None) -> dict:
    """One result line: stored as its msgid and parameters, shown in the reader's language."""
    return {"file": file, "ok": ok, "rows": attached or [], "msgid": msgid, "params": params or {}}


def _check_photo(content: bytes) -> tuple[bytes | None, ApplicationError | None]:
    """The photo re-encoded as an uploaded one is, or its refusal."""
    try:
        return reencode_photo(content, settings.SHEBAO_PHOTO_MAX_BYTES), None
    except ApplicationError as refusal:
        return None, refusal
    except Exception:  # a photo the checks did not foresee: its line says unreadable, the job goes on
        log.exception("a photo of a batch could not be checked")
        return None, None


def _attach_photos(tx: Transaction, upload: Upload) -> bool:
    """Each photo of the zip checked and re-encoded like an uploaded one and stored on the
    rows of its 证件号码; every photo gets a result line, none fails the job. False when
    the transaction left 导入中 meanwhile. Run again by a redelivered job, with the same
    outcome."""
    by_number: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for pk, row_no, number, name in (
        Item.objects.filter(transaction=tx)
        .exclude(status=ItemStatus.DELETED)
        .values_list("pk", "row_no", "id_number", "name")
    ):
        if number:
            by_number[number.strip().upper()].append((pk, row_no, name))
    lines = []
    try:
        photos = list(reader.iter_photos(bytes(upload.photos or b"")))
    except reader.FileRefused as refusal:  # the limits changed since the upload: one line says why
        photos = []
        lines.append(
            _photo_line(upload.photos_filename, False, "", {"code": refusal.issue.code, **refusal.issue.params})
        )
    for n, (entry, content) in enumerate(photos):
        if n and n % PHOTO_HEARTBEAT == 0:
            if not Transaction.objects.filter(pk=tx.pk, state=State.IMPORTING).update(heartbeat_at=timezone.now()):
                return False
        rows = by_number.get(entry.number) if entry.number else None
        if not entry.number:
            msgid = gettext_noop("文件名须为证件号码加 .jpg 或 .png（如 420102199001011234.jpg），已忽略。")
            lines.append(_photo_line(entry.name, False, msgid))
        elif not rows:
            msgid = gettext_noop("文件中没有证件号码为 %(number)s 的人员，照片未使用。")
            lines.append(_photo_line(entry.name, False, msgid, {"number": entry.number}))
        elif content is None:
            lines.append(_photo_line(entry.name, False, gettext_noop("无法读取该照片文件，文件可能已损坏或不是图片。")))
        else:
            jpeg, refused = _check_photo(content)
            if jpeg is None:
                extra: dict = refused.extra if refused is not None else {}
                msgid = extra.get("msgid") or gettext_noop("无法读取该照片文件，文件可能已损坏或不是图片。")
                lines.append(_photo_line(entry.name, False, msgid, extra.get("params")))
                continue
            Item.objects.filter(pk__in=[pk for pk, _row, _name in rows]).update(photo=jpeg)
            msgid = gettext_noop("已添加到第 %(rows)s 行（%(name)s），已转换为 358×441 像素 JPEG。")
            numbers = [row for _pk, row, _name in rows]
            lines.append(
                _photo_line(entry.name, True, msgid, {"rows": rules.plain_list(numbers), "name": rows[0][2]}, numbers)
            )
    Upload.objects.filter(pk=upload.pk).update(photo_results=lines)
    return True


def _line_text(line: dict) -> str:
    params = {key: rules.localise(value) for key, value in (line.get("params") or {}).items()}
    if not line.get("msgid"):  # a whole-zip refusal: the catalogue's message
        code = params.pop("code", "PHOTOS_UNREADABLE")
        return Issue(code, "", params).message()
    return _(line["msgid"]) % params if params else _(line["msgid"])


def photo_results(upload: Upload | None) -> list[dict]:
    """The result lines of the zip of photos, in the reader's language."""
    if upload is None:
        return []
    return [{"file": line["file"], "ok": line["ok"], "text": _line_text(line)} for line in upload.photo_results or []]


def batch_set_row_photo(*, tx: Transaction, actor, version: int, item_id: int, jpeg: bytes) -> Item:
    """直接上传 on a row of the import screen: adds or replaces that row's photo (before 提交审批)."""
    with transaction.atomic():
        item = (
            Item.objects.filter(transaction=tx, pk=item_id)
            .exclude(status=ItemStatus.DELETED)
            .only("id", "row_no", "name")
            .first()
        )
        if item is None:
            raise NotFound(_("该人员不存在或已删除。"), code="NOT_FOUND")
        updated = Transaction.objects.filter(pk=tx.pk, state__in=EDITABLE_STATES, version=version).update_of(
            tx.employer_id, version=F("version") + 1, touched_at=timezone.now()
        )
        if not updated:
            raise stale_conflict(tx)
        Item.objects.filter(pk=item.pk).update(photo=jpeg)
        tx.refresh_from_db()
        log_event(
            tx, actor=actor, action="photo", from_state=tx.state, detail={"rows": [item.row_no], "bytes": len(jpeg)}
        )
    return item


@dataclass
class _ImportJob:
    """What every chunk of one import needs: computed once, before any process forks."""

    tx: Transaction
    business: registry.BusinessType
    params: ParamSnapshot
    cook: Callable[[dict], dict]
    duplicates: dict[str, list[int]]
    replaces: int | None = None  # the batch whose locks pass to this one at the end


def _import_chunk(job: _ImportJob, chunk: list[tuple[int, dict]], holders: dict[str, int]) -> bool:
    """Check one chunk of rows and commit its items, locks and progress in one database
    transaction. False when the transaction left 导入中 (cancelled) meanwhile."""
    if not chunk:
        return True
    tx, business = job.tx, job.business
    items = []
    checked = _check_chunk(business, chunk, job.params, tx.employer, job.cook, job.duplicates, f"import {tx.serial}")
    for row_no, raw, data, key, issues in checked:
        items.append(
            Item(
                transaction=tx,
                row_no=row_no,
                id_key=key,
                status=ItemStatus.IMPORT_FAILED if has_errors(issues) else ItemStatus.IMPORTED,
                id_number=str(data.get("id_number", ""))[:40],
                name=str(data.get("name", ""))[:100],
                data=data,
                raw=raw,
                import_issues=[i.as_dict() for i in issues],
            )
        )
    with transaction.atomic():
        if not Transaction.objects.filter(pk=tx.pk, state=State.IMPORTING).exists():
            return False
        if connection.vendor == "postgresql":
            # One writer per chunk: a second delivery of the job racing a live one waits
            # here, then leaves alone the rows the other committed.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [tx.pk % 2**31, chunk[0][0]])
        there = set(
            Item.objects.filter(transaction=tx, row_no__gte=chunk[0][0], row_no__lte=chunk[-1][0]).values_list(
                "row_no", flat=True
            )
        )
        if there:
            items = [item for item in items if item.row_no not in there]
            if not items:
                return True
        _insert_items(tx, items)
        _take_locks(tx, business, items, holders, passing_from=job.replaces)
        # Conditional, and last: a 退单 of the import (allowed once its job was given up)
        # committed meanwhile makes this chunk store nothing; one that comes later waits for
        # this row lock and then releases the locks this chunk took. No lock is held from the
        # start of the chunk, so the processes of a parallel import do not wait on each other.
        if not Transaction.objects.filter(pk=tx.pk, state=State.IMPORTING).update(
            progress_done=F("progress_done") + len(items), heartbeat_at=timezone.now()
        ):
            transaction.set_rollback(True)
            return False
    return True


def _import_processes(rows: int) -> int:
    """How many processes share an import: on PostgreSQL, outside a surrounding database
    transaction (the processes each commit their own chunks), and only for files of more
    than one chunk."""
    wanted = max(1, settings.SHEBAO_IMPORT_PROCESSES)
    if wanted == 1 or rows <= IMPORT_CHUNK or connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return min(wanted, -(-rows // IMPORT_CHUNK)) if hasattr(os, "fork") else 1


def _chunk_size(rows: int, processes: int) -> int:
    """At most IMPORT_CHUNK rows, and as many chunks for every process."""
    rounds = max(1, -(-rows // (processes * IMPORT_CHUNK)))
    return max(1, -(-rows // (processes * rounds)))


def _import_in_processes(job: _ImportJob, chunks: list[list], processes: int, holders: dict[str, int]) -> bool:
    """Fork processes - 1 helpers; each, and this process, imports every processes-th chunk
    (the holders found are merged into `holders`).

    The rows, the parameters and the duplicates are inherited, not sent. Each helper has its
    own database connection (all are closed before the fork) and sends back only its lock
    holders. A helper dies with its parent (PR_SET_PDEATHSIG), so a killed worker leaves no
    writer behind; a helper that fails makes the job fail, and the next delivery imports
    the chunks still missing.
    """
    connections.close_all()
    parent = os.getpid()
    children: list[tuple[int, int]] = []
    shares = {0}  # the every-processes-th chunks this process imports
    for index in range(1, processes):
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to be had: this one takes the share
            log.warning("import of transaction %s: no helper process, importing its share here", job.tx.pk)
            os.close(read_end)
            os.close(write_end)
            shares.add(index)
            continue
        if pid == 0:  # the helper
            os.close(read_end)
            status = 1
            try:
                _die_with_parent(parent)
                mine: dict[str, int] = {}
                ok = all(_import_chunk(job, chunk, mine) for chunk in chunks[index::processes])
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(json.dumps({"ok": ok, "holders": mine}).encode())
                status = 0
            except BaseException:
                log.exception("import helper of transaction %s failed", job.tx.pk)
            finally:
                connections.close_all()
                os._exit(status)
        os.close(write_end)
        children.append((pid, read_end))
    ok, failed, error = True, 0, None
    try:
        ok = all(_import_chunk(job, chunk, holders) for n, chunk in enumerate(chunks) if n % processes in shares)
    except BaseException as exc:
        error = exc
    for pid, read_end in children:
        with os.fdopen(read_end, "rb") as pipe:
            answer = pipe.read()
        _pid, status = os.waitpid(pid, 0)
        if status != 0 or not answer:
            failed += 1
            continue
        reply = json.loads(answer)
        ok = ok and reply["ok"]
        holders.update(reply["holders"])
    if error is not None:
        raise error
    if failed:
        raise RuntimeError(f"{failed} import helper(s) of transaction {job.tx.pk} failed; the next delivery resumes")
    return ok


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when the process that forked it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _unquote(value: object) -> object:
    """A text cell of an exported list may carry the apostrophe that kept it from running."""
    if isinstance(value, str) and value.startswith("'"):
        from shebao.core.cells import unsafe_cell

        return unsafe_cell(value)
    return value


def _insert_items(tx: Transaction, items: list[Item]) -> None:
    """bulk_create, or on PostgreSQL a COPY (several times faster at 100,000 rows); either
    way every item gets its primary key for the locks that point to it."""
    if not bulk.use_copy():
        Item.objects.bulk_create(items, batch_size=1000)
        return
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    # JSON goes in as text (the server parses it into jsonb); plain values as they are.
    plain = (str, int, bool, type(None))
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    preps = [(f.attname, f, isinstance(f, JSONField)) for f in fields]

    def row(item: Item) -> list:
        out = []
        for attname, f, is_json in preps:
            v = getattr(item, attname)
            out.append(dumps(v) if is_json else v if isinstance(v, plain) else f.get_db_prep_save(v, connection))
        return out

    bulk.insert_rows(Item, [f.attname for f in fields], (row(item) for item in items))
    rows = [item.row_no for item in items]
    ids = dict(
        Item.objects.filter(transaction=tx, row_no__gte=min(rows), row_no__lte=max(rows)).values_list("row_no", "id")
    )
    for item in items:
        item.pk = ids[item.row_no]
        item._state.adding = False


LOCK_CODES = frozenset({"LOCKED_HERE", "LOCKED_ELSEWHERE", "DECLARATION_OPEN"})


def _take_locks(
    tx: Transaction, business, items: list[Item], holders: dict[str, int], *, passing_from: int | None = None
) -> None:
    """Insert this chunk's locks (shebao.workflow.locks); rows whose person or declaration
    another transaction holds fail the import (not when the holder is the batch this one
    replaces: those locks pass at the end). A row refused already is not refused twice."""
    taken = locks.take(business, tx, items, passing_from=passing_from)
    holders.update(taken.holders)
    changed = []
    for item in items:
        refusal = taken.refused.get(item.pk)
        if refusal is None or any(i.get("code") in LOCK_CODES for i in item.import_issues):
            continue
        item.import_issues = item.import_issues + [refusal.issue.as_dict()]
        item.status = ItemStatus.IMPORT_FAILED
        changed.append(item)
    if changed:
        Item.objects.bulk_update(changed, ["import_issues", "status"], batch_size=1000)


def _finish_import(tx: Transaction, business, upload: Upload, holders: dict[str, int], rows: int) -> str:
    counts = _counts(tx)
    if counts["total"] != rows:
        # Never 未提交 with a row of the file missing: the job fails, the next delivery
        # imports what is not there.
        raise RuntimeError(f"import of transaction {tx.pk}: {counts['total']} of {rows} rows stored")
    now = timezone.now()
    with transaction.atomic():
        if upload.replaces_id is not None:
            if not Transaction.objects.select_for_update().filter(pk=tx.pk, state=State.IMPORTING).exists():
                return "skipped"
            _replace_batch(tx, business, upload.replaces_id, holders)
            counts = _counts(tx)
        if holders != (upload.lock_holders or {}):
            Upload.objects.filter(pk=upload.pk).update(lock_holders=holders)
        try:
            # A delivery still running when an earlier one was given up may finish after all:
            # then the import did not fail, and its failure is no longer shown.
            transition(
                tx,
                from_states=(State.IMPORTING,),
                to_state=State.SAVED,
                version=None,
                actor=None,
                action="import",
                detail={"total": counts["total"], "import_failed": counts["failed"]},
                total_count=counts["total"],
                import_failed_count=counts["failed"],
                progress_done=F("progress_total"),
                saved_at=now,
                touched_at=now,
                returned=False,
                return_reasons=[],
                job_failed_at=None,
            )
        except ApplicationError:
            return "skipped"
    return "saved"


def _replace_batch(tx: Transaction, business, old_id: int, holders: dict[str, int]) -> None:
    """用新文件替换, in the commit that ends the import: the replaced batch is cancelled and
    its person locks pass to the rows of this file that name them. When it was submitted or
    cancelled meanwhile, it is left alone and this file's rows it held fail with LOCKED_HERE,
    as they would have without the replacement. Either way each row ends holding its lock or
    refused: no row takes effect unlocked."""
    old = Transaction.objects.select_for_update().filter(pk=old_id, employer_id=tx.employer_id, mode=Mode.BATCH).first()
    wanted = ["id", "row_no", "id_key", "status", "import_issues"]
    if business.locking == registry.Locking.DECLARATION:
        wanted.append("data")  # the declaration key is read from the row
    items = list(
        Item.objects.filter(transaction=tx).exclude(status=ItemStatus.DELETED).order_by("row_no").only(*wanted)
    )
    detail: dict = {"serial": old.serial if old is not None else "", "tx_id": old_id, "replaced": False}
    if old is not None and old.state in EDITABLE_STATES:
        old_state = old.state
        transition(
            old,
            from_states=EDITABLE_STATES,
            to_state=State.CANCELLED,
            version=None,
            actor=tx.operator,
            action="replaced",
            detail={"by": tx.serial, "by_id": tx.pk, "state": old_state},
        )
        detail.update(replaced=True, locks=locks.transfer(business, old, tx, items))
    # Rows whose lock did not pass (the old batch submitted or cancelled meanwhile) take it
    # now or are refused, like any row of an import.
    _take_locks(tx, business, items, holders)
    log_event(tx, actor=None, action="replace" if detail["replaced"] else "replace_skipped", detail=detail)


def _refuse_in_worker(tx: Transaction, issue: Issue) -> str:
    """A file that turned out unreadable in the worker: the transaction is cancelled, no rows."""
    with transaction.atomic():
        try:
            transition(
                tx,
                from_states=(State.IMPORTING,),
                to_state=State.CANCELLED,
                version=None,
                actor=None,
                action="cancel",
                reason=issue.message("zh-hans"),
                return_reasons=[issue.as_dict()],
            )
        except ApplicationError:
            return "skipped"
        Item.objects.filter(transaction=tx).update(status=ItemStatus.DELETED, deleted_at=timezone.now())
        locks.release(tx)
    return "refused"


def _counts(tx: Transaction) -> dict:
    agg = (
        Item.objects.filter(transaction=tx)
        .exclude(status=ItemStatus.DELETED)
        .aggregate(
            total=Count("id"),
            failed=Count("id", filter=Q(status=ItemStatus.IMPORT_FAILED)),
            passed=Count("id", filter=Q(status=ItemStatus.IMPORTED, audit_status=AuditStatus.PASSED)),
            audit_failed=Count("id", filter=Q(status=ItemStatus.IMPORTED, audit_status=AuditStatus.FAILED)),
        )
    )
    return agg


# --- editing a saved batch -----------------------------------------------------------------


def batch_delete_rows(*, tx: Transaction, actor, version: int, item_ids: list[int]) -> Transaction:
    """删除 ticked rows: kept in history as deleted; their locks released, or moved to a
    remaining row of the same person; a person left on one row is no longer a duplicate."""
    ids = parse_ids(item_ids)  # an id that cannot exist (30 digits, "²") is simply not found
    if not ids:
        raise ApplicationError(_("请先勾选要删除的人员。"), code="NO_SELECTION")
    business = registry.get(tx.business_type)
    now = timezone.now()
    with transaction.atomic():
        updated = Transaction.objects.filter(pk=tx.pk, state__in=EDITABLE_STATES, version=version).update_of(
            tx.employer_id, version=F("version") + 1, touched_at=now
        )
        if not updated:
            raise stale_conflict(tx)
        doomed = list(
            Item.objects.filter(transaction=tx, pk__in=ids)
            .exclude(status=ItemStatus.DELETED)
            .only("id", "row_no", "id_key", "status")
        )
        if not doomed:
            raise ApplicationError(_("勾选的人员不存在或已删除。"), code="NO_SELECTION")
        doomed_ids = [i.pk for i in doomed]
        Item.objects.filter(pk__in=doomed_ids).update(status=ItemStatus.DELETED, deleted_at=now)
        keys = {i.id_key for i in doomed if i.id_key}
        if keys:
            _relock(tx, business, keys, doomed_ids)
        counts = _counts(tx)
        Transaction.objects.filter(pk=tx.pk).update_of(
            tx.employer_id,
            total_count=counts["total"],
            import_failed_count=counts["failed"],
            audit_passed_count=counts["passed"],
            audit_failed_count=counts["audit_failed"],
        )
        tx.refresh_from_db()
        log_event(
            tx,
            actor=actor,
            action="delete_rows",
            from_state=tx.state,
            detail={"rows": sorted(i.row_no for i in doomed), "items": doomed_ids},
        )
    return tx


def _relock(tx: Transaction, business, keys: set[str], doomed_ids: list[int]) -> None:
    remaining: dict[str, list[Item]] = defaultdict(list)
    for item in (
        Item.objects.filter(transaction=tx, id_key__in=keys)
        .exclude(status=ItemStatus.DELETED)
        .order_by("row_no")
        .only("id", "row_no", "id_key", "status", "import_issues")
    ):
        remaining[item.id_key].append(item)
    # Locks of deleted rows: to the next row of the same person, or released.
    locks.release_rows(tx, doomed_ids, remaining)
    # The duplicate rule, again, for the persons still on the file.
    changed = []
    for _key, rest in remaining.items():
        numbers = [i.row_no for i in rest]
        for item in rest:
            issues = [i for i in item.import_issues if i.get("code") != "DUPLICATE_IN_FILE"]
            if len(rest) > 1:
                others = [n for n in numbers if n != item.row_no]
                id_field = next(
                    (i.get("field") for i in item.import_issues if i.get("code") == "DUPLICATE_IN_FILE"), "id_number"
                )
                issues.append(Issue("DUPLICATE_IN_FILE", id_field, {"rows": _rows_text(others)}).as_dict())
            if issues == item.import_issues:
                continue
            item.import_issues = issues
            if item.status == ItemStatus.IMPORT_FAILED and not has_errors([Issue.from_dict(d) for d in issues]):
                item.status = ItemStatus.IMPORTED
            changed.append(item)
    if changed:
        Item.objects.bulk_update(changed, ["import_issues", "status"], batch_size=1000)


def batch_save(*, tx: Transaction, actor) -> Transaction:
    """保存: nothing to change in the rows; the batch stays in the to-do list."""
    now = timezone.now()
    with transaction.atomic():
        if not Transaction.objects.filter(pk=tx.pk, state__in=EDITABLE_STATES).update_of(
            tx.employer_id, saved_at=now, touched_at=now
        ):
            raise stale_conflict(tx)
        tx.refresh_from_db()
        log_event(tx, actor=actor, action="save", from_state=tx.state)
    return tx
