"""Payments tests run against a real local Stripe API: localstripe (PyPI), started once per test
session on a free loopback port, with the real `stripe` library pointed at it through
STRIPE_API_BASE. No mock of the Stripe client anywhere."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe

LAUNCHER = Path(__file__).with_name("localstripe_plus.py")
SECRET_KEY = "sk_test_cinrella_local"
PUBLISHABLE_KEY = "pk_test_cinrella_local"
WEBHOOK_SECRET = "whsec_cinrella_test_secret"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_answering(url: str, process, timeout: float = 20.0) -> None:
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": url})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            client.v1.customers.list()
            return
        except stripe.APIConnectionError:
            time.sleep(0.1)
    raise RuntimeError("localstripe did not answer in time")


@pytest.fixture(scope="session")
def localstripe_url():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(autouse=True)
def stripe_settings(settings, localstripe_url):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_url
    return settings


@pytest.fixture
def stripe_client(localstripe_url):
    """The test's own view of Stripe (what Stripe.js or the dashboard would do)."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe_url})
