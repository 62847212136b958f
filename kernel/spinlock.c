/* SPDX-License-Identifier: MIT */
/* Ticket spinlocks with owner tracking (see spinlock.h). */
#include "kernel/spinlock.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"

static int32_t me(void)
{
	return (int32_t)cpu_id();
}

void spin_lock(struct spinlock *l)
{
	uint32_t ticket;

	if (l->owner == me() && l->next != l->serving)
		panic("recursive acquire of lock '%s' on cpu%d", l->name, me());
	ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
	l->owner = me();
}

void spin_unlock(struct spinlock *l)
{
	l->owner = -1;
	__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

bool spin_trylock_bounded(struct spinlock *l, uint64_t max_spins)
{
	for (uint64_t i = 0; i < max_spins; i++) {
		uint32_t s = __atomic_load_n(&l->serving, __ATOMIC_ACQUIRE);
		uint32_t expect = s;

		if (__atomic_compare_exchange_n(&l->next, &expect, s + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			l->owner = me();
			return true;
		}
		cpu_relax();
	}
	return false;
}

bool spin_lock_irqsave(struct spinlock *l)
{
	bool on = irq_save();

	spin_lock(l);
	return on;
}

void spin_unlock_irqrestore(struct spinlock *l, bool irq_was_on)
{
	spin_unlock(l);
	irq_restore(irq_was_on);
}

bool spin_is_held_by_me(const struct spinlock *l)
{
	return l->owner == me() && l->next != l->serving;
}
