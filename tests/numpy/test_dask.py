"""Dask: ndffi ufuncs and wrapped functions on a distributed cluster of worker processes."""

import os

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import ndffi
from conftest import clib_fixture


@pytest.fixture(scope="module")
def client():
    # distributed sets its workers' variables (OMP_NUM_THREADS, MALLOC_TRIM_THRESHOLD_, ...)
    # in this process's environment: it is put back when the cluster is gone.
    saved = dict(os.environ)
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40)
    try:
        with cluster, Client(cluster) as c:
            yield c
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        os.environ.update(saved)


lib = clib_fixture(
    "numpy_funcs",
    "double gauss(double x); double dsum(const double *x, long n);"
    "void gauss_loop(const double *x, long n, double *y);"
    "void to_polar(double x, double y, double *r, double *theta);",
)


def test_workers_are_other_processes(client):
    pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids


def test_ufunc_on_dask_arrays(client, lib, fiblib):
    gauss = lib.gauss.ufunc(name="gauss", threads=2)
    dx = da.random.default_rng(0).random((2000, 2000), chunks=500)
    y = gauss(dx)  # numpy.ufunc -> __array_ufunc__ -> dask
    assert isinstance(y, da.Array)
    x, yv, total = dask.compute(dx, y, y.sum())
    assert np.array_equal(yv, gauss(x))
    xa = np.require(x, requirements="CA")  # unpickled arrays may be misaligned
    c = np.empty_like(xa)
    lib.gauss_loop(xa, xa.size, c)  # gauss by a C loop, bit for bit
    assert np.array_equal(yv, c)
    # NumPy's exp differs from the C library's by an ulp on some CPUs (AVX-512)
    np.testing.assert_array_max_ulp(yv, np.exp(-0.5 * x * x), maxulp=1)
    assert np.isclose(total, np.exp(-0.5 * x * x).sum())
    fib = fiblib.fib.ufunc()
    n = da.arange(1, 25, chunks=6)
    assert fib(n).compute().tolist() == fib(np.arange(1, 25)).tolist()


def test_gufunc_on_dask_arrays(client, lib):
    normf = lib.dsum.gufunc("(n)->()", name="normf")
    dx = da.random.default_rng(1).random((1000, 300), chunks=(250, -1))  # core dimension in one chunk
    x, s = dask.compute(dx, normf(dx))
    assert np.allclose(s, x.sum(axis=-1))


def test_map_blocks_with_wrapped_functions(client, fiblib):
    fibmatrix = fiblib.fibmatrix.wrap(
        a=ndffi.In(ndim=2), rows=ndffi.shape_of("a", 0), columns=ndffi.shape_of("a", 1), matrix=ndffi.Out(like="a")
    )
    a = np.random.default_rng(2).integers(1, 20, size=(60, 40)).astype(np.intc)
    da_a = da.from_array(a, chunks=(30, 20))
    r = da_a.map_blocks(fibmatrix, dtype=np.intc).compute()
    assert np.array_equal(r, fibmatrix(a))
    assert r[0, 0] == fiblib.fib(int(a[0, 0]))
