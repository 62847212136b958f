/* SPDX-License-Identifier: MIT */
/* 16550-compatible UART, port I/O or MMIO (the console). */
#ifndef TERN_DRIVERS_UART_H
#define TERN_DRIVERS_UART_H

#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT 0x3f8u
#define UART_DEFAULT_BAUD 115200u
#define UART_CLOCK 115200u /* divisor base: 1.8432 MHz / 16 */

struct uart {
	bool present;
	bool mmio;
	uint64_t base;    /* I/O port or physical MMIO address */
	uint8_t reg_shift; /* MMIO register stride = 1 << reg_shift */
	uint32_t baud;
};

/* Program 8N1 at baud (0: leave the firmware's divisor). -ENODEV when absent. */
int uart_init(struct uart *u, bool mmio, uint64_t base, uint8_t reg_shift, uint32_t baud);
void uart_putc(const struct uart *u, char c);
/* Bytes the transmitter takes now without waiting: the FIFO (16) when empty, else 0. */
uint32_t uart_tx_room(const struct uart *u);
/* One byte as is; wait: for room (bounded), else the caller checked uart_tx_room. */
void uart_tx_byte(const struct uart *u, char c, bool wait);
/* Writes n bytes, turning "\n" into "\r\n". */
void uart_write(const struct uart *u, const char *s, unsigned long n);
/* -1 when nothing is waiting. Logs receive overruns (LSR OE), at most once a second. */
int uart_getc(const struct uart *u);
/* As uart_getc without logging (interrupt handlers); overruns are only counted. */
int uart_rx_byte(const struct uart *u);
/* Logs the overruns counted since the last report (at most once a second). */
void uart_report_overruns(void);
/*
 * Receive interrupts on or off: FIFO trigger level 1 and IER "received data
 * available". The handler must read until uart_rx_byte() is -1, which also
 * ends a character-timeout interrupt.
 */
void uart_rx_irq_enable(const struct uart *u, bool on);
/* Wait until the transmitter is empty (before power-off). */
void uart_drain(const struct uart *u);

#endif
