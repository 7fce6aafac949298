"""Translate a C header, parsed by libclang, into declaration text for ndffi's C parser.

Only :mod:`ndffi.headers` imports this module, and only when a header is not in the
cache: importing it loads libclang (:mod:`ndffi.headers.libclang`).

What is translated:

* every function, global variable, typedef, struct, union and enum declared in the
  header's own files (the header and the files it includes, up to the standard C and
  POSIX headers), except identifiers reserved to the implementation (``__x``, ``_X``);
* every type those declarations use, wherever it is declared (``size_t``, ``FILE``,
  ``va_list``), with the full definition of each struct and union they reach;
* object-like macros of the header's own files, by what clang expands them to (its tree
  of the expansion): an integer, floating or string constant (``#define`` lines), a
  pointer (``SQLITE_TRANSIENT``: kept apart, the parser's ``#define`` takes numbers and
  strings), another name of a function, variable or type (``#define mpn_add_n
  __MPN(add_n)``), or an expression over the library's functions and variables that is
  evaluated where it is used (HDF5's ``H5T_NATIVE_INT``); comma expressions and what
  depends on the place or the compiler (``__LINE__``, ``__GNUC__``) are not constants;
* function-like macros, listed, and made callable when the expansion is one call of a
  declared function whose other arguments are constants (zlib's ``deflateInit``); one
  that calls its own name (curl's ``curl_easy_setopt``) is the function.

Types are spelled out completely: structs with all their members and bit-fields,
``__attribute__((packed))``, ``aligned(n)`` and ``#pragma pack`` where clang's layout has
them, enums with explicit values.  The caller parses the text with ndffi's own parser
and compares every struct's layout with clang's (``check``).

One parse: the macros are found by reading the header's files, and the translation
unit is the header followed by one variable per macro, initialized with it, whose value
clang evaluates (``clang_Cursor_Evaluate``) and whose initializer's tree says what the
expansion is, and a typedef of each macro that may name a type.

The parts: :mod:`ndffi.headers.macros` (reading and evaluating the macros),
:mod:`ndffi.headers.types` (cursors and types to declaration text); this module parses
the translation unit, finds the header's own files and retries layouts that disagree.
"""

from __future__ import annotations

import os

from ..errors import HeaderError, LayoutMismatch
from . import libclang as lc
from .macros import STANDARD_HEADERS, macro_values, main_source, scan_macros
from .types import _DECL_KINDS, Translator

__all__ = ["translate"]

MAIN_NAME = "__ndffi_main__.c"


# ---- the whole header ---------------------------------------------------------------


def translate(header_path, args, user_dirs, system_dirs, check=None):
    """Translate the header at ``header_path``, parsed with compiler arguments ``args``
    (``user_dirs`` and ``system_dirs``: its include search path).

    ``check(model)`` declares the text with ndffi's parser and compares the layouts; a
    :class:`LayoutMismatch` it raises is retried with each other way clang may have
    packed that record, and raised when none agrees.  Returns the model (a dict, see
    :mod:`ndffi.headers`)."""
    header_path = os.path.normpath(os.path.abspath(header_path))
    macros = scan_macros(header_path, user_dirs, system_dirs)
    main = os.path.join(os.path.dirname(header_path), MAIN_NAME)
    source, plans = main_source(header_path, macros)
    index = lc.createIndex(0, 0)
    try:
        tu = lc.parse(index, main, source, args + ["-ferror-limit=0"])
        try:
            errors = lc.errors(tu, skip_file=MAIN_NAME)
            if errors:
                raise HeaderError(header_path, errors, args)
            fixes, tried = {}, {}
            candidates = [(False, 1), (False, 2), (False, 4), (False, 8), (False, 16), (True, 0)]
            while True:
                model, tr = _translate_tu(tu, header_path, user_dirs + system_dirs, macros, plans, fixes)
                if check is None:
                    return model
                try:
                    check(model)
                    return model
                except LayoutMismatch as exc:
                    key = next((k for s, k, _ in tr.records if s == exc.type_name), None)
                    n = tried.get(key, 0)
                    if key is None or n >= len(candidates):
                        raise
                    fixes[key] = candidates[n]
                    tried[key] = n + 1
        finally:
            lc.disposeTranslationUnit(tu)
    finally:
        lc.disposeIndex(index)


def include_name(path, search_dirs):
    """The name ``path`` is included by (relative to the include directory holding it)."""
    best = None
    for d in search_dirs:
        d = d.rstrip(os.sep) + os.sep
        if path.startswith(d):
            rel = path[len(d) :].replace(os.sep, "/")
            if best is None or len(rel) < len(best):
                best = rel
    return best or os.path.basename(path)


def _owned_files(tu, header_fid, search_dirs):
    """Files whose declarations are the header's own: the header and what it includes,
    transitively, except through a standard C/POSIX header (unless it is the header)."""
    graph = {}
    names = {}
    for src, inc in lc.inclusions(tu):
        if src:
            graph.setdefault(src, []).append(inc)
    owned = {header_fid}
    todo = [header_fid]
    while todo:
        for inc in graph.get(todo.pop(), ()):
            if inc in owned:
                continue
            if inc not in names:
                names[inc] = include_name(os.path.normpath(lc.file_name(inc)), search_dirs)
            if names[inc] in STANDARD_HEADERS:
                continue
            owned.add(inc)
            todo.append(inc)
    return owned


def _translate_tu(tu, header_path, search_dirs, macros, plans, fixes):
    top = lc.children(lc.getTranslationUnitCursor(tu))
    decls = []
    main_vars = []
    header_fid = 0
    for c in top:
        kind = c.kind
        if kind not in _DECL_KINDS:
            continue
        fid = lc.cursor_file(c)
        decls.append((c, kind, fid))
    # The header's file id, and the evaluation declarations (in the main file).
    for src, inc in lc.inclusions(tu):
        if src and not header_fid and os.path.basename(lc.file_name(src)) == MAIN_NAME:
            header_fid = inc
    is_main = {}
    kept = []
    for item in decls:
        fid = item[2]
        main = is_main.get(fid)
        if main is None:
            main = is_main[fid] = bool(fid) and os.path.basename(lc.file_name(fid)) == MAIN_NAME
        if main:
            main_vars.append(item[0])
        else:
            kept.append(item)
    decls = kept
    owned = _owned_files(tu, header_fid, search_dirs)

    cache = {}

    def source(path):
        data = cache.get(path)
        if data is None:
            try:
                with open(path, "rb") as f:
                    data = cache[path] = f.read()
            except OSError:
                data = cache[path] = b""
        return data

    typedefs = {}
    for c, kind, _fid in decls:
        if kind == lc.CURSOR_TYPEDEF:
            typedefs[lc.spelling(c)] = c
    tr = Translator(owned, typedefs, fixes, source)
    for c, kind, fid in decls:
        if fid in owned:
            tr.declaration(c, kind, fid)

    skipped = {tr.file_name(f): sorted(lc.skipped_lines(tu, f)) for f in owned if f}
    macro_info = macro_values(tr, macros, plans, main_vars, skipped)

    files = {header_path}
    for _src, inc in lc.inclusions(tu):
        name = os.path.normpath(lc.file_name(inc))
        if os.path.basename(name) != MAIN_NAME:
            files.add(name)
    model = {
        "text": "\n".join(tr.chunks) + "\n",
        "defines": macro_info["defines"],
        "declarations": tr.decls,
        "functions": tr.functions,
        "variables": tr.variables,
        "types": tr.types,
        "constants": tr.constants + macro_info["constants"],
        "pointers": macro_info["pointers"],
        "function_macros": macro_info["function_macros"],
        "macros": macro_info["other"],
        "expressions": macro_info["expressions"],
        "aliases": tr.aliases,
        "skipped": tr.skipped,
        "locations": tr.locations,
        "signatures": tr.signatures,
        "owned_files": sorted(tr.file_name(f) for f in owned if f),
        "files": sorted(files),
        "clang_layouts": _layouts(tr),
    }
    return model, tr


def _layouts(tr):
    """Clang's layout of every struct, union and enum emitted, for the check:
    {spelling: [size, align, members]}, members [name, bit offset, bit width or -1,
    the members of an anonymous record member or None]; None for an enum."""
    out = {}
    for spelling, _key, t in tr.records:
        out[spelling] = _record_layout(t)
    for spelling, t in tr.enums:
        out[spelling] = [lc.getSizeOf(t), lc.getAlignOf(t), None]
    return out


def _record_layout(t):
    members = []
    for f in lc.fields(t):
        width = lc.getFieldDeclBitWidth(f) if lc.isBitField(f) else -1
        if width == 0:
            continue  # a zero-width bit-field only moves the next member
        ft = lc.getCanonicalType(lc.getCursorType(f))
        nested, name = None, None
        if ft.kind == lc.T_RECORD:
            d = lc.getTypeDeclaration(ft)
            if lc.isAnonymousRecordDecl(d):
                name = ""
                nested = _record_layout(ft)
            elif lc.isAnonymous(d):
                nested = _record_layout(ft)
        if name is None:
            name = lc.spelling(f)
        members.append([name, lc.getOffsetOfField(f), width, nested])
    return [lc.getSizeOf(t), lc.getAlignOf(t), members]
