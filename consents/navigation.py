from cinrella.navigation import NavItem
from cinrella.roles import Role

NAV_ITEMS = [
    NavItem("SMS consent proof", "consents-sms-proof", frozenset({Role.MANAGER})),
]
