# Periodic jobs of the platform itself, run by `manage.py run_periodic` (see cinrella/app_hooks.py).
PERIODIC_JOBS = [("prune_tasks", 3600)]
