# SPDX-License-Identifier: MIT
"""Issue 5: the hypercall ABI (docs/hypercalls.md) checked call by call from inside guests.

tests/guests/hcfuzz.c calls every hypercall with bad arguments and checks each
documented error, in both roles: as the management guest (mgmt=hcfuzz), whose
lines reach the serial console raw, and as an ordinary guest, whose every
call but VERSION is refused and whose lines are logged as "[vm] ...".
"""
import re

from test_vmx import mods, vm_lines, no_guest_errors, free_pages_match, BOOT, RUN

SUMMARY = r"hcfuzz: (\d+) checks, (\d+) failed"


def errors(out):
    return [l for l in out.splitlines() if "hcfuzz: ERROR" in l]


def test_hcfuzz_as_the_management_guest(machine):
    # An ordinary hcfuzz and a ticker run alongside; a counter outlives the management
    # guest, so its end shows the hypervisor still scheduling after the console is back.
    cmd = ("panic=poweroff mgmt=hcfuzz vm=fz,image=hcfuzz,mem=4M vm=tick,image=ticker,mem=2M "
           "vm=late,image=counter_long,mem=2M")
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd,
                modules=mods("hcfuzz", "ticker", "counter_long"))
    m.wait_for(r"mgmt: starting management guest 'hcfuzz' \(id 1, 16384 KiB, 3 boot modules visible\)",
               BOOT)
    # Raw lines of the management guest: no timestamp, no "[vm]" prefix.
    m.wait_for(r"(?m)^hcfuzz: start: management guest \(HOST_INFO gave 80, RSI at entry 0xc0000000\)$",
               60)
    summary = m.wait_for(r"(?m)^" + SUMMARY + "$", RUN)
    m.wait_for(r"(?m)^hcfuzz: done$", 30)
    m.wait_for(r"vm hcfuzz: the management guest has ended \(every vCPU halted\); "
               r"the serial console shows the hypervisor log again", 30)
    m.wait_for(r"vm late: finished: every vCPU halted", RUN)
    out = m.output()
    print("\n".join(l for l in out.splitlines() if l.startswith("hcfuzz:")))
    assert not errors(out), errors(out)
    checks, failed = int(summary.group(1)), int(summary.group(2))
    assert failed == 0 and checks > 1000, summary.group(0)
    assert re.search(r"(?m)^hcfuzz: round trip VERSION \d+ ticks, VM_INFO \d+ ticks$", out)
    # 4,000 random calls: every result documented, the VMs they made all destroyed.
    assert re.search(r"(?m)^hcfuzz: random: 4000 calls \(seed 0x[0-9a-f]+\), 0 failed checks$", out)
    # While it ran, the others went on: the ticker ticking, the ordinary hcfuzz refused.
    tick = re.search(r"(?m)^hcfuzz: vm tick \(id \d+\): RUNNING, \d+ console bytes, 0 refused "
                     r"calls, last line 'ticker: tick (\d+)'$", out)
    assert tick and int(tick.group(1)) >= 10, out[-3000:]
    fz = re.search(r"(?m)^hcfuzz: vm fz \(id \d+\): FINISHED, \d+ console bytes, (\d+) refused "
                   r"calls, last line 'hcfuzz: done'$", out)
    assert fz and int(fz.group(1)) > 1000, out[-3000:]
    assert re.search(r"(?m)^hcfuzz: log: .*vm fz: hypercall host_info refused: only the "
                     r"management guest may make it", out), out[-3000:]
    assert re.search(r"(?m)^hcfuzz: log: .*vm hcfuzz: hypercall version refused: made from "
                     r"CPL > 0", out), out[-3000:]
    # Nothing of the other VMs reached the console while the management guest had it.
    assert not re.search(r"\] \[(fz|tick|late)\] ", out), out[-3000:]
    assert "vm late: stopped" not in out and "vm tick: stopped" not in out


def test_hcfuzz_as_an_ordinary_guest(machine):
    cmd = "after_boot=poweroff panic=poweroff vm=fz,image=hcfuzz,mem=4M vm=hello,mem=4M"
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=mods("hcfuzz", "hello"))
    m.wait_for(r"vm fz: started", BOOT)
    m.wait_for(r"vmm: all VMs gone", RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    lines = vm_lines(out, "fz")
    print("\n".join(lines))
    assert lines[0] == "hcfuzz: start: ordinary guest (HOST_INFO gave -1, RSI at entry 0x0)", lines
    assert not errors(out), errors(out)
    summary = [re.fullmatch(SUMMARY, l) for l in lines if re.fullmatch(SUMMARY, l)]
    assert len(summary) == 1 and summary[0].group(2) == "0" and int(summary[0].group(1)) > 50, lines
    assert lines[-1] == "hcfuzz: done", lines
    assert any(re.fullmatch(r"hcfuzz: round trip VERSION \d+ ticks, refused \d+ ticks", l)
               for l in lines), lines
    assert any(re.fullmatch(r"hcfuzz: random: 4000 calls \(seed 0x[0-9a-f]+\), 0 failed checks", l)
               for l in lines), lines
    # The first refusal is logged, once; the guest goes on to its end.
    refused = re.findall(r"vm fz: hypercall (\w+) refused: (.*)", out)
    assert refused == [("host_info", "only the management guest may make it "
                                     "(counted; the guest goes on)")], refused
    assert "vm fz: finished: every vCPU halted" in out
    assert vm_lines(out, "hello")[-1] == "hello: done"
    assert "vm hello: finished: every vCPU halted" in out
    no_guest_errors(out)
    free_pages_match(out)
