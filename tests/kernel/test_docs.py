"""`/docs` and `/redoc` name only assets the service serves itself (no CDN), under a policy that
keeps the page on its own origin; the assets are `fastapi-offline`'s bundles."""

import re
from pathlib import Path

import pytest
from fastapi import APIRouter

from services.kernel.app import create_service_app
from services.kernel.docs import assets_directory
from services.kernel.testing import serve_in_process

pytestmark = pytest.mark.anyio
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_use_only_the_services_own_assets(settings_for, page):
    app = create_service_app(
        settings=settings_for("consent"), routers=[APIRouter()], configure_logs=False
    )
    async with serve_in_process(app) as client:
        response = await client.get(page)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy
        references = {a or b for a, b in REFERENCE.findall(response.text)}
        assert references, response.text
        assert all(ref.startswith(("/docs/assets/", "/openapi.json")) for ref in references)
        assert "http" not in response.text.replace("http-equiv", "")
        for ref in references - {"/openapi.json"}:
            asset = await client.get(ref)
            name = ref.rsplit("/", 1)[1]
            assert asset.content == (Path(assets_directory()) / name).read_bytes(), ref
        assert (await client.get("/docs/assets/nothing.js")).status_code == 404
