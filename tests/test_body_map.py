"""The WPI body map partial: real, labelled checkboxes under a decorative front/back drawing."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django import forms
from django.template import engines

from intake.scoring import REGIONS, WPI_AREAS

INCLUDE = (
    '{% include "intake/_body_map.html" with field=form.painful_areas regions=body_map_regions %}'
)
CODES = [area.code for area in WPI_AREAS]
LABELS = {area.code: area.label for area in WPI_AREAS}


class PainForm(forms.Form):
    painful_areas = forms.MultipleChoiceField(
        choices=[(a.code, a.label) for a in WPI_AREAS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class Page(HTMLParser):
    """Collects the elements, the label texts, the legends and the shapes of each drawing."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.labels: dict[str, str] = {}
        self.legends: list[str] = []
        self.shapes: list[tuple[str, str, str]] = []  # (view, area code, path data)
        self.titles: dict[str, set[str]] = {}
        self.count_text = ""
        self._view = ""
        self._area = ""
        self._capture: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "svg":
            classes = attributes.get("class", "").split()
            self._view = "front" if "body-map-front" in classes else "back"
        if "data-area" in attributes:
            self._area = attributes["data-area"]
            self.shapes.append((self._view, self._area, attributes.get("d", "")))
        if tag == "label":
            self._start("label", attributes.get("for", ""))
        elif tag == "legend":
            self._start("legend", "")
        elif tag == "title" and self._area:
            self._start("title", self._area)
        elif attributes.get("id") == "body-map-count":
            self._start("count", "")

    def handle_endtag(self, tag: str) -> None:
        if self._capture and tag == {"count": "p"}.get(self._capture[0], self._capture[0]):
            kind, key = self._capture
            text = " ".join("".join(self._text).split())
            if kind == "label":
                self.labels[key] = text
            elif kind == "legend":
                self.legends.append(text)
            elif kind == "title":
                self.titles.setdefault(key, set()).add(text)
            else:
                self.count_text = text
            self._capture = None
        if tag in {"path", "ellipse", "circle"}:
            self._area = ""

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._text.append(data)

    def _start(self, kind: str, key: str) -> None:
        self._capture = (kind, key)
        self._text = []

    def checkboxes(self) -> dict[str, dict[str, str]]:
        return {
            attrs["id"]: attrs
            for tag, attrs in self.elements
            if tag == "input" and attrs.get("type") == "checkbox"
        }


def render(form: PainForm) -> tuple[str, Page]:
    regions = [(region, [a for a in WPI_AREAS if a.region == region.code]) for region in REGIONS]
    html = (
        engines["django"].from_string(INCLUDE).render({"form": form, "body_map_regions": regions})
    )
    page = Page()
    page.feed(html)
    page.close()
    return html, page


def test_bound_form_renders_checked_checkboxes_labels_and_drawing() -> None:
    chosen = {"left_jaw", "lower_back"}
    form = PainForm(data={"painful_areas": sorted(chosen)})
    assert form.is_valid()
    html, page = render(form)

    checkboxes = page.checkboxes()
    assert sorted(checkboxes) == sorted(f"area-{code}" for code in CODES)
    for code in CODES:
        box = checkboxes[f"area-{code}"]
        assert box["name"] == "painful_areas"
        assert box["value"] == code
        assert "form-check-input" in box["class"].split()
        assert ("checked" in box) == (code in chosen), code
        assert page.labels[f"area-{code}"] == LABELS[code]

    assert page.legends == [region.label for region in REGIONS]
    assert page.count_text == "2 of 19 areas selected"
    assert "painful_areas-error" not in html

    # Every area can be clicked on the drawing, and each shape names its area in a tooltip.
    drawn = {code for _view, code, _d in page.shapes}
    assert drawn == set(CODES)
    for code in CODES:
        assert page.titles[code] == {LABELS[code]}
    assert all(
        "body-area" in attrs.get("class", "").split()
        for _t, attrs in page.elements
        if "data-area" in attrs
    )
    svgs = [attrs for tag, attrs in page.elements if tag == "svg"]
    assert len(svgs) == 2
    assert all(s["aria-hidden"] == "true" and s["focusable"] == "false" for s in svgs)

    # CSP: no inline script, no inline event handler, no style attribute.
    assert "<script" not in html.lower()
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert "style=" not in html.lower()


def test_drawing_mirrors_the_patients_sides() -> None:
    """Front: the patient's left is on the viewer's right. Back: on the viewer's left."""
    _html, page = render(PainForm())
    sided = [
        (view, code, d) for view, code, d in page.shapes if code.startswith(("left_", "right_"))
    ]
    assert {view for view, _c, _d in sided} == {"front", "back"}
    for view, code, d in sided:
        assert re.fullmatch(r"[MLCQZ\d. ]+", d), "absolute M/L/C/Q/Z paths only"
        xs = [float(x) for x in re.findall(r"[\d.]+", d)[0::2]]  # (x, y) pairs
        mean_x = sum(xs) / len(xs)
        on_viewers_left = mean_x < 100
        patients_left = code.startswith("left_")
        assert on_viewers_left == (patients_left == (view == "back")), (view, code, mean_x)


def test_unbound_form_has_nothing_checked() -> None:
    _html, page = render(PainForm())
    assert not any("checked" in box for box in page.checkboxes().values())
    assert page.count_text == "0 of 19 areas selected"


def test_errors_are_shown_and_linked_to_the_checkboxes() -> None:
    form = PainForm(data={"painful_areas": ["neck", "elbow"]})
    assert not form.is_valid()
    html, page = render(form)

    errors = [attrs for _tag, attrs in page.elements if attrs.get("id") == "painful_areas-error"]
    assert len(errors) == 1
    assert {"invalid-feedback", "d-block"} <= set(errors[0]["class"].split())
    assert "elbow is not one of the available choices" in html
    groups = [attrs for _tag, attrs in page.elements if attrs.get("role") == "group"]
    assert len(groups) == 1
    assert "painful_areas-error" in groups[0]["aria-describedby"].split()
    for box in page.checkboxes().values():
        assert "painful_areas-error" in box["aria-describedby"].split()
    # What the patient ticked is kept.
    assert "checked" in page.checkboxes()["area-neck"]
