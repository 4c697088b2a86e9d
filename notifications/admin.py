from __future__ import annotations

from django.contrib import admin

from notifications.models import InboundText, Message

PRIVATE = ["recipient", "body_text", "body_html", "attachment"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ["kind", "channel", "status", "send_at", "sent_at", "attempts"]
    list_filter = ["status", "channel", "kind"]
    date_hierarchy = "send_at"
    # Staff see what was sent when, not to whom or what it said: that stays in the outbox.
    exclude = PRIVATE
    readonly_fields = [f.name for f in Message._meta.fields if f.name not in PRIVATE]


@admin.register(InboundText)
class InboundTextAdmin(admin.ModelAdmin[InboundText]):
    list_display = ["received_at", "outcome"]
    list_filter = ["outcome"]
    # Who wrote and what they said stay with the staff pages that need them.
    exclude = ["sender", "body"]
    readonly_fields = [f.name for f in InboundText._meta.fields if f.name not in ("sender", "body")]
