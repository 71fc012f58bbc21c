"""The code walk: every outbound call in the project passes through privacy.gate (DESIGN.md §4).

Runs over the whole tree (every project app), so it also guards code merged in later."""

import textwrap
from pathlib import Path

from django.conf import settings

from privacy import codewalk


def test_every_outbound_call_in_the_project_passes_the_sharing_gate():
    problems = codewalk.violations(Path(settings.BASE_DIR))
    assert not problems, (
        "Outbound data flows that do not call privacy.gate.disclose()/check() first "
        "(or add a reviewed entry to privacy.codewalk.ALLOW_LIST):\n" + "\n".join(str(p) for p in problems)
    )


def test_the_walk_covers_every_project_app():
    files = {
        str(p.relative_to(Path(settings.BASE_DIR).resolve()))
        for p in codewalk.project_sources(Path(settings.BASE_DIR).resolve())
    }
    for app in ("cinrella", "patients", "appointments", "consents", "messaging", "payments", "privacy", "compliance"):
        assert any(f.startswith(f"{app}/") for f in files), app
    assert not any("/migrations/" in f for f in files)
    # the walk does see the outbound flows that exist today
    kinds = {(o.path, o.function) for o in codewalk.all_outbound(Path(settings.BASE_DIR))}
    assert ("compliance/portal_auth.py", "send_code_by_email") in kinds
    assert ("compliance/views/portal.py", "records") in kinds


def test_allow_list_entries_still_exist_and_carry_a_reason():
    outbound = {(o.path, o.function) for o in codewalk.all_outbound(Path(settings.BASE_DIR))}
    for entry, reason in codewalk.ALLOW_LIST.items():
        assert entry in outbound, f"stale allow-list entry {entry}: remove it"
        assert len(reason) > 20


def scan(**modules):
    sources = [(f"{name.replace('.', '/')}.py", name, textwrap.dedent(src)) for name, src in modules.items()]
    return codewalk.ungated(codewalk.build_index(sources), allow_list={})


def test_ungated_twilio_stripe_email_and_exports_are_reported_with_file_and_line():
    problems = scan(
        **{
            "messaging.sender": """
                import stripe
                from django.core.mail import EmailMessage, send_mail
                from django.http import HttpResponse

                def text(client, phone):
                    client.messages.create(to=phone, body="hi")

                def charge():
                    stripe.PaymentIntent.create(amount=100)

                def new_client_charge(client):
                    client.v1.payment_intents.create(params={})

                def mail(to):
                    send_mail("s", "b", None, [to])

                def mail2(to):
                    EmailMessage("s", "b", to=[to]).send()

                def csv_export(rows):
                    return HttpResponse(rows, content_type="text/csv")

                def attachment(data):
                    response = HttpResponse(data)
                    response["Content-Disposition"] = f'attachment; filename="{data}.txt"'
                    return response

                def webhook(payload, sig, secret):
                    return stripe.Webhook.construct_event(payload, sig, secret)
            """
        }
    )
    reported = {(p.function, p.line) for p in problems}
    assert reported == {
        ("text", 7),
        ("charge", 10),
        ("new_client_charge", 13),
        ("mail", 16),
        ("mail2", 19),
        ("csv_export", 22),
        ("attachment", 26),
    }
    assert str(problems[0]).startswith("messaging/sender.py:7 in text(): Twilio message send")


def test_gate_called_directly_through_a_helper_or_another_module_is_accepted():
    problems = scan(
        **{
            "messaging.outbox": """
                from privacy.gate import disclose
                from messaging import policy_step

                def _clear(patient):
                    disclose(recipient="twilio", categories={"contact"}, purpose="scheduling", patient=patient,
                             description="x")

                def direct(client, patient):
                    disclose(recipient="twilio", categories={"contact"}, purpose="scheduling", patient=patient,
                             description="x")
                    client.messages.create(to="+1", body="x")

                def via_helper(client, patient):
                    _clear(patient)
                    client.messages.create(to="+1", body="x")

                def via_module(client, patient):
                    policy_step.allow(patient)
                    client.messages.create(to="+1", body="x")

                class Sender:
                    def _gate(self, patient):
                        _clear(patient)

                    def send(self, client, patient):
                        self._gate(patient)
                        client.messages.create(to="+1", body="x")
            """,
            "messaging.policy_step": """
                from privacy import gate

                def allow(patient):
                    gate.check(recipient=None, categories=frozenset(), purpose="scheduling", patient=patient)
            """,
        }
    )
    assert problems == []


def test_a_function_named_disclose_elsewhere_does_not_count_as_the_gate():
    problems = scan(
        **{
            "payments.fake": """
                import stripe

                def disclose(**kwargs):
                    return None

                def charge(patient):
                    disclose(patient=patient)
                    stripe.Customer.create(email="x")
            """
        }
    )
    assert [p.function for p in problems] == ["charge"]
