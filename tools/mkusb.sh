#!/bin/sh
# SPDX-License-Identifier: MIT
# A GPT disk image for a USB stick: one EFI system partition holding the ESP image.
#   mkusb.sh OUT.img esp.img      then: dd if=OUT.img of=/dev/sdX bs=4M conv=fsync
set -eu
out=$1 esp=$2
esp_bytes=$(stat -c %s "$esp")
esp_sectors=$((esp_bytes / 512))
rm -f "$out.tmp"
# 1 MiB before the partition, 1 MiB after it for the backup GPT.
truncate -s $((esp_bytes + 2 * 1048576)) "$out.tmp"
printf 'label: gpt\nstart=2048, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="TERN-ESP"\n' \
	"$esp_sectors" | sfdisk --quiet "$out.tmp"
dd if="$esp" of="$out.tmp" bs=1M seek=1 conv=notrunc status=none
mv "$out.tmp" "$out"
echo "$out: write it with: dd if=$out of=/dev/sdX bs=4M conv=fsync"
