# SPDX-License-Identifier: MIT
"""Issue 9: a guest's own local APIC timer buys it no more than its share of a CPU; a masked
timer costs no exits; periods below the floor are lengthened."""
import re

import pytest

from test_vmx import mods, vm_lines, no_guest_errors, free_pages_match, BOOT, RUN
from test_sched import shares

HOGS = ["timerhog", "timerhog_1k", "timerhog_hlt"]


def exits(out, vm, reason):
    """The VM's exits for one reason, from its end-of-life report (0 if not in the top three)."""
    top = re.search(r"vm %s: \d+ exits \(([^)]*)\)" % vm, out)
    assert top, out[-3000:]
    n = re.search(r"\b%s (\d+)" % reason, top.group(1))
    return int(n.group(1)) if n else 0


def ran_ms(out, vm):
    return int(re.search(r"vm %s: vcpu0 ran (\d+) ms" % vm, out).group(1))


@pytest.mark.parametrize("hog", HOGS)
def test_timer_hog_leaves_its_cpu_mate_a_fair_share(machine, hog):
    # CPU 1: the hog and a counter (the victim); CPU 0: two counters, the
    # control for what one of two vCPUs sharing a CPU gets.
    cmd = ("after_boot=poweroff panic=poweroff vm=hog,image=%s,mem=2M,cpu=1 "
           "vm=victim,image=counter,mem=2M,cpu=1 vm=mate,image=counter,mem=2M,cpu=0 "
           "vm=control,image=counter,mem=2M,cpu=0" % hog)
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods(hog, "counter"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    victim, mate, control = shares(out, ["victim", "mate", "control"], 20, 39)
    fair = (mate + control) / 2
    pre = {vm: exits(out, vm, "PREEMPTION_TIMER") for vm in ("hog", "victim")}
    ms = {vm: ran_ms(out, vm) for vm in ("hog", "victim")}
    lines = vm_lines(out, "hog")
    print("%s: progress victim=%d, control pair %d and %d (victim %.2f of a fair share); "
          "preemption-timer exits hog %d in %d ms, victim %d in %d ms"
          % (hog, victim, mate, control, victim / fair, pre["hog"], ms["hog"], pre["victim"],
             ms["victim"]))
    print("\n".join(lines))
    # At least a fair share: what one of two counters sharing CPU 0 gets, less
    # some exit costs (the HLT hog sleeps, so its mate gets more).
    assert victim >= 0.80 * fair, (victim, mate, control)
    # Exits come from slices and the 1 ms request poll (and the 1 kHz hogs' own ticks),
    # not from a timer that is masked, already due or another vCPU's.
    assert pre["victim"] <= 2 * ms["victim"] + 100, (pre, ms)
    assert pre["hog"] <= (2 if hog == "timerhog" else 3) * ms["hog"] + 100, (pre, ms)
    assert lines[-1] == "%s: done" % hog, lines
    assert "vm hog: finished: every vCPU halted" in out
    no_guest_errors(out)
    free_pages_match(out)
