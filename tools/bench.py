#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`make bench`: print Tern's measured figures.

Boot: wall time from emulator start to the kernel banner, and the TSC at the
banner. Under Bochs with `clock: sync=none` the TSC counts emulated
instructions since power-on, so that figure is exact and repeatable; wall
times vary with the host (about 2x).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

BANNER = r"Tern \S+ hypervisor booting via (\S+) \(TSC at banner: (\d+)\)"


def boot_time(label, **kw):
    with emu.Machine(cmdline="after_boot=poweroff", **kw) as m:
        g = m.wait_for(BANNER, 300)
        t = m.elapsed()
        m.wait_for(r"tern: powering off", 300)
        total = m.elapsed()
        m.wait_exit(60)
    tsc = "%d ticks" % int(g.group(2)) if kw["emu"] == "bochs" else "n/a (TCG)"
    print("%-44s banner after %6.1f s wall, powered off after %6.1f s; TSC at banner: %s"
          % (label, t, total, tsc), flush=True)


STAMP = r"\[ *(\d+\.\d+)\] "


def boot_scaling(label, ready, **kw):
    """Boot time against CPU count: wall seconds to every CPU online and to the ready
    line, and the log's own clock there (emulated time under Bochs, exact)."""
    with emu.Machine(cmdline="after_boot=poweroff", **kw) as m:
        n = kw["cpus"]
        smp = m.wait_for(STAMP + r"smp: %d of %d CPUs online" % (n, n), 600)
        t_smp = m.elapsed()
        rdy = m.wait_for(STAMP + ready.replace("N", str(n)), 120)
        t_rdy = m.elapsed()
        m.wait_for(r"tern: powering off", 120)
        m.wait_exit(60)
    print("%-40s %3d CPUs: all online after %6.1f s wall (log %7.3f s), ready after %6.1f s "
          "wall (log %7.3f s)" % (label, n, t_smp, float(smp.group(1)), t_rdy,
                                  float(rdy.group(1))), flush=True)


def scaling():
    for n in (1, 2, 4, 8):
        boot_scaling("Bochs + BIOS + GRUB, skylake_x", r"vmx: VMX on in N of N CPUs",
                     emu="bochs", boot="mb2", cpus=n)
    for n in (4, 16, 64):
        # No VT-x under TCG: "ready" is the refusal, after every CPU was probed.
        boot_scaling("QEMU TCG + OVMF", r"ERROR: vmx: not ready", emu="qemu", cpus=n)


def exit_paths():
    """VM exit round trips measured by tests/guests/bench.c (RDTSC under sync=none)."""
    guest = os.path.join(emu.BUILD, "guests", "bench.elf")
    with emu.Machine(emu="bochs", cpus=1, boot="mb2", cmdline="after_boot=poweroff vm=bench,mem=4M",
                     modules=[(guest, "bench")]) as m:
        lines = [m.wait_for(r"\[bench\] bench: (%s .*)" % what, 300).group(1)
                 for what in ("vmcall", "cpuid", "out", "in-pit", "mmio-ioapic")]
        m.wait_for(r"tern: powering off", 120)
    print("VM exit round trips (Bochs corei7_skylake_x, ips=50M, sync=none, 1 CPU; "
          "TSC ticks = instructions, net of a NOP loop, 10000 iterations):")
    for line in lines:
        print("  " + line)


def dirty_logging():
    """FETCH of a VM's dirty bitmap on each mechanism (tests/guests/dirtytest.c, 2 MiB VM)."""
    guest = os.path.join(emu.BUILD, "guests", "dirtytest.elf")
    with emu.Machine(emu="bochs", cpus=2, boot="mb2", cmdline="panic=poweroff mgmt=dirtytest",
                     modules=[(guest, "dirtytest")]) as m:
        got = [m.wait_for(r"(?m)^dirtytest: %s: a fetch of (\d+) pages took (\d+) ticks" % mech, 300)
               for mech in ("pml", "ept-ad", "write-protect")]
    print("Dirty-log harvest (Bochs corei7_skylake_x; TERN_HC_VM_DIRTY_LOG FETCH of a settled "
          "VM's whole bitmap, nothing dirty, timed in the management guest):")
    for mech, g in zip(("pml", "ept-ad", "write-protect"), got):
        pages, ticks = int(g.group(1)), int(g.group(2))
        print("  %s: %d ticks for %d pages, %d per 1,000 pages" % (mech, ticks, pages,
                                                                  ticks * 1000 // pages))


def scheduling():
    """Switch and move path lengths, from the scheduler's own TSC accounting."""
    guest = os.path.join(emu.BUILD, "guests", "counter.elf")
    vms = " ".join("vm=c%d,image=counter,mem=2M" % i for i in range(4))
    with emu.Machine(emu="bochs", cpus=2, boot="mb2", cmdline="after_boot=poweroff shuffle=20 " + vms,
                     modules=[(guest, "counter")]) as m:
        sw = m.wait_for(r"sched: (\d+) vCPU switches, mean (\d+) ticks", 600)
        mv = m.wait_for(r"sched: (\d+) moves, mean (\d+) ticks to leave a CPU \(VMCLEAR, requeue\) "
                        r"and (\d+) to arrive", 60)
    print("Scheduling (Bochs corei7_skylake_x, 2 CPUs, 4 CPU-bound vCPUs, 10 ms slices, "
          "shuffle=20 moving every vCPU every 20 ms):")
    print("  switch: %s ticks from a VM exit to the next vCPU's entry (mean of %s)" % (sw.group(2), sw.group(1)))
    print("  move: %s ticks to leave a CPU + %s ticks to arrive on the next (mean of %s)"
          % (mv.group(2), mv.group(3), mv.group(1)))


def fpu_switching():
    """The same switch path when every vCPU has live FPU/AVX-512 and debug state (fpuiso)."""
    guest = os.path.join(emu.BUILD, "guests", "fpuiso.elf")
    vms = " ".join("vm=f%d,image=fpuiso,mem=4M" % i for i in range(4))
    with emu.Machine(emu="bochs", cpus=2, boot="mb2",
                     cmdline="after_boot=poweroff timeslice=1 shuffle=5 " + vms,
                     modules=[(guest, "fpuiso")]) as m:
        sw = m.wait_for(r"sched: (\d+) vCPU switches, mean (\d+) ticks", 600)
        xr = m.wait_for(r"xregs: (\d+) switches of FPU\S* .*, mean (\d+) ticks", 60)
    print("Register switching (Bochs corei7_skylake_x, 2 CPUs, 4 fpuiso vCPUs using x87, "
          "ZMM0-31, k0-7, DR0-3, CR2, TSC_AUX; 1 ms slices, shuffle=5):")
    print("  switch: %s ticks from a VM exit to the next vCPU's entry (mean of %s), of which "
          "%s ticks (mean of %s) save and load the registers VMX leaves alone; XSAVE and XRSTOR "
          "count as one instruction each under Bochs" % (sw.group(2), sw.group(1), xr.group(2), xr.group(1)))


def timer_hogs():
    """What a guest's own timer costs its CPU: exits per ms the hog ran (masked
    timers arm nothing; periods below 50 us are clamped), and its neighbour's share."""
    print("Timer hogs (Bochs, 2 CPUs; each hog pinned beside a counter, two counters "
          "sharing the other CPU as the control):")
    for hog in ("timerhog", "timerhog_1k", "timerhog_hlt"):
        mods = [(os.path.join(emu.BUILD, "guests", g + ".elf"), g) for g in (hog, "counter")]
        cmd = ("after_boot=poweroff vm=hog,image=%s,mem=2M,cpu=1 vm=victim,image=counter,mem=2M,cpu=1 "
               "vm=mate,image=counter,mem=2M,cpu=0 vm=control,image=counter,mem=2M,cpu=0" % hog)
        with emu.Machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods) as m:
            m.wait_for(r"tern: powering off", 600)
            out = m.output()
        pre = re.search(r"vm hog: \d+ exits \([^)]*PREEMPTION_TIMER (\d+)", out)
        ran = re.search(r"vm hog: vcpu0 ran (\d+) ms", out)
        share = {}
        for vm in ("victim", "mate", "control"):
            c = {int(k): int(n) for k, n in re.findall(r"\] \[%s\] counter: k=(\d+) count=(\d+)" % vm, out)}
            share[vm] = c.get(39, 0) - c.get(20, 0)
        fair = (share["mate"] + share["control"]) / 2 or 1
        print("  %-13s %5.2f preemption-timer exits per ms run (%s in %s ms); neighbour gets %.2f "
              "of a fair share" % (hog, int(pre.group(1)) / max(1, int(ran.group(1))), pre.group(1),
                                  ran.group(1), share["victim"] / fair))


def hypercalls():
    """Hypercall round trips, timed by tests/guests/hcfuzz.c as the management guest."""
    guest = os.path.join(emu.BUILD, "guests", "hcfuzz.elf")
    with emu.Machine(emu="bochs", cpus=1, boot="mb2", cmdline="mgmt=hcfuzz,mem=8M",
                     modules=[(guest, "hcfuzz")]) as m:
        g = m.wait_for(r"hcfuzz: round trip VERSION (\d+) ticks, VM_INFO (\d+) ticks", 300)
    print("Hypercall round trips (Bochs, 1 CPU, management guest; gross ticks per call over "
          "1000 calls, loop included):")
    print("  VERSION %s ticks; VM_INFO (1,408-byte result copied out) %s ticks"
          % (g.group(1), g.group(2)))


def create_to_output():
    """From the shell's `create hello --start` to the guest's first byte of output."""
    mods = [(os.path.join(emu.BUILD, "mgmt.elf"), "mgmt"),
            (os.path.join(emu.BUILD, "guests", "hello.elf"), "hello")]
    rows = []
    with emu.Machine(emu="bochs", cpus=2, boot="mb2", cmdline="mgmt=mgmt", modules=mods,
                     console="pty") as m:
        m.expect(r"tern> ", 300)
        for name, mem in (("h2", "2M"), ("h16", "16M"), ("h64", "64M")):
            m.sendline("create hello --name %s --mem %s --start" % (name, mem))
            m.expect(r"started vm \d+ '%s'" % name, 60)
            m.expect(r"tern> ", 60)
            g = None
            for _ in range(20):  # hello prints within a few ms of guest time
                m.sendline("info " + name)
                g = m.expect(r"(first output: +(\d+) ticks after start \((\d+) us\), "
                             r"(\d+) after create|tern> )", 60)
                if g.group(2):
                    break
            assert g and g.group(2), "no first output reported for " + name
            rows.append((mem, g.group(4), g.group(2)))
    print("VM start-up (Bochs, 2 CPUs; shell `create hello --mem SIZE --start`; ticks = "
          "instructions, and Bochs counts each byte of `rep stosb` as one):")
    for mem, create, start in rows:
        print("  %4s: create (zeroed RAM, EPT) + load + start to first output %s ticks; "
              "start to first output %s ticks" % (mem, create, start))


def main():
    if sys.argv[1:] == ["scaling"]:  # tools/bench.py scaling: only boot time against CPUs
        scaling()
        return
    exit_paths()
    dirty_logging()
    hypercalls()
    create_to_output()
    scheduling()
    fpu_switching()
    timer_hogs()
    boot_time("QEMU TCG + OVMF, 4 CPUs", emu="qemu", cpus=4)
    boot_time("Bochs + OVMF, skylake_x, 1 CPU", emu="bochs", cpus=1)
    boot_time("Bochs + OVMF, skylake_x, 2 CPUs", emu="bochs", cpus=2)
    if os.path.exists(os.path.join(emu.BUILD, "tern.iso")):
        boot_time("Bochs + BIOS + GRUB Multiboot2, 1 CPU", emu="bochs", cpus=1, boot="mb2")
        boot_time("Bochs + BIOS + GRUB Multiboot2, 4 CPUs", emu="bochs", cpus=4, boot="mb2")
        scaling()


if __name__ == "__main__":
    main()
