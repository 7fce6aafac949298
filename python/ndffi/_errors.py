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
