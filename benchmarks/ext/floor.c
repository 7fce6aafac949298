/* The floor: a careful hand-written METH_FASTCALL extension calling libbench.so.
   Built twice: as _bench_floor_hold (holds the GIL over the C call) and, with
   -DFLOOR_RELEASE_GIL, as _bench_floor_release (Py_BEGIN/END_ALLOW_THREADS around
   it). Arguments are checked as a careful extension would: exact arity, integers
   range-checked into C int / long, dsum's array checked through the NumPy C API
   (ndarray, native float64, aligned, C-contiguous, n within its size).
   With -DFLOOR_BUFFER (module _bench_floor_buf, GIL held) dsum checks its array
   through the buffer protocol instead (format "d", C-contiguous): a reference
   point, since that route costs several hundred instructions more per call.
   The other rows, as a careful extension writes them:
   - vflip takes and returns a floor.vec2: the module's own object holding the two
     doubles inline (PyMemberDef x, y), exact type checked; one allocation per result.
   - slen takes bytes (exact PyBytes check), passes its buffer.
   - get returns the address as a Python int (PyLong_FromVoidPtr), as ctypes does.
   - fmt(buf, n, i, d) calls snprintf(buf, n, "%d %f", i, d): a C function with
     fixed types, since an extension cannot call a variadic function with types chosen
     from Python; buf is any writable buffer (PyBUF_WRITABLE), n checked against it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <structmember.h>
#include "bench.h"

#if defined(FLOOR_RELEASE_GIL)
#  define MODNAME _bench_floor_release
#  define CALL_C(stmt) do { Py_BEGIN_ALLOW_THREADS stmt; Py_END_ALLOW_THREADS } while (0)
#elif defined(FLOOR_BUFFER)
#  define MODNAME _bench_floor_buf
#  define CALL_C(stmt) do { stmt; } while (0)
#else
#  define MODNAME _bench_floor_hold
#  define CALL_C(stmt) do { stmt; } while (0)
#endif
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define STR2(a) #a
#define STR(a) STR2(a)

static int check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs == want)
        return 0;
    PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)",
                 name, want, nargs);
    return -1;
}

static int as_int(PyObject *o, int *out)
{
    long v = PyLong_AsLong(o); /* TypeError for non-integers, OverflowError for huge */
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < INT_MIN || v > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "value out of range for C int");
        return -1;
    }
    *out = (int)v;
    return 0;
}

static PyObject *py_add(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int a, b, r;
    if (check_nargs("add", nargs, 2) || as_int(args[0], &a) || as_int(args[1], &b))
        return NULL;
    CALL_C(r = add(a, b));
    return PyLong_FromLong(r);
}

static PyObject *py_noop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_nargs("noop", nargs, 0))
        return NULL;
    CALL_C(noop());
    Py_RETURN_NONE;
}

#ifdef FLOOR_BUFFER
static PyObject *py_dsum(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    long n;
    double r;
    if (check_nargs("dsum", nargs, 2))
        return NULL;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (view.itemsize != sizeof(double) || strcmp(view.format, "d") != 0) {
        PyErr_SetString(PyExc_TypeError, "dsum(): x must be a buffer of float64 ('d')");
        goto fail;
    }
    n = PyLong_AsLong(args[1]);
    if (n == -1 && PyErr_Occurred())
        goto fail;
    if (n < 0 || n > view.len / (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "dsum(): n out of range for x");
        goto fail;
    }
    CALL_C(r = dsum((const double *)view.buf, n));
    PyBuffer_Release(&view);
    return PyFloat_FromDouble(r);
fail:
    PyBuffer_Release(&view);
    return NULL;
}
#else
static PyObject *py_dsum(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyArrayObject *arr;
    long n;
    double r;
    if (check_nargs("dsum", nargs, 2))
        return NULL;
    if (!PyArray_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "dsum(): x must be a numpy.ndarray");
        return NULL;
    }
    arr = (PyArrayObject *)args[0];
    if (PyArray_TYPE(arr) != NPY_DOUBLE || !PyArray_ISNOTSWAPPED(arr)) {
        PyErr_SetString(PyExc_TypeError, "dsum(): x must have dtype float64 (native order)");
        return NULL;
    }
    if (!PyArray_IS_C_CONTIGUOUS(arr) || !PyArray_ISALIGNED(arr)) {
        PyErr_SetString(PyExc_ValueError, "dsum(): x must be C-contiguous and aligned");
        return NULL;
    }
    n = PyLong_AsLong(args[1]);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 0 || n > PyArray_SIZE(arr)) {
        PyErr_SetString(PyExc_ValueError, "dsum(): n out of range for x");
        return NULL;
    }
    CALL_C(r = dsum((const double *)PyArray_DATA(arr), n));
    return PyFloat_FromDouble(r);
}
#endif

/* vec2: the floor's struct object, two doubles held inline. */
typedef struct {
    PyObject_HEAD
    vec2 v;
} Vec2Object;

static PyObject *vec2_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    double x = 0.0, y = 0.0;
    static char *kwlist[] = {"x", "y", NULL};
    Vec2Object *o;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|dd", kwlist, &x, &y))
        return NULL;
    o = (Vec2Object *)type->tp_alloc(type, 0);
    if (o) {
        o->v.x = x;
        o->v.y = y;
    }
    return (PyObject *)o;
}

static PyMemberDef vec2_members[] = {
    {"x", T_DOUBLE, offsetof(Vec2Object, v.x), 0, NULL},
    {"y", T_DOUBLE, offsetof(Vec2Object, v.y), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject Vec2Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = STR(MODNAME) ".vec2",
    .tp_basicsize = sizeof(Vec2Object),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = vec2_new,
    .tp_members = vec2_members,
};

static PyObject *py_vflip(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    vec2 r;
    Vec2Object *o;
    if (check_nargs("vflip", nargs, 1))
        return NULL;
    if (!Py_IS_TYPE(args[0], &Vec2Type)) {
        PyErr_SetString(PyExc_TypeError, "vflip(): v must be a vec2");
        return NULL;
    }
    CALL_C(r = vflip(((Vec2Object *)args[0])->v));
    o = PyObject_New(Vec2Object, &Vec2Type);
    if (o)
        o->v = r;
    return (PyObject *)o;
}

static PyObject *py_slen(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    long r;
    const char *s;
    if (check_nargs("slen", nargs, 1))
        return NULL;
    if (!PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "slen(): s must be bytes");
        return NULL;
    }
    s = PyBytes_AS_STRING(args[0]);
    CALL_C(r = slen(s));
    return PyLong_FromLong(r);
}

static PyObject *py_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double *r;
    if (check_nargs("get", nargs, 0))
        return NULL;
    CALL_C(r = get());
    return PyLong_FromVoidPtr(r);
}

static PyObject *py_fmt(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t n;
    int i, r;
    double d;
    if (check_nargs("fmt", nargs, 4))
        return NULL;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_WRITABLE) < 0)
        return NULL;
    n = PyLong_AsSsize_t(args[1]);
    if (n == -1 && PyErr_Occurred())
        goto fail;
    if (n < 0 || n > view.len) {
        PyErr_SetString(PyExc_ValueError, "fmt(): n out of range for buf");
        goto fail;
    }
    if (as_int(args[2], &i))
        goto fail;
    d = PyFloat_AsDouble(args[3]);
    if (d == -1.0 && PyErr_Occurred())
        goto fail;
    CALL_C(r = snprintf((char *)view.buf, (size_t)n, "%d %f", i, d));
    PyBuffer_Release(&view);
    return PyLong_FromLong(r);
fail:
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"add", (PyCFunction)(void (*)(void))py_add, METH_FASTCALL, NULL},
    {"noop", (PyCFunction)(void (*)(void))py_noop, METH_FASTCALL, NULL},
    {"dsum", (PyCFunction)(void (*)(void))py_dsum, METH_FASTCALL, NULL},
    {"vflip", (PyCFunction)(void (*)(void))py_vflip, METH_FASTCALL, NULL},
    {"slen", (PyCFunction)(void (*)(void))py_slen, METH_FASTCALL, NULL},
    {"get", (PyCFunction)(void (*)(void))py_get, METH_FASTCALL, NULL},
    {"fmt", (PyCFunction)(void (*)(void))py_fmt, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, STR(MODNAME), NULL, -1, methods,
};

PyMODINIT_FUNC CAT(PyInit_, MODNAME)(void)
{
    PyObject *m;
    import_array(); /* returns NULL with an ImportError set on failure */
    if (PyType_Ready(&Vec2Type) < 0)
        return NULL;
    m = PyModule_Create(&moddef);
    if (m && PyModule_AddObjectRef(m, "vec2", (PyObject *)&Vec2Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
