#!/bin/sh
# SPDX-License-Identifier: MIT
# Build a BIOS-bootable GRUB ISO that boots Debian's kernel bare, with the test
# initramfs (tools/fetch-linux.sh), for the bare-Bochs side of issue 13's Linux
# boot figure (tools/bench.py linux_bare):
#   linux-iso.sh OUT.iso LINUXDIR ["CMDLINE"]
# LINUXDIR holds vmlinuz and initramfs.cpio.gz. GRUB's `linux` loads the bzImage
# by the 32-bit boot protocol (Documentation/x86/boot.rst), as a boot loader on
# a PC does; the kernel decompresses itself. No `quiet`: the console gets every
# message up to loglevel 7, as under Tern. Cached: an OUT newer than the kernel,
# the initramfs and this script is left alone (make's rule does the same).
set -eu
[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: $0 OUT.iso LINUXDIR [CMDLINE]" >&2; exit 2; }
out=$1 dir=$2
cmdline=${3:-console=ttyS0 earlyprintk=ttyS0}
for f in "$dir/vmlinuz" "$dir/initramfs.cpio.gz"; do
	[ -s "$f" ] || { echo "linux-iso.sh: $f missing (make linux)" >&2; exit 1; }
done
if [ $# -eq 2 ] && [ -s "$out" ] && [ "$out" -nt "$dir/vmlinuz" ] &&
	[ "$out" -nt "$dir/initramfs.cpio.gz" ] && [ "$out" -nt "$0" ]; then
	exit 0
fi
case "$cmdline" in
*[\'\"\;\$\\]*) echo "linux-iso.sh: quotes, ';', '$' and '\\' are not allowed in the command line" >&2; exit 1 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/tern-linux-iso.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Tree and log apart, as in mkiso.sh (xorriso fails on a file growing in the tree).
tmp="$work/tree"
log="$work/log"
mkdir -p "$tmp/boot/grub"
cp "$dir/vmlinuz" "$tmp/boot/vmlinuz"
cp "$dir/initramfs.cpio.gz" "$tmp/boot/initramfs.cpio.gz"

# GRUB's own output on COM1 too, so a stuck boot shows where it stopped.
cat > "$tmp/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_output serial console
menuentry "Debian Linux, bare" {
	linux /boot/vmlinuz ${cmdline}
	initrd /boot/initramfs.cpio.gz
	boot
}
CFG

grub-mkrescue -d /usr/lib/grub/i386-pc -o "$out.tmp" "$tmp" >/dev/null 2>"$log" || {
	cat "$log" >&2
	exit 1
}
mv "$out.tmp" "$out"
