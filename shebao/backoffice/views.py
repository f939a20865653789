"""The clerk's pages (经办机构审核): the review queue, the transaction detail and its actions.

A clerk sees only transactions of employers of their own district; anything else is a 404.
Every action goes through the workflow services, which guard the state and the version:
a second clerk acting on a transaction gets HTTP 409 saying who acted, when and how.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.forms import ChoiceField
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shebao.accounts.models import Membership
from shebao.accounts.scoping import clerk_required
from shebao.backoffice.forms import (
    ApproveForm,
    CancelForm,
    MarkFailedForm,
    QueueFilterForm,
    QueueFilters,
    ReturnForm,
    RowFilterForm,
)
from shebao.core.choices import InsuranceType
from shebao.core.errors import ApplicationError, Conflict, NotFound
from shebao.core.http import parse_id, private_file, private_jpeg
from shebao.workflow import materials, registry, services
from shebao.workflow.models import (
    EDITABLE_STATES,
    Attachment,
    AuditStatus,
    Item,
    ItemStatus,
    Mode,
    State,
    Transaction,
)
from shebao.workflow.rules import list_separator, split

PAGE_SIZE = 50
ROW_PAGE_SIZE = 50
# A draft untouched this long is listed as stale (the automatic expiry comes later, by parameter).
DEFAULT_STALE_DAYS = 7


# --- helpers --------------------------------------------------------------------------------


def _business(code: str):
    try:
        return registry.get(code)
    except KeyError:
        return None


def business_label(code: str) -> str:
    return registry.label_of(code)


def _district(request):
    """Every clerk query starts here: transactions of the clerk's own district."""
    return Transaction.objects.filter(employer__office_id=request.user.office_id)


def _get_tx(request, pk: int) -> Transaction:
    return get_object_or_404(_district(request).select_related("employer", "employer__office", "operator"), pk=pk)


def _state_label(value: str) -> str:
    try:
        return str(State(value).label)
    except ValueError:
        return value or ""


def _display(spec, value: str) -> str:
    """A stored code shown with its label, in the reader's language."""
    if value in (None, ""):
        return ""
    if spec.kind == "insurance":
        labels = []
        for code in str(value).split(","):
            try:
                labels.append(str(InsuranceType(code).label))
            except ValueError:
                labels.append(code)
        return list_separator().join(labels)
    if spec.choices is not None:
        try:
            return str(spec.choices(value).label)
        except ValueError:
            return str(value)
    return str(value)


def _row(item: Item, fields: list) -> dict:
    values = [
        {"name": spec.name, "label": spec.label, "value": _display(spec, item.data.get(spec.name, ""))}
        for spec in fields
    ]
    # The audit re-runs the row rules, so once audited its list is the current one; before
    # that, the warnings found at save or import.
    audited = item.audit_status in (AuditStatus.PASSED, AuditStatus.FAILED)
    stored = item.audit_issues if audited else item.import_issues
    errors, warnings = split(stored)
    return {"item": item, "values": values, "errors": errors, "warnings": warnings}


def _items(tx: Transaction):
    return (
        Item.objects.filter(transaction=tx)
        .defer("photo")
        .annotate(has_photo=ExpressionWrapper(Q(photo__isnull=False), output_field=BooleanField()))
    )


def _history(tx: Transaction) -> list[dict]:
    out = []
    for event in tx.events.select_related("actor").order_by("at", "id"):
        actor = event.actor
        reasons = split((event.detail or {}).get("reasons", []))[0]
        out.append(
            {
                "at": event.at,
                "actor": (actor.get_full_name() or actor.username) if actor else _("系统"),
                "via": services.event_via(event.detail) if actor else "",
                "action": services.event_label(event.action, event.detail),
                "counts": services.event_counts(event.detail),
                "from_state": _state_label(event.from_state),
                "to_state": _state_label(event.to_state),
                "reason": event.reason,
                "reasons": reasons,
            }
        )
    return out


def _safe_page(value) -> int:
    try:
        return max(1, min(int(value), 10**6))
    except (TypeError, ValueError):
        return 1


# --- the queue ------------------------------------------------------------------------------


@clerk_required
def queue(request):
    form = QueueFilterForm(request.GET or None)
    f: QueueFilters = (
        form.cleaned()
        if request.GET
        else {"tab": QueueFilterForm.TAB_REVIEW, "serial": "", "employer": "", "days": None}
    )
    district = _district(request)
    if f["serial"]:
        # A scanned barcode (or a typed serial) opens the transaction at once.
        exact = list(district.filter(serial=f["serial"]).values_list("pk", flat=True)[:2])
        if len(exact) == 1:
            return redirect("backoffice:detail", pk=exact[0])
    stale = f["tab"] == QueueFilterForm.TAB_STALE
    days = f["days"] if f["days"] is not None else DEFAULT_STALE_DAYS
    if stale:
        cutoff = timezone.now() - dt.timedelta(days=days)
        rows = district.filter(state__in=EDITABLE_STATES, touched_at__lt=cutoff).order_by("touched_at", "id")
    else:
        rows = district.filter(state=State.REVIEW).order_by("submitted_at", "id")
    if f["serial"]:
        rows = rows.filter(serial__contains=f["serial"])
    if f["employer"]:
        rows = rows.filter(employer__number__startswith=f["employer"])
    rows = rows.select_related("employer")
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    if f["serial"] and paginator.count == 1:
        return redirect("backoffice:detail", pk=page.object_list[0].pk)
    for tx in page.object_list:
        tx.business_label = business_label(tx.business_type)
    params = {
        k: v
        for k, v in {
            "tab": f["tab"],
            "serial": f["serial"],
            "employer": f["employer"],
            "days": days if stale else "",
        }.items()
        if v not in ("", None)
    }
    return render(
        request,
        "backoffice/queue.html",
        {
            "form": form if request.GET else QueueFilterForm(initial={"tab": f["tab"]}),
            "page": page,
            "stale": stale,
            "days": days,
            "filters": f,
            "query": urlencode(params),
            "review_tab": urlencode({"tab": QueueFilterForm.TAB_REVIEW}),
            "stale_tab": urlencode({"tab": QueueFilterForm.TAB_STALE, "days": days}),
        },
    )


# --- the transaction ------------------------------------------------------------------------


def _render_detail(
    request, tx: Transaction, *, status: int = 200, error: str = "", conflict: bool = False, forms: dict | None = None
):
    business = _business(tx.business_type)
    fields = [*business.fields, *business.review_fields] if business else []
    filter_form = RowFilterForm(request.GET or None)
    result = RowFilterForm.ALL
    if request.GET and filter_form.is_valid():
        result = filter_form.cleaned_data.get("result") or RowFilterForm.ALL
    ctx = {
        "tx": tx,
        "employer": tx.employer,
        "business_label": business_label(tx.business_type),
        "header_values": [
            (spec.label, _display(spec, (tx.header or {}).get(spec.name, "")))
            for spec in (business.header_fields if business else [])
        ],
        "is_batch": tx.mode == Mode.BATCH,
        "history": _history(tx),
        "return_reasons": split(tx.return_reasons)[0],
        "error": error,
        "conflict": conflict,
        "in_review": tx.state == State.REVIEW,
        "stale_draft": tx.state in EDITABLE_STATES,
        "is_member": Membership.objects.filter(user=request.user, employer_id=tx.employer_id, active=True).exists(),
        "approve_form": ApproveForm(initial={"version": tx.version}),
        "return_form": ReturnForm(initial={"version": tx.version}),
        "cancel_form": CancelForm(initial={"version": tx.version}),
        "result": result,
        "attachments": list(materials.attached(tx)),
        "checklist": [_(m) for m in materials.checklist(tx, business)] if business else [],
    }
    ctx.update(forms or {})
    review_event = tx.events.filter(action="to_review").order_by("-at", "-id").first()
    ctx["review_reason"] = review_event.reason if review_event else ""
    items = _items(tx)
    if tx.mode == Mode.BATCH:
        rows = items.filter(status=ItemStatus.IMPORTED)
        if result == RowFilterForm.PASSED:
            rows = rows.filter(audit_status=AuditStatus.PASSED)
        elif result == RowFilterForm.FAILED:
            rows = rows.filter(audit_status=AuditStatus.FAILED)
        paginator = Paginator(rows.order_by("row_no", "id"), ROW_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        ctx["rows"] = [_row(item, fields) for item in page.object_list]
        ctx["row_page"] = page
        ctx["row_query"] = urlencode({"result": result})
        ctx["columns"] = [spec.label for spec in fields]
    else:
        item = items.exclude(status=ItemStatus.DELETED).order_by("row_no", "id").first()
        ctx["single"] = _row(item, fields) if item is not None else None
    return render(request, "backoffice/detail.html", ctx, status=status)


@clerk_required
def detail(request, pk: int):
    return _render_detail(request, _get_tx(request, pk))


@clerk_required
def photo(request, pk: int):
    tx = get_object_or_404(_district(request).only("pk"), pk=pk)
    items = Item.objects.filter(transaction=tx, photo__isnull=False)
    item_id = request.GET.get("item", "")
    if item_id:
        item_pk = parse_id(item_id)
        if item_pk is None:
            raise Http404
        items = items.filter(pk=item_pk)
    item = items.order_by("row_no", "id").only("photo").first()
    if item is None or not item.photo:
        raise Http404
    return private_jpeg(item.photo)


@clerk_required
def attachment(request, pk: int, att: int):
    """An attached scan, to a clerk of the employer's district (anyone else: 404, as the
    detail): shown in the browser, ?preview=1 its small JPEG, ?download=1 downloaded."""
    tx = get_object_or_404(_district(request).only("pk"), pk=pk)
    query = Attachment.objects.filter(transaction=tx, removed_at__isnull=True)
    if request.GET.get("preview") == "1":
        found = get_object_or_404(query.only("preview"), pk=att)
        if not found.preview:
            raise Http404
        return private_jpeg(found.preview)
    found = get_object_or_404(query, pk=att)
    return private_file(
        found.data,
        content_type=found.content_type,
        filename=found.name,
        as_attachment=request.GET.get("download") == "1",
    )


def _act(request, tx: Transaction, action, *, success: str, next_url: str, forms: dict | None = None):
    """Run one service; show a refusal on the page with the right status code."""
    try:
        action()
    except NotFound as exc:
        raise Http404 from exc
    except Conflict as exc:
        fresh = _get_tx(request, tx.pk)
        return _render_detail(request, fresh, status=409, error=exc.message, conflict=True)
    except ApplicationError as exc:
        status = 403 if exc.code == "SEPARATION_OF_DUTIES" else 400
        fresh = _get_tx(request, tx.pk)
        return _render_detail(request, fresh, status=status, error=exc.message, forms=forms)
    messages.success(request, success)
    return redirect(next_url)


def _invalid(request, tx: Transaction, form, name: str):
    errors = [str(e) for errs in form.errors.values() for e in errs]
    if "version" in form.errors:
        errors = [_("页面已过期，请刷新后重试。")]
    return _render_detail(request, tx, status=400, error=" ".join(errors), forms={name: form})


@clerk_required
@require_POST
def approve(request, pk: int):
    tx = _get_tx(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _invalid(request, tx, form, "approve_form")
    version = form.cleaned_data["version"]
    return _act(
        request,
        tx,
        lambda: services.clerk_approve(tx=tx, clerk=request.user, version=version),
        success=_("流水号 %(serial)s 已审核通过。") % {"serial": tx.serial},
        next_url=reverse("backoffice:queue"),
    )


@clerk_required
@require_POST
def return_(request, pk: int):
    tx = _get_tx(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _invalid(request, tx, form, "return_form")
    data = form.cleaned_data
    return _act(
        request,
        tx,
        lambda: services.clerk_return(tx=tx, clerk=request.user, version=data["version"], reason=data["reason"]),
        success=_("流水号 %(serial)s 已回退。") % {"serial": tx.serial},
        next_url=reverse("backoffice:queue"),
        forms={"return_form": form},
    )


@clerk_required
@require_POST
def cancel(request, pk: int):
    tx = _get_tx(request, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _invalid(request, tx, form, "cancel_form")
    data = form.cleaned_data

    def run():
        services.agency_cancel(tx=tx, actor=request.user, reason=data["reason"], version=data["version"])

    return _act(
        request,
        tx,
        run,
        success=_("流水号 %(serial)s 已退单。") % {"serial": tx.serial},
        next_url=f"{reverse('backoffice:queue')}?{urlencode({'tab': QueueFilterForm.TAB_STALE})}",
        forms={"cancel_form": form},
    )


@clerk_required
@require_POST
def mark_failed(request, pk: int):
    tx = _get_tx(request, pk)
    form = MarkFailedForm(request.POST)
    if not form.is_valid():
        return _invalid(request, tx, form, "mark_form")
    data = form.cleaned_data
    result = request.POST.get("result", "")
    results = RowFilterForm.base_fields["result"]
    assert isinstance(results, ChoiceField)  # as RowFilterForm declares it
    back = {
        "result": result if results.valid_value(result) else "all",
        "page": _safe_page(request.POST.get("page")),
    }
    return _act(
        request,
        tx,
        lambda: services.clerk_mark_row_failed(tx=tx, clerk=request.user, item_id=data["item"], reason=data["reason"]),
        success=_("已将该人员标记为审核失败。"),
        next_url=f"{reverse('backoffice:detail', args=[tx.pk])}?{urlencode(back)}",
    )
