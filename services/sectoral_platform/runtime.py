"""What the running platform keeps: one `SectoralRuntime`, installed by the lifespan in `main.py`
and read by routes through `RuntimeDep` (the database is the kernel's: `kernel_state`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from services.kernel.outbox import Outbox
from services.kernel.runtime import runtime_getter
from services.sectoral_platform.aggregate.jobs import ValueSetJobs
from services.sectoral_platform.auth.service import Authenticator
from services.sectoral_platform.events.civil import BirthConsumer
from services.sectoral_platform.facility_registry.sync import FacilitySync
from services.sectoral_platform.identity.service import Registrar
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.settings import SectoralSettings
from services.sectoral_platform.tracker.jobs import JobRunner


@dataclass(slots=True)
class SectoralRuntime:
    settings: SectoralSettings
    metadata: MetadataStore
    authenticator: Authenticator
    system_id: str  # `systemId` of /api/system/info: stable for one database
    registrar: Registrar
    facility_sync: FacilitySync
    tracker_jobs: JobRunner
    outbox: Outbox[dict[str, Any]]
    birth_consumer: BirthConsumer
    value_set_jobs: ValueSetJobs


RuntimeDep = Annotated[SectoralRuntime, Depends(runtime_getter(SectoralRuntime))]
