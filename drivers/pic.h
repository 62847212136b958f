/* SPDX-License-Identifier: MIT */
/* Legacy 8259A interrupt controllers: remapped to base..base+15 and masked. */
#ifndef TERN_DRIVERS_PIC_H
#define TERN_DRIVERS_PIC_H

#include <stdint.h>

void pic_disable(uint8_t base);

#endif
