import pytest

from messaging import backends


@pytest.fixture(autouse=True)
def empty_sms_outbox():
    backends.outbox.clear()
    backends.scripted_errors.clear()
    yield
    backends.outbox.clear()
    backends.scripted_errors.clear()
