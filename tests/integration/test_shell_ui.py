# SPDX-License-Identifier: MIT
"""Issue 11, items 6, 9, 10 and machine-readable output: the shell's line editor
(long lines, cursor keys, Tab completion), top in place and in batch, log and
list filters, every --json document, tools/ternctl against a booted Tern, and
`make run`'s exit status when Tern cannot run.

One machine (Bochs with VT-x, 2 CPUs, GRUB) for the module; the tests run in
file order on it. The run.py test boots QEMU TCG (no VT-x) on its own.
"""
import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import threading
import time
import tty

import pytest

import emu
from test_shell import finish_shell, CMD, PROMPT, ERASE, Shell, boot_shell

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TERNCTL = os.path.join(ROOT, "tools", "ternctl")
IMAGES = ["hello", "echo", "ticker", "counter", "spinner", "bad_wild", "bad_triple"]
LIST_FIELDS = {"id", "name", "state", "mem_bytes", "vcpus", "cpus", "run_us", "management"}


@pytest.fixture(scope="module")
def sh(tmp_path_factory):
    m = boot_shell(str(tmp_path_factory.mktemp("shell_ui")))
    yield Shell(m)
    finish_shell(m, "watchdog")


def keys(sh, data, shown):
    """Sends control or escape bytes; waits for exactly what the shell must show for them."""
    sh.m.send(data)
    sh.m.expect(re.escape(shown), CMD)


def enter(sh, line_shown):
    """Enter; line_shown: what the shell shows of the line after the expect mark (after
    keys(), nothing more); returns the command's output."""
    sh.m.send("\r")
    sh.m.expect(re.escape(line_shown) + r"\r\n", CMD)
    sh.m.expect(re.escape(PROMPT), CMD)
    return sh.m.before.replace("\r", "")


def type_long(sh, text, piece=8):
    """Types a line wider than the screen: once it scrolls, a piece's echo is a redraw of
    the line's end, so each piece waits for at least its length of new output ending
    with it."""
    m = sh.m
    mark = m.epos
    for i in range(0, len(text), piece):
        p = text[i:i + piece]
        with m.raw_lock:
            before = len(m.raw)
        m.send(p)
        deadline = time.monotonic() + CMD
        while True:
            with m.raw_lock:
                got = bytes(m.raw[before:]).decode("latin-1")
            if len(got) >= len(p) and got.endswith(p):
                break
            assert time.monotonic() < deadline, "no echo of %r; got %r" % (p, got[-200:])
            time.sleep(0.01)
    m.epos = mark


def test_kib_line(sh):
    # 1050 characters: the verb's argument comes after 1040 blanks and is taken.
    line = "help" + " " * 1040 + "version"
    assert len(line) > 1024
    start = sh.m.epos
    type_long(sh, line)
    assert enter(sh, " version") == \
        "usage: version [--json]\nshell and hypervisor ABI versions\n"
    # The line scrolled sideways in place: no row drawn is wider than the 80 columns.
    shown = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", sh.m.text(start))
    rows = re.split(r"[\r\n]", shown)
    assert max(len(r) for r in rows) < 80, max(rows, key=len)
    assert shown.count(PROMPT) > 1024 // 80   # drawn again as it scrolled


def test_too_long_line(sh):
    m = sh.m
    limit = 4095
    type_long(sh, "version " + "x" * (limit - len("version ")), 32)
    m.send("yz")
    m.expect(re.escape("\r\nline too long (max %d characters)\r\n" % limit + PROMPT), CMD)
    out = enter(sh, "x" * 20)
    assert out == "error: line too long (max %d characters); nothing was run\n" % limit, out
    assert "\a" not in m.text(m.epos - 200)
    assert sh.run("version").startswith("tern shell ")


def test_cursor_editing(sh):
    m = sh.m
    # Left x3, insert in the middle: the line is drawn again, the cursor put back.
    sh.type("list --state runing")
    keys(sh, "\x1b[D\x1b[D\x1b[D", "\x1b[D\x1b[D\x1b[D")
    keys(sh, "n", ERASE + PROMPT + "list --state running\r\x1b[%dC" % (len(PROMPT) + 17))
    out = enter(sh, "list --state running")
    assert out.splitlines()[0].split()[:3] == ["ID", "NAME", "STATE"]
    assert [l.split()[2] for l in out.splitlines()[1:]] == ["running"], out
    # Home and insert; End; the xterm (ESC [ H, ESC [ F) and VT220 (ESC [ 1 ~, ESC [ 4 ~)
    # and application-mode (ESC O H) forms.
    sh.type("ersion")
    keys(sh, "\x1b[H", "\r\x1b[%dC" % len(PROMPT))
    keys(sh, "v", ERASE + PROMPT + "version\r\x1b[%dC" % (len(PROMPT) + 1))
    keys(sh, "\x1b[F", ERASE + PROMPT + "version")
    assert enter(sh, "").startswith("tern shell ")
    sh.type("nfo --json")
    keys(sh, "\x1b[1~", "\r\x1b[%dC" % len(PROMPT))
    keys(sh, "i", "i")
    keys(sh, "\x1b[4~", ERASE + PROMPT + "info --json")
    assert json.loads(enter(sh, ""))["cpus"] == 2
    # Ctrl-K kills to the end, Ctrl-W the word before the cursor, Ctrl-A / Ctrl-E.
    sh.type("version and more")
    keys(sh, "\x1bOH", "\r\x1b[%dC" % len(PROMPT))
    keys(sh, "\x1b[C" * 7, "\x1b[C" * 7)
    keys(sh, "\x0b", "\x1b[K")
    assert enter(sh, "").startswith("tern shell ")
    sh.type("info mgmt --json")
    keys(sh, "\x17", ERASE + PROMPT + "info mgmt ")
    keys(sh, "\x17", ERASE + PROMPT + "info ")
    keys(sh, "\x01", "\r\x1b[%dC" % len(PROMPT))
    keys(sh, "\x05", ERASE + PROMPT + "info ")
    assert enter(sh, "").startswith("host: 2 CPUs")
    # Delete (ESC [ 3 ~) the character under the cursor; Ctrl-U erases to the start.
    sh.type("xversion")
    keys(sh, "\x1b[H\x1b[3~", ERASE + PROMPT + "version\r\x1b[%dC" % len(PROMPT))
    assert enter(sh, "version").startswith("tern shell ")
    sh.type("destroy mgmt")
    keys(sh, "\x15", ERASE + PROMPT)
    assert sh.run("version").startswith("tern shell ")
    # Pasted at full speed, keys and all, in one write.
    m.send("lst --json\x1b[H\x1b[Ci\x1b[F\r")
    m.expect(re.escape(PROMPT + "list --json") + r"\r\n", CMD)
    m.expect(re.escape(PROMPT), CMD)
    assert [v["name"] for v in json.loads(m.before)["vms"]] == ["mgmt"]
    # Enter with the cursor inside runs the whole line.
    sh.type("version")
    keys(sh, "\x1b[D\x1b[D", "\x1b[D\x1b[D")
    assert enter(sh, PROMPT + "version").startswith("tern shell ")


def test_tab_completion(sh):
    m = sh.m
    # A verb, then an option of that verb: one match each, completed with a space.
    sh.type("vcpu-l")
    keys(sh, "\t", "vcpu-list ")
    sh.type("--js")
    keys(sh, "\t", "--json ")
    doc = json.loads(enter(sh, ""))
    assert [v["vm"] for v in doc["vcpus"]] == ["mgmt"]
    # Several verbs: the common prefix, then a second Tab lists them; the line is drawn
    # again after the list.
    sh.type("vc")
    keys(sh, "\t", "pu-")
    keys(sh, "\t", "\r\nvcpu-list  vcpu-pin\r\n" + PROMPT + "vcpu-")
    keys(sh, "\x15", ERASE + PROMPT)
    # Image names after create; then options.
    sh.type("create hel")
    keys(sh, "\t", "lo ")
    sh.type("--na")
    keys(sh, "\t", "me ")
    sh.type("tabvm --mem 2M")
    assert re.fullmatch(r"created vm \d+ 'tabvm' \(2 MiB, 1 vCPU\)\n",
                        enter(sh, "tabvm --mem 2M"))
    sh.type("create ")
    m.send("\t")
    # In columns as wide as the longest and two more, as many as 80 columns hold.
    keys(sh, "\t", "\r\n" + "".join("%-12s" % i for i in IMAGES[:5]) + IMAGES[5] + "\r\n"
         + IMAGES[6] + "\r\n" + PROMPT + "create ")
    keys(sh, "\x15", ERASE + PROMPT)
    # A VM name; options already given are not offered again.
    sh.type("info ta")
    keys(sh, "\t", "bvm ")
    out = enter(sh, "")
    assert re.match(r"vm \d+ 'tabvm': created\n", out), out
    sh.type("list --json --")
    m.send("\t")
    keys(sh, "\t", "\r\n--all    --state\r\n" + PROMPT + "list --json --")
    keys(sh, "\x15", ERASE + PROMPT)
    # An option's value: the words of "error|warn|info", and the list states.
    sh.type("log 2 --level w")
    keys(sh, "\t", "arn ")
    out = enter(sh, "")
    assert all(re.match(r"\[ *\d+\.\d+\] (WARN|ERROR): ", l) for l in out.splitlines()), out
    sh.type("list --state pa")
    keys(sh, "\t", "used ")
    assert enter(sh, "").split() == \
        ["ID", "NAME", "STATE", "MEM(MiB)", "VCPUS", "CPUS", "TIME(s)"]
    # No argument is left to give: the options.
    sh.type("log 2 ")
    keys(sh, "\t", "--level ")
    keys(sh, "\x15", ERASE + PROMPT)
    # Nothing fits: the bell, the line unchanged.
    sh.type("info zz")
    keys(sh, "\t", "info zz\a")
    keys(sh, "\x15", ERASE + PROMPT)
    assert sh.run("destroy tabvm").startswith("destroyed vm ")


def test_top_refreshes_in_place_and_q_quits(sh):
    m = sh.m
    sh.type("top")
    m.send("\r")
    m.expect(r"top\r\n\x1b\[H\x1b\[2J", CMD)
    frame = (r"\x1b\[Htern top: (\d+) VMs, sample %d; q or Ctrl-C quits\x1b\[K\r\n"
             r" +ID NAME +STATE +CPU%% +EXITS/s +MEM\(MiB\)\x1b\[K\r\n"
             r"( +\d+ \S+ +\S+ +\d+\.\d +\d+ +[\d.]+\x1b\[K\r\n)+\x1b\[J")
    first = m.expect(frame % 1, CMD)
    assert first.group(1) == "1" and " mgmt " in first.group(0)
    m.expect(frame % 2, CMD)
    # Each frame over the last: no clear screen again, no newline between frames.
    assert "\x1b[2J" not in m.before and m.before == ""
    m.send("q")
    m.expect(re.escape(PROMPT), CMD)
    assert m.before.replace("\x1b[J", "") == "" or re.fullmatch(frame % 3, m.before), m.before
    # Ctrl-C quits as well, and prints no ^C.
    sh.type("top")
    m.send("\r")
    m.expect(frame % 1, CMD)
    m.send("\x03")
    m.expect(re.escape(PROMPT), CMD)
    assert "^C" not in m.before, m.before
    assert sh.run("version").startswith("tern shell ")


def test_top_batch(sh):
    out = sh.run("top -b -n 1")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STATE", "CPU%", "EXITS/s", "MEM(MiB)"], out
    assert [l.split()[1] for l in lines[1:]] == ["mgmt"], out
    assert "\x1b" not in out
    out = sh.run("top -b -n 2")
    blocks = out.split("\n\n")
    assert len(blocks) == 2 and all(b.startswith("  ID NAME") for b in blocks), out
    sh.error("top -n", "option '-n' needs a value", "top [-b] [-n N] [--json]")
    sh.error("top -b -n 0", "bad count '0': use 1 to 1000", "top [-b] [-n N] [--json]")
    sh.error("top -x", "unknown option '-x'", "top [-b] [-n N] [--json]")


def test_log_count_and_level(sh):
    assert re.fullmatch(r"created vm \d+ 'bw' .*\nstarted vm \d+ 'bw'\n",
                        sh.run("create bad_wild --name bw --mem 2M --start"))
    sh.wait_states(bw="crashed")
    out = sh.run("log 4").splitlines()
    assert len(out) == 4 and all(re.match(r"\[ *\d+\.\d+\] ", l) for l in out), out
    errors = sh.run("log --level error").splitlines()
    assert errors and all(re.match(r"\[ *\d+\.\d+\] ERROR: ", l) for l in errors), errors
    assert any("vm bw: stopped: EPT violation" in l for l in errors), errors
    warn = sh.run("log 2000 --level warn").splitlines()
    assert all(re.match(r"\[ *\d+\.\d+\] (ERROR|WARN): ", l) for l in warn), warn
    assert set(errors) <= set(warn) and len(warn) <= 2000
    assert sh.run("log 1 --level error").splitlines() == errors[-1:]
    everything = sh.run("log 2000").splitlines()
    assert len(everything) > len(warn) and set(warn) <= set(everything)
    sh.error("log --level bogus", "bad level 'bogus': use error, warn or info (that level "
             "and worse)", "log [N] [--level error|warn|info]")
    sh.error("log 0", "bad line count '0': use 1 to 2000", "log [N] [--level error|warn|info]")
    sh.error("log --level", "option '--level' needs a value", "log [N] [--level error|warn|info]")


def test_list_state(sh):
    for line in ("create ticker --name t1 --mem 2M --start", "create ticker --name t2 --mem 2M",
                 "create ticker --name t3 --mem 2M --start"):
        assert sh.run(line).startswith("created vm ")
    assert sh.run("pause t3").startswith("paused vm ")

    def names(line):
        out = sh.run(line).splitlines()
        assert out[0].split() == ["ID", "NAME", "STATE", "MEM(MiB)", "VCPUS", "CPUS", "TIME(s)"]
        return {l.split()[1]: l.split()[2] for l in out[1:]}

    assert names("list --state running") == {"mgmt": "running", "t1": "running"}
    assert names("list --state created") == {"t2": "created"}
    assert names("list --state=paused") == {"t3": "paused"}
    assert names("list --state crashed") == {"bw": "crashed"}
    assert names("list --state finished") == {}
    assert set(names("list")) == {"mgmt", "t1", "t2", "t3", "bw"}
    usage = "list [--all] [--state STATE] [--json]"
    sh.error("list --state bogus", "bad state 'bogus': use created, running, paused, crashed, "
             "finished or shut-off", usage)
    sh.error("list --state running --state paused", "option '--state' given twice", usage)


def test_json_outputs(sh):
    def doc(line):
        out = sh.run(line)
        assert out.count("\n") == 1 and out.endswith("\n"), out   # one document, one line
        return json.loads(out)

    text = sh.vms()
    vms = doc("list --json")["vms"]
    assert [v["name"] for v in vms] == list(text)
    for v in vms:
        assert set(v) == LIST_FIELDS, v
        t = text[v["name"]]
        assert (v["id"], v["state"], v["vcpus"]) == (t["id"], t["state"], t["vcpus"])
        assert v["mem_bytes"] == float(t["mem"]) * 2**20
        assert v["management"] == (v["name"] == "mgmt")
        assert isinstance(v["run_us"], int) and isinstance(v["cpus"], list)
    assert [v["name"] for v in doc("list --state paused --json")["vms"]] == ["t3"]
    host = doc("info --json")
    assert set(host) == {"cpus", "abi", "uptime_us", "tsc_khz", "mem_total_bytes",
                         "mem_free_bytes", "mem_reserved_bytes", "mem_available_bytes",
                         "features", "vms", "max_vcpus", "shell_vm_id"}, host
    assert host["cpus"] == 2 and host["vms"] == len(vms) and host["shell_vm_id"] == 1
    assert host["mem_available_bytes"] <= host["mem_free_bytes"] <= host["mem_total_bytes"]
    assert "ept-2m" in host["features"]
    bw = doc("info bw --json")
    assert set(bw) == {"id", "name", "state", "management", "stop_reason", "mem_bytes",
                       "memory_map", "vcpus", "run_us", "console_bytes", "refused_calls",
                       "unhandled_io", "unhandled_msr", "first_output_us", "exits_total",
                       "exits"}, bw
    assert bw["memory_map"] == [{"gpa": 0, "size": 2 << 20, "type": "ram"},
                                {"gpa": 0xfec00000, "size": 4096, "type": "mmio"},
                                {"gpa": 0xfee00000, "size": 4096, "type": "mmio"}], bw
    assert (bw["name"], bw["state"], bw["mem_bytes"]) == ("bw", "crashed", 2 << 20)
    assert bw["stop_reason"].startswith("EPT violation: instruction fetch at GPA 0xbeef0000")
    assert bw["exits_total"] >= sum(bw["exits"].values()) > 0
    assert doc("info t2 --json")["stop_reason"] is None
    vc = doc("vcpu-list --json")["vcpus"]
    assert [v["vm"] for v in vc] == [v["name"] for v in vms]
    for v in vc:
        assert set(v) == {"vm_id", "vm", "vcpu", "state", "cpu", "pinned", "run_us", "moves",
                          "cpus_seen"}, v
        assert v["cpu"] is None or v["cpu"] in (0, 1)
    assert [v["vm"] for v in doc("vcpu-list t1 --json")["vcpus"]] == ["t1"]
    top = doc("top -b -n 1 --json")
    assert set(top) == {"interval_us", "vms"} and top["interval_us"] >= 900000, top
    for v in top["vms"]:
        assert set(v) == {"id", "name", "state", "cpu_pct", "exits_per_s", "mem_bytes"}, v
    assert {v["name"] for v in top["vms"]} == {v["name"] for v in vms}
    assert next(v for v in top["vms"] if v["name"] == "t3")["cpu_pct"] == 0
    images = doc("images --json")["images"]
    assert [i["name"] for i in images] == IMAGES
    for i in images:
        assert set(i) == {"name", "bytes", "type", "usable", "why"}, i
        assert (i["type"], i["usable"], i["why"]) == ("elf64", True, None), i
        assert i["bytes"] == os.path.getsize(os.path.join(emu.BUILD, "guests",
                                                          i["name"] + ".elf"))
    ver = doc("version --json")
    assert set(ver) == {"shell", "shell_abi", "abi", "abi_compatible"}, ver
    assert ver["abi_compatible"] is True and re.fullmatch(r"\d+\.\d+", ver["abi"])
    # Errors stay plain text lines.
    assert re.fullmatch(r"error: no VM with id or name 'zz' \(see list( --all)?\)\n",
                        sh.run("info zz --json"))
    sh.cleanup()


class ConsoleBridge:
    """A second way to the console: a pty, as `make run CONSOLE=pty` offers one, or a TCP
    port, as a BMC's serial-over-LAN bridge. The test relays it to and from the machine's
    console (emu.py's pty); output while nobody is connected is dropped."""

    def __init__(self, m, tcp=False):
        self.m = m
        self.stop = False
        self.listener = self.conn = self.master = self.slave = None
        if tcp:
            self.listener = socket.socket()
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(1)
            self.path = "127.0.0.1:%d" % self.listener.getsockname()[1]
        else:
            self.master, self.slave = pty.openpty()
            tty.setraw(self.slave)
            os.set_blocking(self.master, False)
            self.path = os.ttyname(self.slave)
        with m.raw_lock:
            self.pos = len(m.raw)
        self.thread = threading.Thread(target=self.pump, daemon=True)
        self.thread.start()

    def peer_read(self):
        if self.master is not None:
            return os.read(self.master, 4096)
        data = self.conn.recv(4096)
        if not data:   # ternctl is done: wait for the next
            self.conn.close()
            self.conn = None
        return data

    def peer_write(self, data):
        try:
            if self.master is not None:
                os.write(self.master, data)
            elif self.conn is not None:
                self.conn.sendall(data)
        except (BlockingIOError, OSError):
            pass

    def pump(self):
        while not self.stop:
            peer = self.master if self.master is not None else (self.conn or self.listener)
            r, _, _ = select.select([peer], [], [], 0.01)
            if r and peer is self.listener:
                self.conn, _ = self.listener.accept()
            elif r:
                data = self.peer_read()
                if data:
                    self.m.send(data)
            with self.m.raw_lock:
                data = bytes(self.m.raw[self.pos:])
                self.pos += len(data)
            if data:
                self.peer_write(data)

    def close(self):
        self.stop = True
        self.thread.join(2)
        for s in (self.conn, self.listener):
            if s is not None:
                s.close()
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)


def ternctl(bridge, *args):
    p = subprocess.run([sys.executable, TERNCTL, "--console", bridge.path] + list(args),
                       capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout, p.stderr


def test_ternctl(sh):
    bridge = ConsoleBridge(sh.m)
    try:
        # Something half typed is abandoned first.
        sh.m.send("destroy mg")
        rc, out, err = ternctl(bridge, "list")
        assert (rc, err) == (0, ""), (rc, out, err)
        assert [v["name"] for v in json.loads(out)["vms"]] == ["mgmt"]
        rc, out, err = ternctl(bridge, "create", "hello", "--name", "h1", "--mem", "4M")
        assert rc == 0, (out, err)
        res = json.loads(out)
        assert res["ok"] is True and len(res["output"]) == 1
        vm_id = int(re.fullmatch(r"created vm (\d+) 'h1' \(4 MiB, 1 vCPU\)",
                                 res["output"][0]).group(1))
        rc, out, err = ternctl(bridge, "info", "h1")
        assert rc == 0 and json.loads(out)["state"] == "created", (out, err)
        rc, out, err = ternctl(bridge, "start", "h1")
        assert (rc, json.loads(out)) == (0, {"ok": True, "output": ["started vm %d 'h1'"
                                                                      % vm_id]}), (out, err)
        rc, out, err = ternctl(bridge, "--compact", "info")
        assert rc == 0 and out.count("\n") == 1 and json.loads(out)["cpus"] == 2
        rc, out, err = ternctl(bridge, "top")
        assert rc == 0 and "h1" in {v["name"] for v in json.loads(out)["vms"]}
        rc, out, err = ternctl(bridge, "destroy", "h1")
        assert (rc, json.loads(out)["output"]) == (0, ["destroyed vm %d 'h1'" % vm_id]), err
        # Failure: the shell's message on stderr, status 1.
        rc, out, err = ternctl(bridge, "info", "h1")
        assert (rc, out) == (1, "") and re.fullmatch(
            r"error: no VM with id or name 'h1' \(see list( --all)?\)\n", err), (rc, out, err)
        rc, out, err = ternctl(bridge, "create", "nosuch")
        assert rc == 1 and err.startswith("error: no boot image named 'nosuch'"), err
        rc, out, err = ternctl(bridge, "list")
        assert [v["name"] for v in json.loads(out)["vms"]] == ["mgmt"]
    finally:
        bridge.close()
    # The same through TCP (a serial-over-LAN bridge); a word the shell cannot take is
    # refused before anything is typed.
    bridge = ConsoleBridge(sh.m, tcp=True)
    try:
        rc, out, err = ternctl(bridge, "--compact", "version")
        assert rc == 0 and json.loads(out)["abi_compatible"] is True, (rc, out, err)
        rc, out, err = ternctl(bridge, "create", "hello", "--name", "a b")
        assert rc != 0 and "bad word 'a b'" in err and out == "", (rc, out, err)
        rc, out, err = ternctl(bridge, "console", "mgmt")
        assert rc != 0 and "'console' is interactive" in err, (rc, out, err)
        rc, out, err = ternctl(bridge, "list", "--state", "running")
        assert [v["name"] for v in json.loads(out)["vms"]] == ["mgmt"], (rc, out, err)
    finally:
        bridge.close()
    sh.m.mark()
    assert sh.run("version").startswith("tern shell ")


def test_help_keys_and_leaving(sh):
    out = sh.run("help")
    assert "Tab completes (twice: lists)" in out
    assert "Ctrl-A x quits the emulator" in out
    assert sh.run("help top").startswith("usage: top [-b] [-n N] [--json]\n")


def test_run_py_exit_status_without_vtx(tmp_path):
    # QEMU TCG has no VT-x: Tern says it cannot run and powers off; make run must fail.
    env = dict(os.environ, TERN_BUILD=emu.BUILD)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "run.py"), "--emu", "qemu",
                        "--boot", "mb2"], stdin=subprocess.DEVNULL, capture_output=True,
                       env=env, timeout=120)
    out = p.stdout.decode("latin-1")
    assert "Tern cannot run on this machine because this CPU does not offer Intel VT-x" in out
    assert "[tern run: Tern cannot run on this machine (see above): exit status 1]" in out
    assert p.returncode == 1, (p.returncode, out[-2000:])
