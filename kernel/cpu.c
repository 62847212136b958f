/* SPDX-License-Identifier: MIT */
/* The per-CPU contract's flag (see cpu.h). */
#include "kernel/cpu.h"

volatile bool cpu_local_ready;
