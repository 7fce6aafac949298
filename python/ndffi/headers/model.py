"""Importing a C header: its *model*, from the cache (:mod:`.cache`) or from libclang.

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

import os
import re
import threading
import time

from .._ndffi import CDefError, Namespace
from .._support import compiler
from .._support.defines import macro_definitions
from ..errors import HeaderError, HeaderNotFound, LayoutMismatch
from . import cache as _model_cache
from .cache import NEEDS_LIBCLANG, libclang_version


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


def clang_args(include_dirs, defines, system_dirs, flags=()):
    """The compiler arguments of a header's translation unit."""
    args = ["-x", "c", "-nostdinc"]
    args += ["-I" + os.path.abspath(d) for d in include_dirs]
    args += ["-D" + d for d in macro_definitions(defines)]
    for d in system_dirs:
        args += ["-isystem", d]
    return args + list(flags)


_translate_lock = threading.Lock()


def import_header(header, include_dirs=(), defines=None, flags=(), *, cache=True, whole=True):
    """The model of ``header`` (see the module docstring): from the cache when no file
    it includes changed, else from libclang (and then cached).

    ``include_dirs`` are searched before the system's (``-I``); ``defines`` is a dict
    ``{"NAME": value}`` (``True``/``None`` for a bare ``-DNAME``) or a list of
    ``"NAME=value"``; ``flags`` are more compiler arguments."""
    include_dirs = [os.fspath(d) for d in (include_dirs or ())]
    flags = list(flags or ())
    key = _model_cache.key(header, include_dirs, defines, flags) if cache else None
    if cache:
        model = _model_cache.read(key)
        if model is not None:
            return _model_cache.complete(model) if whole else model
    if libclang_version() is None:
        raise ImportError(NEEDS_LIBCLANG)
    # Ask the compiler for its include directories while libclang loads.
    dirs = {}
    asker = threading.Thread(target=lambda: dirs.setdefault("system", compiler.system_view()))
    asker.start()
    try:
        from . import translate as _translate
    finally:
        asker.join()
    system_dirs, gnuc = dirs.get("system") or compiler.system_view()
    started = time.time_ns() - 50_000_000  # file times lag the clock by a tick
    path = resolve_header(header, include_dirs, system_dirs)
    args = clang_args(include_dirs, defines, system_dirs, flags)
    user_dirs = [os.path.abspath(d) for d in include_dirs]
    with _translate_lock:
        # Read as the C compiler reads it (`#if __GNUC__ >= 7` choosing a type), not as
        # the GCC 4.2 clang says it is; unless the header then uses syntax of that GCC
        # clang cannot read (glibc's 2-argument malloc attribute for GCC 11), when it is
        # read as clang reads it.
        model = None
        if gnuc:
            try:
                gnu_args = [f"-fgnuc-version={gnuc}", *args]
                model = _translate.translate(path, gnu_args, user_dirs, system_dirs, check=check_model)
            except HeaderError:
                pass
        if model is None:
            model = _translate.translate(path, args, user_dirs, system_dirs, check=check_model)
    model.pop("clang_layouts", None)
    model["header"] = path
    model["clang"] = libclang_version()
    if cache:
        _model_cache.write(
            key, model, _model_cache.absent_files(header, model, include_dirs, system_dirs, flags, started)
        )
    return model


def check_model(model):
    """Declare the model with ndffi's parser and compare the layout of every struct,
    union and enum with clang's; raises :class:`LayoutMismatch`.

    A declaration the parser refuses is dropped (and listed in ``skipped``), so that
    one unusual declaration does not keep the rest of a header from loading."""
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
        raise RuntimeError("internal error: ndffi's parser refuses too many declarations of this header")
    model["text"] = "\n".join(ln for ln, o in zip(lines, owners, strict=False) if o is None) + "\n"
    model["functions"] = [n for n in model["functions"] if n in model["declarations"]]
    model["variables"] = [n for n in model["variables"] if n in model["declarations"]]
    model["types"] = [n for n in model["types"] if ns.typedef(n) is not None]
    model["constants"] = [n for n in model["constants"] if ns.constant(n) is not None]
    for spelling, layout in model["clang_layouts"].items():
        try:
            t = ns.type(spelling)
        except CDefError:
            continue  # dropped above
        _compare(spelling, t, layout, spelling)


def _drop_declaration(lines, owners, i):
    """Remove the declaration on line ``i`` (with the #pragma pack lines around it)."""
    text = lines[i]
    if (
        i > 0
        and lines[i - 1].startswith("#pragma pack(push")
        and i + 1 < len(lines)
        and lines[i + 1] == "#pragma pack(pop)"
    ):
        del lines[i - 1 : i + 2], owners[i - 1 : i + 2]
    else:
        del lines[i], owners[i]
    return text


_C_WORDS = frozenset(
    """void char short int long float double signed unsigned _Bool struct union
enum const volatile restrict typedef extern static inline""".split()
)


def _declared_name(text):
    """The name a line of declaration text declares (for the list of skipped names)."""
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
        raise LayoutMismatch(
            name, f"{where}: size {t.size}, alignment {t.alignment} in ndffi; size {size}, alignment {align} in clang"
        )
    if members is None:
        return
    fields = t.fields or []
    if len(fields) != len(members):
        raise LayoutMismatch(name, f"{where}: {len(fields)} members in ndffi, {len(members)} in clang")
    for (fname, ftype, offset, bits), (cname, cbit, cwidth, nested) in zip(fields, members, strict=False):
        bit = offset * 8 + (bits[0] if bits else 0)
        width = bits[1] if bits else -1
        if fname != cname or bit != cbit or width != cwidth:
            w = f", width {width}" if width >= 0 else ""
            cw = f", width {cwidth}" if cwidth >= 0 else ""
            raise LayoutMismatch(
                name,
                f"{where}: member '{fname or '<anonymous>'}' at bit {bit}{w} "
                f"in ndffi; '{cname or '<anonymous>'}' at bit {cbit}{cw} in clang",
            )
        if nested is not None:
            _compare(name, ftype, nested, f"{where}.{fname or '<anonymous>'}")
