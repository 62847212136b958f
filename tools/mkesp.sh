#!/bin/sh
# SPDX-License-Identifier: MIT
# Build a FAT EFI system partition image without root:
#   mkesp.sh OUT.img BOOTX64.EFI tern.elf tern.cfg [MODULE[:NAME] ...]
set -eu
out=$1 loader=$2 kernel=$3 cfg=$4
shift 4
size_mb=32
tmp="$out.tmp"
rm -f "$tmp"
truncate -s ${size_mb}M "$tmp"
mformat -i "$tmp" -v TERN ::
mmd -i "$tmp" ::/EFI ::/EFI/BOOT ::/EFI/tern ::/tern
mcopy -i "$tmp" "$loader" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$tmp" "$cfg" ::/EFI/tern/tern.cfg
mcopy -i "$tmp" "$kernel" ::/tern/tern.elf
for m in "$@"; do
	mcopy -i "$tmp" "${m%%:*}" "::/tern/$(basename "${m%%:*}")"
done
mv "$tmp" "$out"
