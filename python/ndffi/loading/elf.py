"""Exported symbols of an ELF shared object, read in pure Python.

Used to say *what is there* when a symbol is missing ("no function 'dsun' in libfoo.so;
did you mean 'dsum'?") and by ``python -m ndffi inspect``.  Reads the dynamic symbol
table (``.dynsym`` / ``.dynstr``) of ELF32 and ELF64 files of either byte order; when
the section headers are stripped it falls back to the dynamic segment (``DT_SYMTAB``,
``DT_STRTAB`` and ``DT_HASH`` / ``DT_GNU_HASH`` for the symbol count).
"""

from __future__ import annotations

import mmap
import os
import struct
import threading

__all__ = ["exported_symbols", "close_matches"]

_ELF_MAGIC = b"\x7fELF"

# Section / program header and dynamic tags.
_SHT_DYNSYM = 11
_PT_LOAD = 1
_PT_DYNAMIC = 2
_DT_NULL = 0
_DT_HASH = 4
_DT_STRTAB = 5
_DT_SYMTAB = 6
_DT_STRSZ = 10
_DT_SYMENT = 11
_DT_GNU_HASH = 0x6FFFFEF5

# Symbols.
_SHN_UNDEF = 0
_SHN_ABS = 0xFFF1
_BINDINGS = {1, 2, 10}  # STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE
_KINDS = {
    1: "object",  # STT_OBJECT
    2: "function",  # STT_FUNC
    5: "object",  # STT_COMMON
    6: "object",  # STT_TLS
    10: "function",  # STT_GNU_IFUNC
}
_EXPORTED_VISIBILITY = {0, 3}  # STV_DEFAULT, STV_PROTECTED


class _Layout:
    """struct formats for one ELF class and byte order."""

    def __init__(self, is64: bool, endian: str):
        e = endian
        self.is64 = is64
        if is64:
            self.ehdr = struct.Struct(e + "HHIQQQIHHHHHH")
            self.shdr = struct.Struct(e + "IIQQQQIIQQ")
            self.phdr = struct.Struct(e + "IIQQQQQQ")
            self.sym = struct.Struct(e + "IBBHQQ")
            self.dyn = struct.Struct(e + "qQ")
            self.word = 8
        else:
            self.ehdr = struct.Struct(e + "HHIIIIIHHHHHH")
            self.shdr = struct.Struct(e + "IIIIIIIIII")
            self.phdr = struct.Struct(e + "IIIIIIII")
            self.sym = struct.Struct(e + "IIIBBH")
            self.dyn = struct.Struct(e + "iI")
            self.word = 4
        self.u32 = struct.Struct(e + "I")
        self.endian = e

    def section(self, data, off):
        # Same field order in ELF32 and ELF64; only the widths differ.
        _name, typ, _flags, _addr, offset, size, link, _info, _align, entsize = self.shdr.unpack_from(data, off)
        return typ, offset, size, link, entsize

    def program(self, data, off):
        if self.is64:
            typ, _flags, offset, vaddr, _paddr, filesz, _memsz, _align = self.phdr.unpack_from(data, off)
        else:
            typ, offset, vaddr, _paddr, filesz, _memsz, _flags, _align = self.phdr.unpack_from(data, off)
        return typ, offset, vaddr, filesz

    def symbols(self, data, off, count, entsize):
        """Yield (st_name, st_info, st_other, st_shndx, st_value, st_size)."""
        sym = self.sym
        if entsize == sym.size:
            view = data[off : off + count * entsize]
            items = sym.iter_unpack(view)
        else:
            items = (sym.unpack_from(data, off + i * entsize) for i in range(count))
        if self.is64:
            yield from items
        else:
            for name, value, size, info, other, shndx in items:
                yield name, info, other, shndx, value, size


def _parse(data) -> dict:
    """The exported symbols of ELF image ``data`` (bytes or mmap)."""
    if len(data) < 52 or data[:4] != _ELF_MAGIC:
        return {}
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        return {}
    lay = _Layout(ei_class == 2, "<" if ei_data == 1 else ">")
    (
        _type,
        _machine,
        _version,
        _entry,
        phoff,
        shoff,
        _flags,
        _ehsize,
        phentsize,
        phnum,
        shentsize,
        shnum,
        _shstrndx,
    ) = lay.ehdr.unpack_from(data, 16)

    table = None
    if shoff and shentsize >= lay.shdr.size:
        if shnum == 0:  # extended numbering: the count is in section 0's sh_size
            shnum = lay.section(data, shoff)[2]
        if shoff + shnum * shentsize <= len(data):
            table = _from_sections(data, lay, shoff, shentsize, shnum)
    if table is None and phoff and phentsize >= lay.phdr.size:
        table = _from_dynamic(data, lay, phoff, phentsize, phnum)
    if table is None:
        return {}
    symoff, count, entsize, strtab = table
    return _collect(lay, data, symoff, count, entsize, strtab)


def _from_sections(data, lay, shoff, shentsize, shnum):
    for i in range(shnum):
        typ, offset, size, link, entsize = lay.section(data, shoff + i * shentsize)
        if typ != _SHT_DYNSYM:
            continue
        entsize = entsize or lay.sym.size
        if link >= shnum or entsize < lay.sym.size:
            return None
        _t, str_off, str_size, _l, _e = lay.section(data, shoff + link * shentsize)
        if offset + size > len(data) or str_off + str_size > len(data):
            return None
        return offset, size // entsize, entsize, bytes(data[str_off : str_off + str_size])
    return None


def _from_dynamic(data, lay, phoff, phentsize, phnum):
    """Locate .dynsym through PT_DYNAMIC when there are no section headers."""
    loads, dynamic = [], None
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + lay.phdr.size > len(data):
            return None
        typ, offset, vaddr, filesz = lay.program(data, off)
        if typ == _PT_LOAD:
            loads.append((vaddr, filesz, offset))
        elif typ == _PT_DYNAMIC:
            dynamic = (offset, filesz)
    if dynamic is None:
        return None

    def to_offset(addr):
        for vaddr, filesz, offset in loads:
            if vaddr <= addr < vaddr + filesz:
                return addr - vaddr + offset
        return None

    tags = {}
    off, end = dynamic[0], min(dynamic[0] + dynamic[1], len(data))
    while off + lay.dyn.size <= end:
        tag, val = lay.dyn.unpack_from(data, off)
        if tag == _DT_NULL:
            break
        tags.setdefault(tag, val)
        off += lay.dyn.size
    if _DT_SYMTAB not in tags or _DT_STRTAB not in tags:
        return None
    symoff, stroff = to_offset(tags[_DT_SYMTAB]), to_offset(tags[_DT_STRTAB])
    if symoff is None or stroff is None:
        return None
    entsize = tags.get(_DT_SYMENT, lay.sym.size)
    strsz = tags.get(_DT_STRSZ, len(data) - stroff)
    count = None
    if _DT_HASH in tags and to_offset(tags[_DT_HASH]) is not None:
        count = lay.u32.unpack_from(data, to_offset(tags[_DT_HASH]) + 4)[0]  # nchain
    elif _DT_GNU_HASH in tags and to_offset(tags[_DT_GNU_HASH]) is not None:
        count = _gnu_hash_count(data, lay, to_offset(tags[_DT_GNU_HASH]))
    if count is None or entsize < lay.sym.size or symoff + count * entsize > len(data):
        return None
    return symoff, count, entsize, bytes(data[stroff : stroff + strsz])


def _gnu_hash_count(data, lay, off):
    """Number of dynamic symbols from a DT_GNU_HASH table."""
    nbuckets, symoffset, bloom_size, _shift = struct.unpack_from(lay.endian + "IIII", data, off)
    buckets_off = off + 16 + bloom_size * lay.word
    buckets = struct.unpack_from(lay.endian + "%dI" % nbuckets, data, buckets_off)
    last = max(buckets, default=0)
    if last < symoffset:
        return symoffset
    chains_off = buckets_off + 4 * nbuckets
    while True:
        (h,) = lay.u32.unpack_from(data, chains_off + 4 * (last - symoffset))
        if h & 1:
            return last + 1
        last += 1


def _collect(lay, data, symoff, count, entsize, strtab) -> dict:
    out = {}
    find = strtab.find
    kinds = _KINDS
    for st_name, info, other, shndx, value, size in lay.symbols(data, symoff, count, entsize):
        if shndx == _SHN_UNDEF or not st_name:
            continue
        kind = kinds.get(info & 0xF)
        if kind is None or (info >> 4) not in _BINDINGS or (other & 3) not in _EXPORTED_VISIBILITY:
            continue
        if shndx == _SHN_ABS and value == 0 and size == 0:
            continue  # version definition names (GLIBC_2.2.5 ...)
        end = find(b"\0", st_name)
        if end < 0:
            end = len(strtab)
        name = strtab[st_name:end].decode("utf-8", "surrogateescape")
        at = name.find("@")
        if at > 0:
            name = name[:at]
        if name and (kind == "function" or name not in out):
            out[name] = kind
    return out


_cache: dict = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 32


def exported_symbols(path) -> dict:
    """Names defined and exported by the ELF shared object at ``path``.

    Returns ``{name: 'function' | 'object'}`` read from the dynamic symbol table
    (undefined, local and hidden symbols excluded; symbol versions stripped), or ``{}``
    when the file is not ELF.  Raises ``OSError`` when the file cannot be read.
    """
    path = os.fspath(path)
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return dict(hit)

    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != _ELF_MAGIC:
            return {}
        data: mmap.mmap | bytes
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            f.seek(0)
            data = f.read()
        try:
            try:
                result = _parse(data)
            except (struct.error, ValueError, IndexError, OverflowError, MemoryError):
                result = {}  # truncated or corrupt
        finally:
            if isinstance(data, mmap.mmap):
                data.close()

    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = result
    return dict(result)


def close_matches(name, path, n=3) -> list:
    """Up to ``n`` exported names of the library at ``path`` that resemble ``name``.

    Never raises: an unreadable or non-ELF file has no suggestions.  Fortran-style
    spellings (``name_``, ``_name``) and case-insensitive equals come first.
    """
    try:
        names = exported_symbols(path)
    except (OSError, ValueError, TypeError):
        return []
    if not names or n <= 0:
        return []
    import difflib

    out = []
    lowered = name.lower()
    for variant in (name + "_", "_" + name, name + "__", "__" + name):
        if variant in names and variant != name and variant not in out:  # for "_", two variants are "__"
            out.append(variant)
    out.extend(k for k in names if k != name and k.lower() == lowered and k not in out)
    for match in difflib.get_close_matches(name, names.keys(), n=n + 1, cutoff=0.6):
        if match not in out and match != name:
            out.append(match)
    return out[:n]
