"""Reads for the messaging pages."""

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from consents.models import SmsConsentEvent, SmsPurpose
from messaging.models import Campaign, Conversation, InboundMessage, OutboundMessage, Status


def _latest_marketing_action():
    return (
        SmsConsentEvent.objects.filter(
            phone_bidx=OuterRef("phone_bidx"),
            purpose=SmsPurpose.MARKETING,
            action__in=[SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT],
        )
        .order_by("-occurred_at", "-id")
        .values("action")[:1]
    )


def marketing_audience(filters: dict | None = None) -> QuerySet:
    """Patients whose phone's latest marketing consent event is an opt-in, one per phone, narrowed
    by the campaign filters. The ONLY source of campaign recipients."""
    from appointments.models import Appointment
    from patients.models import Patient

    filters = filters or {}
    patients = (
        Patient.objects.exclude(phone_bidx="")
        .annotate(marketing_state=Subquery(_latest_marketing_action()))
        .filter(marketing_state=SmsConsentEvent.Action.OPT_IN)
    )
    completed = Appointment.objects.filter(patient=OuterRef("pk"), status=Appointment.Status.COMPLETED)
    now = timezone.now()
    if filters.get("visited_within_days"):
        since = now - dt.timedelta(days=int(filters["visited_within_days"]))
        patients = patients.filter(Exists(completed.filter(starts_at__gte=since)))
    if filters.get("not_visited_for_days"):
        since = now - dt.timedelta(days=int(filters["not_visited_for_days"]))
        patients = patients.exclude(Exists(completed.filter(starts_at__gte=since)))
    if filters.get("service_id"):
        patients = patients.filter(
            Exists(Appointment.objects.filter(patient=OuterRef("pk"), service_id=int(filters["service_id"])))
        )
    first_per_phone = patients.order_by("phone_bidx", "pk").distinct("phone_bidx").values("pk")
    return Patient.objects.filter(pk__in=first_per_phone).order_by("pk")


def inbox_conversations() -> QuerySet:
    return Conversation.objects.select_related("patient").order_by("-needs_review", "-last_message_at", "-pk")


def unread_total() -> int:
    return sum(Conversation.objects.filter(unread_count__gt=0).values_list("unread_count", flat=True))


def conversation_thread(conversation: Conversation) -> list:
    """Inbound and outbound messages of one phone, oldest first."""
    inbound = [("in", m.received_at, m) for m in InboundMessage.objects.filter(conversation=conversation)]
    outbound = [
        ("out", m.created_at, m)
        for m in OutboundMessage.objects.filter(to_bidx=conversation.phone_bidx).select_related("sent_by")
    ]
    return sorted(inbound + outbound, key=lambda item: item[1])


def message_log(**filters) -> QuerySet:
    return OutboundMessage.objects.filter(**filters).select_related("patient", "appointment", "sent_by")


def campaign_state_label(campaign: Campaign, *, total: int, pending: int) -> str:
    """The state as a manager reads it: a scheduled campaign whose messages have all been handled
    is finished, one whose start has come is sending."""
    if campaign.state == Campaign.State.SCHEDULED and total:
        if not pending:
            return "Finished"
        if campaign.scheduled_for and campaign.scheduled_for <= timezone.now():
            return "Sending"
    return campaign.get_state_display()


def campaign_progress(campaign: Campaign) -> dict:
    counts = OutboundMessage.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status__in=[Status.PENDING, Status.SENDING])),
        sent=Count("pk", filter=Q(status__in=[Status.SENT, Status.DELIVERED])),
        delivered=Count("pk", filter=Q(status=Status.DELIVERED)),
        suppressed=Count("pk", filter=Q(status=Status.SUPPRESSED)),
        failed=Count("pk", filter=Q(status__in=[Status.FAILED, Status.UNKNOWN])),
        cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
    )
    done = counts["total"] - counts["pending"]
    counts["done"] = done
    counts["finished"] = counts["total"] > 0 and counts["pending"] == 0
    counts["state_label"] = campaign_state_label(campaign, total=counts["total"], pending=counts["pending"])
    return counts
