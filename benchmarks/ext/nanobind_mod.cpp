// nanobind bindings of libbench.so (GIL held over the call, nanobind's default).
// dsum takes nb::ndarray<const double, nb::c_contig, nb::device::cpu> with
// .noconvert(): no implicit copy, so it checks like the other contenders.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include "bench.h"

namespace nb = nanobind;

using DArray = nb::ndarray<const double, nb::c_contig, nb::device::cpu>;

NB_MODULE(_bench_nanobind, m) {
    m.def("add", &add);
    m.def("noop", &noop);
    m.def(
        "dsum",
        [](DArray x, long n) {
            if (n < 0 || (size_t)n > x.size())
                throw nb::value_error("dsum(): n out of range for x");
            return dsum(x.data(), n);
        },
        nb::arg("x").noconvert(), nb::arg("n"));
}
