"""Staff roles (DESIGN.md §3). Each role is a Django Group created by a migration."""

from enum import StrEnum


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    PROVIDER = "provider"
    BILLING = "billing"
    MANAGER = "manager"


ROLE_LABELS = {
    Role.FRONT_DESK: "Front desk",
    Role.PROVIDER: "Provider",
    Role.BILLING: "Billing",
    Role.MANAGER: "Manager",
}


def roles_of(user) -> frozenset[Role]:
    """The roles of a staff user, read once per request and cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_cinrella_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(r for r in Role if r.value in names)
        user._cinrella_roles = cached
    return cached


def has_role(user, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))
