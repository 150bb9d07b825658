"""Credentials that protocols put in URL paths, masked before a path is logged or traced.

MOSIP IDA carries the MISP licence key and the partner's API key as path segments
(`/idauthentication/v1/{auth,kyc,otp}/{MISP-LK}/{Partner-ID}/{API-Key}`), so a raw path in an
access log, a span or a message-log record would hand them to anyone who reads the log.
"""

from __future__ import annotations

import re

MASK = "***"
_IDA = re.compile(r"(/idauthentication/v1/[^/]+/)[^/]+/([^/]+)/[^/?]+")


def redact_path(path: str) -> str:
    """`path` with credential segments replaced by `***` (unchanged if it carries none)."""
    if "/idauthentication/" not in path:
        return path
    return _IDA.sub(rf"\g<1>{MASK}/\g<2>/{MASK}", path)
