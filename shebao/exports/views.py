"""Downloads of the printed forms; big PDFs come in background parts.

Who may download: the employer's own operators (``employer_required``: the transaction
must be ``request.employer``'s) and clerks of the employer's district office. Anyone else
gets 404, as for any object that is not theirs.
"""

from __future__ import annotations

from functools import wraps

from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shebao.accounts.models import Role
from shebao.accounts.scoping import employer_required
from shebao.exports import documents, services
from shebao.exports.models import ExportPart, PartStatus
from shebao.workflow.models import State, Transaction
from shebao.workflow.printing import PrintForm

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def export_access(view):
    """Clerks of the employer's office, or the employer's operators; everyone else 404."""
    employer_view = employer_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.role == Role.CLERK:
            if user.office_id is None:
                raise Http404
            request.employer = None
            return view(request, *args, **kwargs)
        return employer_view(request, *args, **kwargs)

    return wrapper


def _transaction(request, pk: int) -> tuple[Transaction, PrintForm]:
    """The transaction and the form it prints; 404 unless the user may see it and it prints one."""
    qs = Transaction.objects.select_related("employer")
    if request.employer is not None:
        qs = qs.filter(employer=request.employer)
    else:
        qs = qs.filter(employer__office_id=request.user.office_id)
    tx = qs.filter(pk=pk).first()
    form = documents.form_for(tx) if tx is not None else None
    if tx is None or form is None:
        raise Http404
    return tx, form


def _refuse(request, message: str, tx: Transaction, status: int = 409) -> HttpResponse:
    return render(request, "exports/message.html", {"message": message, "tx": tx}, status=status)


def _attachment(response, name: str):
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@export_access
def form_download(request, pk: int, fmt: str):
    if fmt not in CONTENT_TYPES:
        raise Http404
    tx, form = _transaction(request, pk)
    if tx.state == State.IMPORTING:
        return _refuse(request, _("文件仍在导入中，导入完成后才能打印。"), tx)
    if fmt == "xlsx":
        tmp = services.form_xlsx(form, tx)
        response: HttpResponseBase = FileResponse(tmp, content_type=CONTENT_TYPES["xlsx"])
        return _attachment(response, services.filename(form, tx, "xlsx"))
    if services.needs_parts(tx):
        return redirect("exports:parts", pk=tx.pk)
    response = HttpResponse(services.form_pdf_bytes(form, tx), content_type=CONTENT_TYPES["pdf"])
    return _attachment(response, services.filename(form, tx, "pdf"))


@require_http_methods(["GET", "POST"])
@export_access
def parts(request, pk: int):
    tx, form = _transaction(request, pk)
    if tx.state == State.IMPORTING:
        return _refuse(request, _("文件仍在导入中，导入完成后才能打印。"), tx)
    if request.method == "POST":
        services.export_job_start(tx=tx, actor=request.user)
        return redirect("exports:parts", pk=tx.pk)
    job = services.current_job(tx)
    progress = services.job_progress(job) if job else None
    part_rows = []
    if job:
        for part in job.parts.all():
            part_rows.append(
                {
                    "number": part.number,
                    "first": part.first_seq,
                    "last": part.first_seq + len(part.item_ids) - 1,
                    "done": part.status == PartStatus.DONE,
                    "error": bool(part.error),
                    "url": reverse("exports:part", args=[tx.pk, job.pk, part.number]),
                    "size_kb": (part.size + 1023) // 1024,
                }
            )
    return render(
        request,
        "exports/parts.html",
        {
            "tx": tx,
            "form": form,
            "job": job,
            "progress": progress,
            "parts": part_rows,
            "persons": services.person_count(tx),
            "listing": documents.listing_of(tx),
            "part_size": services.PART_SIZE,
            "xlsx_url": reverse("exports:form", args=[tx.pk, "xlsx"]),
        },
    )


@require_GET
@export_access
def parts_status(request, pk: int):
    tx = _transaction(request, pk)[0]
    job = services.current_job(tx)
    if job is None:
        return JsonResponse({"started": False})
    data = services.job_progress(job)
    data["started"] = True
    data["parts"] = [
        {
            "number": p.number,
            "done": p.status == PartStatus.DONE,
            "url": reverse("exports:part", args=[tx.pk, job.pk, p.number]) if p.status == PartStatus.DONE else None,
        }
        for p in job.parts.all()
    ]
    return JsonResponse(data)


@require_GET
@export_access
def part_download(request, pk: int, job: int, number: int):
    tx, form = _transaction(request, pk)
    part = (
        ExportPart.objects.filter(job_id=job, job__transaction=tx, number=number, status=PartStatus.DONE)
        .select_related("job")
        .first()
    )
    if part is None:
        raise Http404
    path = services.part_path(part, tx.pk)
    if not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES["pdf"])
    return _attachment(response, services.filename(form, tx, "pdf", part=part.number))
