from django.urls import path

from messaging.views import staff as views
from messaging.views import webhooks

urlpatterns = [
    path("webhooks/twilio/inbound/", webhooks.twilio_inbound, name="messaging-twilio-inbound"),
    path("webhooks/twilio/status/", webhooks.twilio_status, name="messaging-twilio-status"),
    path("staff/messages/", views.inbox, name="messaging-inbox"),
    path("staff/messages/conversations/<int:pk>/", views.conversation, name="messaging-conversation"),
    path("staff/messages/conversations/<int:pk>/reply/", views.reply, name="messaging-reply"),
    path("staff/messages/conversations/<int:pk>/reviewed/", views.mark_reviewed, name="messaging-reviewed"),
    path(
        "staff/messages/conversations/<int:pk>/inbound/<int:inbound_id>/opt-out/",
        views.reply_is_opt_out,
        name="messaging-reply-opt-out",
    ),
    path("staff/messages/log/", views.outbox_log, name="messaging-log"),
    path("staff/messages/log/<int:pk>/resend/", views.resend_unknown, name="messaging-resend"),
    path("staff/patients/<int:patient_id>/messages/", views.patient_log, name="messaging-patient-log"),
    path("staff/appointments/<int:appointment_id>/messages/", views.appointment_log, name="messaging-appointment-log"),
    path("staff/messages/templates/", views.template_list, name="messaging-templates"),
    path("staff/messages/templates/<str:kind>/", views.template_edit, name="messaging-template-edit"),
    path("staff/messages/campaigns/", views.campaign_list, name="messaging-campaigns"),
    path("staff/messages/campaigns/new/", views.campaign_new, name="messaging-campaign-new"),
    path("staff/messages/campaigns/<int:pk>/", views.campaign_detail, name="messaging-campaign"),
    path("staff/messages/campaigns/<int:pk>/edit/", views.campaign_edit, name="messaging-campaign-edit"),
    path("staff/messages/campaigns/<int:pk>/progress/", views.campaign_progress, name="messaging-campaign-progress"),
    path("staff/messages/simulator/", views.simulator, name="messaging-simulator"),
]
