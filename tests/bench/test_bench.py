"""A short smoke run of the benchmark harness: every contender builds, returns the
right values and is timed; the full run is `make bench` (and `make bench-callgrind`)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


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
    for call in ("add", "noop", "dsum"):
        for contender in ("floor_hold", "floor_release", "ctypes", "ndffi", "ndffi_gil"):
            assert any(line.split()[:2] == [call, contender] for line in table.splitlines()), (
                f"no row for {call}/{contender}:\n{table}"
            )
