import os
from pathlib import Path

import pytest
from django.db import connections
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from tests.factories import TOTPDeviceFactory, UserFactory

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Private files (photos, consent PDFs) are written under a per-test root, never into the
    worktree's var/private."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def chromium():
    """Debian's Chromium driven by Playwright's sync API (no browser downloads).

    Function scope: two sync Playwright instances must never be alive at once in one thread. Ask
    for `live_server` before this fixture so the browser (and its keep-alive connections) closes
    before the server stops. DJANGO_ALLOW_ASYNC_UNSAFE is set for the suite (pyproject): the ORM
    calls a test makes beside Playwright's event loop are plain synchronous calls."""
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM_PATH}: `make test` installs it (bin/ensure_browser.py)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield browser
        # The test body ran in the context Playwright set up, and Django keys its connections by
        # context: close the ones the test opened here, while that context is still current, or
        # one stays open and the test database cannot be dropped at the end of the run.
        connections.close_all()
        browser.close()


def current_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def sign_in_verified(client, user):
    """A fully signed-in staff session: password step done and a verified TOTP device."""
    device = user.totpdevice_set.filter(confirmed=True).first() or TOTPDeviceFactory(user=user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def staff_client(client):
    """Factory: staff_client("manager") → a test client signed in with 2FA as a new user of that role."""

    def make(role=None, **user_kwargs):
        user = UserFactory(role=role, **user_kwargs)
        sign_in_verified(client, user)
        client.user = user
        return client

    return make


# Data migrations that load reference data (role groups, the recipient registry, retention rules,
# policy version 1). A flush empties every table; the next transactional test needs them back.
REFERENCE_DATA_SEEDS = [
    ("cinrella.migrations.0001_initial", "create_role_groups"),
    ("privacy.migrations.0002_seed_recipients", "seed"),
    ("privacy.migrations.0004_seed_retention_and_policy_v1", "seed"),
]


def reseed_reference_data():
    from importlib import import_module

    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_SEEDS:
        getattr(import_module(module_name), function_name)(apps, None)


@pytest.fixture(autouse=True, scope="session")
def _flush_may_truncate_audit_tables():
    """Transactional tests end with a flush (TRUNCATE of every table). Audit tables refuse
    TRUNCATE unless `cinrella.allow_truncate` is set; set it for the flush's own transaction only."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        result = original(self, ["SET LOCAL cinrella.allow_truncate = 'on'", *sql_list])
        reseed_reference_data()
        return result

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original
