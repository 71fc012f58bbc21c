"""Django admin permissions of each role, declared here and synced after every `migrate`.

Admin is for managers' configuration (locations, services, templates, the recipient registry,
retention). Front desk, providers and billing work in /staff/; they get no admin permissions.
Patient data in admin is further limited by privacy.access, whatever these permissions say."""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from cinrella.roles import Role

# app_label → actions; "*" = every model of the app. View-only entries use ("view",).
ROLE_MODEL_PERMISSIONS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.MANAGER: {
        "appointments": ("add", "change", "delete", "view"),
        "consents": ("add", "change", "view"),
        "messaging": ("add", "change", "view"),
        "privacy": ("add", "change", "view"),
        "payments": ("view",),
        "patients": ("view",),
        "cinrella": ("view",),
        "auth": ("view",),
    },
}


def sync_role_permissions() -> None:
    for role, grants in ROLE_MODEL_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = Permission.objects.none()
        for app_label, actions in grants.items():
            for action in actions:
                wanted |= Permission.objects.filter(
                    content_type__app_label=app_label, codename__startswith=f"{action}_"
                )
        group.permissions.set(wanted)


@receiver(post_migrate)
def _sync_after_migrate(sender, app_config=None, plan=None, **kwargs):
    if plan is None:
        # `flush` (between transactional tests) emits post_migrate without a plan; the groups'
        # rows are restored from the serialized test database there, so don't create them twice.
        return
    # Once per migrate run, after the last installed app: every app's permissions exist by then.
    if app_config is not None and app_config is list(apps.get_app_configs())[-1]:
        sync_role_permissions()
