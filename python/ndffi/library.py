"""Library: a loaded shared library and the C declarations made for it."""

import enum
import os
import weakref

from . import callback as _callback
from .loading import elf as _elf
from .loading import search as _loader
from . import pickling as _pickle
from ._ndffi import Function, Namespace, Pointer, dlopen


class Types:
    """A library's C types: ``lib.types.Weather`` (typedef names and tags) and
    ``lib.types["struct Weather_t *"]`` (any C type spelling).  Structs and unions are
    CTypes (call one to make a value); enums are ``enum.IntEnum`` classes."""

    def __init__(self, namespace):
        self._ns = namespace
        self._enums = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        t = self._ns.typedef(name)
        if t is None:
            t = self._tag(name)
        if t is None:
            raise AttributeError(f"no type named {name!r} is declared (see cdef())")
        return self._enum(t) if t.kind == "enum" else t

    def _tag(self, name):
        # A tag declared by cdef: "struct NAME", "union NAME" or "enum NAME".
        for kind in ("struct", "union", "enum"):
            if self._ns.has_tag(kind, name):
                return self._ns.type(f"{kind} {name}")
        return None

    def __getitem__(self, spelling):
        t = self._ns.type(spelling)
        return self._enum(t) if t.kind == "enum" else t

    def _enum(self, t):
        cls = self._enums.get(t.cname)
        if cls is None:
            cls = enum.IntEnum(t.name or "enum", t.enumerators)
            cls.ctype = t
            self._enums[t.cname] = cls
        return cls

    def __dir__(self):
        return list(self._ns.typedef_names())


class Library:
    """A shared library opened by :func:`ndffi.load`.

    Declare what it holds with :meth:`cdef`; declared functions are then attributes
    (``lib.fib(8)``), made once on first use and called without any per-call parsing.
    """

    def __init__(self, handle, name, use_errno=False):
        d = self.__dict__
        d["_handle"] = handle
        d["_name"] = name
        d["_ns"] = Namespace()
        d["_use_errno"] = use_errno
        d["_release_gil"] = {}
        d["types"] = Types(d["_ns"])
        d["_record"] = _pickle.track(self, handle)   # how to make it again, for pickling

    @property
    def path(self):
        """The file the library was loaded from ("" for the running process)."""
        return self._handle.path

    def cdef(self, text, *, release_gil=True):
        """Declare C functions, types and globals of this library.

        ``release_gil=False`` keeps the GIL during calls of the functions declared here:
        for functions so short that releasing and retaking it would cost more than the
        call itself.
        """
        for name in self._ns.cdef(text):
            self._release_gil.setdefault(name, release_gil)
        self._record.add_cdef(text, release_gil=release_gil)
        return self

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        decl = self._ns.decl(name)
        if decl is None:
            constant = self._ns.constant(name)
            if constant is not None:
                return constant[0]
            raise AttributeError(f"{self._label()} has no declaration of {name!r}; "
                                 f"declare it with cdef()")
        kind, prototype, ctype = decl
        address = self._handle.symbol(name)
        if address is None:
            raise AttributeError(self._missing_symbol(name, prototype))
        if kind == "function":
            func = self._ns.function(name, address, self._handle,
                                     self._release_gil.get(name, True), self._use_errno)
            self.__dict__[name] = func   # later look-ups find it without __getattr__
            made(self, func)
            return self._promised(name, func)
        pointer = self._ns.variable(name, address, self._handle)
        # A global array is its Pointer (bounded, indexable); any other global its value.
        return pointer if ctype.kind == "array" else pointer[0]

    def __setattr__(self, name, value):
        decl = self._ns.decl(name)
        if decl is None or decl[0] != "variable":
            raise AttributeError(f"cannot set {name!r}: only declared C global variables of "
                                 f"{self._label()} can be assigned")
        if decl[2].kind == "array":
            raise TypeError(f"{name!r} is a C array: assign its elements (lib.{name}[i] = v)")
        address = self._handle.symbol(name)
        if address is None:
            raise AttributeError(self._missing_symbol(name, decl[1]))
        try:
            self._ns.variable(name, address)[0] = value
        except (TypeError, OverflowError, ValueError) as exc:
            # say which global, not which pointer element
            reason = str(exc).removeprefix("pointer element: ")
            raise type(exc)(f"cannot set global '{decl[1]}' of {self._label()}: {reason}") from None

    def _missing_symbol(self, name, prototype):
        msg = f"{self._label()} does not export {name!r} (declared as '{prototype}')"
        try:
            matches = _elf.close_matches(name, self._handle.path) if self._handle.path else []
        except OSError:
            matches = []
        if matches:
            msg += "; close matches in the library: " + ", ".join(matches)
        return msg

    def _label(self):
        return f"library {self._handle.path or '<process>'}"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._ns.names()) | set(self._ns.constant_names()))

    def __repr__(self):
        return f"<ndffi.Library {self._handle.path or '<process>'!r}>"

    def _promised(self, name, func):
        """``func``, or its assume_const() version where load(assume_const=) asks for it."""
        params = self.__dict__.get("_promises", {}).get(name)
        if params:
            func = self.__dict__[name] = self.assume_const(name, *params)
        return func

    def assume_const(self, name, *params):
        """Function ``name`` with the pointer parameters ``params`` (by name) declared as
        pointers to const: the promise, which a header that is not const-correct does not
        make, that C only reads through them — so read-only buffers (``bytes``, read-only
        arrays) are accepted there.  Nothing else changes; the promise shows in the
        function's prototype and repr (``const char *source /* assumed const */``) and
        travels with it when it is pickled.  Also ``lib.NAME.assume_const(*params)``."""
        func = getattr(self, name)
        if not isinstance(func, Function):
            raise TypeError(f"assume_const(): {name!r} of {self._label()} is not a C function "
                            f"but {type(func).__name__}")
        for p in params:
            if not isinstance(p, str):
                raise TypeError(f"{name}(): assume_const() takes parameter names (str), "
                                f"not {type(p).__name__}")
        params = tuple(dict.fromkeys(_pickle.assumed_const(func) + params))
        memo = self.__dict__.setdefault("_assumed_const", {})
        made_before = memo.get((name, params))
        if made_before is not None:
            return made_before
        f = self._ns.function(name, func.address, self._handle, func.release_gil, func.use_errno,
                              True, list(params))
        made(self, f, params)
        memo[(name, params)] = f
        return f

    # C memory and values with this library's types.
    def new(self, ctype, init=None):
        """Zeroed C memory of ``ctype`` ("T *" or "T[n]"), owned by the returned Pointer."""
        return self._ns.new(ctype, init)

    def cast(self, ctype, value):
        """``value`` as C type ``ctype``: a Pointer for pointer types, a Value otherwise."""
        return self._ns.cast(ctype, value)

    def callback(self, signature, fn=None, *, on_error=0):
        """:func:`ndffi.callback` with this library's types in the signature
        (``lib.callback("allocator_t", f)``, ``lib.callback("int(Weather *)", f)``)."""
        return _callback.callback(signature, fn, on_error=on_error, _namespace=self._ns)

    def typeof(self, ctype):
        """The CType of a C type spelling."""
        return self._ns.type(ctype)

    def sizeof(self, ctype):
        """The size in bytes of a C type spelling."""
        return self._ns.type(ctype).size


_owners = weakref.WeakKeyDictionary()   # Function -> weak reference to its Library


def made(lib, func, assumed_const=()):
    """Register a Function ``lib`` made: it pickles through the library's record, and
    ``func.assume_const()`` finds the library's declarations."""
    _pickle.remember(func, lib._record, assumed_const)
    _owners[func] = weakref.ref(lib)


def assume_const(func, *params):
    """``func.assume_const(*params)``: see :meth:`Library.assume_const`."""
    owner = _owners.get(func)
    lib = owner() if owner is not None else None
    if lib is None:
        raise TypeError(f"{func.__name__}(): assume_const() needs the Library whose "
                        f"declarations made the function; this one comes from none (or it is gone)")
    for p in params:
        if not isinstance(p, str):
            raise TypeError(f"{func.__name__}(): assume_const() takes parameter names (str), "
                            f"not {type(p).__name__}")
    name = func.__name__
    return lib.assume_const(name, *(_pickle.assumed_const(func) + params))


def load(name=None, *dirs, use_errno=False, global_symbols=False, header=None,
         include_dirs=(), defines=None, clang_args=(), assume_const=None):
    """Load a shared library.

    ``load("m")`` finds libm through the system loader; ``load("libfoo", "build")``
    searches ``build/`` first, like ``numpy.ctypeslib.load_library``, with or without
    the ``lib`` prefix and the platform's suffix; ``load("path/to/libfoo.so")`` opens a
    path; ``load(None)`` is the running process.  Raises :class:`LibraryNotFound`
    (an ``OSError``) listing every path tried.

    A file that changed since this process loaded it (rebuilt by ``make``) is loaded
    again, through a private copy (which ``lib.path`` then names): the loader itself
    would hand back the old library.  Functions taken from the earlier Library keep
    calling the old code.

    ``use_errno=True`` saves C's ``errno`` after each call for :func:`ndffi.errno`.

    ``header="zlib.h"`` declares what a C header declares (functions, types, enums,
    constants and macros), read with libclang and cached; ``include_dirs`` are searched
    first, ``defines`` ({"NAME": value}) are predefined macros, ``clang_args`` more
    compiler arguments (``["-include", "stddef.h"]`` for a header that uses ``size_t``
    without including what defines it).

    ``assume_const={"BZ2_bzBuffToBuffCompress": ["source"]}``: those functions are made
    with :meth:`Library.assume_const` (the named pointer parameters declared const), for
    a header that is not const-correct.
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    promises = _promises(assume_const)

    def opener(path):
        return dlopen(path, global_symbols)

    if header is not None:
        from . import headers as _headers
        from .headers import libsearch as _libsearch

        # The system search's answer is cached with the header's declarations.
        handle, _resolved = _libsearch.open_library(name, dirs, _loader.fresh_opener(opener))
    else:
        handle, _resolved = _loader.open_library(name, dirs, _loader.fresh_opener(opener))
    if header is not None:
        clang_args = tuple(clang_args or ())
        lib = _headers.header_library(handle, name, use_errno, header, include_dirs, defines,
                                      clang_args)
        header_options = dict(header=os.path.abspath(os.fspath(header))
                              if os.path.exists(os.fspath(header)) else os.fspath(header),
                              include_dirs=tuple(os.path.abspath(os.fspath(d)) for d in include_dirs),
                              defines=tuple(_headers._defines_list(defines)))
        if clang_args:
            header_options["clang_args"] = clang_args
    else:
        lib = Library(handle, name, use_errno)
        header_options = {}
    if promises:
        model = getattr(lib, "header", None)
        unknown = [f for f in promises if model is not None and f not in model["functions"]]
        if unknown:
            raise ValueError(f"assume_const: {', '.join(map(repr, unknown))} "
                             f"{'is' if len(unknown) == 1 else 'are'} not a function of {header!r}")
        lib.__dict__["_promises"] = promises
        header_options["assume_const"] = tuple(sorted(promises.items()))
    lib._record.loaded_by(name, dirs, use_errno=use_errno, global_symbols=global_symbols,
                          **header_options)
    return lib


def _promises(assume_const):
    """{function: (parameter, ...)} of load()'s ``assume_const`` (a dict or pairs)."""
    if not assume_const:
        return {}
    items = assume_const.items() if isinstance(assume_const, dict) else assume_const
    out = {}
    for function, params in items:
        if isinstance(params, str):
            params = (params,)
        if not isinstance(function, str) or not all(isinstance(p, str) for p in params):
            raise TypeError("assume_const: expected {function name: [parameter names]}, "
                            f"got {function!r}: {params!r}")
        out[function] = tuple(params)
    return out
