from cinrella.navigation import NavItem
from cinrella.roles import Role

NAV_ITEMS = [NavItem("Privacy", "privacy-staff-home", frozenset({Role.MANAGER}))]
