"""Exports of transactions: the forms as xlsx/PDF, and big PDFs in background parts."""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation

from shebao.exports import documents, pdf, xlsx
from shebao.exports.documents import Totals
from shebao.exports.models import ExportJob, ExportPart, PartStatus
from shebao.workflow.models import Item, Transaction
from shebao.workflow.printing import PrintForm

log = logging.getLogger(__name__)

# WeasyPrint needs about 10 ms of CPU and 0.3 MB of memory per printed person (measured:
# 2,000 persons = 20+ s and 800 MB). So a PDF of more than SYNC_LIMIT persons is made by the
# background worker ("long" queue), in numbered parts of at most PART_SIZE persons each, which
# keeps a worker well under 600 MB; smaller ones are rendered in the request (< 4 s).
SYNC_LIMIT = 300
PART_SIZE = 1000  # the ceiling is 2,000 per part
DOC_LANGUAGE = "zh-hans"  # the forms are handed to the office: always in Chinese


def export_dir(tx_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / str(int(tx_id))


def part_path(part: ExportPart, tx_id: int) -> Path:
    return export_dir(tx_id) / part.file_name


def person_count(tx: Transaction) -> int:
    return documents.printable_items(tx).count()


def needs_parts(tx: Transaction) -> bool:
    return person_count(tx) > SYNC_LIMIT


def form_xlsx(form: PrintForm, tx: Transaction):
    """An open temporary file with the workbook (the caller streams and closes it)."""
    with translation.override(DOC_LANGUAGE):
        return xlsx.form_xlsx_file(form, tx, documents.printable_items(tx).iterator(chunk_size=2000))


def form_pdf_bytes(form: PrintForm, tx: Transaction) -> bytes:
    with translation.override(DOC_LANGUAGE):
        return pdf.form_pdf(form, tx, documents.printable_items(tx).iterator(chunk_size=2000))


def filename(form: PrintForm, tx: Transaction, ext: str, part: int | None = None) -> str:
    with translation.override(DOC_LANGUAGE):
        return documents.filename(form, tx, ext, part)


# --- background parts -------------------------------------------------------------------


def fingerprint(tx: Transaction) -> str:
    items = documents.printable_items(tx)
    agg = items.aggregate(last=Max("id"))
    return f"{documents.listing_of(tx).key}-v{tx.version}-n{items.count()}-m{agg['last'] or 0}"


def current_job(tx: Transaction) -> ExportJob | None:
    return ExportJob.objects.filter(transaction=tx, fingerprint=fingerprint(tx)).first()


def export_job_start(*, tx: Transaction, actor) -> ExportJob:
    """Split the transaction's persons into parts and queue one background job per part.

    Idempotent: the same transaction unchanged gives the same job (a unique key decides
    between two clicks at once). Jobs are queued in the same database transaction.
    """
    fp = fingerprint(tx)
    existing = ExportJob.objects.filter(transaction=tx, fingerprint=fp).first()
    if existing:
        return existing
    size = PART_SIZE
    ids = list(documents.printable_items(tx).values_list("id", flat=True))
    wage_total = Decimal("0.00")
    form = documents.form_for(tx)
    if form and form.has_wage:
        for item in documents.printable_items(tx).iterator(chunk_size=2000):
            wage = form.row(item, 0).get(form.wage_key)
            wage_total += wage or Decimal("0.00")
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                transaction=tx,
                fingerprint=fp,
                part_size=size,
                parts_total=len(chunks),
                persons=len(ids),
                wage_total=wage_total,
                requested_by=actor,
            )
            ExportPart.objects.bulk_create(
                [
                    ExportPart(
                        job=job,
                        number=n,
                        first_seq=1 + (n - 1) * size,
                        item_ids=chunk,
                        file_name=f"job{job.pk}-part{n:03d}.pdf",
                    )
                    for n, chunk in enumerate(chunks, start=1)
                ]
            )
            for part in ExportPart.objects.filter(job=job):
                _enqueue(part)
    except IntegrityError:
        return ExportJob.objects.get(transaction=tx, fingerprint=fp)
    _remove_stale_jobs(tx, keep=job.pk)
    return job


def _enqueue(part: ExportPart) -> None:
    from django_q.tasks import async_task

    async_task(
        "shebao.exports.jobs.render_part_job",
        part.pk,
        cluster=settings.Q_LONG,
        task_name=f"export-part-{part.pk}",
        group="export",
    )


def _remove_stale_jobs(tx: Transaction, keep: int) -> None:
    for job in ExportJob.objects.filter(transaction=tx).exclude(pk=keep):
        for part in job.parts.all():
            try:
                part_path(part, tx.pk).unlink(missing_ok=True)
            except OSError:  # pragma: no cover - best effort
                log.warning("could not remove %s", part.file_name)
        job.delete()


def render_part(part_id: int) -> str:
    """Render one part to its file. Idempotent: a done part is left alone; a rerun of a
    killed job writes the file again (atomically, via a temporary name)."""
    part = (
        ExportPart.objects.select_related("job", "job__transaction", "job__transaction__employer")
        .filter(pk=part_id)
        .first()
    )
    if part is None:
        return "gone"
    job, tx = part.job, part.job.transaction
    path = part_path(part, tx.pk)
    if part.status == PartStatus.DONE and path.exists():
        return "done"
    ExportPart.objects.filter(pk=part.pk).update(attempts=part.attempts + 1)
    form = documents.form_for(tx)
    items_by_id = {
        i.pk: i for i in Item.objects.filter(pk__in=part.item_ids).only("id", "row_no", "name", "id_number", "data")
    }
    items = [items_by_id[i] for i in part.item_ids if i in items_by_id]
    grand = Totals(persons=job.persons, wage=job.wage_total)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        if form is None:  # its type no longer prints a form: the part fails, like any unrenderable one
            raise LookupError(f"business type {tx.business_type!r} prints no form")
        with translation.override(DOC_LANGUAGE):
            pdf.form_pdf(
                form,
                tx,
                items,
                str(tmp),
                first_seq=part.first_seq,
                part=pdf.PartInfo(part.number, job.parts_total),
                grand=grand,
            )
        os.replace(tmp, path)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        ExportPart.objects.filter(pk=part.pk).update(error=str(exc)[:1000])
        raise
    ExportPart.objects.filter(pk=part.pk).update(
        status=PartStatus.DONE, size=path.stat().st_size, done_at=timezone.now(), error=""
    )
    return "rendered"


def job_progress(job: ExportJob) -> dict:
    parts = list(job.parts.all())
    done = sum(1 for p in parts if p.status == PartStatus.DONE)
    return {
        "parts_total": job.parts_total,
        "parts_done": done,
        "finished": done == job.parts_total,
        "persons": job.persons,
    }
