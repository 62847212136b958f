# SPDX-License-Identifier: MIT
"""Issue 9: what a guest writes to CPU state (CR0/CR4/CR8, PAT, EFER, the APIC) stays its own
and is checked as hardware would, on CPUs with and without APIC-register virtualization."""
import re

import pytest

from test_vmx import mods, vm_lines, no_guest_errors, free_pages_match, BOOT, RUN
from test_sched import shares

# corei7_skylake_x has the TPR shadow with APIC-register virtualization;
# corei3_cnl has the TPR shadow alone (no APIC virtualization). No Bochs
# model lacks the TPR shadow: tpr_shadow=off makes Tern take the path of
# CPUs without it (CR8-load/store exiting).
MODELS = [("corei7_skylake_x", ""), ("corei3_cnl", ""), ("corei7_skylake_x", "tpr_shadow=off")]
IDS = ["skylake_x", "cnl", "skylake_x-cr8-exiting"]

CPUABUSE_CHECKS = [
    "cr4 reserved bits", "cr4 vmxe smxe", "cr4 la57", "cr4 pae", "cr4 upper bits",
    "cr4 allowed bit", "cr0 via rsp", "cr0 pg checks", "cr8 via rsp", "apic mmio via rsp",
    "pat", "efer", "pmu hidden, rdpmc faults", "cr8 round trip", "cr8 reserved bits", "cr8 blocks fixed ipi",
    "tpr mmio lowers", "nmi ipi", "nmi blocked in handler", "logical flat ipi",
    "logical cluster ipi", "lowest priority ipi", "shorthand ipis", "x2apic logical ipi",
]


@pytest.mark.parametrize("model,opt", MODELS, ids=IDS)
def test_cpu_state_abuse_is_refused_like_hardware(machine, model, opt):
    cmd = "after_boot=poweroff panic=poweroff %s vm=cpuabuse,mem=4M" % opt
    m = machine(emu="bochs", cpus=1, boot="mb2", model=model, cmdline=cmd,
                modules=mods("cpuabuse"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    assert "vmx: guest CR8 %s" % ("by CR8 exits" if opt else "in the TPR shadow") in out
    lines = vm_lines(out, "cpuabuse")
    print("\n".join(lines))
    ok = [l[len("cpuabuse: ok "):] for l in lines if l.startswith("cpuabuse: ok ")]
    assert ok == CPUABUSE_CHECKS, lines
    assert lines[-1] == "cpuabuse: done", lines
    assert "vm cpuabuse: finished: every vCPU halted" in out
    no_guest_errors(out)
    free_pages_match(out)


def last_tick(out, vm):
    ticks = re.findall(r"\] \[%s\] ticker: tick (\d+)" % vm, out)
    return int(ticks[-1]) if ticks else 0


@pytest.mark.parametrize("model,opt", MODELS, ids=IDS)
def test_cr8_hog_does_not_stop_its_cpu(machine, model, opt):
    # CPU 1: a guest at task priority 15, first spinning with interrupts on
    # beside a counter and a ticker, then asleep in HLT; CPU 0: a counter and a
    # ticker as the control. The priority must stay the hog's own: if it
    # reached CPU 1's APIC, CPU 1 would take no interrupt once idle and its
    # ticker would stop.
    cmd = ("after_boot=poweroff panic=poweroff %s vm=hog,image=cr8hog,mem=2M,cpu=1 " % opt +
           "vm=a,image=counter,mem=2M,cpu=1 vm=t1,image=ticker,mem=2M,cpu=1 "
           "vm=solo,image=counter,mem=2M,cpu=0 vm=t0,image=ticker,mem=2M,cpu=0")
    m = machine(emu="bochs", cpus=2, boot="mb2", model=model, cmdline=cmd,
                modules=mods("cr8hog", "counter", "ticker"))
    m.wait_for(r"\[hog\] cr8hog: spinning with CR8 = 15 and interrupts on", BOOT)
    for vm in ("a", "solo"):
        m.wait_for(r"\[%s\] counter: done" % vm, RUN, anywhere=True)
    out = m.output()
    a, solo = shares(out, ["a", "solo"], 20, 39)
    print("cr8 hog on %s: counter progress a=%d solo=%d" % (model, a, solo))
    # a shares CPU 1 with the spinning hog: about half of what solo does alone.
    assert a >= 0.40 * solo, (a, solo)
    m.wait_for(r"\[hog\] cr8hog: sleeping with CR8 = 15 and interrupts on", RUN, anywhere=True)
    # Whole lines only: "tick 1290" half-written reads as "tick 1".
    out = m.lines()
    n0, n1 = last_tick(out, "t0"), last_tick(out, "t1")
    m.wait_for(r"\] \[t0\] ticker: tick %d\b" % (n0 + 20), RUN, anywhere=True)
    g1 = last_tick(m.lines(), "t1") - n1
    print("cr8 hog on %s: ticks while the hog sleeps: t0 20, t1 %d" % (model, g1))
    assert g1 >= 15, (n0, n1, g1)
    out = m.output()
    for vm in ("hog", "a", "t1", "solo", "t0"):
        assert "vm %s: stopped" % vm not in out, out[-3000:]
    no_guest_errors(out)
