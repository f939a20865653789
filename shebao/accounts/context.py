from shebao.accounts.scoping import current_employer


def current_actor(request) -> dict:
    """Every page shows who is logged in and for which employer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"current_employer": current_employer(request), "current_role": user.get_role_display()}
