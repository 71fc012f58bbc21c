"""Staff sign-in: password (with axes lockout), then TOTP — enrolment on first sign-in."""

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from cinrella import security_log
from cinrella.forms import OTPTokenForm
from cinrella.models import SecurityEvent


class StaffLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = False

    def get_success_url(self):
        # The password step never lands on a staff page: the second factor comes first.
        next_url = self.get_redirect_url()
        url = reverse("staff-otp")
        return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _safe_next(request, default="staff-home"):
    next_url = request.POST.get("next") or request.GET.get("next")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return next_url
    return reverse(default)


def _confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _pending_device(user):
    """The unconfirmed device being enrolled, created on first visit to the enrolment page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _qr_data_uri(config_url: str) -> str:
    image = qrcode.make(config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@never_cache
@login_required
def otp_step(request):
    """Verify the second factor; a user without a confirmed device enrols one here first."""
    if request.user.is_verified():
        return redirect(_safe_next(request))
    device = _confirmed_device(request.user)
    enrolling = device is None
    if enrolling:
        device = _pending_device(request.user)

    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                security_log.record(SecurityEvent.Kind.OTP_ENROLLED, request, user=request.user)
            otp_login(request, device)
            request.session.cycle_key()  # a new session id once fully signed in
            security_log.record(SecurityEvent.Kind.OTP_VERIFIED, request, user=request.user)
            return redirect(_safe_next(request))
        security_log.record(SecurityEvent.Kind.OTP_FAILED, request, user=request.user)
        form.add_error("token", "That code is not right. Check the time on your phone and try the newest code.")

    context = {"form": form, "enrolling": enrolling, "next": request.GET.get("next", "")}
    if enrolling:
        context["qr_data_uri"] = _qr_data_uri(device.config_url)
        context["secret_b32"] = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(request, "registration/otp.html", context)


@require_POST
def staff_logout(request):
    logout(request)  # deletes the server-side session; the signal writes the security log
    messages.info(request, "You are signed out.")
    return redirect("staff-login")
