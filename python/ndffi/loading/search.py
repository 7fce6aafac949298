"""Find and open a shared library by name or path.

Pure Python: the actual ``dlopen`` is done by the ``opener`` callable the caller passes
in, so this module is testable on its own and imports nothing heavy at module level
(``ctypes.util`` is imported lazily, only when the system loader is consulted).

Resolution order for ``open_library(name, dirs, opener)``:

1. ``name is None``: ``opener(None)``, the running process itself.
2. ``name`` contains a path separator or is an existing file: opened as a path.  A path
   that does not exist is also searched like a name inside its own directory, so
   ``"build/libfoo"`` finds ``build/libfoo.so``.
3. Otherwise, for each directory in ``dirs`` (in order; relative directories are
   relative to the current directory; a *file* in ``dirs`` means its directory, as in
   ``numpy.ctypeslib.load_library(name, __file__)``), the candidates are: the name as
   given, the name plus each platform suffix, the same with the ``lib`` prefix added or
   removed, and finally versioned files (``libfoo.so.N`` on Linux, highest version
   first).  Only existing files are opened; every candidate is listed as tried.
4. If no directory was given, or no candidate file existed in any of them, the system
   loader: ``ctypes.util.find_library(stem)``, then ``opener("lib<stem>.so")`` and
   ``opener(name)`` so the system search path (``LD_LIBRARY_PATH``, ld.so.cache, ...)
   applies.  If a candidate file did exist in a given directory but failed to load, the
   system loader is *not* consulted: silently loading a different library of the same
   name is worse than the error, which carries the loader's message.

Failure raises :class:`~ndffi.errors.LibraryNotFound` listing every path tried and why
it failed.

Changed files.  The dynamic loader hands back the library it already loaded for a path it
has seen (and for a file it has mapped), whatever is at that path now: a library rebuilt
by ``make`` or ``gcc`` would silently go on running the old code.  :func:`fresh_opener`
remembers each file it opened (device, inode, size, modification time) and opens a file
that changed since through a private copy named after its content, so the new code
loads; so is a path the loader cannot be given (not UTF-8).  Names found by the system
search (``"m"``, ``"libm.so.6"``) are opened as they are.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import NamedTuple

from ..errors import LibraryNotFound

__all__ = ["open_library", "fresh_opener", "loads_as_is", "platform_naming", "library_candidates", "LibraryNotFound"]


NO_SUCH_FILE = "no such file"


class _Naming(NamedTuple):
    """How one platform names shared libraries."""

    prefixes: tuple  # file-name prefixes tried, as given first then these
    suffixes: tuple  # shared library suffixes, in order of preference
    versioned: str | None  # glob of versioned files: {base} is prefix+stem, {suffix} the suffix
    version_re: str | None  # regex matching a versioned suffix at the end of a name
    system: str  # the name the system loader is asked for, from the stem


# The one table of platform-specific naming.  Keyed by sys.platform prefix.
_NAMING = {
    "linux": _Naming(("lib",), (".so",), "{base}{suffix}.*", r"\.so(\.\d+)+$", "lib{}.so"),
    "darwin": _Naming(("lib",), (".dylib", ".so"), "{base}.*{suffix}", r"(\.\d+)+\.dylib$", "lib{}.dylib"),
    "win32": _Naming(("lib",), (".dll",), None, None, "{}.dll"),
    "cygwin": _Naming(("cyg", "lib"), (".dll",), None, None, "cyg{}.dll"),
    # Other Unixes (FreeBSD, ...) follow the ELF convention.
    "": _Naming(("lib",), (".so",), "{base}{suffix}.*", r"\.so(\.\d+)+$", "lib{}.so"),
}


def platform_naming(platform: str | None = None) -> _Naming:
    """The naming convention of ``platform`` (default: this one)."""
    platform = sys.platform if platform is None else platform
    for key, naming in _NAMING.items():
        if key and platform.startswith(key):
            return naming
    return _NAMING[""]


def _suffixes(naming: _Naming) -> list:
    """Platform suffixes first, then sysconfig's SHLIB_SUFFIX and EXT_SUFFIX (as numpy)."""
    import sysconfig

    out = list(naming.suffixes)
    for var in ("SHLIB_SUFFIX", "EXT_SUFFIX"):
        value = sysconfig.get_config_var(var)
        if value and value not in out:
            out.append(value)
    return out


def _split_name(name: str, naming: _Naming, suffixes) -> tuple:
    """Split a library file name into (prefix, stem, suffix-or-'').

    ``"libfoo.so.1"`` -> ``("lib", "foo", ".so.1")``; ``"m"`` -> ``("", "m", "")``.
    """
    suffix = ""
    if naming.version_re:
        m = re.search(naming.version_re, name)
        if m and m.start() > 0:
            suffix = m.group(0)
    if not suffix:
        for s in sorted(suffixes, key=len, reverse=True):
            if name.endswith(s) and len(name) > len(s):
                suffix = s
                break
    stem = name[: len(name) - len(suffix)] if suffix else name
    prefix = ""
    for p in naming.prefixes:
        if stem.startswith(p) and len(stem) > len(p):
            prefix, stem = p, stem[len(p) :]
            break
    return prefix, stem, suffix


def _version_key(version: str):
    """Sort key for the version part of a file name: numeric where possible."""
    parts = []
    for piece in re.split(r"[.\-_]", version):
        parts.append((1, int(piece), "") if piece.isdigit() else (0, 0, piece))
    return parts


def library_candidates(name: str, directory: str, platform: str | None = None) -> list:
    """Candidate paths for library ``name`` in ``directory``, in the order they are tried.

    Items are ``(path, is_glob)``: a glob item stands for the versioned files, which
    are expanded (highest version first) by the caller.
    """
    naming = platform_naming(platform)
    suffixes = _suffixes(naming)
    _, stem, suffix = _split_name(name, naming, suffixes)

    # The name as given, then with each prefix variant (lib added or removed).
    bases = [name[: len(name) - len(suffix)] if suffix else name]
    for p in ("",) + tuple(naming.prefixes):
        if p + stem not in bases:
            bases.append(p + stem)

    out, seen = [], set()

    def add(path, is_glob=False):
        if path not in seen:
            seen.add(path)
            out.append((path, is_glob))

    for base in bases:
        if suffix:
            add(os.path.join(directory, base + suffix))
        else:
            add(os.path.join(directory, base))
            for s in suffixes:
                add(os.path.join(directory, base + s))
    if naming.versioned and (not suffix or suffix in naming.suffixes):
        # Versioned files of the name's own suffix (or of each platform suffix); not
        # when the name already carries a version: libfoo.so.1 must not load libfoo.so.2.
        vsuffixes = [suffix] if suffix else list(naming.suffixes)
        for base in bases:
            for s in vsuffixes:
                add(os.path.join(directory, naming.versioned.format(base=base, suffix=s)), True)
    return out


def _has_separator(name: str) -> bool:
    return os.sep in name or bool(os.altsep and os.altsep in name)


def _as_dirs(dirs) -> list:
    if dirs is None:
        return []
    if isinstance(dirs, (str, bytes, os.PathLike)):
        dirs = [dirs]
    out = []
    for d in dirs:
        d = os.path.abspath(os.path.expanduser(os.fsdecode(d)))
        if os.path.isfile(d):  # numpy.ctypeslib.load_library(name, __file__)
            d = os.path.dirname(d)
        if d not in out:
            out.append(d)
    return out


def _reason(exc: BaseException) -> str:
    msg = str(exc).strip()
    return msg or type(exc).__name__


class _Search:
    """Tries candidates in order, recording every failure."""

    def __init__(self, opener):
        self.opener = opener
        self.tried = []
        self.found_file = False  # some candidate file existed (even if it failed to load)
        self.attempted = set()

    def attempt(self, target):
        """Open ``target`` (a path or a name for the system loader); None on failure."""
        self.attempted.add(target)
        try:
            return self.opener(target)
        except OSError as exc:
            self.tried.append((target if target is not None else "<process>", _reason(exc)))
            return None

    def in_directory(self, name, directory):
        """Search ``directory`` for ``name``; return (handle, path) or None."""
        for path, is_glob in library_candidates(name, directory):
            if is_glob:
                pattern = os.path.basename(path)
                head, tail = pattern.split("*", 1)
                matches = _expand_versions(os.path.dirname(path), head, tail)
                if not matches:
                    self.tried.append((path, NO_SUCH_FILE))
                paths = [m for m in matches if m not in self.attempted]
            elif os.path.isfile(path):
                paths = [path]
            else:
                self.tried.append((path, NO_SUCH_FILE))
                paths = []
            for candidate in paths:
                self.found_file = True
                handle = self.attempt(candidate)
                if handle is not None:
                    return handle, candidate
        return None

    def system(self, name):
        """Ask the system loader; return (handle, name_used) or None."""
        naming = platform_naming()
        _, stem, _ = _split_name(name, naming, _suffixes(naming))
        targets = []
        try:
            import ctypes.util

            found = ctypes.util.find_library(stem)
        except Exception as exc:  # find_library runs tools (ldconfig, gcc); never fatal
            found = None
            self.tried.append((f"ctypes.util.find_library({stem!r})", _reason(exc)))
        else:
            if not found:
                self.tried.append((f"ctypes.util.find_library({stem!r})", "not found"))
        if found:
            targets.append(found)
        targets.append(naming.system.format(stem))
        targets.append(name)
        seen = set()
        for target in targets:
            if target in seen:
                continue
            seen.add(target)
            handle = self.attempt(target)
            if handle is not None:
                return handle, target
        return None


def _expand_versions(directory, head, tail):
    """Files ``head<version>tail`` in ``directory``, highest version first."""
    found = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    for entry in entries:
        if len(entry) > len(head) + len(tail) and entry.startswith(head) and entry.endswith(tail):
            version = entry[len(head) : len(entry) - len(tail)]
            if version[0].isdigit() and os.path.isfile(os.path.join(directory, entry)):
                found.append((version, entry))
    found.sort(key=lambda ve: _version_key(ve[0]), reverse=True)
    return [os.path.join(directory, e) for _, e in found]


def open_library(name, dirs, opener):
    """Open shared library ``name``, searching ``dirs`` and then the system loader.

    ``name``: str, bytes or os.PathLike naming a library (``"foo"``, ``"libfoo"``,
    ``"libfoo.so"``, ``"m"``) or a path to one; ``None`` for the running process.
    ``dirs``: directories to search (a single directory is accepted too).
    ``opener(path_or_None) -> handle`` dlopens and raises ``OSError`` on failure.

    Returns ``(handle, resolved)`` where ``resolved`` is the path opened, the name the
    system loader was given, or ``None`` for the process.  Raises ``LibraryNotFound``
    listing every path tried and why it failed.
    """
    search = _Search(opener)
    if name is None:
        handle = search.attempt(None)
        if handle is None:
            raise LibraryNotFound(None, search.tried)
        return handle, None

    name = os.fsdecode(name)
    if not name:
        raise ValueError("library name must not be empty (use None for the running process)")

    # A path: opened as is when it exists, else searched for inside its directory.
    expanded = os.path.expanduser(name)
    if _has_separator(name) or os.path.isfile(expanded):
        path = os.path.abspath(expanded)
        if os.path.isfile(path):
            handle = search.attempt(path)
            if handle is not None:
                return handle, path
            raise LibraryNotFound(name, search.tried)
        result = search.in_directory(os.path.basename(path), os.path.dirname(path))
        if result is not None:
            return result
        if not search.found_file:
            # Paths that exist only for the loader (macOS's dyld shared cache).
            handle = search.attempt(path)
            if handle is not None:
                return handle, path
        raise LibraryNotFound(name, search.tried)

    directories = _as_dirs(dirs)
    for directory in directories:
        result = search.in_directory(name, directory)
        if result is not None:
            return result

    if directories and search.found_file:
        search.tried.append(
            (
                "<system loader>",
                "not consulted: a candidate file exists in the given directories but failed to load",
            )
        )
        raise LibraryNotFound(name, search.tried)

    result = search.system(name)
    if result is not None:
        return result
    raise LibraryNotFound(name, search.tried)


# ---- files that changed since they were loaded ------------------------------------------

_opened: dict = {}  # path given to the opener -> identity of the file then (or _UNSURE)
_opened_ids: dict = {}  # (st_dev, st_ino) -> identity of the file then
_opened_lock = threading.Lock()
_UNSURE = object()  # the file changed while it was being opened


def _identity(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _mapped_elsewhere(path, ident):
    """Whether this process maps an older file of ``path`` (Linux: /proc/self/maps) —
    loaded before ndffi looked, by ctypes or as a dependency."""
    try:
        with open("/proc/self/maps", "rb") as f:
            maps = f.read()
    except OSError:
        return False
    real = os.fsencode(os.path.realpath(path))
    for line in maps.splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6 and (fields[5] == real or fields[5] == real + b" (deleted)"):
            if fields[5] != real or int(fields[4]) != ident[1]:
                return True
    return False


def _utf8(path):
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def loads_as_is(path):
    """Whether opening ``path`` now loads the file that is there (it did not change
    since this process loaded it, and the loader can be given its name)."""
    return _stale(path) is False


def _stale(path):
    """Whether the loader would hand back an older file for ``path`` (None: no such
    file)."""
    try:
        ident = _identity(path)
    except OSError:
        return None
    with _opened_lock:
        seen, seen_id = _opened.get(path), _opened_ids.get(ident[:2])
    if (seen is not None and seen != ident) or (seen_id is not None and seen_id != ident):
        return True
    if seen is None and sys.platform.startswith("linux") and _mapped_elsewhere(path, ident):
        return True
    return not _utf8(path)


def fresh_opener(opener):
    """``opener`` (see :func:`open_library`) made to open the current content of a path:
    a file that changed since this process loaded it (or that the loader cannot be given
    by name) is opened through a private copy named after its content."""

    def open_fresh(target):
        if target is None or not _has_separator(target):
            return opener(target)  # the process, or a name for the system search
        stale = _stale(target)
        if stale is None:
            return opener(target)  # no such file: the loader says why
        if stale:
            copy = _private_copy(target)
            import logging

            logging.getLogger("ndffi.load").info("%s changed since it was loaded: loading it as %s", target, copy)
            return opener(copy)
        ident = _identity(target)
        handle = opener(target)
        try:
            after = _identity(target)
        except OSError:
            after = None
        with _opened_lock:
            _opened.setdefault(target, ident if after == ident else _UNSURE)
            _opened_ids.setdefault(ident[:2], ident if after == ident else _UNSURE)
        return handle

    return open_fresh


def _private_copy(path):
    """A copy of ``path`` in this process's private directory, named after its content
    (the same content is the same copy, which the loader finds loaded)."""
    import hashlib

    from .._support import atomic
    from .._support import cache as _cache

    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()[:24]
    name = os.path.basename(path)
    if not _utf8(name):
        name = "lib" + digest + os.path.splitext(os.fsencode(name))[1].decode("ascii", "replace")
    with _opened_lock:
        global _copies
        if _copies is None:
            _copies = _cache.private_tempdir("ndffi-loaded-")
    directory = _copies / digest
    copy = directory / name
    if not copy.exists():
        directory.mkdir(mode=0o700, exist_ok=True)
        atomic.atomic_write(copy, data, mode=0o700)
    return str(copy)


_copies = None
