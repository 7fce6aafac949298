"""Build and run the C++ core tests (tests/core/*.cpp) with the system compiler.

The program links the core sources directly (no Python), so it tests the type model,
the parser, scopes, argument specs and call plans on their own.  It is the same as

    c++ -std=c++17 -O1 -Isrc/core src/core/*.cpp tests/core/*.cpp \\
        $(pkg-config --cflags --libs libffi) -ldl

with the translation units compiled in parallel to keep the test short.
"""

import os
import pathlib
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE = ROOT / "src" / "core"
TEST_DIR = ROOT / "tests" / "core"


def _pkg_config(*args):
    try:
        proc = subprocess.run(["pkg-config", *args, "libffi"], capture_output=True, text=True)
    except FileNotFoundError:
        return None
    return shlex.split(proc.stdout) if proc.returncode == 0 else None


def _run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return cmd, proc


def test_core_program(tmp_path):
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    cflags, libs = _pkg_config("--cflags"), _pkg_config("--libs")
    if cflags is None or libs is None:
        pytest.skip("pkg-config cannot find libffi")
    sources = sorted(CORE.glob("*.cpp")) + sorted(TEST_DIR.glob("*.cpp"))
    objects = [tmp_path / f"{src.parent.name}_{src.stem}.o" for src in sources]
    compile_cmds = [
        [cxx, "-std=c++17", "-O1", f"-I{CORE}", f"-I{TEST_DIR}", *cflags, "-c", str(src), "-o", str(obj)]
        for src, obj in zip(sources, objects, strict=True)
    ]
    with ThreadPoolExecutor(max_workers=max(1, min(len(sources), os.cpu_count() or 1))) as pool:
        results = list(pool.map(_run, compile_cmds))
    for cmd, proc in results:
        assert proc.returncode == 0, f"{shlex.join(cmd)}\n{proc.stderr}"
    exe = tmp_path / "core_tests"
    cmd, proc = _run([cxx, *map(str, objects), *libs, "-ldl", "-o", str(exe)])
    assert proc.returncode == 0, f"{shlex.join(cmd)}\n{proc.stderr}"

    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    last = proc.stdout.strip().splitlines()[-1]
    passed, _, failed, _ = last.split()
    assert int(failed) == 0 and int(passed) > 400, output
