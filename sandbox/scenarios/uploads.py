"""A directory of the repository sent as a zip file (multipart/form-data), built at run time so
the repository holds an app's source, never a binary bundle."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)  # a fixed timestamp: the same source gives the same bytes


def zip_directory(directory: Path) -> bytes:
    """Every file below `directory`, by relative path, sorted; no directories, no links."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
