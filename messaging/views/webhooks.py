"""Twilio webhooks: inbound messages and delivery status callbacks (DESIGN.md §5, §7).

Every request is checked with the real `twilio.request_validator.RequestValidator` against the URL
Twilio used: PUBLIC_BASE_URL + path when configured, else the request's absolute URI (which honours
SECURE_PROXY_SSL_HEADER / USE_X_FORWARDED_HOST behind a TLS-terminating proxy). Forged or missing
signature → 403 and nothing is read or written."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from messaging.backends import is_console_backend
from messaging.services import delivery, inbound

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def webhook_auth_token() -> str:
    if settings.TWILIO_AUTH_TOKEN:
        return settings.TWILIO_AUTH_TOKEN
    # Development only: the phone simulator signs with this token; never used with Twilio.
    return settings.SMS_SIMULATOR_AUTH_TOKEN if is_console_backend() else ""


def url_twilio_used(request) -> str:
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def signature_is_valid(request) -> bool:
    token = webhook_auth_token()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    params = {key: request.POST.get(key) for key in request.POST}
    return RequestValidator(token).validate(url_twilio_used(request), params, signature)


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not signature_is_valid(request):
        return HttpResponseForbidden("Invalid signature.")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    from_phone = request.POST.get("From", "")
    if not sid or not from_phone:
        return HttpResponseBadRequest("MessageSid and From are required.")
    inbound.receive_inbound(
        message_sid=sid[:64],
        from_phone=from_phone[:32],
        to_phone=request.POST.get("To", ""),
        body=request.POST.get("Body", "")[:1600],
        opt_out_type=request.POST.get("OptOutType", ""),
        media_count=_media_count(request.POST.get("NumMedia", "")),
    )
    # Replies go through the outbox (recorded, gated), not TwiML.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _media_count(value: str) -> int:
    """Twilio's NumMedia (0–10 pictures on an MMS). The media stay at Twilio: never fetched."""
    return min(int(value), 10) if value.isdigit() else 0


@csrf_exempt
@require_POST
def twilio_status(request):
    if not signature_is_valid(request):
        return HttpResponseForbidden("Invalid signature.")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or ""
    if not sid or not status:
        return HttpResponseBadRequest("MessageSid and MessageStatus are required.")
    delivery.record_delivery_status(
        message_sid=sid[:64],
        provider_status=status,
        error_code=request.POST.get("ErrorCode", ""),
        reference=request.GET.get("ref", ""),
    )
    return HttpResponse(status=204)
