"""Generate a Python module (and its type stub) from a C header.

``python -m ndffi generate zlib.h -l z -o zlib_ffi.py`` writes ``zlib_ffi.py``, which
holds the header's declarations as text for ndffi's own parser (importing it needs no
libclang) and one wrapper per C function, with the header's comment and the C prototype
as its docstring, and ``zlib_ffi.pyi``, a stub for type checkers.
"""

from __future__ import annotations

import bisect
import keyword
import os
import re
import textwrap
from collections.abc import Iterable
from typing import Any

from .._support.atomic import atomic_write
from .._support.version import version
from .model import import_header

__all__ = ["generate_module", "generate", "module_source", "header_docs"]


# ---- comments of the header ---------------------------------------------------------

_SCAN = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', re.S)


class _File:
    """A header's text with its comments located by line."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.text = f.read().decode("utf-8", "replace")
        self.lines = self.text.split("\n")
        self.newlines = [m.start() for m in re.finditer("\n", self.text)]
        self.comments = []  # (first line, last line, start offset, end offset, text), 1-based lines
        merged = []
        for m in _SCAN.finditer(self.text):
            s = m.group()
            if not s.startswith("/"):
                continue
            first, last = self.line_of(m.start()), self.line_of(m.end() - 1)
            # Consecutive // lines are one comment.
            if (
                s.startswith("//")
                and merged
                and merged[-1][4].startswith("//")
                and merged[-1][1] == first - 1
                and not self.code_before(m.start())
            ):
                f0, _, st, _, t = merged[-1]
                merged[-1] = (f0, last, st, m.end(), t + "\n" + s)
                continue
            merged.append((first, last, m.start(), m.end(), s))
        self.comments = merged
        self.by_last = {c[1]: c for c in merged}
        self.by_first = {}
        for c in merged:
            self.by_first.setdefault(c[0], c)

    def line_of(self, offset):
        return bisect.bisect_left(self.newlines, offset) + 1

    def code_before(self, offset):
        start = self.text.rfind("\n", 0, offset) + 1
        return bool(self.text[start:offset].strip())

    def line(self, n):
        return self.lines[n - 1] if 0 < n <= len(self.lines) else ""


def _clean(comment):
    """The text of a comment without its markers and the decoration of its lines."""
    if comment.startswith("//"):
        lines = [re.sub(r"^\s*//+!?<?", "", ln) for ln in comment.split("\n")]
    else:
        body = comment[2:-2]
        if body[:1] in ("*", "!"):
            body = body[1:]
        body = body.lstrip("<")
        lines = body.split("\n")
        deco = [ln for ln in lines[1:] if ln.strip()]
        if deco and all(re.match(r"^\s*\*", ln) for ln in deco):
            lines = [lines[0]] + [re.sub(r"^\s*\*+ ?", "", ln) for ln in lines[1:]]
    first = lines[0].strip()
    rest = textwrap.dedent("\n".join(lines[1:]))
    text = (first + "\n" + rest).strip("\n")
    text = "\n".join(ln.rstrip() for ln in text.split("\n")).strip()
    return text if len(text) <= 6000 else text[:6000].rstrip() + "\n..."


def _declaration_lines(f, line):
    """(first, last) line of the declaration whose name is on ``line``."""
    first = line
    while first > 1:
        prev = f.line(first - 1).strip()
        if not prev or prev.endswith((";", "}", "*/", "{")) or prev.startswith(("#", "//")):
            break
        first -= 1
    last, depth = line, 0
    while last <= len(f.lines):
        code = re.sub(r"/\*.*?\*/|//.*", "", f.line(last))
        depth += code.count("(") - code.count(")")
        if depth <= 0 and (";" in code or "{" in code):
            break
        last += 1
    return first, min(last, len(f.lines))


def _doc_for(f, line, name, macro=False):
    """The comment documenting the declaration whose name is on ``line``: the one just
    before it (or before the group of declarations it belongs to), else one right after
    it (zlib's style)."""
    if macro:
        first, last = line, line
        while f.line(last).rstrip().endswith("\\"):
            last += 1
    else:
        first, last = _declaration_lines(f, line)
    n = first - 1
    for _ in range(60):
        if n < 1 or not f.line(n).strip() or f.line(n).lstrip().startswith("#"):
            break
        c = f.by_last.get(n)
        if c is not None and not f.code_before(c[2]):
            return _clean(c[4])
        n -= 1
    end = f.text.rfind(";", 0, f.newlines[last - 1] if last - 1 < len(f.newlines) else len(f.text))
    for c in f.comments:
        if c[0] > last + 1:
            break
        if c[2] > end and (c[0] == last or (c[0] == last + 1 and not f.code_before(c[2]))):
            return _clean(c[4])
    return None


def _doc_naming(f, name):
    """A comment that starts with a prototype of ``name`` (how zlib documents the
    functions it defines as macros)."""
    pattern = re.compile(r"^\W*(?:[\w\s\*]+\s)?" + re.escape(name) + r"\s*(?:OF\s*)?\(")
    for c in f.comments:
        head = c[4][2:].lstrip("*! \t\n")
        if pattern.match(head.split("\n", 1)[0]):
            return _clean(c[4])
    return None


def header_docs(model):
    """{name: docstring text} for the functions and function-like macros of a model,
    from the comments next to their declarations in the header."""
    files = {}
    docs = {}

    def file(path):
        if path not in files:
            try:
                files[path] = _File(path)
            except OSError:
                files[path] = None
        return files[path]

    names = list(model["functions"]) + list(model["function_macros"])
    for name in names:
        loc = model["locations"].get(name)
        if not loc:
            continue
        f = file(loc[0])
        if f is None:
            continue
        macro = name in model["function_macros"]
        doc = _doc_for(f, loc[1], name, macro)
        if doc is None:
            doc = _doc_naming(f, name)
        if doc:
            docs[name] = doc
    return docs


# ---- the module ---------------------------------------------------------------------

_HELPERS = ("lib", "types", "new", "cast", "sizeof", "typeof")


def _py_name(name, taken=()):
    out = name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name
    while out in taken:
        out += "_"
    return out


def _params(names, count):
    out = []
    for i in range(count):
        n = names[i] if i < len(names) and names[i] else f"arg{i}"
        n = _py_name(n, set(out) | {"_lib"})
        out.append(n)
    return out


def _docstring(text, indent="    "):
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text += " "
    lines = text.split("\n")
    body = ("\n" + indent).join(lines) if len(lines) > 1 else lines[0]
    body = "\n".join(ln.rstrip() for ln in body.split("\n"))
    return f'{indent}"""{body}\n{indent}"""' if len(lines) > 1 else f'{indent}"""{body}"""'


def _value_literal(value):
    if isinstance(value, float):
        if value != value:
            return "float('nan')"
        if value in (float("inf"), float("-inf")):
            return "float('inf')" if value > 0 else "-float('inf')"
    return repr(value)


_ANNOTATION = {
    "int": "int",
    "float": "float",
    "complex": "complex",
    "bool": "bool",
    "void": "None",
    "str": "_CString",
    "ptr": "_Pointer",
    "fn": "_Function",
    "struct": "_Struct",
    "any": "Any",
}
_RESULT = {
    "int": "int",
    "float": "float",
    "complex": "complex",
    "bool": "bool",
    "void": "None",
    "str": "_Pointer",
    "ptr": "_Pointer",
    "fn": "_Pointer",
    "struct": "_Struct",
    "any": "Any",
}


_PTR_STUB = '''_T = TypeVar("_T")


class _Ptr(Generic[_T]):
    """An ndffi.Pointer to C memory holding values of type _T."""
    def __getitem__(self, index: int) -> _T: ...
    def __setitem__(self, index: int, value: _T) -> None: ...
    def __bool__(self) -> bool: ...
    def __int__(self) -> int: ...
    def string(self, length: int = ...) -> bytes: ...
    def as_array(self, shape: Any = ..., dtype: Any = ...) -> Any: ...
'''


class _PyTypes:
    """Python annotations of C types, for the stub: the stub's classes of the header's
    structs and enums by name, ``_Ptr[...]`` of pointers by what they point to."""

    def __init__(self, ns, model):
        self.ns = ns
        self.named = {}  # C spelling of a struct, union or enum -> its class in the stub
        for name in model["types"]:
            t = ns.typedef(name)
            if (
                t is not None
                and t.kind in ("struct", "union", "enum")
                and name.isidentifier()
                and not keyword.iskeyword(name)
            ):
                self.named.setdefault(t.cname, name)

    def of(self, t, depth=0):
        kind = t.kind
        if kind in ("int", "enum"):
            return "int"
        if kind == "bool":
            return "bool"
        if kind in ("float", "complex"):
            return kind
        if kind == "void":
            return "None"
        if kind in ("struct", "union"):
            return self.named.get(t.cname, "Any")
        if kind in ("pointer", "array") and depth < 4:
            item = t.item
            inner = "Any" if item is None or item.kind in ("void", "function") else self.of(item, depth + 1)
            return f"_Ptr[{inner}]"
        return "Any"

    def result(self, function, fallback):
        decl = self.ns.decl(function)
        if decl is None or decl[0] != "function" or decl[2].item is None:
            return fallback
        result = decl[2].item
        if result.kind in ("pointer", "struct", "union"):
            return self.of(result)
        return fallback

    def class_stub(self, name, t):
        """A class with the members of a struct (typed), or an IntEnum of an enum's."""
        own = self.named.get(t.cname)
        if own is not None and own != name:
            return f"{name} = {own}"
        if t.kind == "enum":
            members = [
                f"    {n} = {v}"
                for n, v in (dict(t.enumerators or ()).items())
                if n.isidentifier() and not keyword.iskeyword(n) and not n.startswith("_")
            ]
            return f"class {name}(IntEnum):\n" + ("\n".join(members) or "    pass") + "\n"
        lines = [f"class {name}:", f'    """{t.cname} ({t.size} bytes)"""']
        for fname, ftype, _offset, _bits in t.fields or ():
            if fname and fname.isidentifier() and not keyword.iskeyword(fname):
                lines.append(f"    {fname}: {self.of(ftype)}")
        lines.append("    def __init__(self, *values: Any, **members: Any) -> None: ...")
        return "\n".join(lines) + "\n"


def module_source(
    header, library=None, *, include_dirs=(), defines=None, lib_dirs=(), module_name="module", clang_args=()
):
    """(module text, stub text) of the module ``generate`` writes."""
    __version__ = version()
    from .._ndffi import Namespace

    model = import_header(header, include_dirs, defines, clang_args)
    ns = Namespace()
    ns.cdef(model["text"] + "\n".join(model["defines"].values()) + "\n")
    ns.cdef("\n".join(model["declarations"].values()) + "\n")
    docs = header_docs(model)

    taken = set()
    py, pyi = [], []
    lib_args = ", ".join([repr(library)] + [repr(os.path.abspath(d)) for d in lib_dirs])
    py.append(
        f'"""ndffi bindings of {os.path.basename(model["header"])}'
        f"{' for the library ' + repr(library) if library else ''}.\n\n"
        f"Generated by ``python -m ndffi generate`` (ndffi {__version__}, libclang "
        f"{model.get('clang')}) from\n{model['header']}; generate it again rather than "
        f"editing it.  The declarations\nare read by ndffi's own C parser: importing "
        f'this module does not need libclang.\n"""\n'
    )
    py.append("import ndffi as _ndffi\n")
    pyi.append(f'"""Type stub of the ndffi bindings of {os.path.basename(model["header"])}."""\n')
    pyi.append("from enum import IntEnum")
    pyi.append("from typing import Any, Callable, Generic, TypeAlias, TypeVar, Union\n")
    pyi.append(_PTR_STUB)
    pyi.append("_Pointer: TypeAlias = Any   # an ndffi.Pointer, an array or buffer, or None")
    pyi.append("_CString: TypeAlias = Union[bytes, str, _Pointer]")
    pyi.append("_Function: TypeAlias = Union[Callable[..., Any], _Pointer]")
    pyi.append("_Struct: TypeAlias = Any   # a struct value, a tuple or dict of its members\n")
    py_types = _PyTypes(ns, model)

    # A function whose symbol has another name (an asm label, a macro naming it) is
    # declared by its symbol's name; its wrapper has the header's name.
    aliases = model["aliases"]
    declarations = {}
    for name, text in model["declarations"].items():
        symbol = aliases.get(name)
        if symbol is not None:
            text = re.sub(r"\b" + re.escape(name) + r"(?=\s*\()", symbol, text, count=1)
        declarations[name] = text
    decl_lines = model["text"].rstrip("\n").split("\n") + list(model["defines"].values()) + list(declarations.values())
    py.append("DECLARATIONS = (")
    for line in decl_lines:
        py.append(f"    {line + chr(10)!r}")
    py.append(")\n")
    py.append(f"_lib = _ndffi.load({lib_args if library else 'None'})")
    py.append("_lib.cdef(DECLARATIONS)\n")

    c_names = (
        set(model["functions"])
        | set(model["variables"])
        | set(model["constants"])
        | set(model["pointers"])
        | {n for n, m in model["function_macros"].items() if m.get("forward")}
    )
    exported = []
    helpers = []
    for h in _HELPERS:
        if h in c_names:
            continue
        helpers.append(h)
        value = "_lib" if h == "lib" else "_lib.types" if h == "types" else f"_lib.{h}"
        py.append(f"{h} = {value}")
        exported.append(h)
        pyi.append(f"{h}: Any" if h in ("lib", "types") else f"def {h}(*args: Any) -> Any: ...")
        taken.add(h)

    # Types: the typedef names of structs, unions and enums.
    type_lines = []
    for name in model["types"]:
        t = ns.typedef(name)
        if t is None or t.kind not in ("struct", "union", "enum") or name in c_names or name in taken:
            continue
        type_lines.append(f"{name} = _lib.types.{name}")
        pyi.append(py_types.class_stub(name, t))
        exported.append(name)
        taken.add(name)
    if type_lines:
        py.append("\n# Types")
        py += type_lines

    # Constants.
    py.append("\n# Constants")
    for name in model["constants"]:
        c = ns.constant(name)
        if c is None or name in taken:
            continue
        pname = _py_name(name, taken)
        value = c[0]
        py.append(f"{pname} = {_value_literal(value)}")
        pyi.append(f"{pname}: {type(value).__name__}")
        exported.append(pname)
        taken.add(pname)
    for name, (ctype, address) in model["pointers"].items():
        pname = _py_name(name, taken)
        py.append(f"{pname} = _lib.cast({ctype!r}, {address})")
        pyi.append(f"{pname}: _Pointer")
        exported.append(pname)
        taken.add(pname)

    py.append("\n# Functions")
    _functions(model, docs, py_types, taken, py, pyi, exported)
    _forwarding_macros(model, docs, py_types, taken, py, pyi, exported)

    names = textwrap.fill(
        ", ".join(repr(n) for n in exported),
        width=84,
        initial_indent="    ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )
    py.insert(2, f"__all__ = [\n{names},\n]\n")
    return "\n".join(py) + "\n", "\n".join(pyi) + "\n"


def _functions(model, docs, py_types, taken, py, pyi, exported):
    """The wrappers of the header's functions (into ``py``) and their stubs (``pyi``)."""
    aliases = model["aliases"]
    for name in model["functions"]:
        sig = model["signatures"].get(name)
        if sig is None or name in taken:
            continue
        result, kinds, variadic, names = sig
        pname = _py_name(name, taken)
        params = _params(names, len(kinds))
        args = ", ".join(params)
        rest = (", *args" if params else "*args") if variadic else ""
        sig_py = ", ".join(params + ["/"] if params else []) + rest
        call = args + rest
        prototype = model["declarations"][name].rstrip(";")
        doc = docs.get(name)
        doctext = (doc + "\n\n" if doc else "") + f"C: {prototype}"
        py.append(f"\n\ndef {pname}({sig_py}):")
        py.append(_docstring(doctext))
        py.append(f"    return _lib.{aliases.get(name, name)}({call})")
        ann = ", ".join(
            [f"{p}: {_ANNOTATION.get(k, 'Any')}" for p, k in zip(params, kinds, strict=False)]
            + (["/"] if params else [])
        )
        if variadic:
            ann += (", " if ann else "") + "*args: Any"
        pyi.append(f"def {pname}({ann}) -> {py_types.result(name, _RESULT.get(result, 'Any'))}: ...")
        exported.append(pname)
        taken.add(pname)


def _forwarding_macros(model, docs, py_types, taken, py, pyi, exported):
    """The wrappers of the function-like macros that call a function with constant
    arguments, and their stubs."""
    aliases = model["aliases"]
    for name, macro in model["function_macros"].items():
        fwd = macro.get("forward")
        if not fwd or name in taken:
            continue
        pname = _py_name(name, taken)
        params = _params(macro["params"], len(macro["params"]))
        call = []
        for arg in fwd["args"]:
            if arg[0] == "param":
                call.append(params[arg[1]])
            elif arg[1] == "string":
                call.append(repr(arg[2].encode("utf-8", "surrogateescape")))
            elif arg[1] == "pointer":
                call.append(f"_lib.cast({arg[2][0]!r}, {arg[2][1]})")
            else:
                call.append(_value_literal(arg[2]))
        doc = docs.get(name)
        doctext = (
            (doc + "\n\n") if doc else ""
        ) + f"C macro: #define {name}({', '.join(macro['params'])}) {macro['body']}"
        py.append(f"\n\ndef {pname}({', '.join(params + ['/']) if params else ''}):")
        py.append(_docstring(doctext))
        py.append(f"    return _lib.{aliases.get(fwd['target'], fwd['target'])}({', '.join(call)})")
        target_sig = model["signatures"].get(fwd["target"])
        kinds = ["any"] * len(params)
        if target_sig:
            for arg, k in zip(fwd["args"], target_sig[1], strict=False):
                if arg[0] == "param":
                    kinds[arg[1]] = k
        ann = ", ".join(
            [f"{p}: {_ANNOTATION.get(k, 'Any')}" for p, k in zip(params, kinds, strict=False)]
            + (["/"] if params else [])
        )
        result = _RESULT.get(target_sig[0], "Any") if target_sig else "Any"
        result = py_types.result(fwd["target"], result)
        pyi.append(f"def {pname}({ann}) -> {result}: ...")
        exported.append(pname)
        taken.add(pname)


_WRITTEN_BY_NDFFI = (b'"""ndffi bindings of ', b'"""Type stub of the ndffi bindings of ')


def _not_ours(path):
    """Whether ``path`` exists and is no module or stub ``generate`` wrote (the user's)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    if head.startswith(_WRITTEN_BY_NDFFI[1]):
        return False
    return not (head.startswith(_WRITTEN_BY_NDFFI[0]) and b"Generated by ``python -m ndffi generate``" in head)


def generate_module(header, lib, output, *, include_dirs=(), defines=None, lib_dirs=(), clang_args=(), force=False):
    """Write the module for ``header`` and library ``lib`` to ``output`` (a .py path)
    and its stub next to it (.pyi).  Returns the two paths.  A file there that
    ``generate`` did not write is never replaced (FileExistsError), unless ``force``."""
    output = os.fspath(output)
    if not output.endswith(".py"):
        output += ".py"
    theirs = [p for p in (output, output[:-3] + ".pyi") if _not_ours(p)]
    if theirs and not force:
        raise FileExistsError(
            f"not overwriting {' and '.join(theirs)}: not written by ndffi generate. Choose another output "
            "(-o FILE.py), move the file away, or replace it with --force (force=True)"
        )
    name = os.path.splitext(os.path.basename(output))[0]
    source, stub = module_source(
        header,
        lib,
        include_dirs=include_dirs,
        defines=defines,
        lib_dirs=lib_dirs,
        module_name=name,
        clang_args=clang_args,
    )
    stub_path = output[:-3] + ".pyi"
    d = os.path.dirname(os.path.abspath(output))
    os.makedirs(d, exist_ok=True)
    for path, text in ((output, source), (stub_path, stub)):
        atomic_write(path, text.encode("utf-8"))
    return [output, stub_path]


def generate(
    header: str | os.PathLike[str],
    *,
    library: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    defines: Any = None,
    lib_dirs: Iterable[str | os.PathLike[str]] = (),
    clang_args: Iterable[str] = (),
    force: bool = False,
) -> str | tuple[str, str]:
    """The module for ``header`` (and ``library``): its source text when ``output`` is
    None, else the paths written (the module and its .pyi stub; files there that
    ``generate`` did not write are replaced only with ``force``)."""
    if output is None:
        return module_source(
            header, library, include_dirs=include_dirs, defines=defines, lib_dirs=lib_dirs, clang_args=clang_args
        )[0]
    return generate_module(
        header,
        library,
        output,
        include_dirs=include_dirs,
        defines=defines,
        lib_dirs=lib_dirs,
        clang_args=clang_args,
        force=force,
    )
