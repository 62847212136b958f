# SPDX-License-Identifier: MIT
# The management guest (build/mgmt.elf): the serial-console shell Tern starts
# with mgmt=. Built like the C test guests (tests/guests/guests.mk, included
# before this file): their start.asm, guest.ld and libguest.a.

MGMT_SRC  := tools/mgmt
MGMT_OBJ  := $(BUILD)/mgmt
MGMT_ELF  := $(BUILD)/mgmt.elf
MGMT_SRCS := $(wildcard $(MGMT_SRC)/*.c)
# Pure code shared with the hypervisor: the one image planner and the one memory-map layout
# (docs/design.md, "Layers").
MGMT_SHARED := vmm/imgplan.c vmm/gmap.c
MGMT_OBJS := $(patsubst $(MGMT_SRC)/%.c,$(MGMT_OBJ)/%.o,$(MGMT_SRCS)) \
	$(patsubst vmm/%.c,$(MGMT_OBJ)/shared/%.o,$(MGMT_SHARED))

$(MGMT_OBJ)/%.o: $(MGMT_SRC)/%.c
	@mkdir -p $(dir $@)
	$(call SAY,MGMT    $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(MGMT_OBJ)/shared/%.o: vmm/%.c
	@mkdir -p $(dir $@)
	$(call SAY,MGMT    $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(MGMT_ELF): $(GUEST_OBJ)/start.o $(MGMT_OBJS) $(GUEST_LIB) $(GUEST_SRC)/guest.ld
	$(call SAY,MGMT    $@)
	$(Q)$(LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJ)/start.o $(MGMT_OBJS) $(GUEST_LIB)

.PHONY: mgmt
mgmt: $(MGMT_ELF)
