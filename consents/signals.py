"""Signals the consents app sends inside the transaction that records the consent.

`sms_opt_in_recorded`: a patient opted in to SMS through the portal (booking boxes or the
preferences page). Keyword arguments: `phone` (E.164), `purposes` (list of SmsPurpose values
newly opted in), `events` (the SmsConsentEvent rows), `patient` (or None). Messaging listens and
queues the double opt-in confirmation text (consents.disclosures.double_opt_in_confirmation)
in its outbox, in the same transaction. Sent with `send()`: a failing receiver rolls back.

`sms_opt_in_requested`: a web form asked for texts to a number nobody has proven to own; the
ledger holds PENDING events. Same keyword arguments. Messaging queues the one "Reply YES to get …
texts from <clinic>" request (fixed wording, no free text) — nothing else may go to the number
until YES comes back from it.

`phone_code_requested`: a patient asked on the portal for a code to prove their number. Keyword
arguments: `phone`, `body` (fixed wording with the code), `patient`, `code_id`. Messaging texts it
at once (kind PHONE_CODE: allowed to a number with no consent yet, never after an opt-out).

`consent_revoked`: a signed consent was revoked. Keyword arguments: `signature`, `revocation`."""

from django.dispatch import Signal

sms_opt_in_recorded = Signal()
sms_opt_in_requested = Signal()
phone_code_requested = Signal()
consent_revoked = Signal()
