# SPDX-License-Identifier: MIT
"""Issue 9: a VM flooding its UART leaves the console usable.

Without a management guest, guest lines go to the host console through a
per-VM rate limit and a console queue that keeps lines whole and keeps room
for the hypervisor's own lines. With the management shell, `console` shows a
flooding VM at half the serial line's rate, notes what it skipped, and Ctrl-]
always detaches.
"""
import os
import re
import time

import emu
from test_shell import PROMPT, Shell

BOOT = 120     # Bochs + GRUB with 2 CPUs
RUN = 400      # flood runs 12 s of guest time, the counter to TSC 800M (16 s)
CMD = 60
STAMP = re.compile(r"\[ *\d+\.\d{6}\] ")
FLOOD_LINE = re.compile(r"flood: +(\d+) x{62}")
FLOOD_LEN = 81     # "flood: %10lu " and 62 x, then "\n"


def guest(name):
    path = os.path.join(emu.BUILD, "guests", name + ".elf")
    assert os.path.exists(path), path
    return path


def whole_log_lines(m):
    """Waits for the run to end; every console line must be a whole log line (time
    stamp first, nothing cut or run together). Returns the output and the lines
    without their stamps."""
    m.wait_for(r"vmm: all VMs gone", RUN)
    m.wait_for(r"tern: powering off", 30)
    out = m.output()
    lines = out[out.index("[    0.000000] Tern "):].splitlines()
    assert lines[-1] == "tern: powering off", lines[-3:]
    bad = [l for l in lines[:-1] if not STAMP.match(l) or STAMP.search(l, 1)]
    assert not bad, bad[:10]
    return out, [STAMP.sub("", l, 1) for l in lines[:-1]]


def test_flooding_vm_leaves_the_console_whole(machine):
    cmd = ("after_boot=poweroff panic=poweroff vm=flood,image=flood,mem=2M,cpu=0 "
           "vm=count,image=counter,mem=2M,cpu=1")
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd,
                modules=[(guest("flood"), "flood"), (guest("counter"), "counter")])
    m.wait_for(r"vm flood: started", BOOT)
    out, body = whole_log_lines(m)

    # The other VM: every report, in order, no gap.
    ks = [int(g.group(1)) for g in (re.fullmatch(r"\[count\] counter: k=(\d+) count=\d+", b)
                                    for b in body) if g]
    assert ks and ks == list(range(ks[0], 41)), ks
    assert "[count] counter: done" in body

    # The hypervisor's own lines, all there.
    for want in (r"vm flood: started \(id 1, 2048 KiB, image 'flood'",
                 r"vm count: started \(id 2, 2048 KiB, image 'counter'",
                 r"vm count: finished: every vCPU halted",
                 r"vm count: \d+ exits \(", r"vm count: vcpu0 ran \d+ ms",
                 r"vm flood: finished: every vCPU halted",
                 r"vm flood: \d+ exits \(IO_INSTRUCTION \d+", r"vm flood: vcpu0 ran \d+ ms",
                 r"vmm: all VMs gone",
                 r"mem: all VMs gone: free (\d+) pages \(before guests: \1 pages\)"):
        assert len([b for b in body if re.match(want, b)]) == 1, (want, body[-20:])

    # The flood: shown in runs of whole lines, one note per gap naming exactly what
    # it left out; the console queue never had to drop a line.
    assert not [b for b in body if "not shown: the serial line is busy" in b]
    note = re.compile(r"WARN: vm flood: console rate limit: dropped (\d+) lines \((\d+) bytes\)")
    last = gaps = dropped = notes = shown = 0
    pending = None
    for b in body:
        g = note.fullmatch(b)
        if g:
            pending = (int(g.group(1)), int(g.group(2)))
            assert pending[0] > 0 and pending[1] > 0, b
            dropped, notes = dropped + pending[0], notes + 1
            continue
        g = re.fullmatch(r"\[flood\] " + FLOOD_LINE.pattern, b)
        if g:
            seq = int(g.group(1))
            if seq != last + 1:
                # The gap is what the note just before it said, to the line and byte.
                gap = seq - last - 1
                assert pending == (gap, gap * (FLOOD_LEN - 1)), (last, seq, pending)
                gaps += 1
            pending = None
            last, shown = seq, shown + 1
    print("flood: %d lines shown, %d dropped, %d notes" % (shown, dropped, notes))
    assert notes >= 5 and gaps >= 5, (notes, gaps)
    # A burst, then about 4 KiB a second: a small part of what it wrote (how
    # small depends on how fast the guest writes: its lines go through the
    # 16550 model and string I/O).
    assert dropped > 5 * shown, (shown, dropped)
    # What it wrote last: either all shown, up to "flood: N lines" and "done", or cut
    # short by a last note, which comes as the VM ends, before its end is logged.
    end = body.index("vm flood: finished: every vCPU halted")
    if body[end - 2:end] == ["[flood] flood: %d lines" % last, "[flood] flood: done"]:
        assert not pending
    else:
        assert note.fullmatch(body[end - 1]), body[end - 5:end]


def test_many_flooding_vms_never_cost_a_hypervisor_line(machine):
    # Ten VMs at their rate limit together offer more than the serial line carries:
    # the console queue drops guest lines whole, and the hypervisor's lines all go out.
    names = ["f%d" % i for i in range(10)]
    cmd = "after_boot=poweroff panic=poweroff " + " ".join(
        "vm=%s,image=flood,mem=2M" % n for n in names)
    m = machine(emu="bochs", cpus=2, boot="mb2", cmdline=cmd, modules=[(guest("flood"), "flood")])
    m.wait_for(r"vm f9: started", BOOT)
    out, body = whole_log_lines(m)
    for b in body:
        g = re.match(r"\[(f\d)\] (.*)", b)
        assert not g or re.fullmatch(FLOOD_LINE.pattern + r"|flood: (start .*|\d+ lines|done)",
                                     g.group(2)), b
    for n in names:
        for want in (r"vm %s: started \(id \d+, 2048 KiB, image 'flood'" % n,
                     r"vm %s: finished: every vCPU halted" % n,
                     r"vm %s: \d+ exits \(IO_INSTRUCTION" % n, r"vm %s: vcpu0 ran \d+ ms" % n):
            assert len([b for b in body if re.match(want, b)]) == 1, (want, body[-30:])
        assert [b for b in body
                if re.fullmatch(r"WARN: vm %s: console rate limit: dropped [1-9]\d* lines "
                                r"\([1-9]\d* bytes\)" % n, b)], n
    full = [int(g.group(1)) for g in (re.fullmatch(
        r"WARN: console: ([1-9]\d*) guest lines? \([1-9]\d* bytes\) not shown: the serial line "
        r"is busy \(the log ring has them\)", b) for b in body) if g]
    print("console queue: %d notes, %d guest lines not shown" % (len(full), sum(full)))
    assert full
    assert re.search(r"mem: all VMs gone: free (\d+) pages \(before guests: \1 pages\)", out)


def boot_shell(workdir):
    os.makedirs(workdir, exist_ok=True)
    m = emu.Machine(emu="bochs", cpus=2, mem=256, boot="mb2", model="corei7_skylake_x",
                    cmdline="mgmt=mgmt",
                    modules=[(os.path.join(emu.BUILD, "mgmt.elf"), "mgmt"),
                             (guest("flood"), "flood")],
                    workdir=workdir, console="pty")
    m.start()
    m.expect(r"Tern management shell, ABI 1\.4: 2 CPUs, \d+ MiB free\. Type 'help'\.\r\n", BOOT)
    m.expect(re.escape(PROMPT), 30)
    return m


def runs_and_notes(text):
    """The attached console's text as [(skipped bytes or None, [flood line numbers])]."""
    runs = [(None, [])]
    for line in text.replace("\r", "").split("\n"):
        g = re.fullmatch(r"\[\.\.\. (\d+) bytes skipped\]", line)
        if g:
            runs.append((int(g.group(1)), []))
        g = FLOOD_LINE.fullmatch(line)
        if g:
            runs[-1][1].append(int(g.group(1)))
    return runs


def test_console_to_a_flooding_vm_detaches_at_once(tmp_path):
    m = boot_shell(str(tmp_path / "shell"))
    try:
        sh = Shell(m)
        # On a CPU of its own: its run time is the guest time that passes.
        out = sh.run("create flood --mem 2M --cpus 1 --start")
        g = re.fullmatch(r"created vm (\d+) 'flood' \(2 MiB, 1 vCPU\)\nstarted vm \1 'flood'\n", out)
        assert g, out
        vmid = int(g.group(1))
        ran = sh.vms()["flood"]["time"]
        sh.type("console flood")
        m.send("\r")
        m.expect(r"Connected to vm flood \(escape character is \^\]\)\r\n", CMD)
        mark = m.epos
        m.expect(FLOOD_LINE.pattern + r"\r\n", CMD)
        m.expect(r"\[\.\.\. \d+ bytes skipped\]\r\n", CMD)
        m.expect(FLOOD_LINE.pattern + r"\r\n", CMD)
        # Typing into a VM that never reads: its 256-byte FIFO and the shell's 256
        # bytes fill, the rest is dropped and said so, and Ctrl-] still works.
        m.send(b"a" * 1000)
        g = m.expect(r"\[\.\.\. (\d+) typed bytes dropped: the VM is not reading\]\r\n", CMD)
        assert int(g.group(1)) > 0
        sent = time.monotonic()
        m.send(b"\x1d")
        m.expect(r"\r\nDisconnected from vm flood\r\n", 10)
        took = time.monotonic() - sent
        attached = m.text(mark)[:m.epos - mark]
        print("Ctrl-] to 'Disconnected': %.3f s wall" % took)
        assert took < 1.0, took
        m.expect(re.escape(PROMPT), CMD)

        # What was shown: runs of whole consecutive lines, each at most the VM's
        # 4 KiB buffer, a note before each run after the first naming the gap.
        runs = runs_and_notes(attached)
        skipped = [s for s, _ in runs[1:]]
        vms = sh.vms()
        ran = vms["flood"]["time"] - ran + 0.1   # TIME(s) has one decimal
        print("attached for at most %.1f s of guest time: %d bytes shown, %d skipped in %d notes"
              % (ran, len(attached), sum(skipped), len(skipped)))
        # Shown at under the serial line's rate (a first burst aside) while it wrote far more.
        assert len(attached) < 1024 + 11520 * ran, (len(attached), ran)
        # Past the first burst (the VM's buffer when attached), far more skipped than shown.
        after = sum(len(seqs) for _, seqs in runs[1:]) * FLOOD_LEN
        assert sum(skipped) > 2 * after, (sum(skipped), after)
        assert len(runs) >= 2 and all(s > 0 for s in skipped), runs
        for _, seqs in runs:
            assert not seqs or seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
            assert len(seqs) * FLOOD_LEN <= 4096 + FLOOD_LEN, len(seqs)
        for (_, prev), (skip, seqs) in zip(runs, runs[1:]):
            if prev and seqs:
                gap = seqs[0] - prev[-1] - 1
                # The gap's lines, less what was shown of the first one before the cut.
                assert (gap - 1) * FLOOD_LEN < skip <= gap * FLOOD_LEN, (prev[-1], seqs[0], skip)

        # The shell goes on: the flood still runs, and stop and destroy work.
        assert vms["flood"]["state"] == "running", vms
        assert sh.run("destroy flood") == "destroyed vm %d 'flood'\n" % vmid
        assert list(sh.vms()) == ["mgmt"]
        out = m.output()
        assert "mgmt: ERROR" not in out and "mgmt: stopped" not in out, out[-3000:]
    finally:
        m.kill()
