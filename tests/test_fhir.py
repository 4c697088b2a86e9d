"""The read-only FHIR R4 API over HTTP, with an integration client's bearer token: every resource
it returns is validated with fhir.resources' R4B models, and its codes and values checked."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class

from audit.models import AuditEvent
from charting.models import VitalSign
from fhir.access import CLIENT_ROLE
from fhir.models import IntegrationClient, PlaceKey
from tests.fhir_data import bearer, charted_course, integration_client

pytestmark = pytest.mark.django_db

SITE = "https://clinic.example.org"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# The codes docs/fhir.md#endpoints lists, and nothing else, may code an Observation.
SCORE_CODES = {"44261-6", "44260-8", "70274-6", "91147-9", "38208-5"}
VITAL_CODES = {"85354-9", "8867-4", "59408-5", "9279-1", "29463-7"}
COMPONENT_CODES = {"8480-6", "8462-4"}
OBSERVATION_STATUSES = {"registered", "preliminary", "final", "amended"}
APPOINTMENT_STATUSES = {
    "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
    "entered-in-error", "checked-in", "waitlist",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def course():
    return charted_course()


@pytest.fixture
def api():
    _client, token = integration_client("system/*.read")
    return bearer(token)


def valid(resource: dict) -> dict:
    """Validate with fhir.resources' R4B model of the type (a Bundle validates its entries)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def get(api, path: str, status: int = 200, **params) -> dict:
    response = api.get(path, params)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Cache-Control"] == "no-store"
    return valid(json.loads(response.content))


def resources(bundle: dict) -> list[dict]:
    assert bundle["type"] == "searchset"
    for entry in bundle["entry"]:
        valid(entry["resource"])
        assert entry["fullUrl"] == (
            f"{SITE}/fhir/{entry['resource']['resourceType']}/{entry['resource']['id']}"
        )
    return [entry["resource"] for entry in bundle["entry"]]


def by_id(found: list[dict]) -> dict[str, dict]:
    return {resource["id"]: resource for resource in found}


def loinc_code(concept: dict) -> str:
    coding = concept["coding"][0]
    assert coding["system"] == LOINC
    return coding["code"]


def test_the_capability_statement_says_fhir_4_0_1_and_lists_each_resource_type(api):
    statement = get(api, "/fhir/metadata")

    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert "application/fhir+json" in statement["format"]
    served = {entry["type"]: entry for entry in statement["rest"][0]["resource"]}
    assert set(served) == {
        "Patient", "Observation", "Appointment", "Questionnaire", "QuestionnaireResponse",
        "Location",
    }  # fmt: skip
    assert served["Patient"]["operation"][0]["name"] == "everything"
    assert {p["name"] for p in served["Observation"]["searchParam"]} >= {"patient", "date"}


def test_a_patient_reads_with_the_demographics_of_the_submitted_intake(api, course):
    patient = get(api, f"/fhir/Patient/{course.patient.public_id}")

    assert patient["id"] == str(course.patient.public_id)
    official = next(name for name in patient["name"] if name["use"] == "official")
    assert (official["family"], official["given"]) == ("Testperson", ["Avery"])
    assert {"use": "usual", "given": ["Ave"]} in patient["name"]
    assert patient["birthDate"] == "1980-04-12"
    assert patient["extension"][0]["valueCode"] == "F"
    assert patient["address"][0]["city"] == "Stamford"
    assert {"system": "email", "value": course.patient.email} in patient["telecom"]


def test_the_four_questionnaires_carry_their_loinc_codes_and_the_apps_canonical_urls(api):
    found = by_id(resources(get(api, "/fhir/Questionnaire")))

    assert set(found) == {"phq-9", "gad-7", "peg", "acr-2016"}
    assert [loinc_code({"coding": found[key]["code"]}) for key in ("phq-9", "gad-7", "peg")] == [
        "44249-1",
        "69737-5",
        "91148-7",
    ]
    for key, questionnaire in found.items():
        assert questionnaire["url"] == f"{SITE}/fhir/Questionnaire/{key}"
        assert questionnaire["status"] == "active"
    phq9_items = [item for item in found["phq-9"]["item"] if item["type"] == "choice"]
    assert [item["code"][0]["code"] for item in phq9_items][-1] == "44260-8"
    acr_groups = [item["linkId"] for item in found["acr-2016"]["item"]]
    assert acr_groups == ["wpi", "sss", "somatic", "symptoms-3-months", "scores"]
    assert len(found["acr-2016"]["item"][0]["item"]) == 19
    by_url = resources(get(api, "/fhir/Questionnaire", url=f"{SITE}/fhir/Questionnaire/peg|2009"))
    assert [q["id"] for q in by_url] == ["peg"]
    assert get(api, "/fhir/Questionnaire/gad-7")["code"][0]["code"] == "69737-5"


def _answers(response: dict) -> dict[str, Any]:
    """linkId -> the answer's value, groups flattened."""
    found: dict[str, Any] = {}

    def walk(items):
        for item in items:
            if "answer" in item:
                (value,) = item["answer"][0].values()
                found[item["linkId"]] = value
            walk(item.get("item", []))

    walk(response["item"])
    return found


def test_questionnaire_responses_of_each_intake_instrument_and_of_the_milestone(api, course):
    intake = course.first.series.plan.intake
    found = by_id(
        resources(get(api, "/fhir/QuestionnaireResponse", patient=course.patient.public_id))
    )

    series = course.first.series.public_id
    assert set(found) == {
        f"{intake.public_id}.acr-2016",
        f"{intake.public_id}.peg",
        f"{intake.public_id}.phq-9",
        f"{intake.public_id}.gad-7",
        f"{series}.baseline.phq-9",
        f"{series}.baseline.peg",
    }
    phq9 = found[f"{intake.public_id}.phq-9"]
    assert phq9["questionnaire"] == f"{SITE}/fhir/Questionnaire/phq-9|2001"
    assert phq9["status"] == "completed"
    assert phq9["subject"]["reference"] == f"Patient/{course.patient.public_id}"
    answers = _answers(phq9)
    assert answers["phq9-1"]["code"] == "LA6569-3"  # "Several days", 1 point (intake.samples)
    assert answers["phq9-9"]["code"] == "LA6568-5"
    assert answers["phq9-total"] == 8
    assert found[f"{intake.public_id}.gad-7"]["questionnaire"].endswith("gad-7|2006")
    assert _answers(found[f"{intake.public_id}.gad-7"])["gad7-total"] == 14
    assert _answers(found[f"{intake.public_id}.peg"]) == {
        "peg-1": 7,
        "peg-2": 6,
        "peg-3": 8,
        "peg-score": 7,
    }
    acr = _answers(found[f"{intake.public_id}.acr-2016"])
    assert acr["wpi.right_jaw"] is True and acr["wpi.left_jaw"] is False
    assert acr["sss.fatigue"]["code"] == "3"
    assert (acr["wpi-score"], acr["sss-score"]) == (8, 8)
    baseline = _answers(found[f"{series}.baseline.phq-9"])
    assert (baseline["phq9-9"]["code"], baseline["phq9-total"]) == ("LA6569-3", 17)
    assert _answers(found[f"{series}.baseline.peg"])["peg-score"] == 5


def test_observations_carry_the_listed_codes_with_the_scores_and_vitals(api, course):
    found = resources(get(api, "/fhir/Observation", patient=course.patient.public_id, _count=200))
    intake = course.first.series.plan.intake
    session, series = course.first.public_id, course.first.series.public_id
    observations = by_id(found)

    for observation in found:
        assert observation["status"] in OBSERVATION_STATUSES
        code = loinc_code(observation["code"])
        category = observation["category"][0]["coding"][0]["code"]
        if code in SCORE_CODES:
            assert category == "survey"
        else:
            assert code in VITAL_CODES and category == "vital-signs"
            assert observation["meta"]["profile"] == [
                "http://hl7.org/fhir/StructureDefinition/vitalsigns"
            ]
        for quantity in [observation.get("valueQuantity")] + [
            component["valueQuantity"] for component in observation.get("component", [])
        ]:
            if quantity:
                assert quantity["system"] == UCUM

    def value(resource_id):
        return observations[resource_id]["valueQuantity"]["value"]

    assert loinc_code(observations[f"{intake.public_id}.phq9-total"]["code"]) == "44261-6"
    assert value(f"{intake.public_id}.phq9-total") == 8
    assert loinc_code(observations[f"{intake.public_id}.phq9-item9"]["code"]) == "44260-8"
    assert value(f"{intake.public_id}.phq9-item9") == 0
    assert loinc_code(observations[f"{intake.public_id}.gad7-total"]["code"]) == "70274-6"
    assert value(f"{intake.public_id}.gad7-total") == 14
    assert loinc_code(observations[f"{intake.public_id}.peg"]["code"]) == "91147-9"
    assert value(f"{intake.public_id}.peg") == 7
    assert observations[f"{intake.public_id}.peg"]["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/{intake.public_id}.peg"}
    ]
    assert value(f"{intake.public_id}.pain-now") == 6
    assert value(f"{series}.baseline.phq9-total") == 17
    assert value(f"{series}.baseline.phq9-item9") == 1
    assert value(f"{series}.baseline.peg") == 5
    pains = {
        part: value(f"{session}.{part}") for part in ("pain-before", "pain-after", "check-in-pain")
    }
    assert pains == {"pain-before": 7, "pain-after": 3, "check-in-pain": 4}
    assert {loinc_code(observations[f"{session}.{part}"]["code"]) for part in pains} == {"38208-5"}
    weight = observations[f"{session}.weight"]
    assert loinc_code(weight["code"]) == "29463-7"
    assert weight["valueQuantity"] == {
        "value": 74.8,
        "unit": "kg",
        "system": UCUM,
        "code": "kg",
    }
    assert value(f"{intake.public_id}.intake-weight") == 74.8  # 165 lb


def test_each_vitals_reading_is_a_blood_pressure_panel_heart_rate_spo2_and_breathing_rate(
    api, course
):
    found = by_id(resources(get(api, "/fhir/Observation", patient=course.patient.public_id)))
    session = course.first.public_id

    baseline_bp = found[f"{session}.v1.bp"]
    assert loinc_code(baseline_bp["code"]) == "85354-9"
    assert "valueQuantity" not in baseline_bp
    assert [
        (loinc_code(c["code"]), c["valueQuantity"]["value"], c["valueQuantity"]["code"])
        for c in baseline_bp["component"]
    ] == [("8480-6", 130, "mm[Hg]"), ("8462-4", 80, "mm[Hg]")]
    heart = found[f"{session}.v1.hr"]
    assert (loinc_code(heart["code"]), heart["valueQuantity"]["value"]) == ("8867-4", 75)
    assert heart["valueQuantity"]["code"] == "/min"
    spo2 = found[f"{session}.v1.spo2"]
    assert [coding["code"] for coding in spo2["code"]["coding"]] == ["59408-5", "2708-6"]
    assert (spo2["valueQuantity"]["value"], spo2["valueQuantity"]["code"]) == (98, "%")
    breathing = found[f"{session}.v3.rr"]
    assert (loinc_code(breathing["code"]), breathing["valueQuantity"]["value"]) == ("9279-1", 16)
    assert f"{session}.v2.rr" not in found  # charted without a respiratory rate
    assert found[f"{session}.v2.bp"]["effectiveDateTime"] == course.times["infusion"].astimezone(
        dt.UTC
    ).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_appointments_map_the_status_and_name_the_location_and_the_chair_as_locations(api, course):
    found = by_id(resources(get(api, "/fhir/Appointment", patient=course.patient.public_id)))

    first, second = found[str(course.first.public_id)], found[str(course.second.public_id)]
    assert (first["status"], second["status"]) == ("fulfilled", "booked")
    assert {first["status"], second["status"]} <= APPOINTMENT_STATUSES
    assert first["start"] == course.first.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    patient, site, chair = first["participant"]
    assert patient["actor"]["reference"] == f"Patient/{course.patient.public_id}"
    site_id = site["actor"]["reference"].removeprefix("Location/")
    chair_id = chair["actor"]["reference"].removeprefix("Location/")
    assert second["participant"][1]["actor"]["reference"] == f"Location/{site_id}"
    assert second["participant"][2]["actor"]["reference"] != f"Location/{chair_id}"

    location = get(api, f"/fhir/Location/{site_id}")
    assert (location["name"], location["physicalType"]["coding"][0]["code"]) == ("Stamford", "si")
    assert location["extension"][0]["valueCode"] == "America/New_York"
    seat = get(api, f"/fhir/Location/{chair_id}")
    assert seat["partOf"]["reference"] == f"Location/{site_id}"
    assert seat["name"] == "Stamford · Chair 1"
    keys = {str(key) for key in PlaceKey.objects.values_list("public_id", flat=True)}
    assert {site_id, chair_id} <= keys
    everywhere = by_id(resources(get(api, "/fhir/Location")))
    assert len(everywhere) == 3  # the site and its two chairs


def test_a_cancelled_late_session_is_a_cancelled_appointment_with_its_reason(api, course):
    course.second.status = "late_cancelled"
    course.second.save()

    appointment = get(api, f"/fhir/Appointment/{course.second.public_id}")

    assert appointment["status"] == "cancelled"
    assert "24 hours" in appointment["cancelationReason"]["text"]


def test_searches_by_date_return_what_lies_in_the_range(api, course):
    start = course.times["infusion"] - dt.timedelta(minutes=5)
    end = course.times["infusion"] + dt.timedelta(minutes=5)
    window = [start.strftime("ge%Y-%m-%dT%H:%M:%SZ"), end.strftime("lt%Y-%m-%dT%H:%M:%SZ")]

    bundle = get(api, "/fhir/Observation", patient=course.patient.public_id, date=window)

    session = course.first.public_id
    assert {r["id"] for r in resources(bundle)} == {
        f"{session}.v2.bp",
        f"{session}.v2.hr",
        f"{session}.v2.spo2",
    }
    assert bundle["total"] == 3
    later = (course.first.starts_at + dt.timedelta(days=1)).date().isoformat()
    appointments = get(api, "/fhir/Appointment", date=f"ge{later}")
    assert [r["id"] for r in resources(appointments)] == [str(course.second.public_id)]
    day = course.first.starts_at.astimezone(dt.UTC).date().isoformat()
    assert [r["id"] for r in resources(get(api, "/fhir/Appointment", date=day))] == [
        str(course.first.public_id)
    ]


def test_a_search_pages_with_its_total_and_self_and_next_links(api, course):
    patient = course.patient.public_id
    everything = resources(get(api, "/fhir/Observation", patient=patient, _count=200))

    first = get(api, "/fhir/Observation", patient=patient, _count=5)
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert first["total"] == len(everything) == 24
    assert links["self"] == (f"{SITE}/fhir/Observation?patient={patient}&_count=5&_offset=0")
    assert links["next"].endswith("_count=5&_offset=5")
    pages = []
    offset = 0
    while offset < first["total"]:
        page = get(api, "/fhir/Observation", patient=patient, _count=5, _offset=offset)
        pages += resources(page)
        offset += 5
    assert [r["id"] for r in pages] == [r["id"] for r in everything]
    times = [r["effectiveDateTime"] for r in everything]
    assert times == sorted(times)
    assert get(api, "/fhir/Observation", patient=patient, _count=0)["entry"] == []
    huge = get(api, "/fhir/Observation", patient=patient, _count=10**9)
    assert "_count=200&" in huge["link"][0]["url"]  # FHIR_MAX_PAGE_SIZE


def test_each_resource_reads_by_its_id_as_the_search_returned_it(api, course):
    patient = course.patient.public_id
    for resource_type in ("Observation", "QuestionnaireResponse", "Appointment"):
        for resource in resources(get(api, f"/fhir/{resource_type}", patient=patient, _count=200)):
            assert get(api, f"/fhir/{resource_type}/{resource['id']}") == resource


def test_everything_is_a_bundle_of_the_patient_and_all_about_them(api, course):
    bundle = get(api, f"/fhir/Patient/{course.patient.public_id}/$everything")

    found = resources(bundle)
    kinds = [r["resourceType"] for r in found]
    assert kinds.count("Patient") == 1
    assert (kinds.count("Observation"), kinds.count("QuestionnaireResponse")) == (24, 6)
    assert (kinds.count("Appointment"), kinds.count("Location")) == (2, 3)
    assert kinds.count("Questionnaire") == 4
    modes = {e["resource"]["resourceType"]: e["search"]["mode"] for e in bundle["entry"]}
    assert (modes["Observation"], modes["Location"]) == ("match", "include")
    assert bundle["total"] == 1 + 24 + 6 + 2


def test_everything_leaves_out_the_types_the_client_may_not_read(course):
    _client, token = integration_client("system/Patient.read", "system/Appointment.read")

    found = resources(get(bearer(token), f"/fhir/Patient/{course.patient.public_id}/$everything"))

    assert {r["resourceType"] for r in found} == {"Patient", "Appointment"}


def test_the_command_writes_a_patients_everything_bundle_to_a_file(course, tmp_path):
    path = tmp_path / "everything.json"

    call_command("fhir_everything", str(course.patient.public_id), str(path))

    bundle = valid(json.loads(path.read_text()))
    assert bundle["type"] == "searchset"
    assert len(resources(bundle)) == 1 + 24 + 6 + 2 + 3 + 4
    assert AuditEvent.objects.filter(
        record_type="fhir.Bundle", patient=course.patient, actor_role="command"
    ).exists()


def test_every_read_is_audited_with_the_client_named(course):
    client, token = integration_client("system/*.read", name="Riverside Primary Care")
    api = bearer(token)

    get(api, "/fhir/Observation", patient=course.patient.public_id)
    get(api, f"/fhir/Patient/{course.patient.public_id}")
    get(api, "/fhir/Location")

    events = AuditEvent.objects.filter(actor_role=CLIENT_ROLE)
    observation = events.get(record_type="fhir.Observation")
    assert observation.patient_id == course.patient.pk
    assert observation.actor_id is None and observation.action == "read"
    assert observation.record_id == str(course.patient.public_id)
    assert "Riverside Primary Care" in observation.detail
    assert f"token {client.token_prefix}" in observation.detail
    assert "24 Observation" in observation.detail
    read = events.get(record_type="fhir.Patient")
    assert (read.record_id, read.patient_id) == (str(course.patient.public_id), course.patient.pk)
    assert events.get(record_type="fhir.Location").patient_id is None


def test_nothing_is_answered_without_a_token(course, client):
    for url in ("/fhir/metadata", "/fhir/Patient", f"/fhir/Patient/{course.patient.public_id}"):
        response = client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        outcome = valid(json.loads(response.content))
        assert outcome["resourceType"] == "OperationOutcome"
    assert not AuditEvent.objects.filter(actor_role=CLIENT_ROLE).exists()


def test_a_signed_in_clinician_without_a_token_gets_401(course, login, make_user):
    from accounts.models import Role

    staff = login(make_user(Role.CLINICIAN))

    response = staff.get(f"/fhir/Patient/{course.patient.public_id}")

    assert response.status_code == 401
    assert valid(json.loads(response.content))["issue"][0]["code"] == "login"


def test_a_token_without_the_scope_gets_403(course):
    _client, token = integration_client("system/Appointment.read")
    api = bearer(token)

    response = api.get(f"/fhir/Patient/{course.patient.public_id}")

    assert response.status_code == 403
    assert 'scope="system/Patient.read"' in response["WWW-Authenticate"]
    assert valid(json.loads(response.content))["issue"][0]["code"] == "forbidden"
    assert api.get("/fhir/Observation").status_code == 403
    assert api.get("/fhir/Appointment").status_code == 200
    assert api.get("/fhir/metadata").status_code == 200


def test_a_revoked_token_is_refused(course):
    client, token = integration_client("system/*.read")
    api = bearer(token)
    assert api.get("/fhir/Patient").status_code == 200
    from fhir import services

    assert services.revoke_client(client, client.created_by)

    response = api.get("/fhir/Patient")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert bearer("not-a-token").get("/fhir/Patient").status_code == 401


def test_over_the_rate_the_client_gets_429_with_retry_after(settings, course):
    settings.FHIR_REQUESTS_PER_MINUTE = 3
    _client, token = integration_client("system/*.read")
    api = bearer(token)

    answers = [api.get("/fhir/metadata").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    response = api.get("/fhir/metadata")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert valid(json.loads(response.content))["issue"][0]["code"] == "throttled"
    other, other_token = integration_client("system/*.read", name="Another system")
    assert bearer(other_token).get("/fhir/metadata").status_code == 200
    assert IntegrationClient.objects.get(pk=other.pk).last_used_at is not None


def test_only_the_tokens_hash_is_stored():
    client, token = integration_client("system/*.read")

    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) == 43  # secrets.token_urlsafe(32)
    assert not IntegrationClient.objects.filter(token_hash=token).exists()


def test_bad_search_values_are_400_and_unknown_things_404_as_operation_outcomes(api, course):
    for params in ({"date": "sometime"}, {"date": "ap2025-01-01"}, {"patient": "42"}):
        outcome = get(api, "/fhir/Observation", status=400, **params)
        assert outcome["resourceType"] == "OperationOutcome"
    assert get(api, "/fhir/Medication", status=404)["issue"][0]["code"] == "not-found"
    assert get(api, f"/fhir/Patient/{course.first.public_id}", status=404)
    assert get(api, f"/fhir/Patient/{course.patient.pk}", status=404)
    assert get(api, "/fhir/Observation/not-an-id", status=404)
    assert get(api, "/fhir/Patient/x/y/z", status=404)
    assert get(api, "/fhir/", status=404)
    refused = api.post("/fhir/Patient", {})
    assert refused.status_code == 405
    assert valid(json.loads(refused.content))["issue"][0]["code"] == "not-supported"
    # A parameter the API does not support is refused (strict handling, the default).
    assert "_sort" in issues(get(api, "/fhir/Patient", status=400, _sort="name"))


def _queries(api, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        get(api, url, **params)
    return len(queries)


def test_queries_per_request_do_not_grow_with_the_resources_returned(api, course):
    patient = course.patient.public_id
    urls = [
        ("/fhir/Observation", {"patient": patient, "_count": 200}),
        ("/fhir/QuestionnaireResponse", {"patient": patient}),
        ("/fhir/Appointment", {}),
        ("/fhir/Patient", {}),
        (f"/fhir/Patient/{patient}/$everything", {}),
    ]
    # One frozen instant for both counts: the first request of a rate window also records the
    # client's last use, one more query that must not fall on one side only.
    instant = dt.datetime.now(dt.UTC)
    with time_machine.travel(instant, tick=False):
        api.get("/fhir/Location")  # the places' keys are made once
        before = [_queries(api, url, **params) for url, params in urls]
    more = charted_course("fhir.second@example.org", slug="westport")
    for minutes in range(5):  # more readings of the same chart, written as the chart has them
        taken = course.times["recovery"] + dt.timedelta(minutes=minutes)
        VitalSign.objects.create(
            record=course.record,
            recorded_by=course.record.nurse,
            phase="recovery",
            taken_at=taken,
            charted_at=taken + dt.timedelta(minutes=1),
            systolic=120,
            diastolic=80,
            pulse=70,
            spo2=98,
            resp_rate=12,
        )
    with time_machine.travel(instant, tick=False):
        api.get("/fhir/Location")
        after = [_queries(api, url, **params) for url, params in urls]

    assert after == before
    assert max(before) <= 20
    assert get(api, "/fhir/Observation", patient=patient, _count=200)["total"] == 24 + 5 * 4
    assert more.patient.public_id != patient


def test_decimals_are_json_numbers(api, course):
    weight = get(api, f"/fhir/Observation/{course.first.public_id}.weight")

    assert weight["valueQuantity"]["value"] == float(Decimal("74.8"))
    assert isinstance(weight["valueQuantity"]["value"], float)


HOSTILE = ["", "0", "-1", "9" * 400, "\x00", "a\x00b", "😀" * 20, "x" * 3000, "ge", "eq",
           "ge2026-02-30", "lt9999-12-31", "ge0001-01-01", "le2026-01-01T25:00Z",
           "ge2026-01-01T10:00+99:00", "Patient/", "Patient/x", "' OR 1=1 --", "../..", "%00",
           "1e309", "NaN", "[]"]  # fmt: skip
NAMES = ["patient", "date", "authored", "_id", "_count", "_offset", "url", "_sort", "code"]
TYPES = ["Patient", "Observation", "QuestionnaireResponse", "Appointment", "Location",
         "Questionnaire", "Medication", "metadata", "x"]  # fmt: skip


def test_hostile_paths_and_parameters_with_a_valid_token_never_make_a_server_error(api, course):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    # Lone surrogates cannot be put in a URL at all (the client refuses before any request).
    characters = st.characters(blacklist_categories=["Cs"])
    values = st.one_of(st.sampled_from(HOSTILE), st.text(alphabet=characters, max_size=30))
    queries = st.dictionaries(
        st.sampled_from(NAMES), st.one_of(values, st.lists(values, min_size=1, max_size=3))
    )
    ids = st.one_of(
        st.sampled_from([str(course.patient.public_id), f"{course.first.public_id}.v1.bp"]),
        st.text(
            alphabet=st.characters(blacklist_characters="/?#", blacklist_categories=["Cs"]),
            min_size=1,
            max_size=40,
        ),
    )

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(resource_type=st.sampled_from(TYPES), resource_id=ids, query=queries)
    def probe(resource_type, resource_id, query):
        for path in (
            f"/fhir/{resource_type}",
            f"/fhir/{resource_type}/{resource_id}",
            f"/fhir/Patient/{resource_id}/$everything",
        ):
            response = api.get(path, query)
            assert response.status_code in (200, 400, 404), (path, query, response.content)
            valid(json.loads(response.content))

    with override_settings(FHIR_REQUESTS_PER_MINUTE=100_000):
        probe()


def test_a_date_with_an_offset_of_a_day_or_more_is_a_clear_refusal_not_a_server_error():
    from django.core.exceptions import ValidationError

    from fhir.search import parse_date

    with pytest.raises(ValidationError, match="not a date the API can search"):
        parse_date("ge2026-01-01T10:00+99:00")
    assert parse_date("ge2026-01-01T10:00+05:30").start.utcoffset() == dt.timedelta(hours=5.5)


# --- Parameters the API does not support ----------------------------------------------------------


def issues(outcome: dict) -> str:
    assert outcome["resourceType"] == "OperationOutcome"
    return " ".join(issue["diagnostics"] for issue in outcome["issue"])


def test_a_search_with_a_parameter_it_does_not_support_is_refused_naming_it(api, course):
    charted_course("fhir.other@example.org", slug="westport")
    patient = course.patient.public_id

    for params, name in (
        ({"subject": f"Patient/{patient}"}, "subject"),
        ({"patient.identifier": "MRN|123"}, "patient.identifier"),
        ({"_sort": "date"}, "_sort"),
        ({"patient": patient, "code": "8867-4"}, "code"),
    ):
        outcome = get(api, "/fhir/Observation", status=400, **params)
        assert name in issues(outcome)
        assert outcome["issue"][0]["code"] == "not-supported"
    # A parameter of another type is not one of this type's.
    assert "url" in issues(get(api, "/fhir/Patient", status=400, url="x"))
    assert "patient" in issues(get(api, "/fhir/Location", status=400, patient=patient))
    assert "date" in issues(get(api, "/fhir/QuestionnaireResponse", status=400, date="2026"))
    assert not AuditEvent.objects.filter(actor_role=CLIENT_ROLE).exists()


def test_an_empty_search_parameter_is_refused_not_read_as_everyone(api, course):
    charted_course("fhir.other@example.org", slug="westport")

    for name in ("patient", "date", "category", "_count"):
        outcome = get(api, "/fhir/Observation", status=400, **{name: ""})
        assert name in issues(outcome)
    assert not AuditEvent.objects.filter(actor_role=CLIENT_ROLE).exists()


def test_a_parameter_given_twice_where_once_is_meant_is_refused(api, course):
    other = charted_course("fhir.other@example.org", slug="westport")

    outcome = get(
        api,
        "/fhir/Observation",
        status=400,
        patient=[str(course.patient.public_id), str(other.patient.public_id)],
    )

    assert "patient" in issues(outcome)


def test_lenient_handling_ignores_what_it_does_not_support_and_says_so(api, course):
    patient = course.patient.public_id
    strict = get(api, "/fhir/Observation", patient=patient, _count=200)

    response = api.get(
        "/fhir/Observation",
        {"patient": patient, "_count": 200, "_sort": "date", "subject": "Patient/x", "date": ""},
        headers={"Prefer": "handling=lenient"},
    )

    assert response.status_code == 200
    bundle = valid(json.loads(response.content))
    outcomes = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    matches = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert [r["id"] for r in matches] == [r["id"] for r in resources(strict)]
    assert bundle["total"] == strict["total"] == 24
    (outcome,) = outcomes
    said = issues(outcome["resource"])
    assert all(issue["severity"] == "warning" for issue in outcome["resource"]["issue"])
    for name in ("_sort", "subject", "date"):
        assert name in said
    assert "_sort" not in bundle["link"][0]["url"]
    # Lenient is for what is not supported: a value it cannot read is still refused.
    refused = api.get(
        "/fhir/Observation", {"patient": "42"}, headers={"Prefer": "handling=lenient"}
    )
    assert refused.status_code == 400


def test_observations_are_searched_by_category(api, course):
    patient = course.patient.public_id
    every = resources(get(api, "/fhir/Observation", patient=patient, _count=200))

    def category(resource: dict) -> str:
        return resource["category"][0]["coding"][0]["code"]

    for wanted in ("vital-signs", "survey"):
        bundle = get(api, "/fhir/Observation", patient=patient, category=wanted, _count=200)
        found = resources(bundle)
        assert [r["id"] for r in found] == [r["id"] for r in every if category(r) == wanted]
        assert bundle["total"] == len(found) > 0
        assert f"category={wanted}" in bundle["link"][0]["url"]
    system = "http://terminology.hl7.org/CodeSystem/observation-category"
    both = get(api, "/fhir/Observation", patient=patient, category="survey,vital-signs")
    assert both["total"] == len(every)
    assert get(api, "/fhir/Observation", category=f"{system}|survey")["total"] == len(
        [r for r in every if category(r) == "survey"]
    )
    assert get(api, "/fhir/Observation", category="laboratory")["total"] == 0
    assert get(api, "/fhir/Observation", category="other|survey")["total"] == 0
    # Repeated, every value must hold: no observation is of both.
    assert get(api, "/fhir/Observation", category=["survey", "vital-signs"])["total"] == 0
    paged = get(api, "/fhir/Observation", patient=patient, category="vital-signs", _count=4)
    assert len(paged["entry"]) == 4


def test_the_capability_statement_lists_exactly_the_parameters_that_work(api, course):
    statement = get(api, "/fhir/metadata")
    patient = str(course.patient.public_id)
    values = {
        "_id": patient, "patient": patient, "date": "ge2020-01-01", "authored": "ge2020-01-01",
        "category": "survey", "url": "http://example.org/q", "_count": "5", "_offset": "0",
        "_format": "json",
    }  # fmt: skip
    candidates = {*values, "subject", "code", "_sort", "_summary", "_elements", "identifier"}

    for entry in statement["rest"][0]["resource"]:
        listed = {param["name"] for param in entry["searchParam"]}
        assert listed <= set(values)
        for name in candidates:
            response = api.get(f"/fhir/{entry['type']}", {name: values.get(name, "x")})
            assert response.status_code == (200 if name in listed else 400), (entry["type"], name)
    served = {entry["type"]: entry for entry in statement["rest"][0]["resource"]}
    assert {p["name"] for p in served["Observation"]["searchParam"]} == {
        "patient", "date", "category", "_count", "_offset", "_format",
    }  # fmt: skip


def test_format_json_is_honoured_and_another_format_refused(api, course):
    for value in ("json", "application/fhir+json", "application/json"):
        assert get(api, "/fhir/Location", _format=value)["resourceType"] == "Bundle"
    assert "_format" in issues(get(api, "/fhir/Location", status=400, _format="xml"))


def test_everything_refuses_parameters_it_does_not_support(api, course):
    patient = course.patient.public_id

    outcome = get(api, f"/fhir/Patient/{patient}/$everything", status=400, _since="2026-01-01")

    assert "_since" in issues(outcome)
    lenient = api.get(
        f"/fhir/Patient/{patient}/$everything",
        {"_type": "Observation"},
        headers={"Prefer": "handling=lenient"},
    )
    assert lenient.status_code == 200
    modes = [e["search"]["mode"] for e in json.loads(lenient.content)["entry"]]
    assert modes.count("outcome") == 1
