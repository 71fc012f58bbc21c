from cinrella.navigation import NavItem
from cinrella.roles import Role

NAV_ITEMS = [
    NavItem("Takings", "payments-takings", frozenset({Role.BILLING, Role.MANAGER})),
]
