"""The app's records as FHIR R4 (4.0.1) resources: plain dicts, ready for JSON.

Built by hand rather than with the fhir.resources models: those are pydantic models of R4B or R5
(never 4.0.1), they would add a heavy dependency and a validation pass to every request, and the
mapping is easier to read as the JSON it produces. The tests validate every resource the API
returns with fhir.resources' R4B models (README, "FHIR API").

Ids are the records' opaque UUIDs (`public_id`), or a UUID and a suffix naming one part of a record
(`<intake>.phq-9`, `<session>.v2.bp`); never a database id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings

from accounts.models import PatientProfile, User
from charting.models import InfusionRecord, VitalSign
from fhir import codes
from fhir import questionnaires as q
from fhir.places import Places
from fhir.search import PARAMETERS, RESULT_PARAMETERS, Issue
from intake.models import Intake, IntakeAnswer
from locations.models import Chair, Location
from outcomes.models import CheckIn
from outcomes.models import QuestionnaireResponse as MilestoneResponse
from scheduling.models import Session, Status, Visit, VisitMode, VisitStatus

FHIR_VERSION = "4.0.1"
CONTENT_TYPE = "application/fhir+json"
Resource = dict[str, Any]


def base_url() -> str:
    return f"{settings.SITE_URL}/fhir"


def instant(value: dt.datetime) -> str:
    """An aware datetime as FHIR's dateTime/instant, in UTC."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def reference(resource_type: str, resource_id: object, display: str | None = None) -> Resource:
    ref: Resource = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def full_url(resource: Resource) -> str:
    return f"{base_url()}/{resource['resourceType']}/{resource['id']}"


# --- Patient --------------------------------------------------------------------------------------

# US Core birth sex (F, M, UNK): what the intake asks is sex assigned at birth, not gender.
_BIRTH_SEX = {"female": "F", "male": "M"}
_LANGUAGES = {"en": "English", "es": "Spanish"}


def patient(user: User, profile: PatientProfile | None, about: dict[str, Any] | None) -> Resource:
    """Demographics from the latest submitted intake's first step, else from the account."""
    about = about or {}
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(user.public_id),
        "identifier": [
            {"system": f"{settings.SITE_URL}/fhir/sid/patient", "value": str(user.public_id)}
        ],
        "active": user.is_active,
    }
    if "sex_at_birth" in about:
        resource["extension"] = [
            {"url": codes.BIRTH_SEX, "valueCode": _BIRTH_SEX.get(about["sex_at_birth"], "UNK")}
        ]
    family = about.get("legal_last_name") or user.last_name
    given = about.get("legal_first_name") or user.first_name
    names: list[Resource] = []
    if family or given:
        official: Resource = {"use": "official"}
        if family:
            official["family"] = family
        if given:
            official["given"] = [given]
        names.append(official)
    preferred = (profile.preferred_name if profile else "") or about.get("preferred_name")
    if preferred:
        names.append({"use": "usual", "given": [preferred]})
    if names:
        resource["name"] = names
    telecom: list[Resource] = []
    phone = (profile.mobile_phone if profile else "") or about.get("mobile_phone")
    if phone:
        telecom.append({"system": "phone", "value": phone, "use": "mobile"})
    telecom.append({"system": "email", "value": user.email})
    resource["telecom"] = telecom
    birth_date = profile.date_of_birth.isoformat() if profile else about.get("date_of_birth")
    if birth_date:
        resource["birthDate"] = str(birth_date)
    if about.get("address_line1"):
        lines = [about["address_line1"]] + (
            [about["address_line2"]] if about.get("address_line2") else []
        )
        resource["address"] = [
            {
                "use": "home",
                "line": lines,
                "city": about.get("city", ""),
                "state": about.get("state", ""),
                "postalCode": about.get("postal_code", ""),
            }
        ]
    language = (profile.preferred_language if profile else "") or about.get("preferred_language")
    if language in _LANGUAGES:
        resource["communication"] = [
            {
                "language": {
                    "coding": [
                        {
                            "system": "urn:ietf:bcp:47",
                            "code": language,
                            "display": _LANGUAGES[language],
                        }
                    ]
                },
                "preferred": True,
            }
        ]
    return resource


# --- Location -------------------------------------------------------------------------------------


def _physical_type(code: str, display: str, text: str) -> Resource:
    return {
        "coding": [{"system": codes.LOCATION_TYPE, "code": code, "display": display}],
        "text": text,
    }


def location(site: Location, key: uuid.UUID) -> Resource:
    resource: Resource = {
        "resourceType": "Location",
        "id": str(key),
        "extension": [{"url": codes.TIME_ZONE_EXTENSION, "valueCode": site.time_zone}],
        "status": "active" if site.is_active else "inactive",
        "name": site.name,
        "alias": [site.slug],
        "mode": "instance",
        "physicalType": _physical_type("si", "Site", "Clinic site"),
        "address": {"text": site.address},
    }
    if site.phone:
        resource["telecom"] = [{"system": "phone", "value": site.phone, "use": "work"}]
    return resource


def chair(seat: Chair, key: uuid.UUID, site_key: uuid.UUID) -> Resource:
    """A treatment chair: LOCATION_TYPE has no chair, and a bed is the space a patient lies on."""
    return {
        "resourceType": "Location",
        "id": str(key),
        "status": "active" if seat.is_active else "inactive",
        "name": str(seat),
        "description": "Reclining treatment chair",
        "mode": "instance",
        "physicalType": _physical_type("bd", "Bed", "Treatment chair"),
        "partOf": reference("Location", site_key, seat.location.name),
    }


# --- Appointment ----------------------------------------------------------------------------------

APPOINTMENT_STATUS = {
    Status.BOOKED: "booked",
    Status.CONFIRMED: "booked",
    Status.CHECKED_IN: "checked-in",
    # The infusion under way: an Appointment has no later state before it is fulfilled.
    Status.IN_CHAIR: "checked-in",
    Status.COMPLETED: "fulfilled",
    Status.CANCELLED: "cancelled",
    Status.LATE_CANCELLED: "cancelled",
    Status.NO_SHOW: "noshow",
}


def appointment(session: Session, places: Places) -> Resource:
    status = session.status
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(session.public_id),
        "status": APPOINTMENT_STATUS[Status(status)],
        "serviceType": [{"text": "IV ketamine infusion"}],
        "description": f"Infusion {session.number} of {session.series.plan.infusions}",
        "start": instant(session.starts_at),
        "end": instant(session.ends_at),
        "minutesDuration": int((session.ends_at - session.starts_at).total_seconds() // 60),
        "created": instant(session.created_at),
        "participant": [
            {
                "actor": reference("Patient", session.patient.public_id),
                "required": "required",
                # Booked by the desk, the patient has not yet said yes; confirmed and after, has.
                "status": "needs-action" if status == Status.BOOKED else "accepted",
            },
            {
                "actor": reference(
                    "Location", places.locations[session.location_id], session.location.name
                ),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference("Location", places.chairs[session.chair_id], str(session.chair)),
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if status == Status.LATE_CANCELLED:
        resource["cancelationReason"] = {"text": "Cancelled within 24 hours of the start"}
    elif status == Status.CANCELLED:
        resource["cancelationReason"] = {"text": "Cancelled"}
    return resource


VISIT_STATUS = {
    VisitStatus.BOOKED: "booked",
    VisitStatus.CONFIRMED: "booked",
    VisitStatus.HELD: "fulfilled",
    VisitStatus.CANCELLED: "cancelled",
    VisitStatus.NO_SHOW: "noshow",
}
# The attender, from HL7's participation types (docs/visits.md#fhir-appointments).
ATTENDER = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            "code": "ATND",
            "display": "attender",
        }
    ]
}
STAFF_SYSTEM = "urn:clearwater:staff"


def visit_appointment(visit: Visit, places: Places) -> Resource:
    """A visit with a clinician as an Appointment: the clinician is a participant (by their
    opaque staff id and name; the API serves no Practitioner), the video room is never named."""
    clinician = visit.clinician
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(visit.public_id),
        "status": VISIT_STATUS[VisitStatus(visit.status)],
        "serviceType": [{"text": f"{visit.get_kind_display()} visit with a clinician"}],
        "appointmentType": {
            "text": "Video visit" if visit.mode == VisitMode.VIDEO else "In person"
        },
        "start": instant(visit.starts_at),
        "end": instant(visit.ends_at),
        "minutesDuration": int((visit.ends_at - visit.starts_at).total_seconds() // 60),
        "created": instant(visit.created_at),
        "participant": [
            {
                "actor": reference("Patient", visit.patient.public_id),
                "required": "required",
                "status": "needs-action" if visit.status == VisitStatus.BOOKED else "accepted",
            },
            {
                "type": [ATTENDER],
                "actor": {
                    "type": "Practitioner",
                    "identifier": {"system": STAFF_SYSTEM, "value": str(clinician.public_id)},
                    "display": clinician.get_full_name() or "Clinician",
                },
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference(
                    "Location", places.locations[visit.location_id], visit.location.name
                ),
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if visit.status == VisitStatus.CANCELLED:
        resource["cancelationReason"] = {"text": "Cancelled"}
    return resource


# --- QuestionnaireResponse ------------------------------------------------------------------------


def _response(
    resource_id: str,
    instrument_id: str,
    version: str | None,
    patient_id: uuid.UUID,
    authored: dt.datetime,
    items: list[Any],
) -> Resource:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id,
        "questionnaire": q.canonical(instrument_id, version),
        "status": "completed",
        "subject": reference("Patient", patient_id),
        "authored": instant(authored),
        "source": reference("Patient", patient_id),
        "item": items,
    }


def _versions(answer: IntakeAnswer) -> list[str]:
    # The mood step stores two instruments at once: "phq-9+gad-7", version "2001+2006".
    return answer.instrument_version.split("+")


def intake_responses(intake: Intake, answers: Sequence[IntakeAnswer]) -> list[Resource]:
    """One response per instrument answered in a submitted intake version."""
    assert intake.submitted_at is not None
    authored: dt.datetime = intake.submitted_at
    by_step = {answer.step: answer for answer in answers}
    patient_id = intake.patient.public_id
    found: list[Resource] = []

    def add(instrument_id: str, version: str, items: list[Any]) -> None:
        found.append(
            _response(
                f"{intake.public_id}.{instrument_id}",
                instrument_id,
                version,
                patient_id,
                authored,
                items,
            )
        )

    if "fibromyalgia" in by_step:
        answer = by_step["fibromyalgia"]
        add(q.ACR_2016, _versions(answer)[0], q.acr_answers(answer.data, intake.scores["acr_2016"]))
    if "pain" in by_step:
        data = by_step["pain"].data
        items = [data["pain_average"], data["peg_enjoyment"], data["peg_activity"]]
        add(q.PEG, _versions(by_step["pain"])[0], q.peg_answers(items, intake.scores["peg"]))
    if "mood" in by_step:
        data = by_step["mood"].data
        versions = _versions(by_step["mood"])
        phq9 = [data[f"phq9_{n}"] for n in range(1, 10)]
        gad7 = [data[f"gad7_{n}"] for n in range(1, 8)]
        add(q.PHQ9, versions[0], q.frequency_answers(q.PHQ9, phq9, intake.scores["phq9"]["total"]))
        add(q.GAD7, versions[-1], q.frequency_answers(q.GAD7, gad7, intake.scores["gad7"]["total"]))
    return found


def milestone_id(response: MilestoneResponse, part: str) -> str:
    return f"{response.series.public_id}.{response.milestone}.{part}"


def milestone_responses(response: MilestoneResponse) -> list[Resource]:
    """A series milestone's questionnaire: PHQ-9 and PEG, as at intake (outcomes.forms)."""
    answers = response.answers
    patient_id = response.patient.public_id
    phq9 = [answers[f"phq9_{n}"] for n in range(1, 10)]
    peg = [answers[f"peg_{n}"] for n in range(1, 4)]
    return [
        _response(
            milestone_id(response, q.PHQ9),
            q.PHQ9,
            None,
            patient_id,
            response.submitted_at,
            q.frequency_answers(q.PHQ9, phq9, response.phq9_total),
        ),
        _response(
            milestone_id(response, q.PEG),
            q.PEG,
            None,
            patient_id,
            response.submitted_at,
            q.peg_answers(peg, response.peg),
        ),
    ]


# --- Observation ----------------------------------------------------------------------------------


def observation(
    resource_id: str,
    patient_id: uuid.UUID,
    code: Resource,
    effective: dt.datetime,
    *,
    vital: bool = False,
    value: Resource | None = None,
    components: list[Resource] | None = None,
    derived_from: str | None = None,
    method: str | None = None,
) -> Resource:
    resource: Resource = {"resourceType": "Observation", "id": resource_id}
    if vital:
        resource["meta"] = {"profile": [codes.VITAL_SIGNS_PROFILE]}
    resource.update(
        {
            "status": "final",
            "category": codes.VITAL_SIGNS if vital else codes.SURVEY,
            "code": code,
            "subject": reference("Patient", patient_id),
            "effectiveDateTime": instant(effective),
        }
    )
    if method:
        resource["method"] = {"text": method}
    if value is not None:
        resource["valueQuantity"] = value
    if components:
        resource["component"] = components
    if derived_from:
        resource["derivedFrom"] = [reference("QuestionnaireResponse", derived_from)]
    return resource


def _weight(value: object) -> Resource:
    return codes.quantity(str(value), "kg", "kg")


def intake_observations(intake: Intake) -> list[Resource]:
    """The scores computed when the intake version was submitted (intake.services.submit)."""
    assert intake.submitted_at is not None
    scores, at, patient_id = intake.scores, intake.submitted_at, intake.patient.public_id
    base = str(intake.public_id)

    def qr(instrument_id: str) -> str:
        return f"{base}.{instrument_id}"

    found = [
        observation(
            f"{base}.phq9-total",
            patient_id,
            codes.loinc(codes.PHQ9_TOTAL),
            at,
            value=codes.score(scores["phq9"]["total"]),
            derived_from=qr(q.PHQ9),
        ),
        observation(
            f"{base}.phq9-item9",
            patient_id,
            codes.loinc(codes.PHQ9_ITEM9),
            at,
            value=codes.score(scores["phq9"]["item9"]),
            derived_from=qr(q.PHQ9),
        ),
        observation(
            f"{base}.gad7-total",
            patient_id,
            codes.loinc(codes.GAD7_TOTAL),
            at,
            value=codes.score(scores["gad7"]["total"]),
            derived_from=qr(q.GAD7),
        ),
        observation(
            f"{base}.peg",
            patient_id,
            codes.loinc(codes.PEG_SCORE),
            at,
            value=codes.score(scores["peg"]),
            derived_from=qr(q.PEG),
        ),
        observation(
            f"{base}.pain-now",
            patient_id,
            codes.loinc(codes.PAIN_0_10, text="Pain right now, at intake"),
            at,
            value=codes.score(scores["pain"]["pain_now"]),
        ),
        observation(
            f"{base}.intake-weight",
            patient_id,
            codes.loinc(codes.BODY_WEIGHT),
            at,
            vital=True,
            value=_weight(scores["measurements"]["weight_kg"]),
            method="Reported by the patient at intake",
        ),
    ]
    return found


INTAKE_OBSERVATIONS = 6


def milestone_observations(response: MilestoneResponse) -> list[Resource]:
    patient_id, at = response.patient.public_id, response.submitted_at
    return [
        observation(
            milestone_id(response, "phq9-total"),
            patient_id,
            codes.loinc(codes.PHQ9_TOTAL),
            at,
            value=codes.score(response.phq9_total),
            derived_from=milestone_id(response, q.PHQ9),
        ),
        observation(
            milestone_id(response, "phq9-item9"),
            patient_id,
            codes.loinc(codes.PHQ9_ITEM9),
            at,
            value=codes.score(response.answers["phq9_9"]),
            derived_from=milestone_id(response, q.PHQ9),
        ),
        observation(
            milestone_id(response, "peg"),
            patient_id,
            codes.loinc(codes.PEG_SCORE),
            at,
            value=codes.score(response.peg),
            derived_from=milestone_id(response, q.PEG),
        ),
    ]


MILESTONE_OBSERVATIONS = 3


def check_in_observation(check_in: CheckIn) -> Resource:
    session = check_in.session
    return observation(
        f"{session.public_id}.check-in-pain",
        session.patient.public_id,
        codes.loinc(codes.PAIN_0_10, text="Pain at the check-in the day after an infusion"),
        check_in.submitted_at,
        value=codes.score(check_in.pain),
    )


def check_in_chart_observations(record: InfusionRecord) -> list[Resource]:
    """What the nurse charted at check-in: pain before the infusion, today's weight."""
    session = record.session
    patient_id = session.patient.public_id
    return [
        observation(
            f"{session.public_id}.pain-before",
            patient_id,
            codes.loinc(codes.PAIN_0_10, text="Pain before the infusion"),
            record.checked_in_at,
            value=codes.score(record.pain_before),
        ),
        observation(
            f"{session.public_id}.weight",
            patient_id,
            codes.loinc(codes.BODY_WEIGHT),
            record.checked_in_at,
            vital=True,
            # Stored exactly (a weight in pounds converted unrounded); sent as weighed, to 0.1.
            value=_weight(record.weight_kg.quantize(Decimal("0.1"))),
            method="Weighed at check-in",
        ),
    ]


CHECK_IN_CHART_OBSERVATIONS = 2


def discharge_observation(record: InfusionRecord) -> Resource:
    session = record.session
    assert record.discharged_at is not None and record.pain_after is not None
    return observation(
        f"{session.public_id}.pain-after",
        session.patient.public_id,
        codes.loinc(codes.PAIN_0_10, text="Pain at discharge, after the infusion"),
        record.discharged_at,
        value=codes.score(record.pain_after),
    )


def vital_observations(reading: VitalSign, number: int) -> list[Resource]:
    """One charted reading as the vital-signs profile's Observations (blood pressure panel with
    its two components, heart rate, SpO2, respiratory rate when charted). `number` is the
    reading's place in its chart, in the order charted."""
    session = reading.record.session
    patient_id, at = session.patient.public_id, reading.taken_at
    base = f"{session.public_id}.v{number}"
    phase = reading.get_phase_display()
    found = [
        observation(
            f"{base}.bp",
            patient_id,
            codes.loinc(codes.BLOOD_PRESSURE_PANEL, text=f"Blood pressure ({phase.lower()})"),
            at,
            vital=True,
            components=[
                {
                    "code": codes.loinc(codes.SYSTOLIC),
                    "valueQuantity": codes.quantity(reading.systolic, "mmHg", "mm[Hg]"),
                },
                {
                    "code": codes.loinc(codes.DIASTOLIC),
                    "valueQuantity": codes.quantity(reading.diastolic, "mmHg", "mm[Hg]"),
                },
            ],
        ),
        observation(
            f"{base}.hr",
            patient_id,
            codes.loinc(codes.HEART_RATE),
            at,
            vital=True,
            value=codes.quantity(reading.pulse, "beats/minute", "/min"),
        ),
        observation(
            f"{base}.spo2",
            patient_id,
            codes.loinc(codes.OXYGEN_SATURATION, codes.OXYGEN_SATURATION_ARTERIAL),
            at,
            vital=True,
            value=codes.quantity(reading.spo2, "%", "%"),
        ),
    ]
    if reading.resp_rate is not None:
        found.append(
            observation(
                f"{base}.rr",
                patient_id,
                codes.loinc(codes.RESPIRATORY_RATE),
                at,
                vital=True,
                value=codes.quantity(reading.resp_rate, "breaths/minute", "/min"),
            )
        )
    return found


# --- Errors, bundles, the CapabilityStatement -----------------------------------------------------


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> Resource:
    return outcome([(code, diagnostics)], severity)


def outcome(issues: Sequence[Issue], severity: str = "error") -> Resource:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": severity, "code": code, "diagnostics": diagnostics}
            for code, diagnostics in issues
        ],
    }


def bundle(
    entries: Sequence[tuple[Resource, str]],
    total: int,
    links: Sequence[tuple[str, str]],
    now: dt.datetime,
    ignored: Sequence[Issue] = (),
) -> Resource:
    """A searchset Bundle: entries with their search mode (match or include), total matches;
    under lenient handling, an OperationOutcome (search mode "outcome") of what was ignored."""
    found = [
        {"fullUrl": full_url(resource), "resource": resource, "search": {"mode": mode}}
        for resource, mode in entries
    ]
    if ignored:
        found.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": outcome(ignored, "warning"),
                "search": {"mode": "outcome"},
            }
        )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(now)},
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links],
        "entry": found,
    }


def capability_statement(date: str) -> Resource:
    resources = []
    for resource_type, params in PARAMETERS.items():
        entry: Resource = {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": name, "type": kind, "documentation": text}
                for name, kind, text in [*params, *RESULT_PARAMETERS]
            ],
        }
        if resource_type == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                }
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "clinic",
        "status": "active",
        "date": date,
        "publisher": settings.SITE_NAME,
        "kind": "instance",
        "software": {"name": f"{settings.SITE_NAME} FHIR API"},
        "implementation": {
            "description": f"{settings.SITE_NAME}: read-only FHIR API",
            "url": base_url(),
        },
        "fhirVersion": FHIR_VERSION,
        "format": [CONTENT_TYPE, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read only. Every request needs a bearer token issued by the "
                "clinic's administrators, with SMART-style system scopes.",
                "security": {
                    "description": "Authorization: Bearer <token>; scopes system/<type>.read "
                    "or system/*.read",
                },
                "resource": resources,
            }
        ],
    }
