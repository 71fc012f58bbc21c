from cinrella.navigation import NavItem
from cinrella.roles import Role

NAV_ITEMS = [
    NavItem("Checkout", "checkout-sales", frozenset({Role.FRONT_DESK, Role.BILLING, Role.MANAGER})),
]
