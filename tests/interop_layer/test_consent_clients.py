"""The real HTTP clients for token exchange and decisions, against stand-ins of the two
services' agreed endpoints (the real services are built separately)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.interop_layer.consent_gate.clients import (
    HttpDecisionClient,
    HttpTokenExchanger,
    SubjectRefused,
)
from services.interop_layer.errors import ProviderTimeout, ProviderUnreachable
from services.kernel.credentials import mediator_key
from services.kernel.http import make_client

pytestmark = pytest.mark.anyio


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.bodies = []

    @app.post("/v1/token-exchange")
    async def exchange(request: Request) -> JSONResponse:
        if request.headers.get("x-dpi-mediator-key") != mediator_key():
            return JSONResponse({"errors": [{"errorCode": "AUTH"}]}, 401)
        body = await request.json()
        app.state.bodies.append(body)
        if body["token"] == "gone":
            return JSONResponse({"errors": [{"errorCode": "IDA-MLC-003"}]}, 409)
        if body["token"] != "edu-1":
            return JSONResponse({"errors": [{"errorCode": "IDA-MLC-018"}]}, 404)
        return JSONResponse({"tokens": {p: f"{p}-1" for p in body["toPartnerIds"]}})

    @app.post("/v1/decisions")
    async def decide(request: Request) -> JSONResponse:
        if request.headers.get("x-dpi-mediator-key") != mediator_key():
            return JSONResponse({"type": "about:blank", "status": 401}, 401)
        body = await request.json()
        app.state.bodies.append(body)
        permit = body["purpose"] == "school-enrolment"
        return JSONResponse(
            {
                "decision": "permit" if permit else "deny",
                "decisionId": "d-1",
                "consentRecordId": "r-1" if permit else None,
                "reason": "active consent" if permit else "no consent for this purpose",
            }
        )

    return app


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return make_client("http://stand-in", transport=httpx.ASGITransport(app=app))


async def test_token_exchange_client():
    app = make_app()
    async with client_of(app) as http:
        exchanger = HttpTokenExchanger(http, "dpi-sandbox-development-secret")
        tokens = await exchanger.exchange(
            from_partner="moe-emis", token="edu-1", to_partners=["moh-hmis", "dpa-consent"]
        )
        assert tokens == {"moh-hmis": "moh-hmis-1", "dpa-consent": "dpa-consent-1"}
        assert app.state.bodies[-1] == {
            "fromPartnerId": "moe-emis",
            "token": "edu-1",
            "toPartnerIds": ["moh-hmis", "dpa-consent"],
        }
        with pytest.raises(SubjectRefused, match="unknown"):
            await exchanger.exchange(from_partner="moe-emis", token="x", to_partners=["moh-hmis"])
        with pytest.raises(SubjectRefused, match="not active"):
            await exchanger.exchange(
                from_partner="moe-emis", token="gone", to_partners=["moh-hmis"]
            )
        wrong_secret = HttpTokenExchanger(http, "another-secret")
        with pytest.raises(ProviderUnreachable, match="401"):
            await wrong_secret.exchange(
                from_partner="moe-emis", token="edu-1", to_partners=["moh-hmis"]
            )


async def test_decision_client():
    app = make_app()
    async with client_of(app) as http:
        decider = HttpDecisionClient(http, "dpi-sandbox-development-secret")
        decision = await decider.decide(
            subject="dpa-consent-1",
            data_consumer="DPI/GOV/MOE/emis",
            data_provider="DPI/GOV/MOH/hmis",
            purpose="school-enrolment",
            data_categories=["immunisation-status"],
        )
        assert (decision.decision, decision.decision_id, decision.consent_record_id) == (
            "permit",
            "d-1",
            "r-1",
        )
        assert app.state.bodies[-1]["dataCategories"] == ["immunisation-status"]
        denied = await decider.decide(
            subject="dpa-consent-1",
            data_consumer="DPI/GOV/MOE/emis",
            data_provider="DPI/GOV/MOH/hmis",
            purpose="marketing",
            data_categories=[],
        )
        assert denied.decision == "deny" and "no consent" in denied.reason


async def test_unreachable_services_fail_closed():
    async with make_client("http://127.0.0.1:9", timeout=1.0) as http:
        exchanger = HttpTokenExchanger(http, "s")
        with pytest.raises(ProviderUnreachable):
            await exchanger.exchange(from_partner="a", token="t", to_partners=["b"])
        decider = HttpDecisionClient(http, "s")
        with pytest.raises(ProviderUnreachable):
            await decider.decide(
                subject="s", data_consumer="c", data_provider="p", purpose="x", data_categories=[]
            )

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with make_client("http://x", transport=httpx.MockTransport(hang)) as http:
        with pytest.raises(ProviderTimeout):
            await HttpTokenExchanger(http, "s").exchange(
                from_partner="a", token="t", to_partners=["b"]
            )
