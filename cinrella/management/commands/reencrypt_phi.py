"""Re-encrypt every encrypted column with the newest key (the first of FIELD_ENCRYPTION_KEYS).

Key rotation: prepend the new key, deploy, run this, then remove the old key.

Append-only tables (history events, consent ledger, signatures) hold ciphertext too; retiring a
key means re-encrypting them as well. This command is the one place that lifts their UPDATE guard,
for its own statements only (pgtrigger.ignore sets a transaction-local flag), and it rewrites the
same plaintext under the new key — never other values."""

import pgtrigger
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from cinrella.crypto import _RaisingEncryptedMixin

BATCH = 500


def encrypted_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, _RaisingEncryptedMixin)]


class Command(BaseCommand):
    help = "Re-encrypt all PHI columns with the current (first) field-encryption key."

    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields or model._meta.proxy or not model._meta.managed:
                continue
            count = self._reencrypt(model, fields)
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")

    @staticmethod
    def _reencrypt(model, fields) -> int:
        count = 0
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            with transaction.atomic():
                rows = model._base_manager.filter(pk__in=pks[start : start + BATCH]).only("pk", *fields)
                with pgtrigger.ignore(*guard_uris(model)):
                    _rewrite(model, rows, fields)
                count += len(rows)
        return count


def guard_uris(model) -> list[str]:
    """The model's UPDATE guards (append-only triggers), as pgtrigger URIs."""
    return [
        f"{model._meta.label}:{trigger.name}"
        for trigger in getattr(model._meta, "triggers", [])
        if "update" in str(getattr(trigger, "operation", "")).lower()
    ]


def _rewrite(model, rows, fields) -> None:
    for row in rows:
        # .update() writes through get_db_prep_save: encrypted again with the first key, without
        # save() side effects (timestamps, signals).
        model._base_manager.filter(pk=row.pk).update(**{f: getattr(row, f) for f in fields})
