"""Installable apps: install, list, serve (with a CSP), uninstall; every bad bundle refused in
DHIS2's error shape with nothing installed."""

from __future__ import annotations

import io
import secrets
import stat
import zipfile
from typing import Any

import httpx
import pytest

from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.extension_helpers import bundle, install, manifest, user_with

pytestmark = pytest.mark.anyio
INDEX = '<script src="app.js"></script><a href="__DHIS2_BASE_URL__/api/me">me</a>'


def app_files(name: str, namespace: str | None = None) -> dict[str, Any]:
    return {
        "manifest.webapp": manifest(name, namespace),
        "index.html": INDEX,
        "app.js": "fetch('/api/me')",
        "css/style.css": "p {}",
        "data.json": [1],
    }


async def keys(client: httpx.AsyncClient) -> list[str]:
    return [app["key"] for app in (await client.get("/api/apps")).json()]


async def test_install_list_serve_and_uninstall(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    name = f"Finder {secrets.token_hex(3)}"
    key = name.replace(" ", "-")
    assert (await install(c, bundle(app_files(name)))).status_code == 204
    listed = (await c.get("/api/apps", params={"key": key})).json()
    assert listed[0]["name"] == name and listed[0]["appState"] == "OK"
    assert listed[0]["launchUrl"].endswith(f"/api/apps/{key}/index.html")
    index = await c.get(f"/api/apps/{key}/index.html")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    csp = index.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors" in csp
    assert index.headers["x-content-type-options"] == "nosniff"
    assert 'href="http://test/api/me"' in index.text  # __DHIS2_BASE_URL__ filled in
    assert (await c.get(f"/api/apps/{key}")).text == index.text  # the launch page
    assert (await c.get(f"/api/apps/{key}/css/style.css")).text == "p {}"
    assert (await c.get(f"/api/apps/{key}/data.json")).json() == [1]  # not `/data`
    unknown = await c.get("/api/apps", params={"key": "no-such-app"})
    assert unknown.status_code == 404 and unknown.json()["status"] == "ERROR"
    script = await c.get(f"/api/apps/{key}/app.js")
    assert script.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    served = (await c.get(f"/api/apps/{key}/manifest.webapp")).json()
    assert served["activities"]["dhis"]["href"] == "http://test"
    assert (await c.get(f"/api/apps/{key}/missing.js")).status_code == 404
    again = bundle({**app_files(name), "index.html": "v2"})
    assert (await install(c, again)).status_code == 204  # a reinstall replaces the app
    assert (await c.get(f"/api/apps/{key}/index.html")).text == "v2"
    assert (await c.delete(f"/api/apps/{key}")).status_code == 204
    assert key not in await keys(c)
    gone = await c.get(f"/api/apps/{key}/index.html")
    assert gone.status_code == 404 and gone.json()["message"] == f"App '{key}' not found."
    missing = await c.delete(f"/api/apps/{key}")
    assert missing.status_code == 404 and missing.json()["message"] == f"App does not exist: {key}"


async def test_a_bundle_in_one_folder_and_an_app_platform_build(
    shared_client: httpx.AsyncClient,
) -> None:
    c = shared_client
    name = f"Nested {secrets.token_hex(3)}"
    nested = {f"build/{path}": content for path, content in app_files(name).items()}
    assert (await install(c, bundle(nested))).status_code == 204
    assert (await c.get(f"/api/apps/{name.replace(' ', '-')}/app.js")).status_code == 200
    title = f"Platform {secrets.token_hex(3)}"
    built = {
        "d2.config.json": {"type": "app", "title": title, "version": "2.0.1"},
        "index.html": "<p>built</p>",
    }
    assert (await install(c, bundle(built))).status_code == 204
    app = (await c.get("/api/apps", params={"key": title.replace(" ", "-")})).json()[0]
    assert app["version"] == "2.0.1" and app["appType"] == "APP"


def zip_with_symlink() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.webapp", '{"name": "Linky"}')
        archive.writestr("index.html", "x")
        link = zipfile.ZipInfo("evil")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


BAD = {
    "not a zip": (b"PK\x03\x04 not really", 409, "not a valid zip"),
    "traversal": (bundle(app_files("Evil"), raw={"../evil.js": b"x"}), 409, "outside the app"),
    "absolute": (bundle(app_files("Evil"), raw={"/etc/cron.d/x": b"x"}), 409, "outside the app"),
    "backslash": (bundle(app_files("Evil"), raw={"..\\evil.js": b"x"}), 409, "outside the app"),
    "symlink": (zip_with_symlink(), 409, "symbolic link"),
    "no manifest": (bundle({"index.html": "x"}), 409, "no manifest.webapp"),
    "manifest not json": (
        bundle({"manifest.webapp": "{nope", "index.html": "x"}),
        409,
        "Invalid JSON",
    ),
    "manifest a list": (bundle({"manifest.webapp": [1], "index.html": "x"}), 409, "JSON object"),
    "no name": (bundle({"manifest.webapp": {"version": "1"}, "index.html": "x"}), 409, "`name`"),
    "no launch page": (bundle({"manifest.webapp": {"name": "Evil"}}), 409, "launch_path"),
    "oversized": (
        bundle(app_files("Evil"), raw={"big.bin": secrets.token_bytes(300_000)}),
        413,
        "limit",
    ),
    "zip bomb": (bundle(app_files("Evil"), raw={"zeros.bin": bytes(2_000_000)}), 413, "unpacked"),
}


@pytest.fixture
def small_settings(settings_for: Any) -> SectoralSettings:
    from tests.sectoral_platform.conftest import QUIET

    result: SectoralSettings = settings_for(
        "sectoral_platform",
        cls=SectoralSettings,
        app_max_bytes=200_000,
        app_max_unpacked_bytes=1_000_000,
        **QUIET,
    )
    return result


async def test_bad_bundles_are_refused_and_nothing_is_installed(
    small_settings: SectoralSettings,
) -> None:
    from services.kernel.testing import serve_in_process
    from services.sectoral_platform.main import create_app
    from tests.sectoral_platform.conftest import ADMIN

    async with serve_in_process(create_app(small_settings)) as c:
        c.auth = ADMIN
        for what, (data, status, message) in BAD.items():
            answer = await install(c, data)
            assert answer.status_code == status, (what, answer.text)
            body = answer.json()
            assert body["status"] == "ERROR" and message in body["message"], (what, body)
        assert await keys(c) == []
        huge = await install(c, secrets.token_bytes(300_000))  # refused before it is read
        assert huge.status_code == 413 and huge.json()["status"] == "ERROR"
        no_file = await c.post("/api/apps", files={"other": ("a.zip", b"x")})
        assert no_file.status_code == 400
        assert no_file.json()["message"] == "Required request part 'file' is not present"
        raw = await c.post("/api/apps", content=b"x", headers={"Content-Type": "application/zip"})
        assert raw.status_code == 400


async def test_apps_need_their_authorities(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    name, space = f"Guarded {secrets.token_hex(3)}", f"ns-{secrets.token_hex(3)}"
    key = name.replace(" ", "-")
    stranger = await user_with(c, ["F_DATAVALUE_ADD"])
    denied = await install(c, bundle(app_files(name)), auth=stranger)
    assert denied.status_code == 403 and denied.json()["errorCode"] == "E3000"
    assert (await install(c, bundle(app_files(name, space)))).status_code == 204
    assert (await c.get(f"/api/apps/{key}/index.html", auth=stranger)).status_code == 403
    visible = (await c.get("/api/apps", auth=stranger)).json()
    assert key not in [app["key"] for app in visible]
    member = await user_with(c, [f"M_{key.replace('-', '_')}"])
    assert (await c.get(f"/api/apps/{key}/index.html", auth=member)).status_code == 200
    assert (await c.delete(f"/api/apps/{key}", auth=member)).status_code == 403
    other = f"Squatter {secrets.token_hex(3)}"
    taken = await install(c, bundle(app_files(other, space)))
    assert taken.status_code == 409 and "already in use" in taken.json()["message"]
    await c.post(f"/api/dataStore/{space}/settings", json={"x": 1})
    assert (await c.delete(f"/api/apps/{key}", params={"deleteAppData": "true"})).status_code == 204
    assert (await c.get(f"/api/dataStore/{space}/settings")).status_code == 404
