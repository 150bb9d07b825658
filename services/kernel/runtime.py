"""What a running service keeps on `app.state`: the kernel's part and the service's own, typed.

The kernel sets `app.state.kernel` (a `KernelState`); each service sets `app.state.runtime` to
its own dataclass in its lifespan and reads it through one dependency built by `runtime_getter`.
Nothing else is put on `app.state`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

if TYPE_CHECKING:
    from starlette.datastructures import State

    from services.kernel.db import Database
    from services.kernel.invalidation import Invalidation
    from services.kernel.limits import BodyLimits, HeaderCheck
    from services.kernel.seedcache import SeedCache
    from services.kernel.settings import ServiceSettings
    from services.kernel.startlock import StartLock
    from services.kernel.topology import ServiceSpec
    from services.kernel.workers import Workers

R = TypeVar("R")


class NotStarted(RuntimeError):
    """The app's lifespan has not run (or has ended): there is no database or runtime yet."""


@dataclass(slots=True)
class KernelState:
    """Set by `create_service_app`; `database` and `workers` exist while the lifespan runs."""

    settings: ServiceSettings
    service: ServiceSpec
    request_limits: BodyLimits
    authenticate_headers: HeaderCheck | None
    invalidation: Invalidation  # caches kept coherent across the service's replicas
    schema_ready: bool = False
    seed_cache: SeedCache | None = None  # a first start's seed fills it (sandbox only)
    seeded_from_cache: bool = False  # this start's database is a copy of the seeded one
    start_lock: StartLock | None = None  # held from schema creation until the seed is done
    # more of what /readyz checks once the database answers: each names what is not ready, or None
    readiness: list[Callable[[], str | None]] = field(default_factory=list)
    _database: Database | None = field(default=None, repr=False)
    _workers: Workers | None = field(default=None, repr=False)

    @property
    def database(self) -> Database:
        if self._database is None:
            raise NotStarted(f"{self.service.name}: the database exists while the app runs")
        return self._database

    @property
    def workers(self) -> Workers:
        if self._workers is None:
            raise NotStarted(f"{self.service.name}: workers exist while the app runs")
        return self._workers


def _state(app: Any) -> State:
    state: State = app.state
    return state


def kernel_state(app: Any) -> KernelState:
    """The kernel's part of a service app (`app` or anything with `.state`, e.g. a FastAPI)."""
    kernel: KernelState = _state(app).kernel
    return kernel


def set_runtime(app: Any, runtime: object) -> None:
    """Install the service's runtime; called once from its lifespan."""
    _state(app).runtime = runtime


def runtime_of(app: Any, kind: type[R]) -> R:
    """The service's runtime, checked to be of `kind`."""
    # Starlette's `State` keeps its attributes in `_state`: read there, an attribute is found
    # without the `AttributeError` raised and caught on the way to `State.__getattr__`.
    state = _state(app)
    values = getattr(state, "_state", None)
    runtime = values.get("runtime") if isinstance(values, dict) else getattr(state, "runtime", None)
    if not isinstance(runtime, kind):
        raise NotStarted(f"no {kind.__name__} on this app: its lifespan has not run")
    return runtime


def runtime_getter(kind: type[R]) -> Callable[[Request], R]:
    """The dependency behind a service's alias:
    `RuntimeDep = Annotated[MyRuntime, Depends(runtime_getter(MyRuntime))]`."""

    def get_runtime(request: Request) -> R:
        return runtime_of(request.app, kind)

    return get_runtime
