"""What a provider error means for a message, in words a front-desk person understands
(issue 13 point 6, issue 17 point 11).

Three kinds of failure, decided from the HTTP status and Twilio's error code:
- **retry**: Twilio or the way to it is down (HTTP 5xx, 429, connection refused, DNS, a wrong
  account setting an administrator will fix): the message waits and is tried again, with growing
  pauses, for SMS_RETRY_WINDOW_SECONDS from its first attempt;
- **check, then retry**: the request may have reached Twilio (it did not answer in time, the
  connection broke after sending): the next attempt first looks for the message at Twilio;
- **refused**: Twilio will never send this one (HTTP 4xx with a refusal code: invalid number,
  landline, unsubscribed…): the message fails at once with the reason.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    RETRY = "retry"
    CHECK_THEN_RETRY = "check"
    REFUSED = "refused"


# Our own codes for failures without a Twilio code (stored in OutboundMessage.error_code).
SERVER_ERROR = "5xx"
RATE_LIMITED = "429"
TIMEOUT = "timeout"
NETWORK = "network"
LOOKUP = "lookup"
UNEXPECTED = "error"

# Twilio codes that mean "our account setup is wrong", not "this message is refused": every text
# would fail the same way until an administrator fixes it, so they wait (within the retry window).
ACCOUNT_PROBLEMS = {
    "20003": "Twilio did not accept the clinic's account credentials (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN).",
    "20005": "The clinic's Twilio account is suspended or closed.",
    "20404": "Twilio did not find the clinic's account or messaging service (TWILIO_* settings).",
    "21606": "The clinic's sending number is not enabled for texting in Twilio.",
    "21703": "The clinic's Twilio messaging service has no sending number.",
    "21704": "The clinic's Twilio messaging service has no sending number.",
    "21705": "The clinic's Twilio messaging service (TWILIO_MESSAGING_SERVICE_SID) is not valid.",
}

REASONS = {
    # Refusals, before sending (API) or reported later by status callbacks (carrier).
    "21211": "The number is not a valid phone number.",
    "21408": "Sending to this region is not enabled.",
    "21610": "The recipient replied STOP to our number; the carrier blocks further messages (opt-out recorded).",
    "21612": "Twilio cannot send texts to this number (its carrier is not reachable from ours).",
    "21614": "The number is not a mobile number.",
    "30003": "Unreachable handset: the phone is switched off or out of coverage.",
    "30004": "Message blocked by the recipient or their carrier.",
    "30005": "Unknown handset: the number does not exist or is no longer in service.",
    "30006": "Landline or unreachable carrier: this number cannot receive texts.",
    "30007": "Filtered by the carrier as spam or unregistered traffic.",
    "30008": "Unknown delivery error reported by the carrier.",
    # Waiting, to be tried again.
    SERVER_ERROR: "Twilio had a server problem; trying again automatically.",
    RATE_LIMITED: "Twilio asked us to slow down; trying again automatically.",
    "20429": "Twilio asked us to slow down; trying again automatically.",
    NETWORK: "Could not reach Twilio (network problem or Twilio outage); trying again automatically.",
    TIMEOUT: "Twilio did not answer in time; checking whether the text went out before trying again.",
    LOOKUP: "Could not ask Twilio whether an interrupted send went out; asking again shortly.",
    UNEXPECTED: "An unexpected error interrupted the send; checking with Twilio before trying again.",
}


def classify(*, http_status: int | None, code: str) -> Kind:
    """A Twilio API error answer (HTTP status and Twilio code)."""
    status = http_status or 0
    if status >= 500 or status == 429 or status == 0 or code in ACCOUNT_PROBLEMS or status in (401, 403):
        return Kind.RETRY
    return Kind.REFUSED


def reason(code: str, *, http_status: int | None = None) -> str:
    """The words shown next to a message's status."""
    code = str(code or "")
    if code in ACCOUNT_PROBLEMS:
        return f"{ACCOUNT_PROBLEMS[code]} Texts wait until an administrator fixes it."
    if http_status is not None and (http_status >= 500 or (code.startswith("5") and len(code) == 3)):
        return REASONS[SERVER_ERROR]
    if code.startswith("5") and len(code) == 3:
        return REASONS[SERVER_ERROR]
    if code in REASONS:
        return REASONS[code]
    if http_status in (401, 403):
        return f"{ACCOUNT_PROBLEMS['20003']} Texts wait until an administrator fixes it."
    return f"Twilio refused this message (error {code})." if code else "The send failed for an unknown reason."


CAUSES = {
    SERVER_ERROR: "Twilio kept answering with server errors",
    RATE_LIMITED: "Twilio kept asking us to slow down",
    "20429": "Twilio kept asking us to slow down",
    NETWORK: "Twilio could not be reached",
    TIMEOUT: "Twilio did not answer in time",
    LOOKUP: "Twilio could not be asked whether an interrupted send went out",
    UNEXPECTED: "the send kept failing",
}


def gave_up(code: str, *, waited: str, http_status: int | None = None) -> str:
    """A message that kept failing for the whole retry window."""
    code = str(code or "")
    if code in ACCOUNT_PROBLEMS or http_status in (401, 403):
        cause = "Twilio kept refusing the clinic's account settings"
    elif (http_status or 0) >= 500:
        cause = CAUSES[SERVER_ERROR]
    else:
        cause = CAUSES.get(code, "the send kept failing")
    return f"Not sent: {cause} for {waited}. Resend it if it still matters."
