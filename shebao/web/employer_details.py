"""单位信息: the employer's current details and the history of their changes."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from shebao.accounts.scoping import employer_required
from shebao.employers.models import EmployerChange
from shebao.workflow import registry
from shebao.workflow.models import OPEN_STATES, Transaction

# The details shown, in order: (the Employer's field, shown to the employer as it is).
SHOWN = (
    "number",
    "name",
    "credit_code",
    "contact_name",
    "contact_phone",
    "email",
    "address",
    "bank_name",
    "bank_account",
    "account_name",
)
PAGE_SIZE = 20


@employer_required
@require_GET
def details(request):
    """The employer's details, its open change (if any) and every change that took effect."""
    employer = request.employer
    meta = employer._meta
    rows = [(meta.get_field(name).verbose_name, getattr(employer, name), name) for name in SHOWN]
    editor = registry.editing_employer()
    change_url, open_change = "", None
    if editor is not None:
        change_url = reverse("web:single_new", kwargs={"code": editor.code})
        open_change = (
            Transaction.objects.filter(employer=employer, business_type=editor.code, state__in=OPEN_STATES)
            .order_by("-id")
            .first()
        )
    history = EmployerChange.objects.filter(employer=employer).select_related("transaction", "operator")
    page = Paginator(history, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/employer_details.html",
        {
            "employer": employer,
            "rows": rows,
            "change_url": change_url,
            "open_change": open_change,
            "page": page,
        },
    )
