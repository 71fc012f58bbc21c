"""Background work. Arguments are ids only (never PHI)."""

from django.tasks import task


@task
def submit_refund_task(refund_id: int) -> str:
    from payments.services import submit_refund

    return submit_refund(refund_id=refund_id).status
