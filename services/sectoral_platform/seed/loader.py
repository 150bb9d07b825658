"""Start-up: the built-in defaults always, the health configuration on first start."""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from services.sectoral_platform.metadata.importer import run_import
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.metadata.validation import ImportOptions
from services.sectoral_platform.seed.defaults import ADMIN_UID, default_metadata
from services.sectoral_platform.seed.orgunits import generate_units
from services.sectoral_platform.seed.users import scoped_users
from services.sectoral_platform.settings import SectoralSettings

log = logging.getLogger("dpi.sectoral_platform.seed")


def metadata_file(name: str) -> dict[str, Any]:
    """A metadata JSON file shipped in this package (`health.json`, `education.json`)."""
    text = resources.files("services.sectoral_platform.seed").joinpath(name).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _import(store: MetadataStore, payload: dict[str, Any], what: str) -> None:
    result = run_import(store, payload, ImportOptions(strategy="CREATE", user=ADMIN_UID))
    if result.has_errors:
        errors = [e["message"] for o in result.outcomes for e in o.errors][:5]
        raise RuntimeError(f"could not load {what}: {errors}")


def seed(store: MetadataStore, settings: SectoralSettings) -> None:
    """Idempotent: only what is missing is created; nothing existing is overwritten."""
    first_start = store.count("dataSets") == 0 and store.count("organisationUnits") == 0
    units: list[dict[str, Any]] = []
    if first_start and settings.seed_health:
        units = generate_units(
            settings.facility_size, settings.facility_seed, settings.national_facilities
        )
        if units:
            _import(store, {"organisationUnits": units}, "the org unit hierarchy")
    roots = [u["id"] for u in store.all("organisationUnits") if not u.get("parent")]
    defaults = default_metadata(settings.admin_password, roots)
    missing = {
        plural: [o for o in objects if store.get(plural, o["id"]) is None]
        for plural, objects in defaults.items()
    }
    _import(store, {k: v for k, v in missing.items() if v}, "the built-in defaults")
    if first_start and settings.seed_health:
        health = metadata_file("health.json")
        facilities = [u["id"] for u in units if u["code"].count("-") == 3]
        for data_set in health.get("dataSets", []):
            data_set["organisationUnits"] = [{"id": uid} for uid in facilities]
        _import(store, health, "the health configuration")
        tracker = metadata_file("tracker.json")
        for program in tracker.get("programs", []):
            program["organisationUnits"] = [{"id": uid} for uid in facilities]
        _import(store, tracker, "the tracker configuration")
        users = scoped_users(
            units,
            officer_password=settings.officer_password,
            clerk_password=settings.clerk_password,
        )
        if users:
            _import(store, users, "the scoped users")
        log.info("loaded the health configuration with %d org units", len(units))
