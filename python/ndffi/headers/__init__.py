"""Real C headers: ``ndffi.load("z", header="zlib.h")``.

A header is parsed by libclang (:mod:`ndffi.headers.translate`) and translated into C
declaration text, which ndffi's own parser then declares: one type model, one parser.
The result, the *model*, is cached on disk, keyed by the content of every file the
header included, the include directories, the defines and the libclang version; a
cache hit does not load libclang (this module never imports it).

The model is a JSON-ready dict:

``text``            types and enums, for ``Namespace.cdef``
``declarations``    {function or variable: its declaration}, declared when first used
``defines``         {constant: its ``#define`` line}, declared when first used
``functions``, ``variables``, ``types``, ``constants``   the header's own names
``pointers``        {name: [C type, address]}: macros that are pointers (SQLITE_TRANSIENT)
``function_macros`` {name: {params, body, forward}}; ``forward`` is {target, args} when
                    the macro is one call of a declared function with constant arguments
``macros``          {name: expansion} of object-like macros that are not constants
``expressions``     {name: tree} of object-like macros that call the library's functions or
                    read its variables (HDF5's ``H5T_NATIVE_INT``: ``(H5open(),
                    H5T_NATIVE_INT_g)``), evaluated each time they are used
``aliases``         {function or variable: symbol} where an asm label or a macro naming it
                    (``#define gmp_errno __gmp_errno``) binds another symbol
``skipped``         {name: why it is not declared}
``signatures``      {function: [result, [parameters], variadic, [names]]}, for stubs
``locations``       {name: [file, line]}, for docstrings
``files``           every file the header included
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time

from .._support import cache as _cache
from ..library import Library, made

__all__ = ["HeaderError", "HeaderNotFound", "LayoutMismatch", "HeaderLibrary", "import_header",
           "inspect_library", "format_inspection", "cache_dir", "compiler_include_dirs"]

FORMAT = 5   # of the cache entries; changes with the model's shape


class HeaderError(ImportError):
    """A C header could not be imported: clang reports errors in it."""

    def __init__(self, header, errors, args=()):
        self.header = header
        self.errors = list(errors)
        shown = "\n".join("  " + e for e in self.errors[:20])
        more = f"\n  ... and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        hint = ""
        if any("file not found" in e for e in self.errors):
            search = [a[2:] for a in args if a.startswith("-I")] + [
                args[i + 1] for i, a in enumerate(args) if a == "-isystem" and i + 1 < len(args)]
            hint = ("\nsearched (add directories with include_dirs=[...]): " + ", ".join(search))
        needs = _headers_needed(self.errors)
        if needs:
            hint += ("\nthe header uses names it does not include; include their headers first: "
                     "clang_args=[" + ", ".join(f'"-include", "{h}"' for h in needs) + "]"
                     " (python -m ndffi: " + " ".join(f"--include {h}" for h in needs) + ")")
        super().__init__(f"cannot import header {header!r}: clang reports "
                         f"{len(self.errors)} error(s):\n{shown}{more}{hint}")


# Where the standard names a header leaves undeclared are declared.
_STANDARD_NAMES = {
    "stddef.h": ("size_t", "ptrdiff_t", "NULL", "wchar_t", "max_align_t", "offsetof"),
    "stdint.h": tuple(f"{p}int{n}_t" for p in ("", "u") for n in (8, 16, 32, 64))
    + ("intptr_t", "uintptr_t", "intmax_t", "uintmax_t", "SIZE_MAX", "INT32_MAX", "UINT32_MAX"),
    "stdbool.h": ("bool", "true", "false"),
    "stdio.h": ("FILE",),
    "sys/types.h": ("ssize_t", "off_t", "pid_t"),
    "stdarg.h": ("va_list",),
    "time.h": ("time_t", "clock_t"),
}


def _headers_needed(errors):
    """The standard headers that declare the names clang's errors say are unknown."""
    unknown = set()
    for e in errors:
        m = re.search(r"(?:unknown type name|use of undeclared identifier) '(\w+)'", e)
        if m:
            unknown.add(m.group(1))
    return [h for h, names in _STANDARD_NAMES.items() if unknown & set(names)]


class HeaderNotFound(HeaderError):
    """The header is not in the current directory nor in any include directory."""

    def __init__(self, header, tried):
        self.header = header
        self.errors = []
        self.tried = list(tried)
        ImportError.__init__(self, f"header {header!r} not found; looked for:\n" +
                             "\n".join("  " + t for t in self.tried) +
                             "\n(add its directory with include_dirs=[...])")


class LayoutMismatch(RuntimeError):
    """Internal error: ndffi's layout of a struct differs from clang's.  A bug in one of
    them; the message names the type and the first difference."""

    def __init__(self, type_name, detail):
        self.type_name = type_name
        super().__init__(f"internal error: the layout ndffi computes for '{type_name}' differs "
                         f"from clang's: {detail} (please report it, with the header)")


# ---- where things are -----------------------------------------------------------------

def cache_dir():
    """The directory of the header cache, as a string: :func:`ndffi._support.cache.cache_dir`
    (``$NDFFI_CACHE_DIR`` if set, else the platform's cache directory plus ``ndffi``);
    the models are ``*.model`` files in it."""
    return str(_cache.cache_dir())


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
                    return name[len("libclang-"):].rsplit(".", 1)[0]
        except OSError:
            pass
        try:   # not from PyPI: the module's identity stands for its version
            st = os.stat(os.path.join(pkg, "cindex.py"))
            return f"unknown-{st.st_size}-{st.st_mtime_ns}"
        except OSError:
            return "unknown"
    return None


def _compiler():
    """(command, its path, its identity) of the C compiler: $CC or cc."""
    cc = os.environ.get("CC") or "cc"
    exe = cc.split()[0]
    path = exe if os.path.isabs(exe) else None
    if path is None:
        for d in os.environ.get("PATH", os.defpath).split(os.pathsep):
            candidate = os.path.join(d or ".", exe)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                path = candidate
                break
    try:
        st = os.stat(path) if path else None
        ident = [cc, path, st.st_size, st.st_mtime_ns] if st else [cc]
    except OSError:
        ident = [cc]
    return cc, ident


_compiler_dirs = {}
_compiler_lock = threading.Lock()


def compiler_include_dirs(cc=None):
    """The C compiler's ``#include <...>`` search list, with its own directory of
    built-in headers (``stddef.h``, ``stdarg.h``): libclang's wheel has none of its own,
    so clang is given the system compiler's.  Asked once per compiler (``cc -E -v``) and
    remembered in the cache directory."""
    cc_cmd, ident = _compiler()
    cc = cc or cc_cmd
    key = json.dumps(ident if cc == cc_cmd else [cc])
    with _compiler_lock:
        if key in _compiler_dirs:
            return list(_compiler_dirs[key])
    where = _cache.store("compilers")
    path = where / f"include-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json" if where else None
    try:
        dirs = json.loads(_cache.read_record(path)) if path else None
        if isinstance(dirs, list) and all(isinstance(d, str) and os.path.isdir(d) for d in dirs):
            with _compiler_lock:
                _compiler_dirs[key] = dirs
            return list(dirs)
    except (TypeError, ValueError):
        pass
    dirs = _ask_compiler(cc)
    with _compiler_lock:
        _compiler_dirs[key] = list(dirs)
    if path:
        _cache.write_record(path, json.dumps(dirs).encode())
    return dirs


def _ask_compiler(cc):
    import subprocess

    dirs = []
    try:
        out = subprocess.run(cc.split() + ["-E", "-v", "-x", "c", os.devnull],
                             capture_output=True, text=True, timeout=60)
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
        builtin = subprocess.run(cc.split() + ["-print-file-name=include"],
                                 capture_output=True, text=True, timeout=60).stdout.strip()
        if builtin and os.path.isdir(builtin) and os.path.normpath(builtin) not in dirs:
            dirs.insert(0, os.path.normpath(builtin))
    except (OSError, subprocess.SubprocessError):
        pass
    if not dirs:
        dirs = [d for d in ("/usr/local/include", "/usr/include") if os.path.isdir(d)]
    return dirs


def resolve_header(header, include_dirs, system_dirs):
    """The path of ``header``: as given (absolute, or relative to the current
    directory), else found in ``include_dirs`` and then the system directories."""
    p = os.path.expanduser(os.fspath(header))
    if os.path.isabs(p):
        if os.path.isfile(p):
            return os.path.normpath(p)
        raise HeaderNotFound(header, [p])
    tried = [os.path.abspath(p)]
    if os.path.isfile(p):
        return os.path.abspath(p)
    for d in list(include_dirs) + list(system_dirs):
        candidate = os.path.join(d, p)
        tried.append(os.path.abspath(candidate))
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    raise HeaderNotFound(header, tried)


def _defines_list(defines):
    if not defines:
        return []
    if isinstance(defines, str):
        return [defines]
    if isinstance(defines, dict):
        out = []
        for k, v in defines.items():
            if v is True or v is None:
                out.append(str(k))
            elif v is not False:
                out.append(f"{k}={v}")
        return out
    return [str(d) for d in defines]


def clang_args(include_dirs, defines, system_dirs, flags=()):
    """The compiler arguments of a header's translation unit."""
    args = ["-x", "c", "-nostdinc"]
    args += ["-I" + os.path.abspath(d) for d in include_dirs]
    args += ["-D" + d for d in _defines_list(defines)]
    for d in system_dirs:
        args += ["-isystem", d]
    return args + list(flags)


# ---- the cache ----------------------------------------------------------------------

_translator = []


def _translator_id():
    """Identity of the translation code (its files' sizes and times), so that a changed
    ndffi does not reuse what an older one translated."""
    if not _translator:
        here = os.path.dirname(os.path.abspath(__file__))
        for name in ("translate.py", "macros.py", "types.py", "libclang.py"):
            try:
                st = os.stat(os.path.join(here, name))
                _translator.append([name, st.st_size, st.st_mtime_ns])
            except OSError:
                _translator.append([name])
    return _translator


def _cache_key(header, include_dirs, defines, flags):
    from .. import __version__

    h = os.fspath(header)
    key = [FORMAT, __version__, _translator_id(), h, "" if os.path.isabs(h) else os.getcwd(),
           [os.path.abspath(d) for d in include_dirs], _defines_list(defines), list(flags),
           libclang_version(), _compiler()[1], sys.platform, sys.version_info[:2]]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:40]


# Entries are records (see ndffi._support.cache) of marshal data (Python's own format for .pyc
# files: twice as fast to read as JSON, and it runs no code; the Python version is part of
# the key).  marshal is not safe against crafted input: a record is only loaded when it is
# a trusted file of a trusted directory whose length and SHA-256 match what was written.
def _cache_read(key):
    import marshal

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
        model["defines"] = dict(zip(names, lines.split("\n"))) if names else {}
        for path, digest, stamp in entry["hashes"]:
            if _stamp(path) != stamp and _cache.file_digest(path) != digest:
                return None   # a file the header includes changed: import it again
        if any(os.path.lexists(path) for path in entry["absent"]):
            return None   # a header now found before one it included: import it again
        return model
    except Exception:   # anything in a record ndffi did not write is a miss  # noqa: BLE001
        return None


def _absent_files(header, model, include_dirs, system_dirs, flags, started):
    """Where a file would have changed the import and none was (see
    :func:`ndffi.building.cache.absences`): earlier in the search order than each file
    included, beside the including files, what ``__has_include`` looked for, and the
    header itself in the current directory; None when one appeared meanwhile."""
    from types import SimpleNamespace

    from ..building import cache as _build_cache

    dirs = [os.path.abspath(d) for d in include_dirs] + list(system_dirs)
    files = [os.path.abspath(p) for p in model["files"]]
    absent = _build_cache.absences([[p] for p in files], [([], dirs)],
                                   ["-I" + d for d in dirs[:len(include_dirs)]] + list(flags),
                                   SimpleNamespace(sources=[(model["header"], "c")], header=None),
                                   started)
    if absent is None:
        return None
    out = [p for p, _root in absent]
    if not os.path.isabs(os.fspath(header)) and not os.path.lexists(os.fspath(header)):
        out.append(os.path.abspath(os.fspath(header)))   # looked for before include_dirs
    return out


# What binding a library to its header needs; the rest of a cached model (the names of
# each kind, where each is declared, signatures for stubs: half its size) is read when
# asked for (complete()).
_CORE = frozenset(("text", "declarations", "defines", "aliases", "pointers", "function_macros",
                   "expressions", "header", "clang"))
_MORE = "_more"


def complete(model):
    """``model`` with all its parts (a cached one is read in two steps)."""
    more = model.pop(_MORE, None)
    if more is not None:
        import marshal

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


def _cache_write(key, model, absent):
    import marshal

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
    entry = {"format": FORMAT, "hashes": [[p, _cache.file_digest(p), _stamp(p)] for p in model["files"]],
             "absent": absent, "model": core, "more": marshal.dumps(more)}
    _cache.write_record(where / (key + ".model"), marshal.dumps(entry))
    _cache.sweep(where)


# ---- import -------------------------------------------------------------------------

_translate_lock = threading.Lock()


def import_header(header, include_dirs=(), defines=None, flags=(), *, cache=True, whole=True):
    """The model of ``header`` (see the module docstring): from the cache when no file
    it includes changed, else from libclang (and then cached).

    ``include_dirs`` are searched before the system's (``-I``); ``defines`` is a dict
    ``{"NAME": value}`` (``True``/``None`` for a bare ``-DNAME``) or a list of
    ``"NAME=value"``; ``flags`` are more compiler arguments."""
    include_dirs = [os.fspath(d) for d in (include_dirs or ())]
    flags = list(flags or ())
    key = _cache_key(header, include_dirs, defines, flags) if cache else None
    if cache:
        model = _cache_read(key)
        if model is not None:
            return complete(model) if whole else model
    if libclang_version() is None:
        raise ImportError(NEEDS_LIBCLANG)
    # Ask the compiler for its include directories while libclang loads.
    dirs = {}
    asker = threading.Thread(target=lambda: dirs.setdefault("system", compiler_include_dirs()))
    asker.start()
    try:
        from . import translate as _translate
    finally:
        asker.join()
    system_dirs = dirs.get("system") or compiler_include_dirs()
    started = time.time_ns() - 50_000_000   # file times lag the clock by a tick
    path = resolve_header(header, include_dirs, system_dirs)
    args = clang_args(include_dirs, defines, system_dirs, flags)
    with _translate_lock:
        model = _translate.translate(path, args, [os.path.abspath(d) for d in include_dirs],
                                     system_dirs, check=check_model)
    model.pop("clang_layouts", None)
    model["header"] = path
    model["clang"] = libclang_version()
    if cache:
        _cache_write(key, model, _absent_files(header, model, include_dirs, system_dirs, flags,
                                               started))
    return model


def check_model(model):
    """Declare the model with ndffi's parser and compare the layout of every struct,
    union and enum with clang's; raises :class:`LayoutMismatch`.

    A declaration the parser refuses is dropped (and listed in ``skipped``), so that
    one unusual declaration does not keep the rest of a header from loading."""
    from .._ndffi import CDefError, Namespace

    lines = model["text"].rstrip("\n").split("\n")
    owners = [None] * len(lines)
    for part in ("declarations", "defines"):
        for name, text in model[part].items():
            lines.append(text)
            owners.append((part, name))
    for _attempt in range(500):
        ns = Namespace()
        try:
            ns.cdef("\n".join(lines))
            break
        except CDefError as exc:
            i = max(0, min(exc.line - 1, len(lines) - 1))
            owner = owners[i]
            if owner is not None:
                del lines[i], owners[i]
                del model[owner[0]][owner[1]]
                model["skipped"][owner[1]] = f"not accepted by ndffi's parser: {exc}"
            else:
                bad = _drop_declaration(lines, owners, i)
                model["skipped"][_declared_name(bad)] = f"not accepted by ndffi's parser: {exc}"
    else:
        raise RuntimeError("internal error: ndffi's parser refuses too many declarations "
                           "of this header")
    model["text"] = "\n".join(ln for ln, o in zip(lines, owners) if o is None) + "\n"
    model["functions"] = [n for n in model["functions"] if n in model["declarations"]]
    model["variables"] = [n for n in model["variables"] if n in model["declarations"]]
    model["types"] = [n for n in model["types"] if ns.typedef(n) is not None]
    model["constants"] = [n for n in model["constants"] if ns.constant(n) is not None]
    for spelling, layout in model["clang_layouts"].items():
        try:
            t = ns.type(spelling)
        except CDefError:
            continue   # dropped above
        _compare(spelling, t, layout, spelling)


def _drop_declaration(lines, owners, i):
    """Remove the declaration on line ``i`` (with the #pragma pack lines around it)."""
    text = lines[i]
    if i > 0 and lines[i - 1].startswith("#pragma pack(push") and i + 1 < len(lines) \
            and lines[i + 1] == "#pragma pack(pop)":
        del lines[i - 1:i + 2], owners[i - 1:i + 2]
    else:
        del lines[i], owners[i]
    return text


_C_WORDS = frozenset("""void char short int long float double signed unsigned _Bool struct union
enum const volatile restrict typedef extern static inline""".split())


def _declared_name(text):
    """The name a line of declaration text declares (for the list of skipped names)."""
    import re

    if text.startswith("#define"):
        return text.split()[1]
    if text.startswith(("struct", "union", "enum")) and "{" in text:
        return " ".join(re.findall(r"[A-Za-z_]\w*", text.split("{")[0])[:2])
    for m in re.finditer(r"([A-Za-z_]\w*)\s*[()\[;,:]", text):
        if m.group(1) not in _C_WORDS:
            return m.group(1)
    return text[:60]


def _compare(name, t, layout, where):
    size, align, members = layout
    if t.size != size or t.alignment != align:
        raise LayoutMismatch(name, f"{where}: size {t.size}, alignment {t.alignment} in ndffi; "
                                   f"size {size}, alignment {align} in clang")
    if members is None:
        return
    fields = t.fields or []
    if len(fields) != len(members):
        raise LayoutMismatch(name, f"{where}: {len(fields)} members in ndffi, {len(members)} in clang")
    for (fname, ftype, offset, bits), (cname, cbit, cwidth, nested) in zip(fields, members):
        bit = offset * 8 + (bits[0] if bits else 0)
        width = bits[1] if bits else -1
        if fname != cname or bit != cbit or width != cwidth:
            w = f", width {width}" if width >= 0 else ""
            cw = f", width {cwidth}" if cwidth >= 0 else ""
            raise LayoutMismatch(name, f"{where}: member '{fname or '<anonymous>'}' at bit {bit}{w} "
                                       f"in ndffi; '{cname or '<anonymous>'}' at bit {cbit}{cw} in clang")
        if nested is not None:
            _compare(name, ftype, nested, f"{where}.{fname or '<anonymous>'}")


# ---- libraries with a header ---------------------------------------------------------

_lazy_lock = threading.RLock()

class HeaderLibrary(Library):
    """A :class:`~ndffi.Library` whose declarations come from a C header (made by
    ``ndffi.load(..., header=...)``).  Its types and constants are declared at once,
    each function and global variable when it is first used."""

    def __getattr__(self, name):
        if not (name.startswith("__") and name.endswith("__")):
            d = self.__dict__
            if name in d.get("_lazy", ()):
                with _lazy_lock:   # another thread may be declaring it
                    text = d["_lazy"].pop(name, None)
                    if text is not None:
                        Library.cdef(self, text)
                symbol = d["_aliases"].get(name)
                if symbol is not None and name not in d:
                    address = d["_handle"].symbol(symbol)
                    decl = self._ns.decl(name)
                    if address is not None and decl[0] == "function":
                        func = self._ns.function(name, address, d["_handle"], True, d["_use_errno"])
                        d[name] = func
                        made(self, func)
                        return self._promised(name, func)
                    if address is not None:   # a variable by another name: its value now
                        pointer = self._ns.variable(name, address)
                        return pointer if decl[2].kind == "array" else pointer[0]
            tree = d.get("_expressions", {}).get(name)
            if tree is not None:
                return self._evaluate(tree)
        try:
            return Library.__getattr__(self, name)
        except AttributeError:
            model = self.header if "_model" in self.__dict__ else None
            why = None
            if model is not None:
                if name in model["skipped"]:
                    why = f"{name!r} is not declared: {model['skipped'][name]}"
                elif name in model["function_macros"]:
                    m = model["function_macros"][name]
                    why = (f"{name!r} is a function-like macro that does not call a function "
                           f"with constant arguments: #define {name}({', '.join(m['params'])}) "
                           f"{m['body']}")
                elif name in model["types"]:
                    why = f"{name!r} is a type: use lib.types.{name}"
                elif name in model["macros"]:
                    why = f"{name!r} is a macro that is not a constant: #define {name} {model['macros'][name]}"
            if why is None:
                raise
            raise AttributeError(f"{self._label()}: {why}") from None

    def __setattr__(self, name, value):
        with _lazy_lock:
            text = self.__dict__["_lazy"].pop(name, None)
            if text is not None:
                Library.cdef(self, text)
        symbol = self.__dict__["_aliases"].get(name)
        decl = self._ns.decl(name) if symbol is not None else None
        if decl is not None and decl[0] == "variable" and decl[2].kind != "array":
            address = self.__dict__["_handle"].symbol(symbol)
            if address is None:
                raise AttributeError(self._missing_symbol(symbol, decl[1]))
            self._ns.variable(name, address)[0] = value
            return
        Library.__setattr__(self, name, value)

    def _evaluate(self, tree):
        """The value of a macro's expression (see ``expressions`` in the model), as C
        would compute it where the macro is used: its calls made, its variables read."""
        tag = tree[0]
        if tag == "const":
            return tree[1]
        if tag == "seq":
            self._evaluate(tree[1])
            return self._evaluate(tree[2])
        if tag == "deref":
            return self._evaluate(tree[1])[0]
        if tag == "var":
            return getattr(self, tree[1])
        if tag == "addr":
            getattr(self, tree[1])   # declared
            symbol = self.__dict__["_aliases"].get(tree[1], tree[1])
            return self._ns.variable(tree[1], self.__dict__["_handle"].symbol(symbol))
        if tag == "call":
            return c_function(self, tree[1])(*[self._evaluate(a) for a in tree[2]])
        raise ValueError(f"internal error: unknown expression {tag!r}")

    def cdef(self, text, *, release_gil=True):
        self.declare_all()
        return Library.cdef(self, text, release_gil=release_gil)

    def declare_all(self):
        """Declare every function and variable of the header now (they are otherwise
        declared when first used)."""
        with _lazy_lock:
            lazy = self.__dict__["_lazy"]
            if lazy:
                Library.cdef(self, "\n".join(lazy.values()))
                lazy.clear()
        return self

    @property
    def header(self):
        """The model of the header (see :mod:`ndffi.headers`)."""
        return complete(self._model)

    def __dir__(self):
        return sorted(set(Library.__dir__(self)) | set(self.__dict__["_lazy"]))


def header_library(handle, name, use_errno, header, include_dirs=(), defines=None, flags=()):
    """The Library of ``handle`` with the declarations of ``header``."""
    model = import_header(header, include_dirs, defines, flags, whole=False)
    lib = HeaderLibrary(handle, name, use_errno)
    bind(lib, model)
    return lib


def bind(lib, model):
    """Declare ``model`` in HeaderLibrary ``lib``: its types and constants now, its
    functions and variables when first used; the pointer constants and the callable
    function-like macros as attributes."""
    d = lib.__dict__
    d["_model"] = model
    d["_aliases"] = model["aliases"]
    d["_expressions"] = model.get("expressions", {})
    Library.cdef(lib, model["text"])
    lib._record.cdefs.clear()   # another process imports the header again (from its cache)
    d["_lazy"] = dict(model["declarations"])
    d["_lazy"].update(model["defines"])   # parsing thousands of #define lines costs ms
    for name, (ctype, address) in model["pointers"].items():
        d[name] = lib.cast(ctype, address)
    for name, macro in model["function_macros"].items():
        if macro.get("forward"):
            d[name] = macro_function(lib, name, macro)
    return lib


def c_function(lib, name):
    """The C function ``name`` of HeaderLibrary ``lib``, also where a macro of the same
    name stands in its place as the attribute (``#define f(a) f(a, 0)``)."""
    d = lib.__dict__
    func = d.get(name)
    if func is not None and not getattr(func, "__ndffi_macro__", False):
        return func
    if func is None:
        return getattr(lib, name)
    shadowed = d.setdefault("_shadowed", {})
    func = shadowed.get(name)
    if func is None:
        with _lazy_lock:
            text = d["_lazy"].pop(name, None)
            if text is not None:
                Library.cdef(lib, text)
        address = d["_handle"].symbol(d["_aliases"].get(name, name))
        if address is None:
            raise AttributeError(lib._missing_symbol(name, lib._ns.decl(name)[1]))
        func = shadowed[name] = lib._ns.function(name, address, d["_handle"],
                                                 lib._release_gil.get(name, True), d["_use_errno"])
        made(lib, func)
    return func


def constant_value(lib, kind, value):
    """A constant argument of a forwarding macro, as Python passes it."""
    if kind == "string":
        return value.encode("utf-8", "surrogateescape")
    if kind == "pointer":
        return lib.cast(value[0], value[1])
    return value


def macro_function(lib, name, macro):
    """A Python function for a function-like macro that forwards to a C function:
    ``deflateInit(strm, level)`` calls ``deflateInit_(strm, level, ZLIB_VERSION,
    (int)sizeof(z_stream))`` with the constant arguments clang evaluated."""
    forward = macro["forward"]
    target = forward["target"]
    params = list(macro["params"])
    plan = []
    for arg in forward["args"]:
        if arg[0] == "param":
            plan.append((True, arg[1]))
        else:
            plan.append((False, constant_value(lib, arg[1], arg[2])))
    nparams = len(params)

    def call(*args):
        if len(args) != nparams:
            raise TypeError(f"{name}() takes {nparams} argument{'s' if nparams != 1 else ''} "
                            f"({', '.join(params)}), {len(args)} given")
        return c_function(lib, target)(*[args[v] if is_param else v for is_param, v in plan])

    call.__name__ = call.__qualname__ = name
    call.__ndffi_macro__ = True
    call.__doc__ = (f"{name}({', '.join(params)}): the C macro\n\n"
                    f"    #define {name}({', '.join(params)}) {macro['body']}\n\n"
                    f"calling {target}() with its constant arguments as clang evaluates them.")
    return call


# ---- inspect --------------------------------------------------------------------------

def inspect_library(lib_name, header=None, *, dirs=(), include_dirs=(), defines=None, clang_args=()):
    """What a shared library exports against what its header declares.

    Returns a dict: ``library`` (its path), ``exported`` ({name: "function" | "object"}
    from the ELF dynamic symbol table) and, with a header: ``header``, ``functions``
    and ``variables`` ({name: C declaration}), ``declared_but_missing`` and
    ``exported_but_undeclared`` (sorted names), ``function_macros`` ({name: what it
    does}) and ``skipped`` ({name: why it is not declared}).
    :func:`format_inspection` makes it text."""
    from ..loading import elf as _elf
    from ..loading import search as _loader
    from .._ndffi import dlopen

    handle, _ = _loader.open_library(lib_name, dirs, _loader.fresh_opener(lambda p: dlopen(p, False)))
    path = handle.path
    exported = _elf.exported_symbols(path) if path else {}
    report = {"library": path, "header": None, "exported": exported}
    if header is None:
        return report
    lib = header_library(handle, lib_name, False, header, include_dirs, defines, clang_args)
    lib.declare_all()
    model = lib.header
    ns = lib._ns
    functions = {n: ns.decl(n)[1] for n in model["functions"]}
    variables = {n: ns.decl(n)[1] for n in model["variables"]}
    symbol_of = {n: model["aliases"].get(n, n) for n in list(functions) + list(variables)}
    declared = set(symbol_of.values())
    report.update({
        "header": model["header"],
        "functions": functions,
        "variables": variables,
        "declared_but_missing": sorted(n for n, s in symbol_of.items() if s not in exported),
        "exported_but_undeclared": sorted(n for n in exported if n not in declared),
        "function_macros": {
            n: (f"calls {m['forward']['target']}()" if m.get("forward") else f"#define {n}({', '.join(m['params'])}) {m['body']}")
            for n, m in model["function_macros"].items()},
        "skipped": dict(model["skipped"]),
    })
    return report


def format_inspection(report):
    """The text of an :func:`inspect_library` report."""
    exported = report["exported"]
    lines = []
    if report.get("header") is None:
        lines.append(f"{report['library']}: {len(exported)} exported symbols")
        lines += [f"  {exported[n]:9} {n}" for n in sorted(exported)]
        return "\n".join(lines) + "\n"
    functions, variables = report["functions"], report["variables"]
    missing, undeclared = report["declared_but_missing"], report["exported_but_undeclared"]
    lines.append(f"library: {report['library']} ({len(exported)} exported symbols)")
    lines.append(f"header:  {report['header']} ({len(functions)} functions, "
                 f"{len(variables)} variables)")
    lines.append("")
    lines.append(f"declared but missing from the library ({len(missing)}):")
    lines += [f"  {functions.get(n) or variables.get(n)};" for n in missing]
    lines.append(f"exported but not declared by the header ({len(undeclared)}):")
    lines += [f"  {exported[n]:9} {n}" for n in undeclared]
    lines.append("")
    lines.append(f"functions ({len(functions)}):")
    lines += [f"  {functions[n]};{'   [missing]' if n in missing else ''}" for n in sorted(functions)]
    if variables:
        lines.append(f"variables ({len(variables)}):")
        lines += [f"  {variables[n]};{'   [missing]' if n in missing else ''}" for n in sorted(variables)]
    macros = report["function_macros"]
    if macros:
        lines.append(f"function macros ({len(macros)}):")
        lines += [f"  {n}: {macros[n]}" for n in sorted(macros)]
    skipped = report["skipped"]
    if skipped:
        lines.append(f"not declared ({len(skipped)}):")
        lines += [f"  {n}: {skipped[n]}" for n in sorted(skipped)]
    return "\n".join(lines) + "\n"


def _register_pickling():
    import copyreg

    from .. import pickling as _pickle

    copyreg.pickle(HeaderLibrary, _pickle._reduce_library)   # by how it was loaded, as a Library


_register_pickling()
