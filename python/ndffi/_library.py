"""Library: a loaded shared library and the C declarations made for it."""

import os

from . import _callback, _elf, _loader
from ._ndffi import Namespace, Pointer, dlopen


class Types:
    """A library's C types: ``lib.types.Weather`` (typedef names) and
    ``lib.types["struct Weather_t *"]`` (any C type spelling)."""

    def __init__(self, namespace):
        self._ns = namespace

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        t = self._ns.typedef(name)
        if t is None:
            raise AttributeError(f"no type named {name!r} is declared (see cdef())")
        return t

    def __getitem__(self, spelling):
        return self._ns.type(spelling)

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
        return self

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        decl = self._ns.decl(name)
        if decl is None:
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
            return func
        return self._variable(name, ctype, address)[0]

    def __setattr__(self, name, value):
        decl = self._ns.decl(name)
        if decl is None or decl[0] != "variable":
            raise AttributeError(f"cannot set {name!r}: only declared C global variables of "
                                 f"{self._label()} can be assigned")
        address = self._handle.symbol(name)
        if address is None:
            raise AttributeError(self._missing_symbol(name, decl[1]))
        self._variable(name, decl[2], address)[0] = value

    def _variable(self, name, ctype, address):
        return self._ns.cast(f"{ctype.cname} *" if ctype.kind != "function" else ctype.cname,
                             address)

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
        return sorted(set(super().__dir__()) | set(self._ns.names()))

    def __repr__(self):
        return f"<ndffi.Library {self._handle.path or '<process>'!r}>"

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


def load(name=None, *dirs, use_errno=False, global_symbols=False):
    """Load a shared library.

    ``load("m")`` finds libm through the system loader; ``load("libfoo", "build")``
    searches ``build/`` first, like ``numpy.ctypeslib.load_library``, with or without
    the ``lib`` prefix and the platform's suffix; ``load("path/to/libfoo.so")`` opens a
    path; ``load(None)`` is the running process.  Raises :class:`LibraryNotFound`
    (an ``OSError``) listing every path tried.

    ``use_errno=True`` saves C's ``errno`` after each call for :func:`ndffi.errno`.
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)

    def opener(path):
        return dlopen(path, global_symbols)

    handle, _resolved = _loader.open_library(name, dirs, opener)
    return Library(handle, name, use_errno)
