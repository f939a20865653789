"""Employer scoping is structural: every employer-side query starts from here."""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import redirect

from shebao.accounts.models import Membership, Role
from shebao.employers.models import Employer

SESSION_KEY = "employer_id"


def current_employer(request) -> Employer | None:
    if hasattr(request, "_employer"):
        return request._employer
    employer = None
    employer_id = request.session.get(SESSION_KEY)
    user = request.user
    if employer_id and user.is_authenticated and user.role == Role.OPERATOR:
        membership = Membership.objects.filter(user=user, employer_id=employer_id, active=True).select_related(
            "employer", "employer__office").first()
        employer = membership.employer if membership else None
    request._employer = employer
    return employer


def employer_required(view):
    """An employer operator acting for the employer chosen at login; other roles get 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect("accounts:login")
        employer = current_employer(request)
        if employer is None:
            raise Http404
        request.employer = employer
        return view(request, *args, **kwargs)

    return wrapper


def clerk_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect("accounts:login")
        if request.user.role != Role.CLERK or request.user.office_id is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
