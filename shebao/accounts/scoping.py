"""Employer scoping is structural: every employer-side query starts from here."""

from __future__ import annotations

from functools import wraps

from django.db import connection
from django.http import Http404
from django.shortcuts import redirect

from shebao.accounts.models import Membership, Role
from shebao.core import rows
from shebao.employers.models import Employer, TaskListStamp

SESSION_KEY = "employer_id"


def current_employer(request) -> Employer | None:
    """The employer chosen at login, while the operator's membership and the employer are active.

    Read on every employer page with one hand-written query (membership, employer and the
    version of its task lists); see shebao.core.rows.
    """
    if hasattr(request, "_employer"):
        return request._employer
    employer = None
    employer_id = request.session.get(SESSION_KEY)
    user = request.user
    if employer_id and user.is_authenticated and user.role == Role.OPERATOR:
        employer = _active_employer(user.pk, employer_id)
    request._employer = employer
    return employer


def _active_employer(user_id: int, employer_id) -> Employer | None:
    try:
        employer_id = int(employer_id)
    except (TypeError, ValueError):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.select_list(Employer, 'e')}, s.version "
            f"FROM {rows.table(Membership)} m JOIN {rows.table(Employer)} e ON e.id = m.employer_id "
            f"LEFT JOIN {rows.table(TaskListStamp)} s ON s.employer_id = e.id "
            "WHERE m.user_id = %s AND m.employer_id = %s AND m.active AND e.active",
            [user_id, employer_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    employer, end = rows.instance(Employer, row)
    employer.task_list_version = row[end] or 0
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
