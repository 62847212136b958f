# SPDX-License-Identifier: MIT
"""Issue 10 item 6: firmware that differs. IA32_FEATURE_CONTROL locked by the firmware
with VMX on (the Bochs BIOS) and with VMX off (test option feature_control=); an ACPI
SPCR naming COM2 (QEMU+OVMF with -acpitable, COM1 unconnected); memory above 4 GiB
(QEMU -m 6G: the map accounted; Bochs with 5 GiB: a VT-x guest runs from above 4 GiB)."""
import os
import re
import struct

import emu
from test_hw_ready import mods, no_crash

GiB = 1 << 30
LOCKED_OFF_MSG = ("the firmware locked IA32_FEATURE_CONTROL with VMX disabled; enable Intel "
                  "Virtualization Technology in the firmware setup")


def spcr_table(space, width, access, addr, baud_code=7):
    """A Microsoft SPCR (revision 2, 80 bytes) for a 16550-compatible UART; the same
    bytes as spcr_com2 in tests/unit/test_acpi.c for COM2."""
    body = struct.pack("<B3sBBBBQBBIBBBBBBHHBBBIB4s", 0, b"\0" * 3, space, width, 0, access,
                       addr, 1, 3, 0, baud_code, 0, 1, 0, 0, 0, 0xffff, 0xffff, 0, 0, 0, 0, 0,
                       b"\0" * 4)
    t = bytearray(struct.pack("<4sIBB6s8sI4sI", b"SPCR", 36 + len(body), 2, 0, b"TERNFW",
                              b"TESTSPCR", 1, b"TERN", 1) + body)
    t[9] = (-sum(t)) & 0xff
    assert len(t) == 80
    return bytes(t)


def test_feature_control_locked_vmx_off(machine):
    """Firmware that locked VMX off: the exact operator message, then power-off."""
    m = machine(emu="bochs", boot="mb2", cpus=1, cmdline="feature_control=0x1 after_boot=poweroff",
                modules=mods("hello"))
    m.wait_for(r"ERROR: vmx: not ready: " + re.escape(LOCKED_OFF_MSG) + "\n", 60)
    m.wait_for(r"\nTern cannot run on this machine because " + re.escape(LOCKED_OFF_MSG) + r"\.\n", 30)
    m.wait_for(r"tern: powering off", 30)
    m.wait_exit(30)
    out = m.output()
    assert "cmdline:" in out and "bad value" not in out and "unknown option" not in out
    assert "VMX on in" not in out and "vm hello" not in out
    no_crash(out)


def test_feature_control_locked_vmx_on_and_guest_above_4g(machine):
    """The Bochs BIOS locks IA32_FEATURE_CONTROL with VMX on (0x5); with 5 GiB of RAM
    the guest's memory comes from above 4 GiB and it runs there."""
    m = machine(emu="bochs", boot="mb2", cpus=1, mem=5120, host_mem=256,
                cmdline="loglevel=debug after_boot=poweroff vm=hello,mem=4M",
                modules=mods("hello"))
    m.wait_for(r"vmx: VT-x ready on 1 of 1 CPUs \(VMCS revision 0x[0-9a-f]+, \d+ bytes; "
               r"IA32_FEATURE_CONTROL 0x5, locked by the firmware with VMX on\)", 60)
    lo, hi = (int(x, 16) for x in
              m.wait_for(r"vm hello: RAM at host \[0x([0-9a-f]+)-0x([0-9a-f]+)\)", 60).groups())
    assert lo >= 4 * GiB and hi - lo == 4 << 20, (hex(lo), hex(hi))
    m.wait_for(r"\[hello\] hello: done", 60)
    m.wait_for(r"vm hello: finished: every vCPU halted", 30)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    assert re.search(r"mem: \[0x000100000000-0x000140000000\) usable", out), out[:4000]
    before = re.search(r"mem: before guests: free (\d+) pages", out).group(1)
    assert "mem: all VMs gone: free %s pages" % before in out
    no_crash(out)


def test_spcr_moves_console_to_com2(machine, tmp_path):
    """An SPCR naming COM2 (0x2F8): Tern's console follows it; COM1 is connected to nothing."""
    table = tmp_path / "spcr.bin"
    table.write_bytes(spcr_table(1, 8, 1, 0x2f8))
    m = machine(emu="qemu", boot="uefi", cpus=1, com=2,
                qemu_args=["-acpitable", "file=%s" % table])
    m.wait_for(r"smp: 1 of 1 CPUs online", 60)
    m.wait_for(r"Tern cannot run on this machine because this CPU does not offer Intel VT-x", 30)
    m.wait_for(r"tern: powering off", 30)
    assert m.wait_exit(30) == 0
    out = m.output()
    # What Tern printed after moving reached COM2, whole lines, in order.
    tern = [l for l in out.splitlines() if re.match(r"\[ *\d+\.\d+\] ", l)]
    assert tern and any("smp:" in l for l in tern) and any("vmx: not ready" in l for l in tern), out
    no_crash(out)


def test_memory_above_4g_accounted(machine):
    """QEMU q35 -m 6G: 2 GiB below the PCI hole, 4 GiB from 4 GiB up. Every byte of both
    is in the map, and the allocator's total is exactly the usable RAM from 1 MiB up."""
    m = machine(emu="qemu", boot="uefi", cpus=2, mem=6144, cmdline="loglevel=debug")
    m.wait_for(r"tern: powering off", 120)
    out = m.output()
    regions = [(int(b, 16), int(e, 16), t) for b, e, t in
               re.findall(r"mem: \[0x([0-9a-f]+)-0x([0-9a-f]+)\) (\S+)", out)]
    assert regions, out[-3000:]
    # Sorted, no overlaps; RAM below 2 GiB described without a gap from 1 MiB.
    for (b0, e0, _), (b1, e1, _) in zip(regions, regions[1:]):
        assert e0 <= b1, (hex(e0), hex(b1))
    low = sorted((b, e) for b, e, t in regions if e <= 2 * GiB and b >= 1 << 20)
    assert low[0][0] == 1 << 20 and low[-1][1] == 2 * GiB
    for (b0, e0), (b1, e1) in zip(low, low[1:]):
        assert e0 == b1, ("hole in the map below 2 GiB", hex(e0), hex(b1))
    assert (4 * GiB, 8 * GiB, "usable") in regions, regions
    usable = sum(e - b for b, e, t in regions if t == "usable")
    mib = int(re.search(r"mem: (\d+) MiB usable RAM in a map of %d regions" % len(regions),
                        out).group(1))
    assert mib == usable >> 20
    total, free, meta = (int(x) for x in re.search(
        r"mem: boot: total (\d+) KiB, free (\d+) KiB \(\d+ pages\); used pages: meta=(\d+)",
        out).groups())
    above_1m = sum(min(e, 1 << 64) - max(b, 1 << 20) for b, e, t in regions
                   if t == "usable" and e > 1 << 20)
    assert total * 1024 == above_1m, (total, above_1m)
    assert total > 4 * GiB // 1024 and free + meta * 4 == total
    m.wait_exit(30)
    no_crash(out)
