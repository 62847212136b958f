/* SPDX-License-Identifier: MIT */
/*
 * Echoes its console input: prints "echo: ready", then, for each line it
 * receives (ended by '\r' or '\n'), "echo: <line>". Polls the virtual UART's
 * LSR.DR on a 100 Hz timer tick and sleeps in HLT in between, forever.
 * Control bytes are shown as '.'; empty lines are not echoed; a line longer
 * than ECHO_LINE_MAX is echoed in pieces.
 */
#include "tests/guests/tick.h"

#define ECHO_HZ       100u
#define ECHO_LINE_MAX 120u

const char guest_name[] = "echo";

static char line[ECHO_LINE_MAX + 1];
static unsigned int len;

static void echo_line(void)
{
	if (!len)
		return;
	line[len] = '\0';
	guest_log("%s", line);
	len = 0;
}

static void echo_byte(uint8_t c)
{
	if (c == '\r' || c == '\n') {
		echo_line();
		return;
	}
	line[len++] = c < 0x20 || c >= 0x7f ? '.' : (char)c;
	if (len == ECHO_LINE_MAX)
		echo_line();
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	uint64_t seen = 0;

	tick_start(ECHO_HZ);
	guest_log("ready");
	for (;;) {
		seen = tick_wait(seen);
		while (uart_rx_ready())
			echo_byte(uart_rx());
	}
}
