/* SPDX-License-Identifier: MIT */
/* Parser for tern.cfg, the boot configuration file (see bootcfg.h). */
#include "boot/bootcfg.h"

static void put_str(char **p, char *end, const char *s)
{
	while (*s && *p < end - 1)
		*(*p)++ = *s++;
	**p = '\0';
}

static void put_uint(char **p, char *end, unsigned long v)
{
	char tmp[24];
	int i = 0;

	do
		tmp[i++] = (char)('0' + v % 10);
	while ((v /= 10) && i < 23);
	while (i && *p < end - 1)
		*(*p)++ = tmp[--i];
	**p = '\0';
}

/* err = "tern.cfg line N: " what [ 'word' ] rest */
static int fail(char *err, unsigned long errlen, unsigned long line,
		const char *what, const char *word, unsigned long wlen, const char *rest)
{
	char *p = err, *end = err + errlen;

	if (!errlen)
		return -1;
	*p = '\0';
	put_str(&p, end, "tern.cfg line ");
	put_uint(&p, end, line);
	put_str(&p, end, ": ");
	put_str(&p, end, what);
	if (word) {
		put_str(&p, end, " '");
		for (unsigned long i = 0; i < wlen && p < end - 1; i++)
			*p++ = word[i];
		*p = '\0';
		put_str(&p, end, "'");
	}
	put_str(&p, end, rest);
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Next whitespace-delimited word in [*s, end); returns its length, 0 at end. */
static unsigned long next_word(const char **s, const char *end, const char **word)
{
	while (*s < end && is_space(**s))
		(*s)++;
	*word = *s;
	while (*s < end && !is_space(**s))
		(*s)++;
	return (unsigned long)(*s - *word);
}

static int word_is(const char *w, unsigned long len, const char *kw)
{
	unsigned long i = 0;

	for (; i < len && kw[i]; i++)
		if (w[i] != kw[i])
			return 0;
	return i == len && !kw[i];
}

static int copy_word(char *dst, unsigned long cap, const char *w, unsigned long len)
{
	if (len >= cap)
		return -1;
	for (unsigned long i = 0; i < len; i++)
		dst[i] = w[i];
	dst[len] = '\0';
	return 0;
}

static void trim_end(const char *start, const char **end)
{
	while (*end > start && is_space((*end)[-1]))
		(*end)--;
}

static int parse_module(struct bootcfg *cfg, const char *s, const char *end,
			unsigned long line, char *err, unsigned long errlen)
{
	const char *path, *name, *extra;
	unsigned long plen = next_word(&s, end, &path);
	unsigned long nlen = next_word(&s, end, &name);
	struct bootcfg_module *m;

	if (!plen || !nlen)
		return fail(err, errlen, line, "module needs a path and a name", 0, 0,
			    " (module /tern/guest.bin guestname)");
	if (next_word(&s, end, &extra))
		return fail(err, errlen, line, "unexpected word", extra, (unsigned long)(s - extra),
			    " after module path and name");
	if (cfg->nr_modules >= BOOT_MAX_MODULES)
		return fail(err, errlen, line, "too many modules", 0, 0, " (at most 32)");
	m = &cfg->modules[cfg->nr_modules];
	if (copy_word(m->path, sizeof(m->path), path, plen))
		return fail(err, errlen, line, "module path too long:", path, plen, "");
	if (copy_word(m->name, sizeof(m->name), name, nlen))
		return fail(err, errlen, line, "module name too long:", name, nlen, "");
	for (unsigned int i = 0; i < cfg->nr_modules; i++)
		if (word_is(name, nlen, cfg->modules[i].name))
			return fail(err, errlen, line, "duplicate module name", name, nlen, "");
	cfg->nr_modules++;
	return 0;
}

static int parse_line(struct bootcfg *cfg, const char *s, const char *end,
		      unsigned long line, char *err, unsigned long errlen)
{
	const char *kw, *arg, *extra;
	unsigned long klen = next_word(&s, end, &kw), alen;

	if (!klen || kw[0] == '#')
		return 0;
	if (word_is(kw, klen, "module"))
		return parse_module(cfg, s, end, line, err, errlen);
	if (word_is(kw, klen, "cmdline")) {
		while (s < end && is_space(*s))
			s++;
		trim_end(s, &end);
		if (copy_word(cfg->cmdline, sizeof(cfg->cmdline), s, (unsigned long)(end - s)))
			return fail(err, errlen, line, "cmdline too long", 0, 0, " (at most 1023 bytes)");
		return 0;
	}
	if (word_is(kw, klen, "kernel")) {
		alen = next_word(&s, end, &arg);
		if (!alen)
			return fail(err, errlen, line, "kernel needs a path", 0, 0, " (kernel /tern/tern.elf)");
		if (next_word(&s, end, &extra))
			return fail(err, errlen, line, "unexpected word", extra,
				    (unsigned long)(s - extra), " after kernel path");
		if (copy_word(cfg->kernel, sizeof(cfg->kernel), arg, alen))
			return fail(err, errlen, line, "kernel path too long:", arg, alen, "");
		return 0;
	}
	return fail(err, errlen, line, "unknown keyword", kw, klen,
		    " (expected kernel, cmdline or module)");
}

int bootcfg_parse(const char *text, unsigned long len, struct bootcfg *cfg,
		  char *err, unsigned long errlen)
{
	const char *s = text, *end = text + len;
	unsigned long line = 1;

	cfg->kernel[0] = '\0';
	cfg->cmdline[0] = '\0';
	cfg->nr_modules = 0;
	if (errlen)
		err[0] = '\0';
	while (s < end) {
		const char *eol = s;

		while (eol < end && *eol != '\n')
			eol++;
		if (parse_line(cfg, s, eol, line, err, errlen))
			return -1;
		s = eol + 1;
		line++;
	}
	if (!cfg->kernel[0])
		return fail(err, errlen, line - 1, "no kernel line", 0, 0,
			    " (add: kernel /tern/tern.elf)");
	return 0;
}
