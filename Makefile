# Two commands: `make demo` and `make test`.  Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.ndffi-installed
EDITABLE_DIR := build/editable$(subst .venv,,$(VENV))
SOURCES := $(shell find src python -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.py' \)) CMakeLists.txt pyproject.toml
export OPENBLAS_NUM_THREADS ?= 1
# What building, testing and benchmarking need: pyproject.toml's dependency groups (read
# by pip >= 25.1, which the venv gets first) and the package's extras the tests use.
DEV_GROUPS  := --group build --group test
TEST_EXTRAS := headers,dask,numba

.PHONY: demo demo-install test test-pythons lint test-aarch64 aarch64-deps bench bench-callgrind stress fuzz fuzz-deps \
  asan system-deps install wheel sdist docs stubs clean

demo: demo-install
	$(PY) -m ndffi demo

# The suite, then again with every call and callback through libffi (the engine of the
# platforms without a direct-call file), leaving out the tests of the direct path.
# TESTS picks stages or files (make test TESTS=tests/calls); default: all of tests/.
TESTS ?=
test: install
	$(PY) -m pytest -q $(TESTS)
	NDFFI_FORCE_LIBFFI=1 $(PY) -m pytest -q -m "not direct" $(TESTS)

# ruff (lint and format) on the Python sources, mypy on the ndffi package, clang-format
# on src/: all from the test dependency group, so the same versions everywhere.
LINT_PY := python tests benchmarks tools fuzz examples
lint: install
	$(VENV)/bin/ruff check $(wildcard $(LINT_PY))
	$(VENV)/bin/ruff format --check $(wildcard $(LINT_PY))
	$(PY) -m mypy
	$(VENV)/bin/clang-format --dry-run -Werror $$(find src -name '*.cpp' -o -name '*.h')

bench: install
	$(PY) benchmarks/run.py

bench-callgrind: install
	$(PY) benchmarks/run.py --callgrind

# The whole of `make test` under other CPythons, each in a venv of its own (.venv-3.X)
# with its own build: make test-pythons PYTHONS="python3.10 python3.13".
PYTHONS ?= python3.10 python3.12 python3.13
test-pythons:
	@for p in $(PYTHONS); do \
	  v=$$($$p -c 'import sys; print("%d.%d" % sys.version_info[:2])') || \
	    { echo "test-pythons: no $$p (set PYTHONS=...)"; exit 1; }; \
	  $(MAKE) --no-print-directory test PYTHON=$$p VENV=.venv-$$v || exit 1; \
	done

stress: install
	NDFFI_STRESS=1 $(PY) -m pytest -q -m stress tests

install: $(STAMP)

# The suite on AArch64 under qemu-user (the generic engine: libffi for every call and
# callback).  The core tests and the extension are cross-compiled with
# aarch64-linux-gnu-g++ against Debian's arm64 CPython and libffi, unpacked under
# build/aarch64 by tools/aarch64/setup.sh with PyPI's aarch64 NumPy; the C test
# libraries are built by the emulated run with the cross compiler.  AARCH64_TESTS picks
# the test files (default: all of them).
AARCH64       := build/aarch64
AARCH64_PY    := $(CURDIR)/$(AARCH64)/venv/bin/python
AARCH64_TESTS ?= tests
AARCH64_CMAKE  = $(VENV)/bin/cmake -G Ninja -DCMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja \
  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/tools/aarch64/toolchain.cmake
test-aarch64: aarch64-deps $(VENV)/bin/cmake
	tools/aarch64/setup.sh $(AARCH64) $(PY) $(TEST_EXTRAS)
	$(AARCH64_CMAKE) -S . -B $(AARCH64)/core -DNDFFI_CORE_TESTS=ON >/dev/null
	$(VENV)/bin/cmake --build $(AARCH64)/core --target core_tests
	qemu-aarch64 -L $(AARCH64)/sysroot $(AARCH64)/core/core_tests > $(AARCH64)/core_tests.log; rc=$$?; \
	  grep FAIL $(AARCH64)/core_tests.log; tail -1 $(AARCH64)/core_tests.log; exit $$rc
	$(AARCH64_CMAKE) -S . -B $(AARCH64)/ext -DNDFFI_PYTHON=ON -DPython_EXECUTABLE=$(AARCH64_PY) \
	  -DPython_INCLUDE_DIR="$$($(AARCH64_PY) -c 'import sysconfig; print(sysconfig.get_path("include"))')" \
	  -DPython_NumPy_INCLUDE_DIR="$$($(AARCH64_PY) -c 'import numpy; print(numpy.get_include())')" >/dev/null
	$(VENV)/bin/cmake --build $(AARCH64)/ext --target _ndffi
	rm -rf $(AARCH64)/pkg && mkdir -p $(AARCH64)/pkg && cp -r python/ndffi $(AARCH64)/pkg/
	cp $(AARCH64)/ext/_ndffi.*.so $(AARCH64)/pkg/ndffi/
	env -u CC -u CXX PATH="$(CURDIR)/$(AARCH64)/bin:$$PATH" NDFFI_AARCH64_SYSROOT=$(CURDIR)/$(AARCH64)/sysroot \
	  PKG_CONFIG_LIBDIR=$(CURDIR)/$(AARCH64)/ffi/pkgconfig NDFFI_TEST_CLIB_DIR=$(CURDIR)/$(AARCH64)/clib \
	  NDFFI_CACHE_DIR=$(CURDIR)/$(AARCH64)/cache $(AARCH64_PY) -m pytest -q -p no:cacheprovider $(AARCH64_TESTS)

$(VENV)/bin/cmake: $(VENV)/bin/python
	$(PIP) install -q cmake ninja

# The cross compiler and qemu-user; as root on Debian/Ubuntu they are installed.
aarch64-deps:
	@missing=""; \
	command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing="$$missing g++-aarch64-linux-gnu"; \
	command -v qemu-aarch64 >/dev/null 2>&1 || missing="$$missing qemu-user"; \
	command -v dpkg-deb >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 || \
	  { echo "make test-aarch64 takes Debian's arm64 packages: it needs apt-get and dpkg-deb"; exit 1; }; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "make test-aarch64 needs these system packages:$$missing"; \
	    echo "install them (Debian/Ubuntu: sudo apt-get install$$missing) and run make again"; \
	    exit 1; \
	  fi; \
	fi

# The whole suite against an AddressSanitizer + UndefinedBehaviorSanitizer build of the
# extension, in its own venv; the runtime is preloaded into the interpreter and
# Python's allocator is bypassed so that ASan sees every allocation.
ASAN_VENV := .venv-asan
ASAN_LIB  = $(shell $${CXX:-c++} -print-file-name=libasan.so)
UBSAN_LIB = $(shell $${CXX:-c++} -print-file-name=libubsan.so)
asan: system-deps
	test -x $(ASAN_VENV)/bin/python || $(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_VENV)/bin/python -m pip install -q --upgrade pip
	$(ASAN_VENV)/bin/python -m pip install -q $(DEV_GROUPS)
	$(ASAN_VENV)/bin/python -m pip install -q --no-build-isolation ".[$(TEST_EXTRAS)]" -Cbuild-dir=build/asan \
	  -Ccmake.define.NDFFI_SANITIZE=ON -Ccmake.build-type=RelWithDebInfo -Cinstall.strip=false
	cd tests && NDFFI_SANITIZED=1 PYTHONMALLOC=malloc LD_PRELOAD="$(ASAN_LIB) $(UBSAN_LIB)" \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizer/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ../$(ASAN_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not stress" .

# Fuzzing: a libFuzzer target over the C++ declaration parser (clang, ASan + UBSan) and
# atheris over the Python entry points.  The parser corpus that grows is merged back,
# minimised, into fuzz/corpus/parser.  Exits non-zero on any finding.
FUZZ_RUNS ?= 1000000
FUZZ_DIR  := build/fuzz
CORE_SRC  := $(wildcard src/core/*.cpp) $(wildcard src/core/*.h)
fuzz: fuzz-deps install
	@mkdir -p $(FUZZ_DIR)/work $(FUZZ_DIR)/parser-artifacts $(FUZZ_DIR)/atheris-artifacts $(FUZZ_DIR)/merged
	$(MAKE) $(FUZZ_DIR)/parser_fuzzer
	$(PIP) install -q --group fuzz
	rm -rf $(FUZZ_DIR)/work/* $(FUZZ_DIR)/parser-artifacts/* $(FUZZ_DIR)/atheris-artifacts/*
	-$(FUZZ_DIR)/parser_fuzzer -runs=$(FUZZ_RUNS) -timeout=1 -detect_leaks=0 -rss_limit_mb=4096 \
	  -max_len=4096 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/parser-artifacts/ \
	  $(FUZZ_DIR)/work fuzz/corpus/parser > $(FUZZ_DIR)/parser.log 2>&1
	rm -rf $(FUZZ_DIR)/merged && mkdir -p $(FUZZ_DIR)/merged
	$(FUZZ_DIR)/parser_fuzzer -merge=1 -timeout=1 -detect_leaks=0 -max_len=4096 $(FUZZ_DIR)/merged \
	  fuzz/corpus/parser $(FUZZ_DIR)/work > $(FUZZ_DIR)/merge.log 2>&1
	rm -f fuzz/corpus/parser/* && cp $(FUZZ_DIR)/merged/* fuzz/corpus/parser/
	-$(PY) fuzz/atheris_entry.py -runs=$(FUZZ_RUNS) -timeout=5 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/atheris-artifacts/ > $(FUZZ_DIR)/atheris.log 2>&1
	@$(PY) fuzz/report.py $(FUZZ_DIR) fuzz/corpus/parser $(FUZZ_RUNS)

$(FUZZ_DIR)/parser_fuzzer: fuzz/parser_fuzzer.cpp $(CORE_SRC)
	@mkdir -p $(FUZZ_DIR)
	clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -Isrc/core fuzz/parser_fuzzer.cpp $(wildcard src/core/*.cpp) $$(pkg-config --cflags --libs libffi) -ldl -o $@

# clang with libFuzzer's runtime (Debian 12: clang-14 and libclang-rt-14-dev).
fuzz-deps: system-deps
	@if printf 'extern "C" int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' | \
	    clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o /dev/null >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing clang and libFuzzer's runtime"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-rt-dev 2>/dev/null || \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "libclang-rt-$$(clang++ --version | sed -n 's/.*version \([0-9]*\).*/\1/p' | head -1)-dev" || true; }; \
	else \
	  echo "make fuzz needs clang with libFuzzer (Debian/Ubuntu: sudo apt-get install clang libclang-rt-14-dev)"; exit 1; \
	fi

# The system must provide a C/C++ compiler, pkg-config and libffi's headers, and for the
# tests of real headers the headers of the libraries they import (header:package; the
# tests of a header that is missing skip).  As root on Debian/Ubuntu they are installed
# (about two minutes for all of them); otherwise the message says what to install.
HEADER_DEPS := zlib.h:zlib1g-dev sqlite3.h:libsqlite3-dev bzlib.h:libbz2-dev lzma.h:liblzma-dev \
  zstd.h:libzstd-dev lz4.h:liblz4-dev expat.h:libexpat1-dev libxml2/libxml/xmlexports.h:libxml2-dev \
  png.h:libpng-dev jpeglib.h:libjpeg-dev archive.h:libarchive-dev curl/curl.h:libcurl4-openssl-dev \
  openssl/evp.h:libssl-dev gmp.h:libgmp-dev uuid/uuid.h:uuid-dev pcre2posix.h:libpcre2-dev \
  yaml.h:libyaml-dev sodium.h:libsodium-dev ncurses.h:libncurses-dev \
  readline/readline.h:libreadline-dev fftw3.h:libfftw3-dev gsl/gsl_math.h:libgsl-dev \
  lapacke.h:liblapacke-dev cblas.h:libopenblas-dev hdf5/serial/hdf5.h:libhdf5-dev \
  netcdf.h:libnetcdf-dev sndfile.h:libsndfile1-dev fitsio.h:libcfitsio-dev \
  suitesparse/umfpack.h:libsuitesparse-dev mpfr.h:libmpfr-dev nlopt.h:libnlopt-dev
system-deps:
	@missing=""; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v c++ >/dev/null 2>&1 || missing="$$missing g++"; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	pkg-config --exists libffi 2>/dev/null || missing="$$missing libffi-dev"; \
	for h in $(HEADER_DEPS); do \
	  printf '#include <%s>\n' "$${h%%:*}" | cc -E -x c - >/dev/null 2>&1 || missing="$$missing $${h#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "ndffi needs these system packages:$$missing"; \
	    echo "install them (Debian/Ubuntu: sudo apt-get install$$missing) and run make again"; \
	    exit 1; \
	  fi; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "ndffi needs CPython >= 3.10 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python system-deps $(SOURCES)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(DEV_GROUPS)
	$(PIP) install -q --no-build-isolation -e ".[$(TEST_EXTRAS)]" -Cbuild-dir=$(EDITABLE_DIR)
	touch $(STAMP)

# The demo needs only ndffi[demo] (NumPy, libclang, Dask), installed as a user would
# (built in an isolated environment, so the build tools stay out of .venv); a .venv set
# up for the tests already has it all and keeps its editable install.
DEMO_STAMP := $(VENV)/.ndffi-demo
demo-install: $(VENV)/bin/python system-deps
	@if [ -f $(STAMP) ]; then $(MAKE) --no-print-directory install; \
	else $(MAKE) --no-print-directory $(DEMO_STAMP); fi

$(DEMO_STAMP): $(VENV)/bin/python $(SOURCES)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q ".[demo]" -Cbuild-dir=build/demo
	touch $@

# Distributions as an index serves them, checked as a user installs them: `make wheel`
# builds the wheel of this Python and platform, repairs it with auditwheel (libffi copied
# into the wheel, the manylinux tag this machine's glibc allows) and installs it into a
# new venv outside the checkout for tools/wheel_smoke.py; `make sdist` builds the sdist,
# checks its file list and metadata, and builds and smoke-tests it in a new venv.
# Wheels for other platforms: cibuildwheel, configured in pyproject.toml.
DIST := dist
wheel: install
	$(PIP) install -q --group dist
	rm -rf build/wheel-raw
	$(PIP) wheel -q --no-build-isolation --no-deps -w build/wheel-raw . -Cbuild-dir=build/wheel
	$(PY) tools/dist_check.py wheel build/wheel-raw/ndffi-*.whl -o $(DIST)

sdist: install
	$(PIP) install -q --group dist
	rm -f $(DIST)/ndffi-*.tar.gz
	$(PY) -m build --sdist --no-isolation -o $(DIST) .
	$(PY) tools/dist_check.py sdist $(DIST)/ndffi-*.tar.gz

# The documentation site (docs/, Sphinx) in build/docs/html; any warning fails it.
# tests/docs/test_docs.py runs the examples of docs/*.rst and of README.md.
docs: install
	$(PIP) install -q --group docs
	$(PY) -m sphinx -W --keep-going -q -b html docs build/docs/html
	@echo "docs: build/docs/html/index.html"

# The type stub of the compiled module (python/ndffi/_ndffi.pyi), from nanobind's stubgen
# and tools/ndffi_stubs.pat; tests/dist/test_stubs.py fails when it is not current.
stubs: install
	$(PY) tools/stubgen.py

clean:
	rm -rf build $(DIST) tests/clib/build benchmarks/_build $(VENV) $(ASAN_VENV) .venv-3.*
