/* SPDX-License-Identifier: MIT */
/* Per-CPU areas and their guarded stacks. */
#include "arch/pcpu.h"
#include "arch/pcpu_alloc.h"
#include <stddef.h>
#include "kernel/mm.h"
#include "kernel/log.h"
#include "arch/msr.h"
#include "arch/paging.h"

struct pcpu *pcpus[MAX_CPUS];
uint32_t nr_pcpus;
/* The base reads these two through GS base (kernel/cpu.h). */
_Static_assert(offsetof(struct pcpu, self) == 0, "%gs:0 is the per-CPU block itself");
_Static_assert(offsetof(struct pcpu, id) == CPU_LOCAL_ID, "kernel/cpu.h: CPU_LOCAL_ID");
_Static_assert(offsetof(struct pcpu, heartbeat) == CPU_LOCAL_HEARTBEAT,
	       "kernel/cpu.h: CPU_LOCAL_HEARTBEAT");

/* cpu_local_ready: the BSP's GS base is set; APs set theirs before any lock. */
struct pcpu *this_cpu_or_null(void)
{
	return cpu_local_ready ? this_cpu() : NULL;
}

void pcpu_activate(struct pcpu *c)
{
	c->self = c;
	gdt_init(&c->gdt, &c->tss);
	gdt_load(&c->gdt);
	wrmsr(MSR_IA32_GS_BASE, (uint64_t)c);
	if (c->is_bsp)
		cpu_local_ready = true;
}

uint32_t pcpu_online_count(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < nr_pcpus; i++)
		if (pcpus[i] && pcpus[i]->state == PCPU_ONLINE)
			n++;
	return n;
}

/* Map size bytes of fresh pages at va; the page below va stays unmapped (guard). */
static uint64_t map_stack(uint64_t va, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		uint64_t pa = page_alloc(1, PMM_OWNER_STACK);

		if (!pa || paging_map(va + off, pa, PTE_W | PTE_NX | PTE_G))
			return 0;
	}
	return va + size;
}

/*
 * Per-CPU stack slot: [guard][kernel stack][guard][IST1][guard][IST2][guard][IST3].
 * Overflowing any stack faults on its guard page instead of corrupting memory.
 */
int pcpu_alloc_stacks(struct pcpu *c)
{
	uint64_t va = STACK_AREA_BASE + (uint64_t)c->id * STACK_SLOT_SIZE + PAGE_SIZE;
	uint64_t top = map_stack(va, KSTACK_SIZE);

	_Static_assert(4 * PAGE_SIZE + KSTACK_SIZE + IST_COUNT * IST_STACK_SIZE <= STACK_SLOT_SIZE,
		       "stacks fit their slot");
	if (!top)
		return -1;
	c->stack_lo = va;
	c->stack_hi = top;
	va = top + PAGE_SIZE;
	for (unsigned int i = 0; i < IST_COUNT; i++) {
		top = map_stack(va, IST_STACK_SIZE);
		if (!top)
			return -1;
		c->tss.ist[i] = top; /* ist[0] is IST1 */
		va = top + PAGE_SIZE;
	}
	c->tss.rsp[0] = c->stack_hi;
	return 0;
}

struct pcpu *pcpu_create(uint32_t id, uint32_t apic_id)
{
	uint64_t pa = page_alloc((sizeof(struct pcpu) + PAGE_SIZE - 1) / PAGE_SIZE, PMM_OWNER_PCPU);
	struct pcpu *c = pa ? phys_to_virt(pa) : NULL;

	if (!c)
		return NULL;
	c->self = c;
	c->id = id;
	c->apic_id = apic_id;
	if (pcpu_alloc_stacks(c)) {
		pr_err("pcpu: out of memory for cpu%u's stacks", id);
		return NULL;
	}
	return c;
}
