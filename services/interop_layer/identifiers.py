"""X-Road identifiers: `INSTANCE/CLASS/MEMBER/SUBSYSTEM` and its parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$")


@dataclass(frozen=True, slots=True)
class SubsystemId:
    instance: str
    member_class: str
    member_code: str
    subsystem_code: str

    @classmethod
    def parse(cls, value: str) -> SubsystemId:
        """Parse a subsystem id; raise ValueError when it is not four well-formed parts."""
        parts = value.strip().split("/")
        if len(parts) != 4 or not all(_PART.match(part) for part in parts):
            raise ValueError(f"not a subsystem id INSTANCE/CLASS/MEMBER/SUBSYSTEM: {value!r}")
        return cls(*parts)

    @classmethod
    def from_parts(cls, *parts: str) -> SubsystemId:
        return cls.parse("/".join(parts))

    def __str__(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}/{self.subsystem_code}"

    @property
    def member(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}"

    def xroad(self, object_type: str = "SUBSYSTEM") -> dict[str, Any]:
        """The identifier as X-Road metaservices render it (snake_case keys)."""
        return {
            "xroad_instance": self.instance,
            "member_class": self.member_class,
            "member_code": self.member_code,
            "subsystem_code": self.subsystem_code,
            "object_type": object_type,
        }

    def govstack(self) -> dict[str, str]:
        """The identifier as GovStack IM pub/sub renders it."""
        return {
            "instanceId": self.instance,
            "memberClass": self.member_class,
            "memberCode": self.member_code,
            "applicationCode": self.subsystem_code,
        }


def service_id(provider: str, service_code: str) -> str:
    return f"{provider}/{service_code}"


@lru_cache(maxsize=4096)
def canonical_subsystem(value: str) -> str:
    """`SubsystemId.parse(value)` as text; the same few ids arrive on every request."""
    return str(SubsystemId.parse(value))


@lru_cache(maxsize=4096)
def canonical_client(value: str) -> str:
    """A client id: a subsystem, or a member `INSTANCE/CLASS/MEMBER` (PR-REST 4.1 allows it)."""
    parts = value.strip().split("/")
    if len(parts) == 3 and all(_PART.match(part) for part in parts):
        return "/".join(parts)
    if len(parts) == 4:
        return canonical_subsystem(value)
    raise ValueError(f"not a client id INSTANCE/CLASS/MEMBER[/SUBSYSTEM]: {value!r}")


def is_member(client: str) -> bool:
    """A member-level client (no subsystem code)."""
    return client.count("/") == 2
