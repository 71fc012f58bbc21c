"""Staff sign-in: password, then TOTP (enrolment on first sign-in), lockout, timeouts, log."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cinrella.models import SecurityEvent
from tests.conftest import current_code, sign_in_verified
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory, UserFactory
from tests.helpers import assert_append_only

pytestmark = pytest.mark.django_db

LOGIN = "/staff/login/"


def post_password(client, username, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_password_step_leads_to_otp_step_not_to_staff_pages(client):
    user = UserFactory(role="front_desk")
    TOTPDeviceFactory(user=user)

    response = post_password(client, user.username)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff-otp"))
    assert client.get("/staff/").status_code == 302
    assert client.get("/staff/")["Location"].startswith(reverse("staff-otp"))


def test_staff_page_without_second_factor_redirects_to_otp_step(client):
    user = UserFactory(role="manager")
    client.force_login(user)

    response = client.get("/staff/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('staff-otp')}?next=%2Fstaff%2F"


def test_right_totp_code_opens_staff_pages_and_rotates_session(client):
    user = UserFactory(role="front_desk")
    device = TOTPDeviceFactory(user=user)
    post_password(client, user.username)
    session_after_password = client.cookies["sessionid"].value

    response = client.post(reverse("staff-otp"), {"token": current_code(device), "next": "/staff/"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.cookies["sessionid"].value != session_after_password
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Today" in page.text
    kinds = list(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert set(kinds) >= {SecurityEvent.Kind.LOGIN, SecurityEvent.Kind.OTP_VERIFIED}


def test_session_id_changes_at_password_sign_in(client):
    user = UserFactory()
    TOTPDeviceFactory(user=user)
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key

    post_password(client, user.username)

    assert client.session.session_key != before


def test_wrong_totp_code_is_refused_with_a_clear_message_and_logged(client):
    user = UserFactory()
    device = TOTPDeviceFactory(user=user)
    post_password(client, user.username)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("staff-otp"), {"token": wrong})

    assert response.status_code == 200
    assert "That code is not right" in response.text
    assert client.get("/staff/").status_code == 302
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.OTP_FAILED).exists()


def test_first_sign_in_shows_qr_enrolment_and_confirms_the_device(client):
    user = UserFactory(role="provider")
    post_password(client, user.username)

    page = client.get(reverse("staff-otp"))

    assert page.status_code == 200
    assert "Set up your authenticator" in page.text
    assert 'src="data:image/svg+xml;base64,' in page.text
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False

    client.post(reverse("staff-otp"), {"token": current_code(device)})

    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/staff/").status_code == 200
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.OTP_ENROLLED).exists()


def test_admin_login_cannot_skip_the_second_factor(client):
    admin = UserFactory(is_superuser=True)
    TOTPDeviceFactory(user=admin)

    # The admin's own login form is not a way in: it hands over to the staff sign-in.
    response = client.post("/admin/login/", {"username": admin.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)

    # A password-only session cannot open admin pages either.
    post_password(client, admin.username)
    response = client.get("/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff-otp"))


def test_admin_site_refuses_an_unverified_user_even_past_the_middleware(rf):
    from django.contrib import admin

    admin_user = UserFactory(is_superuser=True)
    request = rf.get("/admin/")
    request.user = admin_user
    request.user.is_verified = lambda: False

    assert admin.site.has_permission(request) is False


def test_verified_superuser_reaches_admin(client):
    admin = UserFactory(is_superuser=True)
    sign_in_verified(client, admin)

    assert client.get("/admin/").status_code == 200


def test_lockout_after_repeated_failures_then_unlock_after_cool_off(client, settings):
    user = UserFactory()
    TOTPDeviceFactory(user=user)
    limit = settings.AXES_FAILURE_LIMIT

    with time_machine.travel(dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC), tick=False):
        for _ in range(limit):
            post_password(client, user.username, "wrong-password")
        locked = post_password(client, user.username)  # even the right password is refused now
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT, username=user.username).exists()
        assert (
            SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED, username=user.username).count() >= limit
        )

    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME) + dt.timedelta(minutes=1)
    with time_machine.travel(dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC) + cool_off, tick=False):
        response = post_password(client, user.username)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("staff-otp"))


def test_lockout_is_per_username_and_ip(client):
    user = UserFactory()
    TOTPDeviceFactory(user=user)
    for _ in range(10):
        post_password(client, user.username, "wrong", REMOTE_ADDR="10.0.0.1")

    from_other_ip = post_password(client, user.username, REMOTE_ADDR="10.0.0.2")

    assert from_other_ip.status_code == 302


def test_failed_sign_in_log_holds_no_password(client):
    user = UserFactory()
    post_password(client, user.username, "my-secret-typo-password")

    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.username == user.username
    assert "my-secret-typo-password" not in str(SecurityEvent.objects.values().get(pk=event.pk))


def test_idle_timeout_signs_out(client, settings):
    user = UserFactory(role="front_desk")
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        sign_in_verified(client, user)
        assert client.get("/staff/").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 30), tick=False):
        assert client.get("/staff/").status_code == 200  # activity resets the idle clock
    with time_machine.travel(start + dt.timedelta(seconds=2 * settings.SESSION_IDLE_TIMEOUT), tick=False):
        response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.IDLE_TIMEOUT).exists()


def test_absolute_timeout_signs_out_an_active_session(client, settings):
    user = UserFactory()
    start = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        sign_in_verified(client, user)
        client.get("/staff/")
    step = dt.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT // 2)
    now = start
    while now - start < dt.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT - step.total_seconds()):
        now += step
        with time_machine.travel(now, tick=False):
            assert client.get("/staff/").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT + 60), tick=False):
        response = client.get("/staff/")
    assert response.status_code == 302
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.ABSOLUTE_TIMEOUT).exists()


def test_sign_out_invalidates_the_session_server_side(client):
    user = UserFactory()
    sign_in_verified(client, user)
    old_key = client.session.session_key
    old_cookie = client.cookies["sessionid"].value

    client.post(reverse("staff-logout"))

    assert not Session.objects.filter(session_key=old_key).exists()
    client.cookies["sessionid"] = old_cookie  # replaying the old cookie gets nothing
    assert client.get("/staff/").status_code == 302
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGOUT).exists()


def test_security_log_is_append_only_in_the_database(client):
    post_password(client, "nobody", "x")
    event = SecurityEvent.objects.latest("at")

    assert_append_only(SecurityEvent, event.pk)
