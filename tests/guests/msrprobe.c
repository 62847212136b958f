/* SPDX-License-Identifier: MIT */
/* Unknown MSRs must raise #GP in the guest; IA32_TSC must read without one. */
#include "tests/guests/guest.h"

#define MSRPROBE_WR_MSR 0x12345678u
#define MSRPROBE_RD_MSR 0x9abcdef0u

/* wrmsr is 0f 30, rdmsr is 0f 32 (SDM Vol. 2B): both two bytes long. */
#define OPCODE_0F    0x0fu
#define OPCODE_WRMSR 0x30u
#define OPCODE_RDMSR 0x32u
#define MSR_INSN_LEN 2u

const char guest_name[] = "msrprobe";

static volatile unsigned int gp_count;

/* Skips a faulting wrmsr/rdmsr; any other exception is unexpected. */
static bool msrprobe_trap(struct guest_trap_frame *f)
{
	const uint8_t *insn = (const uint8_t *)f->rip;

	if (f->vector != X86_VEC_GP || insn[0] != OPCODE_0F ||
	    (insn[1] != OPCODE_WRMSR && insn[1] != OPCODE_RDMSR))
		return false;
	gp_count++;
	f->rip += MSR_INSN_LEN;
	return true;
}

static const char *outcome(unsigned int before)
{
	return gp_count != before ? "raised #GP" : "did NOT raise #GP";
}

void guest_main(uint64_t memsize, uint64_t vcpu, uint64_t vm_id, uint64_t nr_vcpus)
{
	unsigned int before;

	guest_log("start");
	guest_trap_install(msrprobe_trap);

	before = gp_count;
	wrmsr(MSRPROBE_WR_MSR, 0);
	guest_log("wrmsr 0x%x %s", MSRPROBE_WR_MSR, outcome(before));

	before = gp_count;
	(void)rdmsr(MSRPROBE_RD_MSR);
	guest_log("rdmsr 0x%x %s", MSRPROBE_RD_MSR, outcome(before));

	before = gp_count;
	(void)rdmsr(MSR_IA32_TSC);
	if (gp_count == before)
		guest_log("rdmsr IA32_TSC ok");
	else
		guest_log("ERROR rdmsr IA32_TSC raised #GP");

	guest_done();
}
