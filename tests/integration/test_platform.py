# SPDX-License-Identifier: MIT
"""Issue 12.2: the platform every VM has, checked from inside the guest
(tests/guests/platform.c): PCI configuration, open bus, port 0x80, REP OUTSB,
a PIT tick through the 8259A and through the I/O APIC, the RTC, the PM timer;
then the guest's own ACPI power-off and resets end the VM cleanly."""
import re

import pytest

from test_vmx import mods, vm_lines, no_guest_errors, free_pages_match, BOOT, RUN


def run_platform(machine, model, extra=""):
    cmd = ("after_boot=poweroff panic=poweroff "
           "vm=platform,image=platform,mem=4M vm=cf9,image=resetcf9,mem=2M "
           "vm=kbc,image=resetkbc,mem=2M vm=c,image=counter,mem=2M " + extra)
    m = machine(emu="bochs", cpus=2, boot="mb2", model=model, cmdline=cmd,
                modules=mods("platform", "resetcf9", "resetkbc", "counter"))
    m.wait_for(r"vmm: all VMs gone", BOOT + RUN)
    m.wait_for(r"tern: powering off", 30)
    return m.output()


@pytest.mark.parametrize("model", ["corei7_skylake_x", "corei3_cnl"])
def test_platform_devices_from_inside(machine, model):
    out = run_platform(machine, model)
    lines = vm_lines(out, "platform")
    print("\n".join(lines))
    assert "platform: pci and open bus ok" in lines, lines
    assert "platform: rep outsb forwards" in lines, lines
    assert "platform: rep outsb backwards" in lines, lines
    assert any(re.match(r"platform: pit through the pic: \d+ Hz", l) for l in lines), lines
    assert any(re.match(r"platform: pit through the ioapic: \d+ Hz", l) for l in lines), lines
    assert any(re.match(r"platform: rtc: seconds", l) for l in lines), lines
    assert "platform: passed: 0 failures" in lines, lines
    # S5 ends the VM as finished, with the reason; resets likewise.
    assert "vm platform: powered off by the guest (ACPI S5)" in out
    assert "vm cf9: reset by the guest" in out
    assert "vm kbc: reset by the guest" in out
    for vm in ("cf9", "kbc"):
        assert not any("ERROR" in l for l in vm_lines(out, vm)), vm_lines(out, vm)
    no_guest_errors(out)
    free_pages_match(out)
