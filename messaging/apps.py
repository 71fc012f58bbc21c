from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging (SMS)"

    def ready(self):
        from messaging import health, receivers  # noqa: F401 — readiness check, appointment signal receivers
