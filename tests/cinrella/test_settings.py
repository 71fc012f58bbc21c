"""Production settings refuse to start without their secrets; check --deploy is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "SECRET_KEY": "x" * 64 + "-production-secret-for-test-only",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "BLIND_INDEX_KEY": "blind-index-key-for-test-only-0123456789",
    "ALLOWED_HOSTS": "clinic.example.com",
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/never_connected",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
    "PUBLIC_BASE_URL": "https://clinic.example.com",
}


def run_manage(*args, env_overrides, drop=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CINRELLA_", "DATABASE_URL"))}
    env.update(env_overrides)
    for name in drop:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "ALLOWED_HOSTS", "PUBLIC_BASE_URL"]
)
def test_production_refuses_to_start_without_each_secret(missing):
    result = run_manage("check", env_overrides=PRODUCTION_ENV, drop=[missing])

    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_DEBUG=false" in result.stderr


def test_production_refuses_to_start_without_database_url():
    result = run_manage("check", env_overrides=PRODUCTION_ENV, drop=["DATABASE_URL"])

    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_check_deploy_reports_no_warnings_with_production_settings():
    env = dict(PRODUCTION_ENV, BEHIND_TLS_PROXY="true")
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_argon2_is_the_first_password_hasher(settings):
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_production_texts_through_twilio_and_refuses_to_start_without_its_credentials():
    result = run_manage("check", env_overrides=PRODUCTION_ENV, drop=["TWILIO_AUTH_TOKEN"])

    assert result.returncode != 0
    assert "TWILIO_AUTH_TOKEN must be set when SMS_BACKEND is twilio" in result.stderr
