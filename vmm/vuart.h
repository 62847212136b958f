/* SPDX-License-Identifier: MIT */
/* A per-VM virtual 16550 on the COM1 ports whose output goes to the host log. */
#ifndef TERN_VMM_VUART_H
#define TERN_VMM_VUART_H

#include <stdbool.h>
#include <stdint.h>

#define VUART_BASE  0x3f8u
#define VUART_PORTS 8u
#define VUART_LINE_MAX 160u

struct vuart {
	const char *owner; /* the VM name, for the line prefix */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint32_t len;
	char line[VUART_LINE_MAX];
	uint64_t bytes_out;
};

void vuart_init(struct vuart *u, const char *owner);
bool vuart_claims(uint16_t port);
/* size is 1 for every 16550 register; wider accesses touch consecutive ports. */
uint32_t vuart_read(struct vuart *u, uint16_t port);
void vuart_write(struct vuart *u, uint16_t port, uint8_t val);
/* Emit a partial line (VM going away). */
void vuart_flush(struct vuart *u);

#endif
