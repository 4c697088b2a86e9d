from __future__ import annotations

from django import forms


class StatusQueryForm(forms.Form):
    """The query string of a status callback: the message it reports on (its public id)."""

    message = forms.UUIDField(required=False)


class StatusCallbackForm(forms.Form):
    """What Twilio POSTs about a text's delivery (only the fields used)."""

    MessageSid = forms.CharField(max_length=64, required=False)
    MessageStatus = forms.CharField(max_length=20)
    ErrorCode = forms.CharField(max_length=10, required=False)


class InboundForm(forms.Form):
    """What Twilio POSTs for a text received (only the fields used)."""

    MessageSid = forms.CharField(max_length=64)
    From = forms.CharField(max_length=32)
    Body = forms.CharField(max_length=1600, required=False, strip=False)
