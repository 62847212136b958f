/* SPDX-License-Identifier: MIT */
/*
 * The boot configuration file (tern.cfg) shared by the UEFI loader and the
 * image builder. Line-oriented:
 *
 *   # comment
 *   kernel  /tern/tern.elf
 *   cmdline console=com1 loglevel=info
 *   module  /tern/hello.bin hello
 *
 * Pure C with no library calls, so both the EFI loader and host unit tests
 * build it.
 */
#ifndef TERN_BOOT_BOOTCFG_H
#define TERN_BOOT_BOOTCFG_H

#include "boot/boot_info.h"

#define BOOTCFG_PATH_MAX 128u

struct bootcfg_module {
	char path[BOOTCFG_PATH_MAX];
	char name[BOOT_NAME_MAX];
};

struct bootcfg {
	char kernel[BOOTCFG_PATH_MAX];
	char cmdline[BOOT_CMDLINE_MAX];
	unsigned int nr_modules;
	struct bootcfg_module modules[BOOT_MAX_MODULES];
};

/*
 * Parse len bytes of text. Returns 0, or -1 with a one-line message in err
 * ("tern.cfg line 3: unknown keyword 'modul' (expected kernel, cmdline or
 * module)").
 */
int bootcfg_parse(const char *text, unsigned long len, struct bootcfg *cfg,
		  char *err, unsigned long errlen);

#endif
