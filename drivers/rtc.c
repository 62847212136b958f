/* SPDX-License-Identifier: MIT */
/* Host CMOS clock (MC146818A datasheet; the PC's CMOS layout), read once. */
#include <stdbool.h>
#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "arch/x86.h"
#include "kernel/log.h"
#include "kernel/string.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define REG_A_UIP  0x80u
#define REG_B_24H  0x02u
#define REG_B_BIN  0x04u
#define HOUR_PM    0x80u

static uint64_t boot_epoch, boot_tsc;

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_INDEX, reg); /* bit 7 clear: NMIs stay enabled */
	return inb(CMOS_DATA);
}

static unsigned int from_bcd(uint8_t v, bool bin)
{
	return bin ? v : (v >> 4) * 10u + (v & 0xfu);
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t rtc_days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct rtc_time {
	uint8_t sec, min, hour, day, mon, year, cent;
};

static void read_raw(struct rtc_time *t)
{
	/* The time registers are stable outside the update cycle (datasheet: UIP). */
	for (int i = 0; i < 100000 && (cmos(0x0a) & REG_A_UIP); i++)
		__asm__ volatile("pause");
	*t = (struct rtc_time){ cmos(0), cmos(2), cmos(4), cmos(7), cmos(8), cmos(9), cmos(0x32) };
}

void rtc_init(void)
{
	struct rtc_time a, b;
	uint8_t regb = cmos(0x0b);
	bool bin = regb & REG_B_BIN;
	unsigned int hour, year, cent;
	int tries = 0;

	do { /* twice alike: no update in between */
		read_raw(&a);
		read_raw(&b);
	} while (memcmp(&a, &b, sizeof(a)) && ++tries < 5);
	hour = from_bcd(a.hour & 0x7f, bin);
	if (!(regb & REG_B_24H))
		hour = hour % 12 + (a.hour & HOUR_PM ? 12 : 0);
	cent = from_bcd(a.cent, bin);
	year = (cent >= 19 && cent <= 99 ? cent : 20) * 100 + from_bcd(a.year, bin);
	boot_tsc = rdtsc();
	if (from_bcd(a.mon, bin) < 1 || from_bcd(a.mon, bin) > 12 || from_bcd(a.day, bin) < 1) {
		pr_warn("rtc: the host clock reads no valid date; VMs' clocks start at 1970-01-01");
		return;
	}
	boot_epoch = (uint64_t)rtc_days_from_civil(year, from_bcd(a.mon, bin), from_bcd(a.day, bin)) *
			     86400 + hour * 3600u + from_bcd(a.min, bin) * 60u + from_bcd(a.sec, bin);
	pr_info("rtc: host clock %04u-%02u-%02u %02u:%02u:%02u", year, from_bcd(a.mon, bin),
		from_bcd(a.day, bin), hour, from_bcd(a.min, bin), from_bcd(a.sec, bin));
}

uint64_t rtc_epoch_at(uint64_t tsc)
{
	uint64_t khz = tsc_khz ? tsc_khz : 1;

	return boot_epoch + (tsc > boot_tsc ? (tsc - boot_tsc) / khz / 1000 : 0);
}
