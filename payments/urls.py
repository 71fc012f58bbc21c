from django.urls import path

from payments.views import portal, staff, webhooks

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="payments-stripe-webhook"),
    # Portal (signed, expiring links; no PHI in the URL).
    path("book/deposit/<str:token>/", portal.deposit, name="payments-deposit"),
    path("book/deposit/<str:token>/done/", portal.deposit_done, name="payments-deposit-done"),
    path("book/pay/<str:token>/", portal.pay, name="payments-pay"),
    path("book/pay/<str:token>/done/", portal.pay_done, name="payments-pay-done"),
    path("book/card/<str:token>/", portal.card, name="payments-card"),
    path("book/card/<str:token>/done/", portal.card_done, name="payments-card-done"),
    # Staff.
    path("staff/payments/takings/", staff.takings, name="payments-takings"),
    path("staff/payments/appointment/<int:appointment_id>/", staff.appointment_payments, name="payments-appointment"),
    path("staff/payments/appointment/<int:appointment_id>/balance/", staff.take_balance, name="payments-balance"),
    path("staff/payments/appointment/<int:appointment_id>/fee/", staff.charge_fee, name="payments-fee"),
    path("staff/payments/appointment/<int:appointment_id>/refund/", staff.refund, name="payments-refund"),
    path("staff/payments/payment/<int:payment_id>/pay-link/", staff.send_pay_link, name="payments-pay-link"),
    path("staff/payments/payment/<int:payment_id>/collect/", staff.collect, name="payments-collect"),
    path("staff/payments/payment/<int:payment_id>/collect/done/", staff.collect_done, name="payments-collect-done"),
    path("staff/payments/patient/<int:patient_id>/", staff.patient_payments, name="payments-patient"),
]
