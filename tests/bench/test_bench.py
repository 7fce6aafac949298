"""A short smoke run of the benchmark harness: every contender builds, returns the
right values and is timed; the full run is `make bench` (and `make bench-callgrind`)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CALLS = ("add", "add_np", "noop", "dsum", "vflip", "vflip_tuple", "slen", "get", "snprintf", "declare")
DECLARERS = ("ctypes", "ndffi", "ndffi_gil")  # cffi_abi too, when cffi is installed
CALLBACK_SHAPES = (
    "int(int)",
    "int(const int *)",
    "double(double)",
    "void(void *)",
    "vec2(vec2)",
    "float(float)",
    "int(int, int)",
    "void(int)",
    "void(void)",
    "int(const void *, const void *)",
    "double(double, double)",
)


def test_benchmark_harness_quick():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = proc.stdout
    for call in CALLS:
        contenders = {"declare": DECLARERS, "vflip_tuple": ("ndffi", "ndffi_gil")}.get(
            call, ("floor_hold", "floor_release", "ctypes", "ndffi", "ndffi_gil")
        )
        for contender in contenders:
            assert any(line.split()[:2] == [call, contender] for line in table.splitlines()), (
                f"no row for {call}/{contender}:\n{table}"
            )


def test_benchmark_harness_refuses_unknown_call():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--calls", "add,nosuch"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "nosuch" in proc.stderr


def test_callback_benchmark_every_shape_quick():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_callback.py"), "-n", "2000", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split("  ")[0].strip(): line for line in proc.stdout.splitlines()}
    for shape in CALLBACK_SHAPES:
        assert shape in rows, proc.stdout
        # ndffi, ctypes, cffi, ndffi-gil-held, ctypes-gil-held, then the ratios
        figures = rows[shape][len(shape) :].split()
        assert float(figures[0]) > 0 and float(figures[3]) > 0, rows[shape]
        if shape != "vec2(vec2)":
            assert float(figures[1]) > 0 and float(figures[4]) > 0, rows[shape]
    assert "n/a: ctypes vec2(vec2)" in proc.stdout
