"""What the running mediator keeps in `app.state`, and refreshing the directory snapshot."""

from __future__ import annotations

from typing import Any

from services.interop_layer.directory import Directory, build_directory
from services.kernel.db import Database


def reload_directory(app: Any) -> Directory:
    """Rebuild the snapshot after an admin change (assignment is atomic for readers)."""
    database: Database = app.state.database
    with database.session() as session:
        directory = build_directory(session, secret=app.state.settings.sandbox_secret)
    app.state.directory = directory
    return directory
