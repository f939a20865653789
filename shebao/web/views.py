"""Employer pages. Thin: parse, authorise (structurally, by employer), call one service, render."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shebao.accounts.scoping import employer_required
from shebao.core import clock
from shebao.core.choices import InsuranceType
from shebao.core.errors import ApplicationError, Conflict, log_reference
from shebao.core.http import posted_version, private_file, private_jpeg, url_or_empty
from shebao.core.images import reencode_uploaded_photo
from shebao.core.months import parse_date
from shebao.core.scans import check_uploaded_scan
from shebao.core.text import list_separator, one_line
from shebao.employers.models import MaterialsChecklist
from shebao.params.services import ParamSnapshot
from shebao.register.choices import BenefitItem, SuspendReason
from shebao.register.models import Person, RelationStatus, Retiree
from shebao.web import reader, selectors
from shebao.web.forms import attach_issues, raw_from_form, spec_form
from shebao.web.sheets import write_persons_xlsx
from shebao.workflow import materials, registry, services, tasklists
from shebao.workflow.models import Attachment, Event, Mode, State, Transaction
from shebao.workflow.registry import Section
from shebao.workflow.rules import has_errors, split
from shebao.workflow.status import status_payload
from shebao.workflow.templatetags.workflow_tags import counts_html, issues_html

PAGE_SIZE = 20
log = logging.getLogger(__name__)


def _business_or_404(code: str) -> registry.BusinessType:
    try:
        return registry.get(code)
    except KeyError:
        raise Http404 from None


def _tx_or_404(request, pk: int) -> Transaction:
    # Scoped by the employer: another employer's transaction does not exist for this user.
    return get_object_or_404(
        Transaction.objects.select_related("employer", "employer__office", "operator"), pk=pk, employer=request.employer
    )


@require_GET
def root(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    from shebao.accounts.landing import home_for

    return redirect(home_for(request.user))


@employer_required
@require_GET
def home(request):
    """首页: 待办任务列表 and 已办任务列表, each filterable and paginated.

    The two lists are the most visited part of the service hall. Their HTML is cached under
    the employer's task-list version (taken before the lists are queried, see
    shebao.workflow.tasklists), the language and the query string, so a page viewed again
    before anything of the employer changed costs no list query at all.
    """
    type_labels = dict(registry.choices())
    filters, errors = _list_filters(request)
    if errors:
        return render(
            request,
            "web/home.html",
            {
                "lists_html": "",
                "types": list(type_labels.items()),
                "filters": request.GET,
                "filter_errors": errors,
            },
            status=400,
        )
    key = _task_lists_key(request)
    lists_html = cache.get(key)
    if lists_html is None:
        lists_html = _render_task_lists(request, type_labels, filters)
        cache.set(key, lists_html, settings.SHEBAO_TASK_LIST_CACHE_SECONDS)
    return render(
        request,
        "web/home.html",
        {
            "lists_html": lists_html,
            "types": list(type_labels.items()),
            "filters": request.GET,
        },
    )


# The dates the task-list filters accept: every date a transaction can carry, far from the
# ends of Python's calendar (0001-01-01 in Asia/Shanghai is before the first UTC datetime,
# and the day after 9999-12-31 does not exist).
FILTER_FIRST_DATE, FILTER_LAST_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)


def _list_filters(request) -> tuple[dict, list[str]]:
    """The task lists' filters, and a message for each date that is not one the lists can hold."""
    errors = []
    dates = {}
    for key, label in (("from", _("起始日期")), ("to", _("截止日期"))):
        text = request.GET.get(key, "").strip()
        value = parse_date(text) if text else None
        if text and (value is None or not FILTER_FIRST_DATE <= value <= FILTER_LAST_DATE):
            errors.append(
                _("「%(label)s」应为 %(first)s 至 %(last)s 之间的日期（年-月-日），请修改后重新查询。")
                % {"label": label, "first": FILTER_FIRST_DATE.isoformat(), "last": FILTER_LAST_DATE.isoformat()}
            )
            value = None
        dates[key] = value
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        errors.append(
            _("「起始日期」%(first)s 晚于「截止日期」%(last)s，请调整后重新查询。")
            % {"first": dates["from"].isoformat(), "last": dates["to"].isoformat()}
        )
    filters = {
        "business_type": request.GET.get("type", ""),
        "serial": request.GET.get("serial", "")[:24],
        "person": one_line(request.GET.get("person", "")).strip()[:50],
        "date_from": dates["from"],
        "date_to": dates["to"],
    }
    return filters, errors


def _task_lists_key(request) -> str:
    version = tasklists.version_of(request.employer)
    query = hashlib.sha256(urlencode(sorted(request.GET.lists()), doseq=True).encode()).hexdigest()[:32]
    return f"tasklists:{request.employer.pk}:{version}:{get_language()}:{query}"


def _render_task_lists(request, type_labels: dict, filters: dict) -> str:
    lists = []
    url_prefix = reverse("web:tx_detail", kwargs={"pk": 0}).removesuffix("0/")
    labels = _RowLabels()
    for key, done, title in (("todo", False, _("待办任务列表")), ("done", True, _("已办任务列表"))):
        page_number = request.GET.get(f"{key}_page", "1")
        paginator = Paginator(selectors.task_list(request.employer, done=done, **filters), PAGE_SIZE)
        page = paginator.get_page(page_number)
        rows = [labels.row(tx, url_prefix, type_labels, done) for tx in page.object_list]
        lists.append({"key": key, "title": title, "page": page, "rows": rows})
    return render_to_string("web/_task_lists.html", {"lists": lists, "request": request})


class _RowLabels:
    """Task-list rows rendered in Python: the labels of a state are computed once per page.

    The task lists are the most visited page. Rendering 40 rows through the template engine
    (model properties, URL reversing, filters, per-cell escaping) cost more than all the
    queries together, so each row is one format_html call (which escapes every value).
    """

    def __init__(self) -> None:
        self._by_state: dict[tuple, tuple] = {}
        self._modes = {value: str(label) for value, label in Mode.choices}
        self._open, self._view = _("办理"), _("查看")

    def row(self, tx: Transaction, url_prefix: str, type_labels: dict, done: bool) -> str:
        key = (tx.state, tx.returned)
        if key not in self._by_state:
            self._by_state[key] = (tx.business_status_label, tx.returned_flag_label, tx.approval_label)
        status, returned_flag, approval = self._by_state[key]
        when = tx.submitted_at if done else (tx.saved_at or tx.created_at)
        url = f"{url_prefix}{tx.pk}/"
        flag = format_html('<span class="badge bad">{}</span>', returned_flag) if tx.returned else returned_flag
        reasons = issues_html(split(tx.return_reasons)[0]) if tx.return_reasons else ""
        result = ""
        if tx.state == State.FINISHED:
            result = format_html('<span class="badge ok">{}</span>', approval)
            if tx.mode == Mode.BATCH:
                result = format_html(
                    "{} {}", result, counts_html(tx.applied_count, tx.audit_failed_count, tx.import_failed_count)
                )
        elif approval:
            result = format_html('<span class="badge run">{}</span>', approval)
        outcome_text, tone = tx.outcome
        outcome = format_html('<span class="badge {}">{}</span>', tone, outcome_text) if outcome_text else "—"
        return format_html(
            '<tr data-serial="{serial}"><td><a href="{url}">{serial}</a></td><td>{type}</td><td>{mode}</td>'
            '<td class="num">{count}</td><td>{time}</td><td>{status}</td><td>{flag}</td><td>{reasons}</td>'
            '<td>{result}</td><td data-testid="outcome">{outcome}</td>'
            '<td><a class="button" href="{url}">{action}</a></td></tr>',
            serial=tx.serial or "",
            url=url,
            type=type_labels.get(tx.business_type, tx.business_type),
            mode=self._modes[tx.mode],
            count=tx.total_count,
            time=timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else "",
            status=status,
            flag=flag,
            reasons=reasons,
            result=result,
            outcome=outcome,
            action=self._open if tx.is_editable else self._view,
        )


@employer_required
@require_GET
def business(request, code: str):
    """A business module's landing: 单个办理 / 批量办理."""
    business = _business_or_404(code)
    return render(
        request,
        "web/business.html",
        {
            "business": business,
            "batch_links": {
                "template": url_or_empty("batch:template", code=code),
                "upload": url_or_empty("batch:upload", code=code),
                "results": url_or_empty("batch:results", code=code),
                "results_title": business.result_query_label,
            }
            if business.batch
            else None,
        },
    )


HEADER_SECTION = Section(gettext_noop("申报信息"), ())


def _specs(business) -> list:
    """Every field the form shows: the header's (asked once per transaction), then the row's."""
    return [*business.header_fields, *business.fields]


def _split(business, raw: dict) -> tuple[dict, dict]:
    """The posted values: (header, row)."""
    names = {spec.name for spec in business.header_fields}
    return {k: v for k, v in raw.items() if k in names}, {k: v for k, v in raw.items() if k not in names}


def _sections(business, form, tables: dict | None = None) -> list[dict]:
    """The form's fieldsets as the business type declares them, each with its preview."""
    groups = [(HEADER_SECTION, list(business.header_fields))] if business.header_fields else []
    groups += business.form_sections()
    out = []
    for section, specs in groups:
        preview = business.preview(section.preview) if section.preview else None
        out.append(
            {
                "label": section.label,
                "fields": [(form[spec.name], spec) for spec in specs],
                "preview": preview,
                "table": (tables or {}).get(preview.key) if preview else None,
            }
        )
    return out


def _preview_tables(business, params, data: dict, employer, issues=()) -> dict:
    """The previews of a row whose fields they need have no error. A preview that raises on
    a row is left out (and logged): it never takes the form or the transaction page down."""
    tables = {}
    for preview in business.previews:
        if has_errors([i for i in issues if i.field in preview.needs]):
            continue
        try:
            tables[preview.key] = preview.compute(params, data, employer)
        except Exception:
            log_reference(log, "preview %s of %s raised", preview.key, business.code)
    return tables


def _form_context(request, business, form, tx=None, general=None, lock=None, tables=None):
    return {
        "business": business,
        "form": form,
        "tx": tx,
        "general": general or [],
        "lock": lock,
        "sections": _sections(business, form, tables),
    }


@employer_required
@require_http_methods(["GET", "POST"])
def single_new(request, code: str):
    """单个办理: enter the data, then 保存 creates the transaction."""
    business = _business_or_404(code)
    if not business.single:
        raise Http404
    if request.method == "POST":
        header, raw = _split(business, raw_from_form(_specs(business), request.POST))
        try:  # the photo a 读卡器 read put on the form, checked again before anything is saved
            reader_jpeg = reader.posted_photo(request, business)
        except ApplicationError as error:
            form = spec_form(_specs(business), data=request.POST)
            context = _form_context(request, business, form, general=[error.message])
            return render(request, "web/single_form.html", context, status=422)
        result = services.transaction_save_single(
            employer=request.employer, actor=request.user, business_type=code, raw=raw, header=header
        )
        if result.transaction is not None:  # result.ok, in terms the type of result.transaction follows
            reader.attach(result.transaction, request.user, reader_jpeg)
            messages.success(
                request, _("已保存，流水号 %(serial)s。请核对后提交审批。") % {"serial": result.transaction.serial}
            )
            return redirect("web:tx_detail", pk=result.transaction.pk)
        form = spec_form(_specs(business), data=request.POST)
        general = attach_issues(form, result.issues)
        return render(
            request,
            "web/single_form.html",
            _form_context(request, business, form, general=general, lock=result.lock),
            status=422,
        )
    picked = None
    if "person" in request.GET:
        picked = _resume_initial(request, business)
    defaults = {spec.name: spec.default for spec in _specs(business) if spec.default}
    initial = {
        **defaults,
        **business.header_initial(ParamSnapshot.load()),
        **business.initial(request.employer),
        **(picked or {}),
    }
    form = spec_form(_specs(business), initial=initial)
    context = _form_context(request, business, form)
    if business.picks_person:
        context.update(_person_search(request, picked=picked is not None))
    return render(request, "web/single_form.html", context)


PICK_SHOWN = 20


def _person_search(request, *, picked: bool) -> dict:
    """单个办理's search of this employer's contributing persons by name or ID number; each
    match links back to the form filled for that person."""
    q = (request.GET.get("q") or "").strip()[:50]
    matches = []
    if q:
        matches = list(selectors.employer_persons(request.employer, q, RelationStatus.CONTRIBUTING)[: PICK_SHOWN + 1])
    return {"pick": {"q": q, "matches": matches[:PICK_SHOWN], "more": len(matches) > PICK_SHOWN, "picked": picked}}


def _resume_initial(request, business) -> dict[str, str]:
    """续保 from 参保人员 (or the pick of 单个办理's search): the form filled from the register
    for a person of this employer (another employer's person, or a type that neither
    resumes nor picks: 404)."""
    if not (business.resumes or business.picks_person):
        raise Http404
    try:
        pk = int(request.GET["person"])
    except ValueError:
        raise Http404 from None
    person = get_object_or_404(Person.objects.filter(relations__employer=request.employer).distinct(), pk=pk)
    return business.prefill(person, request.employer)


@employer_required
@require_POST
def check_fields(request, code: str):
    """Row rules while the user types: issues per field, and the back-payment preview."""
    business = _business_or_404(code)
    params = ParamSnapshot.load()
    header, raw = _split(business, raw_from_form(_specs(business), request.POST))
    head = business.check_header(header, params) if business.header_fields else None
    header_data = head.data if head else {}
    result = registry.check_row_safely(business, {**header_data, **raw}, params, request.employer, where="live check")
    registry.check_known_rows_safely(business, [result], request.employer, where="live check")
    touched = set(request.POST.getlist("_touched"))
    fields: dict[str, list[dict]] = {}
    for issue in [*(head.issues if head else []), *result.issues]:
        if touched and issue.field not in touched:
            continue
        fields.setdefault(issue.field, []).append(
            {"code": issue.code, "severity": issue.severity.value, "message": issue.message()}
        )
    tables = _preview_tables(business, params, {**header_data, **result.data}, request.employer, result.issues)
    # What a valid ID number says (a resident card's sex and birth date): the form fills the
    # fields of the same name that the person has not filled in.
    specs = {spec.name for spec in business.fields}
    fill = {name: value for name, value in result.derived.items() if name in specs and value}
    payload = {
        "fields": fields,
        "fill": fill,
        "previews": {
            key: {"rows": table.rows, "totals": table.totals, "notes": table.notes} for key, table in tables.items()
        },
    }
    return JsonResponse(payload)


@employer_required
@require_GET
def tx_detail(request, pk: int):
    """The transaction page: edit, 保存, 提交审批, 退单, 撤回, the result and its history."""
    tx = _tx_or_404(request, pk)
    if tx.mode == Mode.BATCH:
        url = url_or_empty("batch:detail", pk=tx.pk)
        if url:
            return redirect(url)
    return _render_tx(request, tx)


def _render_tx(request, tx: Transaction, *, form=None, general=None, lock=None, status: int = 200):
    business = _business_or_404(tx.business_type)
    item = tx.items.order_by("row_no").first()
    if form is None:
        form = spec_form(_specs(business), initial={**(tx.header or {}), **(item.data if item else {})})
        if item and tx.state == State.RETURNED:
            general = (general or []) + attach_issues(form, [])
    stored = (item.audit_issues or item.import_issues) if item else []
    checklist = None
    if tx.state == State.REVIEW and not tx.employer.is_vip:
        checklist = _checklist(tx, business)
    tables = (
        _preview_tables(business, ParamSnapshot.load(), {**(tx.header or {}), **item.data}, tx.employer) if item else {}
    )
    context = _form_context(request, business, form, tx=tx, general=general, lock=lock, tables=tables)
    context.update(
        {
            "item": item,
            "reasons": split(tx.return_reasons)[0],
            "warnings": split(stored)[1],
            "events": Event.objects.filter(transaction=tx).select_related("actor"),
            "checklist": checklist,
            "export_xlsx": url_or_empty("exports:form", pk=tx.pk, fmt="xlsx") if business.print_form else "",
            "export_label": _(business.names.single_export),
            "photo_title": _(business.photo.title) if business.photo else "",
            "photo_missing": _(business.photo.missing) if business.photo else "",
            "export_pdf": url_or_empty("exports:form", pk=tx.pk, fmt="pdf") if business.print_form else "",
            "poll": tx.state in (State.AUDITING,),
            "has_photo": bool(item and item.photo),
            "photo_stamp": tx.version,
            **materials.page_context(tx, business),
        }
    )
    return render(request, "web/tx_detail.html", context, status=status)


@employer_required
@require_POST
def tx_action(request, pk: int):
    """保存 / 提交审批 / 退单 / 撤回, each one service call with the version the user saw."""
    tx = _tx_or_404(request, pk)
    action = request.POST.get("action", "")
    business = _business_or_404(tx.business_type)
    try:
        version = posted_version(request)
        if action == "save":
            header, raw = _split(business, raw_from_form(_specs(business), request.POST))
            result = services.transaction_save_single(
                employer=request.employer,
                actor=request.user,
                business_type=tx.business_type,
                raw=raw,
                header=header,
                tx=tx,
                version=version,
            )
            if not result.ok:
                form = spec_form(_specs(business), data=request.POST)
                general = attach_issues(form, result.issues)
                return _render_tx(request, tx, form=form, general=general, lock=result.lock, status=422)
            messages.success(request, _("已保存。"))
        elif action == "submit":
            services.transaction_submit(tx=tx, actor=request.user, version=version)
            for note in business.submit_notes(tx):
                messages.warning(request, note)
        elif action == "cancel":
            services.transaction_cancel(tx=tx, actor=request.user, version=version)
            messages.success(request, _("已退单，流水号 %(serial)s 已作废，可重新办理。") % {"serial": tx.serial})
            return redirect("web:home")
        elif action == "withdraw":
            services.transaction_withdraw(tx=tx, actor=request.user, version=version)
            messages.success(request, _("已撤回，业务回到待办任务列表，可修改后重新提交。"))
        else:
            raise ApplicationError(_("未知操作。"), code="BAD_REQUEST")
    except Conflict as error:
        messages.error(request, error.message)
        tx.refresh_from_db()
        return _render_tx(request, tx, status=409)
    except ApplicationError as error:
        messages.error(request, error.message)
        tx.refresh_from_db()
        return _render_tx(request, tx, status=400)
    return redirect("web:tx_detail", pk=tx.pk)


@employer_required
@require_GET
def tx_status(request, pk: int):
    """Polled by the result screen while the audit runs."""
    return JsonResponse(status_payload(_tx_or_404(request, pk)))


@employer_required
@require_http_methods(["GET", "POST"])
def tx_photo(request, pk: int):
    """直接上传 (POST) and the photo itself (GET), served only to the employer."""
    tx = _tx_or_404(request, pk)
    item = tx.items.filter(row_no=1).first()
    if item is None or _business_or_404(tx.business_type).photo is None:
        raise Http404
    if request.method == "GET":
        if not item.photo:
            raise Http404
        return private_jpeg(item.photo)
    try:
        jpeg = reencode_uploaded_photo(request.FILES.get("photo"), settings.SHEBAO_PHOTO_MAX_BYTES)
        services.item_set_photo(tx=tx, actor=request.user, version=posted_version(request), jpeg=jpeg)
        messages.success(request, _("照片已上传，已转换为 358×441 像素 JPEG，见下方“照片”。"))
    except Conflict as error:
        messages.error(request, error.message)
        return _render_tx(request, tx, status=409)
    except ApplicationError as error:
        messages.error(request, error.message)
        return _render_tx(request, tx, status=400)
    return redirect(f"{reverse('web:tx_detail', kwargs={'pk': tx.pk})}#photo")


def _back_to_tx(tx: Transaction):
    return redirect(f"{reverse('web:tx_detail', kwargs={'pk': tx.pk})}#attachments")


def _attachment_refused(request, tx: Transaction, error: ApplicationError):
    """A refused upload or removal: said on the transaction's page (a batch's has its own)."""
    messages.error(request, error.message)
    if tx.mode == Mode.BATCH:
        return _back_to_tx(tx)
    tx.refresh_from_db()
    return _render_tx(request, tx, status=409 if isinstance(error, Conflict) else 400)


@employer_required
@require_POST
def attachment_upload(request, pk: int):
    """上传材料: a scan checked by its content and attached for the chosen 材料名称."""
    tx = _tx_or_404(request, pk)
    try:
        scan = check_uploaded_scan(
            request.FILES.get("file"),
            max_bytes=settings.SHEBAO_ATTACHMENT_MAX_BYTES,
            max_pages=settings.SHEBAO_ATTACHMENT_MAX_PAGES,
        )
        attachment = services.attachment_add(
            tx=tx, actor=request.user, material=request.POST.get("material", ""), scan=scan
        )
    except ApplicationError as error:
        return _attachment_refused(request, tx, error)
    messages.success(
        request,
        _("已上传「%(name)s」（%(material)s）。") % {"name": attachment.name, "material": _(attachment.material)},
    )
    return _back_to_tx(tx)


@employer_required
@require_POST
def attachment_remove(request, pk: int, att: int):
    """删除材料: hidden from the transaction, kept in its history."""
    tx = _tx_or_404(request, pk)
    get_object_or_404(Attachment.objects.filter(transaction=tx).only("pk"), pk=att)
    try:
        attachment = services.attachment_remove(tx=tx, actor=request.user, attachment_id=att)
    except ApplicationError as error:
        return _attachment_refused(request, tx, error)
    messages.success(request, _("已删除「%(name)s」。") % {"name": attachment.name})
    return _back_to_tx(tx)


@employer_required
@require_GET
def attachment_file(request, pk: int, att: int):
    """An attached scan, to the employer whose transaction it is (anyone else: 404):
    shown in the browser, or downloaded with ?download=1."""
    tx = _tx_or_404(request, pk)
    attachment = get_object_or_404(Attachment.objects.filter(transaction=tx, removed_at__isnull=True), pk=att)
    return private_file(
        attachment.data,
        content_type=attachment.content_type,
        filename=attachment.name,
        as_attachment=request.GET.get("download") == "1",
    )


PERSONS_PAGE_SIZE = 50


def _persons_filters(request) -> tuple[str, str, list[str]]:
    """The 参保人员 filters (姓名或证件号码, 参保状态) and what is wrong with them."""
    q = request.GET.get("q", "")[:50]
    status = request.GET.get("status", "")
    errors = []
    if status and status not in RelationStatus.values:
        errors.append(_("「参保状态」只能选择 参保缴费、暂停缴费 或 终止。"))
        status = ""
    return q, status, errors


def _label_persons(persons) -> None:
    """Display texts of the list's rows, in the reader's language."""
    separator = list_separator()
    for person in persons:
        person.status_label = RelationStatus(person.here_status).label
        person.insurance_label = separator.join(str(InsuranceType(c).label) for c in person.insurance_types)
        person.end_reason_label = SuspendReason(person.end_reason).label if person.end_reason else ""


@employer_required
@require_GET
def persons(request):
    """参保人员: every person of the employer with their status here, in pinyin order;
    a suspended person offers 续保 (the resuming type's single form, filled from the register)."""
    q, status, errors = _persons_filters(request)
    if errors:
        page = Paginator(Person.objects.none(), PERSONS_PAGE_SIZE).get_page(1)
    else:
        query = selectors.employer_persons(request.employer, q, status)
        page = Paginator(query, PERSONS_PAGE_SIZE).get_page(request.GET.get("page", "1"))
        selectors.attach_relations(page.object_list, request.employer)
        _label_persons(page.object_list)
    resuming = registry.resuming()
    export_query = urlencode({k: v for k, v in (("q", q), ("status", status)) if v})
    return render(
        request,
        "web/persons.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": RelationStatus.choices,
            "filter_errors": errors,
            "resume_url": reverse("web:single_new", kwargs={"code": resuming.code}) if resuming else "",
            "export_url": reverse("web:persons_export") + (f"?{export_query}" if export_query else ""),
        },
        status=400 if errors else 200,
    )


@employer_required
@require_GET
def retirees(request):
    """退休人员: the employer's retirees (declared by 退休人员待遇申报), their benefit items and
    monthly total; the bank account shown masked."""
    q = (request.GET.get("q") or "").strip()[:50]
    page = Paginator(selectors.employer_retirees(request.employer, q), PERSONS_PAGE_SIZE).get_page(
        request.GET.get("page", "1")
    )
    rows = []
    for retiree in page.object_list:
        benefits = sorted(retiree.benefits.all(), key=lambda b: BENEFIT_ORDER.get(b.item, len(BENEFIT_ORDER)))
        by_item = {b.item: b.monthly for b in benefits}
        rows.append(
            {
                "retiree": retiree,
                "amounts": [(by_item.get(code), label) for code, label in BenefitItem.choices],
                "total": sum((b.monthly for b in benefits), Decimal("0.00")),
                "account": mask_account(retiree.account),
            }
        )
    return render(
        request, "web/retirees.html", {"page": page, "rows": rows, "q": q, "benefit_items": BenefitItem.choices}
    )


BENEFIT_ORDER = {code: n for n, code in enumerate(BenefitItem.values)}


def mask_account(account: str) -> str:
    """6222020200012345678 as 6222 **** 5678: enough to recognise, not to reuse."""
    if len(account) <= 8:
        return account
    return f"{account[:4]} **** {account[-4:]}"


@employer_required
@require_GET
def persons_export(request):
    """The 参保人员 list as filtered, as an .xlsx file."""
    q, status, errors = _persons_filters(request)
    if errors:
        messages.error(request, errors[0])
        return redirect("web:persons")
    query = selectors.employer_persons(request.employer, q, status)
    out = tempfile.TemporaryFile()
    write_persons_xlsx(_labelled_chunks(query, request.employer), out)
    out.seek(0)
    name = _("参保人员") + f"-{request.employer.number}-{clock.today():%Y%m%d}.xlsx"
    return FileResponse(
        out,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _labelled_chunks(query, employer, size: int = 2000):
    """The persons of the export, their relations attached a chunk at a time."""
    chunk = []
    for person in query.iterator(chunk_size=size):
        chunk.append(person)
        if len(chunk) == size:
            selectors.attach_relations(chunk, employer)
            _label_persons(chunk)
            yield from chunk
            chunk = []
    selectors.attach_relations(chunk, employer)
    _label_persons(chunk)
    yield from chunk


@employer_required
@require_GET
def person_detail(request, pk: int):
    """A person's history at this employer: status, relations (enrolments and suspensions),
    bases by year and the transactions that took effect. Another employer's person: 404."""
    query = selectors.employer_persons(request.employer).filter(pk=pk)
    person = get_object_or_404(query)
    selectors.attach_relations([person], request.employer)
    _label_persons([person])
    history = selectors.person_history(person, request.employer)
    resuming = registry.resuming()
    # The retirement this employer declared (another employer's is not this page's business).
    retiree = Retiree.objects.filter(person=person, employer=request.employer).prefetch_related("benefits").first()
    return render(
        request,
        "web/person_detail.html",
        {
            "person": person,
            "retiree": retiree,
            "retiree_total": sum((b.monthly for b in retiree.benefits.all()), Decimal("0.00")) if retiree else None,
            "relations": history["relations"],
            "bases": history["bases"],
            "transactions": [
                {"tx": tx, "label": registry.label_of(tx.business_type), "summary": _summary(tx, item)}
                for tx, item in history["transactions"]
            ],
            "resume_url": reverse("web:single_new", kwargs={"code": resuming.code}) + f"?person={person.pk}"
            if resuming and getattr(person, "here_status", "") == RelationStatus.SUSPENDED
            else "",
        },
    )


def _summary(tx: Transaction, item) -> str:
    business = registry.find(tx.business_type)
    try:
        return business.summary(item.data or {}) if business else ""
    except Exception:
        log_reference(log, "summary of %s raised", tx.business_type)
        return ""


def _checklist(tx: Transaction, business) -> list[str]:
    """What an ordinary employer brings: the office's checklist, the agency's, or the one
    the business type declares."""
    stored = (
        MaterialsChecklist.objects.filter(office=tx.employer.office, business_type=tx.business_type).first()
        or MaterialsChecklist.objects.filter(office__isnull=True, business_type=tx.business_type).first()
    )
    if stored is not None:
        return stored.item_list()
    return [_(msgid) for msgid in business.materials]
