from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from paperwork import diagnoses


class DiagnosesForm(forms.Form):
    """The plan's diagnosis codes, one a line: the code, then the clinic's description (the
    description of a code the clinic ships may be left out)."""

    codes = forms.CharField(
        label=_("Diagnosis codes (ICD-10-CM), one a line, the primary first"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For example: M79.7 Fibromyalgia"),
        max_length=2000,
    )

    def clean_codes(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for raw in self.cleaned_data["codes"].splitlines():
            line = raw.strip()
            if not line:
                continue
            code, _sep, description = line.partition(" ")
            code = code.upper().rstrip(",;:")
            if not diagnoses.ICD10_SHAPE.match(code):
                raise forms.ValidationError(
                    _("“%(code)s” is not an ICD-10-CM code (a letter, two characters, a dot, …)."),
                    params={"code": code[:10]},
                )
            description = description.strip(" -–:") or diagnoses.description_of(code)
            if not description:
                raise forms.ValidationError(
                    _("Add a description after %(code)s."), params={"code": code}
                )
            if code not in {c for c, _d in found}:
                found.append((code, description[:200]))
        if not found:
            raise forms.ValidationError(_("Enter at least one diagnosis code."))
        return found
