"""Hostile and careless use of Pointers, struct values, C arrays, the build cache and
output files: every mistake is a Python exception naming where, what was expected and
what was given — never a wrong value, never stale code, never a user's file changed."""

import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ndffi

CC = os.environ.get("CC", "cc")


@pytest.fixture(scope="module")
def types():
    lib = ndffi.load(None)
    lib.cdef("""
        typedef struct { char name[4]; int k; unsigned char u[2]; short m[2][2]; } named;
        typedef struct { double x, y; } vec2;
        typedef struct { vec2 pts[2]; } seg;
    """)
    return lib.types


# ---- C arrays (fields, elements of arrays of arrays) ------------------------------------


@pytest.mark.parametrize("field, value", [
    ("name", "12"),              # NumPy would parse the str as the number 12
    ("u", "12"),
    ("u", ["1", "2"]),           # ... and each of these as a number
    ("u", [1.5, 2]),             # ... and truncate this to 1
    ("m", [[1.5, 1], [1, 1]]),
    ("m", [["1", "1"], [1, 1]]),
])
def test_array_fields_take_what_their_elements_take(types, field, value):
    v = types.named()
    with pytest.raises(TypeError, match=f"field '{field}'"):
        setattr(v, field, value)
    assert bytes(v) == bytes(types.named())       # nothing written


def test_array_field_messages_name_the_field_expected_and_given(types):
    v = types.named()
    with pytest.raises(TypeError, match=r"field 'u'.*'unsigned char\[2\]'.*int64 array"):
        v.u = np.array([1, 2])                    # int64 -> uint8 is not safe
    with pytest.raises(ValueError, match=r"field 'u'.*expected 2 values.*got 3"):
        v.u = [1, 2, 3]
    with pytest.raises(TypeError, match=r"field 'name'.*got str.*encode"):
        v.name = "ab"
    with pytest.raises(OverflowError, match=r"field 'u' of 'named' element 1"):
        v.u = [1, 300]
    v.u = [7, 255]
    v.m = [np.array([1, 2], np.int16), [3, 4]]    # rows of any accepted kind
    v.name = b"abcd"                              # no NUL: all four bytes
    assert v.u.tolist() == [7, 255] and v.m.tolist() == [[1, 2], [3, 4]] and v.name == b"abcd"


def test_arrays_of_arrays_in_new_memory_and_through_pointers(types):
    p = ndffi.new("short[2][2]", [[1, 2], [3, 4]])
    assert [p[i][j] for i in range(2) for j in range(2)] == [1, 2, 3, 4]
    p[1] = [5, 6]
    assert (p[1][0], p[1][1]) == (5, 6)
    assert ndffi.new("char[2][4]", [b"ab", b"cd"])[1].string() == b"cd"
    with pytest.raises(TypeError, match=r"element 0"):
        ndffi.new("short[2][2]", [[1.5, 2], [3, 4]])
    s = types.seg(pts=[(1, 2), {"x": 3, "y": 4}])
    assert (s.pts[1]["x"], s.pts[0]["y"]) == (3.0, 2.0)
