import re

import pytest
from django.core import mail

from compliance.portal_auth import LAST_SEEN_KEY, PATIENT_SESSION_KEY
from tests.factories import PatientFactory


def code_from_mail(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def request_code(client, patient, **overrides):
    data = {"contact": patient.email, "date_of_birth": patient.date_of_birth.isoformat(), **overrides}
    return client.post("/book/account/sign-in/", data)


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def portal_client(client):
    """Factory: portal_client(patient) → a client with a signed-in patient session (via the real code flow)."""

    def make(patient):
        mail.outbox.clear()
        request_code(client, patient)
        client.post("/book/account/code/", {"code": code_from_mail(mail.outbox[-1])})
        assert client.session[PATIENT_SESSION_KEY] == patient.pk
        assert LAST_SEEN_KEY in client.session
        mail.outbox.clear()
        return client

    return make
