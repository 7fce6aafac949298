// A C value in an 8-byte slot: the form an argument takes in a call's storage and a
// result in a return register.  An integer fills its slot sign- or zero-extended (the
// bits above a register's C width are unspecified, so a result is extended when read);
// a float takes the low 4 bytes, the rest zero; a double all 8.  A long double or a
// record by value is its own bytes, copied whole.  The one place these rules are
// written: arguments from memory (ufunc operands, callback arguments, loads of C
// memory) and results into memory use the same functions.
#pragma once

#include <cstdint>
#include <cstring>

#include "nd_cplan.h"

namespace ndffi {

// The low `size` bytes of raw, sign- or zero-extended.
inline int64_t extend_signed(uint64_t raw, unsigned size) {
  switch (size) {
    case 1: return int8_t(raw);
    case 2: return int16_t(raw);
    case 4: return int32_t(raw);
    default: return int64_t(raw);
  }
}
inline uint64_t extend_unsigned(uint64_t raw, unsigned size) {
  switch (size) {
    case 1: return uint8_t(raw);
    case 2: return uint16_t(raw);
    case 4: return uint32_t(raw);
    default: return raw;
  }
}

// An integer of `size` bytes at src, sign-extended.
inline int64_t load_signed(const void *src, unsigned size) {
  switch (size) {
    case 1: return *(const int8_t *)src;
    case 2: {
      int16_t v;
      memcpy(&v, src, 2);
      return v;
    }
    case 4: {
      int32_t v;
      memcpy(&v, src, 4);
      return v;
    }
    default: {
      int64_t v;
      memcpy(&v, src, 8);
      return v;
    }
  }
}

// An integer of `size` bytes at src, zero-extended (also the bits of a float or double).
inline uint64_t load_unsigned(const void *src, unsigned size) {
  switch (size) {
    case 1: return *(const uint8_t *)src;
    case 2: {
      uint16_t v;
      memcpy(&v, src, 2);
      return v;
    }
    case 4: {
      uint32_t v;
      memcpy(&v, src, 4);
      return v;
    }
    default: {
      uint64_t v;
      memcpy(&v, src, 8);
      return v;
    }
  }
}

// The slot of a scalar of `a`'s type (at most 8 bytes: not a long double or a record)
// stored in its own size at src.
inline uint64_t slot_of(const ArgSpec &a, const void *src) {
  switch (a.conv) {
    case Conv::Bool: return *(const uint8_t *)src != 0;
    case Conv::SInt: return uint64_t(load_signed(src, a.size));
    default: return load_unsigned(src, a.size);  // unsigned integers, float, double, pointers
  }
}

// A value of `a`'s type stored in its own size at src, into its slot(s) at dst.
inline void load_slot(const ArgSpec &a, const void *src, unsigned char *dst) {
  switch (a.conv) {
    case Conv::Void: return;
    case Conv::LongDouble: memcpy(dst, src, sizeof(long double)); return;
    case Conv::Record: memcpy(dst, src, a.size); return;
    default: {
      uint64_t v = slot_of(a, src);
      memcpy(dst, &v, 8);
    }
  }
}

// A value in its slot(s) at slot (a result register's bits, or libffi's result buffer),
// stored in its own size at dst.
inline void store_slot(const ArgSpec &a, const uint64_t *slot, void *dst) {
  switch (a.conv) {
    case Conv::Void: return;
    case Conv::LongDouble: memcpy(dst, slot, sizeof(long double)); return;
    case Conv::Record: memcpy(dst, slot, a.size); return;
    case Conv::Bool: {
      uint8_t b = (slot[0] & 0xff) != 0;
      memcpy(dst, &b, 1);
      return;
    }
    default:
      switch (a.size) {
        case 1: {
          uint8_t x = uint8_t(slot[0]);
          memcpy(dst, &x, 1);
          return;
        }
        case 2: {
          uint16_t x = uint16_t(slot[0]);
          memcpy(dst, &x, 2);
          return;
        }
        case 4: {
          uint32_t x = uint32_t(slot[0]);
          memcpy(dst, &x, 4);
          return;
        }
        default: memcpy(dst, slot, 8); return;
      }
  }
}

}  // namespace ndffi
