"""The mistakes a newcomer makes, and the messages that teach the fix: each names the
function (or the store), the parameter, what was expected and what was given, and says
what to pass instead where there is something to pass."""

import functools

import numpy as np
import pytest

import ndffi
from conftest import FOO_CDEF, MORE_DECLS, WEATHER_DECLS, clib_fixture

lib = clib_fixture("foo", FOO_CDEF)
structs = clib_fixture("structs", WEATHER_DECLS, MORE_DECLS)
cb = clib_fixture(
    "callbacks",
    "int call_int(int (*f)(int), int x); double call_mixed(double (*f)(int8_t, uint16_t, float, double, "
    "long long, _Bool, size_t));",
)

# ---- arrays for pointers: the layout, and the fix --------------------------------------

COPY_NOT_SEEN = (
    "C writes through this pointer and a copy would not be seen by the caller: pass a C-contiguous array "
    "(make it with np.ascontiguousarray(x) or order='C', pass it and read the result from it)"
)
TRANSPOSED = ", or x.T (the same memory, C-ordered) if C expects column-major order"


def _message(call):
    with pytest.raises(TypeError) as info:
        call()
    return str(info.value)


def test_a_fortran_ordered_array_for_a_const_pointer(lib):
    f = np.asfortranarray(np.ones((3, 4)))
    assert _message(lambda: lib.dsum(f, 12)) == (
        "dsum() argument 1 'x': expected C-contiguous float64 array for 'const double *', got a float64 array "
        "that is Fortran-ordered (F-contiguous); pass np.ascontiguousarray(x)" + TRANSPOSED
    )


def test_a_fortran_ordered_array_for_a_pointer_c_writes_through(lib):
    f = np.asfortranarray(np.zeros((2, 3), np.intc))
    assert _message(lambda: lib.fill_ints(f, 6, 1)) == (
        "fill_ints() argument 1 'out': expected C-contiguous int32 array for 'int *', got an int32 array "
        "that is Fortran-ordered (F-contiguous); " + COPY_NOT_SEEN + TRANSPOSED
    )
    assert not f.any()  # nothing was written, nowhere


@pytest.mark.parametrize(
    "make, strides",
    [
        (lambda: np.arange(10.0)[::2], "(16,)"),
        (lambda: np.ones((4, 4))[:, :2], "(32, 8)"),
        (lambda: np.ones((2, 3, 4))[:, ::2, :], "(96, 64, 8)"),
        (lambda: np.arange(6.0)[::-1], "(-8,)"),
    ],
)
def test_a_strided_array_names_its_strides(lib, make, strides):
    x = make()
    assert _message(lambda: lib.dsum(x, x.size)).endswith(
        f"got a float64 array that is not contiguous (strides {strides}); pass np.ascontiguousarray(x)"
    )
    assert _message(lambda: lib.bar(x, x.size)).endswith(
        f"got a float64 array that is not contiguous (strides {strides}); " + COPY_NOT_SEEN
    )


def test_buffers_and_record_arrays_name_their_layout(lib, structs):
    view = memoryview(np.zeros(8))[::2]
    assert _message(lambda: lib.bar(view, 4)).endswith(
        "got a memoryview that is not contiguous (strides (16,)); " + COPY_NOT_SEEN
    )
    recs = np.zeros(6, structs.types.Weather.dtype)[::2]
    assert _message(lambda: structs.print_weather(recs, 3)).endswith(
        "got a record array that is not contiguous (strides (32,)); " + COPY_NOT_SEEN
    )


def test_wrap_inout_names_the_layout(lib):
    fill = lib.fill_ints.wrap(out=ndffi.InOut, n=ndffi.len_of("out"))
    f = np.asfortranarray(np.zeros((2, 3), np.intc))
    assert _message(lambda: fill(f, 1)) == (
        "fill_ints() argument 'out' (InOut): expected a C-contiguous writeable int32 ndarray, got an int32 array "
        "that is Fortran-ordered (F-contiguous) (never copied); " + COPY_NOT_SEEN + TRANSPOSED
    )
    # an In array is converted (a copy C only reads): Fortran order is fine there
    dsum = lib.dsum.wrap(x=ndffi.In, n=ndffi.len_of("x"))
    assert dsum(np.asfortranarray(np.ones((2, 3)))) == 6.0


# ---- numbers given an array, a list, None or a string ------------------------------------


@pytest.mark.parametrize(
    "name, ctype, kind, value, given",
    [
        (
            "echo_double",
            "double",
            "float",
            np.array([1.5]),
            "float64 array of shape (1,) (an array is not a number: pass a[0])",
        ),
        (
            "echo_float",
            "float",
            "float",
            np.array([[1.5]], np.float32),
            "float32 array of shape (1, 1) (an array is not a number: pass a[0])",
        ),
        ("echo_int", "int", "int", np.array([7]), "int64 array of shape (1,) (an array is not a number: pass a[0])"),
        (
            "echo_uchar",
            "unsigned char",
            "int",
            np.array([7], np.uint8),
            "uint8 array of shape (1,) (an array is not a number: pass a[0])",
        ),
        (
            "echo_char",
            "char",
            "int",
            np.array([7], np.int8),
            "int8 array of shape (1,) (an array is not a number: pass a[0])",
        ),
        (
            "echo_bool",
            "_Bool",
            "bool",
            np.array([True]),
            "bool array of shape (1,) (an array is not a number: pass a[0])",
        ),
        ("echo_int", "int", "int", np.array(2.5), "float64 array of shape ()"),
        ("echo_double", "double", "float", [1.5], "list (a list is not a number: pass a scalar, x[0])"),
        ("echo_int", "int", "int", [1], "list (a list is not a number: pass a scalar, x[0])"),
        ("echo_int", "int", "int", (1, 2), "tuple (a tuple is not a number: pass a scalar)"),
        ("echo_bool", "_Bool", "bool", [True], "list (a list is not a number: pass a scalar, x[0])"),
        (
            "echo_int",
            "int",
            "int",
            np.arange(3),
            "int64 array of shape (3,) (an array is not a number: pass one element a[i], or call it on every element through .ufunc())",
        ),
        ("echo_int", "int", "int", None, "None (None is only accepted for pointers)"),
        ("echo_double", "double", "float", None, "None (None is only accepted for pointers)"),
        (
            "echo_double",
            "double",
            "float",
            "1.5",
            "str (a string is not a number: convert it first, int(s) or float(s))",
        ),
    ],
)
def test_a_number_parameter_says_what_to_pass(lib, name, ctype, kind, value, given):
    assert _message(lambda: getattr(lib, name)(value)) == (
        f"{name}() argument 1 'x': expected {kind} for '{ctype}', got {given}"
    )


def test_an_enum_parameter_and_struct_fields_say_the_same(structs):
    assert _message(lambda: structs.color_value(np.array([1]))) == (
        "color_value() argument 1 'c': expected int for 'enum color', got int64 array of shape (1,) "
        "(an array is not a number: pass a[0])"
    )
    v = structs.types.vec2()
    with pytest.raises(TypeError) as info:
        v.x = np.array([1.0])
    assert str(info.value) == (
        "field 'x' of 'vec2': expected float for 'double', got float64 array of shape (1,) "
        "(an array is not a number: pass a[0])"
    )
    s = structs.types.s8()
    with pytest.raises(TypeError, match=r"^field 'i' of 's8': expected int for 'int', got list \(a list is"):
        s.i = [1]


def test_too_large_and_negative_ints_name_the_range(lib):
    assert "echo_int() argument 1 'x': expected int in [-2147483648, 2147483647] for 'int', got 1099511627776" in (
        str(pytest.raises(OverflowError, lib.echo_int, 2**40).value)
    )
    with pytest.raises(OverflowError, match=r"^echo_uint\(\) argument 1 'x': expected int in \[0, 4294967295\]"):
        lib.echo_uint(-1)


# ---- callables for function pointers: arity checked when passed --------------------------


class _Obj:
    def method(self, a, b):
        return a

    def one(self, a):
        return a

    def __call__(self, a):
        return a


def _two(a, b):
    return a


@pytest.mark.parametrize(
    "fn, shown, takes",
    [
        (lambda a, b: a, "<lambda>(a, b)", "takes 2 arguments"),
        (lambda: 1, "<lambda>()", "takes 0 arguments"),
        (_two, "_two(a, b)", "takes 2 arguments"),
        (divmod, "divmod(x, y, /)", "takes 2 arguments"),
        (_Obj().method, "_Obj.method(a, b)", "takes 2 arguments"),
        (functools.partial(_two, 1, 2), "functools.partial(_two, ...)()", "takes 0 arguments"),
        (lambda a, b, c=1: a, "<lambda>(a, b, c=1)", "takes 2 to 3 arguments"),
        (lambda a, b, *rest: a, "<lambda>(a, b, *rest)", "takes at least 2 arguments"),
        (
            lambda a, *, k: a,
            "<lambda>(a, *, k)",
            "has a keyword-only parameter 'k' without a default, which C cannot pass",
        ),
    ],
)
def test_a_callable_of_the_wrong_arity_is_refused_when_passed(cb, fn, shown, takes):
    message = _message(lambda: cb.call_int(fn, 3))
    assert message.startswith(
        "call_int() argument 1 'f': expected a callable taking 1 argument for 'int (*)(int)', got "
    )
    assert message.endswith(f"{shown}, which {takes}"), message
    with pytest.raises(TypeError) as info:
        ndffi.callback("int(int)", fn)
    assert str(info.value).startswith("ndffi.callback(): expected a callable taking 1 argument for 'int (*)(int)'")


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x + 1,
        lambda x, y=5: x + y - 4,
        lambda *args: args[0] + 1,
        functools.partial(lambda a, b: a + b, 1),
        _Obj().one.__func__.__get__(_Obj()),
        abs,
        _Obj(),
        int,  # a class whose signature inspect cannot read: accepted
    ],
)
def test_callables_that_fit_are_accepted(cb, fn):
    r = cb.call_int(fn, 3)
    assert r in (3, 4)
    assert ndffi.callback("int(int)", fn)


def test_the_arity_message_names_a_long_signature(cb):
    message = _message(lambda: cb.call_mixed(lambda a, b: 0.0))
    assert message.startswith(
        "call_mixed() argument 1 'f': expected a callable taking 7 arguments for "
        "'double (*)(signed char, unsigned short, float, double, long long, _Bool, unsigned long)', got "
    )
    assert message.endswith("<lambda>(a, b), which takes 2 arguments")


# ---- names: functions, globals, types, keywords ------------------------------------------


def test_a_misspelled_function_or_global(lib, structs):
    with pytest.raises(AttributeError) as info:
        _ = lib.dsun
    assert str(info.value) == f"library {lib.path} has no declaration of 'dsun'; did you mean 'dsum'?"
    with pytest.raises(AttributeError, match=r"no declaration of 'countr'; did you mean 'counter'\?$"):
        _ = structs.countr
    with pytest.raises(AttributeError, match=r"can be assigned; did you mean 'counter'\?$"):
        structs.countr = 3


def test_protocol_probes_are_plain_attribute_errors(clib_dir):
    # copy, pickle and NumPy probe for "__x__" names: each is an AttributeError naming
    # just the name (no did-you-mean search), and the library's names still resolve
    fresh = ndffi.load("libfoo", clib_dir).cdef("double dsum(const double *x, long n);")
    for name in ("__array_interface__", "__len__", "__x__", "____"):
        with pytest.raises(AttributeError) as info:
            getattr(fresh, name)
        assert info.value.args == (name,)
        assert not hasattr(fresh, name)
    for name in ("_", "__", "___", "__dsum", "dsum__"):  # not "__x__": the usual message
        with pytest.raises(AttributeError, match=f"has no declaration of '{name}'"):
            getattr(fresh, name)
    assert fresh.dsum(np.arange(4.0), 4) == 6.0


def test_a_name_only_the_library_exports(clib_dir):
    fresh = ndffi.load("libfoo", clib_dir)
    with pytest.raises(AttributeError) as info:
        _ = fresh.dsun
    assert str(info.value) == (
        f"library {fresh.path} has no declaration of 'dsun'; did you mean 'dsum'? "
        "(exported by the library: declare it with cdef())"
    )
    with pytest.raises(AttributeError, match=r"no declaration of 'dsum'; the library exports it: declare it with cdef"):
        _ = fresh.dsum


def test_a_misspelled_type(structs):
    with pytest.raises(
        AttributeError, match=r"^no type named 'Wether' is declared \(see cdef\(\)\); did you mean 'Weather'"
    ):
        _ = structs.types.Wether
    with pytest.raises(ndffi.CDefError) as info:
        structs.types["struct Wether_t"]
    assert (
        str(info.value) == "no type named 'struct Wether_t' is declared (see cdef()); did you mean 'struct Weather_t'?"
    )
    assert structs.types["struct Weather_t"].size == 16
    with pytest.raises(TypeError, match=r"^types\[\.\.\.\] takes the spelling of a C type as a str.*; got int$"):
        structs.types[0]
    assert "Weather" in structs.types and "struct Weather_t" in structs.types and "Wether" not in structs.types
    with pytest.raises(ndffi.CDefError, match=r"unknown type name 'Wether'; did you mean 'Weather'\?"):
        structs.types["Wether *"]
    with pytest.raises(ndffi.CDefError, match=r"unknown type name 'Wether'; did you mean 'Weather'\?"):
        structs.new("Wether[2]")


@pytest.mark.parametrize(
    "call",
    [
        lambda: ndffi.new("doubel *"),
        lambda: ndffi.cast("doubel", 1),
        lambda: ndffi.sizeof("doubel"),
        lambda: ndffi.typeof("doubel *"),
        lambda: ndffi.callback("doubel(int)", lambda x: x),
        lambda: ndffi.Namespace().cdef("doubel twice(double x);"),
    ],
)
def test_a_misspelled_builtin_type(call):
    with pytest.raises(ndffi.CDefError) as info:
        call()
    assert "unknown type name 'doubel'; did you mean 'double'?" in str(info.value)
    assert info.value.line == 1


def test_keyword_arguments_that_name_no_parameter(lib):
    assert _message(lambda: lib.add(a=1, bb=2)) == (
        "add() got an unexpected keyword argument 'bb'; did you mean 'b'? (parameters: a, b)"
    )
    assert _message(lambda: lib.h_close(h=None)) == (
        "h_close() got an unexpected keyword argument 'h': its declaration 'int h_close(struct handle *)' "
        "names no parameters, so pass the arguments by position (or name them in the declaration)"
    )


def test_a_wrong_number_of_arguments_names_the_missing_parameter(lib):
    assert _message(lambda: lib.add(1)) == (
        "add() takes 2 arguments (1 given): missing argument 2 'b' of type 'int'; declared as 'int add(int a, int b)'"
    )
    assert _message(lambda: lib.my_printf()) == (
        "my_printf() takes at least 1 argument (0 given): missing argument 1 'fmt' of type 'const char *'; "
        "declared as 'int my_printf(const char *fmt, ...)'"
    )


# ---- other first mistakes ----------------------------------------------------------------


def test_strings_and_structs_of_the_wrong_kind(lib, structs):
    assert lib.my_strlen("abc") == 3  # a str for const char *: its UTF-8
    assert _message(lambda: lib.upcase("abc")).startswith(
        "upcase() argument 1 's': expected a writable buffer for 'char *', got str"
    )
    assert _message(lambda: structs.vadd(structs.types.s8(), structs.types.vec2())) == (
        "vadd() argument 1 'a': expected 'vec2', got 's8'"
    )


# ---- exceptions: where they live, what they are -----------------------------------------


def test_public_exceptions_show_as_ndffi():
    for name in ndffi.__all__:
        obj = getattr(ndffi, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert obj.__module__ == "ndffi", name
            assert repr(obj) == f"<class 'ndffi.{name}'>"
    assert ndffi.BuildWarning is ndffi.errors.BuildWarning
    assert issubclass(ndffi.CacheWarning, ndffi.BuildWarning)


def test_ndffi_errors_share_a_base_and_header_errors_are_no_import_errors():
    for cls in (
        ndffi.BuildError,
        ndffi.HeaderError,
        ndffi.HeaderNotFound,
        ndffi.LibraryNotFound,
        ndffi.CDefError,
        ndffi.StatusError,
    ):
        assert issubclass(cls, ndffi.Error), cls
    assert not issubclass(ndffi.HeaderError, ImportError)
    assert issubclass(ndffi.CDefError, ValueError) and issubclass(ndffi.LibraryNotFound, OSError)
    assert issubclass(ndffi.BuildError, RuntimeError)
    with pytest.raises(ndffi.Error):
        ndffi.new("doubel *")


def test_a_promise_is_made_once_for_every_thread():
    # load(assume_const=) on first use: every thread gets the one promised Function
    import sys
    import threading

    for _ in range(5):
        libc = ndffi.load(None, assume_const={"strlen": ["s"]}).cdef("size_t strlen(char *s);")
        got, barrier = [None] * 8, threading.Barrier(8)

        def first_use(k, libc=libc, got=got, barrier=barrier):
            barrier.wait()
            got[k] = libc.strlen

        old = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            threads = [threading.Thread(target=first_use, args=(k,)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(old)
        assert len({id(f) for f in got}) == 1
        assert "const char *s /* assumed const */" in got[0].prototype
        assert got[0](b"abc") == 3


def test_a_broken_promise_fails_at_every_use():
    libc = ndffi.load(None, assume_const={"strlen": ["q"]}).cdef("size_t strlen(char *s);")
    for _ in range(2):
        with pytest.raises(
            ValueError, match=r"strlen\(\): assume_const\(\): no parameter named 'q'; its parameters: s"
        ):
            _ = libc.strlen
    libc2 = ndffi.load(None).cdef("size_t strlen(char *s);")
    assert libc2.assume_const("strlen") is libc2.strlen  # nothing assumed: the function itself


def test_lookup_without_a_usable_resolve_is_an_attribute_error():
    class Bare(ndffi._ndffi.LibraryBase):
        pass

    assert not hasattr(Bare(), "anything")
    with pytest.raises(AttributeError, match="^anything$"):
        _ = Bare().anything

    class Refusing(ndffi._ndffi.LibraryBase):
        @property
        def _resolve(self):
            raise AttributeError("no resolver here")

    with pytest.raises(AttributeError, match="^no resolver here$"):
        _ = Refusing().anything

    class Static(ndffi._ndffi.LibraryBase):
        _resolve = staticmethod(lambda name: ("static", name))

    class Bound(ndffi._ndffi.LibraryBase):
        _resolve = functools.partialmethod(lambda self, tag, name: (tag, type(self).__name__, name), "partial")

    assert Static().x == ("static", "x")
    assert Bound().y == ("partial", "Bound", "y")


def test_a_name_no_c_identifier_can_be(lib):
    for name in ("\udcff", "a\udcffb"):
        assert not hasattr(lib, name)
        with pytest.raises(AttributeError):
            getattr(lib, name)


def test_release_gil_is_a_truth_value(clib_dir):
    fresh = ndffi.load("libfoo", clib_dir)
    fresh.cdef("double dsum(const double *x, long n);", release_gil=0)
    assert fresh.dsum(np.arange(3.0), 3) == 3.0
    assert fresh.dsum.__doc__.endswith("the GIL is held.")
    assert fresh._record.cdefs == [("double dsum(const double *x, long n);", (("release_gil", False),))]


def test_suggested_symbols_are_named_once(tmp_path):
    import subprocess

    src = tmp_path / "under.c"
    src.write_text("int __(int a) { return a; }\nint ___(int a) { return a; }\n")
    so = tmp_path / "libunder.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    under = ndffi.load(str(so))
    with pytest.raises(AttributeError) as info:
        _ = under._
    message = str(info.value)
    assert "did you mean '__' or '___'?" in message


def test_types_of_the_same_name_from_elsewhere_are_named_as_such():
    # Each library (and ndffi's own namespace) declares its own types: a value made with
    # another's is refused, and the message says why two alike spellings differ.
    src = "struct P { int c, i; };\nint takep(struct P p) { return p.i; }\nint vt(int n, ...) { return n; }"
    one = ndffi.inline(src, name="messages_same_name")
    two = ndffi.load(one.path).cdef("struct P { int c, i; }; int takep(struct P p);")
    assert one.takep(one.types["struct P"](1, 2)) == 2
    with pytest.raises(
        TypeError, match=r"takep\(\) argument 1.*expected 'struct P', got 'struct P' \(two declarations"
    ):
        two.takep(one.types["struct P"](1, 2))
    f = one.callback("int(struct P)", lambda p: p.i)
    with pytest.raises(TypeError, match=r"got a callback 'int \(\*\)\(struct P\)' \(two declarations.*lib\.cast"):
        ndffi.cast("int (*)(struct P)", f)
    assert one.cast("int (*)(struct P)", f)((3, 4)) == 4
    # a tuple through `...` has no C type: a struct value has
    with pytest.raises(TypeError, match=r"vt\(\) argument 2: cannot pass tuple .*no C type.*pass a struct value"):
        one.vt(1, (1, 2))
    assert one.vt(1, one.types["struct P"](1, 2)) == 1
