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
  ``~/Library/Caches/ndffi`` on macOS, ``%LOCALAPPDATA%\\ndffi\\Cache`` on Windows; see
  :mod:`ndffi._support.cache` for when it is trusted).  A build is found in two steps, as
  ccache's depend mode does.  The *input key*, a SHA-256 of what is known before
  compiling (the sources' content, the flags, defines, directories and libraries, the
  language, the declarations asked for, the content of files the flags name (response
  files, linker scripts, version maps) and the working directory when a flag holds a
  relative path, and the compiler's identity: path, ``--version``, size and
  modification time, a wrapper script's text, and the environment variables it reads,
  such as ``CPATH``), names a group directory
  ``build/NAME-KEY``.  Each result in it records the files the compiler read (its own
  ``-MD`` dependency output: every header, however it was found: ``include_dirs``,
  ``-I`` in ``cflags``, a computed ``#include``) with their SHA-256; a result is used
  when every listed file still has that content.  A result directory is named after the
  input key and those contents, so its library's path is unique to what was compiled
  and the loader never hands back an older library of the same path.  Every result is
  checked before use (its record, and the library's SHA-256); a damaged one is rebuilt
  and replaced.  A build that finds its result runs no compiler at all.  Each build
  happens in a private temporary directory that is renamed into place in one step, so
  builds of the same key from several threads or processes at once never see a
  half-written library; the loser of the race discards its copy and uses the winner's.
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
  such functions by hand.  The reading itself is :mod:`ndffi.building.declscan`.
* **``header=``** is run through the C preprocessor with the build's include directories
  and defines, and the declarations of the header itself and of the non-system headers
  it includes are given to ``cdef()``.  Macros are expanded, not imported: a
  ``#define N 4`` constant does not become ``lib.N``.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._support import cache as _cache
from .._support import compiler
from .._support.atomic import atomic_write
from .._support.defines import macro_definitions
from .._support.includes import absences, parse_search_list

if TYPE_CHECKING:
    from ..library import Library
from ..errors import BuildError, BuildWarning, CacheWarning, LibraryNotFound
from ..library import Declarations
from ..load import load
from ..loading.search import loads_as_is
from . import cache as _build_cache
from . import declscan as _declscan
from . import output as _build_output

__all__ = ["build", "inline", "BuildError", "BuildWarning", "CacheWarning", "cache_dir"]

log = logging.getLogger("ndffi.build")

# Bumped whenever the layout of a cache entry or the declaration extraction
# (:mod:`ndffi.building.declscan`) changes, so old entries are not reused.
_FORMAT = 7

_C_EXTENSIONS = {".c"}
_CXX_EXTENSIONS = {".cpp", ".cc", ".cxx", ".c++", ".cp", ".C"}
_LANG_ALIASES = {"c": "c", "c++": "c++", "cpp": "c++", "cxx": "c++", "cplusplus": "c++"}


cache_dir = _cache.cache_dir


def _library_filename(name):
    if sys.platform == "win32":
        return f"{name}.dll"
    if sys.platform == "darwin":
        return f"lib{name}.dylib"
    return f"lib{name}.so"


# ---------------------------------------------------------------------------------------
# Inputs: sources and the input key


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
        raise TypeError(f"{what} must be a string or a list of strings, got {type(value).__name__}") from None


_PATH_OPTIONS = (
    "-isystem",
    "-iquote",
    "-idirafter",
    "-include",
    "-imacros",
    "-isysroot",
    "-iprefix",
    "-iwithprefix",
    "--sysroot=",
    "-I",
    "-L",
    "-B",
    "-F",
    "-T",
    "@",
)


def _flag_words(cflags):
    """Each flag, and each comma-separated word of a ``-Wl,`` or ``-Xlinker`` one."""
    for f in cflags:
        yield f
        if f.startswith("-Wl,"):
            yield from f[4:].split(",")


def _flag_paths(cflags):
    """The paths flags name: a bare word, what follows a path option, what follows '='."""
    for w in _flag_words(cflags):
        if not w.startswith("-") and not w.startswith("@"):
            yield w
            continue
        for opt in _PATH_OPTIONS:
            if w.startswith(opt) and len(w) > len(opt):
                yield w[len(opt) :].lstrip("=")
                break
        else:
            if w.startswith("-") and "=" in w:
                yield w.split("=", 1)[1]


def _relative_paths(cflags):
    return any(p and not os.path.isabs(p) for p in _flag_paths(cflags))


def _flag_files(cflags):
    """``[[path, sha256], ...]`` of the files flags name (see _flag_paths)."""
    out = []
    for p in _flag_paths(cflags):
        if p and os.path.isfile(p):
            try:
                out.append([p, _digest(p)])
            except OSError:
                out.append([p, None])
    return out


@dataclass
class _Plan:
    name: str
    sources: list  # [(path as given to the compiler, lang)]
    compilers: dict  # lang -> compiler.Compiler
    link_lang: str
    cflags: list
    include_flags: list
    define_flags: list
    link_flags: list
    header: str | None
    cdef: str | None
    key: str = ""  # the input key (see the module documentation)
    inline: tuple | None = None  # (file name, code) for inline()


def _plan(sources, name, lang, cflags, include_dirs, libraries, library_dirs, defines, header, cdef, inline_code=None):
    if lang is not None:
        low = str(lang).lower()
        if low not in _LANG_ALIASES:
            raise ValueError(f"lang must be 'c' or 'c++', got {lang!r}")
        lang = _LANG_ALIASES[low]
    cflags = shlex.split(cflags) if isinstance(cflags, str) else [os.fspath(f) for f in cflags]
    include_dirs = [os.path.abspath(os.fsdecode(d)) for d in _as_list(include_dirs, "include_dirs")]
    library_dirs = [os.path.abspath(os.fsdecode(d)) for d in _as_list(library_dirs, "library_dirs")]
    libraries = [os.fsdecode(x) for x in _as_list(libraries, "libraries")]
    if cdef is not None and not isinstance(cdef, str):
        raise TypeError(f"cdef must be a string of C declarations, got {type(cdef).__name__}")

    srcs = []
    if inline_code is None:
        paths = [os.fsdecode(s) for s in _as_list(sources, "sources")]
        if not paths:
            raise ValueError("build() needs at least one source file")
        for p in paths:
            if not os.path.isfile(p):
                raise FileNotFoundError(f"source file not found: {p}")
            srcs.append((p, _lang_of(p, lang)))
        if name is None:
            # a file name in any script or encoding: its library name is ASCII
            name = re.sub(r"[^A-Za-z0-9_.+-]", "_", Path(paths[0]).stem)
            if not name or not re.match(r"[A-Za-z0-9_]", name):
                name = "_" + name
    if name is None:
        raise ValueError("a name is needed")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*", name):
        raise ValueError(f"library name {name!r}: use letters, digits, '_', '.', '+' and '-'")
    if header is not None:
        header = os.fsdecode(header)
        if not os.path.isfile(header):
            raise FileNotFoundError(f"header not found: {header}")

    link_flags = [f"-L{d}" for d in library_dirs]
    if sys.platform != "win32":
        link_flags += [f"-Wl,-rpath,{d}" for d in library_dirs]
    link_flags += [f"-l{x}" for x in libraries]
    plan = _Plan(
        name=name,
        sources=srcs,
        compilers={},
        link_lang="c",
        cflags=cflags,
        include_flags=[f"-I{d}" for d in include_dirs],
        define_flags=["-D" + d for d in macro_definitions(defines)],
        link_flags=link_flags,
        header=header,
        cdef=cdef,
    )
    if inline_code is not None:
        ilang = lang or "c"
        plan.inline = (f"{name}{'.cpp' if ilang == 'c++' else '.c'}", inline_code)
        langs = {ilang}
    else:
        langs = {lg for _, lg in srcs}
    if header is not None:
        langs.add("c")  # the header is read as C
    plan.compilers = {lg: compiler.find(lg) for lg in sorted(langs)}
    plan.link_lang = (
        "c++" if "c++" in {lg for _, lg in srcs} or (plan.inline and plan.inline[0].endswith(".cpp")) else "c"
    )
    if plan.link_lang not in plan.compilers:
        plan.compilers[plan.link_lang] = compiler.find(plan.link_lang)

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
        # Content, not paths: where the sources are (and the working directory) matters
        # only through the files the compiler reads, which each result records.
        "sources": [[lg, _digest(p)] for p, lg in srcs],
        "inline": [plan.inline[0], hashlib.sha256(inline_code.encode("utf-8", "surrogatepass")).hexdigest()]
        if plan.inline
        else None,
        "compilers": {lg: [list(c.cmd), c.path, c.version, compiler.identity(lg)] for lg, c in plan.compilers.items()},
        "cflags": cflags,
        # What cflags name that the compiler's dependency output does not list: response
        # files, linker scripts and version maps; and, when a path in them is relative,
        # the directory it is relative to.
        "flag_files": _flag_files(cflags),
        "cwd": os.getcwd() if _relative_paths(cflags) else None,
        "include_dirs": include_dirs,
        "defines": plan.define_flags,
        "libraries": libraries,
        "library_dirs": library_dirs,
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
        raise BuildError(
            f"{what} failed (exit status {proc.returncode})", command=cmd, output=output, returncode=proc.returncode
        )
    return proc


def _compile_entry(plan, tmp):
    """Compile and link into ``tmp``; return (library path, declarations, record).

    The record (see :mod:`ndffi.building.cache`) lists the files the compiler read, from the
    ``-MD`` dependency output of every compile and preprocess command."""
    sources = list(plan.sources)
    if plan.inline:
        path = tmp / plan.inline[0]
        path.write_text(plan.inline[1], encoding="utf-8", errors="surrogateescape")
        sources = [(str(path), "c++" if plan.inline[0].endswith(".cpp") else "c")]
    extract = plan.cdef is None and plan.header is None
    common = plan.include_flags + plan.define_flags

    jobs = []  # (what, cmd, source, aux path or None)
    objects, depfiles = [], []

    def deps_flags():
        depfiles.append(tmp / f"{len(depfiles)}.d")
        return ["-MD", "-MF", str(depfiles[-1]), "-MT", "ndffi"]

    for i, (src, lg) in enumerate(sources):
        comp = plan.compilers[lg]
        obj = tmp / f"{i}.o"
        objects.append(str(obj))
        arg = _argument_path(src)
        cmd = (
            list(comp.cmd) + _base_flags() + plan.cflags + common + deps_flags() + ["-c", "-x", lg, arg, "-o", str(obj)]
        )
        aux = None
        if extract and lg == "c" and comp.is_gcc:
            aux = tmp / f"{i}.aux"
            cmd += ["-aux-info", str(aux)]
        jobs.append(("compile", cmd, src, aux))
        if extract:
            jobs.append(
                ("preprocess", list(comp.cmd) + plan.cflags + common + deps_flags() + ["-E", "-x", lg, arg], src, None)
            )
    if plan.header is not None:
        comp = plan.compilers["c"]
        jobs.append(
            (
                "preprocess",
                list(comp.cmd) + plan.cflags + common + deps_flags() + ["-E", "-x", "c", _argument_path(plan.header)],
                plan.header,
                None,
            )
        )

    log.info("compiling %s into %s", ", ".join(os.path.basename(s) for s, _ in sources), _library_filename(plan.name))
    started = _fs_now(tmp)

    def run(job):
        what, cmd, src, _aux = job
        log.debug("%s", shlex.join(cmd))
        return _check(
            compiler.run(cmd),
            cmd,
            f"compiling {os.path.basename(src)}" if what == "compile" else f"preprocessing {os.path.basename(src)}",
            tmp,
        )

    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(run, jobs))  # the first failure is raised here

    lib_path = tmp / _library_filename(plan.name)
    link = plan.compilers[plan.link_lang]
    link_cmd = list(link.cmd) + ["-shared"] + plan.cflags + objects + ["-o", str(lib_path)] + plan.link_flags
    # The archives the link copies code from are dependencies too (libfoo.a rebuilt).
    link_deps = tmp / "link.d"
    linked = None
    tracing = sys.platform.startswith("linux")
    while True:
        cmd = link_cmd + ([f"-Wl,--dependency-file={link_deps}"] if tracing else [])
        log.debug("%s", shlex.join(cmd))
        proc = compiler.run(cmd)
        if proc.returncode and tracing and "dependency-file" in (proc.stderr or ""):
            tracing = False  # a linker without it: the result is not cached
            continue
        _check(proc, cmd, f"linking {lib_path.name}", tmp)
        break
    if tracing:
        try:
            linked = _build_cache.link_inputs(link_deps.read_bytes(), _toolchain_dirs(link))
        except OSError:
            linked = None

    langs = {
        src: _lang_of(src, None if src == plan.header else dict(sources).get(src))
        for what, _cmd, src, _aux in jobs
        if what == "preprocess"
    }
    deps = _build_cache.dependencies(depfiles, tmp, started, plan, linked or ())
    if linked is None and (
        plan.link_flags or any(f.startswith(("-l", "-L", "-Wl")) or f.endswith((".a", ".o")) for f in plan.cflags)
    ):
        deps = None  # what the link read is not known: never reused
    searches = []
    for lg in sorted({lg for _, lg in sources} | ({"c"} if plan.header else set())):
        cmd = list(plan.compilers[lg].cmd) + plan.cflags + common + ["-E", "-v", "-x", lg, os.devnull, "-o", os.devnull]
        proc = compiler.run(cmd)
        searches.append(parse_search_list(proc.stderr or ""))
    absent = absences(deps, searches, plan.cflags + common, plan, started)
    declarations, warning, cxx_linkage = _declscan.declarations(plan, jobs, results, lib_path, langs)
    record = {
        "format": _FORMAT,
        "name": plan.name,
        "key": plan.key,
        "library": lib_path.name,
        "deps": deps if absent is not None else None,
        "absent": absent or [],
        "declarations": declarations,
        "warning": warning,
        "cxx_linkage": cxx_linkage,
        "sources": [os.path.abspath(s) for s, _ in plan.sources] or [plan.inline[0]],
        "commands": [cmd for _, cmd, _, _ in jobs] + [link_cmd],
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return lib_path, declarations, record


_toolchain: dict = {}


def _toolchain_dirs(comp):
    """The compiler's own library search list (``-print-search-dirs``): the toolchain's
    and the system's libraries, whose archives are not a build's dependencies."""
    key = tuple(comp.cmd)
    if key not in _toolchain:
        proc = compiler.run(list(comp.cmd) + ["-print-search-dirs"])
        dirs = []
        for line in (proc.stdout or "").splitlines():
            if line.startswith("libraries:"):
                dirs = [d for d in line.split("=", 1)[-1].split(os.pathsep) if d]
        _toolchain[key] = dirs
    return _toolchain[key]


def _argument_path(path):
    """``path`` as a compiler argument: a relative name starting with '-' is not an option."""
    return os.path.join(os.curdir, path) if path.startswith("-") else path


def _fs_now(directory):
    """The file system's clock now (the modification time of a new file): a file it
    stamps later than this was changed while the compiler ran."""
    probe = directory / ".started"
    probe.touch()
    return probe.stat().st_mtime_ns


# ---------------------------------------------------------------------------------------
# Entry points


@dataclass
class Built:
    """What a build produced: the library file (the one to load: in the cache, or in a
    private temporary directory when the cache is not used), the declarations for it,
    whether the compiler ran, the directory holding both, and the files written to
    ``output_dir`` (library, header) when one was given."""

    library: Path
    declarations: str
    compiled: bool
    entry: Path
    name: str
    warning: str | None = None
    cxx_linkage: list = field(default_factory=list)  # [name, file, line] of C++-linkage functions
    output_library: Path | None = None
    output_header: Path | None = None


def compile_library(
    sources=(),
    *,
    name=None,
    lang=None,
    cflags=(),
    include_dirs=(),
    libraries=(),
    library_dirs=(),
    defines=None,
    header=None,
    cdef=None,
    output_dir=None,
    force=False,
    _inline_code=None,
):
    """Build (or find in the cache) and return a :class:`Built`; loads nothing."""
    if isinstance(cdef, str) and header is None:
        from .._ndffi import Namespace

        Namespace().cdef(cdef)  # a CDefError before the compiler runs
    plan = _plan(
        sources, name, lang, cflags, include_dirs, libraries, library_dirs, defines, header, cdef, _inline_code
    )
    root = _cache.store("build")
    hit = _build_cache.find(root, plan, _FORMAT) if root is not None else None
    if hit is not None:
        entry, record = hit
        compiled = False
    else:
        entry, record, compiled = _build_entry(plan, root)
    built = Built(
        entry / record["library"],
        _build_output.declarations_text(record["declarations"], cdef),
        compiled,
        entry,
        plan.name,
        record.get("warning"),
        record.get("cxx_linkage", []),
    )
    if output_dir is not None:
        built.output_library, built.output_header = _build_output.write_outputs(built, output_dir, force)
    return built


def _build_entry(plan, root):
    """Compile into a new result; returns (directory, record, whether this build put
    it there).  Without a trusted cache (``root`` None) the result stays in a private
    temporary directory of this process."""
    if root is not None:
        _cache.sweep(root)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{plan.name}-", dir=root))
        except OSError as exc:  # a read-only cache: build without it
            log.info("cannot write into the cache directory %s (%s): not caching", root, exc)
            root = None
    if root is None:
        tmp = _cache.private_tempdir(f"ndffi-build-{plan.name}-")
    try:
        lib_path, _declarations, record = _compile_entry(plan, tmp)
        for leftover in tmp.iterdir():
            if leftover.suffix in (".o", ".aux", ".d") or leftover.name == ".started":
                leftover.unlink()
        os.chmod(lib_path, 0o755)  # whatever the umask: a cache entry nobody else writes
        record["library_sha256"] = _cache.file_digest(lib_path)
        if not _cache.write_record(tmp / _build_cache.RECORD, json.dumps(record).encode()):
            raise BuildError(f"cannot write into the build directory {tmp}")
        # for people: how it was built (ndffi reads only the record)
        about = {k: record[k] for k in ("name", "key", "library", "sources", "commands", "built", "warning")}
        atomic_write(tmp / "build.json", json.dumps(about, indent=1), mode=0o600)
        if root is None:
            return tmp, record, True
        name = _build_cache.result_name(plan, record["deps"])
        try:
            entry, theirs = _build_cache.install(tmp, root, name, _FORMAT)
        except OSError as exc:
            raise BuildError(str(exc)) from None
        if theirs is None:
            _build_cache.prune(root, plan)
        return entry, theirs or record, theirs is None
    finally:
        if root is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _raised_here(error):
    """``error`` with its traceback cut to where it is raised again: build() and inline()
    raise a BuildError from the caller's line, with none of the compiler runs, worker
    threads (concurrent.futures) or cache steps that led to it; the message holds what
    the compiler said."""
    return error.with_traceback(None)


def _load(built):
    """Load ``built``: the copy in ``output_dir`` when the loader would load that file,
    else (a build of that path is already loaded) the cache's, whose path is unique to
    its content: a rebuild in the same process always runs the new code."""
    if built.warning:
        warnings.warn(built.warning, BuildWarning, stacklevel=3)
    path = built.library
    if built.output_library is not None and loads_as_is(str(built.output_library.absolute())):
        path = built.output_library
    try:
        lib = load(str(path.absolute()))
    except LibraryNotFound as exc:
        reason = "; ".join(why for _, why in exc.tried) or str(exc)
        hint = ""
        if "undefined symbol" in reason:
            hint = (
                " (a symbol the code uses is in a library that was not linked: "
                "add it with libraries=[...] and library_dirs=[...])"
            )
        raise BuildError(f"{built.library} was built but cannot be loaded: {reason}{hint}") from exc
    if built.cxx_linkage:
        # a built library's only other knowledge: which of its functions C cannot call
        lib.__dict__["_declarations"] = _CxxLinkage(built.cxx_linkage)
    if built.declarations.strip():
        lib.cdef(built.declarations)
    return lib


class _CxxLinkage(Declarations):
    """Says, for a function of the sources defined with C++ linkage, why it is not an
    attribute of the built library."""

    def __init__(self, functions):
        self._where = {name: (file, line) for name, file, line in functions}

    def why_missing(self, name):
        if name not in self._where:
            return None
        file, line = self._where[name]
        return (
            f"{name}() at {file}:{line} has C++ linkage (its symbol is mangled), so it cannot be "
            f'called through a C declaration: define it with C linkage (prefix its definition with extern "C", '
            f'or put it inside an extern "C" {{ }} block)'
        )


def build(
    sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    name: str | None = None,
    lang: str | None = None,
    cflags: str | Iterable[str] = (),
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    libraries: Iterable[str] = (),
    library_dirs: Iterable[str | os.PathLike[str]] = (),
    defines: Any = None,
    header: str | os.PathLike[str] | None = None,
    cdef: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> "Library":
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
    again compiles nothing, and a changed source or header (however it is included)
    builds and loads the new code, in this process too.  ``output_dir``: also write
    ``libNAME.so`` and its declarations ``NAME.h`` (a C header that compiles on its own
    and that ``cdef()`` reads) there; a file there that ndffi did not write is never
    replaced (:class:`~ndffi.building.output.OutputExists`, a ``FileExistsError``) unless
    ``force=True``.  The copy there is loaded, unless an earlier build of that path is
    loaded already: then the cache's library is, whose path is unique to its content.

    Raises :class:`BuildError` (a ``RuntimeError``) with the compiler's diagnostics and
    the command line when compiling or linking fails or no compiler is found,
    ``FileNotFoundError`` for a missing source, :class:`~ndffi.CDefError` for bad
    ``cdef`` text.
    """
    try:
        return _load(
            compile_library(
                sources,
                name=name,
                lang=lang,
                cflags=cflags,
                include_dirs=include_dirs,
                libraries=libraries,
                library_dirs=library_dirs,
                defines=defines,
                header=header,
                cdef=cdef,
                output_dir=output_dir,
                force=force,
            )
        )
    except BuildError as error:
        raise _raised_here(error) from error.__cause__


def inline(
    code: str,
    *,
    name: str | None = None,
    lang: str | None = None,
    cflags: Iterable[str] = (),
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    libraries: Iterable[str] = (),
    library_dirs: Iterable[str | os.PathLike[str]] = (),
    defines: Any = None,
    header: str | os.PathLike[str] | None = None,
    cdef: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> "Library":
    """:func:`build` for source code in a string::

        twice = ndffi.inline("int twice(int x) { return 2 * x; }").twice

    ``lang`` defaults to C.  ``#include "x.h"`` in the code is searched in
    ``include_dirs``.  The default ``name`` is ``inline_`` plus a hash of the code;
    compiler messages name the file ``NAME.c`` (``NAME.cpp`` for C++).
    """
    if not isinstance(code, str):
        raise TypeError(f"inline() takes the source code as a str, got {type(code).__name__}")
    if name is None:
        name = "inline_" + hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    try:
        return _load(
            compile_library(
                (),
                name=name,
                lang=lang,
                cflags=cflags,
                include_dirs=include_dirs,
                libraries=libraries,
                library_dirs=library_dirs,
                defines=defines,
                header=header,
                cdef=cdef,
                output_dir=output_dir,
                force=force,
                _inline_code=code,
            )
        )
    except BuildError as error:
        raise _raised_here(error) from error.__cause__
