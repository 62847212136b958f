/* SPDX-License-Identifier: MIT */
/*
 * Tab completion for the shell's line editor: verbs first, then what the
 * verb's usage line (cmds.c) says may stand there: its options, a VM, an
 * image, a verb, a state, or the lowercase words of an "a|b|c" argument. The
 * usage line is the only place the arguments are described, so help and
 * completion cannot disagree.
 */
#include "tools/mgmt/mgmt.h"

#include "kernel/string.h"
#include "tools/mgmt/defs.h"
#include "tools/mgmt/lineedit.h"
#include "tools/mgmt/parse.h"

#define TOKEN_MAX  48u
#define TOKENS_MAX 24u
#define WORDS_MAX  16

/* A usage word after the verb, brackets taken off. */
struct utok {
	char s[TOKEN_MAX];
	bool opened, closed; /* it began with '[' / ended with ']' */
	bool option;
	char ph[TOKEN_MAX];  /* an option's value placeholder; "" for a flag */
};

static struct utok raw[TOKENS_MAX], toks[TOKENS_MAX];
static char words_buf[LE_LINE_MAX];

/* Splits usage (after its verb) into toks; the count. "[--name N]" is --name taking N. */
static unsigned int usage_tokens(const char *usage)
{
	unsigned int nraw = 0, n = 0;
	const char *p = strchr(usage, ' ');

	while (p && nraw < TOKENS_MAX) {
		struct utok *t = &raw[nraw];
		size_t len = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		t->opened = *p == '[';
		t->closed = false;
		for (; *p && *p != ' '; p++) {
			if (*p == ']')
				t->closed = true;
			else if (*p != '[' && len + 1 < TOKEN_MAX)
				t->s[len++] = *p;
		}
		t->s[len] = '\0';
		t->option = t->s[0] == '-';
		t->ph[0] = '\0';
		nraw++;
	}
	for (unsigned int i = 0; i < nraw; i++) {
		toks[n] = raw[i];
		if (raw[i].option && !raw[i].closed && i + 1 < nraw && !raw[i + 1].option &&
		    !raw[i + 1].opened) {
			memcpy(toks[n].ph, raw[i + 1].s, TOKEN_MAX); /* its value */
			i++;
		}
		n++;
	}
	return n;
}

static bool given(int argc, char **argv, const char *opt)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], opt))
			return true;
	return false;
}

/* The options of the usage line not on the line yet. */
static void offer_options(struct le *le, unsigned int n, int argc, char **argv)
{
	for (unsigned int i = 0; i < n; i++)
		if (toks[i].option && !given(argc, argv, toks[i].s))
			le_offer(le, toks[i].s);
}

static void offer_vms(struct le *le)
{
	uint32_t ids[MGMT_MAX_VMS];
	static struct tern_vm_info info;
	int64_t n = hc_vm_list(ids, MGMT_MAX_VMS);

	for (int64_t i = 0; i < n && i < (int64_t)MGMT_MAX_VMS; i++)
		if (hc_vm_info(ids[i], &info) >= 0) {
			info.name[TERN_NAME_MAX - 1] = '\0';
			le_offer(le, info.name);
		}
	for (unsigned int i = 0; i < DEFS_MAX; i++) { /* defined VMs, shut off or not */
		const struct vm_def *d = defs_slot(i);

		if (d && d->used)
			le_offer(le, d->name);
	}
}

static void offer_images(struct le *le)
{
	for (uint32_t i = 0; mgmt.mods && i < mgmt.mods->count && i < TERN_MAX_MODULES; i++) {
		const struct tern_module *m = &mgmt.mods->mods[i];
		char name[sizeof(m->name)];

		memcpy(name, m->name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		if (!module_is_mgmt(m) && strcmp(name, DEF_MODULE))
			le_offer(le, name);
	}
}

static void offer_verbs(struct le *le)
{
	const struct verb *v;

	for (unsigned int i = 0; (v = verb_at(i)); i++)
		le_offer(le, v->name);
}

/* The lowercase words of "CPU|any" or "error|warn|info". */
static void offer_choices(struct le *le, const char *ph)
{
	char w[TOKEN_MAX];

	while (*ph) {
		size_t n = 0;
		bool lower = true;

		for (; *ph && *ph != '|'; ph++) {
			if (*ph >= 'A' && *ph <= 'Z')
				lower = false;
			if (n + 1 < sizeof(w))
				w[n++] = *ph;
		}
		w[n] = '\0';
		if (lower && n)
			le_offer(le, w);
		if (*ph)
			ph++;
	}
}

static void offer_for(struct le *le, const char *ph)
{
	static const char *const states[] = { "created", "running", "paused", "crashed",
					      "finished", "shut-off" };

	if (!strcmp(ph, "VM"))
		offer_vms(le);
	else if (!strcmp(ph, "IMAGE"))
		offer_images(le);
	else if (!strcmp(ph, "VERB"))
		offer_verbs(le);
	else if (!strcmp(ph, "STATE"))
		for (size_t i = 0; i < ARRAY_SIZE(states); i++)
			le_offer(le, states[i]);
	else if (strchr(ph, '|'))
		offer_choices(le, ph);
}

static const struct utok *find_option(unsigned int n, const char *word)
{
	for (unsigned int i = 0; i < n; i++)
		if (toks[i].option && !strcmp(toks[i].s, word))
			return &toks[i];
	return NULL;
}

void shell_complete(void *ctx, struct le *le, const char *line, unsigned int start,
		    const char *word)
{
	char *argv[WORDS_MAX];
	const struct verb *v;
	const char *value_of = NULL;
	unsigned int n, positional = 0, k = 0;
	int argc;

	memcpy(words_buf, line, start);
	words_buf[start] = '\0';
	argc = parse_words(words_buf, argv, WORDS_MAX);
	if (argc < 0)
		return;
	if (argc == 0) {
		offer_verbs(le);
		return;
	}
	v = verb_find(argv[0]);
	if (!v)
		return;
	n = usage_tokens(v->usage);
	if (word[0] == '-') {
		offer_options(le, n, argc, argv);
		return;
	}
	/* Past the words typed: an option's value, or the next positional argument. */
	for (int i = 1; i < argc; i++) {
		const struct utok *o = argv[i][0] == '-' ? find_option(n, argv[i]) : NULL;

		if (o && o->ph[0]) {
			if (i + 1 == argc)
				value_of = o->ph; /* the word at the cursor is its value */
			i++;
		} else if (argv[i][0] != '-') {
			positional++;
		}
	}
	if (value_of) {
		offer_for(le, value_of);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (toks[i].option)
			continue;
		if (k++ == positional) {
			offer_for(le, toks[i].s);
			break;
		}
	}
	if (!le->cand_count) /* no argument fits here (or none is left): the options */
		offer_options(le, n, argc, argv);
}
