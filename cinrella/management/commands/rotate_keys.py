"""Master-key rotation: move everything encrypted under an older FIELD_ENCRYPTION_KEYS entry to the
newest one, database columns and files alike, then forget the old keys' canaries.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it), deploy,
run this, then remove the old key. Safe to stop and run again: every batch commits on its own and
a value already under the newest key is left alone, so a second run finishes what the first began.

Encrypted files are listed by each app's `key_hooks.ENCRYPTED_FILES` (functions yielding paths):
photos under PRIVATE_MEDIA_ROOT were forgotten by the first version of this command, and dropping
the old key then destroyed every photo (issue 13).

Append-only tables (history events, consent ledger, signatures) hold ciphertext too. This command
is the one place that lifts their UPDATE guard, for its own statements only (pgtrigger.ignore sets
a transaction-local flag), and it rewrites the same plaintext under the new key, never other
values; run it with the database role migrations use."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pgtrigger
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from cinrella import crypto, keycheck
from cinrella.app_hooks import collect

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt everything under the newest FIELD_ENCRYPTION_KEYS entry (columns and files); resumable."

    def handle(self, *args, **options):
        failures = 0
        for model in encrypted_models():
            counts = rotate_columns(model)
            failures += counts["unreadable"]
            self.stdout.write(f"{model._meta.label}: {describe(counts)}")
        for label, paths in encrypted_file_sets():
            counts = rotate_files(paths)
            failures += counts["unreadable"]
            self.stdout.write(f"{label} files: {describe(counts)}")
        if failures:
            raise CommandError(
                f"{failures} value(s) could not be decrypted with FIELD_ENCRYPTION_KEYS; the old key is still "
                "needed. Nothing else was lost: fix the keys and run this again."
            )
        primary = crypto.master_key_id(keycheck._configured_master_keys()[0])
        forgotten = keycheck.forget_master_canaries(keep=[primary])
        self.stdout.write(
            f"Everything is under the newest key ({primary[:12]}); {forgotten} older key canary(ies) forgotten. "
            "The older keys can now be removed from FIELD_ENCRYPTION_KEYS."
        )


def describe(counts: Counter) -> str:
    return (
        f"{counts['rotated']} re-encrypted, {counts['current']} already under the newest key"
        + (f", {counts['missing']} missing" if counts["missing"] else "")
        + (f", {counts['unreadable']} UNREADABLE" if counts["unreadable"] else "")
    )


def encrypted_models():
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        if encrypted_columns(model):
            yield model


def encrypted_columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if isinstance(f, crypto.EncryptedField)]


def guard_uris(model) -> list[str]:
    """The model's UPDATE guards (append-only triggers), as pgtrigger URIs."""
    return [
        f"{model._meta.label}:{trigger.name}"
        for trigger in getattr(model._meta, "triggers", [])
        if "update" in str(getattr(trigger, "operation", "")).lower()
    ]


def _rotated(value: str | None, counts: Counter) -> str | None:
    """The value re-encrypted under the newest key, or None when it needs nothing."""
    if value is None:
        return None
    token = value.encode()
    if crypto.is_under_primary(token):
        counts["current"] += 1
        return None
    try:
        rotated = crypto.rotate_token(token).decode()
    except crypto.DecryptionError:
        counts["unreadable"] += 1
        return None
    counts["rotated"] += 1
    return rotated


def rotate_columns(model) -> Counter:
    """Raw ciphertext in, raw ciphertext out: no field conversion, no save() side effects."""
    table, pk = model._meta.db_table, model._meta.pk.column
    columns = encrypted_columns(model)
    counts: Counter = Counter()
    last = None
    while True:
        with transaction.atomic(), pgtrigger.ignore(*guard_uris(model)), connection.cursor() as cursor:
            where = f'WHERE "{pk}" > %s' if last is not None else ""
            select_list = ", ".join(f'"{c}"' for c in columns)
            cursor.execute(
                f'SELECT "{pk}", {select_list} FROM "{table}" {where} ORDER BY "{pk}" LIMIT {BATCH}',  # noqa: S608
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
            for row_pk, *values in rows:
                changes = {c: new for c, v in zip(columns, values, strict=True) if (new := _rotated(v, counts))}
                if changes:
                    assignments = ", ".join(f'"{c}" = %s' for c in changes)
                    cursor.execute(
                        f'UPDATE "{table}" SET {assignments} WHERE "{pk}" = %s',  # noqa: S608
                        [*changes.values(), row_pk],
                    )
        if len(rows) < BATCH:
            return counts
        last = rows[-1][0]


def encrypted_file_sets():
    for hook in collect("key_hooks", "ENCRYPTED_FILES"):
        yield hook.__doc__.strip().splitlines()[0] if hook.__doc__ else hook.__name__, hook()


def rotate_files(paths) -> Counter:
    counts: Counter = Counter()
    for path in paths:
        path = Path(path)
        if not path.exists():
            counts["missing"] += 1
            continue
        rotated = _rotated(path.read_text("ascii"), counts)
        if rotated is not None:
            replace_atomically(path, rotated.encode())
    return counts


def replace_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".rotating")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    tmp.replace(path)  # a reader sees the old file or the new one, never half of one
