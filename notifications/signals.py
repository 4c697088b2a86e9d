"""Signals of the outbox, for apps that act on a message's fate (a staff task when one fails)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a message is marked failed for good, outside any transaction, with `message_id`
# (the row's primary key), `kind`, `group` and `reason`.
message_failed = Signal()
