# SPDX-License-Identifier: MIT
"""Issue 12: a VM is one whole machine. From the shell, on one Bochs boot (2 CPUs):
a guest's own ACPI power-off shuts its VM off with its memory back; shutdown presses
the ACPI power button (a guest that listens powers off, one that does not is named);
a guest that resets itself is made anew and started; and clone copies a running VM
(memory, every register incl. FPU/AVX state, local APIC, devices) into a new one that
goes on from where the original was, while the original goes on too."""
import os
import re

import pytest

import emu
from test_shell import finish_shell, CMD, PROMPT, Shell, boot_shell

IMAGES = ("platform", "acpibtn", "resetcf9", "pitticker", "fpuiso")
WAIT = 240   # guest work under Bochs


@pytest.fixture(scope="module")
def sh(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("state"))
    more = [(os.path.join(emu.BUILD, "guests", g + ".elf"), g) for g in IMAGES]
    m = boot_shell(work, more_modules=more)
    shell = Shell(m)
    shell.start_free = shell.free_bytes()
    yield shell
    finish_shell(m, "watchdog", "panic")


def wait_gone(sh, name):
    for _ in range(200):
        if name not in sh.vms():
            return
    raise AssertionError("vm %s still listed" % name)


def console_lines(sh, vm, pattern, count, timeout=WAIT, everything=True):
    """Attaches to vm's console (everything: --all, from what its ring still holds) until
    count lines matching pattern came; returns the matches' first groups; detaches."""
    m = sh.m
    sh.type("console %s%s" % (vm, " --all" if everything else ""))
    m.send("\r")
    m.expect(r"Connected to vm %s .*\r\n" % vm, CMD)
    got = [m.expect(pattern + r"\r\n", timeout).group(1) for _ in range(count)]
    m.send("\x1d")
    m.expect(r"Disconnected from vm %s\r\n" % vm + re.escape(PROMPT), CMD)
    return got


def test_guest_power_off_shuts_the_vm_off(sh):
    # The platform guest checks every device from inside, then writes S5 to PM1_CNT.
    assert re.fullmatch(r"created vm \d+ 'pf' \(4 MiB, 1 vCPU\)\nstarted vm \d+ 'pf'\n",
                        sh.run("create platform --name pf --mem 4M --start"))
    assert console_lines(sh, "pf", r"platform: (passed: \d+ failures)", 1) == ["passed: 0 failures"]
    wait_gone(sh, "pf")     # transient: shut off is forgotten
    assert sh.free_bytes() == sh.start_free
    assert re.search(r"vm pf: powered off by the guest \(ACPI S5\)", sh.run("log 30"))


def test_shutdown_presses_the_power_button(sh):
    out = sh.run("define ab acpibtn --mem 2M")
    assert out.startswith("defined vm 'ab' "), out
    assert re.fullmatch(r"started vm \d+ 'ab' from its definition\n", sh.run("start ab"))
    console_lines(sh, "ab", r"acpibtn: (waiting for the power button)", 1)
    assert re.fullmatch(r"vm \d+ 'ab' is being shut down \(ACPI power button\); it is shut off "
                        r"when the guest powers off\n", sh.run("shutdown ab"))
    for _ in range(200):
        rows = sh.run("list --all")
        if re.search(r"^ +- ab +shut off ", rows, re.M):
            break
    else:
        raise AssertionError(rows)
    assert sh.free_bytes() == sh.start_free
    assert "vm ab: powered off by the guest (ACPI S5)" in sh.run("log 40")
    assert sh.run("undefine ab").startswith("undefined")
    # A guest that never enabled the event is named, and left running.
    assert re.fullmatch(r"created vm \d+ 'tk' \(2 MiB, 1 vCPU\)\nstarted vm \d+ 'tk'\n",
                        sh.run("create ticker --name tk --mem 2M --start"))
    sh.error("shutdown tk", "vm 'tk' has not enabled ACPI power-button events: the press is "
             "latched but the guest is not told; 'destroy tk' stops it at once, without asking")
    assert sh.vms()["tk"]["state"] == "running"
    sh.error("reboot tk", "vm 'tk' cannot be asked to reboot: Tern gives guests no device to "
             "ask a reboot through; 'reset tk' restarts it at once, without asking the guest")
    sh.run("destroy tk")


def test_guest_reset_restarts_from_the_definition(sh):
    out = sh.run("create resetcf9 --name rc --mem 2M --start")
    first = int(re.search(r"started vm (\d+) 'rc'", out).group(1))
    m = sh.m
    again = int(m.expect(r"vm 'rc' reset itself: made anew from its definition as vm (\d+) "
                         r"and started\r\n", WAIT).group(1))
    assert again > first
    m.expect(re.escape(PROMPT), CMD)
    # It resets itself again and again (as on_reboot=restart would): destroy ends that.
    for _ in range(20):
        out = sh.run("destroy rc")
        if out.startswith("destroyed vm"):
            break
    wait_gone(sh, "rc")
    assert sh.free_bytes() == sh.start_free


def test_clone_goes_on_from_where_the_original_was(sh):
    assert re.fullmatch(r"created vm \d+ 't1' \(4 MiB, 1 vCPU\)\nstarted vm \d+ 't1'\n",
                        sh.run("create ticker --name t1 --mem 4M --start"))
    before = int(console_lines(sh, "t1", r"ticker: tick (\d+)", 3)[-1])
    out = sh.run("clone t1 --name t2")
    assert re.fullmatch(r"cloned vm \d+ 't1' to vm \d+ 't2' \(4 MiB, 1 vCPU\) and started it\n",
                        out), out
    vms = sh.vms()
    assert vms["t1"]["state"] == "running" and vms["t2"]["state"] == "running"
    # The clone's console starts empty: its first line is a tick after the original's,
    # never the guest's "start" line; the original ticks on.
    got = console_lines(sh, "t2", r"ticker: (start|tick \d+)", 3)
    assert got[0] != "start" and int(got[0].split()[1]) > before, got
    assert [int(g.split()[1]) for g in got] == list(range(int(got[0].split()[1]),
                                                         int(got[0].split()[1]) + 3)), got
    assert int(console_lines(sh, "t1", r"ticker: tick (\d+)", 1, everything=False)[0]) > before
    sh.error("clone t1 --name t2", "a vm named 't2' exists already")
    sh.error("clone mgmt --name m2", "vm 'mgmt' is the management guest (this shell): it cannot "
             "be cloned")
    sh.run("destroy t1")
    sh.run("destroy t2")
    assert sh.free_bytes() == sh.start_free


def test_clone_carries_devices_and_fpu_state(sh):
    # pitticker ticks from the PIT through the I/O APIC: no device state, no ticks.
    sh.run("create pitticker --name p1 --mem 2M --start")
    console_lines(sh, "p1", r"pitticker: pit tick (\d+)", 2)
    assert sh.run("clone p1 --name p2").startswith("cloned vm")
    got = [int(t) for t in console_lines(sh, "p2", r"pitticker: pit tick (\d+)", 2)]
    assert got[0] >= 2 and got[1] == got[0] + 1, got   # on from the original's, not from 1
    # fpuiso checks its own x87/SSE/AVX/AVX-512 registers between rounds: a clone that
    # lost them, or got another's, reports errors.
    sh.run("create fpuiso --name f1 --mem 4M --start")
    console_lines(sh, "f1", r"fpuiso: (covering .*)", 1)
    assert sh.run("clone f1 --name f2").startswith("cloned vm")
    for vm in ("f1", "f2"):
        res = console_lines(sh, vm, r"fpuiso: (\d+ rounds, \d+ switches seen, \d+ errors)", 1,
                            WAIT)[0]
        assert res.endswith(" 0 errors"), (vm, res)
    for vm in ("p1", "p2", "f1", "f2"):
        sh.run("destroy " + vm)
    assert sh.free_bytes() == sh.start_free
