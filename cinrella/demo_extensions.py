"""Demo data contributed by the apps: each entry is a callable taking the output stream.

Kept as a list so each app adds its own loader without editing seed_demo itself."""

from importlib import import_module

LOADERS = [
    # "appointments.demo.load",
]


def run_all(stdout):
    for dotted in LOADERS:
        module_name, func_name = dotted.rsplit(".", 1)
        getattr(import_module(module_name), func_name)(stdout)
