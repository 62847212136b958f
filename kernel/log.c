/* SPDX-License-Identifier: MIT */
/* Leveled log with a ring buffer and a console sink (see log.h). */
#include <stdarg.h>
#include <stdbool.h>
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/spinlock.h"
#include "kernel/cpu.h"

#define LOG_RING_SIZE (64u * 1024u) /* power of two */
#define LOG_LINE_MAX  512u
/* Long enough for a slow serial line to drain a few lines, short enough to
 * let a panicking CPU speak when another died holding the lock. */
#define LOG_LOCK_SPINS 50000000ull

static struct spinlock log_lock = SPINLOCK_INIT("log");
static char ring[LOG_RING_SIZE];
static uint64_t ring_head; /* total bytes ever written */
static log_line_fn sink;
static log_sink_fn raw_sink;
static int level = LOG_LEVEL_INFO;
static uint64_t (*clock_us)(void);
static volatile bool lock_busted;

void log_set_sink(log_line_fn line, log_sink_fn raw)
{
	sink = line;
	raw_sink = raw;
}
void log_set_level(int l) { level = l; }
void log_set_clock(uint64_t (*now_us)(void)) { clock_us = now_us; }
void log_force_unlock(void) { lock_busted = true; }

static bool lock(void)
{
	if (lock_busted)
		return false;
	return spin_trylock_bounded(&log_lock, LOG_LOCK_SPINS);
}

static void unlock(bool held)
{
	if (held)
		spin_unlock(&log_lock);
}

static void ring_put(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ring[(ring_head + i) & (LOG_RING_SIZE - 1)] = s[i];
	ring_head += n;
}

static const char *const level_tag[] = { "ERROR: ", "WARN: ", "", "" };

void log_write(int lvl, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	uint64_t us = clock_us ? clock_us() : 0;
	int n;
	bool irq, held;
	va_list ap;

	n = fmt_snprintf(line, sizeof(line), "[%5lu.%06lu] %s", (unsigned long)(us / 1000000),
			 (unsigned long)(us % 1000000), level_tag[lvl & 3]);
	va_start(ap, fmt);
	n += fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';

	irq = irq_save();
	held = lock();
	ring_put(line, (size_t)n);
	if (sink && (lvl & ~LOG_GUEST) <= level)
		sink(line, (size_t)n, lvl & LOG_GUEST);
	unlock(held);
	irq_restore(irq);
}

void log_raw(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	if (raw_sink)
		raw_sink(buf, (size_t)n);
}

size_t log_ring_read(uint64_t *pos, char *buf, size_t n)
{
	bool irq = irq_save(), held = lock();
	size_t i = 0;

	if (*pos + LOG_RING_SIZE < ring_head)
		*pos = ring_head - LOG_RING_SIZE; /* overwritten: skip ahead */
	for (; i < n && *pos < ring_head; i++, (*pos)++)
		buf[i] = ring[*pos & (LOG_RING_SIZE - 1)];
	unlock(held);
	irq_restore(irq);
	return i;
}
