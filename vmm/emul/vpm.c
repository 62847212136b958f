/* SPDX-License-Identifier: MIT */
/* ACPI PM1a event/control registers, PM timer and SCI (vpm.h; ACPI 6.5 4.8.3). */
#include "vmm/emul/vpm.h"
#include "kernel/errno.h"
#include "kernel/string.h"

#define NS_PER_S 1000000000ull

/* Ticks of the 3.579545 MHz clock by guest time t (ns), without overflow. */
static uint64_t ticks_at(uint64_t ns)
{
	return (ns / NS_PER_S) * VPM_TIMER_HZ + (ns % NS_PER_S) * VPM_TIMER_HZ / NS_PER_S;
}

/* The PM timer's count at guest time t: the low 32 bits of the ticks. */
static uint32_t timer_at(uint64_t ns)
{
	return (uint32_t)ticks_at(ns);
}

/* The first ns by which k ticks have passed: ceil(k * 1e9 / HZ), without overflow. */
static uint64_t tick_ns(uint64_t k)
{
	return (k / VPM_TIMER_HZ) * NS_PER_S +
	       ((k % VPM_TIMER_HZ) * NS_PER_S + VPM_TIMER_HZ - 1) / VPM_TIMER_HZ;
}

static uint64_t now(const struct vpm *pm)
{
	return pm->env->now_ns ? pm->env->now_ns(pm->env->ctx) : 0;
}

/* The SCI is level, active while an enabled status bit is set and SCI_EN (ACPI 6.5 4.8.3.1). */
static void update_sci(struct vpm *pm)
{
	bool level = (pm->cnt & PM1_CNT_SCI_EN) && (pm->sts & pm->en & (PM1_TMR | PM1_GBL | PM1_PWRBTN));

	if (level != pm->sci && pm->env->set_irq)
		pm->env->set_irq(pm->env->ctx, VPM_SCI_IRQ, level);
	pm->sci = level;
}

/* TMR_STS is set whenever bit 31 of the (32-bit) timer changes (ACPI 6.5 4.8.3.3). */
static void timer_carry(struct vpm *pm, uint64_t t)
{
	uint32_t msb = timer_at(t) >> 31;

	if (msb != pm->tmr_msb_seen) {
		pm->tmr_msb_seen = msb;
		pm->sts |= PM1_TMR;
	}
}

static void vpm_reset(void *dev)
{
	struct vpm *pm = dev;

	pm->sts = pm->en = 0;
	/*
	 * The platform is in ACPI mode from reset: there is no SMI_CMD to switch
	 * it (a Tern FADT says 0), so SCI_EN reads 1 (ACPI 6.5 4.8.2.5, 5.2.9).
	 */
	pm->cnt = PM1_CNT_SCI_EN;
	pm->tmr_msb_seen = timer_at(now(pm)) >> 31;
	update_sci(pm);
}

void vpm_init(struct vpm *pm, const struct emul_env *env)
{
	memset(pm, 0, sizeof(*pm));
	pm->env = env;
	vpm_reset(pm);
}

static uint64_t vpm_read(void *dev, uint64_t port, unsigned int size)
{
	struct vpm *pm = dev;
	uint64_t v;

	timer_carry(pm, now(pm));
	update_sci(pm); /* a TMR_STS found here is an SCI now, not at the next poll */
	if (port >= VPM_PM_TMR) {
		v = timer_at(now(pm));
		return v >> (8 * (port - VPM_PM_TMR));
	}
	v = (uint64_t)pm->sts | (uint64_t)pm->en << 16 | (uint64_t)pm->cnt << 32;
	return v >> (8 * (port - VPM_BASE));
}

static void write_reg(struct vpm *pm, uint64_t port, unsigned int size, uint64_t val)
{
	uint16_t mask = size == 1 ? (uint16_t)(0xffu << (8 * (port & 1))) : 0xffffu;
	uint16_t v16 = (uint16_t)(val << (8 * (port & 1)));

	switch (port & ~1ull) {
	case VPM_PM1_STS: /* write 1 to clear (ACPI 6.5 4.8.3.1.1) */
		pm->sts &= (uint16_t)~(v16 & mask);
		break;
	case VPM_PM1_EN:
		pm->en = (uint16_t)((pm->en & ~mask) | (v16 & mask & PM1_EN_BITS));
		break;
	case VPM_PM1_CNT:
		pm->cnt = (uint16_t)((pm->cnt & ~mask) | (v16 & mask & ~PM1_CNT_SLP_EN));
		if ((v16 & mask & PM1_CNT_SLP_EN) && PM1_CNT_SLP_TYP(v16) == VPM_SLP_TYP_S5 &&
		    pm->env->request)
			pm->env->request(pm->env->ctx, EMUL_POWER_OFF);
		break;
	default: /* PM_TMR is read-only; the reserved word after PM1_CNT too */
		break;
	}
}

static void vpm_write(void *dev, uint64_t port, unsigned int size, uint64_t val)
{
	struct vpm *pm = dev;

	timer_carry(pm, now(pm));
	/* PM1 registers are 16 bits: a dword write covers two of them. */
	if (size == 4 && port < VPM_PM_TMR) {
		write_reg(pm, port, 2, val & 0xffff);
		write_reg(pm, port + 2, 2, (val >> 16) & 0xffff);
	} else if (size <= 2) {
		write_reg(pm, port, size, val);
	}
	update_sci(pm);
}

/* With TMR_EN, the next change of the timer's bit 31 is an event. */
static uint64_t vpm_poll(void *dev, uint64_t t)
{
	struct vpm *pm = dev;

	timer_carry(pm, t);
	update_sci(pm);
	if (!(pm->en & PM1_TMR) || !(pm->cnt & PM1_CNT_SCI_EN))
		return EMUL_NEVER;
	/* The first ns of the next multiple of 2^31 ticks: bit 31 changes exactly then. */
	return tick_ns((ticks_at(t) | ((1ull << 31) - 1)) + 1);
}

bool vpm_power_button(struct vpm *pm)
{
	pm->sts |= PM1_PWRBTN;
	pm->power_button_presses++;
	update_sci(pm);
	return (pm->en & PM1_PWRBTN) && (pm->cnt & PM1_CNT_SCI_EN);
}

struct vpm_record {
	struct dev_record_hdr hdr;
	uint16_t sts, en, cnt, reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct vpm_record) == 16, "vpm_record layout");
#define VPM_MAGIC DEV_MAGIC('A', 'P', 'M', '1')

static int vpm_save(const void *dev, void *buf, size_t cap)
{
	const struct vpm *pm = dev;
	struct vpm_record r = { { VPM_MAGIC, 1, sizeof(r) }, pm->sts, pm->en, pm->cnt, 0 };

	if (cap < sizeof(r))
		return -ENOSPC;
	memcpy(buf, &r, sizeof(r));
	return sizeof(r);
}

static int vpm_restore(void *dev, const void *buf, size_t len)
{
	struct vpm *pm = dev;
	struct vpm_record r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (r.hdr.magic != VPM_MAGIC || r.hdr.version != 1 || r.hdr.size != sizeof(r) ||
	    (r.en & ~PM1_EN_BITS) || (r.cnt & PM1_CNT_SLP_EN))
		return -EINVAL;
	pm->sts = r.sts;
	pm->en = r.en;
	pm->cnt = r.cnt;
	pm->tmr_msb_seen = timer_at(now(pm)) >> 31;
	update_sci(pm);
	return 0;
}

const struct dev_ops vpm_ops = {
	.name = "acpi-pm", .width = 4, .read = vpm_read, .write = vpm_write, .reset = vpm_reset,
	.poll = vpm_poll, .save = vpm_save, .restore = vpm_restore,
};
