import base64

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from appointments.models import Location
from cinrella.app_hooks import app_modules
from cinrella.demo import DEMO_LOCATION, DEMO_USERS, credentials_table


def totp_hex_key(b32: str) -> str:
    return base64.b32decode(b32 + "=" * (-len(b32) % 8)).hex()


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent): a location and one staff user per role, with 2FA."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-credentials", action="store_true", help="Do not print sign-in details.")

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo loads public demo passwords: it only runs with DJANGO_DEBUG=true.")
        Location.objects.get_or_create(name=DEMO_LOCATION["name"], defaults=DEMO_LOCATION)
        for demo in DEMO_USERS:
            self._ensure_user(demo)
        self._extend_demo()
        if not options["quiet_credentials"]:
            self.stdout.write(credentials_table())

    def _ensure_user(self, demo):
        user, created = User.objects.get_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "is_staff": True,
                "is_superuser": demo.superuser,
                "email": f"{demo.username}@demo.cinrella.invalid",
            },
        )
        if created:
            user.set_password(demo.password)
            user.save()
        if demo.role:
            user.groups.add(Group.objects.get(name=demo.role.value))
        TOTPDevice.objects.get_or_create(
            user=user, name="Demo authenticator", defaults={"key": totp_hex_key(demo.totp_b32), "confirmed": True}
        )

    def _extend_demo(self):
        """Each app's `demo.load(stdout)` adds its part of the demo clinic (see cinrella.app_hooks)."""
        for module in app_modules("demo"):
            if module.__name__ != "cinrella.demo":
                module.load(self.stdout)
