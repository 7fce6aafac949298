"""The system's C and C++ compiler: found once (``$CC`` / ``$CXX``, else ``cc gcc clang``
/ ``c++ g++ clang++`` on PATH), for :mod:`ndffi.building` (which compiles with it) and
:mod:`ndffi.headers` (which gives libclang its include directories).  Every compiler
process goes through :func:`run`, so tests can count them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError
from . import cache

__all__ = ["Compiler", "find", "identity", "include_dirs", "locate", "run"]


def run(cmd, *, cwd=None, timeout=600):
    """Run one compiler command; return the CompletedProcess (stdout and stderr as text,
    decoded as file names are, so a path in any encoding the file system allows comes
    back as ``os.fsdecode`` would give it)."""
    try:
        return subprocess.run(
            cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding=sys.getfilesystemencoding(),
            errors=sys.getfilesystemencodeerrors(),
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise BuildError(f"cannot run the compiler {cmd[0]!r}: {exc}", command=cmd) from None
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"the compiler did not finish within {timeout} s", command=cmd) from exc


_INSTALL_HINT = (
    "install one: Debian/Ubuntu 'sudo apt-get install {deb}', Fedora 'sudo dnf install {rpm}', "
    "Alpine 'apk add build-base', macOS 'xcode-select --install', Windows MinGW-w64 "
    "(gcc) or LLVM (clang); or point ${env} at a compiler"
)


@dataclass(frozen=True)
class Compiler:
    lang: str  # "c" or "c++"
    cmd: tuple  # the driver and any flags that came with $CC/$CXX
    path: str  # the driver's resolved executable
    version: str  # its --version output
    is_gcc: bool  # GCC itself (has -aux-info), not Clang posing as gcc


_compilers: dict = {}
_compilers_lock = threading.Lock()
_versions: dict = {}


def locate(lang="c"):
    """(command, executable) of the ``lang`` compiler ("c" or "c++"): ``$CC`` / ``$CXX``
    when set (its executable None when it is not on PATH), else the first of ``cc gcc
    clang`` / ``c++ g++ clang++`` on PATH; None when there is none."""
    env = "CC" if lang == "c" else "CXX"
    given = os.environ.get(env, "").strip()
    if given:
        cmd = shlex.split(given)
        return tuple(cmd), shutil.which(cmd[0])
    for name in ("cc", "gcc", "clang") if lang == "c" else ("c++", "g++", "clang++"):
        path = shutil.which(name)
        if path:
            return (name,), path
    return None


# The environment variables GCC and Clang read to find headers, libraries and their own
# programs, or that change what they compile (__DATE__, the deployment target).
_ENVIRONMENT = (
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "LIBRARY_PATH",
    "COMPILER_PATH",
    "GCC_EXEC_PREFIX",
    "SOURCE_DATE_EPOCH",
    "SDKROOT",
    "MACOSX_DEPLOYMENT_TARGET",
    "LD_RUN_PATH",
)
_SCRIPT_SIZE = 1 << 16  # a driver this small is a wrapper script: its text is part of it


def identity(lang="c"):
    """What names the ``lang`` compiler for a cache key: its command, executable, size and
    modification time (it changes when the compiler is replaced), the text of a wrapper
    script, and the environment variables it reads that are set; [] when there is none."""
    found = locate(lang)
    if found is None:
        return []
    cmd, path = found
    env = [[v, os.environ[v]] for v in _ENVIRONMENT if v in os.environ]
    try:
        st = os.stat(path) if path else None
        script = hashlib.sha256(Path(path).read_bytes()).hexdigest() if st and st.st_size <= _SCRIPT_SIZE else None
    except OSError:
        st = script = None
    if not st:
        return [list(cmd), path, env]
    return [list(cmd), path, st.st_size, st.st_mtime_ns, script, env]


def find(lang):
    """The ``lang`` compiler ("c" or "c++") as :class:`Compiler`, its version asked once;
    raises :class:`BuildError` (how to install one) when there is none."""
    found = locate(lang)
    memo_key = (lang, found, os.environ.get("PATH", ""))
    with _compilers_lock:
        hit = _compilers.get(memo_key)
    if hit is not None:
        return hit
    what, env = ("C", "CC") if lang == "c" else ("C++", "CXX")
    deb, rpm = ("gcc", "gcc") if lang == "c" else ("g++", "gcc-c++")
    hint = _INSTALL_HINT.format(deb=deb, rpm=rpm, env=env)
    if found is None:
        names = ("cc", "gcc", "clang") if lang == "c" else ("c++", "g++", "clang++")
        raise BuildError(f"no {what} compiler found (looked for ${env} and {', '.join(names)} on PATH); {hint}")
    cmd, path = found
    if path is None:
        raise BuildError(f"the {what} compiler ${env}={shlex.join(cmd)!r} was not found; {hint}")
    if os.path.basename(path).lower() in ("cl", "cl.exe"):
        raise BuildError(f"MSVC (cl.exe) is not supported by ndffi.build; use MinGW-w64 gcc or clang and set ${env}")
    version = _version(cmd, path)
    low = version.lower()
    compiler = Compiler(lang, tuple(cmd), path, version, "free software foundation" in low and "clang" not in low)
    with _compilers_lock:
        _compilers[memo_key] = compiler
    return compiler


def _version(cmd, path):
    """``cmd --version``, remembered per executable (path, size, mtime) in memory and in
    the cache directory, so a cached build starts no process at all."""
    try:
        st = os.stat(path)
        ident = [list(cmd), os.path.realpath(path), st.st_size, st.st_mtime_ns]
    except OSError:
        ident = [list(cmd), path]
    digest = hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:32]
    if digest in _versions:
        return _versions[digest]
    where = cache.store("compilers")
    stored = where / f"{digest}.version" if where is not None else None
    payload = cache.read_record(stored) if stored is not None else None
    if payload is not None:
        version = payload.decode("utf-8", "replace")
    else:
        proc = run(list(cmd) + ["--version"])
        version = (proc.stdout or proc.stderr).strip()
        if proc.returncode != 0:
            version = f"(--version failed: exit {proc.returncode}) {version}"
        if stored is not None:
            cache.write_record(stored, version.encode("utf-8", "surrogateescape"))
    _versions[digest] = version
    return version


_compiler_views: dict = {}
_compiler_lock = threading.Lock()


def include_dirs():
    """The C compiler's ``#include <...>`` search list, with its own directory of
    built-in headers (``stddef.h``, ``stdarg.h``): libclang's wheel has none of its own,
    so clang is given the system compiler's.  See :func:`system_view`."""
    return system_view()[0]


def system_view():
    """(``#include <...>`` search list, GNU C version "major.minor.patch" or None) of the
    C compiler: what libclang must be given to read a header as the compiler reads it
    (``#if __GNUC__ >= 7`` picks what the compiler picks).  Asked once per compiler
    (``cc -E -dM -v``) and remembered in the cache directory."""
    found = locate("c")
    cmd = list(found[0]) if found else ["cc"]
    key = json.dumps(identity("c") or cmd)
    with _compiler_lock:
        if key in _compiler_views:
            dirs, gnuc = _compiler_views[key]
            return list(dirs), gnuc
    where = cache.store("compilers")
    path = where / f"system-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json" if where else None
    try:
        view = json.loads(cache.read_record(path)) if path else None
        dirs, gnuc = view["dirs"], view["gnuc"]
        if all(isinstance(d, str) and os.path.isdir(d) for d in dirs) and (gnuc is None or isinstance(gnuc, str)):
            with _compiler_lock:
                _compiler_views[key] = (dirs, gnuc)
            return list(dirs), gnuc
    except (TypeError, ValueError, KeyError):
        pass
    dirs, gnuc = _ask_compiler(cmd)
    with _compiler_lock:
        _compiler_views[key] = (list(dirs), gnuc)
    if path:
        cache.write_record(path, json.dumps({"dirs": dirs, "gnuc": gnuc}).encode())
    return dirs, gnuc


def _ask_compiler(cmd):
    dirs, gnuc = [], None
    try:
        out = run(cmd + ["-E", "-dM", "-v", "-x", "c", os.devnull], timeout=60)
        inside = False
        for line in out.stderr.splitlines():
            if line.startswith("#include <...> search starts here"):
                inside = True
            elif line.startswith("End of search list"):
                inside = False
            elif inside and line.startswith(" "):
                d = line.strip()
                if not d.endswith("(framework directory)"):
                    dirs.append(os.path.normpath(d))
        version = dict(re.findall(r"^#define __GNUC(|_MINOR|_PATCHLEVEL)__ (\d+)$", out.stdout, re.M))
        if "" in version:
            gnuc = f"{version['']}.{version.get('_MINOR', '0')}.{version.get('_PATCHLEVEL', '0')}"
        builtin = run(cmd + ["-print-file-name=include"], timeout=60).stdout.strip()
        if builtin and os.path.isdir(builtin) and os.path.normpath(builtin) not in dirs:
            dirs.insert(0, os.path.normpath(builtin))
    except (OSError, BuildError):
        pass
    if not dirs:
        dirs = [d for d in ("/usr/local/include", "/usr/include") if os.path.isdir(d)]
    return dirs, gnuc
