"""Field encryption and keyed blind indexes for PHI.

Encryption: django-encrypted-model-fields (Fernet) underneath, but the library silently returns
the stored ciphertext when decryption fails (wrong or missing key), which would show garbage as
if it were data and hide a key-management mistake. Our subclasses raise `DecryptionError` instead.
Keys come from settings.FIELD_ENCRYPTION_KEY, newest first: new writes use the first key, reads
try them all, so a key can be rotated by prepending a new one and re-saving rows
(`python manage.py rotate_keys`, which also covers encrypted files).

Blind indexes: HMAC-SHA256 with BLIND_INDEX_KEY (never the encryption key) over a normalised
value, so equality lookups work on data the database cannot read.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from encrypted_model_fields import fields as emf


class DecryptionError(Exception):
    """Stored ciphertext could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _crypter_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: PHI cannot be read or written.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds an invalid Fernet key.") from exc


def crypter() -> MultiFernet:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEY", None)
    if keys is None:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is not set: PHI cannot be read or written.")
    if isinstance(keys, str):
        keys = [keys]
    return _crypter_for(tuple(keys))


def encrypt_bytes(data: bytes) -> bytes:
    return crypter().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return crypter().decrypt(token)
    except InvalidToken as exc:
        raise DecryptionError("encrypted data could not be decrypted with the configured keys") from exc


def primary_fernet() -> Fernet:
    """The newest master key alone: what every new master-key token is written with."""
    keys = settings.FIELD_ENCRYPTION_KEY
    return Fernet(keys if isinstance(keys, str) else keys[0])


def is_under_primary(token: bytes) -> bool:
    try:
        primary_fernet().decrypt(token)
    except InvalidToken:
        return False
    return True


def rotate_token(token: bytes) -> bytes:
    """The same plaintext, re-encrypted under the newest master key (rotation)."""
    try:
        return crypter().rotate(token)
    except InvalidToken as exc:
        raise DecryptionError("encrypted data could not be decrypted with the configured keys") from exc


class _RaisingEncryptedMixin:
    """Decrypt on load and raise when it fails; encrypt on save with the current first key."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        plaintext = decrypt_bytes(value.encode("utf-8")).decode("utf-8")
        # Parse with the plain field's to_python (dates etc.), skipping the library's
        # decrypt-or-pass-through to_python.
        return super(emf.EncryptedMixin, self).to_python(plaintext)

    def to_python(self, value):
        # Values arriving here come from forms or assignments: they are plaintext already.
        return super(emf.EncryptedMixin, self).to_python(value)

    def get_db_prep_save(self, value, connection):
        value = super(emf.EncryptedMixin, self).get_db_prep_save(value, connection)
        if value is None:
            return None
        return encrypt_bytes(str(value).encode("utf-8")).decode("utf-8")


# Every encrypted field is one of these (for code that walks models looking for encrypted columns).
EncryptedField = _RaisingEncryptedMixin


class EncryptedCharField(_RaisingEncryptedMixin, emf.EncryptedCharField):
    pass


class EncryptedTextField(_RaisingEncryptedMixin, emf.EncryptedTextField):
    pass


class EncryptedDateField(_RaisingEncryptedMixin, emf.EncryptedDateField):
    pass


class EncryptedEmailField(_RaisingEncryptedMixin, emf.EncryptedEmailField):
    pass


# --- key fingerprints (cinrella.keycheck): HMACs under the key, never the key ----------------


def master_key_id(key: str) -> str:
    """Fingerprint of one FIELD_ENCRYPTION_KEYS entry: names it in canaries and messages."""
    return hmac.new(key.encode("utf-8"), b"cinrella:master-key-id", hashlib.sha256).hexdigest()


def blind_index_key_id() -> str:
    """Fingerprint of BLIND_INDEX_KEY (an HMAC of a fixed string, outside every index's domain)."""
    key = settings.BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is not set.")
    return hmac.new(key.encode("utf-8"), b"cinrella:blind-index-key-id", hashlib.sha256).hexdigest()


# --- blind indexes ------------------------------------------------------------------------------


def blind_index(kind: str, normalised: str) -> str:
    """HMAC-SHA256 of `kind:normalised` under BLIND_INDEX_KEY, hex. `kind` separates domains so a
    phone digest can never equal an email digest."""
    key = settings.BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is not set.")
    message = f"{kind}:{normalised}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def normalise_phone(raw: str, region: str = "US") -> str | None:
    """E.164 for a phone typed in any usual format, or None when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    return raw.strip().casefold()


def normalise_name(raw: str) -> str:
    """Accent- and case-insensitive form: 'José' and 'jose' normalise alike."""
    decomposed = unicodedata.normalize("NFKD", raw)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def name_tokens(raw: str) -> list[str]:
    """Words of a name after normalisation; hyphens and apostrophes split words."""
    cleaned = normalise_name(raw)
    for sep in "-'’.,":
        cleaned = cleaned.replace(sep, " ")
    return [t for t in cleaned.split() if t]


NAME_PREFIX_MIN = 3


def name_prefix_digests(*names: str) -> list[str]:
    """Digests of every prefix (≥3 letters) of every word, plus every whole word.

    Stored in an indexed array so 'mar', 'mari', 'maria' all find 'María'."""
    digests: set[str] = set()
    for name in names:
        for token in name_tokens(name or ""):
            digests.add(blind_index("name", token))
            for end in range(NAME_PREFIX_MIN, len(token)):
                digests.add(blind_index("name", token[:end]))
    return sorted(digests)
