from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging (SMS)"

    def ready(self):
        from messaging import receivers  # noqa: F401 — connects the appointment signal receivers
        from messaging.services import send_sign_in_code
        from privacy.portal_auth import SMS_CODE_SENDERS

        if send_sign_in_code not in SMS_CODE_SENDERS:
            SMS_CODE_SENDERS.append(send_sign_in_code)  # portal sign-in codes by text
