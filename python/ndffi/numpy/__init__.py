"""NumPy-native functions made from C functions: :func:`~.wrap.wrap` and the ufuncs of
:mod:`.ufunc`."""
