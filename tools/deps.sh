#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages Tern needs to build, run and test; quiet when all are there.
set -eu
PKGS="gcc make binutils nasm gnu-efi mtools dosfstools fdisk xorriso grub-pc-bin grub-common
bochs bochsbios vgabios bximage bochs-term ovmf qemu-system-x86 socat
libcmocka-dev python3 python3-pytest python3-pexpect cppcheck acpica-tools
cpio lz4 xz-utils zstd"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
