// System V x86-64: the classification of types into eightbytes (nd_abi_x64_sysv_classify.cpp),
// as the call engine and the closures of nd_abi_x64_sysv.cpp place arguments by it.
#pragma once
#if defined(__x86_64__) && !defined(_WIN32)
#include <cstddef>

#include "nd_ctype.h"

namespace ndffi::abi::sysv {

constexpr int kIntRegs = 6, kFloatRegs = 8;
constexpr size_t kMaxStackAlign = 64;  // ndffi_x64_sysv_call aligns the stack arguments to it

// An eightbyte's class (kNone: padding only).
enum Class { kNone, kInteger, kSSE, kMemory };

// The eightbytes of an argument of type `t` in registers: how many (0: passed in memory)
// and their classes (kNone for an eightbyte of padding only, which takes no register).
int arg_classes(const CType *t, Class cls[2]);

// True if `t` is 16 bytes whose every scalar is a long double at offset 0: the record's
// eightbytes classify X87, X87UP and it travels in st(0) like a long double.
bool only_x87(const CType *t);

}  // namespace ndffi::abi::sysv

namespace ndffi {
struct ClosureEngine;
}

namespace ndffi::abi::sysv {

// True if the engine's closure returns its result in st(0) (a long double, or a struct of
// one): its thunk enters through the entry that loads st(0).
bool returns_x87(const ClosureEngine &ce);

}  // namespace ndffi::abi::sysv
#endif
