# Refunds reserved but not yet accepted by Stripe (e.g. Stripe was unreachable) are retried.
PERIODIC_JOBS = [("payments_submit_pending", 300)]
