"""The kernel's HTTP clients: one TLS context per process, still verifying."""

from __future__ import annotations

import ssl

import pytest

from services.kernel.http import make_client, make_sync_client, tls_context

pytestmark = pytest.mark.anyio


def test_one_verifying_context_is_shared_by_every_client():
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
    assert tls_context() is context
    assert tls_context(trust_env=False) is not context  # never reads SSL_CERT_FILE/DIR


async def test_clients_take_the_shared_context():
    context = tls_context()
    async with make_client("https://example.invalid") as client:
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool._ssl_context is context
    with make_sync_client("https://example.invalid") as sync_client:
        assert sync_client._transport._pool._ssl_context is context  # type: ignore[attr-defined]
