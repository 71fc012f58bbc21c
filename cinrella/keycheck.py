"""Key canaries: every process proves its keys against the data before it reads or writes anything.

A wrong but valid FIELD_ENCRYPTION_KEYS used to start silently and write new rows nobody could read
later; a wrong BLIND_INDEX_KEY filed STOPs under digests nobody looks up, so the opted-out number
was texted again (issue 13). The database now keeps, in `KeyCanary`, for each master key in use a
fixed value encrypted under it (and its fingerprint, to name it), and the fingerprint of the
blind-index key. A process whose keys do not match refuses to start with a message naming the
variable.

When the check runs:
- every process, on its first database connection (`install`, connected in CinrellaConfig.ready):
  web (wsgi.py also connects eagerly, so gunicorn and runserver refuse to boot), the task worker,
  periodic jobs and every management command; the test suite checks explicitly instead, because
  its tests switch keys on purpose;
- `/readyz`, through the readiness registry.

Recording: a database without canaries is either empty (first start: the configured keys are
recorded) or older than the canaries (each probe reads real data with the configured keys first;
only when that works are they recorded). A new first master key (rotation) is recorded once the
keys already recorded are proven; `rotate_keys` forgets an old key's canary once nothing needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from cinrella import crypto, health

logger = logging.getLogger("cinrella.keys")

CANARY_PLAINTEXT = b"cinrella key canary v1"
CANARY_TABLE = "cinrella_keycanary"

# A blind-index probe compares a stored digest with one computed from the decrypted value:
# True (match), False (mismatch) or None (no data to compare). Apps list theirs in
# `<app>/key_hooks.py` as BLIND_INDEX_PROBES = [(label, callable), ...].
BlindIndexProbe = tuple[str, Callable[[], bool | None]]


class KeyMismatch(ImproperlyConfigured, CommandError):
    """The configured keys do not match the data: the process must not start. A CommandError too,
    so a management command ends with the message and exit status 1 instead of a traceback."""


@dataclass
class KeyReport:
    problems: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)
    skipped: bool = False  # the canary table does not exist yet (before `migrate`)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_keys(*, record: bool = True, using: str = DEFAULT_DB_ALIAS) -> KeyReport:
    """Check the configured keys against the canaries (and, before any canary exists, against the
    data itself). `record=False` never writes and compares with recorded canaries only (readiness:
    the process's own start-up check recorded them)."""
    report = KeyReport()
    # Start-up runs before `migrate` too (on an empty database); readiness assumes a migrated one.
    if record and not _canary_table_exists(using):
        report.skipped = True
        return report
    from cinrella.models import KeyCanary

    canaries = list(KeyCanary.objects.using(using).all())
    if not record and not canaries:
        report.skipped = True
        return report
    _check_master_keys(report, [c for c in canaries if c.kind == KeyCanary.Kind.MASTER], record, using)
    _check_blind_index_key(report, [c for c in canaries if c.kind == KeyCanary.Kind.BLIND_INDEX], record, using)
    return report


def ensure_keys(*, using: str = DEFAULT_DB_ALIAS) -> KeyReport:
    """verify_keys, raising KeyMismatch with every problem when the keys do not match."""
    report = verify_keys(using=using)
    if not report.ok:
        raise KeyMismatch(
            "\n".join(["Refusing to start: the configured keys do not match this database.", *report.problems])
        )
    for line in report.recorded:
        logger.info("key canary recorded: %s", line)
    return report


# --- master keys -------------------------------------------------------------------------------


def _configured_master_keys() -> list[str]:
    keys = settings.FIELD_ENCRYPTION_KEY
    return [keys] if isinstance(keys, str) else list(keys)


def _check_master_keys(report: KeyReport, recorded: list, record: bool, using: str) -> None:
    from cinrella.models import KeyCanary

    configured = {crypto.master_key_id(key): key for key in _configured_master_keys()}
    for canary in recorded:
        key = configured.get(canary.key_id)
        if key is None:
            report.problems.append(
                f"FIELD_ENCRYPTION_KEYS does not hold the master key {canary.key_id[:12]} that encrypted data in "
                f"this database (recorded {canary.created_at:%Y-%m-%d}). Put that key back in "
                "FIELD_ENCRYPTION_KEYS (a new key may go first, for rotation). To retire a key, keep both "
                "configured and run `manage.py rotate_keys` first."
            )
        elif not _opens(key, canary.token):
            report.problems.append(
                f"FIELD_ENCRYPTION_KEYS: the key with fingerprint {canary.key_id[:12]} does not decrypt its canary; "
                "the canary row was altered. Restore the cinrella_keycanary table from the backup of this database."
            )
    if report.problems:
        return
    primary = _configured_master_keys()[0]
    primary_id = crypto.master_key_id(primary)
    if any(c.key_id == primary_id for c in recorded):
        return
    if not recorded:
        failure = _probe_encrypted_data(using)
        if failure:
            report.problems.append(
                f"FIELD_ENCRYPTION_KEYS cannot decrypt the data already in this database ({failure}). "
                "Configure the key this data was written with."
            )
            return
    if record:
        KeyCanary.objects.using(using).bulk_create(
            [
                KeyCanary(
                    kind=KeyCanary.Kind.MASTER,
                    key_id=primary_id,
                    token=Fernet(primary).encrypt(CANARY_PLAINTEXT).decode(),
                )
            ],
            ignore_conflicts=True,  # two processes starting at once record the same key
        )
        report.recorded.append(f"master key {primary_id[:12]}")


def _opens(key: str, token: str) -> bool:
    try:
        return Fernet(key).decrypt(token.encode()) == CANARY_PLAINTEXT
    except (InvalidToken, ValueError):
        return False


def _probe_encrypted_data(using: str) -> str | None:
    """Before canaries existed: read the newest row of every model with encrypted columns.
    Returns where decryption failed, or None when everything read (or there is nothing)."""
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, crypto.EncryptedField)]
        if not fields:
            continue
        try:
            row = model._base_manager.using(using).only(*fields).order_by("-pk").first()
            if row is not None:
                for name in fields:
                    getattr(row, name)
        except crypto.DecryptionError:
            return f"{model._meta.db_table}"
    return None


# --- blind-index key ---------------------------------------------------------------------------


def blind_index_probes() -> list[BlindIndexProbe]:
    from cinrella.app_hooks import collect

    return collect("key_hooks", "BLIND_INDEX_PROBES")


def _check_blind_index_key(report: KeyReport, recorded: list, record: bool, using: str) -> None:
    from cinrella.models import KeyCanary

    configured_id = crypto.blind_index_key_id()
    if recorded:
        if recorded[0].key_id != configured_id:
            report.problems.append(
                "BLIND_INDEX_KEY is not the key this database's search indexes and SMS consent lookups were "
                f"built with (recorded fingerprint {recorded[0].key_id[:12]}, configured {configured_id[:12]}). "
                "With a wrong key, patient searches find nothing and STOP replies are filed where no send looks. "
                "Put the right key back in BLIND_INDEX_KEY."
            )
        return
    if report.problems:
        return  # master keys failed: the probes could not decrypt anyway
    mismatched = [label for label, probe in blind_index_probes() if probe() is False]
    if mismatched:
        report.problems.append(
            "BLIND_INDEX_KEY does not reproduce the digests already stored in this database "
            f"({', '.join(mismatched)}). Configure the key the indexes were built with."
        )
        return
    if record:
        KeyCanary.objects.using(using).bulk_create(
            [KeyCanary(kind=KeyCanary.Kind.BLIND_INDEX, key_id=configured_id)], ignore_conflicts=True
        )
        report.recorded.append(f"blind-index key {configured_id[:12]}")


def forget_master_canaries(*, keep: Iterable[str], using: str = DEFAULT_DB_ALIAS) -> int:
    """Drop the canaries of master keys no longer needed (after `rotate_keys` finished)."""
    from cinrella.models import KeyCanary

    deleted, _ = (
        KeyCanary.objects.using(using).filter(kind=KeyCanary.Kind.MASTER).exclude(key_id__in=list(keep)).delete()
    )
    return deleted


# --- readiness: /readyz fails while the keys do not match --------------------------------------


@health.register("keys")
def keys_match_the_data() -> str | None:
    report = verify_keys(record=False)
    if report.ok:
        return None
    for problem in report.problems:
        logger.error("readiness: %s", problem)
    variables = [v for v in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY") if any(v in p for p in report.problems)]
    return f"{' and '.join(variables) or 'the keys'} do not match the data in this database (see the server log)"


# --- when the check runs -----------------------------------------------------------------------


def _canary_table_exists(using: str) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [CANARY_TABLE])
        return bool(cursor.fetchone()[0])


_verified: set[str] = set()


def _on_connection_created(sender, connection, **kwargs) -> None:
    """First connection of this process to a database: prove the keys before anything else runs
    on it. A failure raises (the command or worker stops), and every later connection retries."""
    if connection.alias in _verified:
        return
    _verified.add(connection.alias)  # the check's own queries must not re-enter
    try:
        with transaction.atomic(using=connection.alias):
            report = ensure_keys(using=connection.alias)
    except BaseException:
        _verified.discard(connection.alias)
        # Never leave an unverified connection open: a process that catches the error and goes on
        # (a worker's retry loop) must hit the check again, not write with the wrong keys.
        connection.close()
        raise
    if report.skipped:
        _verified.discard(connection.alias)  # not migrated yet: check again on the next connection


def install() -> None:
    """Connect the start-up check to every new database connection (not in the test suite, whose
    tests switch keys on purpose and call verify_keys themselves)."""
    from django.db.backends.signals import connection_created

    if getattr(settings, "TESTING", False):
        return
    connection_created.connect(_on_connection_created, dispatch_uid="cinrella.keycheck")
