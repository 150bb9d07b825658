"""Encrypted, signed IDA authentications for `bench.id_registry`: bodies sealed beforehand by
the health platform's relying-party code (with `moh-hmis`'s published sandbox key), sent with
aiohttp; and the cost of the RSA-2048 operations the server cannot avoid on this path."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import httpx
import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from services.kernel.partner_keys import sandbox_partner_key
from services.sectoral_platform.identity.ida_envelope import IdSystemCertificates, seal, sign

PARTNER = "moh-hmis"
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def certificates(base: str) -> IdSystemCertificates:
    pems = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for reference in ("PARTNER", "SIGN"):
            params = {"applicationId": "IDA", "referenceId": reference}
            answer = client.get("/v1/keymanager/getCertificate", params=params)
            answer.raise_for_status()
            pems.append(answer.json()["response"]["certificate"])
    return IdSystemCertificates.from_pem(*pems)


def sealed_bodies(
    base: str, demo: Sequence[tuple[str, ...]], count: int, request_time: str
) -> list[tuple[bytes, str]]:
    """`count` demographic authentications, each with its own session key, and their
    `Signature` headers."""
    own = sandbox_partner_key(PARTNER)
    assert own is not None
    ida = certificates(base)
    bodies = []
    for n in range(count):
        uin, name, dob = demo[n % len(demo)]
        body: dict[str, Any] = {
            "id": "mosip.identity.auth",
            "version": "1.0",
            "requestTime": request_time,
            "transactionID": f"SEALED{n}",
            "individualId": uin,
            "individualIdType": "UIN",
            "consentObtained": True,
            "request": {"demographics": {"name": [{"language": "eng", "value": name}], "dob": dob}},
        }
        raw = orjson.dumps(seal(body, ida))
        bodies.append((raw, sign(raw, own)))
    return bodies


async def _send(
    base: str, seconds: float, bodies: Sequence[tuple[bytes, str]], connections: int
) -> tuple[float, int, int]:
    url = f"{base}/idauthentication/v1/auth/dpi-sandbox-misp-license-key/{PARTNER}/"
    url += f"{PARTNER}-sandbox-key"
    counts = {"ok": 0, "failed": 0}
    stop_at = time.monotonic() + seconds
    position = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal position
        while time.monotonic() < stop_at:
            raw, signature = bodies[position % len(bodies)]
            position += 1
            headers = {"content-type": "application/json", "Signature": signature}
            async with session.post(url, data=raw, headers=headers) as response:
                text = await response.text()
                good = response.status == 200 and '"authStatus":true' in text
                counts["ok" if good else "failed"] += 1

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    total = counts["ok"] + counts["failed"]
    return total / (time.monotonic() - started), total, counts["failed"]


def send(
    base: str, seconds: float, bodies: Sequence[tuple[bytes, str]], connections: int
) -> tuple[float, int, int]:
    """Requests/s, total, failures (not 200 with authStatus true)."""
    return asyncio.run(_send(base, seconds, bodies, connections))


def rsa_costs(rounds: int = 300) -> tuple[float, float]:
    """CPU seconds per RSA-2048 OAEP decryption and per PKCS#1 v1.5 SHA-256 signature, here
    (process time: comparable with the service's CPU per request when the machine is shared)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrapped = key.public_key().encrypt(os.urandom(32), OAEP)
    started = time.process_time()
    for _ in range(rounds):
        key.decrypt(wrapped, OAEP)
    decryption = (time.process_time() - started) / rounds
    started = time.process_time()
    for _ in range(rounds):
        key.sign(b"x" * 600, padding.PKCS1v15(), hashes.SHA256())
    return decryption, (time.process_time() - started) / rounds
