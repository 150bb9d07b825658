"""Revisions: the serialized, hash-chained history of every revisioned object."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from pydantic import Field as Described
from sqlmodel import Field, Text

from services.consent.base import Base
from services.kernel.time import iso_millis_z


class IndividualReference(BaseModel):
    """The spec's `Individual`, shallowly: the id of the person who authorised a revision."""

    id: str


class RevisionBase(BaseModel):
    """The spec's `Revision` fields."""

    id: str
    schemaName: str
    objectId: str
    signedWithoutObjectId: bool = False
    serializedSnapshot: str
    serializedHash: str
    timestamp: str
    authorizedByIndividual: IndividualReference | None = None
    authorizedByOther: str | None = None
    successor: RevisionBase | None = Described(
        default=None, description="The next revision (without its own successor: follow its id)"
    )
    predecessorHash: str | None = None
    predecessorSignature: str | None = None


class RevisionPublic(RevisionBase):
    """A revision as served."""


class Revision(Base, table=True):
    __tablename__ = "revision"

    id: str = Field(primary_key=True)
    schema_name: str = Field(index=True)
    object_id: str = Field(index=True)
    serialized_snapshot: str = Field(sa_type=Text)
    serialized_hash: str
    timestamp: datetime
    authorized_by_individual: str | None = None
    authorized_by_other: str | None = None
    successor_id: str | None = None
    predecessor_hash: str | None = None
    predecessor_signature: str | None = None
    signed_without_object_id: bool = False

    def public(self, *, successor: Revision | None = None) -> RevisionPublic:
        """As served; `successor` is the revision that replaced this one (one level deep)."""
        who = self.authorized_by_individual
        return RevisionPublic(
            id=self.id,
            schemaName=self.schema_name,
            objectId=self.object_id,
            signedWithoutObjectId=self.signed_without_object_id,
            serializedSnapshot=self.serialized_snapshot,
            serializedHash=self.serialized_hash,
            timestamp=iso_millis_z(self.timestamp) or "",
            authorizedByIndividual=IndividualReference(id=who) if who else None,
            authorizedByOther=self.authorized_by_other,
            successor=successor.public() if successor else None,
            predecessorHash=self.predecessor_hash,
            predecessorSignature=self.predecessor_signature,
        )
