from cinrella.navigation import NavItem
from cinrella.roles import Role

NAV_ITEMS = [
    NavItem("Patients", "patients-list", frozenset(Role)),
    NavItem("Access log", "patients-access-log", frozenset({Role.MANAGER})),
]
