from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from appointments.signals import appointment_cancelled
        from payments.receivers import on_appointment_cancelled

        appointment_cancelled.connect(on_appointment_cancelled, dispatch_uid="payments.on_appointment_cancelled")
