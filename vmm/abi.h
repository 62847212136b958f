/* SPDX-License-Identifier: MIT */
/*
 * Tern's guest-visible ABI: hypercall numbers, argument structures, error
 * codes, and the boot hand-off to the management guest. Shared, unchanged,
 * by the hypervisor, the management guest and every test guest, so it
 * includes nothing but <stdint.h>. The calling convention and each call's
 * errors are written down in docs/hypercalls.md.
 */
#ifndef TERN_ABI_H
#define TERN_ABI_H

#include <stdint.h>

#define TERN_ABI_MAJOR   1u
#define TERN_ABI_MINOR   4u /* 1.1: VM_POPULATE, TERN_CREATE_INCREMENTAL; 1.2: whole-VM state calls, VM_READ, power button; 1.3: memory map; 1.4: 32-bit starts, start selectors, RAX/RBX, TERN_VMF_CRASHED */
#define TERN_ABI_VERSION ((TERN_ABI_MAJOR << 16) | TERN_ABI_MINOR)

/*
 * CPUID leaves 0x40000000 (EAX max leaf, EBX/ECX/EDX "TernTernTern") and
 * 0x40000001 (EAX: ABI version, EBX: TSC frequency in kHz).
 */
#define TERN_CPUID_SIGNATURE 0x6e726554u /* "Tern" */

/*
 * VMCALL with RAX = call number; arguments in RDI, RSI, RDX, RCX; result in
 * RAX (>= 0 success, -TERN_Exxx failure). Every other register is kept.
 * Guest pointers are guest-physical addresses of the caller.
 */
#define TERN_HC_VERSION        0u  /* () -> TERN_ABI_VERSION */
#define TERN_HC_HOST_INFO      1u  /* (info, size) -> bytes written */
#define TERN_HC_VM_CREATE      2u  /* (args) -> VM id */
#define TERN_HC_VM_WRITE       3u  /* (vm, dst gpa in vm, src in caller, len) -> 0 */
#define TERN_HC_VCPU_SET_STATE 4u  /* (vm, vcpu, state) -> 0 */
#define TERN_HC_VM_START       5u  /* (vm) -> 0 */
#define TERN_HC_VM_PAUSE       6u  /* (vm) -> 0 */
#define TERN_HC_VM_RESUME      7u  /* (vm) -> 0 */
#define TERN_HC_VM_STOP        8u  /* (vm) -> 0 */
#define TERN_HC_VM_DESTROY     9u  /* (vm) -> 0 */
#define TERN_HC_VM_LIST        10u /* (ids, max) -> number of VMs (may exceed max) */
#define TERN_HC_VM_INFO        11u /* (vm, info, size) -> bytes written */
#define TERN_HC_VCPU_MOVE      12u /* (vm, vcpu or TERN_ALL_VCPUS, cpu or TERN_CPU_ANY, flags) -> 0 */
#define TERN_HC_CONSOLE_READ   13u /* (stream) -> bytes copied */
#define TERN_HC_CONSOLE_WRITE  14u /* (vm, buf, len) -> bytes taken */
#define TERN_HC_LOG_READ       15u /* (stream) -> bytes copied */
#define TERN_HC_VM_POPULATE    16u /* (vm) -> bytes of its memory still to populate (0: done) */
#define TERN_HC_VCPU_GET_REGS  17u /* (vm, vcpu, buf, size) -> bytes written (a tern_vcpu_regs) */
#define TERN_HC_VCPU_SET_REGS  18u /* (vm, vcpu, buf, size) -> 0 */
#define TERN_HC_VM_READ        19u /* (vm, src gpa in vm, dst in caller, len) -> 0 */
#define TERN_HC_DEV_GET_STATE  20u /* (vm, buf, size) -> bytes written (device records) */
#define TERN_HC_DEV_SET_STATE  21u /* (vm, buf, size) -> 0 */
#define TERN_HC_VM_POWER_BUTTON 22u /* (vm) -> 1: pressed, the guest listens; 0: pressed, it does not */
#define TERN_HC_VM_DIRTY_LOG   23u /* (vm, req) -> ENABLE: the mechanism; FETCH: pages dirty; DISABLE: 0 */
#define TERN_HC_VM_MEMMAP      24u /* (vm or TERN_VM_SELF, regions, size) -> number of regions */
#define TERN_HC_COUNT          25u

/* Errors, returned negated in RAX (values as Linux errno); plain ints, so -TERN_EPERM is -1. */
#define TERN_EPERM   1  /* not the management guest, or not CPL 0; or the target is the management guest */
#define TERN_ENOENT  2  /* no VM (or vCPU) with that id */
#define TERN_E2BIG   7  /* a size beyond what the call ever accepts */
#define TERN_ENOMEM  12 /* not enough free memory (admission control) */
#define TERN_EFAULT  14 /* a buffer is not wholly inside the caller's memory */
#define TERN_EBUSY   16 /* the VM is running or paused: stop it first */
#define TERN_EEXIST  17 /* a VM of that name exists */
#define TERN_EINVAL  22 /* a malformed argument (bad name, flags, CPU, overlapping buffers...) */
#define TERN_ERANGE  34 /* a range outside the target VM's memory */
#define TERN_ENOSYS  38 /* unknown call number */
#define TERN_ESTATE  77 /* the VM is not in a state that allows the call */

/* Limits */
#define TERN_NAME_MAX      32u               /* with the NUL */
#define TERN_MAX_VCPUS     8u
#define TERN_VM_MEM_MIN    (2ull << 20)
#define TERN_VM_MEM_MAX    (1ull << 40)      /* guest RAM; admission control and the guest's physical width limit it first */
#define TERN_IO_MAX        (64u << 10)       /* largest VM_WRITE / stream / console-write length */
#define TERN_EXIT_REASONS  80               /* VMX basic exit reasons counted (SDM vol. 3D app. C) */
#define TERN_STOP_REASON_MAX 192u

#define TERN_ALL_VCPUS 0xffffffffu
#define TERN_CPU_ANY   0xffffffffu
#define TERN_MOVE_PIN  0x1u /* keep the vCPU on that CPU (the balancer leaves it alone) */

/* VM and vCPU states, as TERN_HC_VM_INFO reports them. */
#define TERN_VM_CREATED  0u /* memory and vCPUs exist, nothing runs yet */
#define TERN_VM_RUNNING  1u
#define TERN_VM_PAUSED   2u /* vCPUs kept off every CPU until resumed */
#define TERN_VM_STOPPED  3u /* stopped by the operator or for a fault; see stop_reason */
#define TERN_VM_FINISHED 4u /* every vCPU halted with interrupts off */

#define TERN_VCPU_RUNNABLE  0u
#define TERN_VCPU_BLOCKED   1u /* HLT, waiting for an interrupt */
#define TERN_VCPU_HALTED    2u /* HLT with interrupts off: done */
#define TERN_VCPU_STOPPED   3u
#define TERN_VCPU_WAIT_SIPI 4u /* an AP before INIT-SIPI-SIPI */

/* Host features (tern_host_info.features) */
#define TERN_FEAT_EPT_2M        (1ull << 0)
#define TERN_FEAT_VPID          (1ull << 1)
#define TERN_FEAT_UNRESTRICTED  (1ull << 2) /* real-mode guests */
#define TERN_FEAT_APICV         (1ull << 3) /* APIC-register virtualization */
#define TERN_FEAT_PREEMPT_TIMER (1ull << 4)

/* TERN_HC_HOST_INFO */
struct tern_host_info {
	uint32_t abi_version;
	uint32_t nr_cpus;        /* online physical CPUs */
	uint32_t max_vcpus;      /* per VM */
	uint32_t caller_id;      /* the calling VM's id */
	uint64_t mem_total;      /* bytes of RAM Tern manages */
	uint64_t mem_free;       /* bytes free now */
	uint64_t mem_reserved;   /* bytes of the free memory kept back for the hypervisor */
	uint64_t mem_available;  /* what a VM_CREATE may use now: free - reserved */
	uint64_t tsc_khz;
	uint64_t uptime_us;
	uint64_t features;       /* TERN_FEAT_* */
	uint64_t nr_vms;
};

/* TERN_HC_VM_CREATE */
struct tern_vm_create {
	char name[TERN_NAME_MAX];   /* 1-31 of [A-Za-z0-9._-], NUL-terminated, unique */
	uint64_t mem_size;          /* bytes, a multiple of 4 KiB, TERN_VM_MEM_MIN..TERN_VM_MEM_MAX */
	uint32_t nr_vcpus;          /* 1..TERN_MAX_VCPUS */
	uint32_t flags;             /* TERN_CREATE_* */
	uint32_t cpus[TERN_MAX_VCPUS]; /* vCPU i pinned to CPU cpus[i], or TERN_CPU_ANY */
	uint64_t ram_below_4g;      /* RAM below the hole at most (0: 3 GiB), 1 MiB..3 GiB; the rest is above 4 GiB */
};

/*
 * tern_vm_create.flags: return after a bounded part of the memory (the VM
 * is then TERN_VMF_POPULATING); TERN_HC_VM_POPULATE does the rest, a bounded
 * step per call, so no call keeps a CPU long and the caller can show
 * progress. Until it returns 0, VM_WRITE, VCPU_SET_STATE and VM_START fail
 * with TERN_ESTATE; VM_DESTROY works.
 */
#define TERN_CREATE_INCREMENTAL 0x1u

/* TERN_HC_VCPU_SET_STATE: where a vCPU starts. */
#define TERN_MODE_REAL   0u /* 16-bit real mode at cs:rip (needs TERN_FEAT_UNRESTRICTED) */
#define TERN_MODE_LONG   1u /* 64-bit: CR0.PE|PG, CR4.PAE, EFER.LME|LMA */
#define TERN_MODE_PROT32 2u /* 1.4: 32-bit protected mode, paging off (needs TERN_FEAT_UNRESTRICTED) */
struct tern_vcpu_state {
	uint32_t mode;       /* TERN_MODE_* */
	/*
	 * Real mode: the code segment. Long and 32-bit mode: the code selector
	 * (0: 0x08), flat; DS, ES, SS (and FS, GS in 32-bit mode) get cs + 8,
	 * flat read/write. Both descriptors must lie inside the GDT's limit.
	 */
	uint16_t cs;
	uint16_t gdt_limit;
	uint64_t rip, rsp, rdi, rsi, rdx, rcx;
	uint64_t cr3;        /* long mode: page-table root, inside the VM's memory; else 0 */
	uint64_t gdt_base;
	uint64_t rax, rbx;   /* 1.4 (a Multiboot entry's magic and information pointer) */
};

/*
 * TERN_HC_VCPU_GET_REGS / SET_REGS: a vCPU's whole architectural state,
 * valid on a PAUSED VM whose vCPUs have all left their CPUs (GET/SET return
 * TERN_EBUSY until they have: retry) or a CREATED one (SET only). Version 1:
 * SET takes size = sizeof(struct tern_vcpu_regs) exactly and version =
 * TERN_VCPU_REGS_VERSION, else TERN_EINVAL; GET a buffer at least that big. Layout: little-endian, every
 * field naturally aligned, no implicit padding (static asserts below).
 */
#define TERN_VCPU_REGS_VERSION 2u
#define TERN_XSAVE_MAX  4096u /* standard-format XSAVE area (SDM vol. 1 13.4) */
#define TERN_LAPIC_REGS 64u   /* xAPIC registers at offsets 0x000-0x3f0, one dword each */
struct tern_segment {
	uint64_t base;
	uint32_t limit;
	uint32_t ar;        /* VMX access-rights format (SDM vol. 3C 24.4.1), bit 16 = unusable */
	uint16_t selector;
	uint16_t reserved[3];
};
struct tern_vcpu_regs {
	uint32_t version;   /* TERN_VCPU_REGS_VERSION */
	uint32_t size;      /* sizeof(struct tern_vcpu_regs) */
	uint64_t gpr[16];   /* RAX RCX RDX RBX RSP RBP RSI RDI R8-R15 */
	uint64_t rip, rflags;
	struct tern_segment es, cs, ss, ds, fs, gs, ldtr, tr;
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint64_t cr0, cr2, cr3, cr4, cr8; /* as the guest sees them */
	uint64_t dr[4], dr6, dr7;
	uint64_t efer, pat, sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t star, lstar, cstar, fmask, kernel_gs_base, tsc_aux;
	uint64_t tsc;       /* GET: the guest's TSC when it stopped; SET: the guest TSC continues from it */
	uint64_t xcr0;
	uint32_t interruptibility; /* VMCS guest interruptibility state (SDM vol. 3C 24.4.2) */
	uint32_t pending_event;    /* VM-entry interruption-information format; bit 31 valid */
	uint32_t pending_error;    /* its error code */
	uint32_t run_state;        /* TERN_VCPU_RUNNABLE, _BLOCKED (in HLT), _HALTED, _WAIT_SIPI */
	uint32_t pending_insn_len; /* a pending software interrupt's instruction length */
	uint32_t reserved;         /* 0 */
	uint64_t apic_base;        /* IA32_APIC_BASE */
	uint64_t apic_tsc_deadline;
	uint64_t apic_timer_left;  /* TSC ticks to the timer's next expiry (0: not armed) */
	uint64_t apic_timer_period;
	uint32_t apic_nmi_pending;
	uint32_t xsave_size;       /* bytes of xsave used (CPUID 0xD for the guest's XCR0) */
	uint32_t lapic[TERN_LAPIC_REGS];
	uint8_t xsave[TERN_XSAVE_MAX];
	/* Version 2: emulated MSRs (SDM vol. 4 names; vmm/vmsr.h) */
	uint64_t misc_enable;      /* IA32_MISC_ENABLE */
	uint64_t tsc_adjust;       /* IA32_TSC_ADJUST */
	uint64_t spec_ctrl;        /* IA32_SPEC_CTRL; 0 where the host has none */
	uint64_t mtrr_def_type;    /* IA32_MTRR_DEF_TYPE */
	uint64_t mtrr_var[16];     /* IA32_MTRR_PHYSBASE0, PHYSMASK0, ... PHYSBASE7, PHYSMASK7 */
	uint64_t mtrr_fixed[11];   /* FIX64K_00000, FIX16K_80000, FIX16K_A0000, FIX4K_C0000 ... FIX4K_F8000 */
};

/* TERN_HC_DEV_GET_STATE / SET_STATE: one record per device, back to back, each led by this. */
struct tern_dev_record {
	uint32_t magic;   /* the model's, e.g. "PIT1" */
	uint16_t version;
	uint16_t size;    /* the whole record, this header included */
};
#define TERN_DEV_STATE_MAX 4096u

/*
 * TERN_HC_VM_DIRTY_LOG: which of a VM's 4 KiB pages were written. ENABLE and
 * FETCH need the VM settled (PAUSED, TERN_EBUSY until its vCPUs parked) or
 * CREATED; DISABLE works in every state.
 */
#define TERN_DIRTY_ENABLE  1u /* mech: TERN_DIRTY_BEST, or the best no better than it */
#define TERN_DIRTY_FETCH   2u /* bitmap of [first_page, first_page+npages), then cleared */
#define TERN_DIRTY_DISABLE 3u
#define TERN_DIRTY_BEST    0u
#define TERN_DIRTY_PML     1u /* page-modification logging */
#define TERN_DIRTY_EPT_AD  2u /* EPT dirty flags */
#define TERN_DIRTY_WRPROT  3u /* write-protection faults */
struct tern_dirty_req {
	uint32_t op;         /* TERN_DIRTY_* */
	uint32_t mech;       /* ENABLE */
	uint64_t first_page; /* FETCH */
	uint64_t npages;     /* FETCH: bits wanted; the bitmap is (npages + 63) / 64 words */
	uint64_t bitmap;     /* FETCH: in the caller, bit i = page first_page + i */
};

/*
 * TERN_HC_VM_MEMMAP: a VM's guest-physical memory map, regions in ascending
 * GPA order without overlap; what is in no region is open bus. Any guest may
 * ask for its own (vm = TERN_VM_SELF), as firmware would tell it (e820);
 * the management guest for any VM. Returns how many regions there are,
 * writing as many as size bytes hold.
 */
#define TERN_VM_SELF      0u
#define TERN_MEM_RAM      1u /* read, write, execute */
#define TERN_MEM_ROM      2u /* read-only: the boot modules shown to the management guest */
#define TERN_MEM_MMIO     3u /* a device model (I/O APIC, local APIC): accesses are emulated */
#define TERN_MEM_RESERVED 4u /* not RAM and no device */
#define TERN_MEM_REGIONS_MAX 16u
struct tern_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint32_t type;     /* TERN_MEM_* */
	uint32_t reserved; /* 0 */
};

/* TERN_HC_VM_INFO */
struct tern_vcpu_info {
	uint32_t state;      /* TERN_VCPU_* */
	uint32_t cpu;        /* physical CPU it is queued on (or last ran on); CREATED: its pin or TERN_CPU_ANY */
	uint32_t pinned;
	uint32_t reserved;
	uint64_t run_us;     /* time in guest mode, microseconds */
	uint64_t nr_exits;
	uint64_t nr_moves;
	uint64_t nr_scheduled;
	uint64_t cpus_seen;  /* bit n: has run on CPU n */
};

struct tern_vm_info {
	uint32_t id;
	uint32_t state;      /* TERN_VM_* */
	char name[TERN_NAME_MAX];
	uint64_t mem_size;
	uint32_t nr_vcpus;
	uint32_t flags;      /* TERN_VMF_* */
	uint64_t run_us;     /* all vCPUs */
	uint64_t nr_exits;
	uint64_t created_tsc, started_tsc, first_output_tsc; /* 0: not yet */
	uint64_t console_bytes;  /* written to its virtual UART */
	uint64_t denied_calls;   /* hypercalls refused with TERN_EPERM */
	uint64_t unhandled_io, unhandled_msr;
	char stop_reason[TERN_STOP_REASON_MAX];
	struct tern_vcpu_info vcpus[TERN_MAX_VCPUS];
	uint64_t exits[TERN_EXIT_REASONS]; /* by VMX basic exit reason */
};
#define TERN_VMF_MANAGEMENT 0x1u
#define TERN_VMF_POPULATING 0x2u /* created with TERN_CREATE_INCREMENTAL, memory not all there yet */
#define TERN_VMF_POWERED_OFF 0x4u /* FINISHED: the guest powered off (ACPI S5) */
#define TERN_VMF_RESET      0x8u /* FINISHED: the guest reset its platform (0xCF9, i8042) */
#define TERN_VMF_DIRTY_SHIFT 4   /* bits 5:4: the dirty-log mechanism (TERN_DIRTY_*), 0: off */
#define TERN_VMF_DIRTY_MASK 0x30u
#define TERN_VMF_CRASHED    0x40u /* STOPPED for what the guest did (a fault, a pvpanic report), not by a caller */

/* TERN_HC_CONSOLE_READ and TERN_HC_LOG_READ: read a byte stream from pos on. */
struct tern_stream {
	uint32_t vm;     /* CONSOLE_READ: whose console; LOG_READ: 0 */
	uint32_t size;   /* bytes buf holds, at most TERN_IO_MAX */
	uint64_t buf;    /* must not overlap this structure */
	uint64_t pos;    /* in: first byte wanted (0: oldest kept); out: next byte */
	uint64_t lost;   /* out: bytes between pos and the oldest kept (overwritten) */
};

/*
 * The management guest's boot hand-off: RSI at entry holds the GPA of a
 * tern_module_dir, mapped read-only together with every boot module.
 */
#define TERN_MODULES_GPA   0xc0000000ull
#define TERN_MODULES_MAGIC 0x444f4d54u /* "TMOD" */
#define TERN_MAX_MODULES   16u
struct tern_module {
	char name[48];
	uint64_t gpa;   /* read-only, in the caller's memory map */
	uint64_t size;
};
struct tern_module_dir {
	uint32_t magic;
	uint32_t count;
	struct tern_module mods[TERN_MAX_MODULES];
};

_Static_assert(sizeof(struct tern_host_info) == 80, "tern_host_info");
_Static_assert(sizeof(struct tern_vm_create) == 88, "tern_vm_create");
_Static_assert(sizeof(struct tern_mem_region) == 24, "tern_mem_region");
_Static_assert(sizeof(struct tern_vcpu_state) == 88, "tern_vcpu_state");
_Static_assert(sizeof(struct tern_vcpu_info) == 56, "tern_vcpu_info");
_Static_assert(sizeof(struct tern_stream) == 32, "tern_stream");
_Static_assert(sizeof(struct tern_module) == 64, "tern_module");
_Static_assert(sizeof(struct tern_vm_info) == 1408, "tern_vm_info");
_Static_assert(sizeof(struct tern_segment) == 24, "tern_segment");
_Static_assert(sizeof(struct tern_vcpu_regs) == 5224, "tern_vcpu_regs");
_Static_assert(sizeof(struct tern_dev_record) == 8, "tern_dev_record");
_Static_assert(sizeof(struct tern_dirty_req) == 32, "tern_dirty_req");

#endif
