"""Tracker tables: tracked entities, their attribute values, enrollments, events, import jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field

from services.sectoral_platform.base import Base


class TrackedEntityBase(Base):
    tracked_entity_type: str = Field(max_length=11)
    org_unit: str = Field(max_length=11)
    ou_path: str = Field(max_length=255, index=True)
    inactive: bool = False
    potential_duplicate: bool = False
    geometry: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class TrackedEntity(TrackedEntityBase, table=True):
    """A tracked entity; `attributes` mirrors the value rows for whole-object reads."""

    __tablename__ = "tracked_entity"

    uid: str = Field(primary_key=True, max_length=11)
    attributes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created: str = Field(max_length=32)
    updated: str = Field(max_length=32)
    created_at_client: str | None = Field(default=None, max_length=32)
    updated_at_client: str | None = Field(default=None, max_length=32)


class TrackedEntityAttributeValue(Base, table=True):
    """One attribute value, searchable: attribute filters and unique checks read this table."""

    __tablename__ = "tracked_entity_attribute_value"
    __table_args__ = (
        Index("ix_teav_attribute_value", "attribute", "value"),
        # attribute filters compare case-insensitively
        Index("ix_teav_attribute_lower_value", "attribute", text("lower(value)")),
    )

    te: str = Field(primary_key=True, max_length=11)
    attribute: str = Field(primary_key=True, max_length=11)
    value: str = Field(max_length=1024)


class Enrollment(Base, table=True):
    """A tracked entity's enrollment in a program at an org unit."""

    __tablename__ = "enrollment"

    uid: str = Field(primary_key=True, max_length=11)
    te: str = Field(max_length=11, index=True)
    program: str = Field(max_length=11, index=True)
    org_unit: str = Field(max_length=11)
    ou_path: str = Field(max_length=255, index=True)
    status: str = Field(max_length=16)
    enrolled_at: str = Field(max_length=32)
    occurred_at: str = Field(max_length=32)
    completed_at: str | None = Field(default=None, max_length=32)
    follow_up: bool = False
    geometry: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    notes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created: str = Field(max_length=32)
    updated: str = Field(max_length=32)
    created_at_client: str | None = Field(default=None, max_length=32)
    updated_at_client: str | None = Field(default=None, max_length=32)


class Event(Base, table=True):
    """An event of a program stage, inside an enrollment (tracker programs)."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_stage_occurred", "program_stage", "occurred_at"),)

    uid: str = Field(primary_key=True, max_length=11)
    enrollment: str | None = Field(default=None, max_length=11, index=True)
    te: str | None = Field(default=None, max_length=11)
    program: str = Field(max_length=11)
    program_stage: str = Field(max_length=11)
    org_unit: str = Field(max_length=11)
    ou_path: str = Field(max_length=255, index=True)
    status: str = Field(max_length=16)
    occurred_at: str | None = Field(default=None, max_length=32)
    scheduled_at: str | None = Field(default=None, max_length=32)
    completed_at: str | None = Field(default=None, max_length=32)
    assigned_user: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    geometry: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    notes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    data_values: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created: str = Field(max_length=32)
    updated: str = Field(max_length=32)
    created_at_client: str | None = Field(default=None, max_length=32)
    updated_at_client: str | None = Field(default=None, max_length=32)


class TrackerNote(Base, table=True):
    """Every note uid ever written: DHIS2 never takes one twice (E1119), even after a delete."""

    __tablename__ = "tracker_note"

    uid: str = Field(primary_key=True, max_length=11)
    owner: str = Field(max_length=11)


class TrackerJob(Base, table=True):
    """An accepted async import: the payload is kept until the job has run (nothing lost)."""

    __tablename__ = "tracker_job"

    uid: str = Field(primary_key=True, max_length=11)
    status: str = Field(max_length=16)  # QUEUED, RUNNING, COMPLETED
    created: str = Field(max_length=32)
    finished: str | None = Field(default=None, max_length=32)
    user: str = Field(max_length=11)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Relationship(Base, table=True):
    """A link between two tracker objects (tracked entity, enrollment or event) of a type."""

    __tablename__ = "relationship"
    __table_args__ = (
        Index("ix_relationship_from", "from_uid"),
        Index("ix_relationship_to", "to_uid"),
    )

    uid: str = Field(primary_key=True, max_length=11)
    relationship_type: str = Field(max_length=11, index=True)
    from_kind: str = Field(max_length=16)  # trackedEntity, enrollment, event
    from_uid: str = Field(max_length=11)
    to_kind: str = Field(max_length=16)
    to_uid: str = Field(max_length=11)
    from_path: str = Field(max_length=255)
    to_path: str = Field(max_length=255)
    created: str = Field(max_length=32)
    updated: str = Field(max_length=32)
    created_at_client: str | None = Field(default=None, max_length=32)
