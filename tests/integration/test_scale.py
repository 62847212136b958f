# SPDX-License-Identifier: MIT
"""Issue 10 item 5: the largest machines the emulators here give. QEMU TCG with 64
CPUs (no VT-x: every CPU online, the plain refusal, clean power-off) and Bochs with
8 CPUs and VT-x (every CPU ready, one guest on each). One boot each."""
import re

import emu
from test_hw_ready import mods, no_crash

QEMU_CPUS = 64
BOCHS_CPUS = 8


def test_qemu_tcg_64_cpus(machine):
    """64 CPUs from OVMF's MADT come online, are refused plainly, and power off."""
    m = machine(emu="qemu", boot="uefi", cpus=QEMU_CPUS, mem=256)
    m.wait_for(r"acpi: revision \d+, OEM '[^']*': MADT yes \(%d CPUs\)" % QEMU_CPUS, 120)
    m.wait_for(r"smp: %d of %d CPUs online \(processor list from ACPI MADT, xAPIC mode\)"
               % (QEMU_CPUS, QEMU_CPUS), 240)
    m.wait_for(r"Tern cannot run on this machine because this CPU does not offer Intel VT-x "
               r"\(CPUID.1:ECX.VMX is 0\)\.", 30)
    m.wait_for(r"tern: powering off", 30)
    assert m.wait_exit(60) == 0  # isa-debug-exit is not used: QEMU ended by ACPI S5
    out = m.output()
    # The refusal is said once, by the bootstrap CPU, not once per CPU.
    assert len(re.findall(r"vmx: not ready", out)) == 1, out[-3000:]
    assert "did not come online" not in out and "watchdog" not in out, out[-3000:]
    # Per-CPU memory: 10 stack pages (16 KiB kernel stack, three 8 KiB IST stacks) per
    # CPU and one page of struct pcpu per AP (the bootstrap CPU's is static).
    used = re.search(r"mem: after boot: .*used pages: (.*)", out).group(1)
    assert "stack=%d " % (10 * QEMU_CPUS) in used + " ", used
    assert "pcpu=%d" % (QEMU_CPUS - 1) in used, used
    no_crash(out)


def test_bochs_8_cpus_guest_on_each(machine):
    """8 CPUs with VT-x, 8 guests: each placed on its own CPU and run there only."""
    cmd = "after_boot=poweroff panic=poweroff " + " ".join(
        "vm=h%d,image=hello,mem=2M" % i for i in range(BOCHS_CPUS))
    m = machine(emu="bochs", boot="mb2", cpus=BOCHS_CPUS, cmdline=cmd, modules=mods("hello"))
    m.wait_for(r"smp: %d of %d CPUs online \(processor list from ACPI MADT, x2APIC mode\)"
               % (BOCHS_CPUS, BOCHS_CPUS), 120)
    m.wait_for(r"vmx: VT-x ready on %d of %d CPUs" % (BOCHS_CPUS, BOCHS_CPUS), 30)
    m.wait_for(r"vmx: VMX on in %d of %d CPUs" % (BOCHS_CPUS, BOCHS_CPUS), 30)
    m.wait_for(r"vmm: all VMs gone", 240)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    placed = {vm: int(c) for vm, c in
              re.findall(r"vm (h\d): started \(id \d+, .*vcpu0 on cpu(\d+)\)", out)}
    ran = {vm: cpus for vm, cpus in
           re.findall(r"vm (h\d): vcpu0 ran \d+ ms, scheduled \d+ times, moved \d+ times, "
                      r"on cpus ([\d,]+)", out)}
    assert len(placed) == BOCHS_CPUS and len(ran) == BOCHS_CPUS, (placed, ran)
    assert sorted(placed.values()) == list(range(BOCHS_CPUS)), placed
    for vm, cpu in placed.items():
        assert ran[vm] == str(cpu), (vm, cpu, ran[vm])
        assert "[%s] hello: done" % vm in out
    assert "watchdog" not in out and "ERROR" not in out, out[-3000:]
    before = re.search(r"mem: before guests: free (\d+) pages", out).group(1)
    assert "mem: all VMs gone: free %s pages" % before in out
    no_crash(out)
