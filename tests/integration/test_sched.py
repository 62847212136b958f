# SPDX-License-Identifier: MIT
"""Issue 4: fair round-robin scheduling, virtual APIC timers, vCPU moves, SMP guests."""
import re

from test_vmx import mods, vm_lines, no_guest_errors, free_pages_match, BOOT, RUN

REPORT = r"counter: k=(\d+) count=(\d+)"


def counts(out, vm):
    return {int(k): int(c) for k, c in re.findall(r"\] \[%s\] %s" % (vm, REPORT), out)}


def jain(xs):
    return sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs))


def shares(out, vms, k0, k1):
    gained = []
    for vm in vms:
        c = counts(out, vm)
        assert k0 in c and k1 in c, (vm, sorted(c))
        gained.append(c[k1] - c[k0])
    return gained


def check_fair(out, vms, k0=20, k1=39):
    g = shares(out, vms, k0, k1)
    mean = sum(g) / len(g)
    j = jain(g)
    print("fairness %s: window k=%d..%d, progress %s, Jain's index %.4f" % (vms, k0, k1, g, j))
    assert j >= 0.99, (j, g)
    assert all(abs(x - mean) <= 0.10 * mean for x in g), (g, mean)


def test_five_vcpus_on_two_cpus_share_fairly(machine):
    vms = ["c%d" % i for i in range(1, 6)]
    cmd = "after_boot=poweroff panic=poweroff " + " ".join("vm=%s,image=counter,mem=2M" % v for v in vms)
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods("counter"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    check_fair(out, vms)
    # Fairness across two CPUs needs moves: the balancer made them.
    assert sum(int(x) for x in re.findall(r"vm c\d: vcpu0 ran \d+ ms, scheduled \d+ times, moved (\d+) times", out)) > 0
    no_guest_errors(out)
    free_pages_match(out)


def test_three_vcpus_on_one_cpu_share_fairly(machine):
    vms = ["c1", "c2", "c3"]
    cmd = "after_boot=poweroff panic=poweroff " + " ".join("vm=%s,image=counter,mem=2M" % v for v in vms)
    m = machine(emu="bochs", cpus=1, boot="mb2", cmdline=cmd, modules=mods("counter"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    check_fair(m.output(), vms)


def test_spinner_with_interrupts_off_is_preempted(machine):
    # CPU 1: a guest spinning with IF=0 and no exits, and two counters; CPU 0: one counter alone.
    cmd = ("after_boot=poweroff panic=poweroff vm=spin,image=spinner,mem=2M,cpu=1 "
           "vm=a,image=counter,mem=2M,cpu=1 vm=b,image=counter,mem=2M,cpu=1 "
           "vm=solo,image=counter,mem=2M,cpu=0")
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods("spinner", "counter"))
    m.wait_for(r"\[spin\] spinner: spinning with interrupts off", BOOT)
    for vm in ("a", "b", "solo"):
        m.wait_for(r"\[%s\] counter: done" % vm, RUN, anywhere=True)
    out = m.output()
    a, b, solo = shares(out, ["a", "b", "solo"], 20, 39)
    print("spinner test: progress a=%d b=%d solo=%d" % (a, b, solo))
    # a and b each get a third of CPU 1 (the spinner the last third): equal, and about solo/3.
    assert abs(a - b) <= 0.10 * (a + b) / 2, (a, b)
    assert 0.25 * solo <= a <= 0.42 * solo and 0.25 * solo <= b <= 0.42 * solo, (a, b, solo)
    assert "vm spin: stopped" not in out
    no_guest_errors(out)


def test_local_apic_timers_fire_at_their_rate(machine):
    cmd = "after_boot=poweroff panic=poweroff vm=x2,image=apictimer,mem=4M vm=xa,image=apictimer_xapic,mem=4M"
    m = machine(emu="bochs", cpus=1, boot="mb2", cmdline=cmd,
                modules=mods("apictimer", "apictimer_xapic"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    for vm, mode in (("x2", "x2apic"), ("xa", "xapic")):
        lines = vm_lines(out, vm)
        per = [l for l in lines if " periodic 50 ticks" in l]
        assert per and re.search(r"%s periodic 50 ticks, mean period (\d+) TSC \(programmed 200000\)"
                                 % mode, per[0]), lines
        period = int(re.search(r"mean period (\d+)", per[0]).group(1))
        assert abs(period - 200000) <= 4000, period
        late = int(re.search(r"%s tsc-deadline fired (\d+) TSC after the deadline" % mode,
                             "\n".join(lines)).group(1))
        assert late <= 200000, late
        assert any(re.search(r"%s one-shot fired after \d+ TSC" % mode, l) for l in lines), lines
        assert lines[-1].endswith("done"), lines
        # Mostly waiting in HLT: the vCPU ran far less than its life.
        ran = int(re.search(r"vm %s: vcpu0 ran (\d+) ms" % vm, out).group(1))
        start = float(re.search(r"\[ *([\d.]+)\] vm %s: started" % vm, out).group(1))
        end = float(re.search(r"\[ *([\d.]+)\] vm %s: finished" % vm, out).group(1))
        assert ran < 0.5 * (end - start) * 1000, (vm, ran, start, end)
    no_guest_errors(out)
    free_pages_match(out)


def test_moved_vcpus_keep_state_and_pinning_holds(machine):
    cmd = ("after_boot=poweroff panic=poweroff shuffle=20 vm=mover,image=counter,mem=2M "
           "vm=timer,image=apictimer,mem=4M vm=pinned,image=counter,mem=2M,cpu=0")
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods("counter", "apictimer"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    c = counts(out, "mover")
    ks = sorted(c)
    assert ks == list(range(ks[0], ks[-1] + 1)) and ks[-1] >= 39, ks
    # The count never resets and grows in every report window: no gap, no restart.
    assert all(c[k + 1] > c[k] for k in ks[:-1]), c
    moved = int(re.search(r"vm mover: vcpu0 ran \d+ ms, scheduled \d+ times, moved (\d+) times, "
                          r"on cpus 0,1", out).group(1))
    assert moved >= 10, moved
    # The timer guest moved while blocked in HLT and its timers still kept time (no ERROR lines).
    assert int(re.search(r"vm timer: vcpu0 ran \d+ ms, scheduled \d+ times, moved (\d+) times",
                         out).group(1)) >= 3
    assert vm_lines(out, "timer")[-1] == "apictimer: done"
    assert re.search(r"vm pinned: vcpu0 ran \d+ ms, scheduled \d+ times, moved 0 times, on cpus 0$",
                     out, re.M), out[-2000:]
    no_guest_errors(out)
    free_pages_match(out)


def test_smp_guest_starts_its_aps_with_init_sipi_sipi(machine):
    cmd = "after_boot=poweroff panic=poweroff vm=smp,mem=8M,vcpus=4"
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods("smp"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    lines = vm_lines(out, "smp")
    assert "smp: BSP APIC ID 0, 4 vCPUs" in lines, lines
    assert sorted(l for l in lines if "online" in l and "AP with" in l) == [
        "smp: AP with APIC ID %d online" % i for i in (1, 2, 3)], lines
    assert "smp: 3 of 3 APs online" in lines
    assert len(set(re.findall(r"vm smp: vcpu\d ran \d+ ms, scheduled \d+ times, moved \d+ times, "
                              r"on cpus (\S+)", out))) > 1  # spread over both CPUs
    no_guest_errors(out)
    free_pages_match(out)


def test_xapic_without_apic_register_virtualization_is_emulated(machine):
    # corei3_cnl has VMX with EPT but no APIC-register virtualization: xAPIC MMIO
    # reaches Tern as EPT violations and is emulated by decoding the MOV.
    cmd = "after_boot=poweroff panic=poweroff vm=xa,image=apictimer_xapic,mem=4M"
    m = machine(emu="bochs", cpus=1, boot="mb2", model="corei3_cnl", cmdline=cmd,
                modules=mods("apictimer_xapic"))
    feats = m.wait_for(r"vmx: features: (.*)", BOOT).group(1)
    assert "APIC-register-virt" not in feats, feats
    m.wait_for(r"vmm: all VMs gone", RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    lines = vm_lines(out, "xa")
    assert any(re.search(r"xapic periodic 50 ticks, mean period 19\d{4}|xapic periodic 50 ticks, "
                         r"mean period 20[0-3]\d{3}", l) for l in lines), lines
    assert lines[-1] == "apictimer_xapic: done", lines
    assert re.search(r"vm xa: \d+ exits \([^)]*EPT_VIOLATION \d+", out), out[-2000:]
    no_guest_errors(out)
    free_pages_match(out)
