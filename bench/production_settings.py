"""Benchmarks measure the settings production runs with (`DJANGO_DEBUG=false`): no per-query debug
wrapper, database connections kept per worker (`DB_CONN_MAX_AGE` 60 s), manifest static files,
the production middleware settings. The secrets are throwaway bench-only values; the fixed Fernet
key lets `BENCH_REUSE` read names an earlier run wrote. TLS ends at the proxy in production, so the
HTTP→HTTPS redirect is not part of what is measured. `BENCH_DEBUG=1` measures the development
settings instead.

Import this before `django.setup()`; call `prepare_static_files()` after it."""

import os

if os.environ.get("BENCH_DEBUG"):
    os.environ.setdefault("DJANGO_DEBUG", "true")
else:
    for _name, _value in {
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-not-for-any-real-deployment-0123456789",
        "FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1rZXktbm90LWZvci1yZWFsLWRhdGE=",
        "BLIND_INDEX_KEY": "bench-only-blind-index-key",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
        "TWILIO_AUTH_TOKEN": "bench-only",
        "TWILIO_MESSAGING_SERVICE_SID": "MG00000000000000000000000000000000",
        "PUBLIC_BASE_URL": "https://bench.invalid",
    }.items():
        os.environ.setdefault(_name, _value)


def prepare_static_files() -> None:
    """Production pages link to the collected, hashed static files (and WhiteNoise serves them)."""
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)


def describe_settings() -> str:
    from django.conf import settings

    return (
        f"settings: DJANGO_DEBUG={settings.DEBUG}, CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
