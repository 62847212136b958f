/* SPDX-License-Identifier: MIT */
/* A VM's platform devices and their wiring (platform.h, docs/devices.md). */
#include "vmm/platform.h"
#include "vmm/vm.h"
#include "vmm/sched.h"
#include "vmm/vlapic.h"
#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "kernel/errno.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "arch/x86.h"

/* ---- what the models see ------------------------------------------------------- */

static uint64_t tsc_to_ns(uint64_t ticks)
{
	uint64_t khz = tsc_khz ? tsc_khz : 1;

	return ticks / khz * 1000000ull + ticks % khz * 1000000ull / khz;
}

static uint64_t ns_to_tsc(uint64_t ns)
{
	uint64_t khz = tsc_khz ? tsc_khz : 1;

	return ns / 1000000ull * khz + ns % 1000000ull * khz / 1000000ull;
}

/* Guest time: host time since tsc0 but for the pauses (tsc0 moves on), standing while paused. */
static uint64_t env_now(void *ctx)
{
	struct vplatform *p = ctx;

	return tsc_to_ns((p->paused_tsc ? p->paused_tsc : rdtsc()) - p->tsc0);
}

/*
 * ISA IRQ lines go to the 8259A pair and to the I/O APIC. IRQ 0 is wired to
 * I/O APIC pin 2, as on PCs and as the MADT's interrupt source override a
 * Tern VM's ACPI tables give says; every other line n to pin n.
 */
static void env_set_irq(void *ctx, unsigned int line, bool level)
{
	struct vplatform *p = ctx;

	if (line >= 16 || p->restoring)
		return;
	vpic_set_irq(&p->pic, line, level);
	vioapic_set_irq(&p->ioapic, line == 0 ? 2 : line, level);
}

/* The PIC's INT output toward vCPU 0's LINT0 (SDM vol. 3A 10.5.1: ExtINT). */
static void env_kick(void *ctx)
{
	struct vplatform *p = ctx;
	bool up = vpic_intr(&p->pic);

	if (p->restoring || up == p->extint)
		return;
	p->extint = up;
	if (!p->vm->nr_vcpus || !p->vm->vcpus[0])
		return;
	p->vm->vcpus[0]->lapic.extint = up;
	if (up)
		sched_wake(p->vm->vcpus[0]);
}

static void env_deliver(void *ctx, uint8_t dest, bool logical, uint8_t mode, uint8_t vector,
			bool level)
{
	struct vplatform *p = ctx;

	if (!p->restoring)
		vlapic_deliver_msg(p->vm, dest, logical, mode, vector, level);
}

static void env_request(void *ctx, int what)
{
	struct vplatform *p = ctx;

	if (!p->request)
		p->request = what;
}

/* ---- the POST code port --------------------------------------------------------- */

static uint64_t post_read(void *dev, uint64_t port, unsigned int size)
{
	return *(uint8_t *)dev;
}

static void post_write(void *dev, uint64_t port, unsigned int size, uint64_t val)
{
	*(uint8_t *)dev = (uint8_t)val;
}

static const struct dev_ops post_ops = { .name = "post", .read = post_read, .write = post_write };

/*
 * A device whose accesses need no platform lock: each is one load or store
 * of its own state and calls nothing, and it has no timers to poll (the
 * POST latch).
 */
static bool lockless(const struct bus_range *r)
{
	return r->ops == &post_ops;
}

/* ---- set-up --------------------------------------------------------------------- */

struct claim {
	struct bus *bus;
	uint64_t base, len;
	const struct dev_ops *ops;
	void *dev;
};

int vplatform_init(struct vm *vm)
{
	struct vplatform *p = &vm->plat;
	const struct claim claims[] = {
		{ &p->pio, 0x20, 2, &vpic_ops, &p->pic },
		{ &p->pio, 0xa0, 2, &vpic_ops, &p->pic },
		{ &p->pio, 0x4d0, 2, &vpic_ops, &p->pic },
		{ &p->pio, 0x40, 4, &vpit_ops, &p->pit },
		{ &p->pio, 0x61, 1, &vpit_ops, &p->pit },
		{ &p->pio, 0x70, 2, &vrtc_ops, &p->rtc },
		{ &p->pio, VKBC_DATA, 1, &vkbc_ops, &p->kbc },
		{ &p->pio, VKBC_STATUS, 1, &vkbc_ops, &p->kbc },
		{ &p->pio, VPLAT_POST_PORT, 1, &post_ops, &p->post },
		{ &p->pio, VPVPANIC_PORT, 1, &vpvpanic_ops, &p->pvpanic },
		{ &p->pio, VPM_BASE, VPM_PORTS, &vpm_ops, &p->pm },
		{ &p->pio, VPCI_PORT_ADDR, VPCI_PORTS, &vpci_ops, &p->pci },
		{ &p->pio, VUART_BASE, VUART_PORTS, &v16550_ops, &vm->uart.regs },
		{ &p->mmio, VPLAT_IOAPIC_BASE, VPLAT_IOAPIC_SIZE, &vioapic_ops, &p->ioapic },
	};

	p->lock = (struct spinlock)SPINLOCK_INIT("vplatform");
	p->vm = vm;
	p->tsc0 = rdtsc();
	p->next_tsc = ~0ull;
	p->env = (struct emul_env){
		.ctx = p, .now_ns = env_now, .epoch_s = rtc_epoch_at(p->tsc0), .set_irq = env_set_irq,
		.kick = env_kick, .deliver = env_deliver, .request = env_request,
	};
	vpic_init(&p->pic, &p->env);
	vioapic_init(&p->ioapic, &p->env, VPLAT_IOAPIC_BASE);
	vpit_init(&p->pit, &p->env);
	vrtc_init(&p->rtc, &p->env);
	vpm_init(&p->pm, &p->env);
	vpci_init(&p->pci, &p->env);
	vkbc_init(&p->kbc, &p->env);
	vpvpanic_init(&p->pvpanic, &p->env);
	vuart_attach(&vm->uart, &p->env);
	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		int err = bus_add(claims[i].bus, claims[i].base, claims[i].len, claims[i].ops,
				  claims[i].dev);

		if (err)
			return err;
	}
	return 0;
}

/* ---- accesses -------------------------------------------------------------------- */

/* Every device's timers run; the next device event, as a TSC. */
static void rearm(struct vplatform *p)
{
	uint64_t next = bus_poll(&p->pio, env_now(p));

	p->next_tsc = next == EMUL_NEVER ? ~0ull : p->tsc0 + ns_to_tsc(next);
}

/*
 * After an access to one device, only its deadline can have moved: poll it
 * alone, and bring the next event forward if it is now sooner. One that
 * moved later leaves an early wake-up, which then polls every device.
 */
static void rearm_range(struct vplatform *p, const struct bus_range *r)
{
	uint64_t next, tsc;

	if (!r || !r->ops->poll)
		return;
	next = r->ops->poll(r->dev, env_now(p));
	tsc = next == EMUL_NEVER ? ~0ull : p->tsc0 + ns_to_tsc(next);
	if (tsc < p->next_tsc)
		p->next_tsc = tsc;
}

/*
 * A port access: one lookup (the bus's ranges are fixed once the platform
 * is built, so it needs no lock), then the device whole, under the
 * platform lock but for a lockless one; split accesses
 * go through the bus byte by byte.
 */
uint32_t vplatform_pio_read(struct vm *vm, uint16_t port, unsigned int size)
{
	struct vplatform *p = &vm->plat;
	const struct bus_range *r = bus_whole(&p->pio, port, size);
	uint32_t v;

	if (r && lockless(r))
		return (uint32_t)(r->ops->read(r->dev, port, size) & bus_ones(size));
	spin_lock(&p->lock);
	if (r) {
		v = (uint32_t)(r->ops->read(r->dev, port, size) & bus_ones(size));
	} else {
		v = (uint32_t)bus_read(&p->pio, port, size);
		r = bus_find(&p->pio, port);
	}
	rearm_range(p, r);
	spin_unlock(&p->lock);
	return v;
}

void vplatform_pio_write(struct vm *vm, uint16_t port, unsigned int size, uint32_t val)
{
	struct vplatform *p = &vm->plat;
	const struct bus_range *r = bus_whole(&p->pio, port, size);

	val &= (uint32_t)bus_ones(size);
	if (r && lockless(r)) {
		r->ops->write(r->dev, port, size, val);
		return;
	}
	spin_lock(&p->lock);
	if (r) {
		r->ops->write(r->dev, port, size, val);
	} else {
		bus_write(&p->pio, port, size, val);
		r = bus_find(&p->pio, port);
	}
	rearm_range(p, r);
	spin_unlock(&p->lock);
}

bool vplatform_mmio_claims(struct vm *vm, uint64_t gpa)
{
	return bus_find(&vm->plat.mmio, gpa) != NULL;
}

uint64_t vplatform_mmio_read(struct vm *vm, uint64_t gpa, unsigned int size)
{
	struct vplatform *p = &vm->plat;
	uint64_t v;

	spin_lock(&p->lock);
	v = bus_read(&p->mmio, gpa, size);
	spin_unlock(&p->lock);
	return v;
}

void vplatform_mmio_write(struct vm *vm, uint64_t gpa, unsigned int size, uint64_t val)
{
	struct vplatform *p = &vm->plat;

	spin_lock(&p->lock);
	bus_write(&p->mmio, gpa, size, val);
	spin_unlock(&p->lock);
}

void vplatform_run_timers(struct vm *vm)
{
	struct vplatform *p = &vm->plat;

	spin_lock(&p->lock);
	rearm(p); /* bus_poll runs what is due */
	spin_unlock(&p->lock);
}

void vplatform_pause(struct vm *vm, uint64_t tsc)
{
	struct vplatform *p = &vm->plat;

	spin_lock(&p->lock);
	if (!p->paused_tsc)
		p->paused_tsc = tsc | 1; /* never 0 */
	spin_unlock(&p->lock);
}

void vplatform_resume(struct vm *vm, uint64_t tsc)
{
	struct vplatform *p = &vm->plat;
	uint64_t stood, guest_now;

	spin_lock(&p->lock);
	if (p->paused_tsc) {
		guest_now = env_now(p);
		stood = tsc - p->paused_tsc;
		p->tsc0 += stood;
		p->paused_tsc = 0;
		p->paused_ns += tsc_to_ns(stood);
		vrtc_skip(&p->rtc, guest_now, tsc_to_ns(stood));
		rearm(p); /* deadlines were guest times: as TSCs they moved on with tsc0 */
	}
	spin_unlock(&p->lock);
}

uint8_t vplatform_inta(struct vm *vm)
{
	struct vplatform *p = &vm->plat;
	int vec;

	spin_lock(&p->lock);
	vec = vpic_ack(&p->pic);
	spin_unlock(&p->lock);
	return (uint8_t)vec;
}

void vplatform_eoi(struct vm *vm, uint8_t vector)
{
	struct vplatform *p = &vm->plat;

	spin_lock(&p->lock);
	vioapic_eoi(&p->ioapic, vector);
	spin_unlock(&p->lock);
}

void vplatform_uart_rx(struct vm *vm)
{
	struct vplatform *p = &vm->plat;

	spin_lock(&p->lock);
	v16550_rx_notify(&vm->uart.regs);
	rearm(p); /* the character timeout may have moved */
	spin_unlock(&p->lock);
	if (vm->nr_vcpus)
		sched_wake(vm->vcpus[0]); /* its device timers may be due sooner */
}

bool vplatform_power_button(struct vm *vm)
{
	struct vplatform *p = &vm->plat;
	bool heard;

	spin_lock(&p->lock);
	heard = vpm_power_button(&p->pm);
	spin_unlock(&p->lock);
	return heard;
}

int vplatform_take_request(struct vm *vm)
{
	return __atomic_exchange_n(&vm->plat.request, 0, __ATOMIC_ACQ_REL);
}

/* ---- save and restore (TERN_HC_DEV_GET_STATE / SET_STATE) ----------------------- */

struct saved_dev {
	const struct dev_ops *ops;
	size_t off;     /* of the device in struct vm */
	uint32_t magic; /* its records' (the model's save) */
};

#define DEV(ops, field, a, b, c, d) { &ops, __builtin_offsetof(struct vm, field), DEV_MAGIC(a, b, c, d) }
static const struct saved_dev saved[] = {
	DEV(vpic_ops, plat.pic, 'P', 'I', 'C', '1'), DEV(vioapic_ops, plat.ioapic, 'I', 'O', 'A', '1'),
	DEV(vpit_ops, plat.pit, 'P', 'I', 'T', '1'), DEV(vrtc_ops, plat.rtc, 'R', 'T', 'C', '1'),
	DEV(vpm_ops, plat.pm, 'A', 'P', 'M', '1'), DEV(vpci_ops, plat.pci, 'P', 'C', 'I', '1'),
	DEV(vkbc_ops, plat.kbc, 'K', 'B', 'C', '1'), DEV(v16550_ops, uart.regs, 'U', 'A', 'R', '1'),
	DEV(vpvpanic_ops, plat.pvpanic, 'P', 'V', 'P', '1'),
};
#define NR_SAVED (sizeof(saved) / sizeof(saved[0]))

static void *dev_of(struct vm *vm, const struct saved_dev *d)
{
	return (char *)vm + d->off;
}

int vplatform_save(struct vm *vm, void *buf, size_t cap)
{
	struct vplatform *p = &vm->plat;
	size_t used = 0;
	int err = 0;

	spin_lock(&p->lock);
	for (size_t i = 0; i < NR_SAVED && err >= 0; i++) {
		err = saved[i].ops->save(dev_of(vm, &saved[i]), (char *)buf + used, cap - used);
		if (err >= 0)
			used += (size_t)err;
	}
	spin_unlock(&p->lock);
	return err < 0 ? err : (int)used;
}

/* The record's magic, or 0 when it is too short to have one. */
static uint32_t record_magic(const void *rec, size_t left, uint16_t *size)
{
	struct dev_record_hdr h;

	if (left < sizeof(h))
		return 0;
	memcpy(&h, rec, sizeof(h));
	*size = h.size;
	return h.size >= sizeof(h) && h.size <= left ? h.magic : 0;
}

static struct vplatform restore_backup;
static struct v16550 restore_backup_uart;

/*
 * Every device's record, each exactly once, in any order. All or nothing:
 * on a bad record the devices are put back as they were. Interrupt lines
 * and deliveries stay quiet while records load; the PIC's output is looked
 * at again after. The management lock serialises callers (the backup).
 */
int vplatform_restore(struct vm *vm, const void *buf, size_t len)
{
	struct vplatform *p = &vm->plat;
	bool seen[NR_SAVED] = { false };
	size_t off = 0;
	int err = 0;

	spin_lock(&p->lock);
	memcpy(&restore_backup, p, sizeof(*p));
	memcpy(&restore_backup_uart, &vm->uart.regs, sizeof(vm->uart.regs));
	p->restoring = true;
	while (off < len && !err) {
		uint16_t size = 0;
		uint32_t magic = record_magic((const char *)buf + off, len - off, &size);
		size_t i;

		for (i = 0; i < NR_SAVED && saved[i].magic != magic; i++)
			;
		if (!magic || i == NR_SAVED || seen[i])
			err = -EINVAL;
		else if (!(err = saved[i].ops->restore(dev_of(vm, &saved[i]), (const char *)buf + off, size)))
			seen[i] = true;
		off += size;
	}
	for (size_t i = 0; i < NR_SAVED && !err; i++)
		if (!seen[i])
			err = -EINVAL;
	if (err) {
		memcpy(p, &restore_backup, sizeof(*p)); /* restoring is false in the backup */
		memcpy(&vm->uart.regs, &restore_backup_uart, sizeof(vm->uart.regs));
	}
	p->restoring = false;
	if (!err) {
		p->extint = !vpic_intr(&p->pic); /* force env_kick to look */
		env_kick(p);
		rearm(p);
	}
	spin_unlock(&p->lock);
	return err;
}
