"""The patient's consent pages, reached by signed, expiring links (no PHI in the URL): signing,
the signed PDF, withdrawing a consent, and the SMS preferences page."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cinrella import crypto
from consents import disclosures, links, selectors, services
from consents.forms import (
    SmsPreferencesForm,
)
from consents.models import ConsentSignature, ConsentTemplate
from consents.views.signing import pdf_response, render_in_zone, sign_page, template_rows


def portal_consents(request, token):
    patient, appointment = links.read_signing_token(token)
    if appointment is not None:
        templates = selectors.required_templates(appointment.service)
    else:
        templates = ConsentTemplate.objects.filter(active=True, versions__isnull=False).distinct().order_by("title")
    return render_in_zone(
        request,
        "consents/portal_list.html",
        {
            "token": token,
            "patient": patient,
            "appointment": appointment,
            "rows": template_rows(patient, templates),
        },
    )


def portal_sign(request, token, template_slug):
    patient, appointment = links.read_signing_token(token)
    template = get_object_or_404(ConsentTemplate, slug=template_slug, active=True)
    return sign_page(
        request,
        patient=patient,
        template=template,
        appointment=appointment,
        channel=ConsentSignature.Channel.PORTAL,
        staff_user=None,
        done_url=reverse("consents-portal-list", args=[token]),
        base="base_portal.html",
    )


def portal_signature_pdf(request, token, signature_id):
    patient, _ = links.read_signing_token(token)
    signature = get_object_or_404(
        ConsentSignature.objects.select_related("template_version__template"), pk=signature_id, patient=patient
    )
    return pdf_response(signature)


@require_POST
def portal_revoke(request, token, signature_id):
    """The patient withdraws one of their own consents (e.g. photos for marketing): effective now."""
    patient, _ = links.read_signing_token(token)
    signature = get_object_or_404(ConsentSignature, pk=signature_id, patient=patient)
    try:
        services.revoke_consent(signature=signature, reason="Revoked by the patient in the portal.", request=request)
    except services.ConsentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your consent is withdrawn from now on.")
    return redirect("consents-portal-list", token=token)


@require_POST
def sms_phone_code(request, token):
    """Prove the number on file is yours: "Text me a code" sends one; typing it confirms the number
    (and any opt-in waiting for YES takes effect). The service limits codes per number (a minute
    apart, five a day) and tries per code (five)."""
    patient = links.read_preferences_token(token)
    try:
        if "code" in request.POST:
            outcome = services.verify_phone_code(patient=patient, code=request.POST.get("code", ""), request=request)
            done = "Your number is confirmed."
            if outcome.opted_in:
                done += " The texts you asked for are on."
            messages.success(request, done)
        else:
            services.send_phone_code(patient=patient)
            messages.info(request, "We texted you a 6-digit code: type it below within 10 minutes.")
    except (services.ConsentError, services.InvalidConsentPhone) as exc:
        messages.error(request, str(exc))
    return redirect("consents-sms-preferences", token=token)


def sms_preferences(request, token):
    patient = links.read_preferences_token(token)
    phone = patient.mobile_phone or ""
    statuses = {s.purpose: s for s in selectors.sms_status(phone)}
    initial = {p: statuses[p].opted_in for p in statuses}
    # Both boxes unticked posts no box at all: still a submitted form.
    form = SmsPreferencesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.record_sms_preferences(
                patient=patient,
                transactional=form.cleaned_data["transactional"],
                marketing=form.cleaned_data["marketing"],
                request=request,
            )
        except services.InvalidConsentPhone as exc:
            form.add_error(None, str(exc))
        else:
            if outcome.message():
                messages.info(request, outcome.message())
            messages.success(request, "Your text-message choices are saved." if outcome else "Nothing changed.")
            return redirect("consents-sms-preferences", token=token)
    return render_in_zone(
        request,
        "consents/sms_preferences.html",
        {
            "form": form,
            "statuses": statuses,
            "has_phone": bool(crypto.normalise_phone(phone)) if phone else False,
            "phone_ending": phone[-4:] if phone else "",
            "transactional_text": disclosures.transactional_disclosure(),
            "marketing_text": disclosures.marketing_disclosure(),
            "verified": selectors.number_verified_for(phone, patient) if phone else False,
            "token": token,
        },
    )
