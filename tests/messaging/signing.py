"""Post to the Twilio webhooks the way Twilio does: form-encoded, signed with the real
RequestValidator for the URL Twilio used."""

import itertools

from django.urls import reverse
from twilio.request_validator import RequestValidator

TOKEN = "twilio-auth-token-test"
CLINIC_NUMBER = "+18582560289"
_sids = itertools.count(1)


def signed_post(client, name, params, *, token=TOKEN):
    path = reverse(name)
    signature = RequestValidator(token).compute_signature(f"http://testserver{path}", params)
    return client.post(path, params, headers={"X-Twilio-Signature": signature})


def text_from(client, phone, body, *, sid=None):
    """The number `phone` texts `body` to the clinic, through the signed inbound webhook."""
    params = {"MessageSid": sid or f"SMown{next(_sids):029d}", "From": phone, "To": CLINIC_NUMBER, "Body": body}
    response = signed_post(client, "messaging-twilio-inbound", params)
    assert response.status_code == 200, response.content
    return response
