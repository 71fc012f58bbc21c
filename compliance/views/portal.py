"""Patient portal: one-time-code sign-in and the patient's privacy rights (§7, §10)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from compliance import deletion, portal_auth, services
from compliance.forms import CodeForm, CorrectionForm, DeletionForm, SignInForm
from compliance.portal_auth import CodeResult, patient_required
from privacy import selectors
from privacy.models import PolicyVersion, RightsRequest
from privacy.policy_versions import record_policy_acceptance

SENT_MESSAGE = "If we found you, we sent a 6-digit code to the email address (or mobile) on file."


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request):
    if portal_auth.current_patient(request):
        return redirect("privacy-portal-home")
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        if portal_auth.ip_is_rate_limited(request):
            messages.error(request, "Too many attempts from this connection. Please wait 15 minutes and try again.")
            return render(request, "compliance/portal/sign_in.html", {"form": form}, status=429)
        if form.is_valid():
            portal_auth.start_sign_in(
                request=request,
                date_of_birth=form.cleaned_data["date_of_birth"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
            )
            messages.info(request, SENT_MESSAGE)
            return redirect("privacy-portal-code")
    return render(request, "compliance/portal/sign_in.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def enter_code(request):
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if portal_auth.ip_is_rate_limited(request):
            messages.error(request, "Too many attempts from this connection. Please wait 15 minutes and try again.")
            return render(request, "compliance/portal/code.html", {"form": form}, status=429)
        if form.is_valid():
            outcome = portal_auth.verify_code(request=request, code=form.cleaned_data["code"])
            if outcome == CodeResult.OK:
                return redirect("privacy-portal-home")
            if outcome == CodeResult.LOCKED:
                messages.error(request, "That code can no longer be used. Please ask for a new code.")
                return redirect("privacy-portal-sign-in")
            form.add_error("code", "That code is not right. Check the latest message we sent and try again.")
    return render(request, "compliance/portal/code.html", {"form": form})


@require_POST
def sign_out(request):
    portal_auth.sign_out_patient(request)
    messages.info(request, "You are signed out.")
    return redirect("privacy-portal-sign-in")


@never_cache
@patient_required
def home(request):
    patient = request.patient
    return render(
        request,
        "compliance/portal/home.html",
        {
            "patient": patient,
            "policy_update": selectors.policy_update_to_announce(patient),
            "requests": patient.rights_requests.order_by("-created_at")[:20],
            "marketing_opted_in": _marketing_opted_in(patient),
        },
    )


def _marketing_opted_in(patient) -> bool:
    from consents.models import SmsPurpose
    from consents.selectors import sms_opted_in

    return bool(patient.mobile_phone) and sms_opted_in(patient.mobile_phone, SmsPurpose.MARKETING)


@require_POST
@patient_required
def accept_policy(request):
    version = PolicyVersion.objects.filter(pk=request.POST.get("version")).first()
    current = selectors.current_policy_version()
    if version is None or current is None or version.pk != current.pk:
        messages.error(request, "That version of the policy is no longer current. Please read the current one.")
        return redirect("privacy-portal-home")
    record_policy_acceptance(request.patient, version, request, context="portal")
    messages.success(request, f"Thank you. You accepted version {version.number} of our privacy policy.")
    return redirect("privacy-portal-home")


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def records(request):
    if request.method == "POST":
        content = services.export_records(patient=request.patient, request=request)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="cinrella-records.zip"'
        return response
    return render(request, "compliance/portal/records.html", {"patient": request.patient})


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def correction(request):
    form = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_rights_request(
                patient=request.patient,
                kind=RightsRequest.Kind.CORRECTION,
                field_name=form.cleaned_data["field_name"],
                requested_value=form.cleaned_data["requested_value"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "We received your correction request. We answer within 30 days.")
            return redirect("privacy-portal-home")
    return render(request, "compliance/portal/correction.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def deletion_request(request):
    form = DeletionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.create_rights_request(
            patient=request.patient,
            kind=RightsRequest.Kind.DELETION,
            note=form.cleaned_data["note"],
            request=request,
        )
        messages.success(request, "We received your deletion request. We answer within 30 days.")
        return redirect("privacy-portal-home")
    items = deletion.assess(request.patient)
    return render(request, "compliance/portal/deletion.html", {"form": form, "items": items})


@require_POST
@patient_required
def marketing_opt_out(request):
    if services.opt_out_of_marketing(patient=request.patient, request=request) is None:
        messages.info(request, "We have no mobile number for you, so we send you no marketing texts.")
    else:
        messages.success(request, "Done: you will receive no more marketing messages from us.")
    return redirect("privacy-portal-home")


@never_cache
@patient_required
def disclosures(request):
    rows = selectors.disclosures_of(request.patient)
    return render(request, "compliance/portal/disclosures.html", {"disclosures": rows})


@never_cache
@patient_required
def access_history(request):
    rows, available = selectors.access_history(request.patient)
    return render(request, "compliance/portal/access_history.html", {"rows": rows, "available": available})
