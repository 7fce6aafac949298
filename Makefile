# Two commands: `make demo` and `make test`.  Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.ndffi-installed
SOURCES := $(shell find src python -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.py' \)) CMakeLists.txt pyproject.toml
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test bench bench-callgrind stress fuzz asan system-deps install clean

demo: install
	$(PY) -m ndffi demo

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/run.py

bench-callgrind: install
	$(PY) benchmarks/run.py --callgrind

stress: install
	NDFFI_STRESS=1 $(PY) -m pytest -q -m stress tests

install: $(STAMP)

# The system must provide a C/C++ compiler, pkg-config and libffi's headers, and for the
# tests of real headers zlib's and SQLite's.  As root on Debian/Ubuntu they are
# installed; otherwise the message says what to install.
system-deps:
	@missing=""; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc"; \
	command -v c++ >/dev/null 2>&1 || missing="$$missing g++"; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	pkg-config --exists libffi 2>/dev/null || missing="$$missing libffi-dev"; \
	for h in zlib:zlib1g-dev sqlite3:libsqlite3-dev; do \
	  printf '#include <%s.h>\n' "$${h%%:*}" | cc -E -x c - >/dev/null 2>&1 || missing="$$missing $${h#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
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
	$(PIP) install -q "scikit-build-core>=0.10" "nanobind>=2.4" "numpy>=2.0" cmake ninja \
	  "pytest>=7.4" "hypothesis>=6.90" "cffi>=1.17" "pybind11>=2.12" setuptools \
	  "libclang>=16" "mypy>=1.5"
	$(PIP) install -q --no-build-isolation -e . -Cbuild-dir=build/editable
	touch $(STAMP)

clean:
	rm -rf build tests/clib/build benchmarks/_build $(VENV)
