"""Staff pages: inbox, conversations, message logs, templates, campaigns, phone simulator."""

import uuid
from functools import wraps
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.test import RequestFactory
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from cinrella.roles import Role, has_role
from messaging import quiet_hours, selectors, templating
from messaging.backends import is_console_backend
from messaging.forms import (
    EDITABLE_KINDS,
    CampaignForm,
    ReplyForm,
    ScheduleCampaignForm,
    SimulatorReplyForm,
    TemplateForm,
)
from messaging.models import Campaign, Conversation, InboundMessage, Kind, OutboundMessage, Status
from messaging.services.appointment_messages import manage_link
from messaging.services.campaigns import (
    ONLY_DRAFTS_ARE_EDITED,
    CampaignError,
    cancel_campaign,
    create_campaign,
    delete_draft_campaign,
    schedule_campaign,
    update_draft_campaign,
)
from messaging.services.inbox import (
    mark_conversation_read,
    mark_conversation_reviewed,
    record_reply_as_opt_out,
    retry_unknown,
    staff_reply,
)
from messaging.services.outbox import InvalidRecipient
from messaging.services.templates import reset_template, save_template
from messaging.views import webhooks

INBOX_ROLES = (Role.FRONT_DESK, Role.MANAGER)
LOG_ROLES = (Role.FRONT_DESK, Role.MANAGER, Role.PROVIDER)
# Sending again a message set aside for a person (unknown / quarantined): a manager's decision.
RESEND_ROLES = (Role.MANAGER,)


def may_resend(user) -> bool:
    """The one answer for the resend view and for whether its buttons are shown."""
    return user.is_superuser or has_role(user, *RESEND_ROLES)


def roles_required(*roles):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not (request.user.is_superuser or has_role(request.user, *roles)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# --- inbox ------------------------------------------------------------------------------------------


@roles_required(*INBOX_ROLES)
def inbox(request):
    page = Paginator(selectors.inbox_conversations(), 50).get_page(request.GET.get("page"))
    for convo in page:
        convo.review_label = _review_label(convo.review_reason)
    flagged = Conversation.objects.filter(needs_review=True).count()
    return render(
        request,
        "messaging/inbox.html",
        {"page": page, "flagged": flagged, "unread_total": selectors.unread_total()},
    )


def _review_label(reason: str) -> str:
    """What a flagged conversation needs, in two words (the reason is the badge's title)."""
    if reason.startswith("Replied CANCEL"):
        return "Cancel request — review"
    if reason.startswith("Might be an opt-out"):
        return "Possible opt-out — review"
    return "Revocation — review"


def _quiet_hours_note(conversation):
    """When a reply may go, as the recipient reads it (their zone, from the area code) and, when that
    differs, as the clinic does; None outside quiet hours."""
    now = timezone.now()
    allowed = quiet_hours.next_allowed_time(conversation.phone, now)
    if allowed <= now:
        return None
    clinic_zone = ZoneInfo(settings.CLINIC_TIME_ZONE)
    zones, _ = quiet_hours.recipient_region(conversation.phone)
    their_zone = ZoneInfo(zones[0]) if zones else clinic_zone
    note = dateformat.format(allowed.astimezone(their_zone), "D M j, g:i A T") + " their time"
    clinic_local = allowed.astimezone(clinic_zone)
    if clinic_local.utcoffset() != allowed.astimezone(their_zone).utcoffset():
        note += " (" + dateformat.format(clinic_local, "g:i A T") + " here)"
    return note


@roles_required(*INBOX_ROLES)
def conversation(request, pk):
    convo = get_object_or_404(Conversation.objects.select_related("patient", "reviewed_by"), pk=pk)
    mark_conversation_read(conversation=convo)
    return render(request, "messaging/conversation.html", _conversation_context(convo, ReplyForm()))


def _conversation_context(convo, form):
    from consents.models import SmsConsentEvent, SmsPurpose
    from consents.selectors import latest_sms_consents

    thread = selectors.conversation_thread(convo)
    actions = {purpose: event.action for purpose, event in latest_sms_consents(convo.phone).items()}
    return {
        "conversation": convo,
        "thread": thread,
        "form": form,
        "opted_in": actions.get(SmsPurpose.TRANSACTIONAL) == SmsConsentEvent.Action.OPT_IN,
        "opted_out_everything": all(actions.get(p) == SmsConsentEvent.Action.OPT_OUT for p in SmsPurpose),
        "revoked": any(d == "in" and m.handling == InboundMessage.Handling.REVOCATION for d, _, m in thread),
        "quiet_until": _quiet_hours_note(convo),
    }


@require_POST
@roles_required(*INBOX_ROLES)
def reply(request, pk):
    convo = get_object_or_404(Conversation, pk=pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return render(request, "messaging/conversation.html", _conversation_context(convo, form), status=400)
    try:
        row = staff_reply(conversation=convo, text=form.cleaned_data["text"], user=request.user)
    except InvalidRecipient:
        messages.error(request, "This sender is not a mobile number we can text (e.g. a short code).")
        return redirect("messaging-conversation", pk=convo.pk)
    quiet_until = _quiet_hours_note(convo)
    if quiet_until:
        messages.warning(request, "It is quiet hours for this number: the reply waits until the allowed time.")
    else:
        messages.success(request, f"Reply queued (message #{row.pk}).")
    return redirect("messaging-conversation", pk=convo.pk)


@require_POST
@roles_required(*INBOX_ROLES)
def reply_is_opt_out(request, pk, inbound_id):
    """One click: staff read a reply as an opt-out that the classifier was unsure of (or missed)."""
    inbound = get_object_or_404(InboundMessage.objects.select_related("conversation"), pk=inbound_id, conversation=pk)
    if record_reply_as_opt_out(inbound=inbound, user=request.user):
        messages.success(request, "Recorded as an opt-out of all texts; the number gets the one STOP confirmation.")
    else:
        messages.info(request, "This number had already opted out of all texts.")
    return redirect("messaging-conversation", pk=pk)


@require_POST
@roles_required(*INBOX_ROLES)
def mark_reviewed(request, pk):
    convo = get_object_or_404(Conversation, pk=pk)
    mark_conversation_reviewed(conversation=convo, user=request.user)
    messages.success(request, "Marked as reviewed.")
    return redirect("messaging-conversation", pk=convo.pk)


# --- logs -------------------------------------------------------------------------------------------


def _log_page(request, queryset, title, **extra):
    page = Paginator(queryset.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    context = {"page": page, "title": title, "can_resend": may_resend(request.user), **extra}
    return render(request, "messaging/log.html", context)


@roles_required(*LOG_ROLES)
def outbox_log(request):
    status = request.GET.get("status", "")
    queryset = selectors.message_log()
    if status in Status.values:
        queryset = queryset.filter(status=status)
    return _log_page(request, queryset, "Message log", statuses=Status.choices, current_status=status)


@roles_required(*LOG_ROLES)
def patient_log(request, patient_id):
    from patients.models import Patient

    patient = get_object_or_404(Patient, pk=patient_id)
    return _log_page(request, selectors.message_log(patient=patient), f"Messages to patient #{patient.pk}")


@roles_required(*LOG_ROLES)
def appointment_log(request, appointment_id):
    from appointments.models import Appointment

    appointment = get_object_or_404(Appointment, pk=appointment_id)
    return _log_page(request, selectors.message_log(appointment=appointment), f"Messages for {appointment}")


@require_POST
@roles_required(*RESEND_ROLES)
def resend_unknown(request, pk):
    row = get_object_or_404(
        OutboundMessage.objects.only("pk", "status"), pk=pk, status__in=[Status.UNKNOWN, Status.QUARANTINED]
    )
    retry_unknown(message=row, user=request.user)
    messages.success(request, f"Message #{row.pk} will be sent again (consent and quiet hours still apply).")
    return redirect("messaging-log")


# --- templates --------------------------------------------------------------------------------------


@roles_required(Role.MANAGER)
def template_list(request):
    rows = [
        {"kind": kind, "label": kind.label, "body": templating.template_text(kind), "custom": False}
        for kind in EDITABLE_KINDS
    ]
    from messaging.models import MessageTemplate

    custom = set(MessageTemplate.objects.values_list("kind", flat=True))
    for row in rows:
        row["custom"] = row["kind"] in custom
    return render(request, "messaging/templates.html", {"rows": rows, "placeholders": templating.PLACEHOLDERS})


@roles_required(Role.MANAGER)
def template_edit(request, kind):
    if kind not in {k.value for k in EDITABLE_KINDS}:
        raise Http404
    label = Kind(kind).label
    if request.method == "POST":
        if "reset" in request.POST:
            reset_template(kind=kind)
            messages.success(request, f"{label}: back to the default wording.")
            return redirect("messaging-templates")
        form = TemplateForm(request.POST, kind=kind)
        if form.is_valid():
            save_template(kind=kind, body=form.cleaned_data["body"], user=request.user)
            messages.success(request, f"{label}: saved.")
            return redirect("messaging-templates")
    else:
        form = TemplateForm(initial={"body": templating.template_text(kind)}, kind=kind)
    preview = ""
    if form.is_bound and form.is_valid():
        preview = templating.render(kind, _sample_context(), template=form.cleaned_data["body"])
    elif not form.is_bound:
        preview = templating.render(kind, _sample_context())
    return render(
        request,
        "messaging/template_edit.html",
        {
            "form": form,
            "kind": kind,
            "label": label,
            "preview": preview,
            "placeholders": templating.placeholders_for(kind),
            "required": templating.required_wording(kind),
        },
    )


def _sample_context():
    return {
        "first_name": "Ana",
        "date": "Tue Mar 3",
        "time": "2:30 PM",
        "location": "La Jolla",
        "manage_link": manage_link(),
        "link": "https://example.test/l/abc",
        "amount": "$50.00",
    }


# --- campaigns --------------------------------------------------------------------------------------


@roles_required(Role.MANAGER)
def campaign_list(request):
    campaigns = list(
        Campaign.objects.select_related("created_by").annotate(
            message_count=Count("messages"),
            pending=Count("messages", filter=Q(messages__status__in=[Status.PENDING, Status.SENDING])),
        )[:100]
    )
    for campaign in campaigns:
        campaign.state_label = selectors.campaign_state_label(
            campaign, total=campaign.message_count, pending=campaign.pending
        )
    return render(request, "messaging/campaigns.html", {"campaigns": campaigns})


@roles_required(Role.MANAGER)
def campaign_new(request):
    form = CampaignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        campaign = create_campaign(**form.campaign_fields(), user=request.user)
        return redirect("messaging-campaign", pk=campaign.pk)
    return render(request, "messaging/campaign_new.html", {"form": form})


@roles_required(Role.MANAGER)
def campaign_edit(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.state != Campaign.State.DRAFT:
        messages.error(request, ONLY_DRAFTS_ARE_EDITED)
        return redirect("messaging-campaign", pk=campaign.pk)
    form = CampaignForm.for_draft(campaign, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            update_draft_campaign(campaign=campaign, **form.campaign_fields())
        except CampaignError as exc:
            messages.error(request, str(exc))
        return redirect("messaging-campaign", pk=campaign.pk)
    return render(request, "messaging/campaign_new.html", {"form": form, "campaign": campaign})


@roles_required(Role.MANAGER)
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = ScheduleCampaignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if "cancel" in request.POST:
            count = cancel_campaign(campaign=campaign, user=request.user)
            messages.success(request, f"Campaign cancelled; {count} unsent message(s) withdrawn.")
            return redirect("messaging-campaign", pk=campaign.pk)
        if "delete" in request.POST:
            return _delete_draft(request, campaign)
        if form.is_valid():
            ids = form.cleaned_data["patient_ids"] or None
            try:
                count = schedule_campaign(
                    campaign=campaign, user=request.user, start_at=form.cleaned_data["start_at"], patient_ids=ids
                )
            except CampaignError as exc:
                messages.error(request, str(exc))
            else:
                campaign.refresh_from_db()
                messages.success(request, f"Scheduled to {count} patient(s).")
                if campaign.excluded_count:
                    messages.warning(
                        request,
                        f"{campaign.excluded_count} selected patient(s) have no current marketing opt-in "
                        "and were left out.",
                    )
            return redirect("messaging-campaign", pk=campaign.pk)
    audience = selectors.marketing_audience(campaign.filters) if campaign.state == Campaign.State.DRAFT else None
    return render(
        request,
        "messaging/campaign_detail.html",
        {
            "campaign": campaign,
            "form": form,
            "audience_count": audience.count() if audience is not None else None,
            "audience": list(audience[:200]) if audience is not None else [],
            "preview": templating.render(Kind.CAMPAIGN, {"first_name": "Ana"}, template=campaign.body),
            "progress": selectors.campaign_progress(campaign),
        },
    )


def _delete_draft(request, campaign):
    try:
        delete_draft_campaign(campaign=campaign)
    except CampaignError as exc:
        messages.error(request, str(exc))
        return redirect("messaging-campaign", pk=campaign.pk)
    messages.success(request, f"Draft “{campaign.name}” deleted.")
    return redirect("messaging-campaigns")


@roles_required(Role.MANAGER)
def campaign_progress(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    return render(
        request,
        "messaging/partials/campaign_progress.html",
        {"campaign": campaign, "progress": selectors.campaign_progress(campaign)},
    )


# --- development phone simulator -------------------------------------------------------------------


def _simulate_inbound(request, phone: str, body: str):
    """Reply as the patient through the real inbound webhook view, signed like Twilio signs."""
    url = request.build_absolute_uri(reverse("messaging-twilio-inbound"))
    if settings.PUBLIC_BASE_URL:
        url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("messaging-twilio-inbound")
    params = {
        "MessageSid": "SMsim" + uuid.uuid4().hex[:29],
        "AccountSid": settings.TWILIO_ACCOUNT_SID or "ACsimulator",
        "From": phone,
        "To": settings.CLINIC_PHONE,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(webhooks.webhook_auth_token()).compute_signature(url, params)
    webhook_request = RequestFactory().post(
        reverse("messaging-twilio-inbound"),
        data=params,
        headers={"X-Twilio-Signature": signature},
        secure=request.is_secure(),
        HTTP_HOST=request.get_host(),
    )
    return webhooks.twilio_inbound(webhook_request)


@login_required
def simulator(request):
    if not is_console_backend():
        raise Http404
    form = SimulatorReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if "run_worker" in request.POST:
            from messaging.dispatch import run_once

            result = run_once()
            messages.success(
                request, f"Worker ran: {result.sent} sent, {result.held} held, {result.suppressed} suppressed."
            )
            return redirect("messaging-simulator")
        if form.is_valid():
            response = _simulate_inbound(request, form.cleaned_data["phone"], form.cleaned_data["body"])
            if response.status_code == 200:
                messages.success(request, "Reply delivered to the webhook.")
                from messaging.dispatch import run_once

                run_once()  # send any automatic answer right away, as Twilio would deliver it
            else:
                messages.error(request, f"The webhook answered {response.status_code}.")
            return redirect("messaging-simulator")
    # The 30 numbers with the latest traffic either way: a number that only texted in (nothing
    # sent back yet) is listed too, so a reply made here always shows up here.
    latest = dict(
        OutboundMessage.objects.values("to_bidx")
        .annotate(last=Max("created_at"))
        .order_by("-last")[:30]
        .values_list("to_bidx", "last")
    )
    conversations = Conversation.objects.order_by("-last_message_at").values_list("phone_bidx", "last_message_at")
    for digest, last in conversations[:30]:
        if last and (digest not in latest or last > latest[digest]):
            latest[digest] = last
    phones = sorted(latest, key=latest.get, reverse=True)[:30]
    numbers = []
    for digest in phones:
        outbound = list(OutboundMessage.objects.filter(to_bidx=digest).order_by("-created_at")[:20])
        inbound = list(InboundMessage.objects.filter(from_bidx=digest).order_by("-received_at")[:20])
        thread = sorted(
            [("out", m.created_at, m) for m in outbound] + [("in", m.received_at, m) for m in inbound],
            key=lambda item: item[1],
        )
        phone = outbound[0].to_phone if outbound else inbound[0].from_phone if inbound else None
        if phone:
            numbers.append({"phone": phone, "thread": thread})
    return render(request, "messaging/simulator.html", {"numbers": numbers, "form": form})
