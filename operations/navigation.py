from cinrella.navigation import NavItem
from cinrella.roles import Role

# The roles whose access matrix lets them read technical data (privacy.access): managers.
NAV_ITEMS = [NavItem("Needs attention", "operations-attention", frozenset({Role.MANAGER}))]
