"""PKCE (RFC 7636) as eSignet has it: S256 only; the challenge is kept with the login transaction
and the token request must carry the verifier that hashes to it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping

METHODS = ["S256"]
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def challenge_of(params: Mapping[str, str]) -> tuple[str | None, str]:
    """The stored challenge (None when the request has none), or a `ValueError` saying why the
    PKCE parameters are refused."""
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None and method is None:
        return None, ""
    if not challenge:
        raise ValueError("code_challenge_method without code_challenge")
    if method is None:
        raise ValueError("code_challenge_method is required (plain is not supported; use S256)")
    if method not in METHODS:
        raise ValueError(f"code_challenge_method {method!r} is not supported; use S256")
    if not _S256_CHALLENGE.fullmatch(challenge):
        raise ValueError("code_challenge must be 43 base64url characters (S256, unpadded)")
    return challenge, method


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_error(challenge: str | None, verifier: str | None) -> str | None:
    """Why the token request's `code_verifier` does not prove the code's challenge, or None.

    A verifier for a code issued without a challenge is refused (RFC 9700 2.1.1: PKCE downgrade).
    """
    if challenge is None:
        return None if verifier is None else "code_verifier given, but the code has no challenge"
    if not verifier:
        return "code_verifier is required: the code was issued with a code_challenge"
    if not _VERIFIER.fullmatch(verifier):
        return "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~"
    if not hmac.compare_digest(s256(verifier), challenge):
        return "code_verifier does not match the code_challenge"
    return None
