"""Library: a loaded shared library and the C declarations made for it.

Declarations come from :meth:`Library.cdef` and from the library's :class:`Declarations`
(a header's, see :mod:`ndffi.headers`); every C function is made by one method,
:meth:`Library._make_function`, which also records how to make it again (its
:class:`LibraryRecord`, for pickling)."""

import enum
import os
import re
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

from ._ndffi import Callback, CDefError, CType, Function, LibraryBase, Namespace, Pointer, _function_home
from .callback import callback as _make_callback
from .errors import did_you_mean, suggestion
from .loading import elf as _elf
from .values import size_of

_TAGS = re.compile(r"\b(struct|union|enum)\s+([A-Za-z_]\w*)")


class Types:
    """A library's C types: ``lib.types.Weather`` (typedef names and tags) and
    ``lib.types["struct Weather_t *"]`` (any C type spelling).  Structs and unions are
    CTypes (call one to make a value); enums are ``enum.IntEnum`` classes."""

    def __init__(self, namespace):
        self._ns = namespace
        self._enums = {}

    def __getattr__(self, name: str) -> Any:  # a CType, or an enum.IntEnum class for an enum
        if name.startswith("__"):
            raise AttributeError(name)
        t = self._ns.typedef(name)
        if t is None:
            t = self._tag(name)
        if t is None:
            names = list(self._ns.typedef_names()) + [tag.split()[1] for tag in self._ns.tag_names()]
            raise AttributeError(
                f"no type named {name!r} is declared (see cdef()){did_you_mean(name, names)}", obj=self
            )
        return self._enum(t) if t.kind == "enum" else t

    def _tag(self, name):
        # A tag declared by cdef: "struct NAME", "union NAME" or "enum NAME".
        for kind in ("struct", "union", "enum"):
            if self._ns.has_tag(kind, name):
                return self._ns.type(f"{kind} {name}")
        return None

    def __getitem__(self, spelling: str) -> Any:
        if not isinstance(spelling, str):
            raise TypeError(
                f"types[...] takes the spelling of a C type as a str, such as 'struct point *'; "
                f"got {type(spelling).__name__}"
            )
        t = self._ns.type(spelling)
        for m in _TAGS.finditer(spelling):  # C would declare a tag it meets: look-ups do not
            if not self._ns.has_tag(m[1], m[2]):
                tag = f"{m[1]} {m[2]}"
                error = CDefError(
                    f"no type named '{tag}' is declared (see cdef()){did_you_mean(tag, self._ns.tag_names())}"
                )
                vars(error).update(line=1, column=m.start() + 1, text=tag, previous=None)  # as the parser's
                raise error
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

    def __iter__(self):  # the declared names: typedef names, then "struct|union|enum tag"
        yield from self._ns.typedef_names()
        yield from self._ns.tag_names()


class LibraryRecord:
    """How a Library was made: enough to make it again in another process.

    Holds no reference to the Library, so the functions that point to it do not keep
    the Library alive.
    """

    __slots__ = ("path", "origin", "cdefs", "_seen", "__weakref__")

    def __init__(self, path):
        if path and os.sep in path:
            path = os.path.abspath(path)
        self.path = path or ""
        self.origin = None  # (name, dirs, options) given to load()
        self.cdefs = []  # [(text, options)], in order
        # the texts of cdefs, without and with release_gil (indexed by it): the same
        # cdef again declares nothing new
        self._seen = (set(), set())

    def loaded_by(self, name, dirs, **options):
        if isinstance(name, str) and os.sep in name:
            name = os.path.abspath(name)
        dirs = tuple(os.path.abspath(os.fspath(d)) for d in dirs)
        self.origin = (name, dirs, tuple(sorted(options.items())))

    def add_cdef(self, text, release_gil):
        seen = self._seen[release_gil]  # the texts recorded with these options
        if text not in seen:  # a cell run again: what it declares is there already
            seen.add(text)
            self.cdefs.append((text, _CDEF_OPTIONS[release_gil]))

    def state(self):
        return (self.path, self.origin, tuple(self.cdefs))


# The options of a cdef() as its record keeps them, made once.
_CDEF_OPTIONS = {flag: (("release_gil", flag),) for flag in (True, False)}

live_libraries: weakref.WeakSet = weakref.WeakSet()  # for finding the library of a CType
_function_assumed: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Function -> parameters assumed const


def record_of(function):
    """The :class:`LibraryRecord` of the Library that made ``function`` (None if none did)."""
    home = _function_home(function)  # (LibraryRecord, weak reference to its Library)
    return home[0] if home is not None else None


def assumed_const(function):
    """The parameters of ``function`` that assume_const() made const: a tuple."""
    return _function_assumed.get(function, ())


class Declarations:
    """What a Library knows besides its cdef()s: none of it here; a header's declarations
    (:class:`ndffi.headers.HeaderDeclarations`) say more.  The Library asks, for a name
    it does not have yet, that it be declared (:meth:`declare`), which symbol it is
    (:meth:`symbol`), whether it is a value computed when used (:meth:`value`), and why it
    is missing (:meth:`why_missing`)."""

    MISSING = object()  # value(): not a computed value

    def attach(self, lib):
        """Called once by ``Library(...)``: declare what must be there from the start; the
        attributes the library has besides its C declarations ({name: value})."""
        return {}

    def declare(self, lib, name):
        """Declare ``name`` in ``lib`` (through ``lib._declare``) if it is pending."""

    def declare_all(self, lib):
        """Declare every pending name."""

    def pending(self):
        """The names not declared yet (for dir())."""
        return ()

    def symbol(self, name):
        """The symbol of the library that C name ``name`` binds (an asm label may bind
        another)."""
        return name

    def value(self, lib, name):
        """The value of ``name`` when it is computed each time it is used, else MISSING."""
        return self.MISSING

    def why_missing(self, name):
        """Why ``name`` is not an attribute (None: it is simply not declared)."""
        return None

    @property
    def model(self):
        """The header's model (None without a header)."""
        return None


class Library(LibraryBase):
    """A shared library opened by :func:`ndffi.load`.

    Declare what it holds with :meth:`cdef`; declared functions are then attributes
    (``lib.fib(8)``), made once on first use and called without any per-call parsing.
    A library loaded with a header has its declarations already (made when first used).
    """

    types: Types  # its C types: lib.types.Weather, lib.types["struct s *"]

    def __init__(self, handle, name, use_errno=False, declarations=None):
        d = self.__dict__
        d["_handle"] = handle
        d["_name"] = name
        d["_ns"] = Namespace()
        d["_use_errno"] = use_errno
        d["_release_gil"] = {}
        d["_promises"] = {}
        d["_assumed_const"] = {}
        d["types"] = Types(d["_ns"])
        d["_record"] = LibraryRecord(handle.path)  # how to make it again, for pickling
        d["_declarations"] = declarations if declarations is not None else Declarations()
        d["_plain"] = type(d["_declarations"]) is Declarations  # no header: nothing to ask it
        d["_home"] = (d["_record"], weakref.ref(self))  # of each Function made here
        live_libraries.add(self)
        d.update(d["_declarations"].attach(self))

    @property
    def path(self) -> str:
        """The file the library was loaded from ("" for the running process)."""
        return self._handle.path

    @property
    def header(self):
        """The model of the header the library was loaded with (see :mod:`ndffi.headers`);
        None without one."""
        return self._declarations.model

    def cdef(self, text: str, *, release_gil: bool = True) -> "Library":
        """Declare C functions, types and globals of this library.

        ``release_gil=False`` keeps the GIL during calls of the functions declared here:
        for functions so short that releasing and retaking it would cost more than the
        call itself.
        """
        release_gil = bool(release_gil)  # as its record keeps it, for pickling
        if not self._plain:
            self._declarations.declare_all(self)
        Library._declare(self, text, release_gil)  # (self._declare would make a bound method)
        self._record.add_cdef(text, release_gil)
        return self

    def declare_all(self):
        """Declare every function and variable of the header now (they are otherwise
        declared when first used)."""
        self._declarations.declare_all(self)
        return self

    def _declare(self, text, release_gil=True):
        """Declare ``text`` in the namespace (what cdef() and the declarations do)."""
        for name in self._ns.cdef(text):
            self._release_gil.setdefault(name, release_gil)

    def _address(self, name):
        """The address of the symbol C name ``name`` binds, or None."""
        if self._plain:
            return self._handle.symbol(name)
        symbol = self._declarations.symbol(name)
        address = self._handle.symbol(symbol)
        if address is None and symbol != name:
            address = self._handle.symbol(name)
        return address

    def _make_function(self, name, address, assumed_const=()):
        """The Function of declared C function ``name`` at ``address``: the one way every
        Function of a Library is made (attribute, assume_const(), a macro's target).
        It pickles through the library's record and finds its library again."""
        release_gil = self._release_gil.get(name, True)
        if assumed_const:
            func = self._ns.function_assuming_const(
                name, list(assumed_const), address, self._handle, release_gil, self._use_errno, self._home
            )
            _function_assumed[func] = tuple(assumed_const)
            return func
        # all positional: nanobind's quickest way in
        return self._ns.function(name, address, self._handle, release_gil, self._use_errno, True, self._home)

    if TYPE_CHECKING:  # what type checkers see of _resolve: any declared name is an attribute

        def __getattr__(self, name: str) -> Any: ...

    def _resolve(self, name: str) -> Any:
        # What LibraryBase asks for a name the usual lookup does not find (Python's
        # __getattr__, without an AttributeError made first; never for a "__x__" name):
        # a declared function, a global's value or Pointer, a constant (as C declares it).
        # Its AttributeErrors carry obj= (and no name=), so that Python's traceback does
        # not add a "Did you mean" of its own to the one the message has.
        plain = self._plain
        declarations = self._declarations
        if not plain:
            declarations.declare(self, name)
            value = declarations.value(self, name)
            if value is not Declarations.MISSING:
                return value
        ns = self._ns
        kind = ns.kind(name)
        if kind is None:
            constant = ns.constant(name)
            if constant is not None:
                return constant[0]
            why = declarations.why_missing(name)
            if why is not None:
                raise AttributeError(f"{self._label()}: {why}", obj=self)
            raise AttributeError(self._undeclared(name), obj=self)
        address = self._handle.symbol(name) if plain else self._address(name)
        if address is None:
            raise AttributeError(self._missing_symbol(declarations.symbol(name), ns.decl(name)[1]), obj=self)
        if kind == "function":
            # (through the class: self._make_function would make a bound method, as every
            # method looked up on a Library through LibraryBase's getattro does)
            func = Library._make_function(self, name, address)
            if self._promises:  # before it is kept: a promise that fails keeps failing
                func = self._promised(name, func)
            # Two threads making the same function keep one Function: setdefault is atomic.
            return self.__dict__.setdefault(name, func)
        pointer = self._ns.variable(name, address, self._handle)
        # A global array is its Pointer (bounded, indexable); any other global its value.
        return pointer if self._ns.decl(name)[2].kind == "array" else pointer[0]

    def __setattr__(self, name, value):
        self._declarations.declare(self, name)
        decl = self._ns.decl(name)
        if decl is None or decl[0] != "variable":
            hint = ""
            if decl is None:
                variables = [n for n in self._ns.names() if self._ns.decl(n)[0] == "variable"]
                hint = did_you_mean(name, variables)
            raise AttributeError(
                f"cannot set {name!r}: only declared C global variables of {self._label()} can be assigned{hint}"
            )
        if decl[2].kind == "array":
            raise TypeError(f"{name!r} is a C array: assign its elements (lib.{name}[i] = v)")
        address = self._address(name)
        if address is None:
            raise AttributeError(self._missing_symbol(self._declarations.symbol(name), decl[1]))
        self._ns.set_variable(name, address, value, f"cannot set global '{decl[1]}' of {self._label()}")

    def _undeclared(self, name):
        """The message for ``name``, which nothing declares: the declared names close to
        it, else the library's exported symbols close to it."""
        msg = f"{self._label()} has no declaration of {name!r}"
        declared = [*self._ns.names(), *self._ns.constant_names(), *self._declarations.pending()]
        hint = did_you_mean(name, declared)
        if hint:
            return f"{msg}{hint}"
        path = self._handle.path
        try:
            if path and name in _elf.exported_symbols(path):
                return f"{msg}; the library exports it: declare it with cdef() first"
        except (OSError, ValueError):
            pass
        exported = _elf.close_matches(name, path) if path else []
        if exported:
            return f"{msg}{suggestion(exported)} (exported by the library: declare it with cdef())"
        return f"{msg}; declare it with cdef()"

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
        return sorted(
            set(super().__dir__())
            | set(self._ns.names())
            | set(self._ns.constant_names())
            | set(self._declarations.pending())
        )

    def __repr__(self):
        return f"<ndffi.Library {self._handle.path or '<process>'!r}>"

    def _promised(self, name, func):
        """``func``, or its assume_const() version where load(assume_const=) asks for it."""
        params = self._promises.get(name)
        return self._assuming_const(name, func, params) if params else func

    def assume_const(self, name, *params):
        """Function ``name`` with the pointer parameters ``params`` (by name) declared as
        pointers to const: the promise, which a header that is not const-correct does not
        make, that C only reads through them — so read-only buffers (``bytes``, read-only
        arrays) are accepted there.  Nothing else changes; the promise shows in the
        function's prototype and repr (``const char *source /* assumed const */``) and
        travels with it when it is pickled.  Also ``lib.NAME.assume_const(*params)``."""
        func = getattr(self, name)
        if not isinstance(func, Function):
            raise TypeError(
                f"assume_const(): {name!r} of {self._label()} is not a C function but {type(func).__name__}"
            )
        return self._assuming_const(name, func, params)

    def _assuming_const(self, name, func, params):
        """``func`` with the parameters named ``params`` assumed const too: made once per
        set of names, the same Function for every thread that asks."""
        for p in params:
            if not isinstance(p, str):
                raise TypeError(f"{name}(): assume_const() takes parameter names (str), not {type(p).__name__}")
        before = assumed_const(func)
        params = tuple(dict.fromkeys(before + tuple(params)))
        if params == before:  # nothing new assumed
            return func
        memo = self._assumed_const
        made = memo.get((name, params))
        if made is None:
            made = memo.setdefault((name, params), self._make_function(name, func.address, params))
        return made

    # C memory and values with this library's types.
    def new(self, ctype: str, init: object = None) -> Pointer:
        """Zeroed C memory of ``ctype`` ("T *" or "T[n]"), owned by the returned Pointer."""
        return self._ns.new(ctype, init)

    def cast(self, ctype: str, value: object) -> Any:
        """``value`` as C type ``ctype``: a Pointer for pointer types, a Value otherwise."""
        return self._ns.cast(ctype, value)

    @overload
    def callback(
        self, signature: str | CType, fn: None = None, *, on_error: object = 0
    ) -> Callable[[Callable[..., Any]], Callback]: ...
    @overload
    def callback(self, signature: str | CType, fn: Any, *, on_error: object = 0) -> Callback: ...
    def callback(
        self, signature: str | CType, fn: Any = None, *, on_error: object = 0
    ) -> "Callback | Callable[[Callable[..., Any]], Callback]":
        """:func:`ndffi.callback` with this library's types in the signature
        (``lib.callback("allocator_t", f)``, ``lib.callback("int(Weather *)", f)``)."""
        return _make_callback(signature, fn, on_error=on_error, _namespace=self._ns)

    def typeof(self, ctype: str) -> CType:
        """The CType of a C type spelling."""
        return self._ns.type(ctype)

    def sizeof(self, ctype: str) -> int:
        """The size in bytes of a C type spelling."""
        return size_of(self._ns.type(ctype), ctype)


def assume_const(func, *params):
    """``func.assume_const(*params)``: see :meth:`Library.assume_const`."""
    home = _function_home(func)
    lib = home[1]() if home is not None else None
    if lib is None:
        raise TypeError(
            f"{func.__name__}(): assume_const() needs the Library whose "
            f"declarations made the function; this one comes from none (or it is gone)"
        )
    return lib._assuming_const(func.__name__, func, params)
