from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = "Checkout (sales)"

    def ready(self):
        from checkout import receivers
        from payments.signals import payment_status_changed, refund_status_changed

        payment_status_changed.connect(receivers.on_payment_status_changed, dispatch_uid="checkout.payment_status")
        refund_status_changed.connect(receivers.on_refund_status_changed, dispatch_uid="checkout.refund_status")
