"""The signed links of messages and the language their pages answer in.

A link carries a signed token, not a login: the confirm/cancel link of a reminder (served by
scheduling's views), the check-in and questionnaire links (served by outcomes). Messaging signs
them when a message is sent; the pages read them back with `unsign`
(docs/reminders.md#sending).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.core import signing

from accounts import language as languages
from accounts.models import PatientProfile, User
from clinic.redaction import token_prefix

logger = logging.getLogger(__name__)

ACTION_SALT = "scheduling.session-action"
VISIT_ACTION_SALT = "scheduling.visit-action"
CHECKIN_SALT = "outcomes.check-in"
QUESTIONNAIRE_SALT = "outcomes.questionnaire"


def signed(salt: str, value: str, until: dt.datetime) -> str:
    """A link token for `value` that works until `until` (signed with SECRET_KEY)."""
    return signing.dumps([value, int(until.timestamp())], salt=salt, compress=False)


def unsign(salt: str, token: str) -> str:
    """The value of a link's token; BadSignature when forged, SignatureExpired when over.

    A refusal is logged with the token's first characters only (clinic.redaction)."""
    try:
        value, until = signing.loads(token, salt=salt)
        if not isinstance(value, str) or not isinstance(until, int):
            raise signing.BadSignature("malformed")
        if time.time() >= until:
            raise signing.SignatureExpired("the link is over")
    except (signing.BadSignature, TypeError, ValueError) as error:
        reason = "expired" if isinstance(error, signing.SignatureExpired) else "bad signature"
        logger.info("refused a %s link %s: %s", salt, token_prefix(token), reason)
        if isinstance(error, signing.BadSignature):
            raise
        raise signing.BadSignature("malformed") from error
    return value


def profile_of(patient: User) -> PatientProfile | None:
    """The patient's profile through the cached reverse accessor: one query per patient
    instance at most, none when it was loaded with select_related."""
    try:
        return patient.patient_profile
    except PatientProfile.DoesNotExist:
        return None


def patient_language(patient: Any) -> str:
    """The language the patient reads (their profile), else the site's default."""
    profile = profile_of(patient) if patient is not None else None
    return languages.or_default(profile.preferred_language if profile is not None else None)
