// Pointer-to-pointer parameters (T **, const T *const *) from NumPy: a table of row
// pointers built for the call, zero copy, after the cookbook's
//     (f4ptr * len(x))(*[row.ctypes.data_as(f4ptr) for row in x])
// A 2-D array gives one pointer per row (any stride between rows; each row contiguous);
// a list or tuple gives one pointer per item, each converted as an argument of type T *
// would be (so a ragged list of 1-D arrays works, and each row is checked for dtype,
// contiguity and, unless T is const, writeability).  The table ends with an extra NULL
// entry (argv style) and is kept, with anything the rows needed, until the call returns;
// so is a snapshot of the list, which keeps each row alive whatever happens to the list.
#include <cstring>

#include "callback.h"
#include "fastpath.h"
#include "rowptr.h"
#include "messages.h"

namespace ndffi::py {

static void **new_table(Py_ssize_t rows, Holds &holds) {
  PyObject *mem = PyBytes_FromStringAndSize(nullptr, (rows + 1) * Py_ssize_t(sizeof(void *)));
  if (!mem) return nullptr;
  holds.keep(mem);
  auto **table = reinterpret_cast<void **>(PyBytes_AS_STRING(mem));
  table[rows] = nullptr;
  return table;
}

static int fail_rows(const Where &w, const CType *param, const std::string &given) {
  PyErr_Format(PyExc_TypeError,
               "%s: expected a 2-D array with contiguous rows or a list of 1-D arrays for '%s', got %s",
               w.str().c_str(), param->str().c_str(), given.c_str());
  return 0;
}

int rows_arg(const ArgSpec &a, PyObject *o, unsigned char *dst, Holds &holds, const Where &w) {
  const CType *inner = a.type->target;  // T *, with its qualifiers
  if (inner->kind != Kind::Pointer || inner->target->kind == Kind::Func) return -1;
  bool is_array = PyArray_Check(o);
  if (!is_array && !PyList_Check(o) && !PyTuple_Check(o)) return -1;

  ArgSpec row_spec = arg_spec(TypeTable::get().unqualified(inner));
  PyArgInfo info;
  fill_arg_info(info, inner);
  void **table;

  if (is_array) {
    auto *arr = (PyArrayObject *)o;
    if (PyArray_NDIM(arr) != 2) return fail_rows(w, a.type, std::to_string(PyArray_NDIM(arr)) + "-D " + describe(o));
    npy_intp rows = PyArray_DIM(arr, 0), cols = PyArray_DIM(arr, 1);
    npy_intp item = PyArray_ITEMSIZE(arr);
    bool rows_contiguous = cols <= 1 || PyArray_STRIDE(arr, 1) == item;
    if (!rows_contiguous) return fail_rows(w, a.type, describe(o) + " whose rows are not contiguous");
    int tn = PyArray_TYPE(arr);
    bool known = info.any_dtype || info.typenum[0] >= 0;
    if (known) {
      bool type_ok = info.any_dtype || ((tn == info.typenum[0] || tn == info.typenum[1] || tn == info.typenum[2]) &&
                                        !PyArray_ISBYTESWAPPED(arr));
      if (!plain_data(PyArray_DESCR(arr)))
        return fail_rows(w, a.type,
                         describe(o) + " of Python objects or pointers NumPy manages (" + kObjectArrayFix + ")");
      if (!type_ok) return fail_rows(w, a.type, describe(o) + " (rows of " + info.expected() + " expected)");
      if (!(PyArray_FLAGS(arr) & NPY_ARRAY_ALIGNED)) return fail_rows(w, a.type, "misaligned " + describe(o));
      if (info.writable && !(PyArray_FLAGS(arr) & NPY_ARRAY_WRITEABLE)) {
        PyErr_Format(PyExc_TypeError,
                     "%s: expected writeable rows for '%s' (the rows are not const, so C may write to "
                     "them), got read-only %s",
                     w.str().c_str(), a.type->str().c_str(), describe(o).c_str());
        return 0;
      }
      table = new_table(Py_ssize_t(rows), holds);
      if (!table) return 0;
      char *base = PyArray_BYTES(arr);
      for (npy_intp i = 0; i < rows; i++) table[i] = base + i * PyArray_STRIDE(arr, 0);
    } else {
      // An element type with no simple dtype (a struct): check each row as an argument.
      table = new_table(Py_ssize_t(rows), holds);
      if (!table) return 0;
      for (npy_intp i = 0; i < rows; i++) {
        PyObject *row = PySequence_GetItem(o, Py_ssize_t(i));
        if (!row) return 0;
        holds.keep(row);
        std::string where = w.str() + " row " + std::to_string(i);
        if (!to_c(row_spec, info, row, (unsigned char *)&table[i], holds, Where{nullptr, -1, where.c_str()})) return 0;
      }
    }
  } else {
    // The rows of the list as they are now, each held until the call returns: a row's
    // conversion, or another thread while C runs, may empty the list.
    PyObject *items = snapshot(o);
    if (!items) return 0;
    holds.keep(items);
    Py_ssize_t rows = PyTuple_GET_SIZE(items);
    table = new_table(rows, holds);
    if (!table) return 0;
    for (Py_ssize_t i = 0; i < rows; i++) {
      unsigned char *slot = (unsigned char *)&table[i];
      PyObject *row = PyTuple_GET_ITEM(items, i);
      if (fast_array(info, row, slot)) continue;
      std::string where = w.str() + " row " + std::to_string(i);
      if (!to_c(row_spec, info, row, slot, holds, Where{nullptr, -1, where.c_str()})) return 0;
    }
  }
  uint64_t p = uint64_t(uintptr_t(table));
  memcpy(dst, &p, 8);
  return 1;
}

}  // namespace ndffi::py
