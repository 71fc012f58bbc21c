from django.urls import path

from payments.views import staff as views

urlpatterns = [
    path("webhooks/stripe/", views.stripe_webhook, name="payments-stripe-webhook"),
    # Portal (signed, expiring links; no PHI in the URL).
    path("book/deposit/<str:token>/", views.deposit, name="payments-deposit"),
    path("book/deposit/<str:token>/done/", views.deposit_done, name="payments-deposit-done"),
    path("book/pay/<str:token>/", views.pay, name="payments-pay"),
    path("book/pay/<str:token>/done/", views.pay_done, name="payments-pay-done"),
    path("book/card/<str:token>/", views.card, name="payments-card"),
    path("book/card/<str:token>/done/", views.card_done, name="payments-card-done"),
    # Staff.
    path("staff/payments/takings/", views.takings, name="payments-takings"),
    path("staff/payments/appointment/<int:appointment_id>/", views.appointment_payments, name="payments-appointment"),
    path("staff/payments/appointment/<int:appointment_id>/balance/", views.take_balance, name="payments-balance"),
    path("staff/payments/appointment/<int:appointment_id>/fee/", views.charge_fee, name="payments-fee"),
    path("staff/payments/appointment/<int:appointment_id>/refund/", views.refund, name="payments-refund"),
    path("staff/payments/payment/<int:payment_id>/pay-link/", views.send_pay_link, name="payments-pay-link"),
    path("staff/payments/payment/<int:payment_id>/collect/", views.collect, name="payments-collect"),
    path("staff/payments/payment/<int:payment_id>/collect/done/", views.collect_done, name="payments-collect-done"),
    path("staff/payments/patient/<int:patient_id>/", views.patient_payments, name="payments-patient"),
]
