/* SPDX-License-Identifier: MIT */
/* The pvpanic ISA device at port 0x505: a guest's panic report ends the VM as crashed (vpvpanic.h). */
#include "vmm/emul/vpvpanic.h"
#include "kernel/errno.h"
#include "kernel/string.h"

static void vpvpanic_reset(void *dev)
{
	struct vpvpanic *d = dev;

	d->events = VPVPANIC_EVENTS;
}

void vpvpanic_init(struct vpvpanic *d, const struct emul_env *env)
{
	d->env = env;
	vpvpanic_reset(d);
}

/* pvpanic.rst: "On read, the bits recognized by the device are set." */
static uint64_t vpvpanic_read(void *dev, uint64_t port, unsigned int size)
{
	const struct vpvpanic *d = dev;

	return port == VPVPANIC_PORT ? d->events : ~0ull;
}

/* "On write, the bits not recognized by the device are ignored." */
static void vpvpanic_write(void *dev, uint64_t port, unsigned int size, uint64_t val)
{
	struct vpvpanic *d = dev;

	if (port == VPVPANIC_PORT && (val & d->events & VPVPANIC_PANICKED) && d->env->request)
		d->env->request(d->env->ctx, EMUL_CRASH);
}

struct vpvpanic_record {
	struct dev_record_hdr hdr;
	uint8_t events, reserved[7];
} __attribute__((packed));
_Static_assert(sizeof(struct vpvpanic_record) == 16, "vpvpanic_record layout");
#define VPVPANIC_MAGIC DEV_MAGIC('P', 'V', 'P', '1')

static int vpvpanic_save(const void *dev, void *buf, size_t cap)
{
	const struct vpvpanic *d = dev;
	struct vpvpanic_record r = { { VPVPANIC_MAGIC, 1, sizeof(r) }, d->events, { 0 } };

	if (cap < sizeof(r))
		return -ENOSPC;
	memcpy(buf, &r, sizeof(r));
	return sizeof(r);
}

/* The device keeps no state of its own: a record must name the events this model recognises. */
static int vpvpanic_restore(void *dev, const void *buf, size_t len)
{
	struct vpvpanic *d = dev;
	struct vpvpanic_record r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (r.hdr.magic != VPVPANIC_MAGIC || r.hdr.version != 1 || r.hdr.size != sizeof(r) ||
	    r.events != VPVPANIC_EVENTS)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(r.reserved); i++)
		if (r.reserved[i])
			return -EINVAL;
	d->events = r.events;
	return 0;
}

const struct dev_ops vpvpanic_ops = {
	.name = "pvpanic", .width = 1, .read = vpvpanic_read, .write = vpvpanic_write,
	.reset = vpvpanic_reset, .save = vpvpanic_save, .restore = vpvpanic_restore,
};
