"""Helpers every stage uses, each written once: the cache directory and its trusted
records, atomic file writes, the C compiler, ``defines``."""
