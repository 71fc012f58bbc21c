# Periodic jobs run by `manage.py run_periodic` (make run); production: a timer every 15 s.
PERIODIC_JOBS = [("send_due_messages", 15)]
