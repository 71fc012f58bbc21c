from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging (SMS)"

    def ready(self):
        from messaging import receivers  # noqa: F401 — connects the appointment signal receivers
