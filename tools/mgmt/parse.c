/* SPDX-License-Identifier: MIT */
/* Parsing and formatting for the shell's arguments (see parse.h): pure logic. */
#include "tools/mgmt/parse.h"

#include "kernel/fmt.h"
#include "kernel/string.h"

#define NAME_MAX_LEN 31u /* TERN_NAME_MAX less the NUL */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One word from p, unquoted in place into out (out <= p) as sh does it
 * (POSIX XCU 2.2): '...' keeps everything, "..." and bare words take \ before
 * the next character. The end of the word's source, or NULL on an open quote.
 */
static char *take_word(char *p, char *out)
{
	char quote = 0;

	for (; *p && (quote || !is_space(*p)); p++) {
		if (quote == '\'' ? *p == '\'' : quote == '"' ? *p == '"' : false) {
			quote = 0;
		} else if (!quote && (*p == '\'' || *p == '"')) {
			quote = *p;
		} else if (*p == '\\' && quote != '\'' && p[1] &&
			   (!quote || p[1] == '"' || p[1] == '\\')) {
			*out++ = *++p;
		} else {
			*out++ = *p;
		}
	}
	if (quote)
		return NULL;
	if (*p)
		p++; /* the space after the word: overwritten by its NUL below at most */
	*out = '\0';
	return p;
}

int parse_words(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;

	for (;;) {
		while (is_space(*p))
			*p++ = '\0';
		if (!*p)
			return argc;
		if (argc == max)
			return -1;
		argv[argc++] = p;
		p = take_word(p, p);
		if (!p)
			return PARSE_OPEN_QUOTE;
	}
}

static int digit_value(char c, unsigned int base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v >= 0 && (unsigned int)v < base ? v : -1;
}

/* Digits from *s on; stops at the first non-digit, which *end points to. */
static bool parse_digits(const char *s, const char **end, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	const char *p = s;
	int d;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2], 16) >= 0) {
		base = 16;
		p += 2;
	}
	if (digit_value(*p, base) < 0)
		return false;
	for (; (d = digit_value(*p, base)) >= 0; p++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	*end = p;
	*out = v;
	return true;
}

bool parse_u64(const char *s, uint64_t *out)
{
	const char *end;

	return parse_digits(s, &end, out) && !*end;
}

static unsigned int size_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	default: return 0;
	}
}

bool parse_size(const char *s, uint64_t *out)
{
	const char *end;
	unsigned int shift;
	uint64_t v;

	if (!parse_digits(s, &end, &v))
		return false;
	shift = size_shift(*end);
	if (!shift)
		return false; /* no unit, or not K, M or G: a bare number is not taken as bytes */
	end++;
	if (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b"))
		end += strlen(end);
	if (*end || v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static int cpu_item(const char *p, const char **end, uint32_t limit, uint64_t *v,
		    const char **why)
{
	if (!parse_digits(p, end, v) || (**end && **end != ',' && **end != '-')) {
		*why = "a CPU list is numbers separated by commas, with ranges like 0-3";
		return -1;
	}
	if (*v >= limit) {
		*why = "no such CPU";
		return -1;
	}
	return 0;
}

int parse_cpu_list(const char *s, uint32_t limit, uint32_t *cpus, unsigned int max,
		   const char **why)
{
	unsigned int n = 0;
	const char *p = s;
	uint64_t lo, hi;

	for (;;) {
		if (cpu_item(p, &p, limit, &lo, why))
			return -1;
		hi = lo;
		if (*p == '-' && cpu_item(p + 1, &p, limit, &hi, why))
			return -1;
		if (hi < lo || *p == '-') {
			*why = "a CPU range goes from low to high, like 0-3";
			return -1;
		}
		for (uint64_t c = lo; c <= hi; c++) {
			if (n == max) {
				*why = "too many CPUs in the list";
				return -1;
			}
			cpus[n++] = (uint32_t)c;
		}
		if (!*p)
			return (int)n;
		p++; /* the comma */
	}
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool parse_is_decimal(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool name_valid(const char *s)
{
	size_t n = strnlen(s, NAME_MAX_LEN + 1);

	if (n == 0 || n > NAME_MAX_LEN || s[0] == '-' || parse_is_decimal(s))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

void name_from(const char *s, char *out, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	for (; n < NAME_MAX_LEN && n + 1 < size && s[n]; n++)
		out[n] = name_char(s[n]) ? s[n] : '_';
	out[n] = '\0';
	if (!n) {
		fmt_snprintf(out, size, "vm");
		return;
	}
	if (out[0] == '-')
		out[0] = '_';
	if (parse_is_decimal(out) && size > 1) {
		/* Digits alone would read as an id: "5" becomes "_5". */
		if (n + 2 > size || n == NAME_MAX_LEN)
			n--;
		memmove(out + 1, out, n);
		out[0] = '_';
		out[n + 1] = '\0';
	}
}

static struct parse_opt *find_opt(struct parse_opt *opts, const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

int parse_opts(int argc, char **argv, int first, struct parse_opt *opts, char **pos,
	       int maxpos, char *err, size_t errlen)
{
	int npos = 0;

	for (int i = first; i < argc; i++) {
		const char *a = argv[i], *eq;
		struct parse_opt *o;

		if (a[0] == '-' && a[1] && a[1] != '-') {
			fmt_snprintf(err, errlen, "unknown option '%s' (options are --NAME)", a);
			return -1;
		}
		if (a[0] != '-' || !a[1] || !a[2]) {
			if (npos == maxpos) {
				fmt_snprintf(err, errlen, "too many arguments ('%s')", a);
				return -1;
			}
			pos[npos++] = argv[i];
			continue;
		}
		eq = strchr(a, '=');
		o = find_opt(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (!o) {
			fmt_snprintf(err, errlen, "unknown option '%.*s'",
				     eq ? (int)(eq - a) : (int)strlen(a), a);
			return -1;
		}
		if (o->value) {
			fmt_snprintf(err, errlen, "option '--%s' given twice", o->name);
			return -1;
		}
		if (!eq && i + 1 == argc) {
			fmt_snprintf(err, errlen, "option '--%s' needs a value", o->name);
			return -1;
		}
		o->value = eq ? eq + 1 : argv[++i];
		if (!o->value[0]) {
			fmt_snprintf(err, errlen, "option '--%s' needs a value", o->name);
			return -1;
		}
	}
	return npos;
}

bool parse_take_flag(int *argc, char **argv, const char *flag)
{
	bool found = false;
	int k = 0;

	for (int i = 0; i < *argc; i++) {
		if (i && !strcmp(argv[i], flag))
			found = true;
		else
			argv[k++] = argv[i];
	}
	*argc = k;
	return found;
}

bool parse_log_time(const char *line, size_t len, uint64_t *us)
{
	uint64_t secs = 0, frac = 0;
	size_t i = 1;
	unsigned int digits = 0;

	if (!len || line[0] != '[')
		return false;
	while (i < len && line[i] == ' ')
		i++;
	if (i == len || line[i] < '0' || line[i] > '9')
		return false;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (secs > UINT64_MAX / 10000000)
			return false;
		secs = secs * 10 + (uint64_t)(line[i] - '0');
	}
	if (i == len || line[i++] != '.')
		return false;
	for (; i < len && line[i] >= '0' && line[i] <= '9' && digits < 6; i++, digits++)
		frac = frac * 10 + (uint64_t)(line[i] - '0');
	if (digits != 6 || i == len || line[i] != ']')
		return false;
	*us = secs * 1000000 + frac;
	return true;
}

void format_mib(uint64_t bytes, char *buf, size_t size)
{
	uint64_t tenths = (bytes % (1ull << 20)) * 10 / (1ull << 20);

	if (bytes % (1ull << 20))
		fmt_snprintf(buf, size, "%llu.%llu", (unsigned long long)(bytes >> 20),
			     (unsigned long long)tenths);
	else
		fmt_snprintf(buf, size, "%llu", (unsigned long long)(bytes >> 20));
}

void format_cpuset(uint64_t set, char *buf, size_t size)
{
	size_t len = 0;

	if (!size)
		return;
	fmt_snprintf(buf, size, "-");
	for (unsigned int c = 0; c < 64 && set >> c; c++) {
		unsigned int e = c;
		const char *sep = len ? "," : "";

		if (!(set >> c & 1))
			continue;
		while (e + 1 < 64 && (set >> (e + 1) & 1))
			e++;
		if (e == c)
			len += (size_t)fmt_snprintf(buf + len, size - len, "%s%u", sep, c);
		else if (e == c + 1)
			len += (size_t)fmt_snprintf(buf + len, size - len, "%s%u,%u", sep, c, e);
		else
			len += (size_t)fmt_snprintf(buf + len, size - len, "%s%u-%u", sep, c, e);
		if (len >= size)
			return;
		c = e;
	}
}

void format_secs(uint64_t us, char *buf, size_t size)
{
	fmt_snprintf(buf, size, "%llu.%llu", (unsigned long long)(us / 1000000),
		     (unsigned long long)(us % 1000000 / 100000));
}
