"""What ``ndffi build`` (and ``build(output_dir=...)``) writes where the user asked: the
library ``libNAME.so`` and its declarations ``NAME.h``.

ndffi never changes a file it did not write.  The header's first line is ndffi's marker,
which also records the SHA-256 of the library written with it:

    /* ndffi-generated: declarations of libNAME.so (sha256 ..., text sha256 ...); ndffi build replaces this file */

An existing header is ndffi's when its first line is that marker and the rest of it still
has the SHA-256 the marker records (a header the user edited is the user's), or the
marker older versions of ndffi wrote; an existing library is ndffi's when the header
beside it records its SHA-256.  Anything else in the way (the user's own ``sci.h`` next to
``sci.c``, or ``libsci.so`` made by ``make``) is left alone: :class:`OutputExists` is
raised before anything is written, unless ``force``.  Files whose content is already right
are not rewritten (a library loaded from there stays the one loaded).  Every write is
atomic.

The header includes the standard headers that declare the types it uses, so that it
compiles on its own; ndffi's declaration parser accepts those ``#include`` lines, so
``lib.cdef(open("NAME.h").read())`` reads it too.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from .._support.atomic import atomic_write

__all__ = ["OutputExists", "declarations_text", "header_name", "write_outputs"]

_MARKER = "/* ndffi-generated: "
_MARKER_LINE = re.compile(
    r"/\* ndffi-generated: declarations of (?P<lib>\S+) "
    r"\(sha256 (?P<sha>[0-9a-f]{64})(?:, text sha256 (?P<text>[0-9a-f]{64}))?\)"
)
_OLD_MARKER = re.compile(rb"/\* \S+\.h: declarations of \S+, made by ndffi\.build\.\n")


class OutputExists(FileExistsError):
    """A file ndffi would write exists and was not written by ndffi."""


# The standard headers that declare the types ndffi's parser has built in.
_BUILTIN_TYPES = {
    "stddef.h": ("size_t", "ptrdiff_t", "wchar_t"),
    "stdint.h": tuple(f"{u}int{n}_t" for u in ("", "u") for n in (8, 16, 32, 64))
    + (
        "intptr_t",
        "uintptr_t",
        "intmax_t",
        "uintmax_t",
        "int_least8_t",
        "uint_least8_t",
        "int_fast8_t",
        "uint_fast8_t",
    ),
    "stdbool.h": ("bool",),
    "sys/types.h": ("ssize_t", "off_t"),
}


def declarations_text(found, cdef):
    """What ``cdef()`` is given: the declarations found, then ``cdef=`` text, after the
    ``#include`` lines of the standard headers whose types they use."""
    body = "\n".join(part.rstrip("\n") + "\n" for part in (found, cdef) if part and part.strip())
    words = set(re.findall(r"[A-Za-z_]\w*", re.sub(r"/\*.*?\*/|//[^\n]*", " ", body, flags=re.S)))
    includes = [h for h, names in _BUILTIN_TYPES.items() if words & set(names)]
    return "".join(f"#include <{h}>\n" for h in includes) + ("\n" if includes else "") + body


def header_name(name):
    """The file name of the declarations of library ``name``."""
    return f"{name}.h"


def _header_bytes(header, library_file, library_sha, declarations):
    """The header's bytes: the marker line, recording the library's SHA-256 and that of
    the rest of the header (so that an edit makes it the user's), then the rest."""
    rest = (
        f'/* lib = ndffi.load("{library_file}", DIR); lib.cdef(open("{header}").read()) */\n\n' + declarations
    ).encode("utf-8", "surrogateescape")
    return (
        f"{_MARKER}declarations of {library_file} (sha256 {library_sha}, text sha256 "
        f"{hashlib.sha256(rest).hexdigest()}); ndffi build replaces this file */\n"
    ).encode() + rest


def _read(path):
    """The bytes of ``path``, None when there is nothing, False when it is not a regular
    file (a directory, a symbolic link: never ndffi's)."""
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return False if os.path.lexists(path) else None
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _recorded(header_bytes):
    """(library file, sha256) recorded by an ndffi header, or None (not ndffi's)."""
    if header_bytes and _OLD_MARKER.match(header_bytes):
        return ("", "")  # ndffi's, from before it recorded the library's SHA-256
    if not header_bytes or not header_bytes.startswith(_MARKER.encode()):
        return None
    m = _MARKER_LINE.match(header_bytes.split(b"\n", 1)[0].decode("utf-8", "replace"))
    return (m["lib"], m["sha"]) if m else ("", "")


def _edited(header_bytes):
    """Whether an ndffi header was edited since ndffi wrote it (its text no longer has
    the SHA-256 its first line records, or that line was edited itself): the user's now."""
    if _OLD_MARKER.match(header_bytes):
        return False  # from before ndffi recorded what it wrote: cannot tell
    first, _, rest = header_bytes.partition(b"\n")
    m = _MARKER_LINE.match(first.decode("utf-8", "replace"))
    return not m or bool(m["text"] and hashlib.sha256(rest).hexdigest() != m["text"])


def write_outputs(built, output_dir, force=False):
    """Write ``built``'s library and declarations into ``output_dir``; returns their
    paths.  Raises :class:`OutputExists` (nothing written) when either would replace a
    file ndffi did not write, unless ``force``."""
    out = Path(os.fsdecode(output_dir))
    out.mkdir(parents=True, exist_ok=True)
    lib_file = built.library.name
    lib_dst, hdr_dst = out / lib_file, out / header_name(built.name)
    lib_bytes = built.library.read_bytes()
    lib_sha = hashlib.sha256(lib_bytes).hexdigest()
    header = _header_bytes(hdr_dst.name, lib_file, lib_sha, built.declarations)

    old_lib, old_hdr = _read(lib_dst), _read(hdr_dst)
    recorded = _recorded(old_hdr) if old_hdr else None
    problems = []
    if old_hdr is False or (old_hdr and old_hdr != header and recorded is None):
        problems.append(f"{hdr_dst} exists and was not written by ndffi (its first line is not ndffi's marker)")
    elif old_hdr and old_hdr != header and _edited(old_hdr):
        problems.append(
            f"{hdr_dst} was written by ndffi but edited since (its first line, or its "
            f"text against the SHA-256 that line records)"
        )
    if old_lib is False or (
        old_lib and old_lib != lib_bytes and recorded != (lib_file, hashlib.sha256(old_lib).hexdigest())
    ):
        problems.append(
            f"{lib_dst} exists and is not the library ndffi wrote there (the "
            f"header beside it, {hdr_dst.name}, does not record its SHA-256)"
        )
    if problems and not force:
        raise OutputExists(
            "not overwriting files ndffi did not write: "
            + "; ".join(problems)
            + ". Choose another output directory (ndffi build -o DIR, output_dir=DIR) or "
            "name (-n NAME, name=), move the files away, or replace them with --force "
            "(force=True)."
        )
    if old_lib != lib_bytes:
        atomic_write(lib_dst, lib_bytes, mode=0o777)
    if old_hdr != header:
        atomic_write(hdr_dst, header, mode=0o666)
    return lib_dst, hdr_dst
