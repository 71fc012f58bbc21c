"""Run the real `localstripe` server, taught four things real Stripe does that it lacks.

    python tests/payments/localstripe_plus.py --port 8420

1. `setup_future_usage` on PaymentIntents: accepted and echoed, and on success the card is
   attached to the customer (with a `payment_method.attached` event), as Stripe does.
2. Off-session confirmation of a card that needs authentication answers HTTP 402 with
   `code=authentication_required` and the PaymentIntent (status `requires_payment_method`),
   as Stripe does, instead of localstripe's on-session `requires_action`; a declined
   confirmation's error carries the PaymentIntent too.
3. `Idempotency-Key`: a POST repeated with the same key replays the first response (marked
   `Idempotent-Replayed: true`) instead of creating a second object.
4. The store is kept in memory only (localstripe pickles it to a shared /tmp file otherwise).

Everything else is localstripe unchanged; the tests talk to it over HTTP with the real `stripe`
library. This is a test server, not part of the application."""

import sys

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import Event, PaymentIntent, PaymentMethod, schedule_webhook

# 4. in-memory store
resources.Store.dump_to_disk = lambda self: None

# 1. setup_future_usage
_original_pi_init = PaymentIntent.__init__


def _pi_init(self, *args, setup_future_usage=None, **kwargs):
    if setup_future_usage not in (None, "on_session", "off_session"):
        raise UserError(400, "Bad request")
    _original_pi_init(self, *args, **kwargs)
    self.setup_future_usage = setup_future_usage
    self._off_session_auth_required = False


PaymentIntent.__init__ = _pi_init

_original_on_success = PaymentIntent._on_success


def _on_success(self):
    if getattr(self, "setup_future_usage", None) and self.customer and self.payment_method:
        pm = PaymentMethod._api_retrieve(self.payment_method)
        if pm.customer != self.customer:
            PaymentMethod._api_attach(self.payment_method, customer=self.customer)
            schedule_webhook(Event("payment_method.attached", pm))
    _original_on_success(self)


PaymentIntent._on_success = _on_success

# 2. off-session authentication_required
_original_pi_create = PaymentIntent._api_create.__func__


def _pi_create(cls, confirm=None, off_session=None, **data):
    off = resources.try_convert_to_bool(off_session)
    pm_id = data.get("payment_method")
    if off is True and pm_id:
        pm = PaymentMethod._api_retrieve(pm_id)
        if pm._requires_authentication():
            obj = cls(**data)
            obj.payment_method = None  # Stripe: requires_payment_method after a failed attempt
            obj._off_session_auth_required = True
            schedule_webhook(Event("payment_intent.payment_failed", obj))
            raise UserError(
                402,
                "This payment requires authentication.",
                {
                    "code": "authentication_required",
                    "type": "card_error",
                    "payment_intent": obj._export(),
                },
            )
    return _original_pi_create(cls, confirm=confirm, off_session=off_session, **data)


PaymentIntent._api_create = classmethod(_pi_create)

_original_last_error = PaymentIntent.last_payment_error


def _last_payment_error(self):
    if getattr(self, "_off_session_auth_required", False) and not self.payment_method:
        return {"code": "authentication_required", "message": "This payment requires authentication."}
    return _original_last_error.fget(self)


PaymentIntent.last_payment_error = property(_last_payment_error)


def _report_failure(self):
    """As Stripe: a declined confirmation's error carries the PaymentIntent."""
    schedule_webhook(Event("payment_intent.payment_failed", self))
    charge = self.latest_charge
    raise UserError(
        402,
        charge.failure_message,
        {"code": charge.failure_code, "type": "card_error", "charge": charge.id, "payment_intent": self._export()},
    )


PaymentIntent._report_failure = _report_failure

# 3. Idempotency-Key replay
_replies: dict[str, tuple[int, bytes]] = {}


@web.middleware
async def idempotency_middleware(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    cache_key = f"{request.path}:{key}"
    if cache_key in _replies:
        status, body = _replies[cache_key]
        return web.Response(
            body=body, status=status, content_type="application/json", headers={"Idempotent-Replayed": "true"}
        )
    try:
        response = await handler(request)
    except UserError as exc:
        response = exc.to_response()
    if response.status < 500 and response.status not in (400, 401, 409):
        _replies[cache_key] = (response.status, response.body)
    return response


server.app.middlewares.insert(0, idempotency_middleware)

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--from-scratch", *sys.argv[1:]]
    server.start()
