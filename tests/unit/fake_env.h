/* SPDX-License-Identifier: MIT */
/*
 * What a device model sees of its VM (vmm/emul/dev.h struct emul_env), faked
 * for the models' unit tests: a settable guest time, and logs of the
 * interrupt-line levels and the power-off/reset requests a model makes.
 * Each test defines `static struct fake fk;` through FAKE_ENV and points its
 * emul_env's callbacks (those it needs) at these.
 */
#ifndef TERN_TESTS_UNIT_FAKE_ENV_H
#define TERN_TESTS_UNIT_FAKE_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/emul/dev.h"

#define FAKE_IRQ_LOG 64u
#define FAKE_REQ_LOG 16u

struct fake {
	uint64_t now;                    /* guest ns now_ns returns */
	unsigned int nirq;
	unsigned int log[FAKE_IRQ_LOG];  /* line << 1 | level, in order */
	unsigned int nreq;
	int req[FAKE_REQ_LOG];           /* enum emul_request, in order */
};

static struct fake fk;

static __attribute__((unused)) uint64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static __attribute__((unused)) void fake_irq(void *ctx, unsigned int line, bool level)
{
	struct fake *f = ctx;

	if (f->nirq < FAKE_IRQ_LOG)
		f->log[f->nirq] = line << 1 | level;
	f->nirq++;
}

static __attribute__((unused)) void fake_request(void *ctx, int what)
{
	struct fake *f = ctx;

	if (f->nreq < FAKE_REQ_LOG)
		f->req[f->nreq] = what;
	f->nreq++;
}

#endif
