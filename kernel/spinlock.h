/* SPDX-License-Identifier: MIT */
/*
 * Ticket spinlocks. Take and release in the same function. The owner CPU is
 * recorded so that taking a lock this CPU already holds panics at once
 * instead of deadlocking silently.
 */
#ifndef TERN_KERNEL_SPINLOCK_H
#define TERN_KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
	volatile uint32_t next;
	volatile uint32_t serving;
	volatile int32_t owner; /* CPU id holding it, -1 when free */
	const char *name;
};

#define SPINLOCK_INIT(n) { .next = 0, .serving = 0, .owner = -1, .name = (n) }

void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
/* Give up after about max_spins attempts; used where a dead CPU may hold it. */
bool spin_trylock_bounded(struct spinlock *l, uint64_t max_spins);
/* Interrupts off for as long as the lock is held; returns the previous IF. */
bool spin_lock_irqsave(struct spinlock *l);
void spin_unlock_irqrestore(struct spinlock *l, bool irq_was_on);
bool spin_is_held_by_me(const struct spinlock *l);

#endif
