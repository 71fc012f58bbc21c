from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What needs a person's attention across the system, for managers: texts set aside or stuck,
    failed payments, failed background tasks and periodic jobs, the background processes and the
    readiness checks (issue 24 point 6). A read-only report over the domain apps; it owns no data."""

    name = "operations"
    verbose_name = "Operations"
