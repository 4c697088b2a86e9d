"""Random and hostile input to every intake step: never a server error, never a lost answer,
and every refusal explained next to the field at fault."""

from __future__ import annotations

import html

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import Role, User
from intake import services
from intake.models import IntakeAnswer
from intake.steps import STEPS
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import valid_steps

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "11",
    "1e309",
    "NaN",
    "yes",
    "on",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00b",
    "😀" * 50,
    "x" * 5000,
    "1980-02-30",
    "9999-12-31",
    "../../etc/passwd",
    "\u202e",
]


def _as_lists(data: dict[str, object]) -> dict[str, list[object]]:
    return {key: value if isinstance(value, list) else [value] for key, value in data.items()}


text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))


def field_value(choices: list[str]):
    options = [text, st.lists(text, max_size=4)]
    if choices:
        options.append(st.sampled_from(choices))
        options.append(st.lists(st.sampled_from(choices), max_size=6))
    return st.one_of(*options)


def step_posts(slug: str):
    """Posts built over the step's real field names, valid answers mixed with hostile ones."""
    valid = valid_steps()[slug]
    fields = {}
    for name, good in valid.items():
        good_values = good if isinstance(good, list) else [good]
        fields[name] = st.one_of(st.just(good), field_value([str(v) for v in good_values]))
    return st.fixed_dictionaries(fields, optional={"unexpected": text, "action": text})


class HostileInputTests(TestCase):
    patient: User

    @classmethod
    def setUpTestData(cls) -> None:
        LocationFactory.create(slug="stamford", name="Stamford")
        cls.patient = UserFactory.create(role=Role.PATIENT)

    def _prepare(self) -> None:
        """Per example (each runs in its own transaction): a draft whose every step is done."""
        self.client = Client()
        self.client.force_login(self.patient)
        self.intake = services.start_draft(self.patient)
        for step in STEPS:
            extra = {"legal_name": "Avery Testperson"} if step.slug == "consents" else {}
            data = MultiValueDict(_as_lists(valid_steps()[step.slug]))
            form = step.form_class(data, intake=None, **extra)
            assert form.is_valid(), (step.slug, form.errors)
            services.save_step(self.intake, step, form.answers(), ip="127.0.0.1")

    def _url(self, slug: str) -> str:
        return reverse("intake:step", args=[self.intake.public_id, slug])

    def _snapshot(self, except_step: str) -> dict[str, object]:
        return {
            answer.step: (answer.data, answer.completed_at)
            for answer in IntakeAnswer.objects.filter(intake=self.intake).exclude(step=except_step)
        }

    def _check(self, slug: str, post: dict[str, object]) -> None:
        self._prepare()
        before = self._snapshot(slug)
        draft = IntakeAnswer.objects.get(intake=self.intake, step=slug)
        response = self.client.post(self._url(slug), post)

        if _has_control_characters(post):
            # Refused before the step reads it (clinic.middleware): the draft stays as it was.
            assert response.status_code == 400
            assert HIDDEN_CHARACTER in response.content.decode()
            assert self._snapshot(slug) == before
            after = IntakeAnswer.objects.get(intake=self.intake, step=slug)
            assert (after.data, after.completed_at) == (draft.data, draft.completed_at)
            return
        assert response.status_code in (200, 302), response.status_code
        assert self._snapshot(slug) == before
        answer = IntakeAnswer.objects.get(intake=self.intake, step=slug)
        if response.status_code == 302:
            return
        page = response.content.decode()
        form = response.context["form"]
        if form.errors or getattr(form, "has_errors", lambda: False)():
            assert answer.completed_at is None
            assert "Please check the answers marked below" in page
        for name, errors in form.errors.items():
            for error in errors:
                assert html.escape(error, quote=True) in page or error in page, (name, error)
            if name != "__all__":
                assert f'id="id_{name}"' in page or f'name="{name}"' in page, name


HIDDEN_CHARACTER = "hidden character"


def _has_control_characters(post: dict[str, object]) -> bool:
    from clinic.middleware import CONTROL_CHARACTERS

    texts = [
        str(text)
        for name, value in post.items()
        for text in (name, *(value if isinstance(value, list) else [value]))
        if not isinstance(text, SimpleUploadedFile)
    ]
    return any(CONTROL_CHARACTERS.search(text) for text in texts)


def _make_test(slug: str):
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(post=step_posts(slug), card=st.one_of(st.none(), st.binary(max_size=64)))
    def test(self: HostileInputTests, post: dict[str, object], card: bytes | None) -> None:
        if slug == "insurance" and card is not None:
            post = {**post, "card": SimpleUploadedFile("card.jpg", card, "image/jpeg")}
        self._check(slug, post)

    test.__name__ = f"test_hostile_input_to_the_{slug}_step_is_handled"
    return test


for _step in STEPS:
    setattr(
        HostileInputTests, f"test_hostile_input_to_the_{_step.slug}_step", _make_test(_step.slug)
    )


def _control_test(slug: str):
    """A NUL or another control character in each field of the step, one at a time."""

    def test(self: HostileInputTests) -> None:
        valid = valid_steps()[slug]
        for number, name in enumerate(valid):
            control = ["a\x00b", "\x00", "x\x1by", "\x7f"][number % 4]
            self._check(slug, {**valid, name: control})

    return test


for _step in STEPS:
    setattr(
        HostileInputTests,
        f"test_a_control_character_in_each_field_of_the_{_step.slug}_step",
        _control_test(_step.slug),
    )
