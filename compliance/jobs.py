# Nightly in production (cron/systemd timer); `make run` runs it on this interval.
PERIODIC_JOBS = [("enforce_retention", 24 * 60 * 60)]
