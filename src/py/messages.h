// Messages that teach: what was wrong with a value and how to fix it, for the cold
// error paths of calls, stores and callbacks.  Nothing here runs on a successful call.
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace ndffi::py {

// Why an array's memory is not one C-contiguous block: "Fortran-ordered (F-contiguous)"
// or "not contiguous (strides (16,))"; "" when it is C-contiguous.
std::string layout_problem(PyArrayObject *arr);
std::string layout_problem(const Py_buffer &view);
// The fix for a layout problem: a const pointer may take np.ascontiguousarray(x); one C
// writes through may not take a copy, whose changes the caller would never see.
std::string contiguity_fix(bool writable, bool fortran);
// The fix for an array of dtype object (or with object fields) given where C takes
// memory: C would read or overwrite its references as raw pointers.
inline constexpr const char *kObjectArrayFix =
    "C would read or overwrite them as raw pointers; pass an array of a numeric or struct dtype";
// "an int32 array", "a float64 array".
std::string with_article(const std::string &noun);
// Why a value is not a number, and what to pass instead (" (an array is not a number:
// pass a[0])"), or "" when there is nothing to add.
std::string not_a_number_hint(PyObject *o);
// Where a type expected and one given are spelled alike but declared apart (the same
// struct in two libraries, or in a library and ndffi's own namespace), why they differ
// and what to do; else "".
std::string same_spelling_hint(const CType *expected, const CType *given);
// "; did you mean 'b'?" when difflib finds names close to `name` among `names`, else "".
std::string did_you_mean(const std::string &name, const std::vector<std::string> &names);
// The Python callable `fn` cannot be called with the arguments of C function type
// `ftype` (positional, as C calls it): sets a TypeError led by `where`, naming the
// expected signature `spelling`, and returns false.  A callable whose signature cannot
// be read is accepted.
bool check_arity(PyObject *fn, const CType *ftype, const std::string &where, const std::string &spelling);

}  // namespace ndffi::py

namespace ndffi::py {

// A call of `f` with the wrong number of arguments (`given` in all): sets a TypeError
// naming the count, the first parameter left without a value (`missing`, -1 when there
// are too many) and the prototype.  Returns nullptr.
PyObject *wrong_argument_count(const FunctionObject *f, Py_ssize_t given, Py_ssize_t missing);
// A keyword argument `kw` no parameter of `f` is named: a TypeError with the names it
// has (and the close ones), or, when its declaration names none, how to pass them.
PyObject *unexpected_keyword(const FunctionObject *f, PyObject *name);

}  // namespace ndffi::py

namespace ndffi::py {

// `e` again with "; did you mean 'double'?" after an unknown type name, from the type
// names `scope` knows (its typedefs, the built-in ones, C's type keywords, its tags).
CDefError with_type_suggestion(const CDefError &e, const Scope &scope);
// The tags `scope` itself declares, spelled "struct Weather_t", "enum color".
std::vector<std::string> tag_names(const Scope &scope);

}  // namespace ndffi::py
