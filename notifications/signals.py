"""Signals of the outbox, for apps that act on a message's fate (a staff task when one fails)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a message is marked failed for good, outside any transaction, with `message_id`
# (the row's primary key), `kind`, `group` and `reason`.
message_failed = Signal()

# Sent after a message is recorded sent, outside any transaction, with `message_id`, `kind` and
# `group` (the app that planned it records what follows, e.g. a flag's clinicians notified).
message_sent = Signal()

# Sent when the provider reports that a text it took did not reach the phone (undelivered or
# failed, other than an opt-out), inside the transaction that records it, with `message_id`,
# `kind`, `group` and `error_code`. Sent once per text: the delivery status only moves forward.
text_undelivered = Signal()

# Sent when the provider refuses a number because its owner opted out of texts (Twilio's error
# 21610), with `recipient` (the number), `message_id` and `source` (in words, for the record).
# Not a failure: the person said no.
recipient_opted_out = Signal()
