/* SPDX-License-Identifier: MIT */
/* Virtual 16550 (TI/NS 16550 register set) printing whole lines to the host log. */
#include "vmm/vuart.h"
#include "kernel/log.h"
#include "kernel/string.h"

#define REG_DATA 0 /* RBR/THR, DLL with DLAB */
#define REG_IER  1 /* DLM with DLAB */
#define REG_IIR  2
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_MSR  6
#define REG_SCR  7
#define LCR_DLAB 0x80
#define IIR_NO_INTERRUPT 0x01
#define LSR_THRE_TEMT 0x60

void vuart_init(struct vuart *u, const char *owner)
{
	memset(u, 0, sizeof(*u));
	u->owner = owner;
	u->dll = 1; /* 115200 baud */
}

bool vuart_claims(uint16_t port)
{
	return port >= VUART_BASE && port < VUART_BASE + VUART_PORTS;
}

void vuart_flush(struct vuart *u)
{
	if (!u->len)
		return;
	pr_info("[%s] %.*s", u->owner, (int)u->len, u->line);
	u->len = 0;
}

static void put(struct vuart *u, char c)
{
	u->bytes_out++;
	if (c == '\n') {
		if (!u->len)
			pr_info("[%s]", u->owner);
		vuart_flush(u);
		return;
	}
	if (c == '\r')
		return;
	/* Keep the host console clean: show control bytes as '.'. */
	u->line[u->len++] = (c < 0x20 || c == 0x7f) && c != '\t' ? '.' : c;
	if (u->len == VUART_LINE_MAX)
		vuart_flush(u);
}

uint32_t vuart_read(struct vuart *u, uint16_t port)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (port - VUART_BASE) {
	case REG_DATA: return dlab ? u->dll : 0;
	case REG_IER:  return dlab ? u->dlm : u->ier;
	case REG_IIR:  return IIR_NO_INTERRUPT;
	case REG_LCR:  return u->lcr;
	case REG_MCR:  return u->mcr;
	case REG_LSR:  return LSR_THRE_TEMT;
	case REG_MSR:  return 0;
	default:       return u->scr;
	}
}

void vuart_write(struct vuart *u, uint16_t port, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (port - VUART_BASE) {
	case REG_DATA:
		if (dlab)
			u->dll = val;
		else
			put(u, (char)val);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & 0x0f;
		break;
	case REG_LCR: u->lcr = val; break;
	case REG_MCR: u->mcr = val & 0x1f; break;
	case REG_SCR: u->scr = val; break;
	default: break; /* FCR, LSR, MSR: nothing to keep */
	}
}
