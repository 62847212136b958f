/* SPDX-License-Identifier: MIT */
/*
 * ELF64 (System V gABI and its x86-64 supplement), only what image loaders
 * read: Tern's own (vmm/loader.c) and the management guest's
 * (vmm/imgplan.c). Definitions only, so both sides share it.
 */
#ifndef TERN_VMM_ELF_H
#define TERN_VMM_ELF_H

#include <stdint.h>

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

#define ELF_MAGIC  0x464c457fu /* "\177ELF", read as a little-endian word */
#define EI_CLASS   4
#define ELFCLASS64 2
#define ET_EXEC    2
#define EM_X86_64  62
#define PT_LOAD    1
#define PT_NOTE    4

#endif
