"""Install, list, serve and uninstall apps; an app's dataStore namespace is reserved for it."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.apps import storage
from services.sectoral_platform.apps.bundle import MANIFEST, Bundle
from services.sectoral_platform.auth.service import SUPERUSER_AUTHORITY, CurrentUser
from services.sectoral_platform.datastore import protection
from services.sectoral_platform.errors import Dhis2Error, conflict, not_found

APP_MANAGEMENT = "M_DHIS_WEB_APP_MANAGEMENT"
# what an app's page may do: its own files and the platform's API on the same origin, no more
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'self'"
)
TEMPLATED = ("index.html", "plugin.html")


def see_authority(key: str) -> str:
    """The authority that lets a user open the app (and use its dataStore namespace)."""
    return "M_" + "".join(c if c.isalnum() else "_" for c in key)


def namespace_of(manifest: dict[str, Any]) -> str | None:
    value = (manifest.get("activities") or {}).get("dhis", {}).get("namespace")
    return value if isinstance(value, str) else None


def can_open(user: CurrentUser, key: str) -> bool:
    held = user.authorities
    return bool({SUPERUSER_AUTHORITY, APP_MANAGEMENT, see_authority(key)} & held)


def install(engine: Engine, bundle: Bundle) -> None:
    namespace = namespace_of(bundle.manifest)
    with Session(engine) as session:
        if namespace is not None:
            owner = protection.reserved_by(session, namespace)
            if owner is not None and owner != bundle.key:
                raise conflict(f"Namespace defined in manifest is already in use: '{namespace}'")
        protection.release(session, bundle.key, delete_data=False)
        storage.replace(session, bundle.key, bundle.manifest, bundle.files, dhis2_timestamp())
        if namespace is not None:
            authorities = [APP_MANAGEMENT, see_authority(bundle.key)]
            protection.protect(session, namespace, bundle.key, authorities)
        try:
            session.commit()
        except IntegrityError as exc:  # the same app installed concurrently
            raise conflict(f"App '{bundle.key}' is being installed by another request") from exc


def uninstall(engine: Engine, key: str, *, delete_data: bool) -> None:
    with Session(engine) as session:
        if storage.manifest(session, key) is None:
            raise not_found(f"App does not exist: {key}", None)
        protection.release(session, key, delete_data=delete_data)
        storage.remove(session, key)
        session.commit()


def described(manifest: dict[str, Any], base_url: str) -> dict[str, Any]:
    """An app as `GET /api/apps` lists it."""
    key = manifest["key"]
    app_url = f"{base_url}/api/apps/{key}"
    return {
        **{k: v for k, v in manifest.items() if k != "launch_path"},
        "shortName": manifest["name"],
        "version": manifest.get("version", ""),
        "appType": manifest.get("appType", "APP").upper(),
        "launch_path": manifest["launch_path"],
        "folderName": key,
        "baseUrl": app_url,
        "launchUrl": f"{app_url}/{manifest['launch_path']}",
        "appState": "OK",
        "bundled": False,
        "coreApp": False,
        "seeAppAuthority": see_authority(key),
    }


def listed(engine: Engine, user: CurrentUser, base_url: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        found = storage.manifests(session)
    return [described(m, base_url) for m in found if can_open(user, m["key"])]


@dataclass(frozen=True)
class Served:
    content: bytes
    media_type: str


def serve(engine: Engine, user: CurrentUser, key: str, path: str, base_url: str) -> Served:
    with Session(engine) as session:
        manifest = storage.manifest(session, key)
        if manifest is None:
            raise not_found(f"App '{key}' not found.", None)
        if not can_open(user, key):
            raise Dhis2Error(f"You don't have access to application {key}.", status_code=403)
        path = path or manifest["launch_path"]
        if path == MANIFEST:
            return Served(_manifest_json(manifest, base_url), "application/json")
        content = storage.file(session, key, path)
    if content is None:
        raise not_found(f"No file `{path}` in app '{key}'", None)
    if path.rsplit("/", 1)[-1] in TEMPLATED:
        text = content.decode("utf-8", errors="replace")
        text = text.replace("__DHIS2_BASE_URL__", base_url)
        content = text.replace("__DHIS2_APP_ROOT_URL__", f"{base_url}/api/apps/{key}").encode()
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Served(content, kind)


def _manifest_json(manifest: dict[str, Any], base_url: str) -> bytes:
    shown = dict(manifest)
    dhis = (shown.get("activities") or {}).get("dhis")
    if isinstance(dhis, dict) and dhis.get("href") == "*":
        shown["activities"] = {**shown["activities"], "dhis": {**dhis, "href": base_url}}
    return orjson.dumps(shown)
