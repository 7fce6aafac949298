// pybind11 bindings of libbench.so (GIL held over the call, pybind11's default).
// dsum takes py::array_t<double, c_style> with .noconvert(): the array must
// already be float64 and C-contiguous, so it checks like the other contenders
// instead of silently copying.
#include <pybind11/pybind11.h>
#include <pybind11/numpy.h>
#include "bench.h"

namespace py = pybind11;

PYBIND11_MODULE(_bench_pybind11, m) {
    m.def("add", &add);
    m.def("noop", &noop);
    m.def(
        "dsum",
        [](py::array_t<double, py::array::c_style> x, long n) {
            if (n < 0 || n > x.size())
                throw py::value_error("dsum(): n out of range for x");
            return dsum(x.data(), n);
        },
        py::arg("x").noconvert(), py::arg("n"));
}
