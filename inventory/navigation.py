from cinrella.navigation import NavItem
from cinrella.roles import Role

NAV_ITEMS = [
    NavItem("Inventory", "inventory-list", frozenset({Role.FRONT_DESK, Role.BILLING, Role.MANAGER})),
]
