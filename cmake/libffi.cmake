# libffi for ndffi_core, as the target ndffi_libffi.
#
# Found by pkg-config (Linux distributions, manylinux images, Homebrew, MSYS2); else as
# ffi.h and the library on CMake's search path: the macOS SDK's (usr/include/ffi and the
# system's libffi.dylib), vcpkg's (CMAKE_TOOLCHAIN_FILE) or conda's (CMAKE_PREFIX_PATH).
# The wheels carry the library that was found: auditwheel, delocate and delvewheel copy
# it into the wheel (the macOS system library stays the system's).  Without libffi the
# configuration stops with one line saying what to install.

add_library(ndffi_libffi INTERFACE)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(FFI QUIET IMPORTED_TARGET libffi)
endif()

if(FFI_FOUND)
  target_link_libraries(ndffi_libffi INTERFACE PkgConfig::FFI)
  set(_ndffi_libffi_where "pkg-config, version ${FFI_VERSION}")
else()
  set(_ndffi_sdk_hints)
  if(APPLE AND CMAKE_OSX_SYSROOT)
    set(_ndffi_sdk_hints "${CMAKE_OSX_SYSROOT}/usr")
  endif()
  find_path(NDFFI_LIBFFI_INCLUDE_DIR ffi.h HINTS ${_ndffi_sdk_hints}
            PATH_SUFFIXES include include/ffi ffi)
  find_library(NDFFI_LIBFFI_LIBRARY NAMES ffi libffi HINTS ${_ndffi_sdk_hints}
               PATH_SUFFIXES lib)
  if(NDFFI_LIBFFI_INCLUDE_DIR AND NDFFI_LIBFFI_LIBRARY)
    target_include_directories(ndffi_libffi INTERFACE "${NDFFI_LIBFFI_INCLUDE_DIR}")
    target_link_libraries(ndffi_libffi INTERFACE "${NDFFI_LIBFFI_LIBRARY}")
    set(_ndffi_libffi_where "${NDFFI_LIBFFI_LIBRARY}")
  else()
    # (A message that starts with a space is printed as it is, not wrapped.)
    message(FATAL_ERROR " ndffi needs libffi (ffi.h and the library), found neither by "
      "pkg-config nor on CMake's search path: install libffi-dev (Debian, Ubuntu), "
      "libffi-devel (Fedora, RHEL, manylinux), libffi (Homebrew, conda) or "
      "'vcpkg install libffi' (Windows), or set CMAKE_PREFIX_PATH to where it is")
  endif()
endif()
message(STATUS "ndffi: libffi from ${_ndffi_libffi_where}")
