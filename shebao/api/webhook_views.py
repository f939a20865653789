"""A token's webhook pages: 回调设置 (address, the signing secret shown once, 更换签名密钥,
删除回调) and 回调投递记录 (every delivery's status, attempts and last response; 重新发送).

Thin: every query starts from request.employer (another employer's token or delivery is 404);
only the employer's administrator (单位管理员) changes anything, the other operators see the
pages read-only. Wired under /integration/ by shebao.api.urls.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shebao.accounts.models import User
from shebao.accounts.scoping import employer_required
from shebao.api import tokens, webhooks
from shebao.api.models import ApiToken
from shebao.core.errors import ApplicationError, NotFound
from shebao.employers.models import Employer

DELIVERIES_PER_PAGE = 20


def _employer(request: HttpRequest) -> Employer:
    return request.employer  # type: ignore[attr-defined]


def _actor(request: HttpRequest) -> User:
    """The operator @employer_required let in (always a signed-in user)."""
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def _token(request: HttpRequest, pk: int) -> ApiToken:
    try:
        return tokens.token_of(_employer(request), pk)
    except NotFound:
        raise Http404 from None


def _edit_page(
    request: HttpRequest,
    token: ApiToken,
    *,
    status: int = 200,
    error: str = "",
    url: str | None = None,
    secret: str | None = None,
) -> HttpResponse:
    context = {
        "token": token,
        "admin": tokens.is_admin(request.user, _employer(request)),
        "url": token.webhook_url if url is None else url,
        "url_max": webhooks.URL_MAX,
        "error": error,
        "secret": secret,
        "https_only": settings.SHEBAO_WEBHOOK_HTTPS_ONLY,
        "max_attempts": settings.SHEBAO_WEBHOOK_MAX_ATTEMPTS,
        "timeout": f"{settings.SHEBAO_WEBHOOK_TIMEOUT_SECONDS:g}",
    }
    return render(request, "api/webhook_edit.html", context, status=status)


@employer_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the page. POST action=save (the address; a new secret is shown once, on this answer
    alone), action=rotate (更换签名密钥, shown once) or action=remove (删除回调)."""
    token = _token(request, pk)
    if request.method == "GET":
        return _edit_page(request, token)
    action = request.POST.get("action", "save")
    url = request.POST.get("url", "")
    employer, actor = _employer(request), _actor(request)
    try:
        if action == "remove":
            webhooks.remove_webhook(employer=employer, actor=actor, token_id=token.pk)
            messages.success(request, _("回调已删除，不再向该地址发送通知。"))
            return redirect("api:webhook_edit", pk=token.pk)
        if action == "rotate":
            saved = webhooks.rotate_secret(employer=employer, actor=actor, token_id=token.pk)
        else:
            saved = webhooks.set_webhook(employer=employer, actor=actor, token_id=token.pk, url=url)
    except NotFound:
        raise Http404 from None
    except ApplicationError as refusal:
        token.refresh_from_db()
        return _edit_page(
            request, token, status=refusal.status, error=refusal.message, url=url if action == "save" else None
        )
    if saved.secret is None:
        messages.success(request, _("回调地址已保存。"))
        return redirect("api:webhook_edit", pk=token.pk)
    # The secret is on this answer only: never stored elsewhere for showing, never redirected.
    return _edit_page(request, saved.token, secret=saved.secret)


@employer_required
@require_http_methods(["GET"])
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    token = _token(request, pk)
    page = Paginator(webhooks.deliveries_of(token), DELIVERIES_PER_PAGE).get_page(request.GET.get("page", "1"))
    context = {
        "token": token,
        "page": page,
        "admin": tokens.is_admin(request.user, _employer(request)),
        "can_resend": token.is_active and bool(token.webhook_url),
        "keep_days": settings.SHEBAO_WEBHOOK_KEEP_DAYS,
    }
    return render(request, "api/webhook_deliveries.html", context)


@employer_required
@require_POST
def webhook_resend(request: HttpRequest, pk: int, delivery: int) -> HttpResponse:
    token = _token(request, pk)
    target = reverse("api:webhook_deliveries", kwargs={"pk": token.pk})
    page = request.POST.get("page", "")
    if page.isdigit():
        target += f"?page={page}"
    try:
        webhooks.resend(employer=_employer(request), actor=_actor(request), delivery_id=delivery, token_id=token.pk)
    except NotFound:
        raise Http404 from None
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
        return redirect(target)
    messages.success(request, _("已安排重新发送，稍后刷新本页查看结果。"))
    return redirect(target)


urlpatterns = [
    path("tokens/<id:pk>/webhook/", webhook_edit, name="webhook_edit"),
    path("tokens/<id:pk>/webhook/deliveries/", webhook_deliveries, name="webhook_deliveries"),
    path("tokens/<id:pk>/webhook/deliveries/<id:delivery>/resend/", webhook_resend, name="webhook_resend"),
]
