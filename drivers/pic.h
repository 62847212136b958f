/* SPDX-License-Identifier: MIT */
/* Legacy 8259A interrupt controllers: remapped to base..base+15, masked but for what is unmasked. */
#ifndef TERN_DRIVERS_PIC_H
#define TERN_DRIVERS_PIC_H

#include <stdint.h>

void pic_disable(uint8_t base);
/* Let one IRQ through (after pic_disable); it arrives on base + irq through LINT0 (ExtINT). */
void pic_unmask(uint8_t irq);
/* End of interrupt for irq (its handler, before returning). */
void pic_eoi(uint8_t irq);

#endif
