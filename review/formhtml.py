"""The review's decision forms in Bootstrap 5 markup, written out in Python.

The layout is crispy-forms' bootstrap5 one (a `div_<id>` per field, labels with a required mark,
help and error texts tied to their field by `aria-describedby`, invalid fields marked for the
eye and for assistive technology), without its layout machinery, which took half of the intake
summary's time, and without a template render per widget (a third of what was left): text,
number and text-area inputs and selects are written from the widget's own context (Django's
values, attributes and options); any other widget is rendered by Django.
"""

from __future__ import annotations

from typing import Any

from django.forms import BaseForm, BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Bootstrap's class for each kind of widget; text, number and text-area inputs take form-control.
_WIDGET_CLASSES = {"select": "form-select", "checkboxselectmultiple": "form-check-input"}
_REQUIRED_MARK = format_html('<span class="{}">*</span>', "asteriskField")


def form_html(form: BaseForm) -> SafeString:
    parts: list[str] = []
    if form.non_field_errors():
        parts.append(
            format_html(
                '<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>',
                format_html_join(
                    "", "<li>{}</li>", ((error,) for error in form.non_field_errors())
                ),
            )
        )
    parts.extend(str(field) for field in form.hidden_fields())
    parts.extend(_field_html(field) for field in form.visible_fields())
    return format_html_join("\n", "{}", ((part,) for part in parts))


def _field_html(field: BoundField) -> SafeString:
    required = field.field.required
    css = _WIDGET_CLASSES.get(field.widget_type, "form-control")
    if field.errors:
        css += " is-invalid"
    label = format_html("{}{}", field.label, _REQUIRED_MARK if required else "")
    required_class = " requiredField" if required else ""
    notes = _notes(field)
    if field.use_fieldset:
        described = " ".join(
            f"{field.auto_id}_{note}"
            for note, present in (("helptext", field.help_text), ("error", field.errors))
            if present
        )
        choices = format_html_join(
            "",
            '<div class="form-check"><input type="{}" class="{}" name="{}" value="{}" id="{}"{}>'
            ' <label for="{}" class="form-check-label">{}</label></div>',
            (
                (
                    choice.data["type"],
                    css,
                    choice.data["name"],
                    choice.data["value"],
                    choice.id_for_label,
                    _flags(choice.data["selected"], bool(field.errors)),
                    choice.id_for_label,
                    choice.choice_label,
                )
                for choice in field
            ),
        )
        return format_html(
            '<div id="div_{}" class="mb-3"><fieldset{}><legend class="form-label{} fs-6">{}'
            "</legend>{}{}</fieldset></div>",
            field.auto_id,
            format_html(' aria-describedby="{}"', described) if described else "",
            required_class,
            label,
            choices,
            notes,
        )
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label{}">{}</label>{}{}</div>',
        field.auto_id,
        field.id_for_label,
        required_class,
        label,
        _widget_html(field, css),
        notes,
    )


def _flags(checked: bool, invalid: bool) -> SafeString:
    return format_html(
        "{}{}",
        format_html(" {}", "checked") if checked else "",
        format_html(' aria-invalid="{}"', "true") if invalid else "",
    )


def _notes(field: BoundField) -> SafeString:
    errors = (
        format_html(
            '<div id="{}_error" class="invalid-feedback d-block">{}</div>',
            field.auto_id,
            format_html_join(
                "",
                '<p id="error_{}_{}"><strong>{}</strong></p>',
                ((n, field.auto_id, error) for n, error in enumerate(field.errors, start=1)),
            ),
        )
        if field.errors
        else ""
    )
    help_text = (
        format_html(
            '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text
        )
        if field.help_text
        else ""
    )
    return format_html("{}{}", errors, help_text)


def _widget_html(field: BoundField, css: str) -> SafeString:
    """The field's widget as Django's own templates write it, for the widgets the forms use."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({"class": css}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context: dict[str, Any] = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    template = context["template_name"]
    if template == "django/forms/widgets/textarea.html":
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            context["name"],
            _attrs(context["attrs"]),
            context["value"] or "",
        )
    grouped = any(group for group, _options, _index in context.get("optgroups", []))
    if template == "django/forms/widgets/select.html" and not grouped:
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], _attrs(option["attrs"]), option["label"])
                for _group, group_options, _index in context["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', context["name"], _attrs(context["attrs"]), options
        )
    if "type" in context and template == f"django/forms/widgets/{context['type']}.html":
        value = context["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            context["type"],
            context["name"],
            format_html(' value="{}"', value) if value is not None else "",
            _attrs(context["attrs"]),
        )
    return field.as_widget(attrs={"class": css})


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """Attributes as Django's attrs.html writes them: True as a bare name, False left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )
