"""The employer's pages of the API: 接口令牌 (list, 新建令牌 shown once, 吊销) and 免费预检 (a
file checked by the rules that need no other employer's data, nothing saved).

Thin: authorise (every query starts from request.employer), call one service, render. Only
the employer's administrator (单位管理员) creates or revokes a token; the other operators see
the list read-only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shebao.accounts.scoping import employer_required
from shebao.api import services, tokens
from shebao.api.models import ApiToken, Scope
from shebao.batch import reader
from shebao.core.errors import ApplicationError, NotFound, PermissionDenied
from shebao.employers.models import Employer
from shebao.params.services import ParamSnapshot
from shebao.workflow import registry
from shebao.workflow.rules import Shown, split

DOCS_URL = "/api/v1/docs"
TOKENS_PER_PAGE = 50
# Rows with issues listed on the 免费预检 page; the rest are counted, not listed.
ROWS_SHOWN = 500


def _employer(request: HttpRequest) -> Employer:
    """The employer @employer_required chose (the one of the login)."""
    return request.employer  # type: ignore[attr-defined]


# --- 接口令牌 --------------------------------------------------------------------------------


def _tokens_page(
    request: HttpRequest,
    *,
    status: int = 200,
    error: str = "",
    created: tokens.Created | None = None,
    form: dict[str, str] | None = None,
) -> HttpResponse:
    query = ApiToken.objects.filter(employer=_employer(request)).select_related("created_by")
    page = Paginator(query.order_by("-id"), TOKENS_PER_PAGE).get_page(request.GET.get("page", "1"))
    context = {
        "page": page,
        "admin": tokens.is_admin(request.user, _employer(request)),
        "created": created,
        "error": error,
        "form": form or {"name": "", "scope": Scope.READ},
        "scopes": Scope.choices,
        "name_max": tokens.NAME_MAX,
        "docs_url": DOCS_URL,
        "rate": settings.SHEBAO_API_RATE_PER_MINUTE,
        "quota": settings.SHEBAO_API_VALIDATE_PER_DAY,
    }
    context["once"] = _form_once(request, form or {})
    return render(request, "api/tokens.html", context, status=status)


# 新建令牌's form carries a value of its own, kept in the session until the token it creates:
# the same form posted again (a reload of the answer that shows the token) is then told the
# token exists, instead of creating a second one. The secret itself is never stored.
ONCE_KEY = "api_token_form"
ONCE_KEPT = 20


def _form_once(request: HttpRequest, form: dict) -> str:
    """The form's value: the one it was posted with while that has created nothing, else new."""
    pending = request.session.get(ONCE_KEY, {}).get("pending", [])
    posted = form.get("once", "")
    if posted and posted in pending:
        return posted
    value = secrets.token_urlsafe(16)
    _remember(request, pending=[*pending, value][-ONCE_KEPT:])
    return value


def _remember(request: HttpRequest, **lists: list[str]) -> None:
    state = dict(request.session.get(ONCE_KEY, {"pending": [], "used": []}))
    state.update(lists)
    request.session[ONCE_KEY] = state


def _used_already(request: HttpRequest, once: str) -> bool:
    return bool(once) and once in request.session.get(ONCE_KEY, {}).get("used", [])


def _use(request: HttpRequest, once: str) -> None:
    if not once:
        return
    state = request.session.get(ONCE_KEY, {"pending": [], "used": []})
    _remember(
        request,
        pending=[v for v in state.get("pending", []) if v != once],
        used=[*state.get("used", []), once][-ONCE_KEPT:],
    )


@employer_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The list; a POST is 新建令牌, whose answer is the only page that shows the whole token
    (rendered here, never stored nor redirected: a reload of the list shows its prefix, and
    the same form posted again creates nothing, see _form_once)."""
    if request.method == "GET":
        return _tokens_page(request)
    form = {
        "name": request.POST.get("name", ""),
        "scope": request.POST.get("scope", ""),
        "once": request.POST.get("once", "")[:64],
    }
    if _used_already(request, form["once"]):
        return _tokens_page(
            request,
            status=409,
            error=_("该令牌已创建，完整令牌只显示一次，不会再次显示。如未保存，请吊销它后新建一个令牌。"),
        )
    try:
        created = tokens.token_create(
            employer=_employer(request),
            actor=request.user,
            name=form["name"],
            scope=form["scope"],
        )
    except ApplicationError as refusal:
        return _tokens_page(request, status=refusal.status, error=refusal.text(), form=form)
    _use(request, form["once"])
    return _tokens_page(request, created=created)


@employer_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """吊销 (twice is once: a revoked token stays revoked, with its first time)."""
    try:
        token = tokens.token_revoke(employer=_employer(request), actor=request.user, token_id=pk)
    except NotFound:
        raise Http404 from None
    except PermissionDenied as refusal:
        return _tokens_page(request, status=refusal.status, error=refusal.text())
    messages.success(request, _("令牌「%(name)s」已吊销，使用它的系统将无法再访问。") % {"name": token.name})
    return redirect("api:tokens")


# --- 免费预检 --------------------------------------------------------------------------------


@dataclass
class ShownRow:
    row_no: int
    name: str
    id_number: str
    errors: list[Shown] = field(default_factory=list)
    warnings: list[Shown] = field(default_factory=list)


def _batch_types() -> list[registry.BusinessType]:
    return [b for b in registry.all_types() if b.batch]


@employer_required
@require_http_methods(["GET", "POST"])
def precheck(request: HttpRequest) -> HttpResponse:
    """免费预检: the type's header fields and a file, checked as an upload would be, without
    saving anything nor holding any person."""
    types = _batch_types()
    if not types:
        raise Http404
    wanted = (request.POST.get("business_type") if request.method == "POST" else request.GET.get("type")) or ""
    business = next((b for b in types if b.code == wanted), None)
    chosen = business or types[0]
    context: dict = {
        "types": types,
        "business": chosen,
        "header_specs": list(chosen.header_fields),
        "values": chosen.header_initial(ParamSnapshot.load()),
        "max_mb": reader._mb(settings.SHEBAO_UPLOAD_MAX_BYTES),
        "max_rows": reader.MAX_ROWS,
        "rows_shown": ROWS_SHOWN,
    }
    if request.method == "GET":
        return render(request, "api/precheck.html", context)
    context["values"] = {spec.name: request.POST.get(spec.name, "") for spec in chosen.header_fields}
    file = request.FILES.get("file")
    error = ""
    status = 400
    if business is None:
        error = _("请选择要预检的业务类型。")
    elif file is None:
        error = _("请点击「浏览」选择要预检的文件。")
    elif file.size is not None and file.size > settings.SHEBAO_UPLOAD_MAX_BYTES:
        error = reader.FileRefused(
            "FILE_TOO_LARGE", size=reader._mb(file.size), max=reader._mb(settings.SHEBAO_UPLOAD_MAX_BYTES)
        ).message
    if error:
        context["error"] = error
        return render(request, "api/precheck.html", context, status=status)
    assert business is not None and file is not None
    try:
        checked = services.validate(
            employer=_employer(request),
            business_type=business.code,
            header=request.POST,
            data=file.read(settings.SHEBAO_UPLOAD_MAX_BYTES + 1),
            token=None,
            user=request.user,
        )
    except ApplicationError as refusal:
        context["error"] = refusal.text()
        return render(request, "api/precheck.html", context, status=refusal.status)
    header_errors, header_warnings = split(checked.header_issues)
    with_issues = [row for row in checked.rows if row.issues]
    shown = []
    for row in with_issues[:ROWS_SHOWN]:
        errors, warnings = split(row.issues)
        data = row.data or {}
        shown.append(
            ShownRow(
                row_no=row.row_no,
                name=str(data.get("name") or ""),
                id_number=str(data.get("id_number") or ""),
                errors=errors,
                warnings=warnings,
            )
        )
    context.update(
        checked=checked,
        filename=file.name,
        header_errors=header_errors,
        header_warnings=header_warnings,
        shown_rows=shown,
        with_issues=len(with_issues),
        capped=len(with_issues) > ROWS_SHOWN,
    )
    return render(request, "api/precheck.html", context)
