"""Marketing campaigns: drafts, scheduling to the opted-in audience (throttled), cancelling."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging import templating
from messaging.models import (
    Kind,
    OutboundMessage,
    Purpose,
    Status,
)
from messaging.services.outbox import queue_message


class CampaignError(ValueError):
    pass


ONLY_DRAFTS_ARE_EDITED = "Only a draft can be edited: this campaign's messages are already queued."


@transaction.atomic
def create_campaign(*, name: str, body: str, filters: dict, rate_per_minute: int | None, user):
    from messaging.models import Campaign

    return Campaign.objects.create(
        **_campaign_fields(name=name, body=body, filters=filters, rate_per_minute=rate_per_minute), created_by=user
    )


def audience_service_name(filters: dict) -> str:
    """The service a campaign's audience was chosen by ("Had this service"), or ""."""
    from appointments.models import Service

    service_id = (filters or {}).get("service_id")
    if not service_id:
        return ""
    return Service.objects.filter(pk=int(service_id)).values_list("name", flat=True).first() or ""


def check_campaign_wording(body: str, filters: dict) -> None:
    """The marketing rules (issue 17): placeholders a campaign can fill, the clinic's name, how to
    opt out, and treatment names only to an audience chosen by that treatment. Raises
    templating.InvalidTemplate with the reason. The staff form, the admin and this service all ask
    it; schedule_campaign asks again, for drafts saved before a rule changed."""
    templating.validate_template(body, kind=Kind.CAMPAIGN)
    templating.check_marketing_text(body, audience_service=audience_service_name(filters))


def _campaign_fields(*, name: str, body: str, filters: dict, rate_per_minute: int | None) -> dict:
    """A draft's editable fields, checked and tidied: the wording (campaign placeholders only), the
    audience filters that are set, the throttle (the clinic default when none is given)."""
    check_campaign_wording(body, filters)
    return {
        "name": name.strip()[:120],
        "body": body.strip(),
        "filters": {k: v for k, v in filters.items() if v not in (None, "")},
        "rate_per_minute": rate_per_minute or settings.SMS_CAMPAIGN_RATE_PER_MINUTE,
    }


@transaction.atomic
def update_draft_campaign(*, campaign, name: str, body: str, filters: dict, rate_per_minute: int | None) -> None:
    """Reword or re-target a draft. Once scheduled, its messages are written: no more edits."""
    from messaging.models import Campaign

    fields = _campaign_fields(name=name, body=body, filters=filters, rate_per_minute=rate_per_minute)
    updated = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).update(**fields)
    if not updated:
        raise CampaignError(ONLY_DRAFTS_ARE_EDITED)


@transaction.atomic
def schedule_campaign(*, campaign, user, start_at=None, patient_ids=None) -> int:
    """Queue the campaign to its audience, throttled to `campaign.rate_per_minute`.

    Only patients with a CURRENT marketing opt-in can receive it: the audience is computed here,
    and ids picked in the form (`patient_ids`) are intersected with it — an id injected into the
    form for a patient without an opt-in is dropped and counted in `excluded_count`. Consent is
    checked again by the worker at send time, and by the privacy gate."""
    from messaging.models import Campaign
    from messaging.selectors import marketing_audience

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state != Campaign.State.DRAFT:
        raise CampaignError("This campaign was already scheduled or cancelled.")
    try:
        check_campaign_wording(campaign.body, campaign.filters)
    except templating.InvalidTemplate as exc:
        raise CampaignError(f"Edit the draft first: {exc}") from None
    audience = marketing_audience(campaign.filters)
    excluded = 0
    if patient_ids is not None:
        wanted = {int(i) for i in patient_ids}
        audience = audience.filter(pk__in=wanted)
        chosen = list(audience)
        excluded = len(wanted) - len(chosen)
    else:
        chosen = list(audience)
    if not chosen:
        raise CampaignError("Nobody in this audience has a current marketing opt-in.")
    start = start_at or timezone.now()
    spacing = dt.timedelta(seconds=60 / max(campaign.rate_per_minute, 1))
    for index, patient in enumerate(chosen):
        queue_message(
            to_phone=patient.mobile_phone,
            kind=Kind.CAMPAIGN,
            purpose=Purpose.MARKETING,
            idempotency_key=f"campaign:{campaign.pk}:{patient.phone_bidx}",
            template=campaign.body,
            context={"first_name": patient.first_name},
            due_at=start + spacing * index,
            patient=patient,
            campaign=campaign,
            sent_by=user,
        )
    campaign.state = Campaign.State.SCHEDULED
    campaign.scheduled_for = start
    campaign.scheduled_by = user
    campaign.audience_size = len(chosen)
    campaign.excluded_count = excluded
    campaign.save(update_fields=["state", "scheduled_for", "scheduled_by", "audience_size", "excluded_count"])
    return len(chosen)


@transaction.atomic
def cancel_campaign(*, campaign, user) -> int:
    from messaging.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.CANCELLED)
    return OutboundMessage.objects.filter(campaign=campaign, status=Status.PENDING).update(
        status=Status.CANCELLED, error_reason="Campaign cancelled", status_updated_at=timezone.now()
    )


@transaction.atomic
def delete_draft_campaign(*, campaign) -> None:
    """A draft has queued nothing yet: deleting it loses no record of any message. Anything past
    draft stays, with its messages, for the consent audit."""
    from messaging.models import Campaign

    deleted, _ = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).delete()
    if not deleted:
        raise CampaignError("Only a draft can be deleted; a scheduled campaign can have its unsent messages cancelled.")
