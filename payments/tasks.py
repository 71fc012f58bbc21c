"""Background work. Arguments are ids only (never PHI)."""

from django.tasks import task


@task
def submit_refund_task(refund_id: int) -> str:
    from payments.services import submit_refund

    return submit_refund(refund_id=refund_id).status


@task
def cancel_open_payment_task(payment_id: int) -> str:
    from payments.services import cancel_open_payment

    return cancel_open_payment(payment_id=payment_id).status
