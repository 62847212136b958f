/* SPDX-License-Identifier: MIT */
/*
 * The hypercall fuzzer's shared state and checks (hcfuzz.c). Each check
 * compares one call's result with what docs/hypercalls.md says, and every
 * call is also checked for what must not happen: a register other than RAX
 * changed, a write outside the buffer (the last 8 bytes of RAM and page 0 are
 * watched), or a failed call that wrote its buffer.
 */
#ifndef TERN_TESTS_GUESTS_HCFUZZ_H
#define TERN_TESTS_GUESTS_HCFUZZ_H

#include "tests/guests/guest.h"

#define HF_PAGE 4096u
#define MIB     ((uint64_t)1 << 20)

/* Output buffers of failing calls point here; it must read the fill afterwards. */
#define HF_SCRATCH_SIZE (3u * HF_PAGE)
#define HF_FILL         0xa5u
extern uint8_t hf_scratch[HF_SCRATCH_SIZE];
#define HF_SCR(off) ((uint64_t)(uintptr_t)hf_scratch + (off))

/* Guest time, in 100 Hz ticks (tick.h), a wait for another VM may take. */
#define HF_HZ        100u
#define HF_WAIT_TICKS 500u

#define HF_ERR(e) TERN_ERR(TERN_##e)
#define HF_N(a)   (sizeof(a) / sizeof((a)[0]))

struct hf_ctx {
	bool mgmt;                  /* holds management rights */
	uint64_t memsize;           /* RAM is [0, memsize) */
	uint32_t self;              /* own VM id */
	uint32_t nr_cpus;           /* online physical CPUs (HOST_INFO) */
	uint64_t features;          /* TERN_FEAT_* */
	const struct tern_module_dir *dir;
	uint64_t mod_end;           /* end of the last boot module in the window */
	char self_name[TERN_NAME_MAX];
	unsigned int checks, failed;
};
extern struct hf_ctx hf;

/* One call and the result the document wants. */
struct hf_case {
	const char *what;
	uint64_t nr;
	uint64_t a[4];
	int64_t want;
};

/* Any call, with the side checks above; "what" names it in ERROR lines. */
int64_t hf_call(uint64_t nr, const char *what, uint64_t a1, uint64_t a2, uint64_t a3,
		uint64_t a4);
/* A call expected to fail (or succeed) with want; the scratch must survive a failure. */
bool hf_expect(const char *what, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4, int64_t want);
void hf_run(const struct hf_case *cases, size_t n);
#define HF_RUN(cases) hf_run(cases, HF_N(cases))
/* TERN_HC_VM_MEMMAP, for anyone (its own map) and the management guest (any VM's). */
void hf_cases_memmap(void);

/* Counts a check; prints "hcfuzz: ERROR <call> <what>: <message>" when !ok. */
bool hf_assert(bool ok, uint64_t nr, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *hf_call_name(uint64_t nr);
/* One line "hcfuzz: <formatted>", ended as this guest's console wants. */
void hf_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Counts a check of got against want (ERROR line: "got X, want Y"). */
bool hf_check(uint64_t nr, const char *what, int64_t got, int64_t want);

/*
 * The template once for every address an len-byte buffer in argument slot
 * (0-3) must be refused at: outside RAM, wrapping, and (for a buffer Tern
 * writes) the read-only module window. Each must give tmpl->want.
 */
void hf_bad_buffers(const struct hf_case *tmpl, unsigned int slot, uint64_t len, bool written);

/* Whether text occurs in s. */
bool hf_contains(const char *s, const char *text);
/* Sleeps (interrupts on) until n more ticks have passed. */
void hf_sleep(unsigned int n);

/* hcfuzz_cases.c: argument checks call by call, as the management guest. */
void hf_cases_unknown(void);
void hf_cases_host_info(void);
void hf_cases_vm_create(void);
void hf_cases_vm_list_info(void);
void hf_cases_streams(void);
void hf_cases_ids(void);
void hf_cases_bad_id(uint64_t id, const char *what);
bool hf_host_info(struct tern_host_info *hi);

/* hcfuzz_vm.c: VMs made to check calls in each state, and a payload run. */
void hf_vm_checks(void);
bool hf_vm_info(uint32_t id, struct tern_vm_info *vi);
void hf_vc_init(struct tern_vm_create *vc, const char *name, uint64_t mem, uint32_t nr_vcpus);

/* hcfuzz_report.c: the other VMs and the log's refusals, as lines. */
void hf_report_others(void);

/* hcfuzz_random.c: thousands of random calls; every result documented, nothing disturbed. */
void hf_random_phase(void);

/* hcfuzz_user.c: the same calls from CPL 3. */
void hf_user_checks(void);

#endif
