"""Background work. Arguments are ids only (never PHI)."""

from django.tasks import task


@task
def send_receipt_task(delivery_id: int) -> str:
    from checkout.services import deliver_receipt

    return deliver_receipt(delivery_id=delivery_id).status
