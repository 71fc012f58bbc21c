"""What each app contributes to the shell, found by convention so apps don't edit shared files.

- `<app>/navigation.py`: NAV_ITEMS, a list of cinrella.navigation.NavItem
- `<app>/demo.py`: load(stdout), called by `seed_demo` (must be idempotent)
- `<app>/jobs.py`: PERIODIC_JOBS, a list of ("command args", interval_seconds) for `run_periodic`
- `<app>/takings.py`: TAKINGS_SECTIONS, functions (day, locations) → {"template": …, …context} that
  the day's takings page renders after the card payments
- `<app>/patient_panels.py`: PATIENT_PANELS, functions (request, patient) → {"template": …, …} or
  None, rendered on the staff patient page (balances, memberships…)
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps


def app_modules(submodule: str):
    """The `<app>.<submodule>` modules of installed project apps, in INSTALLED_APPS order."""
    for config in apps.get_app_configs():
        dotted = f"{config.name}.{submodule}"
        if find_spec(config.name) is not None and find_spec(dotted) is not None:
            yield import_module(dotted)


def collect(submodule: str, attribute: str) -> list:
    items = []
    for module in app_modules(submodule):
        items.extend(getattr(module, attribute, []))
    return items
