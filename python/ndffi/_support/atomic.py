"""Writing and removing files so that nothing ever sees half of one: the one way ndffi
writes a file (cache records, built libraries and headers, generated modules)."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

__all__ = ["atomic_write", "discard"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def atomic_write(path, data, *, mode=0o666, clear=False):
    """Write ``data`` (bytes or str) to ``path`` through a temporary file in the same
    directory renamed over it: readers see the old file or the new one, never a part.
    ``mode`` is given to the new file (the umask applies).  ``clear``: a directory in the
    way is moved aside and removed (for cache entries; never for a user's files)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            os.replace(tmp, path)
        except OSError:
            if not (clear and os.path.isdir(path) and not os.path.islink(path)):
                raise
            discard(path)
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def discard(path):
    """Remove a cache entry (a file, a symbolic link or a directory): renamed aside first,
    so that nothing sees it half removed."""
    path = Path(path)
    aside = path.with_name(f".tmp-discard-{secrets.token_hex(6)}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if os.path.isdir(aside) and not os.path.islink(aside):
        shutil.rmtree(aside, ignore_errors=True)
    else:
        try:
            os.unlink(aside)
        except OSError:
            pass
