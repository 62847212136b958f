# SPDX-License-Identifier: MIT
"""Issue 12: a VM is one whole machine. From the shell, on one Bochs boot (2 CPUs):
a guest's own ACPI power-off shuts its VM off with its memory back; shutdown presses
the ACPI power button (a guest that listens powers off, one that does not is named);
a guest that resets itself is made anew and started; and clone copies a running VM
(memory, every register incl. FPU/AVX state, local APIC, devices) into a new one that
goes on from where the original was, while the original goes on too."""
import os
import re
import time

import pytest

import emu
from test_shell import finish_shell, CMD, PROMPT, Shell, boot_shell, CREATE_USAGE

IMAGES = ("platform", "acpibtn", "resetcf9", "pitticker", "fpuiso", "uartirq", "pausetime",
          "smppit")
WAIT = 240   # guest work under Bochs
PAUSE_S = 6  # how long the pause tests keep a VM paused


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
    sh.error("reboot tk", "vm 'tk' has not enabled ACPI power-button events: the press is "
             "latched but the guest is not told; 'reset tk' restarts it at once, without asking")
    sh.run("destroy tk")


def test_reboot_and_the_on_actions(sh):
    """reboot: the power button, then the VM made anew; on_poweroff=preserve keeps a VM
    that powered off, memory and all; on_crash=destroy forgets a transient one that
    crashed, on_crash=restart makes it anew (xl's on_* actions)."""
    m = sh.m
    assert sh.run("define rb acpibtn --mem 2M").startswith("defined vm 'rb' ")
    first = int(re.fullmatch(r"started vm (\d+) 'rb' from its definition\n",
                             sh.run("start rb")).group(1))
    console_lines(sh, "rb", r"acpibtn: (waiting for the power button)", 1)
    assert re.fullmatch(r"vm %d 'rb' is being rebooted \(ACPI power button\): when the guest "
                        r"has powered off it is made anew and started\n" % first, sh.run("reboot rb"))
    again = int(m.expect(r"vm 'rb': powered off by the guest \(ACPI S5\); made anew from its "
                         r"definition as vm (\d+) and started \(as reboot asked\)\r\n", WAIT).group(1))
    assert again > first
    m.expect(re.escape(PROMPT), CMD)
    console_lines(sh, "rb", r"acpibtn: (waiting for the power button)", 1)
    # Once only: the next power-off follows on_poweroff (destroy: shut off).
    sh.run("shutdown rb")
    for _ in range(200):
        if re.search(r"^ +- rb +shut off ", sh.run("list --all"), re.M):
            break
    else:
        raise AssertionError("rb not shut off")
    assert sh.free_bytes() == sh.start_free
    sh.run("undefine rb")
    # on_poweroff=preserve: kept as it ended, its memory still held, until destroy.
    out = sh.run("create acpibtn --name pv --mem 2M --on-poweroff preserve --start")
    assert re.fullmatch(r"created vm \d+ 'pv' \(2 MiB, 1 vCPU\)\nstarted vm \d+ 'pv'\n", out), out
    console_lines(sh, "pv", r"acpibtn: (waiting for the power button)", 1)
    sh.run("shutdown pv")
    m.expect(r"vm 'pv': powered off by the guest \(ACPI S5\); kept as it ended "
             r"\(on_poweroff=preserve\): destroy pv frees it\r\n", WAIT)
    m.expect(re.escape(PROMPT), CMD)
    assert sh.vms()["pv"]["state"] == "finished"
    assert sh.free_bytes() < sh.start_free
    assert sh.run("destroy pv").startswith("destroyed vm")
    assert sh.free_bytes() == sh.start_free
    # on_crash=destroy: a transient VM that crashed is gone, its memory back.
    sh.error("create bad_triple --name bt --on-crash keep",
             "--on-crash 'keep': say destroy, restart or preserve", CREATE_USAGE)
    sh.run("create bad_triple --name bt --mem 2M --on-crash destroy --start")
    m.expect(r"vm 'bt': triple fault at RIP 0x[0-9a-f]+; destroyed, and forgotten as transient "
             r"\(on_crash=destroy\)\r\n", WAIT)
    m.expect(re.escape(PROMPT), CMD)
    wait_gone(sh, "bt")
    assert sh.free_bytes() == sh.start_free
    # on_crash=restart: made anew each time it crashes; config says what was asked.
    assert sh.run("define bd bad_triple --mem 2M --on-crash restart").startswith("defined")
    assert sh.run("config bd") == "define bd bad_triple --mem 2M --vcpus 1 --on-crash restart\n"
    sh.run("start bd")
    m.expect(r"vm 'bd': triple fault at RIP 0x[0-9a-f]+; made anew from its definition as vm "
             r"\d+ and started \(on_crash=restart\)\r\n", WAIT)
    m.expect(re.escape(PROMPT), CMD)
    for _ in range(20):
        if sh.run("destroy bd").startswith("destroyed vm"):
            break
    for _ in range(200):
        if re.search(r"^ +- bd +shut off ", sh.run("list --all"), re.M):
            break
    sh.run("undefine bd")
    assert sh.free_bytes() == sh.start_free


LONG_LINE = "".join("%02d-" % i for i in range(20))   # 60 bytes, nearly 4 FIFOs' worth
TRIGGER = 14   # uartirq's FCR 7:6 = 11: the receiver FIFO's trigger level (PC16550D 8.5)


def uart_answer(m, text):
    """uartirq's answer to text: (answer without \r, dict of its counts)."""
    g = m.expect(r"uartirq: got '%s' \((\d+) rx interrupts, (\d+) tx interrupts; (\d+) data, "
                 r"(\d+) timeout, (\d+) bytes, least (\d+); waited (\d+) ms pm, (\d+) ms tsc\)\r\n"
                 % re.escape(text), WAIT)
    keys = ("rx", "tx", "data", "timeout", "bytes", "least", "pm_ms", "tsc_ms")
    return g.group(0)[:-2] + "\n", dict(zip(keys, (int(x) for x in g.groups())))


def check_rx(got, text):
    # Every byte typed came in by interrupts (the Enter too), none twice or lost; a data
    # interrupt is only raised at the trigger level, so each found at least 14 bytes
    # and there can be no more of them than whole triggers' worth; what is left below
    # the trigger only comes in by a character timeout.
    n = len(text) + 1
    assert got["bytes"] == n, got
    assert got["rx"] == got["data"] + got["timeout"] and got["rx"] >= 1, got
    assert got["data"] <= n // TRIGGER, got
    assert got["data"] == 0 or got["least"] >= TRIGGER, got
    if n < TRIGGER:
        assert got["data"] == 0 and got["timeout"] >= 1, got


def test_interrupt_driven_uart_through_the_console(sh):
    # The guest's 16550 driver works by interrupts only (IRQ 4 through the 8259A):
    # what is typed at the shell's console reaches it as receive interrupts, its
    # answer goes out from THR-empty interrupts, one per byte.
    assert re.fullmatch(r"created vm \d+ 'ui' \(2 MiB, 1 vCPU\)\nstarted vm \d+ 'ui'\n",
                        sh.run("create uartirq --name ui --mem 2M --start"))
    m = sh.m
    sh.type("console ui --all")
    m.send("\r")
    m.expect(r"Connected to vm ui .*\r\n", CMD)
    m.expect(r"uartirq: ready\r\n", WAIT)
    sent = 0
    for text in ("hello there", LONG_LINE):   # the second at full speed, in one write
        m.send(text + "\r")
        answer, got = uart_answer(m, text)
        check_rx(got, text)
        assert got["tx"] >= sent, got        # one THRE interrupt per byte sent before
        sent += len(answer)
        # Not paused: the PM timer and the TSC measured the same wait.
        assert abs(got["pm_ms"] - got["tsc_ms"]) <= max(20, got["tsc_ms"] // 10), got
    # Paused for a while before the third line: the guest's time stands, for its device
    # clock and its TSC alike; both measure the unpaused part of the wait only.
    m.send("\x1d")
    m.expect(r"Disconnected from vm ui\r\n" + re.escape(PROMPT), CMD)
    assert re.fullmatch(r"paused vm \d+ 'ui'\n", sh.run("pause ui"))
    time.sleep(PAUSE_S)   # what the pause is for: time going by
    assert re.fullmatch(r"resumed vm \d+ 'ui'\n", sh.run("resume ui"))
    sh.type("console ui")
    m.send("\r")
    m.expect(r"Connected to vm ui .*\r\n", CMD)
    m.send("third\r")
    answer, got = uart_answer(m, "third")
    check_rx(got, "third")
    assert got["tx"] >= sent, got
    assert abs(got["pm_ms"] - got["tsc_ms"]) <= max(20, got["tsc_ms"] // 10), got
    m.expect(r"uartirq: done\r\n", WAIT)
    m.send("\x1d")
    m.expect(r"Disconnected from vm ui\r\n" + re.escape(PROMPT), CMD)
    sh.run("destroy ui")
    assert sh.free_bytes() == sh.start_free


PAUSETIME_TSC = 250000000   # tests/guests/pausetime.c


def console_now(sh, vm):
    """What vm's console ring holds (console --all, detached at once)."""
    m = sh.m
    sh.type("console %s --all" % vm)
    m.send("\r")
    m.expect(r"Connected to vm %s .*\r\n" % vm, CMD)
    m.send("\x1d")
    m.expect(r"Disconnected from vm %s\r\n" % vm + re.escape(PROMPT), CMD)
    return m.before


def armed_after(sh, vm, after):
    """Waits for pausetime's first 'armed k' line with k > after (its console ring read
    from the start); returns (k, mode)."""
    m = sh.m
    sh.type("console %s --all" % vm)
    m.send("\r")
    m.expect(r"Connected to vm %s .*\r\n" % vm, CMD)
    k = 0
    while k <= after:
        g = m.expect(r"pausetime: armed (\d+) (\S+) for %d TSC\r\n" % PAUSETIME_TSC, WAIT)
        k = int(g.group(1))
    m.send("\x1d")
    m.expect(r"Disconnected from vm %s\r\n" % vm + re.escape(PROMPT), CMD)
    return k, g.group(2)


def test_pause_stops_the_tsc_and_the_local_apic_timer(sh):
    # pausetime arms its local APIC timer for 5 s of its own TSC, one-shot and then
    # TSC-deadline, and spins until it fires; the VM is paused for a while meanwhile.
    # Guest time stands through a pause for every clock the guest has: the timer fires
    # as long after it was armed as programmed (a local APIC timer that ran on through
    # the pause would fire at once after the resume, early by the guest's TSC), and the
    # PM timer measured the same wait (a TSC that ran on would show a longer one).
    m = sh.m
    assert re.fullmatch(r"created vm \d+ 'pt' \(2 MiB, 1 vCPU\)\nstarted vm \d+ 'pt'\n",
                        sh.run("create pausetime --name pt --mem 2M --start"))
    checked, k = set(), 0
    for _ in range(8):
        if len(checked) == 2:
            break
        k, mode = armed_after(sh, "pt", k)
        assert re.fullmatch(r"paused vm \d+ 'pt'\n", sh.run("pause pt"))
        if re.search(r"pausetime: fired %d " % k, console_now(sh, "pt")):
            # The timer fired before the pause took hold: not this round.
            assert re.fullmatch(r"resumed vm \d+ 'pt'\n", sh.run("resume pt"))
            continue
        before = sh.console_bytes("pt")
        time.sleep(PAUSE_S)   # what the pause is for: time going by
        assert sh.console_bytes("pt") == before   # nothing ran while paused
        assert re.fullmatch(r"resumed vm \d+ 'pt'\n", sh.run("resume pt"))
        g = console_lines(sh, "pt", r"pausetime: (fired %d %s after .*)" % (k, mode), 1)[0]
        f = re.fullmatch(r"fired \d+ \S+ after (\d+) TSC \((\d+) ms\), pm (\d+) ms, (\d+) ticks", g)
        assert f, g
        d, tsc_ms, pm_ms, ticks = (int(x) for x in f.groups())
        # Late by the guest's TSC at most 1% (the interrupt's delivery), never early.
        assert PAUSETIME_TSC <= d <= PAUSETIME_TSC * 101 // 100, g
        assert abs(pm_ms - tsc_ms) <= max(20, tsc_ms // 50), g
        assert ticks == 1, g
        checked.add(mode)
    assert checked == {"one-shot", "tsc-deadline"}, checked
    sh.run("destroy pt")
    assert sh.free_bytes() == sh.start_free


def test_device_timers_go_on_when_vcpu_0_stops_for_good(sh):
    # smppit routes the PIT through the I/O APIC to its AP, then its BSP halts with
    # interrupts off: vCPU 0 is gone for good, and the PIT's ticks must still come, at
    # their rate, to the AP (device timers are not vCPU 0's alone).
    assert re.fullmatch(r"created vm \d+ 'sp' \(4 MiB, 2 vCPUs\)\nstarted vm \d+ 'sp'\n",
                        sh.run("create smppit --name sp --mem 4M --vcpus 2 --start"))
    line = r"smppit: (BSP halts for good.*|AP 1: .*|done)"
    first = console_lines(sh, "sp", line, 2)
    assert first[0] == "BSP halts for good, the PIT to APIC ID 1", first
    assert sh.vcpus("sp")[0]["state"] == "halted"   # while the AP counts on
    lines = console_lines(sh, "sp", line, 5)         # from the start again
    assert lines[:2] == first and lines[4] == "done", lines
    for l in lines[1:4]:
        got = re.fullmatch(r"AP 1: (\d+) pit ticks in \d+ TSC: (\d+) Hz \(want 1000\)", l)
        assert got and 900 <= int(got.group(2)) <= 1100, lines
    sh.wait_states(sp="finished")   # every vCPU halted
    assert re.fullmatch(r"destroyed vm \d+ 'sp'\n", sh.run("destroy sp"))
    assert sh.free_bytes() == sh.start_free


def test_pause_stops_device_time(sh):
    # pitticker counts PIT interrupts (1 kHz, a line every 100). Paused, the PIT's time
    # stands: after resume the count goes on from where it was, no catching up.
    # (The PIT coalesces missed edges anyway; test_interrupt_driven_uart_through_the_console
    # measures the stopped device clock itself, on the PM timer.)
    m = sh.m
    sh.run("create pitticker --name pz --mem 2M --start")
    console_lines(sh, "pz", r"pitticker: pit tick (\d+)", 2)
    assert re.fullmatch(r"paused vm \d+ 'pz'\n", sh.run("pause pz"))
    before = sh.console_bytes("pz")
    time.sleep(PAUSE_S)
    assert sh.console_bytes("pz") == before
    sh.type("console pz --all")   # what it printed up to the pause
    m.send("\r")
    m.expect(r"Connected to vm pz .*\r\n", CMD)
    m.send("\x1d")
    m.expect(r"Disconnected from vm pz\r\n" + re.escape(PROMPT), CMD)
    paused_at = [int(t) for t in re.findall(r"pit tick (\d+)\r\n", m.before)][-1]
    assert re.fullmatch(r"resumed vm \d+ 'pz'\n", sh.run("resume pz"))
    sh.type("console pz --all")
    m.send("\r")
    m.expect(r"Connected to vm pz .*\r\n", CMD)
    got = []
    while not got or got[-1] < paused_at + 3:
        got.append(int(m.expect(r"pitticker: pit tick (\d+)\r\n", WAIT).group(1)))
    m.send("\x1d")
    m.expect(r"Disconnected from vm pz\r\n" + re.escape(PROMPT), CMD)
    assert paused_at in got, (paused_at, got)
    assert got == list(range(got[0], got[0] + len(got))), got
    sh.run("destroy pz")
    assert sh.free_bytes() == sh.start_free


def test_guest_reset_restarts_from_the_definition(sh):
    out = sh.run("create resetcf9 --name rc --mem 2M --start")
    first = int(re.search(r"started vm (\d+) 'rc'", out).group(1))
    m = sh.m
    again = int(m.expect(r"vm 'rc': reset by the guest; made anew from its definition as vm (\d+) "
                         r"and started \(on_reboot=restart\)\r\n", WAIT).group(1))
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


def memory_map(sh, vm):
    out = sh.run("info " + vm)
    return re.findall(r"^(?:  memory map:|\s+) +(0x[0-9a-f]{10})-(0x[0-9a-f]{10}) (\w+)$", out, re.M)


def test_ram_above_4g_and_its_clone(sh):
    # 2 MiB of RAM below the hole, 4 MiB from 4 GiB on: info shows the map, config keeps
    # the option, and a clone gets the same map (its memory copied region by region).
    out = sh.run("create ticker --name s1 --mem 6M --ram-below-4g 2M --start")
    assert re.fullmatch(r"created vm \d+ 's1' \(6 MiB, 1 vCPU\)\nstarted vm \d+ 's1'\n", out), out
    want = [("0x0000000000", "0x00001fffff", "ram"), ("0x00fec00000", "0x00fec00fff", "mmio"),
            ("0x00fee00000", "0x00fee00fff", "mmio"), ("0x0100000000", "0x01003fffff", "ram")]
    assert memory_map(sh, "s1") == want
    assert sh.run("config s1") == "define s1 ticker --mem 6M --ram-below-4g 2M --vcpus 1\n"
    console_lines(sh, "s1", r"ticker: tick (\d+)", 2)
    assert sh.run("clone s1 --name s2").startswith("cloned vm")
    assert memory_map(sh, "s2") == want
    got = [int(t) for t in console_lines(sh, "s2", r"ticker: tick (\d+)", 2)]
    assert got[1] == got[0] + 1 and got[0] >= 2, got
    sh.error("create ticker --name s3 --mem 6M --ram-below-4g 512K",
             "bad size '512K': RAM below 4 GiB is 1M to 3G, a multiple of 4K, with a unit (the "
             "rest of --mem goes above 4 GiB)",
             CREATE_USAGE)
    sh.run("destroy s1")
    sh.run("destroy s2")
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
        assert re.fullmatch(r"destroyed vm \d+ '%s'\n" % vm, sh.run("destroy " + vm))
    assert sh.free_bytes() == sh.start_free


def test_destroy_ends_vms_that_block_and_wake_all_the_time(sh):
    # pitticker halts between 1 kHz PIT interrupts: the stop lands as often as not while
    # its vCPU is about to block. A lost request there left it blocked for good, so that
    # destroy said "still leaving its CPUs" and its memory never came back (CI, stop 21).
    for rnd in range(4):
        names = ["pt%d%d" % (rnd, i) for i in range(3)]
        for n in names:
            sh.run("create pitticker --name %s --mem 2M --start" % n)
        for n in names:
            console_lines(sh, n, r"pitticker: pit tick (\d+)", 1)
        for n in names:
            assert re.fullmatch(r"destroyed vm \d+ '%s'\n" % n, sh.run("destroy " + n)), n
    assert sh.free_bytes() == sh.start_free
