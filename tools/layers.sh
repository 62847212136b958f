#!/bin/sh
# SPDX-License-Identifier: MIT
# The layering rules of docs/design.md ("Layers"), checked on every #include:
#   init/                 the top: starts every layer below; nothing includes it
#   vmm/                  VMs; may use arch, kernel, drivers, boot hand-off
#   vmm/emul/             pure device models and emulator: vmm/emul, the pure
#                         kernel headers, arch definitions (no code of Tern's)
#   arch/ drivers/ boot/  x86 and host devices: each other and kernel/, never
#                         vmm/ or init/ (arch/asm_offsets.c is the generator
#                         of the offsets asm uses, and may)
#   kernel/               the base floor: kernel/ only, and boot's hand-off
#                         struct (boot/boot_info.h, a header below every
#                         floor); what panic needs from above is registered
#                         by start-up (kernel/panic.h), the CPU primitives are
#                         its own (kernel/cpu.h)
#   vmm/imgplan.c         the image planner both loaders share, and the
#   vmm/gmap.c            memory-map layout: pure, built into the management
#                         guest too
#   tools/mgmt/ tests/guests/
#                         guests: the ABI (vmm/abi.h, vmm/elf.h, the image
#                         planner vmm/imgplan.h, the layout vmm/gmap.h), the guest
#                         runtime (tests/guests/guest.h, apic.h) and pure
#                         kernel/ helpers only (string, fmt, errno)
# Prints each violation; exit status 1 if any.
set -eu
cd "$(dirname "$0")/.."
bad=0

check() { # dir-glob allowed-regex
	files=$1
	allowed=$2
	for f in $files; do
		[ -f "$f" ] || continue
		grep -n '^#include "' "$f" | while IFS= read -r line; do
			inc=$(printf '%s\n' "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
			if ! printf '%s\n' "$inc" | grep -Eq "$allowed"; then
				echo "layers: $f: includes $inc"
			fi
		done
	done
}

PURE='^kernel/(string|fmt|errno)\.h$'
out=$(
	check "kernel/*.[ch]" '^kernel/|^boot/boot_info\.h$'
	check "arch/*.[ch] drivers/*.[ch] boot/*.[ch] boot/*/*.[ch]" '^(arch|kernel|drivers|boot)/'
	check "vmm/*.[ch]" '^(vmm|arch|kernel|drivers|boot)/'
	check "vmm/emul/*.[ch]" "^vmm/emul/|$PURE|^arch/(x86|msr|paging)\\.h\$"
	check "tools/mgmt/*.[ch]" "^tools/mgmt/|^vmm/(abi|elf|imgplan|gmap)\\.h\$|^tests/guests/(guest|apic)\\.h\$|$PURE"
	check "vmm/imgplan.[ch] vmm/gmap.[ch]" "^vmm/(abi|elf|imgplan|gmap)\\.h\$|$PURE"
	check "tests/guests/*.[ch]" "^tests/guests/|^vmm/(abi|elf)\\.h\$|$PURE"
)
# The one exception: the generator of asm offsets knows struct vcpu.
out=$(printf '%s\n' "$out" | grep -v '^layers: arch/asm_offsets.c: includes vmm/vcpu.h$' | grep . || true)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	bad=1
fi
exit $bad
