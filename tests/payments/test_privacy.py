"""Stripe is a payment processor under the sharing rules (policy §4, §5)."""

import pytest

from payments import stripe_gateway
from privacy.gate import PolicyViolation
from privacy.models import Disclosure
from privacy.policy import Category
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("category", [Category.HEALTH, Category.SMS_CONSENT, Category.TECHNICAL])
def test_gate_refuses_sending_more_than_payment_needs_to_stripe(category):
    patient = PatientFactory()
    calls = []

    with pytest.raises(PolicyViolation) as refused:
        stripe_gateway.send(
            patient=patient,
            categories={Category.PAYMENT, category},
            description="would send more than payment needs",
            call=lambda client: calls.append(client),
        )

    assert calls == []  # nothing left the clinic
    assert not Disclosure.objects.exists()
    expected = "sms_consent_only_to_sms_providers" if category == Category.SMS_CONSENT else "processor_purpose_only"
    assert refused.value.clause == expected
