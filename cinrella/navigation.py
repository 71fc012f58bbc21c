"""Staff navigation by role: each entry names the roles that see it.

Apps add their entries here as they grow; a link a role may not use is not rendered at all."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from cinrella.roles import Role, roles_of

ALL_STAFF = frozenset(Role)


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset = ALL_STAFF


NAV_ITEMS = [
    NavItem("Today", "staff-home"),
]


def all_nav_items() -> list[NavItem]:
    from cinrella.app_hooks import collect

    return NAV_ITEMS + [item for item in collect("navigation", "NAV_ITEMS") if item not in NAV_ITEMS]


def staff_navigation(request):
    user = getattr(request, "user", None)
    if not request.path.startswith("/staff/") or not user or not user.is_authenticated:
        return []
    if not getattr(user, "is_verified", lambda: False)():  # no navigation before the second factor
        return []
    roles = roles_of(user)
    items = []
    for item in all_nav_items():
        if user.is_superuser or roles & item.roles:
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append({"label": item.label, "url": url, "active": request.path == url})
    return items
