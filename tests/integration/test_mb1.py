# SPDX-License-Identifier: MIT
"""Issue 13: a small Multiboot v1 kernel of our own (tests/guests/mb1test.*) booted from
the shell with `create NAME --kernel IMAGE --initrd IMAGE --cmdline "..."` on one Bochs
boot (2 CPUs, GRUB). Both loader paths are used: mb1test.elf is placed by its ELF32
program headers, mb1aout.bin (the same kernel flat) by its header's a.out-kludge
addresses. The kernel prints what it was given; the test holds it to the VM's memory
map as the hypervisor reports it, the command line as typed, and the module's bytes as
the file on the host. The kernel then powers off (ACPI S5) and its memory comes back;
truncated copies of both images are refused with nothing made."""
import os
import re
import struct

import pytest

import emu
from test_shell import finish_shell, Shell, boot_shell, CMD, PROMPT
from test_linux import run_long, refused, attach

GUESTS = os.path.join(emu.BUILD, "guests")
MB1_ELF = os.path.join(GUESTS, "mb1test.elf")
MB1_AOUT = os.path.join(GUESTS, "mb1aout.bin")
MODULE = os.path.join(GUESTS, "ticker.elf")
CMDLINE = "mb1 arg=1 'quoted words'"
KERNEL_RUN = 120   # entry to the "ready" line under Bochs: a few seconds
MIB = 1 << 20
# The PC layout a Multiboot kernel is shown (tools/mgmt/kload.c build_e820): the EBDA,
# VGA and BIOS-ROM hole [0x9fc00, 1 MiB) is carved out of low RAM as reserved (type 2),
# every region that is not RAM is reserved too.
LOW_HOLE = (0x9fc00, 0x100000)
MB_RAM, MB_RESERVED = 1, 2
MBI_MEM, MBI_CMDLINE, MBI_MODS, MBI_MMAP = 0x1, 0x4, 0x8, 0x40


def fnv1a(data):
    h = 0x811c9dc5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h


def elf32_extent(path):
    """[lowest p_paddr, highest p_paddr + p_memsz) of the PT_LOAD segments."""
    with open(path, "rb") as f:
        img = f.read()
    phoff, = struct.unpack_from("<I", img, 28)
    phentsize, phnum = struct.unpack_from("<HH", img, 42)
    lo, hi = None, 0
    for i in range(phnum):
        typ, _, _, paddr, _, memsz = struct.unpack_from("<6I", img, phoff + i * phentsize)
        if typ == 1 and memsz:
            lo = paddr if lo is None else min(lo, paddr)
            hi = max(hi, paddr + memsz)
    return lo, hi


def aout_extent(path):
    """[load_addr, bss_end_addr) from the Multiboot header at offset 0 (3.1.3)."""
    with open(path, "rb") as f:
        magic, flags, _, _, load, _, bss_end, _ = struct.unpack("<8I", f.read(32))
    assert magic == 0x1badb002 and flags & 0x10000, (hex(magic), hex(flags))
    return load, bss_end


@pytest.fixture(scope="module")
def sh(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("mb1"))
    halves = []
    for path, name in ((MB1_ELF, "mb1half"), (MB1_AOUT, "mb1ahalf")):
        with open(path, "rb") as f:
            img = f.read()
        # ELF: the headers and the Multiboot header (at 0x1000) kept, the segment cut;
        # flat: the header kept, the code and data cut.
        keep = 0x1800 if name == "mb1half" else 0x800
        assert len(img) > keep + 0x400, (path, len(img))
        out = os.path.join(work, name)
        with open(out, "wb") as f:
            f.write(img[:keep])
        halves.append((out, name))
    more = [(MB1_ELF, "mb1test"), (MB1_AOUT, "mb1aout")] + halves
    m = boot_shell(work, more_modules=more)
    shell = Shell(m)
    shell.start_free = shell.free_bytes()
    yield shell
    finish_shell(m, "*** PANIC")


def hv_map(sh, vm):
    """The VM's memory map as the shell's info shows it (TERN_HC_VM_MEMMAP):
    [(gpa, size, type word)]."""
    out = sh.info(vm)
    rows = re.findall(r"(0x[0-9a-f]{10})-(0x[0-9a-f]{10}) (ram|rom|mmio|reserved)\n", out)
    assert rows, out
    return [(int(a, 16), int(b, 16) + 1 - int(a, 16), t) for a, b, t in rows]


def multiboot_map(regions):
    """What a Multiboot kernel must be shown for regions: [(base, len, type)]."""
    out = []
    for gpa, size, kind in regions:
        end = gpa + size
        if kind != "ram" or end <= LOW_HOLE[0] or gpa >= LOW_HOLE[1]:
            out.append((gpa, size, MB_RAM if kind == "ram" else MB_RESERVED))
            continue
        hs, he = max(gpa, LOW_HOLE[0]), min(end, LOW_HOLE[1])
        if gpa < hs:
            out.append((gpa, hs - gpa, MB_RAM))
        out.append((hs, he - hs, MB_RESERVED))
        if he < end:
            out.append((he, end - he, MB_RAM))
    return out


def boot_and_check(sh, image, extent):
    before = sh.free_bytes()
    line = ("create mb --kernel %s --initrd ticker --cmdline \"%s\" --mem 16M --start"
            % (image, CMDLINE))
    out = run_long(sh, line)
    m = re.fullmatch(r"created vm (\d+) 'mb' \(16 MiB, 1 vCPU, multiboot kernel '%s', "
                     r"initrd 'ticker'\)\nstarted vm \1 'mb'\n" % image, out)
    assert m, out
    # The kernel waits for a key once it has said everything: the VM is there to look at.
    regions = hv_map(sh, "mb")
    # The documented PC layout for 16 MiB (vmm/gmap.c gmap_pc_layout, docs/devices.md).
    assert regions == [(0, 16 * MIB, "ram"), (0xfec00000, 0x1000, "mmio"),
                       (0xfee00000, 0x1000, "mmio")], regions
    attach(sh, "mb")
    ready = sh.m.expect(r"mb1: ready: (\d+) errors; a key powers off\r\n", KERNEL_RUN)
    text = sh.m.before.replace("\r", "")
    nerr = int(ready.group(1))
    lines = [l for l in text.splitlines() if l.startswith("mb1: ")]
    assert not [l for l in lines if l.startswith("mb1: error")], text
    assert nerr == 0, text

    magic = re.search(r"^mb1: magic (0x[0-9a-f]+) flags (0x[0-9a-f]+)$", text, re.M)
    assert magic and int(magic.group(1), 16) == 0x2badb002, text
    flags = int(magic.group(2), 16)
    assert flags & (MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP) == \
        MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP, hex(flags)

    mmap = [(int(b, 16), int(n, 16), int(t)) for b, n, t in
            re.findall(r"^mb1: mmap base (0x[0-9a-f]+) len (0x[0-9a-f]+) type (\d+)$", text, re.M)]
    want = multiboot_map(regions)
    assert mmap == want, (mmap, want)

    mem = re.search(r"^mb1: mem lower (\d+) upper (\d+)$", text, re.M)
    assert mem, text
    low = [n for b, n, t in mmap if b == 0 and t == MB_RAM]
    high = [n for b, n, t in mmap if b == MIB and t == MB_RAM]
    assert low and high, mmap
    assert int(mem.group(1)) == min(low[0], 640 << 10) >> 10 == 639, mem.group(0)
    assert int(mem.group(2)) == high[0] >> 10 == (16 * MIB - MIB) >> 10, mem.group(0)

    cmd = re.findall(r"^mb1: cmdline \[(.*)\]$", text, re.M)
    assert cmd == [CMDLINE], cmd

    with open(MODULE, "rb") as f:
        data = f.read()
    mods = re.findall(r"^mb1: mod (\d+) start (0x[0-9a-f]+) end (0x[0-9a-f]+) "
                      r"fnv (0x[0-9a-f]+) string \[(.*)\]$", text, re.M)
    assert len(mods) == 1, text
    _, start, end, fnv, string = mods[0]
    start, end = int(start, 16), int(end, 16)
    assert end - start == len(data), (hex(start), hex(end), len(data))
    assert int(fnv, 16) == fnv1a(data), (fnv, hex(fnv1a(data)))
    assert string == "ticker"
    assert start % 0x1000 == 0 and start >= MIB and end <= 16 * MIB, (hex(start), hex(end))

    kern = re.search(r"^mb1: kernel (0x[0-9a-f]+)-(0x[0-9a-f]+)$", text, re.M)
    assert kern and (int(kern.group(1), 16), int(kern.group(2), 16)) == extent, \
        (kern and kern.group(0), [hex(x) for x in extent])
    assert end <= extent[0] or start >= extent[1]

    # A key: the kernel powers the VM off. create's default --on-poweroff is destroy:
    # the hypervisor ends the VM, the console says so (having maybe seen it finished
    # first, at its state poll) and gives the prompt back; its memory comes back.
    sh.m.send("k")
    sh.m.expect(r"mb1: powering off \(ACPI S5\)\r\n", KERNEL_RUN)
    sh.m.expect(r"\r\n\[vm mb is gone\]\r\n", KERNEL_RUN)
    assert re.fullmatch(r"(\[vm mb has finished: powered off by the guest \(ACPI S5\)\])?",
                        sh.m.before.strip()), sh.m.before
    sh.m.expect(re.escape(PROMPT), CMD)
    for _ in range(200):
        if "mb" not in sh.vms():
            break
    else:
        raise AssertionError("mb still listed after its poweroff")
    assert sh.free_bytes() == before
    assert "vm mb: powered off by the guest (ACPI S5)" in sh.run("log 40")


def test_elf32_kernel_sees_the_map_cmdline_and_module_it_was_given(sh):
    boot_and_check(sh, "mb1test", elf32_extent(MB1_ELF))


def test_aout_kludge_kernel_sees_the_map_cmdline_and_module_it_was_given(sh):
    boot_and_check(sh, "mb1aout", aout_extent(MB1_AOUT))


def test_truncated_and_mixed_up_kernels_are_refused_with_nothing_made(sh):
    refused(sh, "create x --kernel mb1half --mem 16M",
            r"cannot load kernel 'mb1half' into 16 MiB: ELF segment 0 lies outside the file")
    refused(sh, "create x --kernel mb1ahalf --mem 16M",
            r"cannot load kernel 'mb1ahalf' into 16 MiB: multiboot load_end_addr 0x[0-9a-f]+ "
            r"beyond the file")
    refused(sh, "create x --kernel mb1test --initrd mb1aout --mem 16M",
            r"image 'mb1aout' is a kernel, not an initrd: give it as --kernel")
