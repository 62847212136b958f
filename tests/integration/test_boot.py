# SPDX-License-Identifier: MIT
"""Issue 2: UEFI boot onto every core, VT-x readiness, clean power-off, exception dumps."""
import re
import subprocess

import emu

QEMU_BOOT = 90    # seconds; TCG reaches the kernel in ~5 s
BOCHS_BOOT = 240  # Bochs+OVMF with 2 CPUs reaches the kernel in ~25 s


def test_qemu_4cpus_reports_missing_vtx_and_powers_off(machine):
    m = machine(emu="qemu", cpus=4)
    m.wait_for(r"Tern \S+ hypervisor booting via UEFI", QEMU_BOOT)
    m.wait_for(r"acpi: revision \d+, OEM '[^']*': MADT yes \(4 CPUs\)", 30)
    m.wait_for(r"smp: 4 of 4 CPUs online \(processor list from ACPI MADT", 60)
    m.wait_for(r"Tern cannot run on this machine because this CPU does not offer Intel VT-x "
               r"\(CPUID\.1:ECX\.VMX is 0\)\.", 30)
    m.wait_for(r"tern: powering off", 10)
    assert m.wait_exit(30) == 0
    assert "EXCEPTION" not in m.output() and "PANIC" not in m.output()


def test_bochs_ovmf_vtx_ready_on_every_cpu(machine):
    m = machine(emu="bochs", cpus=2, model="corei7_skylake_x", cmdline="after_boot=poweroff")
    m.wait_for(r"Tern \S+ hypervisor booting via UEFI", BOCHS_BOOT)
    m.wait_for(r"acpi: the firmware provides no ACPI tables", 30)
    m.wait_for(r"smp: 2 of 2 CPUs online \(processor list from UEFI MP Services", 120)
    m.wait_for(r"vmx: VT-x ready on 2 of 2 CPUs", 30)
    feats = m.wait_for(r"vmx: features: (.*)", 30).group(1)
    for f in ("EPT(4-level,WB,2M", "unrestricted-guest", "VPID", "preemption-timer(TSC>>"):
        assert f in feats, feats
    m.wait_for(r"tern: boot complete, no VMs to run; after_boot=poweroff", 30)
    m.wait_for(r"tern: powering off", 10)
    m.wait_exit(60)  # Bochs exits 1 on any power-off; the console says it was clean


def test_bochs_vmx_without_ept_is_refused_plainly(machine):
    m = machine(emu="bochs", cpus=1, model="core2_penryn_t9600", cmdline="after_boot=poweroff")
    m.wait_for(r"smp: 1 of 1 CPUs online", BOCHS_BOOT)
    m.wait_for(r"Tern cannot run on this machine because this CPU has VT-x but no usable EPT", 60)
    m.wait_for(r"tern: powering off", 10)
    m.wait_exit(60)


def addr2line(addr):
    out = subprocess.run(["addr2line", "-f", "-e", emu.BUILD + "/tern.elf", addr],
                         capture_output=True, text=True, check=True).stdout
    return out.split("\n")[0]


CRASHES = [
    ("pf", r"#PF page fault \(vector 14, error code 0x2\)", r"CR2 ffff8000dead0000"),
    ("ud", r"#UD invalid opcode \(vector 6, error code 0x0\)", None),
    ("de", r"#DE divide error \(vector 0, error code 0x0\)", None),
    ("gp", r"#GP general protection \(vector 13, error code 0x0\)", None),
]


def test_crash_dumps_exception_and_powers_off(machine):
    for kind, head, extra in CRASHES:
        m = machine(emu="qemu", cpus=2, cmdline="crash=%s panic=poweroff" % kind)
        m.wait_for(r"crash: deliberately causing a fault", QEMU_BOOT)
        m.wait_for(r"\*\*\* EXCEPTION " + head + r" on cpu0", 20)
        rip = m.wait_for(r"RIP ([0-9a-f]{16})", 5).group(1)
        m.wait_for(r"RAX [0-9a-f]{16}  RBX", 5)
        if extra:
            m.wait_for(extra, 5)
        m.wait_for(r"backtrace", 5)
        m.wait_for(r"\*\*\* system stopped \(panic=poweroff\)", 10)
        frames = re.findall(r"#\d+ 0x([0-9a-f]{16})", m.output())
        assert frames, m.tail()
        # The faulting RIP and the backtrace resolve to real kernel functions.
        assert addr2line(rip) == "crash_test", (kind, addr2line(rip))
        assert any(addr2line(f) == "kernel_main_stack" for f in frames), m.tail()
        assert m.wait_exit(30) == 0


def test_stack_overflow_hits_guard_page(machine):
    m = machine(emu="qemu", cpus=1, cmdline="crash=stack panic=poweroff")
    m.wait_for(r"crash: deliberately causing a fault", QEMU_BOOT)
    # The overflow faults on the guard page; #PF cannot push its frame on the
    # dead stack, so the CPU raises #DF, which runs on its own IST stack.
    m.wait_for(r"\*\*\* EXCEPTION #DF double fault \(vector 8", 20)
    m.wait_for(r"\*\*\* system stopped", 10)
    assert m.wait_exit(30) == 0


def test_panic_reports_and_stops_other_cpus(machine):
    m = machine(emu="qemu", cpus=4, cmdline="crash=panic panic=poweroff")
    m.wait_for(r"smp: 4 of 4 CPUs online", QEMU_BOOT)
    m.wait_for(r"\*\*\* PANIC on cpu0: crash=panic requested on the command line", 20)
    m.wait_for(r"\*\*\* system stopped \(panic=poweroff\)", 10)
    assert m.wait_exit(30) == 0


def test_bad_cmdline_is_reported_and_boot_goes_on(machine):
    m = machine(emu="qemu", cpus=4,
                cmdline="console=com9 frobnicate=1 maxcpus=2 loglevel=loud after_boot=poweroff")
    m.wait_for(r"WARN: cmdline: bad value 'com9' for console= \(expected com1\.\.com4, "
               r"0xPORT or none", QEMU_BOOT)
    m.wait_for(r"WARN: cmdline: unknown option 'frobnicate=1' \(known: console", 5)
    m.wait_for(r"WARN: cmdline: bad value 'loud' for loglevel=", 5)
    m.wait_for(r"smp: cpu\d \(APIC ID \d+\) left offline \(maxcpus=2\)", 60)
    m.wait_for(r"smp: 2 of 4 CPUs online", 10)
    m.wait_for(r"tern: powering off", 30)
    assert m.wait_exit(30) == 0


def test_loader_reports_bad_config(machine):
    cfg = "kernel /tern/tern.elf\nmodul /tern/x.bin x\n"
    m = machine(emu="qemu", cpus=1, cfg_text=cfg)
    m.wait_for(r"tern\.cfg line 2: unknown keyword 'modul' \(expected kernel, cmdline or module\)",
               QEMU_BOOT)


def test_loader_reports_missing_kernel(machine):
    m = machine(emu="qemu", cpus=1, drop_kernel=True)
    m.wait_for(r"tern loader: cannot open \\tern\\tern\.elf: Not Found", QEMU_BOOT)


def test_usb_disk_image_boots(machine):
    # make usb's GPT image (what goes on a stick), unchanged, in QEMU+OVMF.
    m = machine(emu="qemu", cpus=2, boot="disk")
    m.wait_for(r"Tern \S+ hypervisor booting via UEFI", QEMU_BOOT)
    m.wait_for(r"smp: 2 of 2 CPUs online", 60)
    m.wait_for(r"tern: powering off", 30)
    assert m.wait_exit(30) == 0
