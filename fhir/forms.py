from __future__ import annotations

from django import forms

from fhir.models import SCOPES, IntegrationClient


class ClientForm(forms.Form):
    name = forms.CharField(
        label="Name of the system",
        max_length=100,
        help_text="For example the practice's EHR. It names the client in the audit log.",
    )
    scopes = forms.MultipleChoiceField(
        label="What it may read",
        choices=SCOPES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope."},
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if IntegrationClient.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A client with this name exists already.")
        return name
