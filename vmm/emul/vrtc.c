/* SPDX-License-Identifier: MIT */
/* MC146818A RTC and CMOS RAM, timed from guest time (see vrtc.h). */
#include "vmm/emul/vrtc.h"

#include "kernel/errno.h"
#include "kernel/string.h"

#define NS_PER_S   1000000000ull
#define S_PER_DAY  86400u
#define HZ_32K     32768u
#define NEVER_S    UINT64_MAX

struct rtc_tm {
	unsigned int sec, min, hour, dow, day, month, year; /* year in full, dow 1 = Sunday */
};

static uint64_t rtc_now(const struct vrtc *r)
{
	return r->env && r->env->now_ns ? r->env->now_ns(r->env->ctx) : 0;
}

/* --- calendar (proleptic Gregorian, days since 1970-01-01) ------------------ */

static void days_to_date(uint64_t days, struct rtc_tm *tm)
{
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;

	tm->day = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	tm->month = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = (unsigned int)(yoe + era * 400 + (tm->month <= 2));
	tm->dow = (unsigned int)((days + 4) % 7 + 1); /* 1970-01-01 was a Thursday */
}

/* year >= 1970; a day past the month's end rolls into the next month. */
static uint64_t date_to_days(unsigned int year, unsigned int month, unsigned int day)
{
	uint64_t y = year - (month <= 2), era = y / 400, yoe = y - era * 400;
	uint64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;

	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void secs_to_tm(uint64_t s, struct rtc_tm *tm)
{
	unsigned int tod = (unsigned int)(s % S_PER_DAY);

	days_to_date(s / S_PER_DAY, tm);
	tm->hour = tod / 3600;
	tm->min = tod / 60 % 60;
	tm->sec = tod % 60;
}

/* --- register formats ("Time, Calendar and Alarm Data Modes", Table 2) ----- */

static bool rtc_binary(const struct vrtc *r)
{
	return r->ram[VRTC_REG_B] & VRTC_B_DM;
}

static uint8_t enc(const struct vrtc *r, unsigned int v)
{
	return (uint8_t)(rtc_binary(r) ? v : (v / 10) << 4 | v % 10);
}

/* A byte as a number; -1 if it holds a BCD nibble above 9. */
static int dec(const struct vrtc *r, uint8_t v)
{
	if (rtc_binary(r))
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

/* 12-hour mode: 1-12, bit 7 set for PM. */
static uint8_t enc_hour(const struct vrtc *r, unsigned int h)
{
	if (r->ram[VRTC_REG_B] & VRTC_B_24H)
		return enc(r, h);
	return (uint8_t)(enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

/* An hour byte as 0-23; -1 if out of range. */
static int dec_hour(const struct vrtc *r, uint8_t v)
{
	int h;

	if (r->ram[VRTC_REG_B] & VRTC_B_24H) {
		h = dec(r, v);
		return h >= 0 && h < 24 ? h : -1;
	}
	h = dec(r, v & 0x7f);
	if (h < 1 || h > 12)
		return -1;
	return h % 12 + ((v & 0x80) ? 12 : 0);
}

static void render(struct vrtc *r, uint64_t s, uint8_t *ram)
{
	struct rtc_tm tm;

	secs_to_tm(s, &tm);
	ram[VRTC_SEC] = enc(r, tm.sec);
	ram[VRTC_MIN] = enc(r, tm.min);
	ram[VRTC_HOUR] = enc_hour(r, tm.hour);
	ram[VRTC_DOW] = enc(r, tm.dow);
	ram[VRTC_DAY] = enc(r, tm.day);
	ram[VRTC_MONTH] = enc(r, tm.month);
	ram[VRTC_YEAR] = enc(r, tm.year % 100);
	ram[VRTC_CENTURY] = enc(r, tm.year / 100);
}

static unsigned int clamp(int v, unsigned int lo, unsigned int hi)
{
	if (v < (int)lo)
		return lo;
	return (unsigned int)v > hi ? hi : (unsigned int)v;
}

/* Time bytes the guest wrote, as seconds; out-of-range fields are clamped. */
static uint64_t parse(const struct vrtc *r, const uint8_t *ram)
{
	unsigned int year = clamp(dec(r, ram[VRTC_YEAR]), 0, 99);
	unsigned int cent = clamp(dec(r, ram[VRTC_CENTURY]), 0, 99);
	unsigned int month = clamp(dec(r, ram[VRTC_MONTH]), 1, 12);
	unsigned int day = clamp(dec(r, ram[VRTC_DAY]), 1, 31);
	int hour = dec_hour(r, ram[VRTC_HOUR]);

	year += cent >= 19 ? cent * 100 : (year < 70 ? 2000 : 1900);
	if (year < 1970)
		return 0;
	return date_to_days(year, month, day) * S_PER_DAY + clamp(hour, 0, 23) * 3600u +
	       clamp(dec(r, ram[VRTC_MIN]), 0, 59) * 60u + clamp(dec(r, ram[VRTC_SEC]), 0, 59);
}

/* --- time base ("Divider Stages", "Update Cycle") --------------------------- */

static bool dv_reset(const struct vrtc *r)
{
	return (r->ram[VRTC_REG_A] & VRTC_A_DV_MASK) >= 0x60;
}

/* Updates stop while SET is 1 or the divider is held in reset. */
static bool halted(const struct vrtc *r)
{
	return (r->ram[VRTC_REG_B] & VRTC_B_SET) || dv_reset(r);
}

/* Guest ns shifted so that updates fall on whole seconds (never negative). */
static uint64_t rel_ns(const struct vrtc *r, uint64_t now)
{
	return now + NS_PER_S - r->phase_ns;
}

static uint64_t sec_idx(const struct vrtc *r, uint64_t now)
{
	return rel_ns(r, now) / NS_PER_S;
}

/* The first guest ns of second index j. */
static uint64_t idx_ns(const struct vrtc *r, uint64_t j)
{
	return (j - 1) * NS_PER_S + r->phase_ns;
}

static uint64_t time_at_idx(const struct vrtc *r, uint64_t j)
{
	return j < r->base_idx ? r->base_s : r->base_s + (j - r->base_idx);
}

static uint64_t rtc_time(const struct vrtc *r, uint64_t now)
{
	return time_at_idx(r, sec_idx(r, now));
}

/* Periodic rate in 32.768 kHz ticks (Table 4); 0: RS = 0, none. */
static uint32_t period_ticks(const struct vrtc *r)
{
	unsigned int rs = r->ram[VRTC_REG_A] & VRTC_A_RS_MASK;

	if (!rs)
		return 0;
	if (rs <= 2 && (r->ram[VRTC_REG_A] & VRTC_A_DV_MASK) == VRTC_A_DV_32K)
		return 1u << (rs + 6); /* 3.90625 and 7.8125 ms, as RS 8 and 9 */
	return 1u << (rs - 1);
}

static uint64_t ns_to_32k(uint64_t ns)
{
	return ns / NS_PER_S * HZ_32K + ns % NS_PER_S * HZ_32K / NS_PER_S;
}

static uint64_t k32_to_ns(uint64_t t)
{
	return t / HZ_32K * NS_PER_S + (t % HZ_32K * NS_PER_S + HZ_32K - 1) / HZ_32K;
}

/* --- alarm ("Alarm", don't-care codes 11xxxxxx) ----------------------------- */

/* An alarm byte as a value below lim, -1 for don't care, -2 for never matching. */
static int alarm_field(const struct vrtc *r, uint8_t v, bool hour, int lim)
{
	int x;

	if ((v & 0xc0) == 0xc0)
		return -1;
	x = hour ? dec_hour(r, v) : dec(r, v);
	return x >= 0 && x < lim ? x : -2;
}

static bool fits(int want, unsigned int v)
{
	return want < 0 || (unsigned int)want == v;
}

/* The first time after s whose hh:mm:ss matches the alarm, or NEVER_S. */
static uint64_t alarm_next(const struct vrtc *r, uint64_t s)
{
	int as = alarm_field(r, r->ram[VRTC_SEC_ALARM], false, 60);
	int am = alarm_field(r, r->ram[VRTC_MIN_ALARM], false, 60);
	int ah = alarm_field(r, r->ram[VRTC_HOUR_ALARM], true, 24);
	uint64_t tod = s % S_PER_DAY, day0 = s - tod, c;

	if (as == -2 || am == -2 || ah == -2)
		return NEVER_S;
	for (unsigned int h = 0; h < 48; h++) {
		if (!fits(ah, h % 24) || h * 3600u + 3599 <= tod)
			continue;
		for (unsigned int m = 0; m < 60; m++) {
			if (!fits(am, m) || h * 3600u + m * 60 + 59 <= tod)
				continue;
			for (unsigned int sec = 0; sec < 60; sec++) {
				c = h * 3600u + m * 60 + sec;
				if (fits(as, sec) && c > tod)
					return day0 + c;
			}
		}
	}
	return NEVER_S;
}

/* --- interrupts ("Interrupts", register C) --------------------------------- */

static bool irqf(const struct vrtc *r)
{
	uint8_t b = r->ram[VRTC_REG_B];

	return ((r->flags & VRTC_C_PF) && (b & VRTC_B_PIE)) ||
	       ((r->flags & VRTC_C_AF) && (b & VRTC_B_AIE)) ||
	       ((r->flags & VRTC_C_UF) && (b & VRTC_B_UIE));
}

static void update_irq(struct vrtc *r)
{
	bool level = irqf(r);

	if (level == r->irq)
		return;
	r->irq = level;
	if (r->env && r->env->set_irq)
		r->env->set_irq(r->env->ctx, VRTC_IRQ, level);
}

/* Set PF, UF and AF for the events in (eval_ns, now]. */
static void advance(struct vrtc *r, uint64_t now)
{
	uint32_t pt = period_ticks(r);
	uint64_t i0, i1;

	if (now <= r->eval_ns)
		return;
	if (!dv_reset(r) && pt &&
	    ns_to_32k(rel_ns(r, now)) / pt > ns_to_32k(rel_ns(r, r->eval_ns)) / pt)
		r->flags |= VRTC_C_PF;
	i0 = sec_idx(r, r->eval_ns);
	i1 = sec_idx(r, now);
	if (!halted(r) && i1 > i0) {
		r->flags |= VRTC_C_UF;
		if (alarm_next(r, time_at_idx(r, i0)) <= time_at_idx(r, i1))
			r->flags |= VRTC_C_AF;
	}
	r->eval_ns = now;
	update_irq(r);
}

/* --- registers ------------------------------------------------------------- */

static bool is_time_reg(unsigned int i)
{
	return i == VRTC_SEC || i == VRTC_MIN || i == VRTC_HOUR || i == VRTC_DOW ||
	       i == VRTC_DAY || i == VRTC_MONTH || i == VRTC_YEAR || i == VRTC_CENTURY;
}

static bool uip(const struct vrtc *r, uint64_t now)
{
	return !halted(r) && rel_ns(r, now) % NS_PER_S >= NS_PER_S - VRTC_UIP_NS;
}

static uint8_t rtc_read_reg(struct vrtc *r, unsigned int i, uint64_t now)
{
	uint8_t tmp[VRTC_RAM_SIZE], v;

	switch (i) {
	case VRTC_REG_A:
		return (uint8_t)(r->ram[i] | (uip(r, now) ? VRTC_A_UIP : 0));
	case VRTC_REG_C: /* read clears the flags and releases IRQ */
		advance(r, now);
		v = (uint8_t)(r->flags | (irqf(r) ? VRTC_C_IRQF : 0));
		r->flags = 0;
		update_irq(r);
		return v;
	case VRTC_REG_D:
		return VRTC_D_VRT;
	default:
		if (!is_time_reg(i) || halted(r))
			return r->ram[i];
		render(r, rtc_time(r, now), tmp);
		return tmp[i];
	}
}

/* Halted -> running: the bytes in RAM become the time, the next update a second on. */
static void set_halt(struct vrtc *r, bool was, uint64_t now)
{
	bool is = halted(r);

	if (!was && is)
		render(r, rtc_time(r, now), r->ram);
	if (was && !is) {
		r->base_s = parse(r, r->ram);
		r->base_idx = sec_idx(r, now);
	}
}

static void rtc_write_a(struct vrtc *r, uint8_t v, uint64_t now)
{
	bool was = halted(r), was_reset = dv_reset(r);

	r->ram[VRTC_REG_A] = v & (uint8_t)~VRTC_A_UIP;
	/* "Divider Stages": the first update comes 500 ms after reset is released. */
	if (was_reset && !dv_reset(r))
		r->phase_ns = (now + NS_PER_S / 2) % NS_PER_S;
	set_halt(r, was, now);
}

static void rtc_write_b(struct vrtc *r, uint8_t v, uint64_t now)
{
	bool was = halted(r);

	if (v & VRTC_B_SET) /* SET clears UIE */
		v &= (uint8_t)~VRTC_B_UIE;
	r->ram[VRTC_REG_B] = v;
	set_halt(r, was, now);
	update_irq(r);
}

static void rtc_write_time(struct vrtc *r, unsigned int i, uint8_t v, uint64_t now)
{
	if (halted(r)) {
		r->ram[i] = v;
		return;
	}
	/* Running: the byte replaces its field; the update phase is kept. */
	render(r, rtc_time(r, now), r->ram);
	r->ram[i] = v;
	r->base_s = parse(r, r->ram);
	r->base_idx = sec_idx(r, now);
}

static void rtc_write_reg(struct vrtc *r, unsigned int i, uint8_t v, uint64_t now)
{
	advance(r, now);
	if (i == VRTC_REG_A)
		rtc_write_a(r, v, now);
	else if (i == VRTC_REG_B)
		rtc_write_b(r, v, now);
	else if (is_time_reg(i))
		rtc_write_time(r, i, v, now);
	else if (i != VRTC_REG_C && i != VRTC_REG_D)
		r->ram[i] = v;
}

static uint64_t vrtc_read(void *dev, uint64_t addr, unsigned int size)
{
	struct vrtc *r = dev;

	if (addr != VRTC_PORT_DATA)
		return 0xff; /* the index port is write-only on the PC/AT */
	return rtc_read_reg(r, r->index & 0x7f, rtc_now(r));
}

static void vrtc_write(void *dev, uint64_t addr, unsigned int size, uint64_t val)
{
	struct vrtc *r = dev;

	if (addr == VRTC_PORT_INDEX)
		r->index = (uint8_t)val;
	else if (addr == VRTC_PORT_DATA)
		rtc_write_reg(r, r->index & 0x7f, (uint8_t)val, rtc_now(r));
}

/* The RESET pin: clears PIE, AIE, UIE, SQWE and IRQF, PF, AF, UF; time and RAM survive. */
static void vrtc_reset(void *dev)
{
	struct vrtc *r = dev;

	advance(r, rtc_now(r));
	r->ram[VRTC_REG_B] &= (uint8_t)~(VRTC_B_PIE | VRTC_B_AIE | VRTC_B_UIE | VRTC_B_SQWE);
	r->flags = 0;
	update_irq(r);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t next_periodic(const struct vrtc *r, uint64_t now)
{
	uint32_t pt = period_ticks(r);
	uint64_t k;

	if (!pt || dv_reset(r) || !(r->ram[VRTC_REG_B] & VRTC_B_PIE))
		return EMUL_NEVER;
	k = (ns_to_32k(rel_ns(r, now)) / pt + 1) * pt;
	return k32_to_ns(k) + r->phase_ns - NS_PER_S;
}

static uint64_t next_update(const struct vrtc *r, uint64_t now)
{
	uint8_t b = r->ram[VRTC_REG_B];
	uint64_t j = sec_idx(r, now) + 1, next = EMUL_NEVER, s, a;

	if (halted(r))
		return EMUL_NEVER;
	if (b & VRTC_B_UIE)
		next = idx_ns(r, j);
	if (b & VRTC_B_AIE) {
		s = rtc_time(r, now);
		a = alarm_next(r, s);
		if (a != NEVER_S)
			next = min_u64(next, idx_ns(r, sec_idx(r, now) + (a - s)));
	}
	return next;
}

static uint64_t vrtc_poll(void *dev, uint64_t now_ns)
{
	struct vrtc *r = dev;

	advance(r, now_ns);
	return min_u64(next_periodic(r, now_ns), next_update(r, now_ns));
}

/*
 * The VM's guest time stood still for skipped_ns (paused) at guest time now,
 * but the MC146818 keeps time from its own crystal and battery ("Power-Down
 * Considerations"): what the chip did meanwhile is latched as it would have
 * been (at most one PF, UF, AF each: flags, not a count), then the calendar
 * and divider phase are moved so guest time now reads the real time.
 */
void vrtc_skip(struct vrtc *r, uint64_t now, uint64_t skipped_ns)
{
	uint64_t t;

	if (!skipped_ns)
		return;
	advance(r, now + skipped_ns);
	t = rtc_time(r, now + skipped_ns);
	r->phase_ns = (r->phase_ns + NS_PER_S - skipped_ns % NS_PER_S) % NS_PER_S;
	if (!halted(r)) {
		r->base_s = t;
		r->base_idx = sec_idx(r, now);
	}
	r->eval_ns = now;
}

/* The saved record: little-endian (the host and the target are x86). */
struct vrtc_record {
	struct dev_record_hdr hdr;
	uint8_t ram[VRTC_RAM_SIZE];
	uint64_t base_s;
	uint64_t base_idx;
	uint64_t phase_ns;
	uint64_t eval_ns;
	uint8_t index;
	uint8_t flags;
	uint8_t irq;
	uint8_t pad[5];
} __attribute__((packed));

_Static_assert(sizeof(struct vrtc_record) == 176, "vrtc_record layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "record is stored in host order");

#define VRTC_MAGIC   DEV_MAGIC('R', 'T', 'C', '1')
#define VRTC_VERSION 1u

static int vrtc_save(const void *dev, void *buf, size_t cap)
{
	const struct vrtc *r = dev;
	struct vrtc_record rec;

	if (cap < sizeof(rec))
		return -ENOSPC;
	memset(&rec, 0, sizeof(rec));
	rec.hdr.magic = VRTC_MAGIC;
	rec.hdr.version = VRTC_VERSION;
	rec.hdr.size = sizeof(rec);
	memcpy(rec.ram, r->ram, sizeof(rec.ram));
	rec.base_s = r->base_s;
	rec.base_idx = r->base_idx;
	rec.phase_ns = r->phase_ns;
	rec.eval_ns = r->eval_ns;
	rec.index = r->index;
	rec.flags = r->flags;
	rec.irq = r->irq;
	memcpy(buf, &rec, sizeof(rec));
	return (int)sizeof(rec);
}

static int vrtc_restore(void *dev, const void *buf, size_t len)
{
	struct vrtc *r = dev;
	struct vrtc_record rec;
	struct vrtc chk;

	if (len != sizeof(rec))
		return -EINVAL;
	memcpy(&rec, buf, sizeof(rec));
	if (rec.hdr.magic != VRTC_MAGIC || rec.hdr.version != VRTC_VERSION ||
	    rec.hdr.size != sizeof(rec))
		return -EINVAL;
	if ((rec.flags & ~(VRTC_C_PF | VRTC_C_AF | VRTC_C_UF)) || rec.irq > 1 ||
	    rec.phase_ns >= NS_PER_S || (rec.ram[VRTC_REG_A] & VRTC_A_UIP))
		return -EINVAL;
	memcpy(chk.ram, rec.ram, sizeof(chk.ram));
	chk.flags = rec.flags;
	if (irqf(&chk) != (bool)rec.irq) /* the line must agree with C and B */
		return -EINVAL;
	memcpy(r->ram, rec.ram, sizeof(r->ram));
	r->base_s = rec.base_s;
	r->base_idx = rec.base_idx;
	r->phase_ns = rec.phase_ns;
	r->eval_ns = rec.eval_ns;
	r->index = rec.index;
	r->flags = rec.flags;
	r->irq = rec.irq;
	return 0;
}

/* Power-on as the PC firmware leaves it: 32.768 kHz, 1024 Hz rate, BCD, 24 h. */
void vrtc_init(struct vrtc *r, const struct emul_env *env)
{
	memset(r, 0, sizeof(*r));
	r->env = env;
	r->ram[VRTC_REG_A] = VRTC_A_DV_32K | 6;
	r->ram[VRTC_REG_B] = VRTC_B_24H;
	r->base_s = env ? env->epoch_s : 0;
	r->base_idx = sec_idx(r, 0);
	r->eval_ns = rtc_now(r);
}

bool vrtc_nmi_masked(const struct vrtc *r)
{
	return r->index & VRTC_NMI_MASK;
}

const struct dev_ops vrtc_ops = {
	.name = "mc146818",
	.read = vrtc_read,
	.write = vrtc_write,
	.reset = vrtc_reset,
	.poll = vrtc_poll,
	.save = vrtc_save,
	.restore = vrtc_restore,
};
