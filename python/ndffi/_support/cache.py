"""ndffi's cache directory, shared by :mod:`ndffi.building` (built libraries) and
:mod:`ndffi.headers` (imported headers, the libraries and compilers they found).

Trust.  The build cache holds shared libraries that ndffi loads, so a cache another user
can write is a way to run their code.  A directory of the cache is used only when it is
owned by this user and neither group- nor world-writable, and every directory above it
is owned by this user or root and not writable by others (unless sticky, as ``/tmp``).
Directories ndffi creates are made ``0700``.  When the cache cannot be trusted,
:func:`store` warns (:class:`CacheWarning`) and returns None, and the caller works
without the cache.  Entries are opened without following symbolic links and used only
when they are regular files owned by this user and writable by nobody else.

Records.  Every file of the cache that ndffi reads back is a *record*: a magic string,
the payload's length and its SHA-256, then the payload.  :func:`read_record` returns the
payload only when all three agree, so a truncated, empty, foreign or random file, a
directory or a symbolic link is a miss (None), never an exception.  The hash is not a
defence against an attacker (who could compute it): the ownership checks are; it makes
sure ``marshal``/JSON only ever see bytes ndffi wrote.

Writes go through :func:`ndffi._support.atomic.atomic_write`: no reader ever sees half
a record; a directory or symlink in the way of a record is moved aside first.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import shutil
import stat
import struct
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from ..errors import CacheWarning
from .atomic import atomic_write, discard

__all__ = ["cache_dir", "store", "read_record", "write_record", "file_digest", "trusted", "private_tempdir", "sweep"]

log = logging.getLogger("ndffi.cache")

_MAGIC = b"NDFFIRC1"
_HEAD = struct.Struct("<8sQ32s")  # magic, payload length, SHA-256 of the payload
_RECORD_LIMIT = 1 << 28
_CHECKS = hasattr(os, "getuid")  # POSIX ownership and permission checks
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def cache_dir():
    """Where ndffi keeps what it builds and imports: ``$NDFFI_CACHE_DIR``, else the
    platform's cache directory plus ``ndffi`` (``$XDG_CACHE_HOME/ndffi`` or
    ``~/.cache/ndffi`` on Linux, ``~/Library/Caches/ndffi`` on macOS,
    ``%LOCALAPPDATA%\\ndffi\\Cache`` on Windows).  Nothing is created."""
    env = os.environ.get("NDFFI_CACHE_DIR")
    if env:
        return Path(os.path.abspath(os.path.expanduser(env)))
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
        return Path(base) / "ndffi" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ndffi"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.path.abspath(base)) / "ndffi"


# ---- trust ------------------------------------------------------------------------------


def _untrusted(st, *, ancestor=False):
    """Why a directory or file with stat ``st`` cannot be trusted, or None."""
    if not _CHECKS:
        return None
    uid = os.getuid()
    if st.st_uid != uid and not (ancestor and st.st_uid == 0):
        return f"it is owned by uid {st.st_uid}, not by this user (uid {uid})"
    writable = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable and not (ancestor and st.st_mode & stat.S_ISVTX):
        who = "others" if st.st_mode & stat.S_IWOTH else "its group"
        return f"it is writable by {who} (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def trusted(path, *, directory=False):
    """Whether ``path`` itself (not a symbolic link) is a regular file, or with
    ``directory`` a directory, that this user owns and nobody else can write."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    kind = stat.S_ISDIR if directory else stat.S_ISREG
    return kind(st.st_mode) and _untrusted(st) is None


_warned: set = set()
_warned_lock = threading.Lock()


def _distrust(path, why):
    key = (str(path), why)
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(
        f"ndffi: not using the cache directory {path}: {why}; working without "
        f"the cache until it is fixed (chmod 700 and chown to yourself, or set "
        f"NDFFI_CACHE_DIR to a directory of your own)",
        CacheWarning,
        stacklevel=4,
    )


def _check_ancestors(path):
    """Why a directory above ``path`` (or a symbolic link on the way to it) lets another
    user replace it, or None."""
    walked = os.path.abspath(path)
    while True:
        try:
            st = os.lstat(walked)
            if stat.S_ISLNK(st.st_mode) and st.st_uid not in (os.getuid(), 0):
                return f"{walked}, a symbolic link on the way to it, is owned by uid {st.st_uid}"
        except OSError:
            pass  # not there yet
        up = os.path.dirname(walked)
        if up == walked:
            break
        walked = up
    real = os.path.realpath(path)
    parent = os.path.dirname(real)
    while True:
        try:
            why = _untrusted(os.stat(parent), ancestor=True)
        except OSError as exc:
            return f"cannot examine {parent}: {exc.strerror}"
        if why:
            return f"{parent}, a directory above it: {why}"
        up = os.path.dirname(parent)
        if up == parent:
            return None
        parent = up


def _mkdir_private(path):
    os.mkdir(path, 0o700)
    if _CHECKS:
        os.chmod(path, 0o700)  # whatever the umask


def store(*parts):
    """The trusted cache directory ``cache_dir()/parts...``, created ``0700`` where
    missing; None (after a :class:`CacheWarning`) when it cannot be trusted or made."""
    root = cache_dir()
    try:
        missing, top = [], str(root)
        while not os.path.lexists(top) and os.path.dirname(top) != top:
            missing.append(top)
            top = os.path.dirname(top)
        # What exists above the cache must not let another user swap it for their own.
        why = _check_ancestors(missing[-1] if missing else root) if _CHECKS else None
        if why:
            _distrust(root, why)
            return None
        for d in reversed(missing):
            _mkdir_private(d)
        st = os.stat(root)
        why = "it is not a directory" if not stat.S_ISDIR(st.st_mode) else _untrusted(st)
        if why:
            _distrust(root, why)
            return None
        d = root
        for part in parts:
            d = d / part
            try:
                st = os.lstat(d)
            except FileNotFoundError:
                try:
                    _mkdir_private(d)
                except FileExistsError:
                    pass  # another process made it
                st = os.lstat(d)
            if not stat.S_ISDIR(st.st_mode):
                discard(d)  # a file or a symbolic link where a directory belongs
                _mkdir_private(d)
                st = os.lstat(d)
            why = _untrusted(st)
            if why:
                _distrust(d, why)
                return None
        return d
    except OSError as exc:
        _distrust(root, f"cannot use it: {exc}")
        return None


# ---- records ----------------------------------------------------------------------------


def _open_trusted(path):
    """A file descriptor of ``path`` when it is a trusted regular file, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _BINARY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode):
            why = _untrusted(st)
            if why is None:
                return fd
            log.warning("ignoring cache entry %s: %s", path, why)
    except OSError:
        pass
    os.close(fd)
    return None


def read_record(path, limit=_RECORD_LIMIT):
    """The payload of the record at ``path``, or None when it is missing, untrusted or
    not exactly what :func:`write_record` wrote."""
    fd = _open_trusted(path)
    if fd is None:
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            head = f.read(_HEAD.size)
            if len(head) != _HEAD.size:
                return None
            magic, length, digest = _HEAD.unpack(head)
            if magic != _MAGIC or length > limit:
                return None
            payload = f.read(length + 1)
    except (OSError, ValueError, MemoryError):
        return None
    if len(payload) != length or hashlib.sha256(payload).digest() != digest:
        return None
    return payload


def write_record(path, payload):
    """Store ``payload`` as a record at ``path`` (atomically, ``0600``); False when the
    cache cannot be written (a read-only cache costs a rebuild, nothing else)."""
    data = _HEAD.pack(_MAGIC, len(payload), hashlib.sha256(payload).digest()) + payload
    try:
        atomic_write(path, data, mode=0o600, clear=True)
        return True
    except OSError as exc:
        log.debug("cannot write cache entry %s: %s", path, exc)
        return False


def file_digest(path):
    """SHA-256 (hex) of a file's content, or None when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def sweep(root, age=3600.0):
    """Remove what processes that died mid-write left in ``root`` (``.tmp-*`` and
    ``.*.tmp`` older than ``age`` seconds)."""
    now = time.time()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.startswith(".tmp-") or (name.startswith(".") and name.endswith(".tmp")):
            try:
                if now - entry.stat(follow_symlinks=False).st_mtime > age:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
            except OSError:
                pass


# ---- private temporary directories --------------------------------------------------------

_private: list = []
_private_lock = threading.Lock()


def private_tempdir(prefix):
    """A new ``0700`` directory of this process, removed when the process exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    with _private_lock:
        if not _private:
            atexit.register(_remove_private)
        _private.append(d)
    return Path(d)


def _remove_private():
    with _private_lock:
        dirs, _private[:] = list(_private), []
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
