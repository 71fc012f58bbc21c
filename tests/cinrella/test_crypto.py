"""Field encryption (rotation, loud failure on a wrong key) and keyed blind indexes."""

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from cinrella import crypto

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored_form(field, value):
    return field.get_db_prep_save(value, connection)


def loaded_form(field, stored):
    return field.from_db_value(stored, None, connection)


def test_encrypted_value_round_trips_and_holds_no_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY]
    field = crypto.EncryptedCharField(max_length=100)

    stored = stored_form(field, "Maria Lopez")

    assert "Maria" not in stored
    assert loaded_form(field, stored) == "Maria Lopez"


def test_encrypted_date_round_trips(settings):
    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY]
    field = crypto.EncryptedDateField()

    stored = stored_form(field, dt.date(1990, 4, 1))

    assert "1990" not in stored
    assert loaded_form(field, stored) == dt.date(1990, 4, 1)


def test_rotation_keeps_old_rows_readable_and_resave_uses_the_new_key(settings):
    field = crypto.EncryptedTextField()
    settings.FIELD_ENCRYPTION_KEY = [OLD_KEY]
    written_with_old = stored_form(field, "allergic to lidocaine")

    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY, OLD_KEY]  # new key first, old kept for reading
    value = loaded_form(field, written_with_old)
    rewritten = stored_form(field, value)

    assert value == "allergic to lidocaine"
    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY]  # the old key can now be retired
    assert loaded_form(field, rewritten) == "allergic to lidocaine"
    with pytest.raises(crypto.DecryptionError):
        loaded_form(field, written_with_old)


def test_wrong_key_fails_loudly_instead_of_returning_ciphertext(settings):
    field = crypto.EncryptedCharField(max_length=50)
    settings.FIELD_ENCRYPTION_KEY = [OLD_KEY]
    stored = stored_form(field, "858-256-0289")

    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY]
    with pytest.raises(crypto.DecryptionError):
        loaded_form(field, stored)


def test_missing_key_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEY = []
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt_bytes(b"x")


def test_blind_index_is_stable_and_keyed(settings):
    settings.BLIND_INDEX_KEY = "key-one"
    first = crypto.blind_index("phone", "+18582560289")
    again = crypto.blind_index("phone", "+18582560289")
    settings.BLIND_INDEX_KEY = "key-two"
    other_key = crypto.blind_index("phone", "+18582560289")

    assert first == again
    assert first != other_key
    assert len(first) == 64
    assert "8582560289" not in first


def test_blind_index_kinds_do_not_collide(settings):
    assert crypto.blind_index("email", "x") != crypto.blind_index("name", "x")


@pytest.mark.parametrize("typed", ["(858) 256-0289", "858.256.0289", "+18582560289", "858 256 0289", "1-858-256-0289"])
def test_phone_in_any_format_normalises_to_e164(typed):
    assert crypto.normalise_phone(typed) == "+18582560289"


def test_invalid_phone_normalises_to_none():
    assert crypto.normalise_phone("12345") is None
    assert crypto.normalise_phone("not a phone") is None


def test_name_prefixes_are_accent_and_case_insensitive():
    digests = set(crypto.name_prefix_digests("María José", "Núñez-Smith"))

    for probe in ("mar", "MARI", "maria", "jos", "nun", "nunez", "smi", "smith"):
        assert crypto.blind_index("name", crypto.normalise_name(probe)) in digests
    assert crypto.blind_index("name", "ma") not in digests  # under 3 letters: no prefix
