# SPDX-License-Identifier: MIT
# Tern: one Makefile. `make` builds into build/; see README for run/test.

BUILD   ?= build
CPUS    ?= 2
MEM     ?= 512
EMU     ?= auto
MODEL   ?= corei7_skylake_x
BOOT    ?= uefi
PYTHON  := /usr/bin/python3
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
SAY     = $(if $(filter 1,$(V)),@true,@echo '  $(1)')

CC      := gcc
LD      := ld
NASM    := nasm
OBJCOPY := objcopy

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wundef -Wvla -Wwrite-strings -Wno-unused-parameter \
	-Wimplicit-fallthrough

# --- the hypervisor kernel (ELF64, higher half) --------------------------------
KCFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-builtin -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-fno-pic -fno-pie -mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse -mno-sse2 \
	-mno-avx -mgeneral-regs-only -fno-stack-protector -fno-omit-frame-pointer \
	-fno-common -fno-strict-aliasing -ffunction-sections -I. -I$(BUILD)/gen $(KEXTRA)
# KEXTRA=-DTERN_STAMPS: the exit-path breakdown `make bench` builds in $(BUILD)/stamps (vmm/stamps.h).
KEXTRA ?=
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments -T arch/kernel.ld
NASMFLAGS := -f elf64 -g -F dwarf -I$(BUILD)/gen/ -Iarch/

KDIRS := arch kernel drivers vmm vmm/emul init boot/multiboot2
KSRCS_C := $(filter-out arch/asm_offsets.c,$(foreach d,$(KDIRS),$(wildcard $(d)/*.c)))
KSRCS_S := $(foreach d,$(KDIRS),$(wildcard $(d)/*.asm))
KOBJS := $(patsubst %.c,$(BUILD)/k/%.o,$(KSRCS_C)) $(patsubst %.asm,$(BUILD)/k/%.o,$(KSRCS_S))
KERNEL := $(BUILD)/tern.elf
ASM_OFFSETS := $(BUILD)/gen/asm_offsets.inc

# --- the UEFI loader (GNU-EFI) ------------------------------------------------
EFI_INC := /usr/include/efi
EFI_CFLAGS := -std=gnu11 -O2 $(WARN) -Wno-undef -Wno-strict-prototypes -Wno-missing-prototypes \
	-Wno-pointer-sign -I$(EFI_INC) -I$(EFI_INC)/x86_64 -I. -fpic -ffreestanding \
	-fno-stack-protector -fshort-wchar -mno-red-zone -maccumulate-outgoing-args \
	-DGNU_EFI_USE_MS_ABI
EFI_SRCS := $(wildcard boot/efi/*.c) boot/bootcfg.c
EFI_OBJS := $(patsubst %.c,$(BUILD)/efi/%.o,$(EFI_SRCS))
LOADER := $(BUILD)/BOOTX64.EFI

# --- boot media ----------------------------------------------------------------
ESP := $(BUILD)/esp.img
ISO := $(BUILD)/tern.iso
BOOTCFG := $(BUILD)/tern.cfg
CMDLINE ?=
MODULES :=
# What build/esp.img, tern.iso and tern-usb.img boot on their own (a USB
# stick on a real machine): the management shell with a few guest images.
IMAGE_CMDLINE ?= mgmt=mgmt
IMAGE_MODULES ?= $(BUILD)/mgmt.elf:mgmt $(foreach g,hello ticker echo counter spinner,$(BUILD)/guests/$(g).elf)
IMAGE_MODULE_FILES := $(foreach m,$(IMAGE_MODULES),$(firstword $(subst :, ,$(m))))

.PHONY: all deps run test unit integration bench usb lint clean help linux
all: $(KERNEL) $(LOADER) $(ESP) $(ISO) $(BUILD)/tern-usb.img

help:
	@echo "make            build kernel, UEFI loader and ESP image into $(BUILD)/"
	@echo "make run        boot Tern with the serial console on this terminal"
	@echo "                (CPUS=$(CPUS) MEM=$(MEM) EMU=auto|bochs|qemu MODEL=$(MODEL) CMDLINE='...')"
	@echo "                the management shell unless MGMT=0"
	@echo "make test       unit tests, then emulator integration tests"
	@echo "make unit       host unit tests only"
	@echo "make usb        GPT disk image for a USB stick ($(BUILD)/tern-usb.img)"
	@echo "make bench      measured figures (boot time; Bochs TSC path lengths)"
	@echo "make lint       cppcheck over the sources"

deps:
	@tools/deps.sh

$(BUILD)/k/%.o: %.c | $(ASM_OFFSETS)
	@mkdir -p $(dir $@)
	$(call SAY,CC      $<)
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/k/%.o: %.asm $(ASM_OFFSETS)
	@mkdir -p $(dir $@)
	$(call SAY,NASM    $<)
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

# nasm cannot read C headers: offsets are generated from asm_offsets.c.
$(ASM_OFFSETS): arch/asm_offsets.c
	@mkdir -p $(dir $@) $(BUILD)/k/arch
	$(call SAY,GEN     $@)
	$(Q)$(CC) $(KCFLAGS) -S -MMD -MP -MT $@ -MF $(BUILD)/k/arch/asm_offsets.d $< -o $(BUILD)/gen/asm_offsets.s
	$(Q)sed -n 's/^[[:space:]]*\.ascii[[:space:]]*"->\([A-Za-z0-9_]*\) [$$]\{0,1\}\(-\{0,1\}[0-9]*\).*/%define \1 \2/p' \
		$(BUILD)/gen/asm_offsets.s > $@.tmp
	$(Q)mv $@.tmp $@

$(KERNEL): $(KOBJS) arch/kernel.ld
	$(call SAY,LD      $@)
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KOBJS)

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	$(call SAY,CC[efi] $<)
	$(Q)$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/loader.so: $(EFI_OBJS)
	$(call SAY,LD      $@)
	$(Q)$(LD) -shared -Bsymbolic -nostdlib -znocombreloc -T /usr/lib/elf_x86_64_efi.lds \
		/usr/lib/crt0-efi-x86_64.o $(EFI_OBJS) -o $@ -L/usr/lib -lefi -lgnuefi

$(LOADER): $(BUILD)/loader.so
	$(call SAY,OBJCOPY $@)
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
		-j .rela -j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 \
		--subsystem=10 $< $@

$(BOOTCFG): tools/mkbootcfg.sh FORCE
	@mkdir -p $(BUILD)
	@tools/mkbootcfg.sh "$(IMAGE_CMDLINE)" $(IMAGE_MODULES) > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(ESP): $(KERNEL) $(LOADER) $(BOOTCFG) $(IMAGE_MODULE_FILES) tools/mkesp.sh
	$(call SAY,ESP     $@)
	$(Q)tools/mkesp.sh $@ $(LOADER) $(KERNEL) $(BOOTCFG) $(IMAGE_MODULES)

# $(BOOTCFG) changes whenever IMAGE_CMDLINE or IMAGE_MODULES do.
$(ISO): $(KERNEL) $(BOOTCFG) $(IMAGE_MODULE_FILES) tools/mkiso.sh
	$(call SAY,ISO     $@)
	$(Q)tools/mkiso.sh $@ $(KERNEL) "$(IMAGE_CMDLINE)" $(IMAGE_MODULES)

usb: $(BUILD)/tern-usb.img
$(BUILD)/tern-usb.img: $(ESP) tools/mkusb.sh
	tools/mkusb.sh $@ $(ESP)

FORCE:

# --- running -------------------------------------------------------------------
# MGMT=1: the console is the management shell (tools/run.py adds mgmt=mgmt,
# build/mgmt.elf and, without MODULES, a few test guests); MGMT=0 boots
# exactly CMDLINE and MODULES.
MGMT ?= 1
# CONSOLE=pty: the console on this terminal and on a pty for tools/ternctl (run.py prints it).
CONSOLE ?=
run: deps all
	TERN_BUILD=$(abspath $(BUILD)) $(PYTHON) tools/run.py --emu $(EMU) --cpus $(CPUS) --mem $(MEM) --model $(MODEL) \
		--boot $(BOOT) --cmdline "$(CMDLINE)" $(foreach m,$(MODULES),--module $(m)) \
		$(if $(filter 0,$(MGMT)),--no-mgmt) $(if $(filter pty,$(CONSOLE)),--console-pty)

# --- tests ---------------------------------------------------------------------
HOST_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Wno-missing-prototypes -I. -DTERN_HOST_TEST \
	-fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_TESTS := fmt cmdline memmap pmm acpi bootcfg ept vmx_ctls placement vmcs_check \
	mgmt_parse mgmt_lineedit mgmt_json imgplan mgmt_defs mgmt_kload extent xstate \
	bus walk insn vpic vioapic vpit vrtc v16550 dirty vpm vpci vkbc vpvpanic cpuid gmap vmsr mgmt_acpi \
	vm_lazy mgmt_migstream mgmt_xport
unit_srcs_mgmt_acpi := tools/mgmt/acpitab.c drivers/acpi.c kernel/fmt.c
unit_srcs_cpuid := vmm/cpuid.c
unit_srcs_vmsr := vmm/vmsr.c
unit_srcs_gmap := vmm/gmap.c
unit_srcs_extent := vmm/extent.c
unit_srcs_vm_lazy := vmm/vm_lazy.c vmm/extent.c vmm/gmap.c arch/ept.c
unit_srcs_bus := vmm/emul/bus.c
unit_srcs_walk := vmm/emul/walk.c
unit_srcs_insn := vmm/emul/insn.c
unit_srcs_vpit := vmm/emul/vpit.c
unit_srcs_vrtc := vmm/emul/vrtc.c
unit_srcs_vpic := vmm/emul/vpic.c
unit_srcs_vioapic := vmm/emul/vioapic.c
unit_srcs_v16550 := vmm/emul/v16550.c
unit_srcs_vpm := vmm/emul/vpm.c
unit_srcs_vpci := vmm/emul/vpci.c
unit_srcs_vkbc := vmm/emul/vkbc.c
unit_srcs_vpvpanic := vmm/emul/vpvpanic.c
unit_srcs_xstate :=
unit_srcs_mgmt_parse := tools/mgmt/parse.c kernel/fmt.c
unit_srcs_mgmt_lineedit := tools/mgmt/lineedit.c
unit_srcs_mgmt_json := tools/mgmt/json.c
unit_srcs_mgmt_migstream := tools/mgmt/migstream.c tools/mgmt/crc32.c
unit_srcs_mgmt_xport := tools/mgmt/xport.c tools/mgmt/crc32.c
unit_srcs_imgplan := vmm/imgplan.c
unit_srcs_mgmt_kload := tools/mgmt/kload.c kernel/fmt.c
unit_srcs_mgmt_defs := tools/mgmt/defs.c tools/mgmt/parse.c kernel/fmt.c
unit_srcs_bootcfg := boot/bootcfg.c
unit_srcs_vmcs_check := vmm/vmcs_check.c kernel/fmt.c
unit_srcs_fmt := kernel/fmt.c
unit_srcs_cmdline := kernel/cmdline.c kernel/fmt.c
unit_srcs_memmap := kernel/memmap.c
unit_srcs_pmm := kernel/pmm.c kernel/memmap.c
unit_srcs_acpi := drivers/acpi.c kernel/fmt.c
unit_srcs_ept := arch/ept.c
unit_srcs_dirty := vmm/dirty.c
unit_srcs_vmx_ctls := arch/vmx_ctls.c
unit_srcs_placement := vmm/placement.c
UNIT_BINS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))
LINUX_FILES := $(BUILD)/linux/vmlinuz $(BUILD)/linux/vmlinux $(BUILD)/linux/initramfs.cpio.gz
# The kload test plans Debian's own kernel too: fetched first (or TERN_LINUX_DIR names it).
$(BUILD)/unit/test_mgmt_kload: HOST_CFLAGS += -DKLOAD_LINUX_DIR='"$(abspath $(BUILD))/linux"'

.SECONDEXPANSION:
$(BUILD)/unit/test_%: tests/unit/test_%.c $$(unit_srcs_$$*) $$(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(call SAY,CC[host] $@)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $< $(unit_srcs_$*) -lcmocka

# The ACPI tables of tools/mgmt/acpitab.c checked by acpica-tools (iasl -d,
# an iasl round trip, acpiexec): tests/unit/acpidump_main.c.
$(BUILD)/unit/acpidump: tests/unit/acpidump_main.c tools/mgmt/acpitab.c tools/mgmt/acpitab.h
	@mkdir -p $(dir $@)
	$(call SAY,CC[host] $@)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ tests/unit/acpidump_main.c tools/mgmt/acpitab.c

$(BUILD)/unit/acpi-iasl.ok: $(BUILD)/unit/acpidump
	rm -rf $(BUILD)/unit/acpi-iasl
	$< $(BUILD)/unit/acpi-iasl
	touch $@

unit: $(UNIT_BINS) $(BUILD)/unit/acpi-iasl.ok $(LINUX_FILES)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; \
	if [ $$fail -ne 0 ]; then echo "unit tests FAILED"; exit 1; fi

integration: all
	TERN_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -v tests/integration $(PYTEST_ARGS)

test: deps
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) integration

bench: deps all $(LINUX_FILES)
	$(PYTHON) tools/bench.py

# Debian's kernel and a busybox initramfs for the Linux guests, cached in $(BUILD)/linux.
linux: $(LINUX_FILES)
$(LINUX_FILES) &: tools/fetch-linux.sh
	tools/fetch-linux.sh $(BUILD)/linux
# The same kernel booted bare by GRUB, for the bare-Bochs side of the Linux boot figure.
$(BUILD)/linux/bare.iso: $(LINUX_FILES) tools/linux-iso.sh
	tools/linux-iso.sh $@ $(BUILD)/linux

lint:
	tools/layers.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -I. $(KDIRS) tools/mgmt

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Test guests (tests/guests/guests.mk defines GUEST_IMAGES).
-include tests/guests/guests.mk
all: $(GUEST_IMAGES)

# The management guest (tools/mgmt/mgmt.mk defines MGMT_ELF; it uses the guest build).
include tools/mgmt/mgmt.mk
all: $(MGMT_ELF)
