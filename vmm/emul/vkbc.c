/* SPDX-License-Identifier: MIT */
/* The 8042 keyboard controller: commands, self-tests and the reset pulse (vkbc.h). */
#include "vmm/emul/vkbc.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define ST_OBF     0x01u
#define ST_SYS     0x04u
#define ST_CMD     0x08u
#define ST_UNLOCKED 0x10u /* bit 4: the keylock switch does not inhibit the keyboard */
#define CCB_XLATE  0x40u
#define CCB_AUXDIS 0x20u
#define CCB_KBDDIS 0x10u
#define CCB_SYS    0x04u
#define OUTPORT_RESET 0x01u /* low: the CPU is held in reset */

static void vkbc_reset(void *dev)
{
	struct vkbc *k = dev;

	k->status = ST_SYS | ST_UNLOCKED;
	k->out = 0;
	k->ccb = CCB_XLATE | CCB_SYS;
	k->outport = OUTPORT_RESET | 0x02; /* A20 enabled */
	k->pending = 0;
}

void vkbc_init(struct vkbc *k, const struct emul_env *env)
{
	k->env = env;
	vkbc_reset(k);
}

static void reply(struct vkbc *k, uint8_t b)
{
	k->out = b;
	k->status |= ST_OBF;
}

static void reset_pulse(struct vkbc *k)
{
	if (k->env->request)
		k->env->request(k->env->ctx, EMUL_RESET);
}

static void command(struct vkbc *k, uint8_t cmd)
{
	k->status |= ST_CMD;
	switch (cmd) {
	case 0x20: reply(k, k->ccb); break;                 /* read command byte */
	case 0x60: case 0xd1: k->pending = cmd; break;      /* write command byte / output port */
	case 0xaa: reply(k, 0x55); k->status |= ST_SYS; break; /* controller self-test: passed */
	case 0xab: case 0xa9: reply(k, 0x00); break;        /* interface tests: no error */
	case 0xd0: reply(k, k->outport); break;             /* read output port */
	/* Disable/enable the keyboard (0xAD/0xAE) and aux (0xA7/0xA8) clocks: command-byte bits 4, 5. */
	case 0xad: k->ccb |= CCB_KBDDIS; break;
	case 0xae: k->ccb &= (uint8_t)~CCB_KBDDIS; break;
	case 0xa7: k->ccb |= CCB_AUXDIS; break;
	case 0xa8: k->ccb &= (uint8_t)~CCB_AUXDIS; break;
	default:
		/* 0xF0-0xFF pulse output-port bits 0-3 low for 6 us; bit 0 is the reset line. */
		if (cmd >= 0xf0 && !(cmd & OUTPORT_RESET))
			reset_pulse(k);
		break;
	}
}

static void data(struct vkbc *k, uint8_t b)
{
	k->status &= (uint8_t)~ST_CMD;
	switch (k->pending) {
	case 0x60:
		k->ccb = b;
		k->status = (uint8_t)((k->status & ~ST_SYS) | (b & CCB_SYS));
		break;
	case 0xd1:
		k->outport = b;
		if (!(b & OUTPORT_RESET))
			reset_pulse(k);
		break;
	default:
		break; /* a byte for the keyboard: none is attached */
	}
	k->pending = 0;
}

static uint64_t vkbc_read(void *dev, uint64_t port, unsigned int size)
{
	struct vkbc *k = dev;

	if (port == VKBC_STATUS)
		return k->status;
	if (port == VKBC_DATA) {
		k->status &= (uint8_t)~ST_OBF;
		return k->out;
	}
	return ~0ull;
}

static void vkbc_write(void *dev, uint64_t port, unsigned int size, uint64_t val)
{
	struct vkbc *k = dev;

	if (port == VKBC_STATUS)
		command(k, (uint8_t)val);
	else if (port == VKBC_DATA)
		data(k, (uint8_t)val);
}

struct vkbc_record {
	struct dev_record_hdr hdr;
	uint8_t status, out, ccb, outport, pending, reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct vkbc_record) == 16, "vkbc_record layout");
#define VKBC_MAGIC DEV_MAGIC('K', 'B', 'C', '1')

static int vkbc_save(const void *dev, void *buf, size_t cap)
{
	const struct vkbc *k = dev;
	struct vkbc_record r = { { VKBC_MAGIC, 1, sizeof(r) }, k->status, k->out, k->ccb,
				 k->outport, k->pending, { 0 } };

	if (cap < sizeof(r))
		return -ENOSPC;
	memcpy(buf, &r, sizeof(r));
	return sizeof(r);
}

static int vkbc_restore(void *dev, const void *buf, size_t len)
{
	struct vkbc *k = dev;
	struct vkbc_record r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (r.hdr.magic != VKBC_MAGIC || r.hdr.version != 1 || r.hdr.size != sizeof(r) ||
	    (r.pending && r.pending != 0x60 && r.pending != 0xd1))
		return -EINVAL;
	k->status = r.status;
	k->out = r.out;
	k->ccb = r.ccb;
	k->outport = r.outport;
	k->pending = r.pending;
	return 0;
}

const struct dev_ops vkbc_ops = {
	.name = "i8042", .read = vkbc_read, .write = vkbc_write, .reset = vkbc_reset,
	.save = vkbc_save, .restore = vkbc_restore,
};
