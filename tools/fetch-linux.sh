#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch Debian 12's stock kernel and busybox-static with apt-get download and
# make the guest files for the Linux tests in DIR (issue 13): vmlinuz (the
# bzImage as shipped), vmlinux (its ELF, decompressed on the host), config,
# initramfs.cpio.gz (busybox, /init prints TERN-LINUX-UP and starts a shell on
# the console) and version. The initramfs is built from what the packages
# gave, kept in DIR too: busybox and the modules it loads (modules/). Cached:
# nothing is fetched or unpacked again once all of those are there, and the
# initramfs is built again only when its inputs (this script, busybox, the
# modules) change, which initramfs.key records. Never needs root.
#   tools/fetch-linux.sh DIR        TERN_LINUX_FLAVOUR=cloud-amd64 (default) | amd64
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
OUT=$1
SELF=$0
FLAVOUR=${TERN_LINUX_FLAVOUR:-cloud-amd64}
# What the packages give (fetched once); modules/.list names the modules kept.
FETCHED="vmlinuz vmlinux config version busybox modules/.list"
# Modules of the kernel package the initramfs loads (=m in Debian's config), by
# their path under lib/modules/KVER/kernel: the ACPI power button and evdev (its
# /dev/input/event node is what busybox acpid reads), and pvpanic (for the port of vmm/emul/vpvpanic.h): its common
# part pvpanic.ko (CONFIG_PVPANIC is only the menu; pvpanic.o is built with
# each front end) and the ACPI/MMIO front end that binds QEMU0001.
MODULES="drivers/input/evdev.ko drivers/acpi/button.ko drivers/misc/pvpanic/pvpanic.ko drivers/misc/pvpanic/pvpanic-mmio.ko"

die() { echo "linux: $*" >&2; exit 1; }

fetched_already() {
	for f in $FETCHED; do [ -s "$OUT/$f" ] || return 1; done
	for m in $MODULES; do
		grep -qx "${m##*/}" "$OUT/modules/.list" && [ -s "$OUT/modules/${m##*/}" ] || return 1
	done
}

# The initramfs's inputs: this script (it writes /init), busybox, the modules.
initramfs_key() {
	(cat "$SELF" "$OUT/busybox" "$OUT/modules/.list" &&
		while read -r m; do cat "$OUT/modules/$m"; done <"$OUT/modules/.list") |
		sha256sum | cut -d' ' -f1
}

# The initramfs: busybox-static, an /init, and the modules in $OUT/modules.
make_initramfs() {
	command -v cpio >/dev/null 2>&1 && command -v gzip >/dev/null 2>&1 ||
		die "cpio or gzip missing (tools/deps.sh installs them)"
	key=$(initramfs_key)
	if [ -s "$OUT/initramfs.cpio.gz" ] && [ "$(cat "$OUT/initramfs.key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	R=$OUT/root.tmp
	rm -rf "$R"
	mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" \
		"$R/root" "$R/etc/acpi/PWRF" "$R/lib/modules" "$R/var/log" "$R/var/run"
	cp "$OUT/busybox" "$R/bin/busybox"
	ln -s busybox "$R/bin/sh"
	while read -r m; do cp "$OUT/modules/$m" "$R/lib/modules/$m"; done <"$OUT/modules/.list"
	cat >"$R/init" <<'INIT'
#!/bin/sh
# Tern's test initramfs: busybox, a marker line, a shell on the console.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
# The power button: ACPI's button driver, evdev for its /dev/input/event node, acpid on it.
if ! insmod /lib/modules/evdev.ko || ! insmod /lib/modules/button.ko; then
	echo "TERN-LINUX: insmod evdev.ko, button.ko failed"
fi
# pvpanic: a panic is reported to Tern at port 0x505 (ACPI QEMU0001), which stops the VM.
if ! insmod /lib/modules/pvpanic.ko || ! insmod /lib/modules/pvpanic-mmio.ko; then
	echo "TERN-LINUX: insmod pvpanic.ko, pvpanic-mmio.ko failed"
elif ! [ -e /sys/bus/platform/drivers/pvpanic-mmio/QEMU0001:00 ]; then
	echo "TERN-LINUX: pvpanic-mmio bound no QEMU0001 device"
fi
# acpid dies (after it daemonized) if it cannot open its log: /var/log is in the image.
acpid -c /etc/acpi -l /var/log/acpid.log
usleep 100000
if ! ls /dev/input/event* >/dev/null 2>&1 || ! pidof acpid >/dev/null; then
	echo "TERN-LINUX: acpid is not running on the power button"
fi
# busybox halt/poweroff/reboot signal PID 1 (USR1/USR2/TERM); a waiting sh runs the trap.
trap 'sync; halt -f' USR1
trap 'sync; poweroff -f' USR2
trap 'sync; reboot -f' TERM
echo TERN-LINUX-UP
while :; do
	setsid cttyhack sh &
	wait $!
done
INIT
	printf '#!/bin/sh\nkill -USR2 1\n' >"$R/etc/acpi/PWRF/00000080"
	chmod 755 "$R/init" "$R/etc/acpi/PWRF/00000080"
	(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$OUT/initramfs.cpio.gz.tmp"
	rm -rf "$R"
	mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
	echo "$key" >"$OUT/initramfs.key"
	echo "linux: initramfs.cpio.gz built ($(tr '\n' ' ' <"$OUT/modules/.list")modules)"
}

if fetched_already; then
	echo "linux: $(cat "$OUT/version") (cached in $OUT)"
	make_initramfs
	exit 0
fi
for t in apt-get apt-cache dpkg-deb od cpio gzip; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing (tools/deps.sh installs it)"
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/work
rm -rf "$WORK"
mkdir -p "$WORK/deb"
trap 'rm -rf "$WORK"' EXIT

# The metapackage depends on the versioned image package (linux-image-6.1.0-N-FLAVOUR).
META=linux-image-$FLAVOUR
PKG=$(apt-cache depends "$META" 2>/dev/null |
	sed -n "s/^ *Depends: \(linux-image-[0-9][^ ]*-$FLAVOUR\)\$/\1/p" | head -n 1)
[ -n "$PKG" ] || die "cannot resolve $META (apt-get update? Debian 12 sources?)"
echo "linux: fetching $PKG and busybox-static"
(cd "$WORK/deb" && apt-get download -q "$PKG" busybox-static 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
set -- "$WORK"/deb/linux-image-*.deb
[ -f "$1" ] || die "apt-get download $PKG failed"
dpkg-deb -x "$1" "$WORK/k"
set -- "$WORK"/deb/busybox-static_*.deb
[ -f "$1" ] || die "apt-get download busybox-static failed"
dpkg-deb -x "$1" "$WORK/bb"

set -- "$WORK"/k/boot/vmlinuz-*
[ -f "$1" ] || die "$PKG has no /boot/vmlinuz"
VMLINUZ=$1
KVER=${VMLINUZ##*/vmlinuz-}
cp "$VMLINUZ" "$WORK/vmlinuz"
cp "$WORK/k/boot/config-$KVER" "$WORK/config"

# Little-endian unsigned integer of N bytes at offset OFF of FILE.
le() { od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '; }
hex() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

# vmlinux from the bzImage's payload (boot.rst: payload_offset and
# payload_length, protocol 2.08, relative to the protected-mode code), as
# scripts/extract-vmlinux does. Every compressor but gzip has the 4-byte
# decompressed size appended (scripts/Makefile.lib size_append); strip it.
Z=$WORK/vmlinuz
[ "$(hex "$Z" 0x202 4)" = 48647253 ] || die "$VMLINUZ: no HdrS boot header"
PROTO=$(le "$Z" 0x206 2)
[ "$PROTO" -ge $((0x208)) ] || die "$VMLINUZ: boot protocol too old for payload_offset"
SECTS=$(le "$Z" 0x1f1 1)
[ "$SECTS" -ne 0 ] || SECTS=4
POFF=$(( (SECTS + 1) * 512 + $(le "$Z" 0x248 4) ))
PLEN=$(le "$Z" 0x24c 4)
MAGIC=$(hex "$Z" "$POFF" 6)
case "$MAGIC" in
1f8b*) COMP=gzip; DEC="gzip -dc"; TRIM=0 ;;
fd377a585a00) COMP=xz; DEC="xz -dc"; TRIM=4 ;;
28b52ffd*) COMP=zstd; DEC="zstd -dcq"; TRIM=4 ;;
02214c18*) COMP=lz4; DEC="lz4 -dc"; TRIM=4 ;;
425a68*) COMP=bzip2; DEC="bzip2 -dc"; TRIM=4 ;;
5d0000*) COMP=lzma; DEC="xz -dc --format=lzma"; TRIM=4 ;;
*) die "$VMLINUZ: unknown payload compression (magic $MAGIC)" ;;
esac
command -v "${DEC%% *}" >/dev/null 2>&1 || die "${DEC%% *} missing to decompress the $COMP payload"
tail -c +$((POFF + 1)) "$Z" | head -c $((PLEN - TRIM)) | $DEC >"$WORK/vmlinux" ||
	die "$COMP payload did not decompress"
V=$WORK/vmlinux
# ELF64 (class 2), little-endian, ET_EXEC (2), EM_X86_64 (0x3e).
[ "$(hex "$V" 0 6)" = 7f454c460201 ] && [ "$(le "$V" 16 2)" -eq 2 ] &&
	[ "$(le "$V" 18 2)" -eq 62 ] || die "decompressed payload is not an x86_64 ELF64 ET_EXEC"

# What the initramfs is made of. Debian 12 ships modules uncompressed
# (CONFIG_MODULE_COMPRESS_NONE); a .ko.xz of another build is decompressed.
cp "$WORK/bb/bin/busybox" "$WORK/busybox"
mkdir -p "$WORK/modules"
: >"$WORK/modules/.list"
for m in $MODULES; do
	K=$WORK/k/lib/modules/$KVER/kernel/$m
	N=${m##*/}
	if [ -f "$K" ]; then
		cp "$K" "$WORK/modules/$N"
	elif [ -f "$K.xz" ]; then
		command -v xz >/dev/null 2>&1 || die "xz missing to decompress $m.xz"
		xz -dc "$K.xz" >"$WORK/modules/$N"
	else
		die "$PKG has no $m (nor $m.xz)"
	fi
	echo "$N" >>"$WORK/modules/.list"
done

echo "$KVER ($PKG $(dpkg-deb -f "$WORK"/deb/linux-image-*.deb Version), $COMP payload)" >"$WORK/version"
rm -rf "$OUT/modules"
mkdir -p "$OUT/modules"
# modules/.list last: it is the mark of a complete fetch.
for m in $(cat "$WORK/modules/.list"); do mv "$WORK/modules/$m" "$OUT/modules/$m"; done
for f in vmlinuz vmlinux config version busybox; do mv "$WORK/$f" "$OUT/$f"; done
mv "$WORK/modules/.list" "$OUT/modules/.list"
echo "linux: $(cat "$OUT/version") in $OUT"
make_initramfs
