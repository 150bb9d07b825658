"""A database that cannot be reached, told apart from one that refused a statement.

While a service's PostgreSQL is down (stopped, restarting, fail-over, network) every request that
needs it fails at once with the driver's connection error: the pool checks a connection before
handing it out (`pool_pre_ping`), a new one gives up after `connect_timeout`, and the error
handlers (`errors.DatabaseUnavailable`) answer 503 in the service's own error shape, with
`Retry-After`, instead of a 500.
Once the database answers again the next checkout connects afresh: nothing needs a restart.
"""

from __future__ import annotations

import logging
import sys

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes and codes of a server that cannot serve: 08 connection exception, 53
# insufficient resources (too many connections), 57P01-57P03 shut down / starting up.
_UNREACHABLE_CLASSES = ("08", "53")
_UNREACHABLE_STATES = ("57P01", "57P02", "57P03")


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (SQLAlchemy's or the driver's own) says the database cannot be reached,
    rather than that it refused a statement."""
    if isinstance(exc, PoolTimeout):  # every connection of the pool is taken and none came back
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if isinstance(exc.orig, BaseException) else exc
    # never imported here: a service on SQLite does not pay for the driver at start, and a
    # driver that was never imported raised nothing
    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = getattr(exc, "sqlstate", None)
    if state is None:  # raised by the client: refused, reset, closed, timed out
        return True
    return state.startswith(_UNREACHABLE_CLASSES) or state in _UNREACHABLE_STATES


def unreachable_types(*, postgres: bool) -> tuple[type[Exception], ...]:
    """What may say so (each checked with `database_unreachable`; the rest are other failures):
    SQLAlchemy's, and on PostgreSQL the driver's own (raised by code that uses it directly)."""
    types: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)
    if not postgres:
        return types
    try:
        import psycopg
    except ImportError:  # pragma: no cover - an install for SQLite only
        return types
    return (*types, psycopg.OperationalError, psycopg.InterfaceError)


def failure_reason(exc: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy's wrapper left out): for one log line."""
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]


def log_failure(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """A background round's failure: one line while the database is unreachable (the outage is
    expected to end; a traceback every round would bury the rest), the traceback otherwise."""
    if database_unreachable(exc):
        logger.warning(f"{message} (database unreachable: %s)", *args, failure_reason(exc))
    else:
        logger.exception(message, *args)
