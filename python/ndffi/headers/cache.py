"""The cache of header models: a model is read back while no file the header included
changed, keyed by those files' content, the include directories, the defines, the
compiler and the libclang version.  A hit loads no libclang (nor this package's
translator modules)."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
from types import SimpleNamespace as _Sources

from .._support import cache as _cache
from .._support import compiler
from .._support.defines import macro_definitions
from .._support.includes import absences
from .._support.version import version

FORMAT = 6  # of the cache entries; changes with the model's shape or how a header is read

# libclang is the extra `headers` of the package: the one thing to say when it is missing.
NEEDS_LIBCLANG = "reading C headers needs libclang: pip install 'ndffi[headers]'"


def libclang_version():
    """The installed ``libclang`` package's version, found on ``sys.path`` without
    importing it (None when it is not installed)."""
    for entry in sys.path:
        pkg = os.path.join(entry or ".", "clang")
        if not os.path.isfile(os.path.join(pkg, "cindex.py")):
            continue
        try:
            for name in os.listdir(entry or "."):
                if name.startswith("libclang-") and name.endswith((".dist-info", ".egg-info")):
                    return name[len("libclang-") :].rsplit(".", 1)[0]
        except OSError:
            pass
        try:  # not from PyPI: the module's identity stands for its version
            st = os.stat(os.path.join(pkg, "cindex.py"))
            return f"unknown-{st.st_size}-{st.st_mtime_ns}"
        except OSError:
            return "unknown"
    return None


_translator: list = []


def _translator_id():
    """Identity of the translation code (its files' sizes and times), so that a changed
    ndffi does not reuse what an older one translated."""
    if not _translator:
        here = os.path.dirname(os.path.abspath(__file__))
        for name in ("translate.py", "macros.py", "expansions.py", "types.py", "libclang.py"):
            try:
                st = os.stat(os.path.join(here, name))
                _translator.append([name, st.st_size, st.st_mtime_ns])
            except OSError:
                _translator.append([name])
    return _translator


def key(header, include_dirs, defines, flags):
    h = os.fspath(header)
    key = [
        FORMAT,
        version(),
        _translator_id(),
        h,
        "" if os.path.isabs(h) else os.getcwd(),
        [os.path.abspath(d) for d in include_dirs],
        macro_definitions(defines),
        list(flags),
        libclang_version(),
        compiler.identity("c"),
        sys.platform,
        sys.version_info[:2],
    ]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:40]


# Entries are records (see ndffi._support.cache) of marshal data (Python's own format for .pyc
# files: twice as fast to read as JSON, and it runs no code; the Python version is part of
# the key).  marshal is not safe against crafted input: a record is only loaded when it is
# a trusted file of a trusted directory whose length and SHA-256 match what was written.
def read(key):
    where = _cache.store()
    payload = _cache.read_record(where / (key + ".model")) if where is not None else None
    if payload is None:
        return None
    try:
        entry = marshal.loads(payload)
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            return None
        model = entry["model"]
        if not isinstance(model, dict) or not isinstance(entry["more"], bytes):
            return None
        model[_MORE] = entry["more"]
        names, lines = model["defines"]
        model["defines"] = dict(zip(names, lines.split("\n"), strict=False)) if names else {}
        for path, digest, stamp in entry["hashes"]:
            if _stamp(path) != stamp and _cache.file_digest(path) != digest:
                return None  # a file the header includes changed: import it again
        if any(os.path.lexists(path) for path in entry["absent"]):
            return None  # a header now found before one it included: import it again
        return model
    except Exception:  # anything in a record ndffi did not write is a miss  # noqa: BLE001
        return None


def absent_files(header, model, include_dirs, system_dirs, flags, started):
    """Where a file would have changed the import and none was (see
    :func:`ndffi._support.includes.absences`): earlier in the search order than each file
    included, beside the including files, what ``__has_include`` looked for, and the
    header itself in the current directory; None when one appeared meanwhile."""
    dirs = [os.path.abspath(d) for d in include_dirs] + list(system_dirs)
    files = [os.path.abspath(p) for p in model["files"]]
    absent = absences(
        [[p] for p in files],
        [([], dirs)],
        ["-I" + d for d in dirs[: len(include_dirs)]] + list(flags),
        _Sources(sources=[(model["header"], "c")], header=None),
        started,
    )
    if absent is None:
        return None
    out = [p for p, _root in absent]
    if not os.path.isabs(os.fspath(header)) and not os.path.lexists(os.fspath(header)):
        out.append(os.path.abspath(os.fspath(header)))  # looked for before include_dirs
    return out


# What binding a library to its header needs; the rest of a cached model (the names of
# each kind, where each is declared, signatures for stubs: half its size) is read when
# asked for (complete()).
_CORE = frozenset(
    ("text", "declarations", "defines", "aliases", "pointers", "function_macros", "expressions", "header", "clang")
)
_MORE = "_more"


def complete(model):
    """``model`` with all its parts (a cached one is read in two steps)."""
    more = model.pop(_MORE, None)
    if more is not None:
        model.update(marshal.loads(more))
    return model


def _stamp(path):
    """What the file system says of a file (inode, size, modification and change times):
    while it says the same, the content is the one hashed (the change time cannot be set
    back by anyone), so the hash is not computed again."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def write(key, model, absent):
    where = _cache.store()
    if where is None or absent is None:
        return
    core = {k: v for k, v in model.items() if k in _CORE}
    more = {k: v for k, v in model.items() if k not in _CORE}
    # bind() needs the macros that call a function; the others are for lib.header.
    core["function_macros"] = {n: m for n, m in model["function_macros"].items() if m.get("forward")}
    more["function_macros"] = model["function_macros"]
    # One string and the names: a third of the time to read of a dict of thousands.
    core["defines"] = [list(model["defines"]), "\n".join(model["defines"].values())]
    entry = {
        "format": FORMAT,
        "hashes": [[p, _cache.file_digest(p), _stamp(p)] for p in model["files"]],
        "absent": absent,
        "model": core,
        "more": marshal.dumps(more),
    }
    _cache.write_record(where / (key + ".model"), marshal.dumps(entry))
    _cache.sweep(where)
