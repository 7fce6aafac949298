"""From libclang's cursors and types to ndffi declaration text: :class:`Translator`
spells every type a header's declarations use (structs and unions with all their
members, bit-fields, ``packed``, ``aligned(n)`` and ``#pragma pack``; enums with explicit
values) and collects the functions, variables, typedefs and records of the header's own
files.  Also here: the C literal spellings (``c_int``, ``c_float``, ``c_string``) the
macro values share, and :exc:`_Unsupported`, raised for what the type model has no place
for.  Part of :mod:`ndffi.headers.translate`, loaded only with it."""

from __future__ import annotations

import math
import os
import re

from . import libclang as lc


def _complex_as_struct():
    """Whether ndffi declares functions and values of ``double _Complex`` on this
    machine (where the calling convention passes one as a struct of two doubles):
    the core is asked, which knows each ABI's rule."""
    from .._ndffi import CDefError, Namespace

    try:
        Namespace().type("double _Complex")
    except CDefError:
        return False
    return True


_COMPLEX_AS_STRUCT = _complex_as_struct()


def is_reserved(name):
    """Identifiers reserved to the implementation: ``__x`` and ``_X``."""
    return name.startswith("__") or (len(name) > 1 and name[0] == "_" and name[1].isupper())


class _Unsupported(Exception):
    """A declaration uses a type ndffi's model has no place for (``_Complex``,
    ``__int128``, vector types, ...)."""


# ---- type kinds ---------------------------------------------------------------------

_SCALARS = {
    lc.T_VOID: "void",
    lc.T_BOOL: "_Bool",
    lc.T_CHAR_U: "char",
    lc.T_UCHAR: "unsigned char",
    lc.T_USHORT: "unsigned short",
    lc.T_UINT: "unsigned int",
    lc.T_ULONG: "unsigned long",
    lc.T_ULONGLONG: "unsigned long long",
    lc.T_CHAR_S: "char",
    lc.T_SCHAR: "signed char",
    lc.T_SHORT: "short",
    lc.T_INT: "int",
    lc.T_LONG: "long",
    lc.T_LONGLONG: "long long",
    lc.T_FLOAT: "float",
    lc.T_DOUBLE: "double",
    lc.T_LONGDOUBLE: "long double",
}
_INT_SUFFIX = {lc.T_UINT: "U", lc.T_ULONG: "UL", lc.T_ULONGLONG: "ULL", lc.T_LONG: "L", lc.T_LONGLONG: "LL"}
_CHAR_KINDS = {lc.T_CHAR_U, lc.T_UCHAR, lc.T_CHAR_S, lc.T_SCHAR}
_INT_KINDS = {
    lc.T_CHAR_U,
    lc.T_UCHAR,
    lc.T_USHORT,
    lc.T_UINT,
    lc.T_ULONG,
    lc.T_ULONGLONG,
    lc.T_CHAR_S,
    lc.T_SCHAR,
    lc.T_SHORT,
    lc.T_INT,
    lc.T_LONG,
    lc.T_LONGLONG,
    lc.T_ENUM,
}
_FLOAT_KINDS = {lc.T_FLOAT, lc.T_DOUBLE, lc.T_LONGDOUBLE}
_ARRAYS_AND_FUNCS = {lc.T_CONSTARRAY, lc.T_INCOMPLETEARRAY, lc.T_VARARRAY, lc.T_FUNCPROTO, lc.T_FUNCNOPROTO}
_RECORD_KW = {lc.CURSOR_STRUCT: "struct", lc.CURSOR_UNION: "union", lc.CURSOR_ENUM: "enum"}
_DECL_KINDS = {lc.CURSOR_FUNCTION, lc.CURSOR_VAR, lc.CURSOR_TYPEDEF, lc.CURSOR_STRUCT, lc.CURSOR_UNION, lc.CURSOR_ENUM}


def kind_code(t):
    """What a C type is to Python, for type stubs: "void", "int", "float", "complex",
    "bool", "str" (char pointers), "fn" (function pointers), "ptr", "struct" or "any"."""
    c = lc.getCanonicalType(t)
    k = c.kind
    if k == lc.T_VOID:
        return "void"
    if k == lc.T_BOOL:
        return "bool"
    if k in _INT_KINDS:
        return "int"
    if k in _FLOAT_KINDS:
        return "float"
    if k == lc.T_COMPLEX:
        return "complex"
    if k == lc.T_POINTER:
        p = lc.getPointeeType(c).kind
        if p in _CHAR_KINDS:
            return "str"
        if p in (lc.T_FUNCPROTO, lc.T_FUNCNOPROTO):
            return "fn"
        return "ptr"
    if k == lc.T_RECORD:
        return "struct"
    if k in (lc.T_CONSTARRAY, lc.T_INCOMPLETEARRAY, lc.T_VARARRAY):
        return "ptr"
    return "any"


# ---- C literals ---------------------------------------------------------------------


def c_string(s):
    """``s`` (a str; surrogate escapes stand for bytes that are not UTF-8) as a C literal."""
    out = ['"']
    for b in s.encode("utf-8", "surrogateescape"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    out.append('"')
    return "".join(out)


def c_float(x, is_float):
    """A C constant expression with the value of ``x`` (a float constant with ``is_float``)."""
    f = "f" if is_float else ""
    if math.isnan(x):
        return f"(0.0{f}/0.0{f})"
    if math.isinf(x):
        return f"(1e999{f})" if x > 0 else f"(-1e999{f})"
    text = repr(float(x))
    if "e" not in text and "." not in text:
        text += ".0"
    text += f
    return f"({text})" if x < 0 else text


def c_int(value, kind=0):
    """A C constant expression with the value and type of an integer constant."""
    suffix = _INT_SUFFIX.get(kind, "")
    if value < 0:
        if value == -(2**63):
            return "(-9223372036854775807L-1)"
        if value == -(2**31) and not suffix:
            return "(-2147483647-1)"
        return f"(-{-value}{suffix})"
    if value > 2**63 - 1 and "U" not in suffix:
        suffix = "UL"
    return f"{value}{suffix}"


# ---- the translator -----------------------------------------------------------------


def _key(cursor):
    """The identity of a declaration: its canonical declaration's address."""
    return lc.getCanonicalCursor(cursor).data[0]


class Translator:
    """Turns the declarations of one translation unit into ndffi declaration text."""

    def __init__(self, owned, typedefs, layout_fixes, source):
        self.owned = owned  # ids of the files whose declarations are the header's own
        self.typedefs = typedefs  # typedef name -> its declaration cursor
        self.layout_fixes = layout_fixes  # record key -> (packed, pack) from a failed check
        self.source = source  # path -> bytes, for reading attribute arguments
        self.chunks = []  # declarations of types, in dependency order
        self.decls = {}  # function or variable -> its declaration
        self.done = set()  # keys of the types emitted
        self.active = set()  # keys of the types being emitted
        self.failed = {}  # key -> why the type cannot be declared
        self.pending = []  # records reached through pointers, defined afterwards
        self.records = []  # (spelling, key, clang type) of every struct/union emitted
        self.enums = []  # (spelling, clang type)
        self.enum_as_int = {}  # key -> integer spelling, for enums the model sizes otherwise
        self.names = {}  # every identifier bound -> "function", "variable", ...
        self.functions, self.variables, self.types, self.constants = [], [], [], []
        self.aliases = {}  # function -> the symbol it binds (asm labels)
        self.skipped = {}  # name -> why it is not bound
        self.locations = {}  # name -> [file, line]
        self.signatures = {}  # function -> [result, [parameters], variadic, [names]]
        self.function_cursors = {}  # every function of the header's files, reserved names too
        self._kinds = {}
        self._parts = {}  # spelling memo: type -> (left, right)
        self._tags = {}  # record key -> (keyword, tag or "", typedef name or "")
        self._packs = []  # #pragma pack the chunk being built needs, innermost last
        self._file_names = {}
        self._inlined = 0  # definitions spelled inline so far (their spelling depends
        # on where they are used, so it is not memoized)

    def file_name(self, fid):
        name = self._file_names.get(fid)
        if name is None:
            name = self._file_names[fid] = os.path.normpath(lc.file_name(fid)) if fid else ""
        return name

    # ---- chunks ----
    def _begin(self):
        self._packs.append(0)

    def _end(self, text):
        pack = self._packs.pop()
        if pack:
            text = f"#pragma pack(push, {pack})\n{text}\n#pragma pack(pop)"
        self.chunks.append(text)

    def _need_pack(self, pack):
        if self._packs and self._packs[-1] not in (0, pack):
            raise _Unsupported("records under different #pragma pack in one declaration")
        if self._packs:
            self._packs[-1] = pack

    # ---- spelling types ----
    def spell(self, t, inner="", full=True):
        """C text declaring ``inner`` (a name, or "" for the type alone) of clang type
        ``t``.  ``full``: used by value, so the structs it names must be complete."""
        left, right = self.parts(t, full, 0)
        if inner:
            return left + inner + right
        return (left + right).replace(" )", ")").rstrip()

    def kind_code(self, t):
        memo = (t.kind, t.data[0])
        code = self._kinds.get(memo)
        if code is None:
            code = self._kinds[memo] = kind_code(t)
        return code

    def spell_value_type(self, t):
        """The type of an evaluated macro (deduced by __auto_type): by its typedef name
        when it has one, e.g. sqlite3_destructor_type."""
        if t.kind == lc.T_AUTO:
            name = lc.type_spelling(t)
            td = self.typedefs.get(name)
            if td is not None:
                self.ensure_typedef(td, name)
                return name
            t = lc.getCanonicalType(t)
        return self.spell(t, full=False)

    def parts(self, t, full, quals):
        """(left, right) such that left + declarator + right declares it with type ``t``."""
        memo = (t.kind, t.data[0], full, quals)
        hit = self._parts.get(memo)
        if hit is not None:
            if isinstance(hit, _Unsupported):
                raise hit
            return hit
        inlined = self._inlined
        try:
            result = self._parts_of(t, full, quals)
        except _Unsupported as exc:
            self._parts[memo] = exc
            raise
        if self._inlined == inlined:
            self._parts[memo] = result
        return result

    def _parts_of(self, t, full, quals):
        k = t.kind
        if lc.isConstQualifiedType(t):
            quals |= 1
        if lc.isVolatileQualifiedType(t):
            quals |= 2
        if lc.isRestrictQualifiedType(t):
            quals |= 4
        if k == lc.T_ELABORATED:
            return self.parts(lc.getNamedType(t), full, quals)
        if k == lc.T_POINTER:
            pointee = lc.getPointeeType(t)
            pl, pr = self.parts(pointee, False, 0)
            star = "*" + _quals(quals, pointer=True)
            if self._structural(pointee) in _ARRAYS_AND_FUNCS:
                return pl + "(" + star, ")" + pr
            return pl + star, pr
        if k == lc.T_CONSTARRAY:
            el, er = self.parts(lc.getElementType(t), True, quals)
            return el, f"[{lc.getArraySize(t)}]" + er
        if k in (lc.T_INCOMPLETEARRAY, lc.T_VARARRAY):
            el, er = self.parts(lc.getElementType(t), True, quals)
            return el, "[]" + er
        if k == lc.T_FUNCPROTO:
            params = [self.spell(lc.getArgType(t, i)) for i in range(lc.getNumArgTypes(t))]
            if lc.isFunctionTypeVariadic(t):
                params.append("...")
            rl, rr = self.parts(lc.getResultType(t), True, 0)
            return rl, f"({', '.join(params) or 'void'})" + rr
        if k == lc.T_FUNCNOPROTO:
            rl, rr = self.parts(lc.getResultType(t), True, 0)
            return rl, "()" + rr
        name = _SCALARS.get(k)
        if name is None and k == lc.T_COMPLEX:
            name = self._complex(t)
        if name is None:
            if k == lc.T_TYPEDEF:
                decl = lc.getTypeDeclaration(t)
                if not lc.cursor_file(decl):  # a compiler built-in (__builtin_va_list)
                    return self.parts(lc.getTypedefDeclUnderlyingType(decl), full, quals)
                name = lc.spelling(decl)
                self.ensure_typedef(decl, name)
                if full:
                    self._complete(lc.getCanonicalType(t))
            elif k in (lc.T_RECORD, lc.T_ENUM):
                name = self._tag_name(lc.getTypeDeclaration(t), full)
            elif k in (lc.T_ATTRIBUTED, lc.T_BTF_TAG):
                return self.parts(lc.getModifiedType(t), full, quals)
            else:
                canon = lc.getCanonicalType(t)
                if canon.kind != k and canon.kind not in (lc.T_UNEXPOSED, lc.T_INVALID):
                    return self.parts(canon, full, quals)
                raise _Unsupported(f"type '{lc.type_spelling(t)}' has no ndffi equivalent")
        return _quals(quals) + name + " ", ""

    def _complex(self, t):
        """``float _Complex`` and ``double _Complex`` as themselves, which cdef passes
        and returns as Python complex where the calling convention treats them as a
        struct of two of their element (x86-64 System V, AArch64)."""
        element = _SCALARS.get(lc.getCanonicalType(lc.getElementType(t)).kind)
        if element not in ("float", "double") or not _COMPLEX_AS_STRUCT:
            raise _Unsupported(f"type '{lc.type_spelling(t)}' has no ndffi equivalent")
        return f"{element} _Complex"

    def _structural(self, t):
        """The kind parts() treats ``t`` as (a typedef name is one word)."""
        while True:
            k = t.kind
            if k == lc.T_ELABORATED:
                t = lc.getNamedType(t)
            elif k in (lc.T_ATTRIBUTED, lc.T_BTF_TAG):
                t = lc.getModifiedType(t)
            elif k == lc.T_TYPEDEF and not lc.cursor_file(lc.getTypeDeclaration(t)):
                t = lc.getTypedefDeclUnderlyingType(lc.getTypeDeclaration(t))
            elif k == lc.T_UNEXPOSED:
                canon = lc.getCanonicalType(t)
                if canon.kind == lc.T_UNEXPOSED:
                    return k
                t = canon
            else:
                return k

    def tag(self, decl):
        """(keyword, tag, typedef name) of a struct/union/enum; tag "" when it has none,
        typedef name "" unless it is an anonymous one named by a typedef."""
        key = _key(decl)
        info = self._tags.get(key)
        if info is None:
            kw = _RECORD_KW[decl.kind]
            if lc.isAnonymous(decl):
                info = (kw, "", "")
            else:
                name = lc.spelling(decl)
                if lc.type_spelling(lc.getCursorType(decl)).startswith(kw + " "):
                    info = (kw, name, "")
                else:
                    info = (kw, "", name)
            self._tags[key] = info
        return info

    def _complete(self, canon):
        """A type used by value: the structs and unions it names must be defined."""
        k = canon.kind
        if k in (lc.T_RECORD, lc.T_ENUM):
            d = lc.getTypeDeclaration(canon)
            if self.tag(d)[1]:
                self.ensure_record(d)
        elif k == lc.T_CONSTARRAY:
            self._complete(lc.getElementType(canon))

    def _tag_name(self, decl, full):
        """How a struct/union/enum type is spelled where it is used."""
        key = _key(decl)
        if key in self.failed:
            raise _Unsupported(self.failed[key])
        kw, tag, tdname = self.tag(decl)
        if tag:
            if full or kw == "enum":
                self.ensure_record(decl)
            elif key not in self.done and key not in self.active:
                self.pending.append(decl)
            return self.enum_as_int.get(key) or f"{kw} {tag}"
        if key in self.enum_as_int:
            return self.enum_as_int[key]
        if tdname:
            # Anonymous, named by a typedef: spelled by that name, except in the typedef.
            td = self.typedefs.get(tdname)
            if td is not None and ("typedef", tdname) not in self.active:
                self.ensure_typedef(td, tdname)
                return tdname
        return self._inline(decl, tdname)

    # ---- typedefs, records, enums ----
    def ensure_typedef(self, decl, name):
        key = ("typedef", name)
        if key in self.done:
            return
        if key in self.failed:
            raise _Unsupported(self.failed[key])
        underlying = lc.getTypedefDeclUnderlyingType(decl)
        # A typedef's aligned(n) changes its type's alignment (up or down): say so.
        align = lc.getAlignOf(lc.getCursorType(decl))
        attr = f" __attribute__((aligned({align})))" if align > 0 and align != lc.getAlignOf(underlying) else ""
        self._emit(key, lambda: "typedef " + self.spell(underlying, name, full=False) + attr + ";")

    def ensure_record(self, decl):
        """Emit the definition of a tagged struct, union or enum (its tag alone when the
        translation unit does not define it)."""
        key = _key(decl)
        if key in self.done or key in self.active:
            return
        if key in self.failed:
            raise _Unsupported(self.failed[key])
        kw, tag, _ = self.tag(decl)
        head = f"{kw} {tag}"
        defn = lc.getCursorDefinition(decl)
        if lc.isNull(defn):
            self.chunks.append(head + ";")
            self.done.add(key)
            return
        self._emit(key, lambda: self._definition(defn, head, key) + ";")

    def _emit(self, key, spell):
        """Emit the chunk ``spell()`` returns as the declaration of type ``key``.  While it
        is spelled, ``key`` is active, so that a reference back to the type does not emit it
        again; if it cannot be spelled, why is kept in ``failed`` and _Unsupported raised."""
        self.active.add(key)
        self._begin()
        try:
            text = spell()
        except _Unsupported as exc:
            self._packs.pop()
            self.failed[key] = str(exc)
            raise
        finally:
            self.active.discard(key)
        self._end(text)
        self.done.add(key)

    def _inline(self, decl, tdname=""):
        """The definition of an anonymous struct/union/enum, spelled where it is used."""
        self._inlined += 1
        defn = lc.getCursorDefinition(decl)
        if lc.isNull(defn):
            defn = decl
        key = _key(decl)
        kw = _RECORD_KW[decl.kind]
        text = self._definition(defn, kw, key, tdname)
        if key in self.enum_as_int:  # its constants apart; the type is its integer
            if text:
                self.chunks.append(text + ";")
            return self.enum_as_int[key]
        return text

    def _definition(self, defn, head, key, tdname=""):
        """The text of a struct/union/enum definition; ``head`` "struct tag" or "struct"."""
        t = lc.getCursorType(defn)
        if defn.kind == lc.CURSOR_ENUM:
            return self._enum(defn, head, key, t)
        packed, aligned = False, 0
        if lc.hasAttrs(defn):
            for ch in lc.children(defn):
                if ch.kind == lc.CURSOR_PACKED_ATTR:
                    packed = True
                elif ch.kind == lc.CURSOR_ALIGNED_ATTR:
                    aligned = lc.getAlignOf(t)
        members, natural = [], 1
        for f in lc.fields(t):
            text, a = self._member(f)
            members.append(text)
            natural = max(natural, a)
        align = lc.getAlignOf(t)
        pack = 0
        if key in self.layout_fixes:
            packed, pack = self.layout_fixes[key]
        elif not packed and align < natural:
            pack = align  # a #pragma pack(n) was in force
        if pack:
            self._need_pack(pack)
        attrs = (["packed"] if packed else []) + ([f"aligned({aligned})"] if aligned else [])
        attr = f" __attribute__(({', '.join(attrs)}))" if attrs else ""
        kw, _, tag = head.partition(" ")
        if tag or tdname:
            self.records.append((head if tag else tdname, key, t))
        return f"{kw}{attr}{' ' + tag if tag else ''} {{ {' '.join(members)} }}"

    def _member(self, f):
        """(text, alignment it asks for) of one member of a struct or union."""
        t = lc.getCursorType(f)
        canon = lc.getCanonicalType(t)
        if canon.kind == lc.T_RECORD:
            d = lc.getTypeDeclaration(canon)
            if lc.isAnonymousRecordDecl(d):
                return self._inline(d) + ";", lc.getAlignOf(t)
        name = lc.spelling(f)
        natural = lc.getAlignOf(t)
        attrs = []
        if lc.hasAttrs(f):
            for ch in lc.children(f):
                if ch.kind == lc.CURSOR_PACKED_ATTR:
                    attrs.append("packed")
                elif ch.kind == lc.CURSOR_ALIGNED_ATTR:
                    a = self._attr_alignment(ch, natural)
                    attrs.append(f"aligned({a})")
                    natural = max(natural, a)
        attr = f" __attribute__(({', '.join(attrs)}))" if attrs else ""
        if lc.isBitField(f):
            width = lc.getFieldDeclBitWidth(f)
            return f"{self.spell(t, name)} : {width}{attr};", (natural if name else 1)
        try:
            return f"{self.spell(t, name)}{attr};", natural
        except _Unsupported:
            size = lc.getSizeOf(t)
            if size < 0 or not name:
                raise
            # Kept as its bytes, so that the struct keeps its layout.
            return f"unsigned char {name}[{size}] __attribute__((aligned({natural})));", natural

    def _attr_alignment(self, attr, natural):
        """The n of aligned(n) / _Alignas(n), read from the source; the type's alignment
        when it is not a plain number (the layout check has the last word)."""
        ext = lc.getCursorExtent(attr)
        fid, _, start = lc.location(lc.getRangeStart(ext))
        _, _, end = lc.location(lc.getRangeEnd(ext))
        data = self.source(self.file_name(fid)) if fid else b""
        text = data[start : end + 1].decode("utf-8", "replace")
        if text.count("(") > text.count(")"):  # clang's extent of _Alignas(n) ends at its '('
            close = data.find(b")", end)
            text = data[start : close + 1].decode("utf-8", "replace") if close >= 0 else text
        nums = re.findall(r"\b(0[xX][0-9a-fA-F]+|\d+)", text)
        if len(nums) == 1:
            return int(nums[0], 0)
        if not nums and text.rstrip(")").rstrip().endswith(("aligned", "__aligned__")):
            return 16  # aligned without a number: the largest alignment of any type
        return natural

    def _enum(self, defn, head, key, t):
        consts = [c for c in lc.children(defn) if c.kind == lc.CURSOR_ENUM_CONST]
        base = lc.getEnumDeclIntegerType(defn)
        unsigned = lc.getCanonicalType(base).kind in (
            lc.T_UINT,
            lc.T_ULONG,
            lc.T_ULONGLONG,
            lc.T_USHORT,
            lc.T_UCHAR,
            lc.T_BOOL,
            lc.T_CHAR_U,
        )
        value = lc.getEnumConstantDeclUnsignedValue if unsigned else lc.getEnumConstantDeclValue
        values = [(lc.spelling(c), value(c)) for c in consts]
        own = lc.cursor_file(defn) in self.owned
        for name, _ in values:
            if name not in self.names:
                self.names[name] = "constant"
                if own and not is_reserved(name):
                    self.constants.append(name)
        body = ", ".join(f"{n} = {c_int(v, lc.T_ULONG if v > 2**63 - 1 else 0)}" for n, v in values)
        lo = min((v for _, v in values), default=0)
        hi = max((v for _, v in values), default=0)
        model_size = (4 if hi <= 0xFFFFFFFF else 8) if lo >= 0 else (4 if -(2**31) <= lo and hi < 2**31 else 8)
        if not values or lc.getSizeOf(t) != model_size:
            # A packed enum, or one with a fixed underlying type: used as its integer type.
            self.enum_as_int[key] = self.spell(base)
            return f"enum {{ {body} }}" if values else ""
        self.enums.append((head, t))
        return f"{head} {{ {body} }}"

    # ---- top-level declarations ----
    def declaration(self, c, kind, fid):
        name = ""
        try:
            if kind == lc.CURSOR_FUNCTION:
                name = lc.spelling(c)
                self.function_cursors.setdefault(name, (c, fid))
                self.function(c, name, fid)
            elif kind == lc.CURSOR_VAR:
                name = lc.spelling(c)
                self.variable(c, name, fid)
            elif kind == lc.CURSOR_TYPEDEF:
                name = lc.spelling(c)
                if not is_reserved(name):
                    self.ensure_typedef(c, name)
                    if name not in self.names:
                        self.names[name] = "typedef"
                        self.types.append(name)
            else:
                kw, tag, tdname = self.tag(c)
                if tag:
                    name = f"{kw} {tag}"
                    if not is_reserved(tag):
                        self.ensure_record(c)
                elif not tdname and kind == lc.CURSOR_ENUM and lc.isCursorDefinition(c):
                    # enum { A, B };  (its constants)
                    self._begin()
                    try:
                        text = self._inline(c)
                    except _Unsupported:
                        self._packs.pop()
                        raise
                    if text.startswith("enum"):
                        self._end(text + ";")
                    else:
                        self._packs.pop()
        except _Unsupported as exc:
            if name and not is_reserved(name.split()[-1]):
                self.skipped.setdefault(name, str(exc))
        self.drain()

    def drain(self):
        """Define the records reached through pointers (their tag alone if they cannot be)."""
        while self.pending:
            decl = self.pending.pop()
            try:
                self.ensure_record(decl)
            except _Unsupported:
                key = _key(decl)
                if key not in self.done:
                    kw, tag, _ = self.tag(decl)
                    self.chunks.append(f"{kw} {tag};")
                    self.done.add(key)

    def function(self, c, name, fid, symbol=None):
        """Declare function ``c`` as ``name``; ``symbol`` when its symbol has another
        name (a macro naming it: ``#define mpz_add __gmpz_add``)."""
        if is_reserved(name) and symbol is None:
            return
        if name in self.names:
            # A redeclaration may bind another symbol (glibc's __REDIRECT: sscanf is
            # __isoc99_sscanf); the label of the last one is the one in force.
            if (
                self.names[name] == "function"
                and symbol is None
                and lc.hasAttrs(c)
                and any(ch.kind == lc.CURSOR_ASM_LABEL_ATTR for ch in lc.children(c))
            ):
                label = lc.mangling(c).lstrip("\x01")
                if label and label != name:
                    self.aliases[name] = label
                else:
                    self.aliases.pop(name, None)
            return
        if lc.getStorageClass(c) == lc.SC_STATIC:
            self.skipped.setdefault(name, "static function: not exported by the library")
            return
        t = lc.getCursorType(c)
        result = lc.getResultType(t)
        if t.kind == lc.T_FUNCPROTO:
            n = lc.getNumArgTypes(t)
            if lc.getNumArguments(c) == n:
                args = [lc.getArgument(c, i) for i in range(n)]
                names = [lc.spelling(a) for a in args]
                types = [lc.getCursorType(a) for a in args]
            else:  # declared through a typedef of a function type: no parameter names
                names = [""] * n
                types = [lc.getArgType(t, i) for i in range(n)]
            params = [self.spell(at, nm) for at, nm in zip(types, names, strict=False)]
            variadic = bool(lc.isFunctionTypeVariadic(t))
            if variadic:
                params.append("...")
            declarator = f"{name}({', '.join(params) or 'void'})"
            self.signatures[name] = [self.kind_code(result), [self.kind_code(at) for at in types], variadic, names]
        else:
            declarator = f"{name}()"
            self.signatures[name] = [self.kind_code(result), [], False, []]
        text = self.spell(result, declarator) + ";"
        if lc.hasAttrs(c) and any(ch.kind == lc.CURSOR_ASM_LABEL_ATTR for ch in lc.children(c)):
            symbol = lc.mangling(c).lstrip("\x01") or symbol
        if symbol and symbol != name:
            self.aliases[name] = symbol
        self.decls[name] = text
        self.names[name] = "function"
        self.functions.append(name)
        self.locations[name] = self._where(c)

    def variable(self, c, name, fid, symbol=None):
        """Declare variable ``c`` as ``name``; ``symbol`` when a macro names it
        (``#define gmp_errno __gmp_errno``)."""
        if (is_reserved(name) and symbol is None) or name in self.names or lc.getStorageClass(c) == lc.SC_STATIC:
            return
        if lc.getCursorTLSKind(c) != lc.TLS_NONE:
            self.skipped.setdefault(name, "thread-local variable: no single address to bind")
            return
        text = self.spell(lc.getCursorType(c), name) + ";"
        if symbol and symbol != name:
            self.aliases[name] = symbol
        self.decls[name] = text
        self.names[name] = "variable"
        self.variables.append(name)
        self.locations[name] = self._where(c)

    def _where(self, c):
        fid, line, _ = lc.location(lc.getCursorLocation(c))
        return [self.file_name(fid), line]


def _quals(q, pointer=False):
    out = ""
    if q & 1:
        out += "const "
    if q & 2:
        out += "volatile "
    if q & 4 and pointer:
        out += "restrict "
    return out
