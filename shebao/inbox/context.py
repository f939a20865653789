"""The top bar's unread count, on every page of an operator or a clerk (one indexed count)."""

from shebao.accounts.models import Role
from shebao.accounts.scoping import current_employer
from shebao.inbox import services


def unread(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if user.role == Role.CLERK and user.office_id is not None:
        return {"inbox_unread": services.unread_count(user), "inbox_shown": True}
    employer = current_employer(request)
    if employer is None:
        return {}
    return {"inbox_unread": services.unread_count(user, employer), "inbox_shown": True}
