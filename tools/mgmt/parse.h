/* SPDX-License-Identifier: MIT */
/*
 * Parsing and formatting for the shell's arguments: words, numbers, sizes,
 * CPU lists, VM names and --options. Pure logic, unit-tested on the host.
 */
#ifndef TERN_MGMT_PARSE_H
#define TERN_MGMT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARSE_ERR_MAX 96u

/*
 * Splits line in place at spaces and tabs, taking quotes as sh does ('one
 * word', "one word", \ before a character): the number of words, -1 if more
 * than max, PARSE_OPEN_QUOTE if a quote is not closed.
 */
#define PARSE_OPEN_QUOTE (-2)
int parse_words(char *line, char **argv, int max);

/* A decimal number, or hex with 0x; no sign, no overflow. */
bool parse_u64(const char *s, uint64_t *out);

/* Whether s is one or more decimal digits and nothing else: a VM id, never a name. */
bool parse_is_decimal(const char *s);

/* Bytes: a number followed by K, M or G (either case, then "B" or "iB"); a unit is required. */
bool parse_size(const char *s, uint64_t *out);

/*
 * CPUs "0,1" or ranges "0-3,6", each below limit, into cpus[] in the order
 * given. The count, or -1 with why set (a static message naming the fault).
 */
int parse_cpu_list(const char *s, uint32_t limit, uint32_t *cpus, unsigned int max,
		   const char **why);

/*
 * A VM name: 1-31 of [A-Za-z0-9._-], not starting with '-' (it would read as
 * an option) and not all digits (a number is a VM id), as virsh has it.
 */
bool name_valid(const char *s);
#define NAME_RULE                                                                        \
	"use 1 to 31 letters, digits, '.', '_' or '-', not starting with '-' and not all digits"
/*
 * A valid name made from any string (characters replaced by '_', cut short, a
 * leading '-' made '_', digits alone prefixed with '_'); "vm" if nothing is left.
 */
void name_from(const char *s, char *out, size_t size);

/*
 * Options that each take a value, as "--name VALUE" or "--name=VALUE".
 * opts[] is terminated by a NULL name; value is NULL for an option not given.
 */
struct parse_opt {
	const char *name; /* without the dashes */
	const char *value;
};

/*
 * Fills opts from argv[first..argc) and moves the other words to pos[]; the
 * number of those, or -1 with a message in err (unknown option, no value,
 * given twice, more than maxpos other words).
 */
int parse_opts(int argc, char **argv, int first, struct parse_opt *opts, char **pos,
	       int maxpos, char *err, size_t errlen);

/*
 * Removes the word flag (e.g. "--json") from argv[1..*argc) wherever it stands and
 * returns whether it was there; *argc counts the words left. Twice counts once.
 */
bool parse_take_flag(int *argc, char **argv, const char *flag);

/* The time stamp of a hypervisor log line "[    5.637532] ...", in microseconds. */
bool parse_log_time(const char *line, size_t len, uint64_t *us);

/* "16" for 16 MiB, "4.5" for 4.5 MiB (one decimal, truncated). */
void format_mib(uint64_t bytes, char *buf, size_t size);
/* Bit n set: CPU n. "0,1", "0-3,6", "-" for none. */
void format_cpuset(uint64_t set, char *buf, size_t size);
/* Microseconds as seconds with one decimal: "12.3". */
void format_secs(uint64_t us, char *buf, size_t size);

#endif
