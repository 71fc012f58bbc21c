"""Writing the access log (§7): one helper so every view records the same facts.

Call `log_access()` *before* the protected data is decrypted or rendered: the row is written in
autocommit straight away, so an error later in the request (a decryption failure, a template
bug) cannot skip it."""

from __future__ import annotations

from cinrella.request_meta import client_ip, user_agent
from cinrella.roles import roles_of
from privacy.access import Action, Category
from privacy.models import AccessLog


def _path(request) -> str:
    # request.path never includes the query string.
    return request.path[:300] if request is not None else ""


def log_access(
    request,
    patient,
    category: Category | str,
    action: Action | str = Action.READ,
    *,
    allowed: bool = True,
    user=None,
    via_portal: bool = False,
) -> AccessLog:
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AccessLog.objects.create(
        user=user,
        username=(user.get_username() if user else "")[:150],
        roles=",".join(sorted(r.value for r in roles_of(user))) if user else "",
        is_superuser=bool(user and user.is_superuser),
        via_portal=via_portal,
        patient=patient,
        category=Category(category).value,
        action=Action(action).value,
        allowed=allowed,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        path=_path(request),
    )


def require_and_log(request, action: Action | str, category: Category | str, patient) -> None:
    """Check with the decision point and log the access either way; 404 when refused."""
    from privacy.access import can, require

    allowed = can(request.user, action, category, patient)
    log_access(request, patient, category, action, allowed=allowed)
    require(request.user, action, category, patient)


def recently_viewed_by(patient, limit: int = 5) -> list[dict]:
    """The last distinct staff members who opened this record, newest first (one query)."""
    rows = (
        AccessLog.objects.filter(patient=patient, allowed=True, user__isnull=False)
        .order_by("user_id", "-at")
        .distinct("user_id")
        .values("user_id", "username", "user__first_name", "user__last_name", "roles", "at")
    )
    return sorted(rows, key=lambda r: r["at"], reverse=True)[:limit]
