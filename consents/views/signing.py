"""The consent signing page and the helpers that the staff tablet and the patient portal share."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from consents import exports, selectors, services
from consents.forms import (
    SignConsentForm,
)


def render_in_zone(request, template_name, context, status=200, *, tz_name=None):
    """Render with times shown in the clinic's (or the appointment location's) time zone."""
    with timezone.override(ZoneInfo(tz_name or settings.CLINIC_TIME_ZONE)):
        return render(request, template_name, context, status=status)


def template_rows(patient, templates):
    """Each template with the patient's signature in force (if any) for a status list."""
    templates = list(templates)
    in_force = selectors.valid_signatures_by_template(patient, templates)
    return [{"template": t, "signature": in_force.get(t.pk)} for t in templates]


def sign_page(request, *, patient, template, appointment, channel, staff_user, done_url, base):
    version = selectors.current_version(template)
    if version is None or not template.active:
        raise Http404
    form = SignConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_consent(
                patient=patient,
                version=version,
                typed_name=form.cleaned_data["typed_name"],
                signature_data_url=form.cleaned_data["signature"],
                channel=channel,
                request=request,
                staff_user=staff_user,
                appointment=appointment,
            )
        except services.ConsentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Thank you — “{template.title}” is signed.")
            return redirect(done_url)
    return render_in_zone(
        request,
        "consents/sign.html",
        {
            "base": base,
            "form": form,
            "template": template,
            "version": version,
            "text": selectors.render_consent_text(version),
            "patient": patient,
            "cancel_url": done_url,
        },
        status=400 if request.method == "POST" else 200,
    )


def pdf_response(signature):
    response = HttpResponse(exports.signed_consent_pdf(signature), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="consent-{signature.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
