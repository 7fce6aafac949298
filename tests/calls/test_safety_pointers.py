"""What keeps the memory behind a Pointer or a struct value alive, bounded and
read-only, against tests/clib/pointers.c.

- A struct value, ``ndffi.new`` memory and C memory reached through a Pointer keep the
  owner of every pointer stored into them (fields, elements, initialisers, copies,
  results and out-parameters C fills from arguments), until the slot is overwritten.
- A Pointer over a resizable or closable buffer holds an export of it: the owner
  refuses to resize or close (``BufferError``) while the Pointer, or anything made
  from it, lives.
- A Pointer made from memory of known size keeps that bound (``IndexError``).
- A Pointer over read-only memory is read-only, and is refused for a non-const
  parameter.
- ``as_array`` refuses dtypes that hold Python objects; a NumPy scalar or 0-d array is
  never a pointer.
"""

import array
import gc
import mmap
import sys
import threading
import weakref

import numpy as np
import pytest

import ndffi
from conftest import clib_fixture

DECLS = """
    typedef struct { double *x; int n; } particles;
    double particles_step(particles *p, double dt);
    double particles_sum(const particles *p);
    particles particles_make(double *x, int n);
    double particles_sum_val(particles p);
    void particles_init(particles *p, double *x, int n);
    typedef struct { particles parts[2]; const char *name; } system_t;
    double system_sum(const system_t *s);
    size_t system_name_len(const system_t *s);
    typedef struct { particles inner; int tag; } wrapped;
    double wrapped_sum(const wrapped *w);
    typedef union { double *p; long i; } ptr_or_int;
    double poi_first(const ptr_or_int *u);
    struct node { struct node *next; double *data; int n; };
    double list_sum(const struct node *h);
    size_t argv_total(int argc, char **argv);
    double rows_total(double **rows, int nrows, int ncols);
    char *char_at(char *s, long i);
    const char *cchar_at(const char *s, long i);
    double *double_at(double *x, long i);
    void *void_at(void *p, long i);
    void put_byte(char *p, int v);
    void put_double(double *p, double v);
    double get_double(const double *p);
    void zero_bytes(void *p, size_t n);
    particles *c_particles_get(void);
    double *c_values_get(void);
    typedef struct { double (*f)(double); double scale; } fnbox;
    double fnbox_call(const fnbox *b, double x);
    typedef struct { const char *names[3]; int n; } namelist;
    size_t namelist_total(const namelist *l);
    void find_char(char *s, int c, char **out);
    typedef struct { double a, b; } pair;
    double call_with_pair(double (*cb)(pair), double a, double b);
    double scribble(double x);
"""

lib = clib_fixture("pointers", DECLS)


@pytest.fixture(scope="module")
def libc():
    return ndffi.load(None).cdef("void *memchr(const void *s, int c, size_t n);")


def collected(ref):
    gc.collect()
    return ref() is None


# ---- 1. struct values keep what their pointer fields point to ------------------------


def test_struct_field_keeps_a_cast_array_alive(lib):
    a = np.arange(100_000.0)
    w = weakref.ref(a)
    p = lib.types.particles(x=ndffi.cast("double *", a), n=a.size)
    del a
    assert not collected(w), "the struct value let the array behind its field be freed"
    assert lib.particles_step(p, 1.0) == sum(range(100_000)) + 100_000
    assert w()[5] == 6.0


def test_struct_field_takes_an_array_directly_zero_copy(lib):
    a = np.zeros(3)
    p = lib.types.particles(x=a, n=3)
    assert p.x.address == a.ctypes.data
    assert lib.particles_step(p, 0.5) == 1.5
    assert a.tolist() == [0.5, 0.5, 0.5]
    b = np.array([1.0, 2.0, 3.0])
    p.x = b
    assert lib.particles_sum(p) == 6.0
    w = weakref.ref(b)
    del b
    assert not collected(w)
    positional = lib.types.particles(a, 3)
    assert positional.x.address == a.ctypes.data
    # buffers, DLPack and __array_interface__ objects, as arguments take them
    ad = array.array("d", [1.0, 2.0])
    q = lib.types.particles(x=ad, n=2)
    assert lib.particles_sum(q) == 3.0
    with pytest.raises(BufferError):
        ad.append(3.0)  # the field holds an export of the buffer
    q.x = None
    ad.append(3.0)


def test_struct_field_checks_arrays_as_an_argument_does(lib):
    P = lib.types.particles
    with pytest.raises(TypeError) as e:
        P(x=np.zeros(3, np.float32), n=3)
    msg = str(e.value)
    assert "field 'x'" in msg and "float64" in msg and "got float32 array" in msg
    with pytest.raises(TypeError, match=r"field 'x'.*not contiguous"):
        P(x=np.zeros(6)[::2], n=3)
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match=r"field 'x'.*read-only"):
        P(x=ro, n=3)
    with pytest.raises(TypeError, match=r"field 'x'.*a plain int is not a pointer"):
        P(x=ro.ctypes.data, n=3)
    with pytest.raises(TypeError, match=r"field 'x'.*got list"):
        P(x=[1.0, 2.0], n=2)
    p = P(n=3)
    with pytest.raises(TypeError, match=r"field 'x' of 'particles'.*float64.*got int32 array"):
        p.x = np.zeros(3, np.int32)
    assert not p.x  # a refused store changes nothing
    # a const char * field takes bytes and str, and keeps them
    s = lib.types.system_t(name=b"hello")
    assert lib.system_name_len(s) == 5
    name = "".join(["w\u00f6rld", "!"])
    s.name = name
    del name
    gc.collect()
    assert lib.system_name_len(s) == 7 and s.name.string() == "w\u00f6rld!".encode()


def test_message_no_longer_suggests_a_cast_for_fields(lib):
    with pytest.raises(TypeError) as e:
        lib.types.particles(x=3.0, n=1)
    assert "cast" not in str(e.value)
    assert "array" in str(e.value)


def test_overwriting_a_field_lets_the_old_owner_go(lib):
    a, b = np.ones(3), np.full(3, 2.0)
    wa, wb = weakref.ref(a), weakref.ref(b)
    p = lib.types.particles(x=a, n=3)
    p.x = b
    del a, b
    assert collected(wa), "the overwritten field still keeps its old array"
    assert not collected(wb)
    assert lib.particles_sum(p) == 6.0
    p.x = None
    assert collected(wb)
    u = lib.types.ptr_or_int(p=np.array([7.0]))
    assert lib.poi_first(u) == 7.0
    c = np.array([8.0])
    wc = weakref.ref(c)
    u.p = c
    del c
    assert not collected(wc)
    u.i = 5  # another member over the pointer
    assert collected(wc)


def test_a_pointer_read_from_a_field_keeps_owner_and_bound(lib):
    a = np.arange(3.0)
    w = weakref.ref(a)
    p = lib.types.particles(x=a, n=3)
    q = p.x
    del p, a
    assert not collected(w)
    assert q[2] == 2.0
    with pytest.raises(IndexError, match="3 elements"):
        q[3]
    assert q.as_array(3).tolist() == [0.0, 1.0, 2.0]


def test_nested_structs_and_arrays_of_structs(lib):
    a, b = np.arange(4.0), np.arange(10.0, 12.0)
    wa, wb = weakref.ref(a), weakref.ref(b)
    s = lib.types.system_t(parts=[lib.types.particles(x=a, n=4), {"x": b, "n": 2}])
    del a, b
    assert not collected(wa) and not collected(wb)
    assert lib.system_sum(s) == 6.0 + 21.0
    wr = lib.types.wrapped(tag=100)
    c = np.ones(2)
    wc = weakref.ref(c)
    wr.inner.x = c  # through a view of the nested struct
    wr.inner.n = 2
    del c
    assert not collected(wc)
    assert lib.wrapped_sum(wr) == 102.0


def test_copies_of_struct_values_keep_the_owners(lib):
    P = lib.types.particles
    a = np.arange(3.0)
    w = weakref.ref(a)
    p = P(x=a, n=3)
    wr = lib.types.wrapped(inner=p, tag=1)  # a copy into a field
    arr = lib.new("particles[2]", [p])  # an initialiser
    one = lib.new("particles *")
    one[0] = p  # element assignment
    del a, p
    assert not collected(w)
    assert lib.wrapped_sum(wr) == 4.0
    assert lib.particles_sum(arr) == 3.0
    assert lib.particles_sum(one) == 3.0
    del wr, arr
    assert not collected(w)
    del one
    assert collected(w)


def test_struct_result_pointing_into_an_argument_keeps_it(lib):
    a = np.arange(5.0)
    w = weakref.ref(a)
    r = lib.particles_make(a, 5)
    del a
    assert not collected(w)
    assert lib.particles_sum(r) == 10.0
    assert lib.particles_sum_val(r) == 10.0


def test_out_parameter_pointing_into_an_argument_keeps_it(lib):
    a = np.arange(4.0)
    w = weakref.ref(a)
    p = lib.types.particles()
    lib.particles_init(p, a, 4)
    del a
    assert not collected(w), "C stored an argument's address into the struct; it must be kept"
    assert lib.particles_sum(p) == 6.0
    assert p.x[3] == 3.0
    with pytest.raises(IndexError):
        p.x[4]


def test_argv_idiom(lib):
    argv = lib.new("char *[3]")
    argv[0] = ndffi.new("char[64]", b"prog")
    argv[1] = ndffi.new("char[8]", b"-v")
    gc.collect()
    junk = [ndffi.new("char[64]", b"x" * 63) for _ in range(50)]  # reuse freed memory if any
    assert lib.argv_total(2, argv) == 6
    assert argv[0].string() == b"prog" and len(argv[0]) == 64
    del junk
    table = lib.new("char *[2]", [ndffi.new("char[8]", b"abc"), None])
    gc.collect()
    assert lib.argv_total(2, table) == 3
    rows = lib.new("double *[2]", [np.ones(3), np.full(3, 2.0)])  # arrays directly
    gc.collect()
    assert lib.rows_total(rows, 2, 3) == 9.0


def test_arrays_of_pointers_inside_a_struct(lib):
    lst = lib.types.namelist(names=[b"ab", "".join(["c", "de"])], n=2)
    gc.collect()
    assert lib.namelist_total(lst) == 5
    names = lst.names  # a Pointer to the first element, bounded
    assert names[1].string() == b"cde" and len(names) == 3
    with pytest.raises(IndexError):
        names[3]
    w = bytearray(b"wxyz\0")
    names[2] = w  # through the field's Pointer: the struct keeps it
    lst.n = 3
    del names
    gc.collect()
    assert lib.namelist_total(lst) == 9
    with pytest.raises(BufferError):
        w.extend(b"!")
    lst.names = [None, None, None]
    w.extend(b"!")  # overwritten: the export is gone
    with pytest.raises(TypeError, match="field 'names' of 'namelist' element 0"):
        lst.names = [3.5]


def test_out_parameter_through_a_pointer_to_a_pointer(lib):
    s = bytearray(b"key=value\0")
    out = lib.new("char **")
    lib.find_char(s, ord("="), out)
    found = out[0]
    assert found.string() == b"=value"
    with pytest.raises(BufferError):
        s.extend(b"!")  # out keeps an export of s
    with pytest.raises(IndexError):
        found[7]  # bounded by s
    del found
    out[0] = None
    gc.collect()
    s.extend(b"!")


def test_callback_struct_argument_outlives_the_call(lib):
    kept = []

    def cb(p):
        kept.append(p)
        return p.a + p.b

    assert lib.call_with_pair(cb, 1.5, 2.5) == 4.0
    for _ in range(10):
        lib.scribble(99.0)  # reuse C's stack
    assert (kept[0].a, kept[0].b) == (1.5, 2.5)


def test_threads_replacing_elements_during_calls(lib):
    argv = lib.new("char *[2]")
    argv[0] = ndffi.new("char[200000]", b"a" * 199_999)
    stop = threading.Event()
    errors = []

    def caller():
        while not stop.is_set():
            n = lib.argv_total(1, argv)
            if n not in (199_999, 99_999):
                errors.append(n)

    strings = [ndffi.new("char[200000]", b"b" * 99_999), ndffi.new("char[200000]", b"a" * 199_999)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    t = threading.Thread(target=caller)
    t.start()
    try:
        for i in range(3000):
            argv[0] = strings.pop()  # the only reference: replaced, it may be freed
            strings.append(ndffi.new("char[200000]", (b"b" * 99_999) if i % 2 else (b"a" * 199_999)))
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(interval)
    assert errors == []


def test_linked_list_of_struct_values(lib):
    N = lib.types["struct node"]
    tail = N(data=np.array([3.0, 4.0]), n=2)
    head = N(next=tail, data=np.array([1.0, 2.0]), n=2)
    w = weakref.ref(tail)
    del tail
    assert not collected(w)
    assert lib.list_sum(head) == 10.0
    head.next = None
    assert collected(w)


def test_cycles_through_pointer_fields_are_collected(lib):
    a = ndffi.new("void *[1]")
    a[0] = a
    w = weakref.ref(a)
    n = lib.types["struct node"]()
    n.next = n
    wn = weakref.ref(n)
    del a, n
    gc.collect()
    assert wn() is None and w() is None


def test_memory_that_cannot_keep_an_owner_refuses_it(lib):
    recs = np.zeros(1, lib.types.particles.dtype)
    view = lib.cast("particles *", recs)[0]
    with pytest.raises(TypeError) as e:
        view.x = np.zeros(3)
    msg = str(e.value)
    assert "field 'x'" in msg and "alive" in msg
    assert recs["x"][0] == 0
    view.n = 3  # plain data is fine
    assert recs["n"][0] == 3


def test_c_memory_keeps_what_is_stored_through_its_pointer(lib):
    c = lib.c_particles_get()
    old = c[0].x
    assert old[3] == 4.0  # C's pointer: unbounded, C's lifetime
    a = np.full(4, 10.0)
    w = weakref.ref(a)
    try:
        c[0].x = a
        del a
        assert not collected(w)
        assert lib.particles_sum(c) == 40.0
    finally:
        c[0].x = old
    assert collected(w)


def test_function_pointer_field_keeps_its_callback(lib):
    cb = ndffi.callback("double(double)", lambda x: x * 2)
    w = weakref.ref(cb)
    box = lib.types.fnbox(f=cb, scale=3.0)
    del cb
    gc.collect()
    assert w() is not None
    assert lib.fnbox_call(box, 5.0) == 30.0


def test_threads_replacing_fields_during_calls(lib):
    # Without the call holding what the memory it passes keeps, C reads a freed array.
    p = lib.types.particles(x=np.ones(200_000), n=200_000)
    stop = threading.Event()
    errors = []

    def caller():
        try:
            while not stop.is_set():
                s = lib.particles_sum(p)
                if s not in (200_000.0, 400_000.0):
                    errors.append(s)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    t = threading.Thread(target=caller)
    t.start()
    try:
        for i in range(2000):
            p.x = np.full(200_000, 2.0 if i % 2 else 1.0)  # the old array may be freed
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(interval)
    assert errors == []


# ---- 2. Pointers over resizable or closable buffers hold an export ------------------


def test_pointer_over_bytearray_blocks_resizing(lib):
    ba = bytearray(b"hello")
    p = ndffi.cast("char *", ba)
    with pytest.raises(BufferError):
        ba.extend(b"!" * 1_000_000)
    assert p[0] == ord("h")
    q = ndffi.cast("unsigned char *", p)  # derived pointers hold it too
    v = q.as_array(5)
    s = q + 1
    del p, q
    gc.collect()
    with pytest.raises(BufferError):
        ba.extend(b"!")
    del v
    gc.collect()
    with pytest.raises(BufferError):
        ba.extend(b"!")
    assert s[0] == ord("e")
    del s
    gc.collect()
    ba.extend(b"!")
    assert ba == b"hello!"


def test_pointer_over_mmap_blocks_close(lib):
    mm = mmap.mmap(-1, 4096)
    mm[:3] = b"abc"
    p = ndffi.cast("char *", mm)
    with pytest.raises(BufferError):
        mm.close()
    assert p[2] == ord("c")
    del p
    gc.collect()
    mm.close()


def test_result_into_a_buffer_holds_the_export(lib, libc):
    ba = bytearray(b"abcdef")
    r = libc.memchr(ba, ord("d"), len(ba))
    assert r and r.address - ndffi.addressof(ba) == 3
    with pytest.raises(BufferError):
        ba.extend(b"x" * 1_000_000)
    c = ndffi.cast("char *", r)
    assert c[0] == ord("d") and c[-3] == ord("a")
    with pytest.raises(IndexError):
        c[3]
    del r, c
    gc.collect()
    ba.extend(b"g")
    mm = mmap.mmap(-1, 4096)
    mm[:4] = b"wxyz"
    r = lib.char_at(ndffi.cast("char *", mm), 2)
    gc.collect()
    with pytest.raises(BufferError):
        mm.close()
    assert r[0] == ord("y")
    del r
    gc.collect()
    mm.close()


def test_memoryview_and_array_array_exports(lib):
    ad = array.array("d", [1.0, 2.0])
    p = ndffi.cast("double *", ad)
    with pytest.raises(BufferError):
        ad.append(3.0)
    mv = memoryview(bytearray(8))
    q = ndffi.cast("char *", mv)
    with pytest.raises(BufferError):
        mv.release()
    del p, q
    gc.collect()
    ad.append(3.0)
    mv.release()


# ---- 7. bounds ------------------------------------------------------------------------


def test_pointer_from_an_array_is_bounded(lib):
    p = ndffi.cast("double *", np.zeros(2))
    for i in (2, 10**9, -1, -(10**9), 2**62):
        with pytest.raises(IndexError) as e:
            p[i]
        assert "2 elements" in str(e.value) or "16 bytes" in str(e.value)
        with pytest.raises(IndexError):
            p[i] = 1.0
    p[1] = 5.0
    assert p[1] == 5.0
    with pytest.raises(IndexError, match="16 bytes"):
        p.as_array(3)
    assert p.as_array(2).tolist() == [0.0, 5.0]
    with pytest.raises(IndexError):
        p.as_array((2, 2**62))
    assert len(p) == 2 and list(p) == [0.0, 5.0]


def test_bounds_of_every_known_source(lib):
    for obj, n in [(b"abc", 4), (bytearray(5), 5), (array.array("b", [1, 2]), 2), (ndffi.new("char[7]"), 7)]:
        p = ndffi.cast("char *", obj)
        p[n - 1]
        with pytest.raises(IndexError):
            p[n]
    s = lib.types.particles()
    c = ndffi.cast("char *", s)
    c[s.__ctype__.size - 1]
    with pytest.raises(IndexError):
        c[s.__ctype__.size]
    # a bound in bytes survives casts to other element types
    d = ndffi.cast("char *", ndffi.cast("double *", np.zeros(2)))
    d[15]
    with pytest.raises(IndexError):
        d[16]
    i = ndffi.cast("int *", np.zeros(3, np.int16))  # 6 bytes: one whole int
    i[0]
    with pytest.raises(IndexError):
        i[1]
    # a struct field array
    lib.cdef("typedef struct { double v[3]; int k; } with_array;")
    w = lib.types.with_array()
    v = ndffi.cast("double *", w.v)
    v[2] = 1.0
    with pytest.raises(IndexError):
        v[3]
    assert w.v.tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(IndexError):
        ndffi.new("double[4]")[4]


def test_results_into_known_memory_are_bounded(lib):
    a = np.arange(6.0)
    r = lib.double_at(a, 2)
    assert r[-2] == 0.0 and r[3] == 5.0
    with pytest.raises(IndexError):
        r[4]
    with pytest.raises(IndexError):
        r[-3]
    assert r.as_array(4).tolist() == [2.0, 3.0, 4.0, 5.0]
    with pytest.raises(IndexError):
        r.as_array(5)
    assert lib.cchar_at(b"hello", 1).string() == b"ello"


def test_pointer_arithmetic_stays_in_bounds(lib):
    p = ndffi.cast("double *", np.arange(4.0))
    q = p + 3
    assert q[0] == 3.0 and q[-3] == 0.0 and (q - 3).address == p.address
    assert (p + 4).address == p.address + 32  # one past the end, as in C
    with pytest.raises(IndexError):
        (p + 4)[0]
    with pytest.raises(IndexError):
        p + 5
    with pytest.raises(IndexError):
        p - 1


def test_raw_addresses_are_unbounded(lib):
    a = np.arange(4.0)
    p = ndffi.cast("double *", a.ctypes.data)
    assert p[3] == 3.0  # nothing known: unchecked (unsafe by nature)
    c = lib.c_values_get()
    assert c[3] == 4.0
    with pytest.raises(TypeError, match="not known"):
        len(c)


def test_string_is_bounded(lib):
    p = ndffi.cast("char *", bytearray(b"abc"))  # no NUL inside the bound: C would read on
    with pytest.raises(IndexError, match=r"no NUL within the memory .*string\(3\)"):
        p.string()
    assert p.string(3) == b"abc" and (p + 1).string(2) == b"bc"
    with pytest.raises(IndexError):
        p.string(4)
    assert ndffi.cast("char *", bytearray(b"ab\0c")).string() == b"ab"


# ---- 8. read-only memory --------------------------------------------------------------


def test_bytes_are_not_written_through_a_pointer(lib):
    key = bytes([0])
    p = ndffi.cast("char *", key)
    with pytest.raises(TypeError) as e:
        p[0] = 65
    assert "read-only" in str(e.value) and "bytes" in str(e.value)
    assert key == b"\x00" and b"\x00" == bytes([0])
    q = ndffi.cast("char *", ndffi.cast("const char *", b"\x00"))
    with pytest.raises(TypeError, match="read-only"):
        q[0] = 65
    v = p.as_array(1)
    assert not v.flags.writeable
    with pytest.raises(ValueError):
        v[0] = 65
    assert b"\x00"[0] == 0


def test_read_only_arrays_stay_read_only(lib):
    ro = np.zeros(3)
    ro.flags.writeable = False
    p = ndffi.cast("double *", ro)
    with pytest.raises(TypeError, match="read-only"):
        p[0] = 1.0
    assert not p.as_array(3).flags.writeable
    with pytest.raises(TypeError) as e:
        lib.put_double(p, 1.0)
    msg = str(e.value)
    assert msg.startswith("put_double() argument 1 'p': ")
    assert "read-only" in msg and "writeable" in msg
    assert lib.get_double(p) == 0.0  # a const parameter takes it
    assert ro.tolist() == [0.0, 0.0, 0.0]
    mm = mmap.mmap(-1, 16, access=mmap.ACCESS_READ)
    m = ndffi.cast("char *", mm)
    with pytest.raises(TypeError, match="read-only"):
        m[0] = 1
    del m


def test_const_and_read_only_pointers_refused_for_non_const_parameters(lib):
    with pytest.raises(TypeError) as e:
        lib.put_byte(ndffi.cast("char *", b"x"), 65)
    msg = str(e.value)
    assert msg.startswith("put_byte() argument 1 'p': expected ")
    assert "char *" in msg and "read-only" in msg and "bytearray" in msg
    ba = bytearray(4)
    with pytest.raises(TypeError, match=r"^zero_bytes\(\) argument 1 'p'.*const"):
        lib.zero_bytes(ndffi.cast("const char *", ba), 1)
    with pytest.raises(TypeError, match=r"^zero_bytes\(\) argument 1 'p'.*read-only"):
        lib.zero_bytes(ndffi.cast("char *", b"abcd"), 4)
    lib.put_byte(ndffi.cast("char *", ba), 65)
    assert ba[0] == 65
    r = lib.cchar_at(b"abc", 0)  # C's result into bytes is read-only memory
    with pytest.raises(TypeError, match="read-only"):
        ndffi.cast("char *", r)[0] = 1


def test_struct_views_of_read_only_memory(lib):
    raw = bytes(lib.types.particles(n=0))
    v = lib.cast("particles *", raw)[0]
    assert v.n == 0
    with pytest.raises(TypeError, match="read-only"):
        v.n = 4
    with pytest.raises(TypeError, match="read-only"):
        lib.particles_step(v, 1.0)
    assert lib.particles_sum(lib.cast("particles *", raw)) == 0.0  # const: fine


def test_const_fields_are_set_when_the_value_is_made(lib):
    lib.cdef("typedef struct { const int k; double *const data; int n; } fixed_t;")
    a = np.ones(2)
    v = lib.types.fixed_t(k=3, data=a, n=2)
    assert v.k == 3 and v.data.address == a.ctypes.data
    with pytest.raises(TypeError, match=r"field 'k' of 'fixed_t'.*const"):
        v.k = 4
    with pytest.raises(TypeError, match=r"field 'data' of 'fixed_t'.*const"):
        v.data = None
    v.n = 1
    assert v.k == 3 and v.n == 1


# ---- 9. as_array with object dtypes --------------------------------------------------


@pytest.mark.parametrize("dtype", [object, [("a", np.float64), ("o", object)], np.dtypes.StringDType()])
def test_as_array_refuses_object_dtypes(lib, dtype):
    p = ndffi.new("double[4]")
    with pytest.raises(TypeError, match="object"):
        p.as_array(1, dtype=dtype)


HOLDING_REFERENCES = [
    np.array([object(), object()], dtype=object),
    np.array(["ab", "cd"], dtype=np.dtypes.StringDType()),
    np.zeros(2, [("a", np.float64), ("o", object)]),
]


@pytest.mark.parametrize("arr", HOLDING_REFERENCES, ids=["object", "StringDType", "object field"])
def test_arrays_holding_references_never_reach_c(lib, libc, arr):
    # C would read or overwrite the references as raw pointers (a crash when the array is
    # next used): refused for any pointer, const or not, wherever it is given.
    before = arr.copy()
    with pytest.raises(TypeError, match=r"zero_bytes\(\) argument 1 'p': expected an array of data.*objects"):
        lib.zero_bytes(arr, arr.nbytes)
    with pytest.raises(TypeError, match=r"memchr\(\) argument 1 's'.*objects"):
        libc.memchr(arr, 0, 1)
    with pytest.raises(TypeError, match=r"cast\('void \*', \.\.\.\).*objects"):
        ndffi.cast("void *", arr)
    slot = ndffi.new("void *[1]")
    with pytest.raises(TypeError, match="objects"):
        slot[0] = arr
    assert all(a == b for a, b in zip(arr.tolist(), before.tolist(), strict=True))


# ---- 10. a number is never a pointer --------------------------------------------------


@pytest.mark.parametrize("value", [np.float64(2.25), np.array(2.25), np.float32(1.0)])
def test_numpy_scalars_are_not_pointers(lib, value):
    with pytest.raises(TypeError) as e:
        lib.get_double(value)
    msg = str(e.value)
    assert msg.startswith("get_double() argument 1 'p': ")
    assert "np.array([x])" in msg
    with pytest.raises(TypeError, match=r"np\.array\(\[x\]\)"):
        lib.types.particles(x=value, n=1)
    with pytest.raises(TypeError, match=r"np\.array\(\[x\]\)"):
        ndffi.cast("double *", value)
    assert lib.get_double(np.array([2.25])) == 2.25


def test_a_struct_keeps_a_c_pointer_and_what_is_stored_through_it_later():
    # A Pointer into C's memory stored into a struct value is kept by it: what is stored
    # through that Pointer afterwards lives as long as the struct, not as the Pointer.
    c = ndffi.load(None).cdef("double **malloc(size_t n); void free(void *p); struct holder { double **pp; };")
    pp = c.malloc(8)
    h = c.types["struct holder"](pp=pp)
    a = np.ones(3)
    pp[0] = a
    alive = weakref.ref(a)
    del a, pp
    gc.collect()
    assert alive() is not None
    assert h.pp[0][2] == 1.0
    c.free(h.pp)
