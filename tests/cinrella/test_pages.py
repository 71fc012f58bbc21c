"""Shells, probes and headers."""

import pytest

from tests.conftest import sign_in_verified
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_strict_csp(response):
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert "http" not in csp  # no third-party origin


def test_csp_header_on_staff_portal_and_admin_pages(client):
    assert_strict_csp(client.get("/staff/login/"))
    assert_strict_csp(client.get("/book/"))
    sign_in_verified(client, UserFactory(is_superuser=True))
    assert_strict_csp(client.get("/staff/"))
    assert_strict_csp(client.get("/admin/"))


def test_healthz_answers_without_auth_or_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    from cinrella.heartbeats import beat

    beat("periodic", "periodic:test:1")  # /readyz also wants the background processes (test_readiness.py)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_staff_navigation_shows_signed_in_user_and_sign_out(staff_client):
    client = staff_client("front_desk", first_name="Fran", last_name="Desk")

    page = client.get("/staff/").text

    assert "Fran Desk" in page
    assert "Sign out" in page


def test_portal_shell_is_public(client):
    response = client.get("/book/")
    assert response.status_code == 200
    assert "Book a visit" in response.text


def test_anonymous_staff_page_redirects_to_sign_in(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_manager_role_gets_admin_permissions_for_configuration_only():
    from django.contrib.auth.models import Group

    from cinrella.role_permissions import sync_role_permissions

    sync_role_permissions()
    manager = set(Group.objects.get(name="manager").permissions.values_list("codename", flat=True))
    front_desk = Group.objects.get(name="front_desk").permissions.count()

    assert {"change_location", "change_service", "change_recipient", "view_disclosure"} <= manager
    assert "delete_disclosure" not in manager
    assert front_desk == 0
