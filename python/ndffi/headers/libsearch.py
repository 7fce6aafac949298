"""The library of a header import, found once: what the system search found for a
bare name (``ndffi.load("yaml", header="yaml.h")``) is remembered in the cache next to
the header's models, in a record of :mod:`ndffi._support.cache` (its trust checks apply), and
used while the file it names is the same file.  Part of :mod:`ndffi.headers`."""

from __future__ import annotations

import hashlib
import json
import os
import sys

from .._support import cache as _cache
from .._support.version import version
from ..loading import search as _loader

FORMAT = 1  # of the records


def open_library(name, dirs, opener):
    """:func:`ndffi.loading.search.open_library`, with what the system search found for a bare
    name (``"yaml"``: ``ctypes.util.find_library`` runs ``ldconfig`` or the compiler,
    tens of milliseconds) remembered in the cache, keyed like the header's models.  The
    record is used while the file it names is the same file (device, inode, size and
    time) and the loader, given the same name, opens that file."""
    if (
        dirs
        or not isinstance(name, str)
        or not name
        or os.sep in name
        or (os.altsep and os.altsep in name)
        or os.path.isfile(os.path.expanduser(name))
    ):
        return _loader.open_library(name, dirs, opener)
    __version__ = version()

    key = json.dumps(
        [
            FORMAT,
            __version__,
            name,
            sys.platform,
            [
                os.environ.get(v, "")
                for v in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "PATH")
                if v != "PATH" or sys.platform == "win32"
            ],
        ]
    )
    where = _cache.store("libraries")
    record = where / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.json" if where else None
    found = _library_record(record)
    if found is not None:
        target, path, ident = found
        try:
            handle = opener(target)
        except OSError:
            handle = None
        if handle is not None and handle.path == path and _file_identity(path) == ident:
            return handle, target
    handle, resolved = _loader.open_library(name, dirs, opener)
    path = handle.path
    ident = _file_identity(path) if path else None
    if record is not None and resolved and ident is not None:
        _cache.write_record(record, json.dumps({"target": resolved, "path": path, "identity": ident}).encode())
    return handle, resolved


def _library_record(path):
    """(name the loader was given, the file it opened, its identity) from a record."""
    payload = _cache.read_record(path) if path is not None else None
    if payload is None:
        return None
    try:
        r = json.loads(payload)
        target, file, ident = r["target"], r["path"], r["identity"]
        if isinstance(target, str) and isinstance(file, str) and isinstance(ident, list):
            return target, file, ident
    except (ValueError, KeyError, TypeError):
        pass
    return None


def _file_identity(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
