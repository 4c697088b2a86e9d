"""The demo authenticator: its secret and `make totp` (`python -m accounts.totp [SECRET]`).

Verification is django-otp's (accounts.security); this module only converts the base32 secrets
people type into authenticator apps to the hex keys django-otp stores, and prints a code.
"""

from __future__ import annotations

import base64

from django_otp.oath import TOTP

# Every demo staff account is enrolled with this authenticator secret (README: `make totp`).
DEMO_TOTP_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF"  # noqa: S105  (fictional demo accounts)
PERIOD = 30


def hex_key(secret: str) -> str:
    """django-otp's hex key for a base32 secret (as authenticator apps show it)."""
    secret = "".join(secret.split()).upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()


def code_at(secret: str, moment: float | None = None) -> str:
    """The 6-digit code of a base32 secret now (or at `moment`, a Unix time)."""
    totp = TOTP(bytes.fromhex(hex_key(secret)), step=PERIOD)
    if moment is not None:
        totp.time = moment
    return f"{totp.token():06d}"


if __name__ == "__main__":
    import sys
    import time

    secret = sys.argv[1] if len(sys.argv) > 1 else DEMO_TOTP_SECRET
    remaining = PERIOD - int(time.time()) % PERIOD
    print(f"{code_at(secret)}  (valid for {remaining} more seconds)")
