"""SMS backends, chosen by settings.SMS_BACKEND like Django's EMAIL_BACKEND.

- `messaging.backends.ConsoleBackend`: development. Prints each message; the outbox row is the
  record the phone simulator shows.
- `messaging.backends.LocmemBackend`: tests. Appends to `messaging.backends.outbox`.
- `messaging.backends.TwilioBackend`: production. The real `twilio` library, a Messaging Service
  SID and a status-callback URL carrying the outbox row id as our client reference.

A backend's `send()` returns a `SendResult` or raises `SmsSendError`. `find_sent()` lists the
provider's messages that can be the attempt of one outbox row (reconciliation after a crash or an
unanswered send, messaging/reconcile.py): locmem and console keep our reference and match on it;
Twilio keeps none, so it lists the messages to that number created since the attempt began whose
text is ours (the worker keeps at most one message per number in flight, which makes that window
the row's own)."""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

from messaging import provider_errors


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str = "queued"
    created_at: datetime | None = None


class SmsSendError(Exception):
    """A refused or failed send. `transient`: worth retrying later (5xx, 429, network).
    `ambiguous`: the request may have reached the provider (read timeout): look it up before retrying."""

    def __init__(self, code: str, *, transient: bool, ambiguous: bool = False, http_status: int | None = None):
        self.code = str(code or "")
        self.transient = transient or ambiguous
        self.ambiguous = ambiguous
        self.http_status = http_status
        super().__init__(f"SMS send failed (code {self.code or 'none'}, http {http_status})")

    @property
    def kind(self) -> provider_errors.Kind:
        if self.ambiguous:
            return provider_errors.Kind.CHECK_THEN_RETRY
        return provider_errors.Kind.RETRY if self.transient else provider_errors.Kind.REFUSED

    @property
    def reason(self) -> str:
        return provider_errors.reason(self.code, http_status=self.http_status)


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

    def find_sent(self, *, reference: str, to: str, body: str, since: datetime) -> list[SendResult]:
        """The provider's messages that can be this attempt (see the module docstring). Raises
        SmsSendError when the provider cannot be asked."""
        return []


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

    def find_sent(self, *, reference, to, body, since):
        if scripted_errors:
            raise scripted_errors.pop(0)
        return [SendResult(sid=r.sid, status="sent") for r in outbox if r.reference == reference]


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

    def find_sent(self, *, reference, to, body, since):
        return [SendResult(sid=r.sid, status="sent") for r in console_sent if r.reference == reference]


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
        options = {"to": to, "body": body, "messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        callback = status_callback_url(reference)
        if callback:
            options["status_callback"] = callback
        with _twilio_errors():
            message = self.client.messages.create(**options)
        return SendResult(sid=message.sid, status=message.status or "queued", created_at=message.date_created)

    def find_sent(self, *, reference, to, body, since):
        # Twilio keeps no client reference on a message (the status callback URL that carries
        # ours is not returned by the API), so: the messages to this number, newest first, created
        # since the attempt began, outbound, with our text. The caller drops SIDs already ours.
        found = []
        with _twilio_errors(reached_means_ambiguous=False):
            for message in self.client.messages.stream(to=to, page_size=100, limit=LOOKUP_SCAN_LIMIT):
                created = message.date_created
                if created is not None and created < since:
                    continue
                if not (message.direction or "outbound").startswith("outbound"):
                    continue
                if (message.body or "") != body:
                    continue
                found.append(SendResult(sid=message.sid, status=message.status or "sent", created_at=created))
        return found


# How many of a number's most recent messages a look-up reads (one or two pages).
LOOKUP_SCAN_LIMIT = 200


class _twilio_errors:
    """Turn what the twilio library and requests raise into SmsSendError (messaging/provider_errors).
    Connection refused or a name that does not resolve never reached Twilio: retry. A read timeout
    or a connection broken after the request went out may have reached it: check, then retry
    (`reached_means_ambiguous`; a look-up itself is only ever retried)."""

    def __init__(self, *, reached_means_ambiguous: bool = True):
        self.ambiguous = reached_means_ambiguous

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            return False
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if isinstance(exc, TwilioRestException):
            status, code = exc.status or 0, str(exc.code or exc.status or "")
        elif isinstance(exc, TwilioException):
            # A list page that is not 200 comes back as TwilioException("Unable to fetch page", response).
            status, code = _page_error(exc)
        else:
            status = None
        if status is not None:
            kind = provider_errors.classify(http_status=status, code=code)
            raise SmsSendError(code, transient=kind != provider_errors.Kind.REFUSED, http_status=status) from None
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            raise SmsSendError(provider_errors.NETWORK, transient=True) from None
        if isinstance(exc, requests.exceptions.Timeout):
            raise SmsSendError(provider_errors.TIMEOUT, transient=True, ambiguous=self.ambiguous) from None
        if isinstance(exc, requests.exceptions.ConnectionError):
            never_reached = _never_reached(exc)
            code = provider_errors.NETWORK
            raise SmsSendError(code, transient=True, ambiguous=self.ambiguous and not never_reached) from None
        return False


def _page_error(exc: BaseException) -> tuple[int, str]:
    response = exc.args[1] if len(exc.args) > 1 else None
    status = int(getattr(response, "status_code", 0) or 0)
    try:
        code = str(json.loads(getattr(response, "text", "") or "{}").get("code") or status)
    except (ValueError, AttributeError):
        code = str(status)
    return status, code


def _never_reached(exc: BaseException) -> bool:
    """Connection refused, or the host name did not resolve: the request never left. (requests
    wraps urllib3's MaxRetryError, whose `reason` says which.)"""
    from urllib3.exceptions import NewConnectionError  # NameResolutionError is one too

    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", cause), NewConnectionError)


@lru_cache(maxsize=4)
def _backend_class(path: str):
    return import_string(path)


def get_backend() -> BaseBackend:
    return _backend_class(settings.SMS_BACKEND)()


def is_console_backend() -> bool:
    return issubclass(_backend_class(settings.SMS_BACKEND), ConsoleBackend)
