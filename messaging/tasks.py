"""Background tasks (django.tasks). They take no PHI: the outbox rows are the work list."""

from django.tasks import task


@task
def dispatch_due_messages():
    """Send every due outbox row now (queued after an inbound reply or a staff reply commits)."""
    from messaging.dispatch import run_once

    result = run_once()
    return {"sent": result.sent, "suppressed": result.suppressed, "failed": result.failed, "held": result.held}
