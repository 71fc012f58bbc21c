"""Policy versions (§12) in the patient's portal account."""

import datetime as dt

import pytest
from django.utils import timezone

from privacy.models import PolicyAcceptance, PolicyVersion
from privacy.policy_versions import record_policy_acceptance
from privacy.selectors import current_policy_version

pytestmark = pytest.mark.django_db


def test_new_version_is_announced_on_next_portal_visit_until_accepted(portal_client, patient):
    client = portal_client(patient)
    record_policy_acceptance(patient, current_policy_version(), context="booking")
    assert "Our privacy policy" not in client.get("/book/account/").text

    new = PolicyVersion.objects.create(
        number=2, effective_at=timezone.now() - dt.timedelta(minutes=1), text="v2", summary_of_changes="Shorter."
    )
    page = client.get("/book/account/").text
    assert "Our privacy policy changed" in page and "Shorter." in page

    client.post("/book/account/policy/accept/", {"version": new.pk})

    acceptance = PolicyAcceptance.objects.filter(patient=patient).order_by("-id").first()
    assert acceptance.version == new and acceptance.context == "portal" and acceptance.ip_address == "127.0.0.1"
    assert "Our privacy policy changed" not in client.get("/book/account/").text
