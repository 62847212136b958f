#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`make bench`: print Tern's measured figures.

Boot: wall time from emulator start to the kernel banner, and the TSC at the
banner. Under Bochs with `clock: sync=none` the TSC counts emulated
instructions since power-on, so that figure is exact and repeatable; wall
times vary with the host (about 2x).

Linux (issue 13, `tools/bench.py linux` for only this): ticks from the guest
kernel's sched_clock start to `Run /init` under Tern against bare Bochs, and
the Tern VM's exits by reason up to its /init marker (linux_boot).
"""
import json
import os
import re
import subprocess
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


# Which kind of exit (vmm/stamps.h's key: reason, port) each bench.c op makes.
EXIT_KIND = {"vmcall": ("VMCALL", 0), "cpuid": ("CPUID", 0), "out": ("IO_INSTRUCTION", 0x80),
             "in-pit": ("IO_INSTRUCTION", 0x40), "in-uart": ("IO_INSTRUCTION", 0x3fd),
             "mmio-ioapic": ("EPT_VIOLATION", 0)}


def bench_guest_run():
    """tests/guests/bench.c on 1 CPU of emu.BUILD's Tern: {op: (ticks, min)} and the log."""
    guest = os.path.join(emu.BUILD, "guests", "bench.elf")
    with emu.Machine(emu="bochs", cpus=1, boot="mb2", cmdline="after_boot=poweroff vm=bench,mem=4M",
                     modules=[(guest, "bench")]) as m:
        m.wait_for(r"tern: powering off", 600)
        out = m.output()
    ops = {g[0]: (int(g[1]), int(g[2])) for g in
           re.findall(r"\[bench\] bench: (\S+) (-?\d+) ticks/round-trip \(min (-?\d+)\)", out)}
    if not ops:
        raise AssertionError("the bench guest printed no figures:\n" + out[-2000:])
    return ops, out


def stamps_build():
    """The same tree built with -DTERN_STAMPS (vmm/stamps.h) in BUILD/stamps; its path."""
    d = os.path.join(emu.BUILD, "stamps")
    subprocess.run(["make", "-s", "-C", emu.ROOT, "BUILD=" + d, "KEXTRA=-DTERN_STAMPS", "all"],
                   check=True, stdout=subprocess.DEVNULL)
    return d


def with_build(d, fn, *args):
    saved, emu.BUILD = emu.BUILD, d
    try:
        return fn(*args)
    finally:
        emu.BUILD = saved


FIGURES = {}   # name -> ticks, for the closing table


def exit_paths():
    """VM exit round trips measured by tests/guests/bench.c (RDTSC under sync=none), and
    where each one's ticks go: the same run on a -DTERN_STAMPS build, whose stamps split
    the hypervisor's part into dispatch, handler and event check (vmm/stamps.h); the rest
    (GPRs saved and loaded, VMRESUME, the exit) is the plain build's total less those."""
    ops, _ = bench_guest_run()
    _, log = with_build(stamps_build(), bench_guest_run)
    parts = {(g[0], int(g[1], 16)): tuple(int(x) for x in g[2:])
             for g in re.findall(r"vm bench: vcpu0 stamps (\S+) port 0x([0-9a-f]+): \d+ exits, mean "
                                 r"ticks dispatch (\d+) handler (\d+) events (\d+)", log)}
    print("VM exit round trips (Bochs corei7_skylake_x, ips=50M, sync=none, 1 CPU; TSC ticks = "
          "instructions, net of a NOP loop, 10000 iterations), and their parts from a "
          "-DTERN_STAMPS build:")
    print("  %-12s %6s %6s | %8s %8s %8s %8s" % ("exit", "ticks", "min", "dispatch", "handler",
                                                "events", "rest"))
    for op, (ticks, mn) in ops.items():
        FIGURES[op] = ticks
        p = parts.get(EXIT_KIND.get(op, ("?", 0)))
        if p:
            print("  %-12s %6d %6d | %8d %8d %8d %8d" % (op, ticks, mn, p[0], p[1], p[2],
                                                        ticks - sum(p)))
        else:
            print("  %-12s %6d %6d | (no stamps)" % (op, ticks, mn))
    print("  (rest: saving and loading the GPRs in arch/vmx_entry.asm, VMRESUME and the exit "
          "itself, which Bochs counts as nothing)")


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


def fpu_run():
    guest = os.path.join(emu.BUILD, "guests", "fpuiso.elf")
    vms = " ".join("vm=f%d,image=fpuiso,mem=4M" % i for i in range(4))
    with emu.Machine(emu="bochs", cpus=2, boot="mb2",
                     cmdline="after_boot=poweroff timeslice=1 shuffle=5 " + vms,
                     modules=[(guest, "fpuiso")]) as m:
        m.wait_for(r"tern: powering off", 900)
        out = m.output()
    sw = re.search(r"sched: (\d+) vCPU switches, mean (\d+) ticks", out)
    xr = re.search(r"xregs: (\d+) switches of FPU\S* .*, mean (\d+) ticks", out)
    parts = re.search(r"sched: switch parts, mean ticks: leave (\d+) housekeeping (\d+) pick (\d+) "
                      r"load (\d+) state (\d+) events (\d+)", out)
    return sw, xr, parts


def fpu_switching():
    """The switch path when every vCPU has live FPU/AVX-512 and debug state (fpuiso), and
    its parts from a -DTERN_STAMPS build."""
    sw, xr, _ = fpu_run()
    _, _, parts = with_build(stamps_build(), fpu_run)
    FIGURES["switch"] = int(sw.group(2))
    print("Register switching (Bochs corei7_skylake_x, 2 CPUs, 4 fpuiso vCPUs using x87, "
          "ZMM0-31, k0-7, DR0-3, CR2, TSC_AUX; 1 ms slices, shuffle=5):")
    print("  switch: %s ticks from a VM exit to the next vCPU's entry (mean of %s), of which "
          "%s ticks (mean of %s) save and load the registers VMX leaves alone; XSAVE and XRSTOR "
          "count as one instruction each under Bochs" % (sw.group(2), sw.group(1), xr.group(2), xr.group(1)))
    if parts:
        print("  its parts (-DTERN_STAMPS build, whose stamps add a few ticks each): leave %s "
              "(exit handler, scheduler's look, MSRs saved), housekeeping %s (requests, "
              "watchdog, console, balancing), pick %s (the run queue), load %s (VMPTRLD, host state, VMCS set-up), state %s (device "
              "timers, MSRs, FPU/AVX/debug registers), events %s (interrupt check, timer)"
              % parts.groups())


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
            FIGURES["create-" + mem] = int(g.group(4))
    print("VM start-up (Bochs, 2 CPUs; shell `create hello --mem SIZE --start`; ticks = "
          "instructions, and Bochs counts each iteration of `rep stosq` as one):")
    for mem, create, start in rows:
        print("  %4s: create (RAM taken, zeroed on first touch) + load + start to first output "
              "%s ticks; start to first output %s ticks" % (mem, create, start))


LINUX_STAMP = r"^\[ *(\d+)\.(\d+)\] "
LINUX_INIT = "Run /init as init process"
LINUX_MARKER = "TERN-LINUX-UP"
GUEST_PROMPT = r"[/~] # "     # busybox ash as root, in / or in $HOME


def linux_ticks(dmesg_text):
    """Emulated TSC ticks from the start of Linux's TSC sched_clock to `Run /init as
    init process`, from a dmesg (or a serial transcript with printk times; \\r allowed).
    Returns (ticks, khz, seconds): khz is the TSC rate sched_clock used at that line,
    seconds sched_clock's own time there (so ticks = seconds * khz * 1000).

    The printk time is not sched_clock. sched_clock() (arch/x86/kernel/tsc.c) is
    (TSC - TSC at tsc_early_init()) * 10^6 / tsc_khz, 0 before. But printk stamps
    with local_clock() (kernel/sched/clock.c), which until sched_clock_init_late()
    clamps sched_clock to the timekeeping clock (jiffies, HPET, then tsc-early) and
    then, marking it stable, adds a constant to stay continuous: it prints `sched_clock:
    Marking stable (gtod, gtod_offset)->(raw, offset)`, and every later printk time is
    sched_clock() + offset ns. Bare Bochs shows why that matters: its TSC counts at ips
    (50 MHz) while the kernel believes 3500 MHz (CPUID 0x15/0x16), but jiffies tick at
    the PIT's emulated rate, so before the switch printk time runs up to 70x fast: in
    one boot `Run /init` was stamped 6.985 s with an offset of 6.246 s, i.e. 0.739 s of
    sched_clock (debugfs sched/debug agreed: cpu_clk - sched_clk = the offset).
    So: seconds = the /init line's stamp - offset, ticks = seconds * tsc_khz * 1000.

    tsc_khz is the last `tsc: Detected X MHz TSC`, else `tsc: Detected X MHz processor`
    (determine_cpu_tsc_frequencies prints the TSC line only when it differs). If
    tsc_refine_calibration_work() took a new rate (`tsc: Refined TSC clocksource
    calibration: X MHz`; only results within 1% are taken), sched_clock was rescaled
    continuously at that moment: a refinement after the stable mark is placed exactly
    and the span summed in two pieces; one before it cannot be placed (printk time was
    not sched_clock then), and the whole span is taken at the refined rate: at most 1%
    off. A dmesg without the stable mark (e.g. the TSC was marked unstable) raises
    ValueError: its printk times are not the TSC's.

    Not in the figure, on either side: the ticks before tsc_early_init() (firmware,
    GRUB or Tern's loader, decompression, early setup_arch), and /init's work up to
    its marker (printed to the console, not to dmesg).

    >>> linux_ticks("[    0.000000] tsc: Detected 3500.000 MHz processor\\n"
    ...             "[    2.000000] sched_clock: Marking stable (2000000000, 0)->(500000000, 1500000000)\\n"
    ...             "[    3.000000] Run /init as init process\\n")
    (5250000000, 3500000, 1.5)
    >>> linux_ticks("[    0.000000] tsc: Detected 2000.000 MHz processor\\n"
    ...             "[    0.500000] sched_clock: Marking stable (500000000, 0)->(500000000, 0)\\n"
    ...             "[    1.000000] tsc: Refined TSC clocksource calibration: 2010.000 MHz\\n"
    ...             "[    2.000000] Run /init as init process\\n")
    (4010000000, 2010000, 2.0)
    """
    khz = None
    offset = None                # ns, local_clock() - sched_clock() once stable
    ticks = 0                    # up to the last rate change placed
    since = 0                    # sched_clock ns at it
    for line in dmesg_text.replace("\r", "").splitlines():
        m = re.match(LINUX_STAMP, line)
        if not m:
            continue
        ns = int(m.group(1)) * 10**9 + int(m.group(2).ljust(9, "0")[:9])
        rest = line[m.end():]
        d = re.match(r"tsc: Detected (\d+)\.(\d{3}) MHz (processor|TSC)", rest)
        r = re.match(r"tsc: Refined TSC clocksource calibration: (\d+)\.(\d{3}) MHz", rest)
        st = re.match(r"sched_clock: Marking stable \(-?\d+, -?\d+\)->\(-?\d+, (-?\d+)\)", rest)
        if d and ticks == 0:
            khz = int(d.group(1)) * 1000 + int(d.group(2))
        elif st:
            offset = int(st.group(1))
        elif r and khz is not None:
            if offset is not None:
                raw = ns - offset
                ticks += (raw - since) * khz // 10**6
                since = raw
            khz = int(r.group(1)) * 1000 + int(r.group(2))
        elif rest.startswith(LINUX_INIT):
            if khz is None:
                raise ValueError("no `tsc: Detected` line before %r" % LINUX_INIT)
            if offset is None:
                raise ValueError("no `sched_clock: Marking stable` before %r: its printk "
                                 "time is not the TSC's" % LINUX_INIT)
            raw = ns - offset
            return ticks + (raw - since) * khz // 10**6, khz, raw / 1e9
    raise ValueError("no %r line in the dmesg" % LINUX_INIT)


def linux_dmesg(m, timeout=120):
    """The guest's `dmesg`, run in the busybox shell on a console="pty" Machine that has
    printed the marker (the shell may not have printed its prompt yet)."""
    m.sendline("")
    m.expect(GUEST_PROMPT, timeout)
    m.sendline("dmesg")
    m.expect(r"dmesg\r\n", timeout)
    m.expect(GUEST_PROMPT, timeout)
    return m.before.replace("\r", "")


BARE_CMDLINE = "console=ttyS0 earlyprintk=ttyS0"   # tools/linux-iso.sh's default
LINUX_MEM = 512                                     # MiB, bare and under Tern
# Bare Bochs's TSC counts at ips (50 MHz) while CPUID 0x15/0x16 say 3500 MHz, so the
# bare kernel's TSC delays (udelay, calibrations) wait 70 times longer than asked
# (0.6% of the boot figure, measured). Tern tells its guests the rate it measured
# against the PIT (about 50 MHz), so the fair bare run gives the kernel that rate: tsc_early_khz= (Documentation/admin-guide/
# kernel-parameters.txt) replaces the CPUID figure; the PIT refinement still runs.
BARE_TSC_FIX = " tsc_early_khz=50000"


def linux_bare(timeout=900, save_dmesg=None, cmdline=None):
    """Debian's kernel booted bare in Bochs (corei7_skylake_x, 1 CPU, 512 MiB) by GRUB
    from tools/linux-iso.sh's ISO (the bzImage, which decompresses itself: linux_ticks
    starts after that): wall seconds to the /init marker and linux_ticks() of its dmesg.
    cmdline: another kernel command line (its own ISO). Returns (ticks, khz, seconds,
    wall, dmesg)."""
    linux = os.path.join(emu.BUILD, "linux")
    iso = os.path.join(linux, "bare.iso" if cmdline is None else "bare-cmdline.iso")
    subprocess.run([os.path.join(emu.ROOT, "tools", "linux-iso.sh"), iso, linux] +
                   ([] if cmdline is None else [cmdline]), check=True)
    with emu.Machine(emu="bochs", boot="mb2", iso=iso, cpus=1, mem=LINUX_MEM,
                     model="corei7_skylake_x", console="pty") as m:
        m.expect(re.escape(LINUX_MARKER) + r"\r\n", timeout)
        wall = m.elapsed()
        log = linux_dmesg(m)
    if save_dmesg:
        with open(save_dmesg, "w") as f:
            f.write(log)
    ticks, khz, secs = linux_report("bare Bochs (corei7_skylake_x, 1 CPU, GRUB%s)"
                                    % ("" if cmdline is None else ", `%s`" % cmdline),
                                    log, wall)
    return ticks, khz, secs, wall, log


def linux_report(label, dmesg, wall):
    """Prints one Linux boot figure (bare or under Tern) from its dmesg and the wall
    seconds to the marker; returns linux_ticks(dmesg)."""
    ticks, khz, secs = linux_ticks(dmesg)
    print("Linux boot, %s: %d ticks from sched_clock's start to `%s` (%.6f s of "
          "sched_clock at the %d.%03d MHz the kernel believes); %s after %.1f s wall"
          % (label, ticks, LINUX_INIT, secs, khz // 1000, khz % 1000, LINUX_MARKER, wall),
          flush=True)
    return ticks, khz, secs


SHELL_PROMPT = "tern> "


def shell_line(m, line, timeout=120):
    """Runs one shell line, sent at once (the editor scrolls a line over 80 columns, so
    the echo checked is its tail); its output up to the next prompt, without \\r."""
    m.send(line + "\r")
    m.expect(re.escape(line[-24:]) + r"\r\n", timeout)
    m.expect(re.escape(SHELL_PROMPT), timeout)
    return m.before.replace("\r", "")


def linux_tern(timeout=1500, save_dmesg=None, cmdline=BARE_CMDLINE):
    """The same kernel (vmlinux, the bzImage's payload: no decompression, which
    linux_ticks leaves out on the bare side too) with the same initramfs, command line
    and memory in a Tern VM with 1 vCPU, created from the management shell on Bochs
    (corei7_skylake_x, 2 CPUs: the VM pinned to CPU 1, the shell on CPU 0, so relaying
    its console costs the VM nothing). VM_INFO's exit counts are taken right after the
    /init marker, before anything is typed to the guest. Returns (ticks, khz, seconds,
    wall, dmesg, info) with info the shell's `info VM --json`."""
    linux = os.path.join(emu.BUILD, "linux")
    mods = [(os.path.join(emu.BUILD, "mgmt.elf"), "mgmt"),
            (os.path.join(linux, "vmlinux"), "vmlinux"),
            (os.path.join(linux, "initramfs.cpio.gz"), "initrd")]
    with emu.Machine(emu="bochs", cpus=2, mem=LINUX_MEM + 512, boot="mb2",
                     model="corei7_skylake_x", cmdline="mgmt=mgmt", modules=mods,
                     console="pty") as m:
        m.expect(r"Tern management shell, ABI [\d.]+: 2 CPUs, \d+ MiB free\. Type 'help'\.\r\n",
                 300)
        m.expect(re.escape(SHELL_PROMPT), 60)
        host_khz = int(re.search(r"TSC (\d+) kHz", shell_line(m, "info")).group(1))
        out = shell_line(m, 'create l1 --kernel vmlinux --initrd initrd --cmdline "%s" '
                         '--mem %dM --vcpus 1 --cpus 1 --start' % (cmdline, LINUX_MEM), 300)
        if not re.search(r"started vm \d+ 'l1'", out):
            raise AssertionError("create failed: " + out)
        t0 = m.elapsed()
        m.send("console l1 --all\r")
        m.expect(r"Connected to vm l1 .*\r\n", 120)
        m.expect(re.escape(LINUX_MARKER) + r"\r\n", timeout)
        wall = m.elapsed() - t0
        m.send("\x1d")                         # Ctrl-]: detach
        m.expect(r"Disconnected from vm l1\r\n" + re.escape(SHELL_PROMPT), 120)
        info = shell_json(m, "info l1 --json")
        info["idle"] = linux_idle(m)
        m.send("console l1\r")
        m.expect(r"Connected to vm l1 .*\r\n", 120)
        log = linux_dmesg(m)
    if save_dmesg:
        with open(save_dmesg, "w") as f:
            f.write(log)
    info["host_tsc_khz"] = host_khz
    ticks, khz, secs = linux_report("under Tern (Bochs corei7_skylake_x, 2 CPUs; VM of 1 vCPU "
                                    "pinned to CPU 1, vmlinux)", log, wall)
    return ticks, khz, secs, wall, log, info


def shell_json(m, line):
    out = shell_line(m, line)
    return json.loads(out[out.index("{"):out.rindex("}") + 1])


IDLE_US = 3000000   # emulated time the idle sample spans


def linux_idle(m):
    """The Linux VM l1 at its idle shell: host uptime and the VM's run time and exits,
    sampled twice at least IDLE_US of (emulated) host time apart, the shell polled in
    between. Returns (uptime delta us, run_us delta, {reason: exits})"""
    h0, v0 = shell_json(m, "info --json"), shell_json(m, "info l1 --json")
    h1 = h0
    for _ in range(600):
        if h1["uptime_us"] - h0["uptime_us"] >= IDLE_US:
            break
        h1 = shell_json(m, "info --json")
    v1 = shell_json(m, "info l1 --json")
    exits = {k: v1["exits"].get(k, 0) - n for k, n in v0["exits"].items()}
    exits.update({k: n for k, n in v1["exits"].items() if k not in v0["exits"]})
    return h1["uptime_us"] - h0["uptime_us"], v1["run_us"] - v0["run_us"], exits


def linux_idle_report(idle, top=6):
    up, run, exits = idle
    secs = up / 1e6
    print("  idle at its shell, over %.2f s of host time: the vCPU ran %.2f%% of it (HLT blocks); "
          "%d exits/s; by reason:" % (secs, 100.0 * run / up, sum(exits.values()) / secs))
    for name, n in sorted(exits.items(), key=lambda kv: -kv[1])[:top]:
        if n:
            print("    %-24s %10.1f/s" % (name, n / secs))


def linux_exits(info, top=8):
    """Exits by reason during the boot: VM_INFO's counts at the marker over the vCPU's
    run time then (Tern's run_tsc, at the TSC rate Tern and the guest both use)."""
    run = info["run_us"] / 1e6
    total = info["exits_total"]
    print("  exits up to the marker: %d in %.3f s of vCPU run time (Tern's TSC %d kHz; "
          "%d/s); by reason (count, per second):" % (total, run, info["host_tsc_khz"],
                                                     total / run))
    for name, n in sorted(info["exits"].items(), key=lambda kv: -kv[1])[:top]:
        print("    %-24s %10d %10.0f/s" % (name, n, n / run))


# Bochs's 16550 sends at the programmed baud in emulated time (9600 unless told: about
# 1 ms a character), Tern's has THR empty at once (vmm/emul/v16550.c): with the whole
# log on the console the bare boot waits on its UART for about half its time. loglevel=1
# keeps the console to emergencies on both sides; dmesg still records every message.
QUIET = " loglevel=1"


def linux_boot():
    """Issue 13's figure: emulated ticks from Linux's sched_clock start to `Run /init`
    under Tern against bare Bochs, same kernel, initramfs, CPU model and memory: with
    the whole log on the serial console, then with the console quiet; exits by reason
    during each Tern boot."""
    linux_bare()
    print("  (bare as Bochs describes itself: the kernel takes CPUID's 3500 MHz for a TSC "
          "that counts at 50 MHz; not compared)", flush=True)
    for what, extra in (("whole log on the console", ""), ("console quiet", QUIET)):
        fair = linux_bare(cmdline=BARE_CMDLINE + BARE_TSC_FIX + extra)
        tern = linux_tern(cmdline=BARE_CMDLINE + extra)
        print("Linux boot ratio (%s), ticks under Tern / bare: %.3f (%d / %d)"
              % (what, tern[0] / fair[0], tern[0], fair[0]), flush=True)
        linux_exits(tern[5])
        linux_idle_report(tern[5]["idle"])


BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-baseline.json")


def summary():
    """The closing table README carries: each figure now, the value README had before
    (tools/bench-baseline.json, updated with README) and what it is measured against."""
    with open(BASELINE) as f:
        base = json.load(f)
    print()
    print("| figure (ticks) | now | before | anchor |")
    print("|---|---|---|---|")
    for key, b in base["figures"].items():
        now = FIGURES.get(key)
        print("| %s | %s | %s | %s |" % (b["what"], "-" if now is None else "{:,}".format(now),
                                        "{:,}".format(b["before"]) if b.get("before") is not None
                                        else "-", b["anchor"]))


def main():
    if sys.argv[1:] == ["scaling"]:  # tools/bench.py scaling: only boot time against CPUs
        scaling()
        return
    if sys.argv[1:] == ["linux"]:    # tools/bench.py linux: only the Linux boot figures
        linux_boot()
        return
    if sys.argv[1:] == ["exits"]:    # tools/bench.py exits: the exit, switch and start-up figures
        exit_paths()
        create_to_output()
        fpu_switching()
        summary()
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
    linux_boot()
    summary()


if __name__ == "__main__":
    main()
