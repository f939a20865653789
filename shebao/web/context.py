"""Context of every page: who is logged in, for which employer, and the employer's menu."""

from shebao.accounts.scoping import current_employer
from shebao.workflow import registry


def current_actor(request) -> dict:
    """Every page shows who is logged in and for which employer; operators get the business menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    employer = current_employer(request)
    return {
        "current_employer": employer,
        "current_role": user.get_role_display(),
        "business_types": registry.all_types() if employer else [],
        # 单位篇 is the employer site's name: the agency's pages (a clerk, an administrator) do not carry it.
        "agency_side": not user.is_operator,
    }
