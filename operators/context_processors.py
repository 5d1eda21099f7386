"""Template context: who is acting, for the portal's header and menus."""

from operators.actors import actor_for_user


def membership(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"actor": None}
    return {"actor": actor_for_user(user)}
