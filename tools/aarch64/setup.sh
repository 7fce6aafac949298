#!/bin/sh
# An AArch64 world for running ndffi's tests under qemu-aarch64, all of it in one directory:
#   $DIR/sysroot  Debian's arm64 packages (CPython, its headers, libffi), unpacked as files
#   $DIR/venv     a virtual environment of that interpreter, with PyPI's aarch64 wheels;
#                 its bin/python is a host script that starts the interpreter under qemu
#   $DIR/bin      cc, gcc, c++, g++ (and aarch64-linux-gnu-gcc, -g++): the cross compiler
#                 as tools/aarch64/cc runs it, which the
#                 Makefile puts first on the emulated run's PATH
#   $DIR/host-include  the host's /usr/include (see tools/aarch64/cc)
#   $DIR/ffi      libffi alone (header, library, libffi.pc) for pkg-config in that world
#   $DIR/pkg      the ndffi package the venv imports (made by make test-aarch64)
# Debian's packages are fetched with a private apt state (arm64 only, nothing installed
# on this system), so no root is needed here.  Usage: setup.sh DIR HOST_PYTHON EXTRAS
# (EXTRAS: ndffi's extras the tests need, comma-separated, as the Makefile's TEST_EXTRAS).
set -eu
DIR=$(mkdir -p "$1" && cd "$1" && pwd)
HOST_PY=$2
EXTRAS=$3
TOOLS=$(cd "$(dirname "$0")" && pwd)
APT="$DIR/apt"
SYSROOT="$DIR/sysroot"
VENV="$DIR/venv"
SITE="$VENV/lib/python3.11/site-packages"
# CPython and what ndffi and NumPy link against; apt adds their dependencies (libc6 ...).
# And the arm64 builds of the libraries tests/test_headers_real.py loads through the
# host's headers (make system-deps installs those; the test skips without a header),
# with the -dev packages of those whose headers are per architecture (gmp.h, cblas.h,
# curl/, openssl/opensslconf.h, jconfig.h under include/aarch64-linux-gnu).
DEBS="python3.11-minimal libpython3.11-stdlib libpython3.11-dev libffi-dev libstdc++6
  liblz4-1 libxml2 libpng16-16 libjpeg62-turbo libarchive13 libssl3 libyaml-0-2 libsodium23
  libfftw3-double3 libgsl27 liblapacke libhdf5-103-1 libnetcdf19 libsndfile1 libcfitsio10
  libumfpack5 libcholmod3 libmpfr6 libnlopt0 libcurl4 libgmp10 libopenblas0
  libssl-dev libjpeg62-turbo-dev libgmp-dev libcurl4-openssl-dev libopenblas-dev"
# What the tests import, from pyproject.toml (where each minimum is written once): the
# `test` dependency group and the extras EXTRAS names, less the
# build and lint tools and atheris (which has no aarch64 wheel), as PyPI's aarch64
# wheels where a package is compiled.
WHEELS=$("$HOST_PY" - "$TOOLS/../../pyproject.toml" "$EXTRAS" <<'PY'
import re, sys, tomllib
meta = tomllib.load(open(sys.argv[1], "rb"))
groups, extras = meta["dependency-groups"], meta["project"]["optional-dependencies"]
def group(name):
    for r in groups[name]:
        yield from group(r["include-group"]) if isinstance(r, dict) else [r]
skip = {"scikit-build-core", "cmake", "ninja", "atheris", "ruff", "clang-format"}
reqs = [*group("test"), *(r for e in sys.argv[2].split(",") for r in extras[e])]
print(" ".join(dict.fromkeys(r for r in reqs if re.match(r"[\w.-]+", r).group() not in skip)))
PY
)
QEMU=$(command -v qemu-aarch64) || { echo "qemu-aarch64 not found (Debian: qemu-user)"; exit 1; }

# Each part is made again when its list changes.
if [ "$(cat "$SYSROOT/.complete" 2>/dev/null)" != "$DEBS" ]; then
  rm -rf "$APT" "$SYSROOT"
  mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$SYSROOT"
  : > "$APT/status"
  cat > "$APT/apt.conf" <<CONF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
APT::Install-Recommends "false";
Dir::State "$APT";
Dir::State::lists "$APT/lists";
Dir::State::status "$APT/status";
Dir::Cache "$APT";
Dir::Cache::archives "$APT/archives";
Debug::NoLocking "true";
CONF
  echo "fetching Debian's arm64 packages: $DEBS (and their dependencies)"
  APT_CONFIG="$APT/apt.conf" apt-get update -qq
  APT_CONFIG="$APT/apt.conf" apt-get install -qq -y --download-only $DEBS >/dev/null
  for deb in "$APT"/archives/*.deb; do dpkg-deb -x "$deb" "$SYSROOT"; done
  # What update-alternatives would link when the packages are installed: OpenBLAS.
  MA="$SYSROOT/usr/lib/aarch64-linux-gnu"
  for so in libblas.so.3 liblapack.so.3 libopenblas.so.0; do ln -sf "openblas-pthread/$so" "$MA/$so"; done
  for h in cblas.h openblas_config.h; do ln -sf "openblas-pthread/$h" "$SYSROOT/usr/include/aarch64-linux-gnu/$h"; done
  echo "$DEBS" > "$SYSROOT/.complete"
fi

# libffi on its own: the sysroot's include directory would put its C library's headers
# before the cross compiler's.
rm -rf "$DIR/ffi" && mkdir -p "$DIR/ffi/include" "$DIR/ffi/lib" "$DIR/ffi/pkgconfig"
ln -s "$SYSROOT"/usr/include/aarch64-linux-gnu/ffi*.h "$DIR/ffi/include/"
ln -s "$SYSROOT"/usr/lib/aarch64-linux-gnu/libffi.so.8 "$DIR/ffi/lib/libffi.so"
cat > "$DIR/ffi/pkgconfig/libffi.pc" <<PC
Name: libffi
Description: libffi of the arm64 sysroot
Version: 3.4.4
Cflags: -I$DIR/ffi/include
Libs: -L$DIR/ffi/lib -lffi
PC

# The host's /usr/include by a name qemu -L does not turn into the sysroot's (tools/aarch64/cc).
ln -sfn /usr/include "$DIR/host-include"
mkdir -p "$DIR/bin"
for name in cc gcc c++ g++ aarch64-linux-gnu-gcc aarch64-linux-gnu-g++; do ln -sf "$TOOLS/cc" "$DIR/bin/$name"; done

if [ "$(cat "$VENV/.complete" 2>/dev/null)" != "$WHEELS" ]; then
  rm -rf "$VENV"
  "$QEMU" -L "$SYSROOT" "$SYSROOT/usr/bin/python3.11" -m venv --without-pip "$VENV"
  echo "installing PyPI's aarch64 wheels: $WHEELS"
  set -f   # dask[array] is no pattern
  "$HOST_PY" -m pip install -q --no-compile --only-binary=:all: --implementation cp \
    --python-version 3.11 --abi cp311 --platform manylinux2014_aarch64 \
    --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64 \
    --target "$SITE" $WHEELS 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
  set +f
  echo "$DIR/pkg" > "$SITE/ndffi-aarch64.pth"
  echo "$WHEELS" > "$VENV/.complete"
fi
# ndffi is imported from $DIR/pkg, not installed: its metadata as pip would write it,
# with the entry points of pyproject.toml (Numba finds ndffi's extension by one).
"$HOST_PY" - "$TOOLS/../.." "$SITE" <<'PY'
import pathlib, re, sys, tomllib
root, site = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
version = re.search(r'__version__ = "(.+)"', (root / "python/ndffi/__init__.py").read_text()).group(1)
for old in site.glob("ndffi-*.dist-info"):
    for f in old.iterdir():
        f.unlink()
    old.rmdir()
info = site / f"ndffi-{version}.dist-info"
info.mkdir()
(info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ndffi\nVersion: {version}\n")
groups = {"console_scripts": project["scripts"], **project["entry-points"]}
(info / "entry_points.txt").write_text(
    "".join(f"[{g}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n" for g, eps in groups.items())
)
PY

# The interpreter is a script the host runs, so sys.executable is that script and the
# emulated interpreter's subprocesses (and multiprocessing) start emulated too.
rm -f "$VENV"/bin/python*
cat > "$VENV/bin/python" <<SH
#!/bin/sh
exec "$QEMU" -L "$SYSROOT" -0 "\$0" "$SYSROOT/usr/bin/python3.11" "\$@"
SH
chmod +x "$VENV/bin/python"
ln -s python "$VENV/bin/python3"
# The console script, as pip would write it (the kernel follows a script's interpreter
# when that is a script too).
printf '#!%s\nimport sys\nfrom ndffi.__main__ import main\nsys.exit(main())\n' "$VENV/bin/python" > "$VENV/bin/ndffi"
chmod +x "$VENV/bin/ndffi"
