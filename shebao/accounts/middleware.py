from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers


class IdleTimeoutMiddleware:
    """Log out after 30 idle minutes; refresh the idle clock at most once a minute."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen", now)
            if now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)
                return redirect(f"{reverse('accounts:login')}?expired=1")
            if now - last >= settings.SESSION_TOUCH_SECONDS or "last_seen" not in request.session:
                request.session["last_seen"] = now
        return self.get_response(request)


class ForcePasswordChangeMiddleware:
    """A first login (or a reset) must change the password before anything else."""

    ALLOWED = ("accounts:password_change", "accounts:logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.must_change_password:
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return redirect("accounts:password_change")
        return self.get_response(request)


def has_nul(query) -> bool:
    """Whether a QueryDict (a query string, a form) has a NUL in a name or a value."""
    return any("\x00" in key or any("\x00" in value for value in query.getlist(key)) for key in query)


class RejectNulMiddleware:
    """A NUL character in the path, a query or a form field is refused with 400.

    No user types one; PostgreSQL cannot store or compare text containing it, so letting it
    through turns a filter or a saved field into a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or has_nul(request.GET) or self._post_has_nul(request):
            from django.http import HttpResponseBadRequest
            from django.utils.translation import gettext

            return HttpResponseBadRequest(
                gettext("请求中含有不允许的控制字符（NUL），请删除后重试。"), content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)

    def _post_has_nul(self, request) -> bool:
        if request.method != "POST":
            return False
        try:
            return has_nul(request.POST)
        except Exception:  # an unreadable body: Django answers it as it would without us
            return False


class NoStoreMiddleware:
    """What a logged-in user was shown is never kept by the browser or a proxy: after logout,
    Back shows the login page, not the last page. A view that chose its own caching (the
    file downloads) keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response and request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
