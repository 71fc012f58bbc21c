"""The privacy audit trail: one append-only PrivacyEvent row per step (no PHI in `detail`)."""

from cinrella.request_meta import client_ip, user_agent
from privacy.models import PrivacyEvent


def record(kind, *, patient=None, patient_id=None, user=None, rights_request=None, detail="", request=None):
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return PrivacyEvent.objects.create(
        kind=kind,
        patient=patient,
        **({"patient_id": patient_id} if patient is None and patient_id else {}),
        user=user,
        request=rights_request,
        detail=detail[:300],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
    )
