"""Demo data for `manage.py seed_demo`: a few inbound texts so the inbox has something to show.
Idempotent: the inbound webhook path is idempotent on MessageSid."""

from messaging.services.inbound import receive_inbound

DEMO_TEXTS = [
    ("SMdemo00000000000000000000000001", "+16195550101", "Hi! Is there parking near the La Jolla clinic?"),
    ("SMdemo00000000000000000000000002", "+16195550102", "Running 10 minutes late, sorry"),
    ("SMdemo00000000000000000000000003", "+13055550103", "please stop texting me"),
]


def load(stdout):
    for sid, phone, body in DEMO_TEXTS:
        receive_inbound(message_sid=sid, from_phone=phone, to_phone="+18582560289", body=body)
    stdout.write(f"messaging: {len(DEMO_TEXTS)} demo inbound texts in the staff inbox")
