"""Policy versions (§12): which version a person was shown and accepted."""

from django.db import transaction

from cinrella.request_meta import client_ip, user_agent
from privacy import events
from privacy.models import PolicyAcceptance, PolicyVersion, PrivacyEvent


@transaction.atomic
def record_policy_acceptance(patient, version: PolicyVersion, request=None, *, context: str = "portal"):
    """Booking, sign-up and the portal call this with the version the person was shown."""
    acceptance = PolicyAcceptance.objects.create(
        patient=patient,
        version=version,
        context=context[:32],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        page_url=request.build_absolute_uri(request.path)[:300] if request is not None else "",
    )
    events.record(PrivacyEvent.Kind.POLICY_ACCEPTED, patient=patient, detail=f"v{version.number} ({context})")
    return acceptance
