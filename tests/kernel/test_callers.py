"""The kernel's caller-identity helper on bare requests: forwarded, direct, forged."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.requests import Request

from services.kernel.callers import (
    IDENTITY_HEADERS,
    caller_identity,
    is_mediator_key,
    mediated_identity,
)
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.kernel.errors import BadRequest, Forbidden, Unauthorized

SECRET = "test-secret"
OWNER = "DPI/GOV/CRVS/registries"


def request(*headers: tuple[str, str]) -> Request:
    settings = SimpleNamespace(sandbox_secret=SECRET)
    app = SimpleNamespace(state=SimpleNamespace(kernel=SimpleNamespace(settings=settings)))
    raw = [(name.lower().encode(), value.encode("latin-1")) for name, value in headers]
    return Request({"type": "http", "headers": raw, "app": app})


def forwarded(*headers: tuple[str, str]) -> Request:
    return request((MEDIATOR_KEY_HEADER, mediator_key(SECRET)), *headers)


def test_the_forwarded_identity_is_read_from_the_mediators_headers() -> None:
    identity = mediated_identity(
        forwarded(
            ("X-Road-Client", " DPI/GOV/MOE/emis "),
            ("X-Road-UserId", "XD Mary Jane"),
            ("X-Road-Issue", "ticket-7"),
            ("X-DPI-Subject", "psut"),
        )
    )
    assert identity is not None and identity.mediated
    assert (identity.client, identity.user_id, identity.purpose, identity.subject) == (
        "DPI/GOV/MOE/emis",
        "XD Mary Jane",
        "ticket-7",
        "psut",
    )
    both = mediated_identity(
        forwarded(("X-Road-Client", "A/B/C/D"), ("X-Road-Issue", "i"), ("X-DPI-Purpose", "p"))
    )
    assert both is not None and both.purpose == "p"


def test_no_mediator_key_is_a_direct_call_and_a_wrong_one_is_401() -> None:
    assert mediated_identity(request(("X-Road-Client", "DPI/GOV/MOE/emis"))) is None
    with pytest.raises(Unauthorized):
        mediated_identity(request((MEDIATOR_KEY_HEADER, mediator_key("another-secret"))))
    with pytest.raises(Unauthorized):
        mediated_identity(request((MEDIATOR_KEY_HEADER, "\xe9")))
    with pytest.raises(BadRequest):
        mediated_identity(forwarded())  # the mediator always names the client
    assert not is_mediator_key(None, SECRET) and is_mediator_key(mediator_key(SECRET), SECRET)


def test_a_direct_call_acts_as_the_owner_and_may_claim_nothing_else() -> None:
    for name in IDENTITY_HEADERS:
        claim = "DPI/GOV/MOE/emis" if "Client" in name else "forged"
        with pytest.raises(Forbidden) as refused:
            caller_identity(request((name, claim)), owner=OWNER)
        assert name in refused.value.message
    own = caller_identity(request(("Information-Mediator-Client", OWNER)), owner=OWNER)
    assert (own.client, own.user_id, own.purpose, own.mediated) == (OWNER, None, None, False)
    assert caller_identity(request(("X-Road-Client", " ")), owner=OWNER).client == OWNER
    with pytest.raises(Forbidden):
        caller_identity(request(("X-Road-UserId", "")), owner=OWNER)  # present is a claim
