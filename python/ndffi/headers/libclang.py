"""The part of libclang's C API the header importer uses, through ctypes.

The library is the one the ``libclang`` wheel installs next to ``clang.cindex``
(``clang/native/libclang.so``).  ``clang.cindex`` binds the same C API; it is not used
here because importing it and registering its ~300 functions costs ~100 ms, a third of
the budget of a whole header import.  Falls back to the library ``clang.cindex`` would
find when the wheel's is not there.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    byref,
    c_char_p,
    c_int,
    c_longlong,
    c_uint,
    c_ulong,
    c_ulonglong,
    c_void_p,
)


def library_path():
    name = {"win32": "libclang.dll", "darwin": "libclang.dylib"}.get(sys.platform, "libclang.so")
    spec = importlib.util.find_spec("clang")
    if spec is not None and spec.submodule_search_locations:
        for d in spec.submodule_search_locations:
            path = os.path.join(d, "native", name)
            if os.path.isfile(path):
                return path
    try:
        import clang.cindex  # a system installation: let it find its library
    except ImportError:
        from .cache import NEEDS_LIBCLANG

        raise ImportError(NEEDS_LIBCLANG) from None

    conf = clang.cindex.conf
    return os.path.join(conf.library_path, conf.get_filename()) if conf.library_path else conf.get_filename()


_lib = ctypes.CDLL(library_path())


class CXString(Structure):
    _fields_ = [("data", c_void_p), ("flags", c_uint)]


class CXCursor(Structure):
    _fields_ = [("kind", c_int), ("xdata", c_int), ("data", c_void_p * 3)]


class CXType(Structure):
    _fields_ = [("kind", c_int), ("data", c_void_p * 2)]


class CXSourceLocation(Structure):
    _fields_ = [("ptr_data", c_void_p * 2), ("int_data", c_uint)]


class CXSourceRange(Structure):
    _fields_ = [("ptr_data", c_void_p * 2), ("begin", c_uint), ("end", c_uint)]


class CXUnsavedFile(Structure):
    _fields_ = [("filename", c_char_p), ("contents", c_char_p), ("length", c_ulong)]


CURSOR_VISITOR = CFUNCTYPE(c_int, CXCursor, CXCursor, c_void_p)
FIELD_VISITOR = CFUNCTYPE(c_int, CXCursor, c_void_p)
INCLUSION_VISITOR = CFUNCTYPE(None, c_void_p, POINTER(CXSourceLocation), c_uint, c_void_p)


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_getCString = _fn("clang_getCString", c_char_p, CXString)
_disposeString = _fn("clang_disposeString", None, CXString)

createIndex = _fn("clang_createIndex", c_void_p, c_int, c_int)
disposeIndex = _fn("clang_disposeIndex", None, c_void_p)
parseTranslationUnit2 = _fn(
    "clang_parseTranslationUnit2",
    c_int,
    c_void_p,
    c_char_p,
    POINTER(c_char_p),
    c_int,
    POINTER(CXUnsavedFile),
    c_uint,
    c_uint,
    POINTER(c_void_p),
)
disposeTranslationUnit = _fn("clang_disposeTranslationUnit", None, c_void_p)
getTranslationUnitCursor = _fn("clang_getTranslationUnitCursor", CXCursor, c_void_p)
getNumDiagnostics = _fn("clang_getNumDiagnostics", c_uint, c_void_p)
getDiagnostic = _fn("clang_getDiagnostic", c_void_p, c_void_p, c_uint)
getDiagnosticSeverity = _fn("clang_getDiagnosticSeverity", c_int, c_void_p)
getDiagnosticLocation = _fn("clang_getDiagnosticLocation", CXSourceLocation, c_void_p)
_getDiagnosticSpelling = _fn("clang_getDiagnosticSpelling", CXString, c_void_p)
disposeDiagnostic = _fn("clang_disposeDiagnostic", None, c_void_p)
getInclusions = _fn("clang_getInclusions", None, c_void_p, INCLUSION_VISITOR, c_void_p)
_getFileName = _fn("clang_getFileName", CXString, c_void_p)
_getClangVersion = _fn("clang_getClangVersion", CXString)
getExpansionLocation = _fn(
    "clang_getExpansionLocation",
    None,
    CXSourceLocation,
    POINTER(c_void_p),
    POINTER(c_uint),
    POINTER(c_uint),
    POINTER(c_uint),
)

visitChildren = _fn("clang_visitChildren", c_uint, CXCursor, CURSOR_VISITOR, c_void_p)
_getCursorSpelling = _fn("clang_getCursorSpelling", CXString, CXCursor)
getCursorType = _fn("clang_getCursorType", CXType, CXCursor)
getCursorLocation = _fn("clang_getCursorLocation", CXSourceLocation, CXCursor)
getCursorExtent = _fn("clang_getCursorExtent", CXSourceRange, CXCursor)
getRangeStart = _fn("clang_getRangeStart", CXSourceLocation, CXSourceRange)
getRangeEnd = _fn("clang_getRangeEnd", CXSourceLocation, CXSourceRange)
isAnonymous = _fn("clang_Cursor_isAnonymous", c_uint, CXCursor)
isAnonymousRecordDecl = _fn("clang_Cursor_isAnonymousRecordDecl", c_uint, CXCursor)
hasAttrs = _fn("clang_Cursor_hasAttrs", c_uint, CXCursor)
getCursorDefinition = _fn("clang_getCursorDefinition", CXCursor, CXCursor)
getCanonicalCursor = _fn("clang_getCanonicalCursor", CXCursor, CXCursor)
isCursorDefinition = _fn("clang_isCursorDefinition", c_uint, CXCursor)
getStorageClass = _fn("clang_Cursor_getStorageClass", c_int, CXCursor)
getCursorTLSKind = _fn("clang_getCursorTLSKind", c_int, CXCursor)
getNumArguments = _fn("clang_Cursor_getNumArguments", c_int, CXCursor)
getArgument = _fn("clang_Cursor_getArgument", CXCursor, CXCursor, c_uint)
getTypedefDeclUnderlyingType = _fn("clang_getTypedefDeclUnderlyingType", CXType, CXCursor)
getEnumDeclIntegerType = _fn("clang_getEnumDeclIntegerType", CXType, CXCursor)
getEnumConstantDeclValue = _fn("clang_getEnumConstantDeclValue", c_longlong, CXCursor)
getEnumConstantDeclUnsignedValue = _fn("clang_getEnumConstantDeclUnsignedValue", c_ulonglong, CXCursor)
_getMangling = _fn("clang_Cursor_getMangling", CXString, CXCursor)
isBitField = _fn("clang_Cursor_isBitField", c_uint, CXCursor)
getFieldDeclBitWidth = _fn("clang_getFieldDeclBitWidth", c_int, CXCursor)
getOffsetOfField = _fn("clang_Cursor_getOffsetOfField", c_longlong, CXCursor)
isNull = _fn("clang_Cursor_isNull", c_int, CXCursor)

isConstQualifiedType = _fn("clang_isConstQualifiedType", c_uint, CXType)
isVolatileQualifiedType = _fn("clang_isVolatileQualifiedType", c_uint, CXType)
isRestrictQualifiedType = _fn("clang_isRestrictQualifiedType", c_uint, CXType)
getPointeeType = _fn("clang_getPointeeType", CXType, CXType)
getElementType = _fn("clang_getElementType", CXType, CXType)
getArraySize = _fn("clang_getArraySize", c_longlong, CXType)
getResultType = _fn("clang_getResultType", CXType, CXType)
getNumArgTypes = _fn("clang_getNumArgTypes", c_int, CXType)
getArgType = _fn("clang_getArgType", CXType, CXType, c_uint)
isFunctionTypeVariadic = _fn("clang_isFunctionTypeVariadic", c_uint, CXType)
getNamedType = _fn("clang_Type_getNamedType", CXType, CXType)
getModifiedType = _fn("clang_Type_getModifiedType", CXType, CXType)
getCanonicalType = _fn("clang_getCanonicalType", CXType, CXType)
getSizeOf = _fn("clang_Type_getSizeOf", c_longlong, CXType)
getAlignOf = _fn("clang_Type_getAlignOf", c_longlong, CXType)
getTypeDeclaration = _fn("clang_getTypeDeclaration", CXCursor, CXType)
_getTypeSpelling = _fn("clang_getTypeSpelling", CXString, CXType)
getFile = _fn("clang_getFile", c_void_p, c_void_p, c_char_p)


class CXSourceRangeList(Structure):
    _fields_ = [("count", c_uint), ("ranges", POINTER(CXSourceRange))]


_getSkippedRanges = _fn("clang_getSkippedRanges", POINTER(CXSourceRangeList), c_void_p, c_void_p)
_disposeSourceRangeList = _fn("clang_disposeSourceRangeList", None, POINTER(CXSourceRangeList))
visitFields = _fn("clang_Type_visitFields", c_uint, CXType, FIELD_VISITOR, c_void_p)

Evaluate = _fn("clang_Cursor_Evaluate", c_void_p, CXCursor)
EvalResult_getKind = _fn("clang_EvalResult_getKind", c_int, c_void_p)
EvalResult_getAsLongLong = _fn("clang_EvalResult_getAsLongLong", c_longlong, c_void_p)
EvalResult_getAsUnsigned = _fn("clang_EvalResult_getAsUnsigned", c_ulonglong, c_void_p)
EvalResult_isUnsignedInt = _fn("clang_EvalResult_isUnsignedInt", c_uint, c_void_p)
EvalResult_getAsDouble = _fn("clang_EvalResult_getAsDouble", ctypes.c_double, c_void_p)
EvalResult_getAsStr = _fn("clang_EvalResult_getAsStr", c_char_p, c_void_p)
EvalResult_dispose = _fn("clang_EvalResult_dispose", None, c_void_p)
getCursorReferenced = _fn("clang_getCursorReferenced", CXCursor, CXCursor)


def _optional(name, restype, *argtypes):
    """A function of newer libclangs (None where the library lacks it)."""
    try:
        return _fn(name, restype, *argtypes)
    except AttributeError:
        return None


# libclang >= 17: the operator of an operator expression.
getBinaryOperatorKind = _optional("clang_getCursorBinaryOperatorKind", c_int, CXCursor)
getUnaryOperatorKind = _optional("clang_getCursorUnaryOperatorKind", c_int, CXCursor)


def _string(cxs):
    s = _getCString(cxs)
    _disposeString(cxs)
    return s.decode("utf-8", "surrogateescape") if s is not None else ""


def spelling(cursor):
    return _string(_getCursorSpelling(cursor))


def type_spelling(t):
    return _string(_getTypeSpelling(t))


def mangling(cursor):
    return _string(_getMangling(cursor))


def file_name(f):
    return _string(_getFileName(f))


def clang_version():
    return _string(_getClangVersion())


def diagnostic_spelling(d):
    return _string(_getDiagnosticSpelling(d))


# Kinds (libclang's enums, stable across versions).
CURSOR_STRUCT, CURSOR_UNION, CURSOR_ENUM, CURSOR_FIELD, CURSOR_ENUM_CONST = 2, 3, 5, 6, 7
CURSOR_FUNCTION, CURSOR_VAR, CURSOR_PARM, CURSOR_TYPEDEF = 8, 9, 10, 20
CURSOR_PACKED_ATTR, CURSOR_ALIGNED_ATTR, CURSOR_ASM_LABEL_ATTR = 408, 441, 407
CURSOR_TYPE_REF = 43
E_UNEXPOSED, E_DECL_REF, E_MEMBER_REF, E_CALL = 100, 101, 102, 103
E_INTEGER, E_FLOATING, E_STRING, E_CHARACTER = 106, 107, 109, 110
E_PAREN, E_UNARY, E_SUBSCRIPT, E_BINARY, E_CONDITIONAL, E_CAST = 111, 112, 113, 114, 116, 117
E_UNARY_EXPR = 136  # sizeof, alignof
BINOP_COMMA = 33  # CXBinaryOperator_Comma
UNOP_ADDRESS, UNOP_DEREF, UNOP_MINUS = 5, 6, 8

T_INVALID, T_UNEXPOSED, T_VOID, T_BOOL = 0, 1, 2, 3
T_CHAR_U, T_UCHAR, T_USHORT, T_UINT, T_ULONG, T_ULONGLONG = 4, 5, 8, 9, 10, 11
T_CHAR_S, T_SCHAR, T_SHORT, T_INT, T_LONG, T_LONGLONG = 13, 14, 16, 17, 18, 19
T_FLOAT, T_DOUBLE, T_LONGDOUBLE = 21, 22, 23
T_COMPLEX, T_POINTER, T_RECORD, T_ENUM, T_TYPEDEF = 100, 101, 105, 106, 107
T_FUNCNOPROTO, T_FUNCPROTO, T_CONSTARRAY, T_INCOMPLETEARRAY, T_VARARRAY = 110, 111, 112, 114, 115
T_AUTO, T_ELABORATED, T_ATTRIBUTED, T_BTF_TAG = 118, 119, 163, 178

SC_STATIC = 3
TLS_NONE = 0
SEVERITY_ERROR = 3

EVAL_INT, EVAL_FLOAT, EVAL_STR = 1, 2, 4

PARSE_DETAILED_PROCESSING_RECORD = 0x01
PARSE_SKIP_FUNCTION_BODIES = 0x40


def _collect(visit_all, visitor_type, of):
    """The items that a libclang visiting function (``visit_all(of, visitor, data)``)
    passes to its visitor, in order."""
    out = []
    append = out.append

    def visit(item, *_):
        append(item)
        return 1  # CXChildVisit_Continue, CXVisit_Continue

    visit_all(of, visitor_type(visit), None)
    return out


def children(cursor):
    return _collect(visitChildren, CURSOR_VISITOR, cursor)


def fields(t):
    return _collect(visitFields, FIELD_VISITOR, t)


_loc_file = c_void_p()
_loc_line = c_uint()
_loc_col = c_uint()
_loc_offset = c_uint()
_loc_refs = (byref(_loc_file), byref(_loc_line), byref(_loc_col), byref(_loc_offset))


def location(loc):
    """(file id, line, offset) of a source location (file id 0: none)."""
    getExpansionLocation(loc, *_loc_refs)
    return _loc_file.value or 0, _loc_line.value, _loc_offset.value


def _file_of(loc):
    """The file id of a source location (0: none)."""
    getExpansionLocation(loc, _loc_refs[0], None, None, None)
    return _loc_file.value or 0


def cursor_file(cursor):
    return _file_of(getCursorLocation(cursor))


def parse(index, path, source, args):
    """Parse ``source`` as the file ``path``; returns the translation unit handle."""
    argv = (c_char_p * len(args))(*[a.encode() for a in args])
    name = path.encode()
    data = source.encode("utf-8", "surrogateescape")
    unsaved = CXUnsavedFile(name, data, len(data))
    tu = c_void_p()
    err = parseTranslationUnit2(
        index,
        name,
        argv,
        len(args),
        byref(unsaved),
        1,
        PARSE_SKIP_FUNCTION_BODIES | PARSE_DETAILED_PROCESSING_RECORD,
        byref(tu),
    )
    if err or not tu:
        raise OSError(f"libclang could not parse {path} (error {err})")
    return tu


def errors(tu, skip_file=None):
    """Error diagnostics of a translation unit, as "file:line:col: message" (those in
    file ``skip_file`` left out)."""
    out = []
    for i in range(getNumDiagnostics(tu)):
        d = getDiagnostic(tu, i)
        try:
            if getDiagnosticSeverity(d) < SEVERITY_ERROR:
                continue
            getExpansionLocation(getDiagnosticLocation(d), *_loc_refs)
            f = _loc_file.value
            name = file_name(f) if f else ""
            if skip_file is not None and os.path.basename(name) == os.path.basename(skip_file):
                continue
            where = f"{name}:{_loc_line.value}:{_loc_col.value}: " if f else ""
            out.append(where + diagnostic_spelling(d))
        finally:
            disposeDiagnostic(d)
    return out


def inclusions(tu):
    """[(including file id or 0, included file id)] of a translation unit."""
    out = []

    def visit(included, stack, depth, _data):
        out.append((_file_of(stack[0]) if depth else 0, included or 0))

    getInclusions(tu, INCLUSION_VISITOR(visit), None)
    return out


def skipped_lines(tu, fid):
    """[(first line, last line)] of the parts of a file the preprocessor skipped (the
    inactive branches of #if); needs PARSE_DETAILED_PROCESSING_RECORD."""
    lst = _getSkippedRanges(tu, fid)
    if not lst:
        return []
    try:
        out = []
        rl = lst.contents
        for i in range(rl.count):
            r = rl.ranges[i]
            out.append((location(getRangeStart(r))[1], location(getRangeEnd(r))[1]))
        return out
    finally:
        _disposeSourceRangeList(lst)


def evaluate(cursor):
    """("int" | "float" | "string", value) of a variable's constant initializer, or None."""
    r = Evaluate(cursor)
    if not r:
        return None
    try:
        kind = EvalResult_getKind(r)
        if kind == EVAL_INT:
            if EvalResult_isUnsignedInt(r):
                return ("int", EvalResult_getAsUnsigned(r))
            return ("int", EvalResult_getAsLongLong(r))
        if kind == EVAL_FLOAT:
            return ("float", EvalResult_getAsDouble(r))
        if kind == EVAL_STR:
            s = EvalResult_getAsStr(r)
            return ("string", s.decode("utf-8", "surrogateescape")) if s is not None else None
        return None
    finally:
        EvalResult_dispose(r)
