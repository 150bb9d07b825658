"""An app bundle checked before anything is stored: a readable zip within the size limits, no
entry outside the app's folder, a manifest (`manifest.webapp`, or the App Platform's
`d2.config.json`) that parses and names the app."""

from __future__ import annotations

import io
import re
import stat
import zipfile
from dataclasses import dataclass
from typing import Any

import orjson

from services.sectoral_platform.errors import Dhis2Error, conflict

MANIFEST = "manifest.webapp"
D2_CONFIG = "d2.config.json"
MAX_ENTRIES = 2000
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Bundle:
    key: str
    manifest: dict[str, Any]
    files: dict[str, bytes]


def too_large(what: str, limit: int) -> Dhis2Error:
    return Dhis2Error(f"{what} exceeds the limit of {limit} bytes", status_code=413)


def app_key(name: str) -> str:
    """DHIS2's URL-friendly name: letters, digits and `-`, spaces become `-`."""
    return re.sub(r"\s+", "-", re.sub(r"[^A-Za-z0-9\s-]", "", name.strip()))


def read_bundle(data: bytes, *, max_bytes: int, max_unpacked: int) -> Bundle:
    if len(data) > max_bytes:
        raise too_large("App bundle", max_bytes)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        raise conflict("App bundle is not a valid zip file") from exc
    if len(entries) > MAX_ENTRIES:
        raise conflict(f"App bundle has more than {MAX_ENTRIES} files")
    for info in entries:
        _check_entry(info)
    if sum(info.file_size for info in entries) > max_unpacked:
        raise too_large("App bundle, unpacked,", max_unpacked)
    root = _root(entries)
    files: dict[str, bytes] = {}
    budget = max_unpacked
    for info in entries:
        with archive.open(info) as handle:
            content = handle.read(budget + 1)  # the declared sizes may lie
        budget -= len(content)
        if budget < 0:
            raise too_large("App bundle, unpacked,", max_unpacked)
        files[info.filename[len(root) :]] = content
    manifest = _manifest(files)
    return Bundle(_key(manifest), manifest, files)


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.split("/")
    unsafe = (
        name.startswith("/") or "\\" in name or "\x00" in name or _DRIVE.match(name) is not None
        or ".." in parts or any(part in ("", ".") for part in parts)
    )  # fmt: skip
    if unsafe:
        raise conflict(f"App bundle entry `{name}` is outside the app's folder")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise conflict(f"App bundle entry `{name}` is a symbolic link")


def _root(entries: list[zipfile.ZipInfo]) -> str:
    """ "" when the manifest is at the top, else the one folder holding everything."""
    names = [info.filename for info in entries]
    if MANIFEST in names or D2_CONFIG in names:
        return ""
    tops = {name.split("/")[0] for name in names}
    if len(tops) == 1 and all("/" in name for name in names):
        return f"{tops.pop()}/"
    return ""


def _manifest(files: dict[str, bytes]) -> dict[str, Any]:
    raw = files.get(MANIFEST)
    source = MANIFEST
    if raw is None:
        raw, source = files.get(D2_CONFIG), D2_CONFIG
    if raw is None:
        raise conflict(f"App bundle has no {MANIFEST} (nor {D2_CONFIG})")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise conflict(f"Invalid JSON in app manifest {source}: {exc}") from exc
    if not isinstance(parsed, dict):
        raise conflict(f"App manifest {source} must be a JSON object")
    manifest = parsed if source == MANIFEST else _from_d2_config(parsed)
    name = manifest.get("name")
    if not isinstance(name, str) or not name.strip():
        raise conflict(f"App manifest {source} must have a `name`")
    for field in ("version", "description", "launch_path", "appType"):
        if field in manifest and not isinstance(manifest[field], str):
            raise conflict(f"App manifest {source}: `{field}` must be a string")
    launch = manifest.setdefault("launch_path", "index.html")
    if launch not in files:
        raise conflict(f"App manifest {source}: launch_path `{launch}` is not in the bundle")
    namespace = (manifest.get("activities") or {}).get("dhis", {}).get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not namespace.strip()):
        raise conflict(f"App manifest {source}: `activities.dhis.namespace` must be a name")
    return manifest


def _from_d2_config(config: dict[str, Any]) -> dict[str, Any]:
    """The manifest the App Platform would build from `d2.config.json`."""
    manifest: dict[str, Any] = {
        "name": config.get("title") or config.get("name"),
        "version": str(config.get("version", "")),
        "description": config.get("description", ""),
        "appType": str(config.get("type", "app")).upper(),
        "launch_path": "index.html",
        "activities": {"dhis": {"href": "*"}},
    }
    if config.get("dataStoreNamespace"):
        manifest["activities"]["dhis"]["namespace"] = config["dataStoreNamespace"]
    return manifest


def _key(manifest: dict[str, Any]) -> str:
    key = app_key(manifest["name"])
    if not key.strip("-"):
        raise conflict("App manifest: the `name` gives no usable app key")
    return key
