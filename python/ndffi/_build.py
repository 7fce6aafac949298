"""Compile C and C++ sources into a shared library and load it: ``ndffi.build``, ``ndffi.inline``.

    lib = ndffi.build(["fibonacci.c"])            # declarations come from the source
    lib.fib(10)
    twice = ndffi.inline("int twice(int x) { return 2 * x; }").twice

How a build works
-----------------
* **Compiler.**  The system's: ``$CC`` (C) and ``$CXX`` (C++) when set, else the first of
  ``cc gcc clang`` / ``c++ g++ clang++`` on ``PATH``.  GCC- and Clang-compatible drivers
  are supported (MinGW on Windows; MSVC is not).  Each source is compiled on its own
  (``-O2 -fPIC`` then the caller's ``cflags``), then all are linked with ``-shared``.
* **Cache.**  The result goes into ``$NDFFI_CACHE_DIR`` (default: the platform's cache
  directory, ``$XDG_CACHE_HOME/ndffi`` or ``~/.cache/ndffi`` on Linux,
  ``~/Library/Caches/ndffi`` on macOS, ``%LOCALAPPDATA%\\ndffi\\Cache`` on Windows), in a
  directory named after a SHA-256 of everything the result depends on: the sources'
  content, the content of the local headers they include (``#include "..."`` and
  ``<...>`` found in the source's directory or ``include_dirs``, followed recursively),
  the flags, defines, directories and libraries, the language, the declarations asked for
  and the compiler's identity (path and ``--version``).  A build that finds its directory
  runs no compiler at all.  Each build happens in a private temporary directory that is
  renamed into place in one step, so builds of the same key from several threads or
  processes at once never see a half-written library; the loser of the race discards its
  copy and uses the winner's.
* **Declarations.**  What ``cdef()`` is given after loading: the declarations of
  ``header=`` (a header file) when given, then ``cdef=`` text when given (it is applied at
  load time and is not part of the cache key); when neither is given, the non-static
  functions the sources define.  C sources compiled by GCC use GCC's ``-aux-info``, which
  writes the prototype of every function the compiler saw; the ones defined in the
  sources (or their local headers) are kept.  For C++ sources, and for C with compilers
  that lack ``-aux-info``, the preprocessed source is scanned for function definitions
  with C linkage (inside ``extern "C" { ... }`` or prefixed ``extern "C"``).  Either way
  the types the project itself defines (typedefs, structs, unions, enums of non-system
  headers) are declared first, and only functions the built library really exports are
  kept, so ``static`` and hidden functions never appear.  The variables the sources
  define at file scope are declared too (without their initializers) when the library
  exports them as data.  A declaration the parser cannot
  read yet is left out with a :class:`BuildWarning` naming it; pass ``cdef=`` to declare
  such functions by hand.  The reading itself is :mod:`ndffi._declscan`.
* **``header=``** is run through the C preprocessor with the build's include directories
  and defines, and the declarations of the header itself and of the non-system headers
  it includes are given to ``cdef()``.  Macros are expanded, not imported: a
  ``#define N 4`` constant does not become ``lib.N``.
"""

from __future__ import annotations

import concurrent.futures
import filecmp
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import _declscan

__all__ = ["build", "inline", "BuildError", "BuildWarning", "cache_dir"]

log = logging.getLogger("ndffi.build")

# Bumped whenever the layout of a cache entry or the declaration extraction
# (:mod:`ndffi._declscan`) changes, so old entries are not reused.
_FORMAT = 3

_C_EXTENSIONS = {".c"}
_CXX_EXTENSIONS = {".cpp", ".cc", ".cxx", ".c++", ".cp", ".C"}
_LANG_ALIASES = {"c": "c", "c++": "c++", "cpp": "c++", "cxx": "c++", "cplusplus": "c++"}


# ---------------------------------------------------------------------------------------
# Errors


class Diagnostic(NamedTuple):
    """One compiler message: ``file:line:column: severity: message``."""

    file: str
    line: int
    column: int | None
    severity: str
    message: str

    def __str__(self):
        col = f"{self.column}:" if self.column is not None else ""
        return f"{self.file}:{self.line}:{col} {self.severity}: {self.message}"


_DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s*"
    r"(?P<sev>fatal error|error|warning|note):\s*(?P<msg>.*)$", re.M)


def parse_diagnostics(output):
    """The ``file:line:col: severity: message`` lines of a compiler's output."""
    return [Diagnostic(m["file"], int(m["line"]), int(m["col"]) if m["col"] else None,
                       m["sev"], m["msg"].strip())
            for m in _DIAGNOSTIC.finditer(output or "")]


class BuildError(RuntimeError):
    """Compiling or linking failed, or no compiler was found.

    A ``RuntimeError`` (not an ``OSError``: the files were there, the code did not
    build).  The message holds the compiler's diagnostics (``file:line:col: error: ...``)
    and the command line.  Attributes: ``command`` (the argument list, or None),
    ``output`` (everything the compiler printed), ``returncode`` and ``diagnostics``
    (a list of :class:`Diagnostic`, errors and warnings in the order printed).
    """

    def __init__(self, message, *, command=None, output="", returncode=None):
        self.command = list(command) if command else None
        self.output = output or ""
        self.returncode = returncode
        self.diagnostics = parse_diagnostics(self.output)
        text = message
        if self.output.strip():
            text += "\n" + self.output.rstrip()
        if self.command:
            text += "\ncommand: " + shlex.join(self.command)
        super().__init__(text)


class BuildWarning(UserWarning):
    """A function found in the sources could not be declared (the declaration parser
    does not read one of its types yet); it is left out of the library's declarations."""


# ---------------------------------------------------------------------------------------
# Running the compiler.  Every compiler process goes through _run, so tests can count them.


def _run(cmd, *, cwd=None, timeout=600):
    """Run one compiler command; return the CompletedProcess (stdout and stderr as text)."""
    try:
        return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, errors="replace", timeout=timeout)
    except FileNotFoundError as exc:
        raise BuildError(f"cannot run the compiler {cmd[0]!r}: {exc}",
                         command=cmd) from None
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"the compiler did not finish within {timeout} s",
                         command=cmd) from exc


_INSTALL_HINT = (
    "install one: Debian/Ubuntu 'sudo apt-get install {deb}', Fedora 'sudo dnf install {rpm}', "
    "Alpine 'apk add build-base', macOS 'xcode-select --install', Windows MinGW-w64 "
    "(gcc) or LLVM (clang); or point ${env} at a compiler")


@dataclass(frozen=True)
class _Compiler:
    lang: str  # "c" or "c++"
    cmd: tuple  # the driver and any flags that came with $CC/$CXX
    path: str  # the driver's resolved executable
    version: str  # its --version output
    is_gcc: bool  # GCC itself (has -aux-info), not Clang posing as gcc


_compilers = {}
_compilers_lock = threading.Lock()
_versions = {}


def _find_compiler(lang):
    env = "CC" if lang == "c" else "CXX"
    names = ("cc", "gcc", "clang") if lang == "c" else ("c++", "g++", "clang++")
    given = os.environ.get(env, "").strip()
    memo_key = (lang, given, os.environ.get("PATH", ""))
    with _compilers_lock:
        hit = _compilers.get(memo_key)
    if hit is not None:
        return hit
    what = "C" if lang == "c" else "C++"
    deb, rpm = ("gcc", "gcc") if lang == "c" else ("g++", "gcc-c++")
    hint = _INSTALL_HINT.format(deb=deb, rpm=rpm, env=env)
    if given:
        cmd = shlex.split(given)
        path = shutil.which(cmd[0])
        if path is None:
            raise BuildError(f"the {what} compiler ${env}={given!r} was not found; {hint}")
    else:
        for name in names:
            path = shutil.which(name)
            if path:
                cmd = [name]
                break
        else:
            raise BuildError(f"no {what} compiler found (looked for ${env} and "
                             f"{', '.join(names)} on PATH); {hint}")
    if os.path.basename(path).lower() in ("cl", "cl.exe"):
        raise BuildError("MSVC (cl.exe) is not supported by ndffi.build; use MinGW-w64 gcc "
                         f"or clang and set ${env}")
    version = _compiler_version(cmd, path)
    low = version.lower()
    compiler = _Compiler(lang, tuple(cmd), path, version,
                         "free software foundation" in low and "clang" not in low)
    with _compilers_lock:
        _compilers[memo_key] = compiler
    return compiler


def _compiler_version(cmd, path):
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
    stored = cache_dir() / "compilers" / f"{digest}.txt"
    try:
        version = stored.read_text()
    except OSError:
        proc = _run(list(cmd) + ["--version"])
        version = (proc.stdout or proc.stderr).strip()
        if proc.returncode != 0:
            version = f"(--version failed: exit {proc.returncode}) {version}"
        _write_atomic(stored, version)
    _versions[digest] = version
    return version


def _write_atomic(path, text, strict=False):
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        if strict:
            raise  # otherwise only a cache


# ---------------------------------------------------------------------------------------
# The cache


def cache_dir():
    """Where ndffi keeps what it builds: ``$NDFFI_CACHE_DIR`` or the platform's cache
    directory plus ``ndffi``."""
    env = os.environ.get("NDFFI_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
        return Path(base) / "ndffi" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ndffi"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ndffi"


def _library_filename(name):
    if sys.platform == "win32":
        return f"{name}.dll"
    if sys.platform == "darwin":
        return f"lib{name}.dylib"
    return f"lib{name}.so"


def _sweep_stale(root, age=3600.0):
    """Remove temporary build directories left by processes that died mid-build."""
    now = time.time()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".tmp-"):
            try:
                if now - entry.stat().st_mtime > age:
                    shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:
                pass


# ---------------------------------------------------------------------------------------
# Inputs: sources, the local headers they include, the key


_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*([<"])([^">\r\n]+)[">]', re.M)


def _local_headers(files, include_dirs):
    """Headers that ``files`` include, found next to the including file (``"..."`` only)
    or in ``include_dirs``, recursively; system headers are not followed."""
    seen, out = set(), []
    stack = [Path(f) for f in files]
    visited = set()
    while stack:
        path = stack.pop()
        real = os.path.realpath(path)
        if real in visited:
            continue
        visited.add(real)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for m in _INCLUDE.finditer(data):
            quote, target = m.group(1) == b'"', os.fsdecode(m.group(2).strip())
            dirs = ([path.parent] if quote else []) + [Path(d) for d in include_dirs]
            for d in dirs:
                cand = d / target
                if cand.is_file():
                    key = os.path.realpath(cand)
                    if key not in seen:
                        seen.add(key)
                        out.append(cand)
                    stack.append(cand)
                    break
    return out


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _lang_of(path, lang):
    if lang is not None:
        return lang
    return "c++" if Path(path).suffix in _CXX_EXTENSIONS else "c"


def _as_list(value, what):
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{what} must be a string or a list of strings, "
                        f"got {type(value).__name__}") from None


def _define_flags(defines):
    if defines is None:
        return []
    items = defines.items() if isinstance(defines, dict) else (
        (d, None) if isinstance(d, str) else tuple(d) for d in defines)
    flags = []
    for name, value in items:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise ValueError(f"defines: {name!r} is not a C macro name")
        if value is None or value is True:
            flags.append(f"-D{name}")
        elif value is False:
            continue
        else:
            flags.append(f"-D{name}={value}")
    return flags


@dataclass
class _Plan:
    name: str
    sources: list  # [(path as given to the compiler, lang)]
    headers: list  # local headers the sources (and header=) include
    compilers: dict  # lang -> _Compiler
    link_lang: str
    cflags: list
    include_flags: list
    define_flags: list
    link_flags: list
    header: str | None
    cdef: str | None
    key: str = ""
    inline: tuple | None = None  # (file name, code) for inline()
    entry: Path = field(default=None)


def _plan(sources, name, lang, cflags, include_dirs, libraries, library_dirs, defines,
          header, cdef, inline_code=None):
    if lang is not None:
        low = str(lang).lower()
        if low not in _LANG_ALIASES:
            raise ValueError(f"lang must be 'c' or 'c++', got {lang!r}")
        lang = _LANG_ALIASES[low]
    cflags = shlex.split(cflags) if isinstance(cflags, str) else [os.fspath(f) for f in cflags]
    include_dirs = [os.path.abspath(os.fspath(d)) for d in _as_list(include_dirs, "include_dirs")]
    library_dirs = [os.path.abspath(os.fspath(d)) for d in _as_list(library_dirs, "library_dirs")]
    libraries = [os.fspath(x) for x in _as_list(libraries, "libraries")]
    if cdef is not None and not isinstance(cdef, str):
        raise TypeError(f"cdef must be a string of C declarations, got {type(cdef).__name__}")

    srcs = []
    if inline_code is None:
        paths = [os.fspath(s) for s in _as_list(sources, "sources")]
        if not paths:
            raise ValueError("build() needs at least one source file")
        for p in paths:
            if not os.path.isfile(p):
                raise FileNotFoundError(f"source file not found: {p}")
            srcs.append((p, _lang_of(p, lang)))
        if name is None:
            name = Path(paths[0]).stem
    if name is None:
        raise ValueError("a name is needed")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*", name):
        raise ValueError(f"library name {name!r}: use letters, digits, '_', '.', '+' and '-'")
    if header is not None:
        header = os.fspath(header)
        if not os.path.isfile(header):
            raise FileNotFoundError(f"header not found: {header}")

    link_flags = [f"-L{d}" for d in library_dirs]
    if sys.platform != "win32":
        link_flags += [f"-Wl,-rpath,{d}" for d in library_dirs]
    link_flags += [f"-l{x}" for x in libraries]
    plan = _Plan(name=name, sources=srcs, headers=[], compilers={}, link_lang="c",
                 cflags=cflags, include_flags=[f"-I{d}" for d in include_dirs],
                 define_flags=_define_flags(defines), link_flags=link_flags,
                 header=header, cdef=cdef)
    if inline_code is not None:
        ilang = lang or "c"
        plan.inline = (f"{name}{'.cpp' if ilang == 'c++' else '.c'}", inline_code)
        langs = {ilang}
    else:
        langs = {lg for _, lg in srcs}
    if header is not None:
        langs.add("c")  # the header is read as C
    plan.compilers = {lg: _find_compiler(lg) for lg in sorted(langs)}
    plan.link_lang = "c++" if "c++" in {lg for _, lg in srcs} or (
        plan.inline and plan.inline[0].endswith(".cpp")) else "c"
    if plan.link_lang not in plan.compilers:
        plan.compilers[plan.link_lang] = _find_compiler(plan.link_lang)

    scan = [p for p, _ in srcs] + ([header] if header else [])
    plan.headers = _local_headers(scan, include_dirs)

    # cdef= text is not part of the key: it is added when loading, so editing it
    # recompiles nothing.
    if header is not None:
        mode = ["header", _digest(header)]
    elif cdef is not None:
        mode = ["cdef"]
    else:
        mode = ["sources"]
    key = {
        "format": _FORMAT,
        "platform": [sys.platform, os.name, _machine()],
        "name": name,
        "sources": [[lg, _digest(p)] for p, lg in srcs],
        "inline": [plan.inline[0], hashlib.sha256(inline_code.encode()).hexdigest()]
        if plan.inline else None,
        "headers": sorted(_digest(h) for h in plan.headers),
        "compilers": {lg: [list(c.cmd), c.path, c.version] for lg, c in plan.compilers.items()},
        "cflags": cflags, "include_dirs": include_dirs, "defines": plan.define_flags,
        "libraries": libraries, "library_dirs": library_dirs,
        "declarations": mode,
    }
    plan.key = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    plan.entry = cache_dir() / "build" / f"{name}-{plan.key[:24]}"
    return plan


def _machine():
    import platform
    return platform.machine()


# ---------------------------------------------------------------------------------------
# Compiling


def _base_flags():
    return ["-O2"] if sys.platform == "win32" else ["-O2", "-fPIC"]


def _check(proc, cmd, what, tmp):
    if proc.returncode != 0:
        # Diagnostics go to stderr; stdout is only looked at when stderr is empty (it is
        # the preprocessed text of a -E run).
        output = proc.stderr if (proc.stderr or "").strip() else (proc.stdout or "")
        if tmp:
            output = output.replace(str(tmp) + os.sep, "")
        raise BuildError(f"{what} failed (exit status {proc.returncode})", command=cmd,
                         output=output, returncode=proc.returncode)
    return proc


def _compile_entry(plan, tmp):
    """Compile and link into ``tmp``; return (library path, declarations, manifest)."""
    sources = list(plan.sources)
    if plan.inline:
        path = tmp / plan.inline[0]
        path.write_text(plan.inline[1])
        sources = [(str(path), "c++" if plan.inline[0].endswith(".cpp") else "c")]
    extract = plan.cdef is None and plan.header is None
    common = plan.include_flags + plan.define_flags

    jobs = []  # (what, cmd, lang, aux path or None)
    objects = []
    for i, (src, lg) in enumerate(sources):
        comp = plan.compilers[lg]
        obj = tmp / f"{i}-{Path(src).stem}.o"
        objects.append(str(obj))
        cmd = list(comp.cmd) + _base_flags() + plan.cflags + common + ["-c", "-x", lg, src,
                                                                      "-o", str(obj)]
        aux = None
        if extract and lg == "c" and comp.is_gcc:
            aux = tmp / f"{i}.aux"
            cmd += ["-aux-info", str(aux)]
        jobs.append(("compile", cmd, src, aux))
        if extract:
            jobs.append(("preprocess", list(comp.cmd) + plan.cflags + common +
                         ["-E", "-x", lg, src], src, None))
    if plan.header is not None:
        comp = plan.compilers["c"]
        jobs.append(("preprocess", list(comp.cmd) + plan.cflags + common +
                     ["-E", "-x", "c", plan.header], plan.header, None))

    log.info("compiling %s into %s", ", ".join(os.path.basename(s) for s, _ in sources),
             _library_filename(plan.name))

    def run(job):
        what, cmd, src, _aux = job
        log.debug("%s", shlex.join(cmd))
        return _check(_run(cmd), cmd, f"compiling {os.path.basename(src)}"
                      if what == "compile" else f"preprocessing {os.path.basename(src)}", tmp)

    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(run, jobs))  # the first failure is raised here

    lib_path = tmp / _library_filename(plan.name)
    link = plan.compilers[plan.link_lang]
    link_cmd = (list(link.cmd) + ["-shared"] + plan.cflags + objects + ["-o", str(lib_path)]
                + plan.link_flags)
    log.debug("%s", shlex.join(link_cmd))
    _check(_run(link_cmd), link_cmd, f"linking {lib_path.name}", tmp)

    langs = {src: _lang_of(src, None if src == plan.header else dict(sources).get(src))
             for what, _cmd, src, _aux in jobs if what == "preprocess"}
    declarations, warning = _declscan.declarations(plan, jobs, results, lib_path, langs)
    manifest = {
        "name": plan.name, "key": plan.key, "library": lib_path.name,
        "sources": [os.path.abspath(s) for s, _ in plan.sources] or [plan.inline[0]],
        "commands": [cmd for _, cmd, _, _ in jobs] + [link_cmd],
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "warning": warning,
    }
    return lib_path, declarations, manifest


# ---------------------------------------------------------------------------------------
# Entry points


@dataclass
class Built:
    """What a build produced: the library file, the declarations for it, whether the
    compiler ran, and the cache entry (a directory) holding both."""

    library: Path
    declarations: str
    compiled: bool
    entry: Path
    name: str
    warning: str | None = None


_FOUND = "declarations.h"  # in a cache entry: what was found in the header or sources


def _header_text(name, library_file, found, cdef):
    parts = [f"/* {name}.h: declarations of {library_file}, made by ndffi.build.\n"
             f"   lib = ndffi.load(\"{library_file}\", DIR); "
             f"lib.cdef(open(\"{name}.h\").read()) */\n"]
    if found.strip():
        parts.append(found.rstrip("\n") + "\n")
    if cdef is not None and cdef.strip():
        parts.append(cdef.rstrip("\n") + "\n")
    return "\n".join(parts)


def compile_library(sources=(), *, name=None, lang=None, cflags=(), include_dirs=(),
                    libraries=(), library_dirs=(), defines=None, header=None, cdef=None,
                    output_dir=None, _inline_code=None):
    """Build (or find in the cache) and return a :class:`Built`; loads nothing."""
    if isinstance(cdef, str) and header is None:
        from ._ndffi import Namespace
        Namespace().cdef(cdef)  # a CDefError before the compiler runs
    plan = _plan(sources, name, lang, cflags, include_dirs, libraries, library_dirs,
                 defines, header, cdef, _inline_code)
    entry = plan.entry
    libfile = _library_filename(plan.name)
    compiled = False
    if not (entry / libfile).is_file():
        root = entry.parent
        root.mkdir(parents=True, exist_ok=True)
        _sweep_stale(root)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{plan.name}-", dir=root))
        try:
            lib_path, declarations, manifest = _compile_entry(plan, tmp)
            for leftover in list(tmp.glob("*.o")) + list(tmp.glob("*.aux")):
                leftover.unlink()
            (tmp / _FOUND).write_text(declarations)
            (tmp / "build.json").write_text(json.dumps(manifest, indent=1))
            try:
                os.rename(tmp, entry)  # atomic; fails if another build got there first
                compiled = True
            except OSError:
                if not (entry / libfile).is_file():
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    declarations = _header_text(plan.name, libfile, (entry / _FOUND).read_text(), cdef)
    warning = None
    try:
        warning = json.loads((entry / "build.json").read_text()).get("warning")
    except (OSError, ValueError):
        pass
    library = entry / libfile
    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        _copy_if_changed(library, out / libfile)
        header_file = out / f"{plan.name}.h"
        try:
            same = header_file.read_text() == declarations
        except OSError:
            same = False
        if not same:
            _write_atomic(header_file, declarations, strict=True)
        library = out / libfile
    return Built(library, declarations, compiled, entry, plan.name, warning)


def _copy_if_changed(src, dst):
    """Copy atomically, and not at all when ``dst`` has the same bytes: a library already
    loaded from ``dst`` stays the one loaded."""
    if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
        return
    fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.")
    os.close(fd)
    try:
        shutil.copy2(src, tmp_name)
        os.replace(tmp_name, dst)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _load(built):
    from ._errors import LibraryNotFound
    from ._library import load

    if built.warning:
        warnings.warn(built.warning, BuildWarning, stacklevel=3)
    try:
        lib = load(str(built.library))
    except LibraryNotFound as exc:
        reason = "; ".join(why for _, why in exc.tried) or str(exc)
        hint = ""
        if "undefined symbol" in reason:
            hint = (" (a symbol the code uses is in a library that was not linked: "
                    "add it with libraries=[...] and library_dirs=[...])")
        raise BuildError(f"{built.library} was built but cannot be loaded: {reason}{hint}") \
            from exc
    if built.declarations.strip():
        lib.cdef(built.declarations)
    return lib


def build(sources, *, name=None, lang=None, cflags=(), include_dirs=(), libraries=(),
          library_dirs=(), defines=None, header=None, cdef=None, output_dir=None):
    """Compile C/C++ ``sources`` into a shared library with the system compiler, load it
    and declare its functions; return the :class:`~ndffi.Library`.

    ``sources``: a file name or a list of them (``.c`` is C; ``.cpp``, ``.cc``, ``.cxx``
    are C++, unless ``lang`` is ``"c"`` or ``"c++"`` for all).  ``name``: the library's
    name (default: the first source's stem; ``libNAME.so``).  ``cflags``: extra compiler
    flags (a list, or a string split like a shell), also given to the link.
    ``include_dirs``, ``defines`` (``{"N": 4, "DEBUG": None}`` -> ``-DN=4 -DDEBUG``),
    ``libraries`` (``["m"]`` -> ``-lm``) and ``library_dirs`` (searched at link time
    and recorded as the library's run path).

    Declarations: ``cdef`` (C declaration text), ``header`` (a header file read through
    the preprocessor), or by default the non-static functions the sources define — see
    the module documentation for how they are found and what is left out.

    The result is cached by content (see :func:`cache_dir`): building the same inputs
    again compiles nothing.  ``output_dir``: also copy ``libNAME.so`` and the
    declarations ``NAME.h`` there, and load the copy.

    Raises :class:`BuildError` (a ``RuntimeError``) with the compiler's diagnostics and
    the command line when compiling or linking fails or no compiler is found,
    ``FileNotFoundError`` for a missing source, :class:`~ndffi.CDefError` for bad
    ``cdef`` text.
    """
    return _load(compile_library(
        sources, name=name, lang=lang, cflags=cflags, include_dirs=include_dirs,
        libraries=libraries, library_dirs=library_dirs, defines=defines, header=header,
        cdef=cdef, output_dir=output_dir))


def inline(code, *, name=None, lang=None, cflags=(), include_dirs=(), libraries=(),
           library_dirs=(), defines=None, header=None, cdef=None, output_dir=None):
    """:func:`build` for source code in a string::

        twice = ndffi.inline("int twice(int x) { return 2 * x; }").twice

    ``lang`` defaults to C.  ``#include "x.h"`` in the code is searched in
    ``include_dirs``.  The default ``name`` is ``inline_`` plus a hash of the code;
    compiler messages name the file ``NAME.c`` (``NAME.cpp`` for C++).
    """
    if not isinstance(code, str):
        raise TypeError(f"inline() takes the source code as a str, got {type(code).__name__}")
    if name is None:
        name = "inline_" + hashlib.sha256(code.encode()).hexdigest()[:12]
    return _load(compile_library(
        (), name=name, lang=lang, cflags=cflags, include_dirs=include_dirs,
        libraries=libraries, library_dirs=library_dirs, defines=defines, header=header,
        cdef=cdef, output_dir=output_dir, _inline_code=code))
