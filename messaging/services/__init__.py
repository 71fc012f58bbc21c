"""Writes to the messaging tables, one module per concern (keyword-only functions, one transaction each):

- outbox: queue_message (the one way into the outbox), queue_unique, cancel_pending
- appointment_messages: confirmation, reminders, care instructions, reschedule/cancel notices
- notifications: double opt-in confirmation, pay/consent links, portal sign-in code
- delivery: provider status callbacks, error reasons, carrier opt-outs
- inbound: inbound texts and keywords
- inbox: the staff inbox and replies
- templates: editable wording
- campaigns: marketing campaigns
"""
