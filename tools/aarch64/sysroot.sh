#!/bin/sh
# An AArch64 userland for running ndffi under qemu-aarch64, all of it under one directory:
#   $DIR/sysroot  Debian's arm64 packages (CPython, its headers, libffi), unpacked as files
#   $DIR/venv     a virtual environment of that interpreter, with PyPI's aarch64 wheels
# Debian's packages are fetched with a private apt state (arm64 only, nothing installed
# on this system), so no root is needed.  Usage: sysroot.sh DIR HOST_PYTHON
set -eu
DIR=$(mkdir -p "$1" && cd "$1" && pwd)
HOST_PY=$2
APT="$DIR/apt"
SYSROOT="$DIR/sysroot"
VENV="$DIR/venv"
# CPython and what the tests link against; apt adds their dependencies (libc6 ...).
DEBS="python3.11-minimal libpython3.11-stdlib libpython3.11-dev libffi-dev libstdc++6"
WHEELS="numpy>=2.0 pytest>=7.4 hypothesis>=6.90 nanobind>=2.4"

if [ ! -f "$SYSROOT/.complete" ]; then
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
  touch "$SYSROOT/.complete"
fi

QEMU=$(command -v qemu-aarch64)
if [ ! -f "$VENV/.complete" ]; then
  rm -rf "$VENV"
  "$QEMU" -L "$SYSROOT" "$SYSROOT/usr/bin/python3.11" -m venv --without-pip "$VENV"
  # The venv's interpreter is a script the host runs: sys.executable is that script, so
  # subprocesses and multiprocessing of the emulated interpreter start emulated too.
  rm -f "$VENV"/bin/python*
  cat > "$VENV/bin/python" <<SH
#!/bin/sh
exec "$QEMU" -L "$SYSROOT" -0 "\$0" "$SYSROOT/usr/bin/python3.11" "\$@"
SH
  chmod +x "$VENV/bin/python"
  ln -s python "$VENV/bin/python3"
  echo "installing PyPI's aarch64 wheels: $WHEELS"
  "$HOST_PY" -m pip install -q --no-compile --only-binary=:all: --implementation cp \
    --python-version 3.11 --abi cp311 --platform manylinux2014_aarch64 \
    --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64 \
    --target "$VENV/lib/python3.11/site-packages" $WHEELS
  touch "$VENV/.complete"
fi
