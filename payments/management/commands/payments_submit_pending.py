"""Send refunds that are reserved but not yet accepted by Stripe (idempotent: same keys)."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from payments.models import Refund
from payments.services import submit_refund


class Command(BaseCommand):
    help = "Retry pending refunds older than a minute (Stripe unreachable earlier)."

    def handle(self, *args, **options):
        cutoff = timezone.now() - dt.timedelta(minutes=1)
        ids = Refund.objects.filter(
            status=Refund.Status.PENDING, stripe_refund_id__isnull=True, created_at__lt=cutoff
        ).values_list("pk", flat=True)
        sent = 0
        for refund_id in ids:
            if submit_refund(refund_id=refund_id).stripe_refund_id:
                sent += 1
        self.stdout.write(f"pending refunds sent: {sent} of {len(ids)}")
