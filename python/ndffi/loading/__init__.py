"""Finding and opening shared libraries: the search by name (:mod:`.search`) and the ELF
symbol table (:mod:`.elf`)."""
