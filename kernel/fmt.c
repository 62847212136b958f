/* SPDX-License-Identifier: MIT */
/* Freestanding vsnprintf: the kernel's only formatter, so it never writes past the buffer. */
#include "kernel/fmt.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/string.h"

enum {
	FMT_LEFT = 1u << 0,  /* '-' */
	FMT_ZERO = 1u << 1,  /* '0' */
	FMT_SPACE = 1u << 2, /* ' ' */
	FMT_PLUS = 1u << 3,  /* '+' */
	FMT_ALT = 1u << 4,   /* '#': accepted because -Wformat allows it */
};

enum fmt_length {
	FMT_LEN_INT = 0,
	FMT_LEN_CHAR,    /* hh */
	FMT_LEN_SHORT,   /* h */
	FMT_LEN_LONG,    /* l */
	FMT_LEN_LLONG,   /* ll */
	FMT_LEN_SIZE,    /* z */
	FMT_LEN_MAX,     /* j */
	FMT_LEN_PTRDIFF, /* t */
};

/*
 * Width and precision saturate here: no console line is longer, and it keeps
 * a format like "%99999999999d" from overflowing int.
 */
#define FMT_FIELD_MAX 4096

/* Room for the longest conversion: 64 bits in octal is 22 digits. */
#define FMT_DIGITS_MAX 24

/* 16 hex digits show every bit of a 64-bit address, so columns line up. */
#define FMT_POINTER_DIGITS 16

struct fmt_spec {
	unsigned int flags;
	int width;
	int prec; /* -1: not given */
	enum fmt_length length;
};

struct fmt_out {
	char *buf;
	size_t size;
	size_t len; /* length the full output would have had */
};

/* Counts every character but stores only those that leave room for the NUL. */
static void out_char(struct fmt_out *out, char c)
{
	if (out->len + 1 < out->size)
		out->buf[out->len] = c;
	out->len++;
}

static void out_repeat(struct fmt_out *out, char c, int count)
{
	while (count-- > 0)
		out_char(out, c);
}

static void out_mem(struct fmt_out *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_char(out, s[i]);
}

static const char *parse_flags(const char *p, unsigned int *flags)
{
	for (;; p++) {
		switch (*p) {
		case '-': *flags |= FMT_LEFT; break;
		case '0': *flags |= FMT_ZERO; break;
		case ' ': *flags |= FMT_SPACE; break;
		case '+': *flags |= FMT_PLUS; break;
		case '#': *flags |= FMT_ALT; break;
		default: return p;
		}
	}
}

static const char *parse_digits(const char *p, int *value)
{
	int v = 0;

	for (; *p >= '0' && *p <= '9'; p++)
		if (v < FMT_FIELD_MAX)
			v = v * 10 + (*p - '0');
	*value = v < FMT_FIELD_MAX ? v : FMT_FIELD_MAX;
	return p;
}

/* A negative '*' width means left-justify, as in C. */
static const char *parse_width(const char *p, struct fmt_spec *spec, va_list *ap)
{
	int w;

	if (*p != '*')
		return parse_digits(p, &spec->width);
	w = va_arg(*ap, int);
	if (w < 0) {
		spec->flags |= FMT_LEFT;
		w = w < -FMT_FIELD_MAX ? FMT_FIELD_MAX : -w;
	}
	spec->width = w < FMT_FIELD_MAX ? w : FMT_FIELD_MAX;
	return p + 1;
}

/* A negative '*' precision counts as none given, as in C. */
static const char *parse_prec(const char *p, struct fmt_spec *spec, va_list *ap)
{
	int prec;

	if (*p != '.')
		return p;
	p++;
	if (*p != '*')
		return parse_digits(p, &spec->prec);
	prec = va_arg(*ap, int);
	spec->prec = prec < 0 ? -1 : (prec < FMT_FIELD_MAX ? prec : FMT_FIELD_MAX);
	return p + 1;
}

static const char *parse_length(const char *p, enum fmt_length *length)
{
	switch (*p) {
	case 'h':
		*length = p[1] == 'h' ? FMT_LEN_CHAR : FMT_LEN_SHORT;
		return p[1] == 'h' ? p + 2 : p + 1;
	case 'l':
		*length = p[1] == 'l' ? FMT_LEN_LLONG : FMT_LEN_LONG;
		return p[1] == 'l' ? p + 2 : p + 1;
	case 'z': *length = FMT_LEN_SIZE; return p + 1;
	case 'j': *length = FMT_LEN_MAX; return p + 1;
	case 't': *length = FMT_LEN_PTRDIFF; return p + 1;
	default: *length = FMT_LEN_INT; return p;
	}
}

/* hh and h values travel promoted to int and are narrowed back here. */
static intmax_t arg_signed(va_list *ap, enum fmt_length length)
{
	switch (length) {
	case FMT_LEN_CHAR: return (signed char)va_arg(*ap, int);
	case FMT_LEN_SHORT: return (short)va_arg(*ap, int);
	case FMT_LEN_LONG: return va_arg(*ap, long);
	case FMT_LEN_LLONG: return va_arg(*ap, long long);
	case FMT_LEN_SIZE: return va_arg(*ap, ptrdiff_t); /* signed size_t */
	case FMT_LEN_MAX: return va_arg(*ap, intmax_t);
	case FMT_LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

static uintmax_t arg_unsigned(va_list *ap, enum fmt_length length)
{
	switch (length) {
	case FMT_LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned int);
	case FMT_LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned int);
	case FMT_LEN_LONG: return va_arg(*ap, unsigned long);
	case FMT_LEN_LLONG: return va_arg(*ap, unsigned long long);
	case FMT_LEN_SIZE: return va_arg(*ap, size_t);
	case FMT_LEN_MAX: return va_arg(*ap, uintmax_t);
	case FMT_LEN_PTRDIFF: return va_arg(*ap, size_t); /* unsigned ptrdiff_t */
	default: return va_arg(*ap, unsigned int);
	}
}

/*
 * Layout: [spaces][sign][prefix][zeros][digits][spaces]. The '0' flag turns
 * the leading spaces into zeros only when no precision is given, as in C.
 */
static void emit_number(struct fmt_out *out, const struct fmt_spec *spec, uintmax_t v,
			unsigned int base, bool upper, char sign, const char *prefix)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[FMT_DIGITS_MAX];
	int ndigits = 0, prec = spec->prec < 0 ? 1 : spec->prec;
	int zeros, body, pad;

	for (; v; v /= base)
		digits[ndigits++] = set[v % base];
	zeros = prec > ndigits ? prec - ndigits : 0;
	/* '#' octal: the first digit must be a 0. */
	if ((spec->flags & FMT_ALT) && base == 8 && zeros == 0)
		zeros = 1;
	body = (sign ? 1 : 0) + (int)strlen(prefix) + zeros + ndigits;
	pad = spec->width > body ? spec->width - body : 0;
	if ((spec->flags & (FMT_ZERO | FMT_LEFT)) == FMT_ZERO && spec->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!(spec->flags & FMT_LEFT))
		out_repeat(out, ' ', pad);
	if (sign)
		out_char(out, sign);
	out_mem(out, prefix, strlen(prefix));
	out_repeat(out, '0', zeros);
	while (ndigits > 0)
		out_char(out, digits[--ndigits]);
	if (spec->flags & FMT_LEFT)
		out_repeat(out, ' ', pad);
}

static void emit_signed(struct fmt_out *out, const struct fmt_spec *spec, va_list *ap)
{
	intmax_t v = arg_signed(ap, spec->length);
	/* Negate in unsigned arithmetic: -INTMAX_MIN does not exist. */
	uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
	char sign = 0;

	if (v < 0)
		sign = '-';
	else if (spec->flags & FMT_PLUS)
		sign = '+';
	else if (spec->flags & FMT_SPACE)
		sign = ' ';
	emit_number(out, spec, mag, 10, false, sign, "");
}

static void emit_unsigned(struct fmt_out *out, const struct fmt_spec *spec, char conv,
			  va_list *ap)
{
	uintmax_t v = arg_unsigned(ap, spec->length);
	unsigned int base = conv == 'o' ? 8 : conv == 'u' ? 10 : 16;
	const char *prefix = "";

	if ((spec->flags & FMT_ALT) && base == 16 && v)
		prefix = conv == 'X' ? "0X" : "0x";
	emit_number(out, spec, v, base, conv == 'X', 0, prefix);
}

static void emit_pointer(struct fmt_out *out, const struct fmt_spec *spec, va_list *ap)
{
	struct fmt_spec p = *spec;

	p.prec = FMT_POINTER_DIGITS;
	emit_number(out, &p, (uintptr_t)va_arg(*ap, void *), 16, false, 0, "0x");
}

static void emit_padded(struct fmt_out *out, const struct fmt_spec *spec, const char *s,
			size_t n)
{
	int pad = spec->width > (int)n ? spec->width - (int)n : 0;

	if (!(spec->flags & FMT_LEFT))
		out_repeat(out, ' ', pad);
	out_mem(out, s, n);
	if (spec->flags & FMT_LEFT)
		out_repeat(out, ' ', pad);
}

static void emit_string(struct fmt_out *out, const struct fmt_spec *spec, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);

	if (!s)
		s = "(null)";
	/* strnlen: a precision lets the caller print an unterminated buffer. */
	emit_padded(out, spec, s, spec->prec < 0 ? strlen(s) : strnlen(s, (size_t)spec->prec));
}

/* Returns false for an unknown conversion so the caller can show it as is. */
static bool emit_conversion(struct fmt_out *out, const struct fmt_spec *spec, char conv,
			    va_list *ap)
{
	char c;

	switch (conv) {
	case 'd':
	case 'i':
		emit_signed(out, spec, ap);
		return true;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		emit_unsigned(out, spec, conv, ap);
		return true;
	case 'p':
		emit_pointer(out, spec, ap);
		return true;
	case 's':
		emit_string(out, spec, ap);
		return true;
	case 'c':
		c = (char)va_arg(*ap, int);
		emit_padded(out, spec, &c, 1);
		return true;
	case '%':
		out_char(out, '%');
		return true;
	default:
		return false;
	}
}

/* Formats the conversion starting at the '%' at fmt; returns where text resumes. */
static const char *format_one(struct fmt_out *out, const char *fmt, va_list *ap)
{
	struct fmt_spec spec = { .prec = -1 };
	const char *p = fmt + 1;

	p = parse_flags(p, &spec.flags);
	p = parse_width(p, &spec, ap);
	p = parse_prec(p, &spec, ap);
	p = parse_length(p, &spec.length);
	if (*p && emit_conversion(out, &spec, *p, ap))
		return p + 1;
	/* Unknown or truncated: print it verbatim rather than guess at arguments. */
	if (*p)
		p++;
	out_mem(out, fmt, (size_t)(p - fmt));
	return p;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out out = { .buf = buf, .size = size, .len = 0 };
	va_list args;

	/* A va_list parameter may be an array type; a local copy has a usable address. */
	va_copy(args, ap);
	while (*fmt) {
		if (*fmt == '%')
			fmt = format_one(&out, fmt, &args);
		else
			out_char(&out, *fmt++);
	}
	va_end(args);
	if (size > 0)
		buf[out.len < size ? out.len : size - 1] = '\0';
	return out.len > (size_t)__INT_MAX__ ? __INT_MAX__ : (int)out.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
