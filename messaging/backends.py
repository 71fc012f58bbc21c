"""SMS backends, chosen by settings.SMS_BACKEND like Django's EMAIL_BACKEND.

- `messaging.backends.ConsoleBackend`: development. Prints each message; the outbox row is the
  record the phone simulator shows.
- `messaging.backends.LocmemBackend`: tests. Appends to `messaging.backends.outbox`.
- `messaging.backends.TwilioBackend`: production. The real `twilio` library, a Messaging Service
  SID and a status-callback URL carrying the outbox row id as our client reference.

A backend's `send()` returns a `SendResult` or raises `SmsSendError`; `lookup()` answers "did the
provider get the message with this reference?" for the crash reconciliation (None: not found)."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str = "queued"


class SmsSendError(Exception):
    """A refused or failed send. `transient`: worth retrying later (5xx, 429, network).
    `ambiguous`: the request may have reached the provider (read timeout): look it up before retrying."""

    def __init__(self, code: str, *, transient: bool, ambiguous: bool = False, http_status: int | None = None):
        self.code = str(code or "")
        self.transient = transient
        self.ambiguous = ambiguous
        self.http_status = http_status
        super().__init__(f"SMS send failed (code {self.code or 'none'}, http {http_status})")


@dataclass
class SentRecord:
    to: str
    body: str
    reference: str
    sid: str
    at: datetime | None = None
    extra: dict = field(default_factory=dict)


def new_sid(prefix="SM") -> str:
    return prefix + uuid.uuid4().hex


class BaseBackend:
    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        raise NotImplementedError

    def lookup(self, *, reference: str, to: str, body: str, since: datetime) -> SendResult | None:
        return None


# --- locmem (tests) ------------------------------------------------------------------------------

outbox: list[SentRecord] = []
# Tests queue provider errors here: each send pops one and raises it instead of "sending".
scripted_errors: list[SmsSendError] = []


class LocmemBackend(BaseBackend):
    def send(self, *, to, body, reference):
        if scripted_errors:
            raise scripted_errors.pop(0)
        record = SentRecord(to=to, body=body, reference=reference, sid=new_sid())
        outbox.append(record)
        return SendResult(sid=record.sid)

    def lookup(self, *, reference, to, body, since):
        for record in outbox:
            if record.reference == reference:
                return SendResult(sid=record.sid, status="sent")
        return None


# --- console (development) -----------------------------------------------------------------------

console_sent: list[SentRecord] = []


class ConsoleBackend(BaseBackend):
    stream = None

    def send(self, *, to, body, reference):
        record = SentRecord(to=to, body=body, reference=reference, sid=new_sid("SMconsole"))
        console_sent.append(record)
        stream = self.stream or sys.stdout
        stream.write(f"[sms] to {to} (ref {reference}, {record.sid}):\n{body}\n\n")
        stream.flush()
        return SendResult(sid=record.sid, status="sent")

    def lookup(self, *, reference, to, body, since):
        for record in console_sent:
            if record.reference == reference:
                return SendResult(sid=record.sid, status="sent")
        return None


# --- twilio (production) -------------------------------------------------------------------------


def _twilio_http_client_class():
    from twilio.http.http_client import TwilioHttpClient

    class BaseUrlHttpClient(TwilioHttpClient):
        """The library's own HTTP client, with https://*.twilio.com rewritten to TWILIO_API_BASE_URL
        when that is set (a local test server, a regional edge or an egress proxy)."""

        def __init__(self, base_url: str = "", **kwargs):
            super().__init__(**kwargs)
            self.base_url = base_url.rstrip("/")

        def request(self, method, url, *args, **kwargs):
            if self.base_url:
                parts = urlsplit(url)
                base = urlsplit(self.base_url)
                url = urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, parts.fragment))
            return super().request(method, url, *args, **kwargs)

    return BaseUrlHttpClient


def status_callback_url(reference: str) -> str:
    """Where Twilio posts delivery updates for one message; `ref` is the outbox row id."""
    base = settings.SMS_STATUS_CALLBACK_URL or (
        settings.PUBLIC_BASE_URL.rstrip("/") + reverse("messaging-twilio-status") if settings.PUBLIC_BASE_URL else ""
    )
    if not base:
        return ""
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode({'ref': reference})}"


class TwilioBackend(BaseBackend):
    def __init__(self):
        from twilio.rest import Client

        http_client = _twilio_http_client_class()(
            base_url=settings.TWILIO_API_BASE_URL, timeout=settings.SMS_HTTP_TIMEOUT_SECONDS
        )
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)

    def send(self, *, to, body, reference):
        import requests
        from twilio.base.exceptions import TwilioRestException

        options = {"to": to, "body": body, "messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        callback = status_callback_url(reference)
        if callback:
            options["status_callback"] = callback
        try:
            message = self.client.messages.create(**options)
        except TwilioRestException as exc:
            status = exc.status or 0
            raise SmsSendError(
                exc.code or status, transient=status >= 500 or status == 429, http_status=status
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise SmsSendError("timeout", transient=True) from None
        except requests.exceptions.Timeout:
            # The request may have reached Twilio: the next attempt looks it up first.
            raise SmsSendError("timeout", transient=True, ambiguous=True) from None
        except requests.exceptions.ConnectionError:
            raise SmsSendError("network", transient=True, ambiguous=True) from None
        return SendResult(sid=message.sid, status=message.status or "queued")

    def lookup(self, *, reference, to, body, since):
        # Twilio keeps no client reference on a message, so match what we sent: same number,
        # same body, created after we claimed the row.
        for message in self.client.messages.list(to=to, date_sent_after=since, limit=50):
            if (message.body or "") == body:
                return SendResult(sid=message.sid, status=message.status or "sent")
        return None


@lru_cache(maxsize=4)
def _backend_class(path: str):
    return import_string(path)


def get_backend() -> BaseBackend:
    return _backend_class(settings.SMS_BACKEND)()


def is_console_backend() -> bool:
    return issubclass(_backend_class(settings.SMS_BACKEND), ConsoleBackend)
