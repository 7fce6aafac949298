# Cross-compiling for Linux on AArch64 with Debian's aarch64-linux-gnu GCC, against the
# arm64 userland that tools/aarch64/sysroot.sh unpacks (libffi, CPython's headers).
# The compiler keeps its own C library; the sysroot's headers are searched after it, so
# only what the cross toolchain lacks (ffi.h, Python.h) comes from there.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT NDFFI_AARCH64_SYSROOT)
  get_filename_component(NDFFI_AARCH64_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../../build/aarch64/sysroot" ABSOLUTE)
endif()
set(NDFFI_AARCH64_SYSROOT "${NDFFI_AARCH64_SYSROOT}" CACHE PATH "the arm64 userland")
set(_sr "${NDFFI_AARCH64_SYSROOT}")

set(_inc "-idirafter ${_sr}/usr/include/aarch64-linux-gnu -idirafter ${_sr}/usr/include")
set(CMAKE_C_FLAGS_INIT "${_inc}")
set(CMAKE_CXX_FLAGS_INIT "${_inc}")
set(_link "-Wl,-rpath-link,${_sr}/usr/lib/aarch64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_link}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_link}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "${_link}")

set(CMAKE_FIND_ROOT_PATH "${_sr}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)   # FindPython looks where the interpreter says
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)   # nanobind's CMake files live in the venv

# pkg-config reads the sysroot's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "${_sr}/usr/lib/aarch64-linux-gnu/pkgconfig:${_sr}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_sr}")
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L "${_sr}")
