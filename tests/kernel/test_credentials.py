import pytest
from fastapi import APIRouter

from services.kernel.app import create_service_app
from services.kernel.credentials import (
    AdminDep,
    MediatorDep,
    client_key,
    mediator_key,
    partner_id,
)
from services.kernel.testing import serve_in_process

pytestmark = pytest.mark.anyio


def test_partner_ids_derive_from_member_ids():
    assert partner_id("DPI/GOV/MOH/hmis") == "moh-hmis"
    with pytest.raises(ValueError, match="not a subsystem id"):
        partner_id("DPI/GOV/MOH")


def test_keys_differ_per_member_and_secret():
    assert client_key("DPI/GOV/MOH/hmis") != client_key("DPI/GOV/MOE/emis")
    assert client_key("DPI/GOV/MOH/hmis", "a") != client_key("DPI/GOV/MOH/hmis", "b")
    assert mediator_key("a") == mediator_key("a") != mediator_key("b")


async def test_admin_and_mediator_guards(settings_for):
    router = APIRouter()

    @router.get("/admin-only")
    async def admin_only(_: AdminDep) -> dict[str, bool]:
        return {"ok": True}

    @router.get("/mediator-only")
    async def mediator_only(_: MediatorDep) -> dict[str, bool]:
        return {"ok": True}

    settings = settings_for("consent", admin_key="k1", sandbox_secret="s1")
    app = create_service_app(settings=settings, routers=[router], configure_logs=False)
    async with serve_in_process(app) as client:
        assert (await client.get("/admin-only")).status_code == 401
        assert (
            await client.get("/admin-only", headers={"X-DPI-Admin-Key": "no"})
        ).status_code == 401
        assert (
            await client.get("/admin-only", headers={"X-DPI-Admin-Key": "k1"})
        ).status_code == 200
        bearer = {"Authorization": "Bearer k1"}
        assert (await client.get("/admin-only", headers=bearer)).status_code == 200
        denied = await client.get("/mediator-only", headers={"X-DPI-Mediator-Key": mediator_key()})
        assert denied.status_code == 401 and denied.json()["code"] == "mediator-only"
        ok = await client.get("/mediator-only", headers={"X-DPI-Mediator-Key": mediator_key("s1")})
        assert ok.status_code == 200
