from __future__ import annotations

from django import forms


class DoneForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What was done.",
    )
