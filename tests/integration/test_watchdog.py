# SPDX-License-Identifier: MIT
"""Issues 9.2 and 10.1: the lockup watchdog is right on N CPUs: silent on a
healthy 4-CPU machine and during long hypervisor work, and a real stall (a
CPU spinning with interrupts off, or idle with its interrupts blocked by a
raised task priority) is reported once, with where the CPU was."""
import re

from test_vmx import mods, no_guest_errors, free_pages_match, BOOT, RUN
from test_sched import counts

COUNTERS = " ".join("vm=c%d,image=counter,mem=2M,cpu=%d" % (i, i) for i in range(4))


def watchdog_lines(out):
    return [l for l in out.splitlines() if "watchdog" in l]


def test_four_cpus_and_a_256m_vm_give_no_watchdog_line(machine):
    # A counter on every CPU, and a 256 MiB VM whose memory is zeroed while they run.
    cmd = "after_boot=poweroff panic=poweroff %s vm=big,image=hello,mem=256M" % COUNTERS
    m = machine(emu="bochs", cpus=4, mem=512, boot="mb2", cmdline=cmd,
                modules=mods("counter", "hello"))
    m.wait_for(r"smp: 4 of 4 CPUs online", BOOT)
    m.wait_for(r"vmx: VMX on in 4 of 4 CPUs", 60)
    m.wait_for(r"vm big: started \(id \d+, 262144 KiB", 120)
    m.wait_for(r"vmm: all VMs gone", RUN + 120)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    assert watchdog_lines(out) == [], watchdog_lines(out)
    for i in range(4):
        assert max(counts(out, "c%d" % i)) == 40, i
    no_guest_errors(out)
    free_pages_match(out)


def test_a_cpu_stalled_in_the_hypervisor_is_reported_once(machine):
    cmd = "after_boot=poweroff panic=poweroff crash=stall %s" % COUNTERS
    m = machine(emu="bochs", cpus=4, boot="mb2", cmdline=cmd, modules=mods("counter"))
    m.wait_for(r"crash: cpu3 stalls with interrupts off for 3 s", BOOT + 60)
    m.wait_for(r"ERROR: watchdog: cpu3 made no progress for 2000 ms; sending it an NMI", 60)
    m.wait_for(r"ERROR: watchdog: cpu3 is in the hypervisor at RIP 0x[0-9a-f]+, task priority 0; "
               r"called from( 0x[0-9a-f]+)+ ", 60)
    m.wait_for(r"WARN: watchdog: cpu3 is making progress again", 60)
    m.wait_for(r"vmm: all VMs gone", RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    wl = watchdog_lines(out)
    print("\n".join(wl))
    # Once: one checker per CPU, one report per stall; no other CPU named.
    assert len(wl) == 3, wl
    assert all("cpu3" in l for l in wl), wl
    for i in range(4):
        assert max(counts(out, "c%d" % i)) == 40, i   # every counter finished, cpu3's too
    no_guest_errors(out)
    free_pages_match(out)


def test_an_idle_cpu_that_takes_no_timer_interrupt_is_reported(machine):
    # cpu1 raises its task priority: its idle loop is never woken again.
    cmd = ("after_boot=poweroff panic=poweroff crash=tpr vm=a,image=counter,mem=2M,cpu=0 "
           "vm=b,image=hello,mem=2M,cpu=1")
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods("counter", "hello"))
    m.wait_for(r"crash: cpu1 raises its task priority to 15 and goes idle", BOOT + 60)
    m.wait_for(r"ERROR: watchdog: cpu1 is idle and has not taken the timer interrupt due \d+ ms ago; "
               r"sending it an NMI", 60)
    m.wait_for(r"ERROR: watchdog: cpu1 is in the hypervisor at RIP 0x[0-9a-f]+, task priority 15", 60)
    m.wait_for(r"\[a\] counter: k=(3\d|40) ", RUN)   # cpu0 goes on regardless
    wl = watchdog_lines(m.output())
    assert len(wl) == 2 and all("cpu1" in l for l in wl), wl
