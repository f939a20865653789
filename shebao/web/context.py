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
        # The menu lists the business of persons; the type that changes the employer's own
        # details is reached from 单位信息 (the employer's name in the top bar) and 首页.
        "business_types": [b for b in registry.all_types() if not b.edits_employer] if employer else [],
        # 单位篇 is the employer site's name: the agency's pages (a clerk, an administrator) do not carry it.
        "agency_side": not user.is_operator,
    }
