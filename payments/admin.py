from django.contrib import admin

from payments.models import CancellationPolicyAgreement, Payment, ProcessedStripeEvent, Refund, SavedPaymentMethod


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money rows change only through services and webhooks; admin is for looking."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "amount_cents", "currency", "status", "appointment_id", "created_at")
    list_filter = ("kind", "status")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "payment_id", "amount_cents", "status", "automatic", "created_at")


@admin.register(SavedPaymentMethod)
class SavedPaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ("id", "patient_id", "brand", "last4", "exp_month", "exp_year", "detached_at")


@admin.register(CancellationPolicyAgreement)
class CancellationPolicyAgreementAdmin(ReadOnlyAdmin):
    list_display = ("id", "patient_id", "version", "agreed_at")


@admin.register(ProcessedStripeEvent)
class ProcessedStripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "processed_at")
