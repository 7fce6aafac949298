"""Exceptions raised by ndffi."""


class LibraryNotFound(OSError):
    """A shared library could not be found or loaded.

    ``tried`` lists every path or name that was tried, with the reason each failed.
    """

    def __init__(self, name, tried):
        self.name = name
        self.tried = list(tried)
        lines = "\n".join(f"  {path}: {why}" for path, why in self.tried)
        super().__init__(f"cannot load library {name!r}; tried:\n{lines}")


class BuildWarning(UserWarning):
    """Something about a build the caller should know: a function of the sources that
    could not be declared (the declaration parser does not read one of its types yet)
    and was left out, or no function found to declare at all."""


class CacheWarning(BuildWarning):
    """ndffi's cache directory (``$NDFFI_CACHE_DIR``, ``~/.cache/ndffi``) is not used:
    another user could write it, or it cannot be created.  Builds and header imports
    still work, without the cache."""
