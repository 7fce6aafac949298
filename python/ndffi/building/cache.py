"""The build cache of :mod:`ndffi.building`: which files a build read, and its results.

A result is a directory ``build/NAME-KEY-DEPS`` of the cache: ``KEY`` is the input key
(what is known before compiling), ``DEPS`` a hash of the content of every file the
compiler read, so the library's path is unique to what was compiled.  It holds the
library, ``entry.ndffi``, a record (see :mod:`ndffi._support.cache`) of JSON: the declarations,
the warning, the commands, the library's SHA-256 and the dependencies, and
``build.json``, how it was built, for people to read.

Dependencies come from the compiler's own ``-MD`` output, as in ccache's depend mode:
no re-implementation of the include search.  Each is stored with its SHA-256 and how it
was reached, so that a build of the same sources elsewhere (or from another working
directory) checks the files *it* would read: a file under a source's directory (or the
header's) is also looked for under the new build's one, and a file the compiler named
relative to the working directory also under the new working directory.  Every one of
these must still have the recorded content for the result to be used.

A file that was *not* there matters too: a header created in a directory searched before
the one a header was found in (``-I`` order, the including file's own directory for
``"..."``), or one a ``__has_include`` looked for, changes what compiles.  The compiler
lists only what it read, so each result also records the paths where such a file would
have been found and was absent (from the compiler's own search list, ``-E -v``); the
result is used only while they are still absent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

from .._support import cache as _cache
from .._support.atomic import discard
from .._support.includes import _under, roots

log = logging.getLogger("ndffi.build")

RECORD = "entry.ndffi"
_RESULTS_KEPT = 8  # per input key: a header edited back and forth finds its old build


# ---- the files the compiler read ---------------------------------------------------------


def parse_depfile(data):
    """The file names (bytes) of a make-format dependency file written by
    ``cc -MD -MF F -MT ndffi``, unquoted as GCC and Clang quote them: 2N+1 backslashes
    before a space are N backslashes and a space, ``\\#`` is ``#``, ``$$`` is ``$``, and
    backslash-newline continues the line.  None when it is not such a file."""
    data = data.replace(b"\\\r\n", b" ").replace(b"\\\n", b" ")
    if not data.startswith(b"ndffi:"):
        return None
    names, cur, i, n = [], bytearray(), 6, len(data)
    while i < n:
        c = data[i : i + 1]
        if c == b"\\":
            j = i
            while j < n and data[j : j + 1] == b"\\":
                j += 1
            run, nxt = j - i, data[j : j + 1]
            if nxt in (b" ", b"\t"):
                cur += b"\\" * (run // 2)
                if run % 2:
                    cur += nxt
                    j += 1
                i = j
            elif nxt == b"#" and run == 1:
                cur += b"#"
                i = j + 1
            else:
                cur += data[i:j]
                i = j
        elif c == b"$" and data[i + 1 : i + 2] == b"$":
            cur += b"$"
            i += 2
        elif c in (b" ", b"\t", b"\n", b"\r"):
            if cur:
                names.append(bytes(cur))
                cur = bytearray()
            i += 1
        else:
            cur += c
            i += 1
    if cur:
        names.append(bytes(cur))
    return names


def link_inputs(data, toolchain_dirs):
    """The static archives and object files (bytes names) of a linker's
    ``--dependency-file`` output ``data`` (make format, the library as its target)
    whose code went into the library, but the toolchain's and the system's own (under
    ``toolchain_dirs``, the compiler's library search list); None when it is not such a
    file."""
    m = re.search(rb":(?=[ \t\r\n\\])", data)
    if m is None:
        return None
    names = parse_depfile(b"ndffi" + data[m.start() :])
    if names is None:
        return None
    system = [os.path.join(os.path.realpath(d), "") for d in toolchain_dirs]
    out = []
    for raw in names:
        if not raw.endswith((b".a", b".o", b".lo")):
            continue  # shared objects and linker scripts: their code is not copied in
        real = os.path.realpath(os.fsdecode(raw))
        if not any(real.startswith(d) for d in system):
            out.append(raw)
    return out


# An assembler directive that reads a file (in asm() text or an assembly source).
_ASM_READS = re.compile(rb'\.(?:incbin|include)[ \t]+\\?"')


def dependencies(depfiles, tmp, started, plan, linked=()):
    """``[[path, sha256, [root index, relative path] or None, name relative to the
    working directory or None], ...]`` of every file the compiler read (except what
    ndffi wrote into ``tmp``) and of ``linked`` (the archives the linker copied code
    from, :func:`link_inputs`); None when the list cannot be trusted: a dependency file
    missing or unreadable, a listed file that does not exist, one changed while
    compiling (stamped after ``started``: what it holds now may not be what was
    compiled), or one that has the assembler read a file (``.incbin``, ``.include``:
    in no dependency output).  Each file is read once, for that scan and its SHA-256.
    A result without dependencies is never reused."""
    cwd = os.getcwd()
    inside = os.path.join(os.path.realpath(tmp), "")
    dirs = roots(plan)
    seen = {}
    for depfile in list(depfiles) + [None]:
        try:
            names = parse_depfile(depfile.read_bytes()) if depfile is not None else list(linked)
        except OSError:
            names = None
        if names is None:
            log.debug("no usable dependency output in %s: the result is not cached", depfile)
            return None
        for raw in names:
            name = os.fsdecode(raw)
            path = os.path.join(cwd, name)
            if path in seen:
                continue
            ours = os.path.realpath(path).startswith(inside)
            try:
                changed = os.stat(path).st_mtime_ns > started
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                log.debug("%s: listed as read by the compiler but not found", path)
                return None
            if depfile is not None and _ASM_READS.search(data):
                # The assembler reads the named file; no dependency output lists it.
                log.debug("%s has the assembler read a file (.incbin, .include): the result is not cached", path)
                return None
            if ours:
                continue
            digest = hashlib.sha256(data).hexdigest()
            if changed:
                log.debug("%s changed while compiling: the result is not cached", path)
                return None
            root = next(([i, rel] for i, d in enumerate(dirs) if (rel := _under(path, d)) is not None), None)
            seen[path] = [path, digest, root, None if os.path.isabs(name) else name]
    return sorted(seen.values())


def _still_read(deps, plan, digests):
    """Whether every file of ``deps`` (and where this build would find it) still has
    the recorded content."""
    cwd, dirs = os.getcwd(), roots(plan)
    for path, digest, root, relative in deps:
        places = {path}
        if root is not None:
            if root[0] >= len(dirs):
                return False
            places.add(os.path.join(dirs[root[0]], root[1]))
        if relative is not None:
            places.add(os.path.join(cwd, relative))
        for p in places:
            if p not in digests:
                digests[p] = _cache.file_digest(p)
            if digests[p] != digest:
                return False
    return True


# ---- the files that were not there ---------------------------------------------------------


def _still_absent(absent, plan):
    dirs = roots(plan)
    for path, root in absent:
        places = [path]
        if root is not None:
            if root[0] >= len(dirs):
                return False
            places.append(os.path.join(dirs[root[0]], root[1]))
        if any(os.path.lexists(p) for p in places):
            return False
    return True


# ---- results ------------------------------------------------------------------------------


def _valid_absent(absent):
    return isinstance(absent, list) and all(
        isinstance(a, list)
        and len(a) == 2
        and isinstance(a[0], str)
        and (
            a[1] is None
            or (isinstance(a[1], list) and len(a[1]) == 2 and isinstance(a[1][0], int) and isinstance(a[1][1], str))
        )
        for a in absent
    )


def _valid_deps(deps):
    return deps is None or (
        isinstance(deps, list)
        and all(
            isinstance(d, list)
            and len(d) == 4
            and isinstance(d[0], str)
            and isinstance(d[1], str)
            and (
                d[2] is None
                or (isinstance(d[2], list) and len(d[2]) == 2 and isinstance(d[2][0], int) and isinstance(d[2][1], str))
            )
            and (d[3] is None or isinstance(d[3], str))
            for d in deps
        )
    )


def read_entry(entry, fmt):
    """The record of the result directory ``entry`` when it is whole (a trusted
    directory, its record intact and of format ``fmt``, its library a trusted file with
    the recorded SHA-256), else None."""
    if not _cache.trusted(entry, directory=True):
        return None
    payload = _cache.read_record(Path(entry) / RECORD)
    try:
        record = json.loads(payload) if payload is not None else None
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("format") != fmt:
        return None
    library = record.get("library")
    if (
        not isinstance(library, str)
        or not library
        or os.sep in library
        or library.startswith(".")
        or not isinstance(record.get("declarations"), str)
        or not isinstance(record.get("key"), str)
        or not _valid_deps(record.get("deps"))
        or not _valid_absent(record.get("absent"))
        or not isinstance(record.get("warning"), (str, type(None)))
    ):
        return None
    lib = Path(entry) / library
    if not _cache.trusted(lib) or _cache.file_digest(lib) != record.get("library_sha256"):
        return None
    return record


def _prefix(plan):
    return f"{plan.name}-{plan.key[:16]}-"


def _results(root, plan):
    """The result directories of ``plan``'s input key, newest first."""
    prefix = _prefix(plan)
    try:
        found = [e for e in os.scandir(root) if e.name.startswith(prefix)]
        found.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
    except OSError:
        return []
    return [Path(e.path) for e in found]


def find(root, plan, fmt):
    """The newest whole result of ``plan`` whose files still have the content they had
    when it was built: (directory, record), or None.  Damaged results are removed."""
    digests = {}
    for entry in _results(root, plan):
        record = read_entry(entry, fmt)
        if record is None or record["key"] != plan.key:
            log.debug("removing damaged cache entry %s", entry)
            discard(entry)
            continue
        if (
            record["deps"] is not None
            and _still_read(record["deps"], plan, digests)
            and _still_absent(record["absent"], plan)
        ):
            return entry, record
    return None


def result_name(plan, deps):
    """A result directory's name: the input key and the content of every file read."""
    if deps is None:  # never found again: a name of its own
        return _prefix(plan) + "u" + os.urandom(8).hex()
    contents = sorted(d[1] for d in deps)
    return _prefix(plan) + hashlib.sha256(json.dumps([plan.key, contents]).encode()).hexdigest()[:16]


def install(tmp, root, name, fmt):
    """Rename the finished build ``tmp`` to ``root/name``; returns (directory, record
    there or None when it is ``tmp``'s own).  A whole result already there (another
    process was faster) is used instead; a damaged one is replaced."""
    dest = Path(root) / name
    for _attempt in range(3):
        try:
            os.rename(tmp, dest)  # atomic; fails when dest exists and is not empty
            return dest, None
        except OSError:
            record = read_entry(dest, fmt)
            if record is not None:
                return dest, record
            discard(dest)
    raise OSError(f"cannot install the build into the cache directory {root}")


def prune(root, plan):
    """Keep the newest results of ``plan``'s input key."""
    for entry in _results(root, plan)[_RESULTS_KEPT:]:
        discard(entry)
