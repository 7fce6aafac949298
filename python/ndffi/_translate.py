"""Translate a C header, parsed by libclang, into declaration text for ndffi's C parser.

Only :mod:`ndffi._headers` imports this module, and only when a header is not in the
cache: importing it loads libclang (:mod:`ndffi._libclang`).

What is translated:

* every function, global variable, typedef, struct, union and enum declared in the
  header's own files (the header and the files it includes, up to the standard C and
  POSIX headers), except identifiers reserved to the implementation (``__x``, ``_X``);
* every type those declarations use, wherever it is declared (``size_t``, ``FILE``,
  ``va_list``), with the full definition of each struct and union they reach;
* object-like macros of the header's own files whose expansion clang evaluates to an
  integer, floating or string constant (``#define`` lines), or to a pointer
  (``SQLITE_TRANSIENT``: kept apart, the parser's ``#define`` takes numbers and strings);
* function-like macros, listed, and made callable when the expansion is one call of a
  declared function whose other arguments are constants (zlib's ``deflateInit``).

Types are spelled out completely: structs with all their members and bit-fields,
``__attribute__((packed))``, ``aligned(n)`` and ``#pragma pack`` where clang's layout has
them, enums with explicit values.  The caller parses the text with ndffi's own parser
and compares every struct's layout with clang's (``check``).

One parse: the macros are found by reading the header's files, and the translation
unit is the header followed by one variable per macro, initialized with it, whose value
clang evaluates (``clang_Cursor_Evaluate``).
"""

from __future__ import annotations

import bisect
import math
import os
import re

from . import _libclang as lc
from ._headers import HeaderError, LayoutMismatch

__all__ = ["translate", "macro_tokens", "STANDARD_HEADERS"]

MAIN_NAME = "__ndffi_main__.c"


# The standard C and POSIX headers (and the C library's plumbing), by the name they are
# included as: a header's own declarations stop where it includes one of these.  Their
# declarations stay reachable as the types the header's declarations use.
STANDARD_HEADERS = frozenset("""
assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h
stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
stdckdint.h stdbit.h
aio.h arpa/inet.h cpio.h dirent.h dlfcn.h fcntl.h fmtmsg.h fnmatch.h ftw.h glob.h grp.h
iconv.h langinfo.h libgen.h monetary.h mqueue.h ndbm.h net/if.h netdb.h netinet/in.h
netinet/tcp.h nl_types.h poll.h pthread.h pwd.h regex.h sched.h search.h semaphore.h
spawn.h strings.h stropts.h sys/ipc.h sys/mman.h sys/msg.h sys/resource.h sys/select.h
sys/sem.h sys/shm.h sys/socket.h sys/stat.h sys/statvfs.h sys/time.h sys/times.h
sys/types.h sys/uio.h sys/un.h sys/utsname.h sys/wait.h syslog.h tar.h termios.h trace.h
ulimit.h unistd.h utime.h utmpx.h wordexp.h
features.h alloca.h malloc.h endian.h sys/cdefs.h sys/param.h sys/ioctl.h
windows.h winapi.h
""".split())


def is_reserved(name):
    """Identifiers reserved to the implementation: ``__x`` and ``_X``."""
    return name.startswith("__") or (len(name) > 1 and name[0] == "_" and name[1].isupper())


class _Unsupported(Exception):
    """A declaration uses a type ndffi's model has no place for (``_Complex``,
    ``__int128``, vector types, ...)."""


# ---- type kinds ---------------------------------------------------------------------

_SCALARS = {
    lc.T_VOID: "void", lc.T_BOOL: "_Bool", lc.T_CHAR_U: "char", lc.T_UCHAR: "unsigned char",
    lc.T_USHORT: "unsigned short", lc.T_UINT: "unsigned int", lc.T_ULONG: "unsigned long",
    lc.T_ULONGLONG: "unsigned long long", lc.T_CHAR_S: "char", lc.T_SCHAR: "signed char",
    lc.T_SHORT: "short", lc.T_INT: "int", lc.T_LONG: "long", lc.T_LONGLONG: "long long",
    lc.T_FLOAT: "float", lc.T_DOUBLE: "double", lc.T_LONGDOUBLE: "long double",
}
_INT_SUFFIX = {lc.T_UINT: "U", lc.T_ULONG: "UL", lc.T_ULONGLONG: "ULL", lc.T_LONG: "L",
               lc.T_LONGLONG: "LL"}
_CHAR_KINDS = {lc.T_CHAR_U, lc.T_UCHAR, lc.T_CHAR_S, lc.T_SCHAR}
_INT_KINDS = {lc.T_CHAR_U, lc.T_UCHAR, lc.T_USHORT, lc.T_UINT, lc.T_ULONG, lc.T_ULONGLONG,
              lc.T_CHAR_S, lc.T_SCHAR, lc.T_SHORT, lc.T_INT, lc.T_LONG, lc.T_LONGLONG, lc.T_ENUM}
_FLOAT_KINDS = {lc.T_FLOAT, lc.T_DOUBLE, lc.T_LONGDOUBLE}
_ARRAYS_AND_FUNCS = {lc.T_CONSTARRAY, lc.T_INCOMPLETEARRAY, lc.T_VARARRAY, lc.T_FUNCPROTO,
                     lc.T_FUNCNOPROTO}
_RECORD_KW = {lc.CURSOR_STRUCT: "struct", lc.CURSOR_UNION: "union", lc.CURSOR_ENUM: "enum"}
_DECL_KINDS = {lc.CURSOR_FUNCTION, lc.CURSOR_VAR, lc.CURSOR_TYPEDEF, lc.CURSOR_STRUCT,
               lc.CURSOR_UNION, lc.CURSOR_ENUM}


def kind_code(t):
    """What a C type is to Python, for type stubs: "void", "int", "float", "bool",
    "str" (char pointers), "fn" (function pointers), "ptr", "struct" or "any"."""
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
        if value == -(2 ** 63):
            return "(-9223372036854775807L-1)"
        if value == -(2 ** 31) and not suffix:
            return "(-2147483647-1)"
        return f"(-{-value}{suffix})"
    if value > 2 ** 63 - 1 and "U" not in suffix:
        suffix = "UL"
    return f"{value}{suffix}"


# ---- macros, read from the header's files -------------------------------------------

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)
_TOKEN = re.compile(r"""
    (?P<ws>\s+|/\*.*?\*/|/\*.*\Z|//[^\n]*)
  | (?P<str>(?:u8|[uUL])?"(?:[^"\\\n]|\\.)*")
  | (?P<chr>[uUL]?'(?:[^'\\\n]|\\.)*')
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<id>[A-Za-z_$]\w*)
  | (?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%&|^!~<>=?:,;.()\[\]{}\#])
""", re.X | re.S)


def macro_tokens(text):
    """The C tokens of ``text`` as (kind, text) pairs; comments and line splices dropped."""
    text = text.replace("\\\r\n", " ").replace("\\\n", " ")
    out = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            out.append(("other", text[pos]))
            pos += 1
            continue
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def include_name(path, search_dirs):
    """The name ``path`` is included by (relative to the include directory holding it)."""
    best = None
    for d in search_dirs:
        d = d.rstrip(os.sep) + os.sep
        if path.startswith(d):
            rel = path[len(d):].replace(os.sep, "/")
            if best is None or len(rel) < len(best):
                best = rel
    return best or os.path.basename(path)


class MacroDef:
    """One #define (or #undef: ``undef``) line of a header file."""

    __slots__ = ("name", "params", "text", "path", "line", "undef", "_tokens")

    def __init__(self, name, params, text, path, line, undef=False):
        self.name, self.params, self.text = name, params, text
        self.path, self.line, self.undef = path, line, undef
        self._tokens = None

    @property
    def tokens(self):
        if self._tokens is None:
            self._tokens = macro_tokens(self.text)
        return self._tokens

    @property
    def body(self):
        return _join(self.tokens)


_DIRECTIVE = re.compile(rb"#[ \t]*(define|undef)[ \t]+([A-Za-z_]\w*)((?:\\\r?\n|[^\n])*)")
_COMMENT = re.compile(r"/\*.*?\*/|/\*.*|//.*", re.S)
_INT_LITERAL = re.compile(r"-?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*")
_FLOAT_LITERAL = re.compile(r"-?\s*(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][+-]?\d+)?[fFlL]?")
_STRING_LITERALS = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
_CHAR_LITERAL = re.compile(r"'(?:[^'\\\n]|\\.)+'")


def literal_text(text):
    """The text of a macro body that is one plain literal (an integer, floating, string
    or character constant, maybe negated or in parentheses), which ndffi's parser reads
    with C's rules as clang would; else None."""
    if "/" in text:
        text = _COMMENT.sub(" ", text)
    t = text.replace("\\\n", " ").strip()
    if not t:
        return None
    inner = t[1:-1].strip() if t[0] == "(" and t[-1] == ")" else t
    if not inner:
        return None
    c = inner[0]
    if c == '"':
        ok = _STRING_LITERALS.fullmatch(inner)
    elif c == "'":
        ok = _CHAR_LITERAL.fullmatch(inner)
    else:
        ok = _INT_LITERAL.fullmatch(inner) or _FLOAT_LITERAL.fullmatch(inner)
    return t if ok else None


def scan_macros(header, user_dirs, system_dirs):
    """The #define and #undef lines of ``header`` and of the files it includes (found
    the way the preprocessor finds them, not followed into standard headers), in file
    order: {name: [MacroDef, ...]}.  Which are in force is told apart afterwards, by
    the parts of each file the preprocessor skipped."""
    out = {}
    todo, seen = [header], {header}
    while todo:
        path = todo.pop(0)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for m in _INCLUDE.finditer(data):
            spelled = m.group(2).decode("utf-8", "replace").strip()
            if spelled in STANDARD_HEADERS:
                continue
            dirs = ([os.path.dirname(path)] if m.group(1) == b'"' else []) + list(user_dirs) + list(system_dirs)
            for d in dirs:
                candidate = os.path.normpath(os.path.join(d, spelled))
                if os.path.isfile(candidate):
                    if candidate not in seen:
                        seen.add(candidate)
                        todo.append(candidate)
                    break
        line, last = 1, 0
        for m in _DIRECTIVE.finditer(data):
            start = m.start()
            bol = data.rfind(b"\n", 0, start) + 1
            if data[bol:start].strip(b" \t"):
                continue   # not at the start of a line
            line += data.count(b"\n", last, start)
            last = start
            name = m.group(2).decode()
            rest = m.group(3).decode("utf-8", "surrogateescape")
            if m.group(1) == b"undef":
                out.setdefault(name, []).append(MacroDef(name, None, "", path, line, undef=True))
                continue
            params = None
            if rest.startswith("("):
                close = rest.find(")")
                if close < 0:
                    continue
                params = [p.strip() for p in rest[1:close].replace("\\\n", " ").split(",") if p.strip()]
                rest = rest[close + 1:]
            out.setdefault(name, []).append(MacroDef(name, params, rest, path, line))
    return out


def _closes_at_end(tokens):
    """Does the '(' that ``tokens`` starts with close at its last token?"""
    depth = 0
    for i, (kind, t) in enumerate(tokens):
        if kind != "punct":
            continue
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
            if depth == 0:
                return i == len(tokens) - 1
    return False


def _strip_parens(tokens):
    while len(tokens) >= 2 and tokens[0][1] == "(" and _closes_at_end(tokens):
        tokens = tokens[1:-1]
    return tokens


def _split_args(tokens):
    args, cur, depth = [], [], 0
    for tok in tokens:
        kind, t = tok
        if kind == "punct" and t in ("(", "["):
            depth += 1
        elif kind == "punct" and t in (")", "]"):
            depth -= 1
        if kind == "punct" and t == "," and depth == 0:
            args.append(cur)
            cur = []
        else:
            cur.append(tok)
    args.append(cur)
    return args


def _balanced(tokens):
    depth = 0
    for kind, t in tokens:
        if kind == "punct":
            if t in ("(", "["):
                depth += 1
            elif t in (")", "]"):
                depth -= 1
                if depth < 0:
                    return False
    return depth == 0


def _join(tokens):
    return " ".join(t for _, t in tokens)


_NOT_EXPRESSIONS = {"{", "}", ";", "#", "##"}
_NOT_ALONE = {"extern", "static", "const", "volatile", "inline", "__inline", "__inline__",
              "register", "typedef", "struct", "union", "enum", "void", "char", "short",
              "int", "long", "float", "double", "signed", "unsigned", "_Bool", "__extension__",
              "__attribute__", "__declspec", "__asm__", "asm", "restrict", "__restrict"}


def _is_expression(tokens):
    if not tokens or not _balanced(tokens):
        return False
    if {t for _, t in tokens} & _NOT_EXPRESSIONS:
        return False
    return not (len(tokens) == 1 and tokens[0][1] in _NOT_ALONE)


def _may_be_pointer(tokens):
    """Could the expression be a pointer (a cast to a pointer or typedef, a name)?"""
    s = _strip_parens(tokens)
    if len(s) == 1:
        return s[0][0] == "id"
    for i in range(len(tokens) - 2):
        if tokens[i][1] == "(" and tokens[i + 1][0] == "id":
            j = i + 1
            while j < len(tokens) and (tokens[j][0] == "id" or tokens[j][1] == "*"):
                j += 1
            if j < len(tokens) and tokens[j][1] == ")" and j + 1 < len(tokens) \
                    and tokens[j + 1][1] not in (")", ",", "+", "|", "&", "<<", ">>", "*", "/", "?", ":"):
                return True
    return False


def _may_be_string(tokens):
    s = _strip_parens(tokens)
    return any(k == "str" for k, _ in tokens) or (len(s) == 1 and s[0][0] == "id")


def _forward_plan(params, body):
    """(function, [("param", index) | ("expr", (text, tokens))]) when a function-like
    macro's ``body`` is one call whose arguments are its parameters or expressions that
    do not use them (constants, if clang can evaluate them)."""
    if "..." in params or "__VA_ARGS__" in {t for _, t in body}:
        return None
    body = _strip_parens(body)
    if len(body) < 3 or body[0][0] != "id" or body[1][1] != "(" or not _closes_at_end(body[1:]):
        return None
    inner = body[2:-1]
    plans = []
    for arg in (_split_args(inner) if inner else []):
        arg = _strip_parens(arg)
        if not arg:
            return None
        if len(arg) == 1 and arg[0][1] in params:
            plans.append(("param", params.index(arg[0][1])))
            continue
        if {t for _, t in arg} & set(params) or not _is_expression(arg):
            return None
        plans.append(("expr", (_join(arg), arg)))
    return body[0][1], plans


# ---- the translator -----------------------------------------------------------------

def _key(cursor):
    """The identity of a declaration: its canonical declaration's address."""
    return lc.getCanonicalCursor(cursor).data[0]


class Translator:
    """Turns the declarations of one translation unit into ndffi declaration text."""

    def __init__(self, owned, typedefs, layout_fixes, source):
        self.owned = owned          # ids of the files whose declarations are the header's own
        self.typedefs = typedefs    # typedef name -> its declaration cursor
        self.layout_fixes = layout_fixes   # record key -> (packed, pack) from a failed check
        self.source = source        # path -> bytes, for reading attribute arguments
        self.chunks = []            # declarations of types, in dependency order
        self.decls = {}             # function or variable -> its declaration
        self.done = set()           # keys of the types emitted
        self.active = set()         # keys of the types being emitted
        self.failed = {}            # key -> why the type cannot be declared
        self.pending = []           # records reached through pointers, defined afterwards
        self.records = []           # (spelling, key, clang type) of every struct/union emitted
        self.enums = []             # (spelling, clang type)
        self.enum_as_int = {}       # key -> integer spelling, for enums the model sizes otherwise
        self.names = {}             # every identifier bound -> "function", "variable", ...
        self.functions, self.variables, self.types, self.constants = [], [], [], []
        self.aliases = {}           # function -> the symbol it binds (asm labels)
        self.skipped = {}           # name -> why it is not bound
        self.locations = {}         # name -> [file, line]
        self.signatures = {}        # function -> [result, [parameters], variadic, [names]]
        self.function_cursors = {}  # every function of the header's files, reserved names too
        self._kinds = {}
        self._parts = {}            # spelling memo: type -> (left, right)
        self._tags = {}             # record key -> (keyword, tag or "", typedef name or "")
        self._packs = []            # #pragma pack the chunk being built needs, innermost last
        self._file_names = {}
        self._inlined = 0           # definitions spelled inline so far (their spelling depends
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
        if name is None:
            if k == lc.T_TYPEDEF:
                decl = lc.getTypeDeclaration(t)
                if not lc.cursor_file(decl):   # a compiler built-in (__builtin_va_list)
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
        self._emit(key, lambda: "typedef " + self.spell(underlying, name, full=False) + ";")

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
        if key in self.enum_as_int:   # its constants apart; the type is its integer
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
            pack = align   # a #pragma pack(n) was in force
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
        text = data[start:end + 1].decode("utf-8", "replace")
        nums = re.findall(r"\b(0[xX][0-9a-fA-F]+|\d+)", text)
        if len(nums) == 1:
            return int(nums[0], 0)
        if not nums and text.rstrip(")").rstrip().endswith(("aligned", "__aligned__")):
            return 16   # aligned without a number: the largest alignment of any type
        return natural

    def _enum(self, defn, head, key, t):
        consts = [c for c in lc.children(defn) if c.kind == lc.CURSOR_ENUM_CONST]
        base = lc.getEnumDeclIntegerType(defn)
        unsigned = lc.getCanonicalType(base).kind in (lc.T_UINT, lc.T_ULONG, lc.T_ULONGLONG, lc.T_USHORT,
                                                       lc.T_UCHAR, lc.T_BOOL, lc.T_CHAR_U)
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
        model_size = ((4 if hi <= 0xFFFFFFFF else 8) if lo >= 0
                      else (4 if -(2 ** 31) <= lo and hi < 2 ** 31 else 8))
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
        if (is_reserved(name) and symbol is None):
            return
        if name in self.names:
            # A redeclaration may bind another symbol (glibc's __REDIRECT: sscanf is
            # __isoc99_sscanf); the label of the last one is the one in force.
            if self.names[name] == "function" and symbol is None and lc.hasAttrs(c) and \
                    any(ch.kind == lc.CURSOR_ASM_LABEL_ATTR for ch in lc.children(c)):
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
            else:   # declared through a typedef of a function type: no parameter names
                names = [""] * n
                types = [lc.getArgType(t, i) for i in range(n)]
            params = [self.spell(at, nm) for at, nm in zip(types, names)]
            variadic = bool(lc.isFunctionTypeVariadic(t))
            if variadic:
                params.append("...")
            declarator = f"{name}({', '.join(params) or 'void'})"
            self.signatures[name] = [self.kind_code(result), [self.kind_code(at) for at in types],
                                     variadic, names]
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

    def variable(self, c, name, fid):
        if is_reserved(name) or name in self.names or lc.getStorageClass(c) == lc.SC_STATIC:
            return
        if lc.getCursorTLSKind(c) != lc.TLS_NONE:
            self.skipped.setdefault(name, "thread-local variable: no single address to bind")
            return
        text = self.spell(lc.getCursorType(c), name) + ";"
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


# ---- the whole header ---------------------------------------------------------------

def translate(header_path, args, user_dirs, system_dirs, check=None):
    """Translate the header at ``header_path``, parsed with compiler arguments ``args``
    (``user_dirs`` and ``system_dirs``: its include search path).

    ``check(model)`` declares the text with ndffi's parser and compares the layouts; a
    :class:`LayoutMismatch` it raises is retried with each other way clang may have
    packed that record, and raised when none agrees.  Returns the model (a dict, see
    :mod:`ndffi._headers`)."""
    header_path = os.path.normpath(os.path.abspath(header_path))
    macros = scan_macros(header_path, user_dirs, system_dirs)
    main = os.path.join(os.path.dirname(header_path), MAIN_NAME)
    source, plans = _main_source(header_path, macros)
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


def _main_source(header_path, macros):
    """The translation unit: the header, then, for each macro that is not a plain
    literal, variables initialized with it (when it is defined), whose values clang
    evaluates.  Returns (source, {id: plan}) with the plans of function-like macros."""
    lines = [f'#include "{header_path}"']
    plans = {}
    for name, defs in macros.items():
        if is_reserved(name):
            continue
        exprs = []
        object_like = None
        for d, m in enumerate(defs):
            if m.undef:
                continue
            if m.params is None:
                if literal_text(m.text) is None and _is_expression(m.tokens):
                    object_like = (f"m_{name}", name, m.tokens)
            else:
                plan = _forward_plan(m.params, m.tokens)
                plans[(name, d)] = plan
                if plan is not None:
                    for i, (kind, value) in enumerate(plan[1]):
                        if kind == "expr":
                            exprs.append((f"a{d}_{i}_{name}", value[0], value[1]))
        if object_like is not None:
            exprs.append(object_like)
        if not exprs:
            continue
        lines.append(f"#ifdef {name}")
        for ident, expr, toks in exprs:
            lines.append(f"static __auto_type __ndffi_v_{ident} = ({expr});")
            if _may_be_pointer(toks):
                lines.append(f"static const unsigned long long __ndffi_p_{ident} = "
                             f"(unsigned long long)({expr});")
            if _may_be_string(toks):
                lines.append(f"static const char __ndffi_s_{ident}[] = {expr};")
        lines.append("#endif")
    return "\n".join(lines) + "\n", plans


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
    # The header's file id, and the evaluation variables (at the end, in the main file).
    for src, inc in lc.inclusions(tu):
        if src and not header_fid and os.path.basename(lc.file_name(src)) == MAIN_NAME:
            header_fid = inc
    main_fid = None
    while decls and decls[-1][1] == lc.CURSOR_VAR:
        c, kind, fid = decls[-1]
        if main_fid is None:
            if os.path.basename(lc.file_name(fid)) != MAIN_NAME:
                break
            main_fid = fid
        if fid != main_fid:
            break
        main_vars.append(decls.pop()[0])
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
    for c, kind, fid in decls:
        if kind == lc.CURSOR_TYPEDEF:
            typedefs[lc.spelling(c)] = c
    tr = Translator(owned, typedefs, fixes, source)
    for c, kind, fid in decls:
        if fid in owned:
            tr.declaration(c, kind, fid)

    skipped = {tr.file_name(f): sorted(lc.skipped_lines(tu, f)) for f in owned if f}
    macro_info = _macros(tr, macros, plans, main_vars, skipped)

    files = {header_path}
    for _src, inc in lc.inclusions(tu):
        name = os.path.normpath(lc.file_name(inc))
        if os.path.basename(name) != MAIN_NAME:
            files.add(name)
    model = {
        "text": "\n".join(tr.chunks + macro_info["defines"]) + "\n",
        "declarations": tr.decls,
        "functions": tr.functions,
        "variables": tr.variables,
        "types": tr.types,
        "constants": tr.constants + macro_info["constants"],
        "pointers": macro_info["pointers"],
        "function_macros": macro_info["function_macros"],
        "macros": macro_info["other"],
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
    for spelling, _key_, t in tr.records:
        out[spelling] = _record_layout(t)
    for spelling, t in tr.enums:
        out[spelling] = [lc.getSizeOf(t), lc.getAlignOf(t), None]
    return out


def _record_layout(t):
    members = []
    for f in lc.fields(t):
        width = lc.getFieldDeclBitWidth(f) if lc.isBitField(f) else -1
        if width == 0:
            continue   # a zero-width bit-field only moves the next member
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


# ---- macros -------------------------------------------------------------------------

def _in_force(defs, skipped):
    """The definition of a macro in force at the end of the header (None if it is not
    defined): the last #define or #undef outside the skipped parts of its file."""
    current = None
    for d, m in enumerate(defs):
        ranges = skipped.get(m.path)
        if ranges is None:
            continue   # a file the header does not own
        i = bisect.bisect_right(ranges, (m.line, float("inf"))) - 1
        if i >= 0 and ranges[i][0] <= m.line <= ranges[i][1]:
            continue   # in a skipped #if branch
        current = None if m.undef else (d, m)
    return current


def _macros(tr, macros, plans, main_vars, skipped):
    """The values of the header's macros, from the evaluation variables."""
    cursors = {}
    for c in main_vars:
        cursors[lc.spelling(c)[len("__ndffi_"):]] = c

    def value_of(ident):
        c = cursors.get("v_" + ident)
        if c is None:
            return None, None
        value = lc.evaluate(c)
        t = lc.getCursorType(c)
        if value is None and lc.getCanonicalType(t).kind == lc.T_POINTER:
            sc = cursors.get("s_" + ident)
            value = lc.evaluate(sc) if sc is not None else None
            if value is not None and value[0] != "string":
                value = None
            if value is None:
                pc = cursors.get("p_" + ident)
                address = lc.evaluate(pc) if pc is not None else None
                if address is not None and address[0] == "int":
                    value = ("pointer", address[1] & 0xFFFFFFFFFFFFFFFF)
        return t, value

    defines, constants, pointers, other, function_macros = [], [], {}, {}, {}
    for name, defs in macros.items():
        if is_reserved(name):
            continue
        found = _in_force(defs, skipped)
        if found is None:
            continue
        d, m = found
        loc = [m.path, m.line]
        if m.params is not None:
            entry = {"params": m.params, "body": m.body, "forward": None}
            plan = plans.get((name, d))
            if plan is not None and tr.names.get(plan[0]) == "function":
                entry["forward"] = _forward(tr, name, d, plan, value_of)
            function_macros[name] = entry
            tr.locations.setdefault(name, loc)
            continue
        if name in tr.names or not m.text.strip():
            continue
        named = _strip_parens(m.tokens)
        if len(named) == 1 and named[0][1] in tr.function_cursors:
            # Another name of a function (#define mpz_add __gmpz_add): the function, as it.
            c, fid = tr.function_cursors[named[0][1]]
            try:
                tr.function(c, name, fid, symbol=named[0][1])
            except _Unsupported as exc:
                tr.skipped.setdefault(name, str(exc))
            tr.drain()
            if name in tr.decls:
                tr.locations[name] = loc
            continue
        literal = literal_text(m.text)
        if literal is not None:
            defines.append(f"#define {name} {literal}")
        else:
            t, value = value_of("m_" + name)
            if value is None:
                if m.tokens:
                    other[name] = m.body
                continue
            kind, v = value
            canon = lc.getCanonicalType(t).kind
            try:
                if kind == "int":
                    defines.append(f"#define {name} {c_int(v, canon)}")
                elif kind == "float":
                    defines.append(f"#define {name} {c_float(v, canon == lc.T_FLOAT)}")
                elif kind == "string":
                    defines.append(f"#define {name} {c_string(v)}")
                else:
                    pointers[name] = [tr.spell_value_type(t), v]
                    tr.drain()
            except _Unsupported:
                other[name] = m.body
                continue
        tr.names[name] = "constant"
        constants.append(name)
        tr.locations.setdefault(name, loc)
    return {"defines": defines, "constants": constants, "pointers": pointers,
            "function_macros": function_macros, "other": other}


def _forward(tr, name, d, plan, value_of):
    target, arg_plans = plan
    call = []
    for i, (kind, value) in enumerate(arg_plans):
        if kind == "param":
            call.append(["param", value])
            continue
        t, val = value_of(f"a{d}_{i}_{name}")
        if val is None:
            return None
        if val[0] == "pointer":
            try:
                val = ("pointer", [tr.spell_value_type(t), val[1]])
            except _Unsupported:
                return None
            tr.drain()
        call.append(["const", val[0], val[1], value[0]])
    return {"target": target, "args": call}
