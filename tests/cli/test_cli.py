"""The command line, run as a user runs it: ``python -m ndffi ...`` in a subprocess."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ndffi
from ndffi import cli

EXAMPLES = Path(ndffi.__file__).parent / "examples"
COMMANDS = ["build", "demo", "bench", "inspect", "generate"]


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e["NDFFI_CACHE_DIR"] = str(tmp_path / "cache")
    return e


def ndffi_cmd(*args, env, cwd=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "ndffi", *map(str, args)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def built_fib(tmp_path_factory):
    """fibonacci.c built by `ndffi build` into <tmp>/build."""
    tmp = tmp_path_factory.mktemp("cli")
    env = dict(os.environ, NDFFI_CACHE_DIR=str(tmp / "cache"))
    (tmp / "fibonacci.c").write_text((EXAMPLES / "fibonacci.c").read_text())
    proc = ndffi_cmd("build", "fibonacci.c", "-o", "build/", env=env, cwd=tmp)
    return tmp, env, proc


def exit_code(argv, capsys):
    """cli.main in this process: (exit status, stdout, stderr); argparse exits for
    --help and usage errors, which counts as returning that status."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_for_every_command(capsys):
    code, top, _ = exit_code(["--help"], capsys)
    assert code == 0
    for command in COMMANDS:
        assert command in top
        code, out, _ = exit_code([command, "--help"], capsys)
        assert code == 0
        assert out.startswith(f"usage: ndffi {command}")


def test_usage_errors_exit_2(env, capsys):
    assert ndffi_cmd(env=env).returncode == 2  # no command, as a user runs it
    code, _, err = exit_code(["frobnicate"], capsys)
    assert code == 2 and "invalid choice" in err
    assert exit_code(["build"], capsys)[0] == 2  # no source
    assert exit_code(["build", "x.c", "--lang", "fortran"], capsys)[0] == 2
    assert exit_code(["build", "x.c", "--no-such-option"], capsys)[0] == 2
    assert exit_code(["inspect"], capsys)[0] == 2


def test_console_script_and_version(env):
    script = Path(sys.executable).parent / ("ndffi.exe" if os.name == "nt" else "ndffi")
    assert script.exists(), "the 'ndffi' console script is not installed"
    proc = subprocess.run([str(script), "--version"], env=env, stdout=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"ndffi {ndffi.__version__}"


def test_build_writes_library_and_loadable_header(built_fib):
    tmp, env, proc = built_fib
    assert proc.returncode == 0, proc.stderr
    lib_path, header_path = proc.stdout.split()
    assert Path(tmp, lib_path) == tmp / "build" / "libfibonacci.so"
    assert Path(tmp, header_path) == tmp / "build" / "fibonacci.h"
    assert "compiling fibonacci.c" in proc.stderr  # progress on stderr
    header = (tmp / "build" / "fibonacci.h").read_text()
    lib = ndffi.load("libfibonacci", tmp / "build").cdef(header)
    assert lib.fib(8) == 13 and lib.fib(23) == 17711


def test_build_again_is_up_to_date(built_fib):
    tmp, env, _ = built_fib
    proc = ndffi_cmd("build", "fibonacci.c", "-o", "build/", env=env, cwd=tmp)
    assert proc.returncode == 0
    assert "up to date" in proc.stderr and "compiling" not in proc.stderr


def test_build_options(tmp_path, env):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "k.h").write_text("#define K 5\n")
    (tmp_path / "k.c").write_text(
        '#include "k.h"\nint k(void) { return K * N; }\nint hidden_by_cdef(void) { return 0; }\n'
    )
    (tmp_path / "k.cdef").write_text("int k(void);\n")
    proc = ndffi_cmd(
        "build",
        "k.c",
        "-o",
        "out",
        "-n",
        "kay",
        "-I",
        "inc",
        "-D",
        "N=3",
        "--cflags=-O1 -g",
        "--cdef",
        "k.cdef",
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lib = ndffi.load("libkay", tmp_path / "out")
    lib.cdef((tmp_path / "out" / "kay.h").read_text())
    assert lib.k() == 15 and not hasattr(lib, "hidden_by_cdef")


def test_build_error_exit_1_with_diagnostics(tmp_path, env):
    (tmp_path / "bad.c").write_text("int f(int x) {\n    return x\n}\n")
    proc = ndffi_cmd("build", "bad.c", env=env, cwd=tmp_path)
    assert proc.returncode == 1
    assert "bad.c:2:" in proc.stderr and "error" in proc.stderr and "command:" in proc.stderr
    assert proc.stdout == ""
    missing = ndffi_cmd("build", "nothere.c", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "nothere.c" in missing.stderr


def test_inspect_lists_symbols(built_fib):
    tmp, env, _ = built_fib
    proc = ndffi_cmd("inspect", "build/libfibonacci.so", env=env, cwd=tmp)
    assert proc.returncode == 0
    assert "3 exported symbols" in proc.stdout
    for name in ("fib", "fibseries", "fibmatrix"):
        assert f"function  {name}\n" in proc.stdout
    as_json = json.loads(ndffi_cmd("inspect", "build/libfibonacci.so", "--json", env=env, cwd=tmp).stdout)
    assert as_json["symbols"] == {"fib": "function", "fibseries": "function", "fibmatrix": "function"}


def test_inspect_against_declarations(built_fib):
    tmp, env, _ = built_fib
    (tmp / "decls.h").write_text("int fib(int a);\nint fibonacci_typo(int a);\n")
    proc = ndffi_cmd("inspect", "build/libfibonacci.so", "--cdef", "decls.h", env=env, cwd=tmp)
    assert proc.returncode == 1  # something declared is missing
    text = proc.stdout
    assert "declared but missing from the library (1):\n  int fibonacci_typo(int a)" in text
    assert "exported but not declared (2):" in text and "fibmatrix" in text
    ok = ndffi_cmd("inspect", "build/libfibonacci.so", "--cdef", "build/fibonacci.h", "--json", env=env, cwd=tmp)
    assert ok.returncode == 0
    report = json.loads(ok.stdout)
    assert report["declared_but_missing"] == [] and report["exported_but_undeclared"] == []


def test_inspect_errors(tmp_path, env):
    proc = ndffi_cmd("inspect", "ndffi_no_such_library", env=env)
    assert proc.returncode == 1 and "tried" in proc.stderr
    (tmp_path / "not_elf.so").write_text("hello")
    proc = ndffi_cmd("inspect", tmp_path / "not_elf.so", env=env)
    assert proc.returncode == 1 and "no exported symbols" in proc.stderr


def test_inspect_and_generate_with_a_real_header(tmp_path, env):
    proc = ndffi_cmd("inspect", "z", "--header", "zlib.h", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "declared but missing from the library (0)" in proc.stdout
    assert "compressBound" in proc.stdout or "exported but not declared" in proc.stdout
    out = tmp_path / "zlib_ffi.py"
    proc = ndffi_cmd("generate", "zlib.h", "-l", "z", "-o", out, env=env)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and out.with_suffix(".pyi").exists()
    assert "def compressBound" in out.read_text()


def test_bench_without_and_with_the_benchmark_script(tmp_path, monkeypatch, capfd):
    # The script's location is the source tree; point it elsewhere both ways.
    monkeypatch.setattr(cli, "_benchmark_script", lambda: None)
    assert cli.main(["bench"]) == 1
    assert "source checkout" in capfd.readouterr().err
    script = tmp_path / "benchmarks" / "run.py"
    script.parent.mkdir()
    script.write_text(
        textwrap.dedent("""\
        import sys
        print("table", *sys.argv[1:])
        sys.exit(0 if "--fail" not in sys.argv else 3)
        """)
    )
    monkeypatch.setattr(cli, "_benchmark_script", lambda: script)
    assert cli.main(["bench", "--callgrind"]) == 0
    captured = capfd.readouterr()
    assert captured.out.strip() == "table --callgrind" and "running" in captured.err
    assert cli.main(["bench", "--fail"]) == 1


def test_demo_runs_every_available_example(env):
    proc = ndffi_cmd("demo", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "0 failed" in out and "[FAILED]" not in out
    # The examples that need nothing beyond this build ran and were checked.
    for title in ("Getting started", "ctypes attributes", "ndpointer", "float**", "The Fibonacci example"):
        block = out.split(title, 1)[1].split("=" * 88, 2)[1]
        assert "[ok] output as expected" in block, title
    assert "13 17711 -1" in out and "[  3 144   1   5]" in out


def test_demo_list_and_only(env, capsys):
    code, listed, _ = exit_code(["demo", "--list"], capsys)
    assert code == 0
    keys = [line.split()[0] for line in listed.splitlines()]
    assert keys[:3] == ["foo", "ctypes-property", "ndpointer"] and "fibonacci" in keys
    code, _, err = exit_code(["demo", "--only", "nosuch"], capsys)
    assert code == 2 and "no example named nosuch" in err
    one = ndffi_cmd("demo", "--only", "fibonacci", env=env)
    assert one.returncode == 0 and "1 example(s) ran and matched" in one.stdout


def test_demo_fails_when_an_example_does_not_match(monkeypatch, capsys):
    from ndffi.cli import demo as _demo

    broken = _demo.Example(
        "broken",
        "A wrong expectation",
        "none",
        "checks fail",
        "print(1)\n",
        lambda ns, out: _demo._expect_lines(out, ["2"]),
    )
    monkeypatch.setattr(_demo, "EXAMPLES", [broken])
    assert _demo.run() == 1
    text = capsys.readouterr().out
    assert "[FAILED]" in text and "expected the line '2'" in text
