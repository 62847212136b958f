/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC (see vioapic.h): 24 pins turned into messages through
 * env->deliver.
 *
 * Choices where the datasheet leaves room:
 * - IOAPICVER says version 0x20, not the 82093AA's 0x11, because this model
 *   has the EOI register at base + 0x40 that only version 0x20 parts have,
 *   and guests (Linux) use that register exactly when the version is >= 0x20.
 * - Access (3.0): IOWIN and EOI take 32-bit accesses only; IOREGSEL takes
 *   32-bit and, as 3.0 describes, byte writes and reads. Any other size or
 *   offset reads all-ones and drops writes. The EOI register reads 0.
 *   IOREGSEL indices that name no register read 0 and drop writes.
 * - INTPOL is stored but not applied: vioapic_set_irq() takes the asserted
 *   state, the VM having wired each source with its polarity.
 * - Delivery is synchronous, so Delivery Status always reads 0 (idle).
 *   Reserved delivery modes (011, 110) send nothing.
 * - An entry switched to edge loses its Remote IRR ("undefined for edge").
 * - Reserved bits 55:17 read 0 (no ICH extended destination ID).
 */
#include "vmm/emul/vioapic.h"

#include "kernel/errno.h"
#include "kernel/string.h"

#define VIOAPIC_MAGIC   DEV_MAGIC('I', 'O', 'A', '1')
#define VIOAPIC_VERSION 1

#define RTE_WRITABLE (0xff00000000000000ull | VIOAPIC_RTE_MASK | VIOAPIC_RTE_TRIGGER | \
		      VIOAPIC_RTE_INTPOL | VIOAPIC_RTE_DESTMOD | VIOAPIC_RTE_DELMOD | \
		      VIOAPIC_RTE_VECTOR)
#define RTE_VALID (RTE_WRITABLE | VIOAPIC_RTE_RIRR)
#define ID_SHIFT 24
#define ID_MASK  0x0fu

/* 3.2.4 Delivery Mode. */
enum {
	DELMOD_FIXED = 0,
	DELMOD_LOWEST = 1,
	DELMOD_SMI = 2,
	DELMOD_NMI = 4,
	DELMOD_INIT = 5,
	DELMOD_EXTINT = 7,
};

static unsigned int rte_delmod(uint64_t e)
{
	return (unsigned int)((e & VIOAPIC_RTE_DELMOD) >> VIOAPIC_RTE_DELMOD_SHIFT);
}

/* 3.2.4: SMI, NMI, INIT and ExtINT are edge-triggered whatever bit 15 says. */
static bool rte_level(uint64_t e)
{
	unsigned int mode = rte_delmod(e);

	return (e & VIOAPIC_RTE_TRIGGER) && (mode == DELMOD_FIXED || mode == DELMOD_LOWEST);
}

static bool pin_asserted(const struct vioapic *a, unsigned int pin)
{
	return (a->levels >> pin) & 1u;
}

/* Send pin's message if the entry allows; a level message sets Remote IRR. */
static void vioapic_service(struct vioapic *a, unsigned int pin)
{
	uint64_t *e = &a->redtbl[pin];
	unsigned int mode = rte_delmod(*e);
	bool level = rte_level(*e);

	if ((*e & VIOAPIC_RTE_MASK) || (level && (*e & VIOAPIC_RTE_RIRR)))
		return;
	if (mode == 3 || mode == 6) /* reserved */
		return;
	if (level)
		*e |= VIOAPIC_RTE_RIRR;
	if (a->env && a->env->deliver)
		a->env->deliver(a->env->ctx, (uint8_t)(*e >> VIOAPIC_RTE_DEST_SHIFT),
				(*e & VIOAPIC_RTE_DESTMOD) != 0, (uint8_t)mode,
				(uint8_t)(*e & VIOAPIC_RTE_VECTOR), level);
}

/* A level pin still asserted and unmasked with Remote IRR clear sends again. */
static void vioapic_recheck(struct vioapic *a, unsigned int pin)
{
	if (rte_level(a->redtbl[pin]) && pin_asserted(a, pin))
		vioapic_service(a, pin);
}

/*
 * 3.2.4 Interrupt Mask: edges and level changes on a masked pin are
 * ignored, but the level is remembered so that unmasking an asserted
 * level pin delivers it.
 */
void vioapic_set_irq(struct vioapic *a, unsigned int pin, bool level)
{
	bool was;

	if (pin >= VIOAPIC_PINS)
		return;
	was = pin_asserted(a, pin);
	if (level)
		a->levels |= 1u << pin;
	else
		a->levels &= ~(1u << pin);
	if (!level)
		return;
	if (rte_level(a->redtbl[pin]) || !was)
		vioapic_service(a, pin);
}

/* 3.2.4 Remote IRR: cleared by an EOI with the entry's vector. */
void vioapic_eoi(struct vioapic *a, uint8_t vector)
{
	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t *e = &a->redtbl[pin];

		if ((*e & VIOAPIC_RTE_VECTOR) != vector || !(*e & VIOAPIC_RTE_RIRR))
			continue;
		*e &= ~VIOAPIC_RTE_RIRR;
		vioapic_recheck(a, pin);
	}
}

static uint32_t reg_read(const struct vioapic *a, uint8_t idx)
{
	unsigned int pin;

	switch (idx) {
	case VIOAPIC_REG_ID:
	case VIOAPIC_REG_ARB: /* 3.2.3: loaded from the ID when it is written */
		return (uint32_t)a->id << ID_SHIFT;
	case VIOAPIC_REG_VER:
		return VIOAPIC_VERSION_VALUE;
	default:
		break;
	}
	if (idx < VIOAPIC_REG_REDTBL || idx >= VIOAPIC_REG_REDTBL + 2 * VIOAPIC_PINS)
		return 0;
	pin = (idx - VIOAPIC_REG_REDTBL) >> 1;
	return (uint32_t)(a->redtbl[pin] >> ((idx & 1u) * 32));
}

/* A redirection entry dword: read-only and reserved bits keep their value. */
static void rte_write(struct vioapic *a, uint8_t idx, uint32_t val)
{
	unsigned int pin = (idx - VIOAPIC_REG_REDTBL) >> 1;
	unsigned int shift = (idx & 1u) * 32;
	uint64_t field = RTE_WRITABLE & (0xffffffffull << shift);
	uint64_t *e = &a->redtbl[pin];

	*e = (*e & ~field) | (((uint64_t)val << shift) & field);
	if (!rte_level(*e))
		*e &= ~VIOAPIC_RTE_RIRR;
	vioapic_recheck(a, pin);
}

static void reg_write(struct vioapic *a, uint8_t idx, uint32_t val)
{
	if (idx == VIOAPIC_REG_ID)
		a->id = (uint8_t)((val >> ID_SHIFT) & ID_MASK);
	else if (idx >= VIOAPIC_REG_REDTBL && idx < VIOAPIC_REG_REDTBL + 2 * VIOAPIC_PINS)
		rte_write(a, idx, val);
	/* IOAPICVER, IOAPICARB: read-only; anything else names nothing. */
}

static uint64_t all_ones(unsigned int size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1u;
}

static uint64_t vioapic_read(void *dev, uint64_t addr, unsigned int size)
{
	struct vioapic *a = dev;
	uint64_t off = addr - a->base;

	if (addr < a->base)
		return all_ones(size);
	if (off == VIOAPIC_IOREGSEL && (size == 4 || size == 1))
		return a->ioregsel;
	if (size != 4)
		return all_ones(size);
	if (off == VIOAPIC_IOWIN)
		return reg_read(a, a->ioregsel);
	if (off == VIOAPIC_EOI)
		return 0;
	return all_ones(size);
}

static void vioapic_write(void *dev, uint64_t addr, unsigned int size, uint64_t val)
{
	struct vioapic *a = dev;
	uint64_t off = addr - a->base;

	if (addr < a->base)
		return;
	if (off == VIOAPIC_IOREGSEL && (size == 4 || size == 1))
		a->ioregsel = (uint8_t)val; /* bits 31:8 reserved */
	else if (size == 4 && off == VIOAPIC_IOWIN)
		reg_write(a, a->ioregsel, (uint32_t)val);
	else if (size == 4 && off == VIOAPIC_EOI)
		vioapic_eoi(a, (uint8_t)val);
}

/* 3.2: ID 0, every entry masked with all else 0; 3.1.1: IOREGSEL 0. */
static void vioapic_reset(void *dev)
{
	struct vioapic *a = dev;

	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++)
		a->redtbl[pin] = VIOAPIC_RTE_MASK;
	a->levels = 0;
	a->id = 0;
	a->ioregsel = 0;
}

void vioapic_init(struct vioapic *a, const struct emul_env *env, uint64_t base)
{
	a->env = env;
	a->base = base;
	vioapic_reset(a);
}

/* The saved record; Tern runs on x86 only, so native order is little-endian. */
struct vioapic_rec {
	struct dev_record_hdr hdr;
	uint8_t id;
	uint8_t ioregsel;
	uint32_t levels;
	uint64_t redtbl[VIOAPIC_PINS];
} __attribute__((packed));
_Static_assert(sizeof(struct vioapic_rec) == 8 + 2 + 4 + 8 * 24, "vioapic record layout");

static int vioapic_save(const void *dev, void *buf, size_t cap)
{
	const struct vioapic *a = dev;
	struct vioapic_rec r;

	if (cap < sizeof(r))
		return -ENOSPC;
	memset(&r, 0, sizeof(r));
	r.hdr.magic = VIOAPIC_MAGIC;
	r.hdr.version = VIOAPIC_VERSION;
	r.hdr.size = sizeof(r);
	r.id = a->id;
	r.ioregsel = a->ioregsel;
	r.levels = a->levels;
	memcpy(r.redtbl, a->redtbl, sizeof(r.redtbl));
	memcpy(buf, &r, sizeof(r));
	return (int)sizeof(r);
}

static bool rec_ok(const struct vioapic_rec *r)
{
	if (r->hdr.magic != VIOAPIC_MAGIC || r->hdr.version != VIOAPIC_VERSION ||
	    r->hdr.size != sizeof(*r))
		return false;
	if (r->id > ID_MASK || (r->levels >> VIOAPIC_PINS))
		return false;
	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t e = r->redtbl[pin];

		/* Delivery Status is never pending; Remote IRR only on level entries. */
		if ((e & ~RTE_VALID) || ((e & VIOAPIC_RTE_RIRR) && !rte_level(e)))
			return false;
	}
	return true;
}

static int vioapic_restore(void *dev, const void *buf, size_t len)
{
	struct vioapic *a = dev;
	struct vioapic_rec r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (!rec_ok(&r))
		return -EINVAL;
	a->id = r.id;
	a->ioregsel = r.ioregsel;
	a->levels = r.levels;
	memcpy(a->redtbl, r.redtbl, sizeof(a->redtbl));
	return 0;
}

const struct dev_ops vioapic_ops = {
	.name = "82093AA", .width = 4,
	.read = vioapic_read,
	.write = vioapic_write,
	.reset = vioapic_reset,
	.poll = NULL,
	.save = vioapic_save,
	.restore = vioapic_restore,
};
