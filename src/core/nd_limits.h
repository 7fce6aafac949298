// How deeply declarations and types may nest, and the check that keeps every recursion
// over them (the parser's, and the walks of a type's structure: layout, dtypes, struct
// values, libffi types) from overflowing the stack of the thread that runs it.
//
// Each limit is a count the error message states; a thread started with a small stack
// (threading.stack_size) gets the same error earlier, when its stack runs low, instead
// of a crash.
#pragma once

#include <cstddef>

namespace ndffi {

// Levels of nesting in one declaration: parenthesised declarators, parameter lists,
// struct/union/enum bodies and type names within each other; and, counted apart,
// levels of a constant expression (parentheses, unary operators, ?:).
constexpr int kMaxNesting = 200;

// Levels of a type (CType::depth): pointers, arrays, functions and struct or union
// members, counted through typedefs and tags: a chain of typedefs each a pointer to the
// one before, or of structs each holding the one before, ends here.
constexpr size_t kMaxTypeDepth = 1000;

// Bytes a type may have (2^59): an array or record larger is refused.  Layouts are
// computed in bits, and every sum of member positions stays well below overflow.
constexpr size_t kMaxObjectSize = size_t(1) << 59;

// Whether this is an AddressSanitizer build (GCC's macro, Clang's feature test).
#if defined(__SANITIZE_ADDRESS__)
#define ND_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ND_ASAN 1
#endif
#endif
#ifndef ND_ASAN
#define ND_ASAN 0
#endif

// True when less than a reserve (64 KiB, or a quarter of a smaller stack; half under
// AddressSanitizer) is left on the calling thread's stack.  Cheap after the first call
// in a thread; false where the platform does not say where the stack ends.
bool stack_low();

// How deep the parser nests before it asks stack_low(), which most declarations then
// never do (its first call in a thread reads the thread's attributes).  Under
// AddressSanitizer a parser frame takes several KiB: it asks from the first level.
#if ND_ASAN
constexpr int kUncheckedNesting = 0;
#else
constexpr int kUncheckedNesting = 8;
#endif

}  // namespace ndffi
