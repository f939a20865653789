"""消息中心: the list, opening a message (marks it read, goes to its transaction), 全部标为已读,
and 通知设置. For an operator (the employer chosen at login) and for a clerk; a message
addressed to someone else is not found (404)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shebao.accounts.models import Role
from shebao.accounts.scoping import current_employer
from shebao.core.errors import ApplicationError
from shebao.inbox import services, texts

PAGE_SIZE = 20


def inbox_user_required(view):
    """An operator acting for an employer (request.inbox_employer) or a clerk of an office
    (request.inbox_employer is None); anyone else: 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect("accounts:login")
        if request.user.role == Role.CLERK and request.user.office_id is not None:
            request.inbox_employer = None
        else:
            employer = current_employer(request)
            if employer is None:
                raise Http404
            request.inbox_employer = employer
        return view(request, *args, **kwargs)

    return wrapper


def _mine(request):
    return services.messages_of(request.user, request.inbox_employer)


@require_GET
@inbox_user_required
def message_list(request):
    query = _mine(request).select_related("outbox", "employer")
    if request.GET.get("show") == "unread":
        query = query.filter(read_at__isnull=True)
    # Unread first (a null read_at), newest first within each.
    query = query.order_by(F("read_at").asc(nulls_first=True), "-id")
    page = Paginator(query, PAGE_SIZE).get_page(request.GET.get("page", "1"))
    rows = [
        {
            "message": m,
            "title": texts.title(m),
            "subject": texts.subject(m),
            "body": texts.body(m),
            "unread": m.read_at is None,
        }
        for m in page
    ]
    return render(
        request,
        "inbox/list.html",
        {
            "page": page,
            "rows": rows,
            "show": request.GET.get("show", ""),
            "unread_total": services.unread_count(request.user, request.inbox_employer),
            "email_wanted": services.email_wanted(request.user),
            "email_address": request.user.email,
        },
    )


@require_GET
@inbox_user_required
def message_open(request, pk: int):
    message = get_object_or_404(_mine(request), pk=pk)
    services.mark_read(message)
    link = services.link_of(message)
    return redirect(link or "inbox:list")


@require_POST
@inbox_user_required
def read_all(request):
    count = services.mark_all_read(request.user, request.inbox_employer)
    messages.success(request, _("已将 %(n)s 条消息标为已读。") % {"n": count})
    return redirect("inbox:list")


@require_POST
@inbox_user_required
def preferences(request):
    try:
        services.set_email_preference(
            request.user, wanted=request.POST.get("email") == "on", address=request.POST.get("address", "")
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(reverse("inbox:list") + "#settings")
    messages.success(request, _("通知设置已保存。"))
    return redirect(reverse("inbox:list") + "#settings")
