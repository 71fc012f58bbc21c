from cinrella.navigation import NavItem
from cinrella.roles import Role

SCHEDULE = frozenset({Role.FRONT_DESK, Role.PROVIDER, Role.MANAGER})

NAV_ITEMS = [
    NavItem("Calendar", "appointments-day", SCHEDULE),
    NavItem("Week", "appointments-week", SCHEDULE),
    NavItem("New appointment", "appointments-new", SCHEDULE),
]
