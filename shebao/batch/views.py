"""Batch pages: 模板下载, 浏览/上传, the import screen, failure lists, result queries.

Thin: parse, authorise (every query starts from request.employer), call one service, render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shebao.accounts.scoping import employer_required
from shebao.batch import reader, services, sheets
from shebao.batch.models import Upload
from shebao.core.errors import ApplicationError, Conflict, NotFound
from shebao.core.http import parse_id, parse_ids, posted_version, private_jpeg, url_or_empty
from shebao.core.images import reencode_uploaded_photo
from shebao.params.services import ParamSnapshot
from shebao.workflow import materials
from shebao.workflow import services as engine
from shebao.workflow.models import AuditStatus, Event, Item, ItemStatus, Mode, State, Transaction
from shebao.workflow.rules import has_errors, issues_from, shown, split
from shebao.workflow.status import counts, status_payload

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

ROWS_PER_PAGE = 100
REPLACEABLE_SHOWN = 20  # the newest saved or returned batches offered for 用新文件替换
RESULTS_PER_PAGE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FILTERS: dict[str, tuple[StrPromise, dict[str, Any]]] = {
    "all": (gettext_lazy("全部"), {"status__in": [ItemStatus.IMPORTED, ItemStatus.IMPORT_FAILED]}),
    "imported": (gettext_lazy("导入成功"), {"status": ItemStatus.IMPORTED}),
    "import_failed": (gettext_lazy("导入失败"), {"status": ItemStatus.IMPORT_FAILED}),
    "passed": (gettext_lazy("审核通过"), {"status": ItemStatus.IMPORTED, "audit_status": AuditStatus.PASSED}),
    "failed": (gettext_lazy("审核失败"), {"status": ItemStatus.IMPORTED, "audit_status": AuditStatus.FAILED}),
    # Rows the employer deleted before submitting: not in the totals, kept and shown here.
    "deleted": (gettext_lazy("已删除"), {"status": ItemStatus.DELETED}),
}


def _business(code: str):
    try:
        return services.batch_business(code)
    except NotFound:
        raise Http404 from None


def _batch_or_404(request, pk: int) -> Transaction:
    return get_object_or_404(
        Transaction.objects.select_related("employer", "operator").defer("header"),
        pk=pk,
        employer=request.employer,
        mode=Mode.BATCH,
    )


def results_title(business) -> str:
    """The name of the type's result query (批量增员审核结果查询 …), as the type declares it."""
    return business.result_query_label


# --- template -------------------------------------------------------------------------------


@employer_required
@require_GET
def template(request, code: str):
    business = _business(code)
    response = HttpResponse(services.template_file(business, request.employer), content_type=XLSX)
    # The template is a Chinese document: its file name is too.
    response["Content-Disposition"] = content_disposition_header(True, f"{business.names.title}批量导入模板.xlsx")
    response["Cache-Control"] = "private, no-store"
    return response


# --- upload ---------------------------------------------------------------------------------


@employer_required
@require_http_methods(["GET", "POST"])
def upload(request, code: str):
    """浏览/上传: the whole-file checks answer at once; the rows are read in the background."""
    business = _business(code)
    context = {
        "business": business,
        "header_specs": services.header_specs(business),
        "max_mb": reader._mb(settings.SHEBAO_UPLOAD_MAX_BYTES),
        "max_rows": reader.MAX_ROWS,
        "max_photos": reader.PHOTOS_MAX_ENTRIES,
        "photo_mb": settings.SHEBAO_PHOTO_MAX_BYTES // (1024 * 1024),
        "values": request.POST if request.method == "POST" else business.header_initial(ParamSnapshot.load()),
        "results_title": results_title(business),
        "replaceable": list(services.replaceable_batches(request.employer, business)[:REPLACEABLE_SHOWN]),
    }
    # 用新文件替换未提交的批次: the radio posted, or ?replace= from a batch page or a refusal.
    chosen = request.POST.get("replaces") if request.method == "POST" else request.GET.get("replace")
    context["replace_id"] = parse_id(chosen or "")
    if request.method == "GET":
        if context["replace_id"] is not None and context["replace_id"] not in {b.pk for b in context["replaceable"]}:
            context.update(replace_id=None, replace_gone=True)
        return render(request, "batch/upload.html", context)
    file = request.FILES.get("file")
    error = ""
    if file is None:
        error = _("请点击「浏览」选择要上传的文件。")
    elif file.size > settings.SHEBAO_UPLOAD_MAX_BYTES:
        error = reader.FileRefused(
            "FILE_TOO_LARGE", size=reader._mb(file.size), max=reader._mb(settings.SHEBAO_UPLOAD_MAX_BYTES)
        ).message
    checked = services.check_header(business, request.POST)
    header = checked.data
    if not error and has_errors(checked.issues):
        error = " ".join(issue.message() for issue in checked.issues if issue.is_error)
    photos_file = request.FILES.get("photos") if business.photo is not None else None
    if not error and photos_file is not None and photos_file.size > settings.SHEBAO_UPLOAD_MAX_BYTES:
        error = reader.FileRefused(
            "PHOTOS_TOO_LARGE", size=reader._mb(photos_file.size), max=reader._mb(settings.SHEBAO_UPLOAD_MAX_BYTES)
        ).issue.message()
    if not error:
        data = file.read(settings.SHEBAO_UPLOAD_MAX_BYTES + 1)
        photos = photos_file.read(settings.SHEBAO_UPLOAD_MAX_BYTES + 1) if photos_file is not None else None
        try:
            tx = services.batch_upload(
                employer=request.employer,
                actor=request.user,
                business_type=business.code,
                filename=file.name,
                data=data,
                header=header,
                photos=photos,
                photos_filename=photos_file.name if photos_file is not None else "",
                replaces=context["replace_id"],
            )
        except ApplicationError as refusal:
            error = refusal.text()
        else:
            return redirect("batch:detail", pk=tx.pk)
    context["error"] = error
    return render(request, "batch/upload.html", context, status=400)


# --- the import screen ----------------------------------------------------------------------


def _holder_links(request, tx: Transaction, upload: Upload | None) -> list[dict]:
    """This employer's open transactions that held persons of this file, each with a link;
    a saved or returned batch of the type may also be replaced by this file (一键替换)."""
    holders = (upload.lock_holders if upload else None) or {}
    if not holders:
        return []
    open_ids = set(
        Transaction.objects.filter(
            employer=request.employer,
            pk__in=list(holders.values()),
            state__in=(State.IMPORTING, State.SAVED, State.RETURNED, State.AUDITING, State.REVIEW),
        ).values_list("pk", flat=True)
    )
    replaceable = set(
        services.replaceable_batches(request.employer, _business(tx.business_type))
        .filter(pk__in=list(open_ids))
        .exclude(pk=tx.pk)
        .values_list("pk", flat=True)
    )
    return [
        {
            "serial": serial,
            "pk": pk,
            "url": reverse("web:tx_detail", kwargs={"pk": pk}),
            "replaceable": tx.is_editable and pk in replaceable,
        }
        for serial, pk in sorted(holders.items())
        if pk in open_ids
    ]


class _KnownCountPaginator(Paginator):
    """Uses the transaction's own counters when they are exact, instead of COUNT(*) over
    up to 100,000 rows (slow right after a big audit, before the table is vacuumed)."""

    object_list: QuerySet[Item, int]  # the ids of a transaction's rows

    def __init__(self, object_list: QuerySet[Item, int], per_page: int, known: int | None) -> None:
        super().__init__(object_list, per_page)
        self._known = known

    @property
    def count(self) -> int:
        if self._known is None:
            self._known = super().count
        return self._known

    def page(self, number):
        """A page in the second half is read from the end (the ordering reversed), so the
        last page walks 100 index entries, not 100,000 and their dead versions after an
        audit has rewritten every row. The count is exact, so both walks meet."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if self.orphans or bottom <= self.count // 2 or not self.object_list.ordered:
            return super().page(number)
        ids = list(self.object_list.reverse()[self.count - top : self.count - bottom])
        # Paginator._get_page, Django's hook for the page class, is missing from django-stubs.
        return self._get_page(ids[::-1], number, self)  # type: ignore[attr-defined]


def _known_count(tx: Transaction, key: str) -> int | None:
    if tx.state == State.IMPORTING:
        return None
    imported = tx.total_count - tx.import_failed_count
    known = {"all": tx.total_count, "imported": imported, "import_failed": tx.import_failed_count}
    # Audit counters are written when an audit ends (and by a clerk's row decisions).
    if tx.state in (State.REVIEW, State.FINISHED, State.RETURNED):
        known.update(passed=tx.audit_passed_count, failed=tx.audit_failed_count)
    return known.get(key)


@employer_required
@require_GET
def detail(request, pk: int):
    return _render_batch(request, _batch_or_404(request, pk))


def _render_batch(request, tx: Transaction, *, status: int = 200):
    business = _business(tx.business_type)
    upload = Upload.objects.filter(transaction=tx).defer("content", "photos").first()
    audited = tx.state in (State.REVIEW, State.FINISHED) or (
        tx.state == State.RETURNED and (tx.audit_failed_count or tx.audit_passed_count)
    )
    key = request.GET.get("result", "all")
    if key not in FILTERS:
        key = "all"
    rows = (
        Item.objects.filter(transaction=tx, **FILTERS[key][1])
        .order_by("row_no", "id")
        .only(
            "id",
            "row_no",
            "status",
            "id_number",
            "name",
            "data",
            "import_issues",
            "audit_status",
            "audit_issues",
            "applied",
        )
        .annotate(has_photo=ExpressionWrapper(Q(photo__isnull=False), output_field=BooleanField()))
    )
    # Page through ids first (an index-only walk over (transaction, row_no, id)), then load
    # just that page's rows: the last page of 100,000 rows costs no more than the first.
    paginator = _KnownCountPaginator(rows.values_list("id", flat=True), ROWS_PER_PAGE, _known_count(tx, key))
    page = paginator.get_page(request.GET.get("page", "1"))
    page_ids = list(page.object_list)
    by_id = {item.id: item for item in rows.filter(id__in=page_ids)}
    lines = []
    for item in (by_id[i] for i in page_ids):
        issues = issues_from(item.import_issues) + issues_from(item.audit_issues)
        holder = next((i.params.get("tx_id") for i in issues if i.code == "LOCKED_HERE"), None)
        lines.append(
            {
                "item": item,
                "messages": shown(issues),
                "summary": business.summary(item.data),
                "holder_url": reverse("web:tx_detail", kwargs={"pk": holder}) if holder else "",
            }
        )
    export_label = _(business.names.batch_export)
    holders = _holder_links(request, tx, upload)
    context = {
        "tx": tx,
        "business": business,
        "upload": upload,
        "page": page,
        "lines": lines,
        "filters": [(k, label) for k, (label, _q) in FILTERS.items()],
        "current": key,
        "counts": counts(tx),
        "deleted_count": Item.objects.filter(transaction=tx, status=ItemStatus.DELETED).count(),
        "reasons": split(tx.return_reasons)[0],
        "audited": audited,
        "holders": holders,
        "holders_replaceable": any(h["replaceable"] for h in holders),
        "poll": tx.state in (State.IMPORTING, State.AUDITING) and tx.job_failed_at is None,
        "import_given_up": tx.state == State.IMPORTING and tx.job_failed_at is not None,
        "export_xlsx": url_or_empty("exports:form", pk=tx.pk, fmt="xlsx") if business.print_form else "",
        "export_pdf": url_or_empty("exports:form", pk=tx.pk, fmt="pdf") if business.print_form else "",
        "export_label": export_label,
        "events": Event.objects.filter(transaction=tx).select_related("actor").order_by("at", "id"),
        "results_title": results_title(business),
        "takes_photo": business.photo is not None,
        "photo_results": services.photo_results(upload),
        "photo_mb": settings.SHEBAO_PHOTO_MAX_BYTES // (1024 * 1024),
        "replacing": services.replacing_upload(tx) if tx.is_editable else None,
        "replaces": _replaced_batch(tx, upload),
        **materials.page_context(tx, business),
    }
    return render(request, "batch/detail.html", context, status=status)


def _replaced_batch(tx: Transaction, upload: Upload | None) -> Transaction | None:
    """The batch this file replaces (or replaced): named on the import screen."""
    if upload is None or upload.replaces_id is None:
        return None
    return (
        Transaction.objects.filter(pk=upload.replaces_id, employer_id=tx.employer_id)
        .only("id", "serial", "state")
        .first()
    )


@employer_required
@require_http_methods(["GET", "POST"])
def row_photo(request, pk: int, item: int):
    """A row's photo (GET, served only to the employer) and 直接上传 on its row (POST):
    checked and re-encoded like the photo of a single form."""
    tx = _batch_or_404(request, pk)
    if _business(tx.business_type).photo is None:
        raise Http404
    row = Item.objects.filter(transaction=tx, pk=item).exclude(status=ItemStatus.DELETED).only("id", "photo").first()
    if row is None:
        raise Http404
    if request.method == "GET":
        if not row.photo:
            raise Http404
        return private_jpeg(row.photo)
    try:
        jpeg = reencode_uploaded_photo(request.FILES.get("photo"), settings.SHEBAO_PHOTO_MAX_BYTES)
        done = services.batch_set_row_photo(
            tx=tx, actor=request.user, version=posted_version(request), item_id=row.pk, jpeg=jpeg
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        tx.refresh_from_db()
        return _render_batch(request, tx, status=error.status)
    messages.success(request, _("第 %(row)d 行的照片已上传，已转换为 358×441 像素 JPEG。") % {"row": done.row_no})
    query = request.POST.get("return_query", "")
    back = reverse("batch:detail", kwargs={"pk": tx.pk})
    if query.startswith("result=") or query.startswith("page="):
        back = f"{back}?{query}"
    return redirect(f"{back}#row-{done.row_no}")


@employer_required
@require_GET
def status(request, pk: int):
    """Polled every 300 ms while the file is read or the rows are audited."""
    return JsonResponse(status_payload(_batch_or_404(request, pk)))


@employer_required
@require_POST
def action(request, pk: int):
    """删除 / 保存 / 提交审批 / 退单 on the import screen, each one service call."""
    tx = _batch_or_404(request, pk)
    verb = request.POST.get("action", "")
    back = reverse("batch:detail", kwargs={"pk": tx.pk})
    try:
        if verb == "delete":
            ids = parse_ids(request.POST.getlist("items"))
            tx = services.batch_delete_rows(tx=tx, actor=request.user, version=posted_version(request), item_ids=ids)
            messages.success(request, _("已删除 %(n)d 人。") % {"n": len(ids)})
            query = request.POST.get("return_query", "")
            if query.startswith("result=") or query.startswith("page="):
                back = f"{back}?{query}"
        elif verb == "delete_import_failed":
            # Every row that failed import, on every page: one click, after a confirmation.
            ids = list(
                Item.objects.filter(transaction=tx, status=ItemStatus.IMPORT_FAILED).values_list("id", flat=True)
            )
            if not ids:
                raise ApplicationError(_("该批次没有导入失败的人员。"), code="NO_SELECTION")
            tx = services.batch_delete_rows(tx=tx, actor=request.user, version=posted_version(request), item_ids=ids)
            messages.success(request, _("已删除 %(n)d 人。") % {"n": len(ids)})
        elif verb == "save":
            services.batch_save(tx=tx, actor=request.user)
            messages.success(request, _("已保存，可在首页「待办任务列表」中继续办理。"))
        elif verb == "submit":
            engine.transaction_submit(tx=tx, actor=request.user, version=posted_version(request))
            for note in _business(tx.business_type).submit_notes(tx):
                messages.warning(request, note)
        elif verb == "replace_with_file":
            # The refusal's one click: this file again, replacing the batch that held its persons.
            replaces = parse_id(request.POST.get("replaces", ""))
            if replaces is None:
                raise ApplicationError(_("请选择要替换的批次。"), code="BAD_REQUEST")
            new = services.batch_reupload_replacing(
                tx=tx, actor=request.user, version=posted_version(request), replaces=replaces
            )
            messages.success(
                request,
                _("流水号 %(old)s 已作废；本文件正在重新导入（新流水号 %(serial)s），完成后替换未提交的批次。")
                % {"old": tx.serial, "serial": new.serial},
            )
            back = reverse("batch:detail", kwargs={"pk": new.pk})
        elif verb == "cancel":
            engine.transaction_cancel(tx=tx, actor=request.user, version=posted_version(request))
            messages.success(
                request, _("已退单，流水号 %(serial)s 已作废，其中人员可重新办理。") % {"serial": tx.serial}
            )
        else:
            raise ApplicationError(_("未知操作。"), code="BAD_REQUEST")
    except (Conflict, ApplicationError) as error:
        # Refused: the import screen again, saying why, with the status of the refusal.
        messages.error(request, error.message)
        tx.refresh_from_db()
        return _render_batch(request, tx, status=error.status)
    return redirect(back)


# --- failure lists --------------------------------------------------------------------------


@employer_required
@require_GET
def failures(request, pk: int, kind: str):
    """《导入失败人员列表》 / 《审核失败人员列表》 in the template's layout, ready to fix and re-upload."""
    tx = _batch_or_404(request, pk)
    business = _business(tx.business_type)
    if kind not in services.FAILURE_KINDS:
        raise Http404
    title = _(services.FAILURE_KINDS[kind])
    items = services.failure_items(tx, kind)
    handle, _count = sheets.write_failure_list(business, items, audit=kind == "audit", title=str(title))
    name = f"{title}_{tx.serial}.xlsx"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)
    response["Cache-Control"] = "private, no-store"
    return response


# --- result queries -------------------------------------------------------------------------


@employer_required
@require_GET
def results(request, code: str):
    """批量增员审核结果查询 …: every batch of the employer for the business type."""
    business = _business(code)
    query = (
        Transaction.objects.filter(employer=request.employer, business_type=business.code, mode=Mode.BATCH)
        .order_by("-id")
        .defer("header", "return_reasons")
    )
    serial = (request.GET.get("serial") or "").strip()[:24]
    if serial:
        query = query.filter(serial__startswith=serial)
    page = Paginator(query, RESULTS_PER_PAGE).get_page(request.GET.get("page", "1"))
    uploads = {
        u["transaction_id"]: u
        for u in Upload.objects.filter(transaction_id__in=[t.pk for t in page]).values(
            "transaction_id", "filename", "created_at"
        )
    }
    rows = [
        {
            "tx": t,
            "upload": uploads.get(t.pk),
            "audited": t.state in (State.REVIEW, State.FINISHED) or bool(t.audit_failed_count),
        }
        for t in page
    ]
    return render(
        request,
        "batch/results.html",
        {
            "business": business,
            "page": page,
            "rows": rows,
            "title": results_title(business),
            "serial": serial,
            "now": timezone.now(),
        },
    )
