"""Classify the fields that cross a boundary, from the data table in `classification.yaml`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

TABLE = Path(__file__).with_name("classification.yaml")
OTHER = "other"
DIRECT = "direct_identifier"
GENERIC = frozenset({"value", "values", "language", "text", "display", "lang"})


def normalise(name: str) -> str:
    return re.sub(r"[_\-\s]", "", name).lower()


def name_parts(field: str) -> list[str]:
    """`identity.fullName[].value` -> ['identity', 'fullname']: a trailing generic name such as
    `value` or `language` stands for the field that holds it."""
    parts = [normalise(p) for p in re.split(r"[.\[\]]+", field) if p and not p.isdigit()]
    while len(parts) > 1 and parts[-1] in GENERIC:
        parts.pop()
    return parts


class FieldClass(BaseModel):
    model_config = ConfigDict(extra="forbid")

    class_: str = Field(alias="class")
    label: str
    description: str
    names: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    under: frozenset[str] = frozenset()
    not_under: frozenset[str] = frozenset()

    def matches(self, parts: list[str]) -> bool:
        last, enclosing = parts[-1], parts[:-1]
        if any(normalise(p) in self.not_under for p in enclosing):
            return False
        if last in {normalise(n) for n in self.names}:
            return True
        if any(re.search(pattern, last) for pattern in self.patterns):
            return True
        return any(part in {normalise(n) for n in self.under} for part in enclosing)


class Combination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    all_of: list[list[str]]


class Release(BaseModel):
    """A documented release of quasi-identifiers to a sector (e.g. MOSIP eKYC), not a leak."""

    model_config = ConfigDict(extra="forbid")

    service: str
    path_contains: str
    reason: str


class Classification(BaseModel):
    """The table: ordered classes, identifying combinations, who may receive direct identifiers."""

    model_config = ConfigDict(extra="forbid")

    classes: list[FieldClass]
    combinations: list[Combination] = []
    identity_providers: list[str] = []
    releases: list[Release] = []

    def classify(self, field: str) -> str:
        parts = name_parts(field)
        if not parts:
            return OTHER
        for entry in self.classes:
            if entry.matches(parts):
                return entry.class_
        return OTHER

    def labels(self) -> dict[str, str]:
        return {entry.class_: entry.label for entry in self.classes} | {OTHER: "Other"}

    def combinations_in(self, fields: Iterable[str]) -> list[str]:
        """Names of the identifying combinations fully present among `fields`."""
        last_names = {name_parts(f)[-1] for f in fields if name_parts(f)}
        found = []
        for combination in self.combinations:
            if all(last_names & {normalise(n) for n in part} for part in combination.all_of):
                found.append(combination.name)
        return found

    def release_of(self, service: str | None, path: str) -> Release | None:
        """The documented release an exchange's response is, if any."""
        for release in self.releases:
            if service == release.service and release.path_contains in path:
                return release
        return None

    def is_sector(self, subsystem: str | None) -> bool:
        return subsystem is not None and subsystem not in self.identity_providers


@lru_cache(maxsize=4)
def load_classification(path: Path = TABLE) -> Classification:
    with path.open(encoding="utf-8") as handle:
        return Classification.model_validate(yaml.safe_load(handle))


@dataclass(frozen=True)
class Finding:
    """A direct identifier that crossed into a sector."""

    exchange: str
    step: int | None
    destination: str
    direction: str
    fields: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "step": self.step,
            "destination": self.destination,
            "direction": self.direction,
            "fields": list(self.fields),
            "reason": self.reason,
        }


def json_field_names(document: Any, max_depth: int = 6, limit: int = 400) -> list[str]:
    """Dotted field names of a JSON document, lists as `[]` (as the mediator records them)."""
    names: set[str] = set()

    def walk(value: Any, prefix: str, depth: int) -> None:
        if depth > max_depth or len(names) >= limit:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{prefix}{key}"
                names.add(name)
                walk(item, name + ".", depth + 1)
        elif isinstance(value, list):
            for item in value[:20]:
                walk(item, prefix.rstrip(".") + "[]." if prefix else "[].", depth + 1)

    walk(document, "", 0)
    return sorted(names)


def leaf_fields(fields: Iterable[str]) -> Iterator[str]:
    """Only the deepest names: `identity` is dropped when `identity.dob` is there."""
    ordered = sorted(set(fields))
    for field in ordered:
        prefixes = (f"{field}.", f"{field}[].")
        if not any(other.startswith(prefixes) for other in ordered):
            yield field
