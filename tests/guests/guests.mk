# SPDX-License-Identifier: MIT
# Test guests Tern runs inside VMs (ABI: tests/guests/guest.h). Included by the
# top-level Makefile, which builds $(GUEST_IMAGES) as part of `all`.

GUEST_SRC := tests/guests
GUEST_OUT := $(BUILD)/guests
GUEST_OBJ := $(GUEST_OUT)/obj

# Long-mode C guests (start.asm + NAME.c + libguest.a, plus any
# GUEST_EXTRA_OBJS_NAME), nasm-only ELF guests, and real-mode flat binaries.
GUESTS_C    := hello cpuid bench memtest msrprobe bad_wild bad_ioport bad_msr \
	counter spinner apictimer apictimer_xapic smp smppit echo ticker hcfuzz fpuiso flood \
	cpuabuse cr8hog timerhog timerhog_1k timerhog_hlt platform resetcf9 resetkbc acpibtn pitticker dirtytest uartirq \
	counter_long evstorm evreinj evbadstack evbadstack_ioapic pausetime
GUESTS_ASM  := bad_triple
GUESTS_REAL := realmode pmode

GUEST_IMAGES := $(patsubst %,$(GUEST_OUT)/%.elf,$(GUESTS_C) $(GUESTS_ASM)) \
	$(patsubst %,$(GUEST_OUT)/%.bin,$(GUESTS_REAL))

GUEST_WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wundef -Wvla -Wwrite-strings -Wno-unused-parameter \
	-Wimplicit-fallthrough
# Small code model at 1 MiB (not the kernel's -mcmodel=kernel); no SSE, as
# CR4.OSFXSR is clear; no unwind tables or CET notes in the images.
GUEST_CFLAGS := -std=gnu11 -O2 -g $(GUEST_WARN) -ffreestanding -fno-builtin -nostdlib \
	-nostdinc -isystem $(shell $(CC) -print-file-name=include) -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -static -fno-common \
	-fno-strict-aliasing -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fcf-protection=none -ffunction-sections -fdata-sections -I.
GUEST_NASMFLAGS := -f elf64 -g -F dwarf -I./
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments --build-id=none --gc-sections -T $(GUEST_SRC)/guest.ld

# The guest library: console, exceptions, timer tick, and the kernel's formatter.
GUEST_LIB := $(GUEST_OUT)/libguest.a
GUEST_LIB_OBJS := $(GUEST_OBJ)/lib.o $(GUEST_OBJ)/trap.o $(GUEST_OBJ)/trap_entry.o \
	$(GUEST_OBJ)/tick.o $(GUEST_OBJ)/kernel/fmt.o $(GUEST_OBJ)/kernel/string.o

$(GUEST_OBJ)/%.o: $(GUEST_SRC)/%.c
	@mkdir -p $(dir $@)
	$(call SAY,GUEST   $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OBJ)/%.o: $(GUEST_SRC)/%.asm
	@mkdir -p $(dir $@)
	$(call SAY,GUEST   $@)
	$(Q)$(NASM) $(GUEST_NASMFLAGS) -MD $(@:.o=.d) $< -o $@

# Guests built from another guest's source with a define:
# $(call guest_variant,NAME,SOURCE,DEFINES) makes NAME.o from SOURCE.c.
define guest_variant
$(GUEST_OBJ)/$(1).o: $(GUEST_SRC)/$(2).c
	@mkdir -p $$(dir $$@)
	$$(call SAY,GUEST   $$@)
	$$(Q)$$(CC) $$(GUEST_CFLAGS) $(3) -MMD -MP -c $$< -o $$@
endef

# apictimer (x2APIC) and apictimer_xapic (xAPIC).
$(eval $(call guest_variant,apictimer_xapic,apictimer,-DUSE_XAPIC))
# Three timer hogs: timerhog (masked, count 1), timerhog_1k, timerhog_hlt.
$(eval $(call guest_variant,timerhog_1k,timerhog,-DTIMERHOG_1K))
$(eval $(call guest_variant,timerhog_hlt,timerhog,-DTIMERHOG_HLT))
# counter_long: the counter reporting up to TSC instant 75 (30 s at 50 MHz) instead of 40.
$(eval $(call guest_variant,counter_long,counter,-DCOUNTER_LAST_K=75ull))
# Five platform guests: platform (every device, then S5), resetcf9, resetkbc,
# acpibtn (S5 on the ACPI power button), pitticker (PIT ticks, forever).
$(eval $(call guest_variant,resetcf9,platform,-DPLATFORM_RESET_CF9))
$(eval $(call guest_variant,resetkbc,platform,-DPLATFORM_RESET_KBC))
$(eval $(call guest_variant,acpibtn,platform,-DPLATFORM_POWER_BUTTON))
$(eval $(call guest_variant,pitticker,platform,-DPLATFORM_PIT_TICKER))

# The dirty-logging test's real-mode payload.
GUEST_EXTRA_OBJS_dirtytest := $(GUEST_OBJ)/dirtytest_payload.o
$(GUEST_OUT)/dirtytest.elf: $(GUEST_EXTRA_OBJS_dirtytest)

# The smp guest's AP start-up code; smppit is smp routing the PIT to AP 1, the BSP halted.
GUEST_EXTRA_OBJS_smp := $(GUEST_OBJ)/smp_ap.o
$(GUEST_OUT)/smp.elf: $(GUEST_EXTRA_OBJS_smp)
GUEST_EXTRA_OBJS_smppit := $(GUEST_OBJ)/smp_ap.o
$(GUEST_OUT)/smppit.elf: $(GUEST_EXTRA_OBJS_smppit)
$(eval $(call guest_variant,smppit,smp,-DSMP_PIT_ON_AP))

# The event-injection guests (issue 14): evstorm starts its AP like smp;
# evbadstack_ioapic is evbadstack with its stack in the I/O APIC page.
GUEST_EXTRA_OBJS_evstorm := $(GUEST_OBJ)/smp_ap.o
$(GUEST_OUT)/evstorm.elf: $(GUEST_EXTRA_OBJS_evstorm)
$(eval $(call guest_variant,evbadstack_ioapic,evbadstack,-DEVBAD_IOAPIC))

# The register-isolation guest's fill and read-back routines.
GUEST_EXTRA_OBJS_fpuiso := $(GUEST_OBJ)/fpuiso_asm.o
$(GUEST_OUT)/fpuiso.elf: $(GUEST_EXTRA_OBJS_fpuiso)

# The hypercall fuzzer: checks by call, VM life cycles, report, CPL 3, and its asm.
GUEST_EXTRA_OBJS_hcfuzz := $(GUEST_OBJ)/hcfuzz_cases.o $(GUEST_OBJ)/hcfuzz_vm.o \
	$(GUEST_OBJ)/hcfuzz_report.o $(GUEST_OBJ)/hcfuzz_user.o $(GUEST_OBJ)/hcfuzz_asm.o \
	$(GUEST_OBJ)/hcfuzz_random.o
$(GUEST_OUT)/hcfuzz.elf: $(GUEST_EXTRA_OBJS_hcfuzz)

$(GUEST_OBJ)/kernel/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	$(call SAY,GUEST   $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_LIB): $(GUEST_LIB_OBJS)
	$(call SAY,GUEST   $@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# The library is an archive so each guest links only what it uses.
$(patsubst %,$(GUEST_OUT)/%.elf,$(GUESTS_C)): $(GUEST_OUT)/%.elf: \
		$(GUEST_OBJ)/start.o $(GUEST_OBJ)/%.o $(GUEST_LIB) $(GUEST_SRC)/guest.ld
	$(call SAY,GUEST   $@)
	$(Q)$(LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJ)/start.o $(GUEST_OBJ)/$*.o \
		$(GUEST_EXTRA_OBJS_$*) $(GUEST_LIB)

$(patsubst %,$(GUEST_OUT)/%.elf,$(GUESTS_ASM)): $(GUEST_OUT)/%.elf: \
		$(GUEST_OBJ)/%.o $(GUEST_SRC)/guest.ld
	$(call SAY,GUEST   $@)
	$(Q)$(LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJ)/$*.o

$(GUEST_OUT)/%.bin: $(GUEST_SRC)/%.asm
	@mkdir -p $(dir $@)
	$(call SAY,GUEST   $@)
	$(Q)$(NASM) -f bin -I./ -MD $(@:.bin=.d) -MT $@ $< -o $@

.PHONY: guests
guests: $(GUEST_IMAGES)

# The Multiboot v1 test kernel (issue 13), 32-bit: mb1test.elf is an ELF32 the
# loader places by its program headers; mb1aout.bin is the same kernel flat,
# placed by its header's a.out-kludge addresses (flags bit 16).
MB1_CFLAGS := $(GUEST_CFLAGS) -m32 -march=i686
MB1_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments --build-id=none -T $(GUEST_SRC)/mb1test.ld
GUEST_IMAGES += $(GUEST_OUT)/mb1test.elf $(GUEST_OUT)/mb1aout.bin

$(GUEST_OBJ)/mb1test.o: $(GUEST_SRC)/mb1test.c
	@mkdir -p $(dir $@)
	$(call SAY,GUEST   $@)
	$(Q)$(CC) $(MB1_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OBJ)/mb1test_entry.o $(GUEST_OBJ)/mb1aout_entry.o: $(GUEST_OBJ)/%_entry.o: \
		$(GUEST_SRC)/mb1test_entry.asm
	@mkdir -p $(dir $@)
	$(call SAY,GUEST   $@)
	$(Q)$(NASM) -f elf32 $(if $(filter mb1aout,$*),-DAOUT_KLUDGE) -MD $(@:.o=.d) -MT $@ $< -o $@

$(GUEST_OUT)/mb1test.elf $(GUEST_OUT)/mb1aout.elf: $(GUEST_OUT)/%.elf: $(GUEST_OBJ)/%_entry.o \
		$(GUEST_OBJ)/mb1test.o $(GUEST_SRC)/mb1test.ld
	$(call SAY,GUEST   $@)
	$(Q)$(LD) $(MB1_LDFLAGS) -o $@ $(GUEST_OBJ)/$*_entry.o $(GUEST_OBJ)/mb1test.o

$(GUEST_OUT)/mb1aout.bin: $(GUEST_OUT)/mb1aout.elf
	$(call SAY,OBJCOPY $@)
	$(Q)$(OBJCOPY) -O binary $< $@
