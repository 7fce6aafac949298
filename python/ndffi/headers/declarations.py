"""A Library's declarations from a header's model: its types and constants declared at
once, each function and global variable when it is first used, asm labels followed to
their symbols, macros that are expressions evaluated when used, and macros that forward
to a function callable as Python functions."""

from __future__ import annotations

import threading

from ..library import Declarations, Library
from .cache import complete
from .model import import_header


class HeaderDeclarations(Declarations):
    """The :class:`~ndffi.library.Declarations` of a header's model (see
    :mod:`ndffi.headers.model`)."""

    def __init__(self, model):
        self._model = model
        self._aliases = model["aliases"]
        self._expressions = model.get("expressions", {})
        self._lazy = dict(model["declarations"])
        self._lazy.update(model["defines"])  # parsing thousands of #define lines costs ms
        self._lock = threading.RLock()  # another thread may be declaring the same name
        self._shadowed = {}  # functions a macro of the same name stands for

    def attach(self, lib):
        lib._declare(self._model["text"])
        attributes = {}
        for name, (ctype, address) in self._model["pointers"].items():
            attributes[name] = lib.cast(ctype, address)
        for name, macro in self._model["function_macros"].items():
            if macro.get("forward"):
                attributes[name] = macro_function(lib, name, macro)
        return attributes

    def declare(self, lib, name):
        if name in self._lazy:
            with self._lock:
                text = self._lazy.pop(name, None)
                if text is not None:
                    lib._declare(text)

    def declare_all(self, lib):
        with self._lock:
            if self._lazy:
                lib._declare("\n".join(self._lazy.values()))
                self._lazy.clear()

    def pending(self):
        return list(self._lazy)

    def symbol(self, name):
        return self._aliases.get(name, name)

    def value(self, lib, name):
        tree = self._expressions.get(name)
        return self.MISSING if tree is None else self._evaluate(lib, tree)

    def _evaluate(self, lib, tree):
        """The value of a macro's expression (see ``expressions`` in the model), as C
        would compute it where the macro is used: its calls made, its variables read."""
        tag = tree[0]
        if tag == "const":
            return tree[1]
        if tag == "seq":
            self._evaluate(lib, tree[1])
            return self._evaluate(lib, tree[2])
        if tag == "deref":
            return self._evaluate(lib, tree[1])[0]
        if tag == "var":
            return getattr(lib, tree[1])
        if tag == "addr":
            getattr(lib, tree[1])  # declared
            return lib._ns.variable(tree[1], lib._address(tree[1]))
        if tag == "call":
            return self.c_function(lib, tree[1])(*[self._evaluate(lib, a) for a in tree[2]])
        raise ValueError(f"internal error: unknown expression {tag!r}")

    def why_missing(self, name):
        model = self.model
        if name in model["skipped"]:
            return f"{name!r} is not declared: {model['skipped'][name]}"
        if name in model["function_macros"]:
            m = model["function_macros"][name]
            return (
                f"{name!r} is a function-like macro that does not call a function "
                f"with constant arguments: #define {name}({', '.join(m['params'])}) {m['body']}"
            )
        if name in model["types"]:
            return f"{name!r} is a type: use lib.types.{name}"
        if name in model["macros"]:
            return f"{name!r} is a macro that is not a constant: #define {name} {model['macros'][name]}"
        return None

    @property
    def model(self):
        return complete(self._model)

    def c_function(self, lib, name):
        """The C function ``name`` of ``lib``, also where a macro of the same name stands
        in its place as the attribute (``#define f(a) f(a, 0)``)."""
        func = lib.__dict__.get(name)
        if func is not None and not getattr(func, "__ndffi_macro__", False):
            return func
        if func is None:
            return getattr(lib, name)
        with self._lock:
            func = self._shadowed.get(name)
            if func is None:
                self.declare(lib, name)
                address = lib._address(name)
                if address is None:
                    raise AttributeError(lib._missing_symbol(self.symbol(name), lib._ns.decl(name)[1]), obj=lib)
                func = self._shadowed[name] = lib._make_function(name, address)
        return func


def header_library(handle, name, use_errno, header, include_dirs=(), defines=None, flags=()):
    """The Library of ``handle`` with the declarations of ``header``."""
    model = import_header(header, include_dirs, defines, flags, whole=False)
    return Library(handle, name, use_errno, HeaderDeclarations(model))


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
    declarations = lib._declarations

    def call(*args):
        if len(args) != nparams:
            raise TypeError(
                f"{name}() takes {nparams} argument{'s' if nparams != 1 else ''} "
                f"({', '.join(params)}), {len(args)} given"
            )
        return declarations.c_function(lib, target)(*[args[v] if is_param else v for is_param, v in plan])

    call.__name__ = call.__qualname__ = name
    call.__ndffi_macro__ = True
    call.__doc__ = (
        f"{name}({', '.join(params)}): the C macro\n\n"
        f"    #define {name}({', '.join(params)}) {macro['body']}\n\n"
        f"calling {target}() with its constant arguments as clang evaluates them."
    )
    return call
