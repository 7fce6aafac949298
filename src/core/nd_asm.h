// Spelling a function defined in top-level asm() for the platform's assembler: its
// symbol (Mach-O prefixes '_'), and the directives that open and close it (hidden from
// other libraries, with its ELF type and size).
#pragma once

#if defined(__APPLE__)
#define ND_SYM(x) "_" #x
#define ND_FUNC_BEGIN(x) ".private_extern " ND_SYM(x) "\n" ND_SYM(x) ":\n"
#define ND_FUNC_END(x) ""
#else
#define ND_SYM(x) #x
#define ND_FUNC_BEGIN(x) ".hidden " #x "\n.type " #x ", @function\n" #x ":\n"
#define ND_FUNC_END(x) ".size " #x ", .-" #x "\n"
#endif
