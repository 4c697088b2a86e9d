"""Time-based one-time passwords (RFC 6238, with RFC 4226's HOTP): the staff second factor.

Pure functions over a base32 secret, compatible with authenticator apps (SHA-1, 6 digits, 30 s).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

DIGITS = 6
PERIOD = 30


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def _hotp(secret: str, counter: int) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**DIGITS
    return str(code).zfill(DIGITS)


def step_at(moment: float | None = None) -> int:
    return int((time.time() if moment is None else moment) // PERIOD)


def code_at(secret: str, moment: float | None = None) -> str:
    return _hotp(secret, step_at(moment))


def matching_step(secret: str, code: str, *, after: int = -1, window: int = 1) -> int | None:
    """The time step the code belongs to (clock drift of one step either way), if any.

    Steps at or before `after` (the last one used) are refused, so a code cannot be replayed.
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at()
    for step in range(now - window, now + window + 1):
        if step > after and hmac.compare_digest(_hotp(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={PERIOD}"


if __name__ == "__main__":
    # `python -m accounts.totp [SECRET]`: the current code (the demo staff secret by default).
    import sys

    from scheduling.demo import DEMO_TOTP_SECRET

    secret = sys.argv[1] if len(sys.argv) > 1 else DEMO_TOTP_SECRET
    remaining = PERIOD - int(time.time()) % PERIOD
    print(f"{code_at(secret)}  (valid for {remaining} more seconds)")
