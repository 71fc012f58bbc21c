from cinrella.navigation import NavItem
from cinrella.roles import Role

NAV_ITEMS = [
    NavItem("Messages", "messaging-inbox", frozenset({Role.FRONT_DESK, Role.MANAGER})),
    NavItem("Campaigns", "messaging-campaigns", frozenset({Role.MANAGER})),
]


def _simulator_items():
    from django.conf import settings

    if settings.SMS_BACKEND.endswith("ConsoleBackend"):
        return [NavItem("Phone simulator", "messaging-simulator")]
    return []


NAV_ITEMS += _simulator_items()
