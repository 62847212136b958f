#!/bin/sh
# SPDX-License-Identifier: MIT
# Build a BIOS-bootable GRUB ISO that starts Tern through Multiboot2:
#   mkiso.sh OUT.iso tern.elf "CMDLINE" [MODULE[:NAME] ...]
# NAME defaults to the module's file name without its extension.
set -eu
out=$1 kernel=$2 cmdline=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/tmp}/tern-iso.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The ISO tree and grub-mkrescue's log must be apart: a log growing inside
# the tree being packed makes xorriso fail ("size of file has changed").
tmp="$work/tree"
log="$work/log"
mkdir -p "$tmp/boot/grub" "$tmp/tern"
cp "$kernel" "$tmp/tern/tern.elf"

# GRUB script quoting: single quotes, with ' written as '\''.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

mods=
for m in "$@"; do
	path=${m%%:*}
	name=${m#*:}
	[ "$name" = "$m" ] && name=$(basename "$path" | sed 's/\.[^.]*$//')
	cp "$path" "$tmp/tern/$(basename "$path")"
	mods="$mods	module2 /tern/$(basename "$path") $(quote "$name")
"
done

# The command line goes in as separate words: GRUB re-quotes (with '"')
# any single argument that contains spaces when it builds the Multiboot2
# command line. Kernel options never need shell quoting.
case "$cmdline" in
*[\'\"\;\$\\]*) echo "mkiso.sh: quotes, ';', '$' and '\\' are not allowed in the command line" >&2; exit 1 ;;
esac

cat > "$tmp/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_output serial console
menuentry "Tern" {
	multiboot2 /tern/tern.elf ${cmdline}
${mods}	boot
}
CFG

grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out.tmp" "$tmp" >/dev/null 2>"$log" || {
	cat "$log" >&2
	exit 1
}
mv "$out.tmp" "$out"
