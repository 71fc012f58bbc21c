import datetime as dt

import pytest
from django.db import connection

from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import latest_sms_consent, sms_consent_history, sms_opted_in
from consents.services import record_sms_consent_event
from tests.factories import UserFactory
from tests.helpers import assert_append_only

pytestmark = pytest.mark.django_db
PHONE = "(858) 555-0100"


def event(action, purpose=SmsPurpose.TRANSACTIONAL, minutes=0, **kw):
    kw.setdefault("source", SmsConsentEvent.Source.PORTAL_FORM)
    return record_sms_consent_event(
        phone=PHONE,
        purpose=purpose,
        action=action,
        occurred_at=dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes),
        **kw,
    )


def test_state_follows_the_latest_event_opt_in_opt_out_opt_in():
    assert sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL) is False
    event("opt_in", minutes=0)
    assert sms_opted_in("+18585550100", SmsPurpose.TRANSACTIONAL) is True
    event("opt_out", minutes=1, source=SmsConsentEvent.Source.KEYWORD)
    assert sms_opted_in("858.555.0100", SmsPurpose.TRANSACTIONAL) is False
    event("opt_in", minutes=2, source=SmsConsentEvent.Source.KEYWORD)
    assert sms_opted_in(PHONE, SmsPurpose.TRANSACTIONAL) is True
    assert sms_opted_in(PHONE, SmsPurpose.MARKETING) is False  # purposes are separate


def test_help_events_do_not_change_state():
    event("opt_in")
    event("help", minutes=1, source=SmsConsentEvent.Source.KEYWORD)
    assert latest_sms_consent(PHONE, SmsPurpose.TRANSACTIONAL).action == "opt_in"


def test_ledger_rows_cannot_be_updated_or_deleted_in_the_database():
    row = event("opt_in")
    assert_append_only(SmsConsentEvent, row.pk)


def test_ledger_holds_no_plaintext_phone():
    event("opt_in")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_bidx FROM consents_smsconsentevent")
        stored = " ".join(cursor.fetchone())
    assert "555" not in stored


def test_verbal_consent_requires_staff_user_and_note():
    with pytest.raises(ValueError):
        event("opt_in", source=SmsConsentEvent.Source.STAFF_VERBAL, staff_user=UserFactory(), note="  ")
    row = event("opt_in", source=SmsConsentEvent.Source.STAFF_VERBAL, staff_user=UserFactory(), note="Said yes at desk")
    assert row.staff_user is not None


def test_history_lists_every_event_in_order_with_disclosure_text():
    event("opt_in", disclosure_text="Text A", disclosure_version="1")
    event("opt_out", minutes=5, disclosure_text="STOP", source=SmsConsentEvent.Source.KEYWORD)
    assert [e.disclosure_text for e in sms_consent_history(PHONE)] == ["Text A", "STOP"]
