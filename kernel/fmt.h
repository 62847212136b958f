/* SPDX-License-Identifier: MIT */
/*
 * Freestanding formatted output: %d %i %u %x %X %o %p %s %c %%, flags '-' '0'
 * ' ' '+', width and precision (also '*'), length h hh l ll z j t. Output is
 * always NUL-terminated when size > 0; the return is the length the full
 * output would have had. Pure logic, unit-tested on the host.
 */
#ifndef TERN_KERNEL_FMT_H
#define TERN_KERNEL_FMT_H

#include <stdarg.h>
#include <stddef.h>

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
