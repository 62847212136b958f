/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor log: leveled, line-at-a-time, timestamped, kept in a ring
 * (for the management guest later) and written to the console. Lines from
 * different CPUs never interleave.
 */
#ifndef TERN_KERNEL_LOG_H
#define TERN_KERNEL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/cmdline.h" /* LOG_LEVEL_* */

/*
 * OR'd into log_write's level: a line of a guest's console (vmm/vuart.c),
 * which the sink may drop whole when the console is busy. Every other line
 * is the hypervisor's own and is never dropped.
 */
#define LOG_GUEST 0x100

typedef void (*log_sink_fn)(const char *s, size_t n);
/* One whole log line, "\n" included; guest: it was logged with LOG_GUEST. */
typedef void (*log_line_fn)(const char *s, size_t n, bool guest);

/* line: each log line (may queue); raw: panic-path text (must not queue). */
void log_set_sink(log_line_fn line, log_sink_fn raw);
void log_set_level(int level);
/* Microseconds since boot for the line prefix; NULL until a clock exists. */
void log_set_clock(uint64_t (*now_us)(void));
void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write raw text to the console, bypassing levels and the ring (panic path). */
void log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* After a panic: stop waiting for a lock another CPU may hold forever. */
void log_force_unlock(void);
/* Copy ring bytes from *pos on; returns bytes copied and advances *pos. */
size_t log_ring_read(uint64_t *pos, char *buf, size_t n);

#define pr_err(...)   log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define pr_info(...)  log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define pr_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
