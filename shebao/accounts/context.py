from shebao.accounts.scoping import current_employer


def current_actor(request) -> dict:
    """Every page shows who is logged in and for which employer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from shebao.workflow import registry

    employer = current_employer(request)
    return {
        "current_employer": employer,
        "current_role": user.get_role_display(),
        "business_types": registry.all_types() if employer else [],
    }
