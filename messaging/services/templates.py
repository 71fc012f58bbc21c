"""Message wording that managers edit (one template per kind; the default when none is saved)."""

from __future__ import annotations

from django.db import transaction

from messaging import templating


@transaction.atomic
def save_template(*, kind: str, body: str, user):
    from messaging.models import MessageTemplate

    templating.validate_template(body, kind=kind)
    template, _ = MessageTemplate.objects.update_or_create(kind=kind, defaults={"body": body, "updated_by": user})
    return template


@transaction.atomic
def reset_template(*, kind: str) -> None:
    from messaging.models import MessageTemplate

    MessageTemplate.objects.filter(kind=kind).delete()
