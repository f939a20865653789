"""Where a user lands after login, and at the site's root: the home page of their role."""

from shebao.accounts.models import Role


def home_for(user) -> str:
    """The URL name of the user's home page."""
    if user.role == Role.CLERK:
        return "backoffice:queue"
    if user.role == Role.ADMIN:
        return "admin:index"
    return "web:home"
