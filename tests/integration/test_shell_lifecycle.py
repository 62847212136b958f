# SPDX-License-Identifier: MIT
"""Issue 11, items 4 and 5: virsh's lifecycle words and saved VM definitions in the shell.

One machine (Bochs with VT-x, 2 CPUs, GRUB) for the module, booted with a boot module
'defs' of define lines (one of them autostart); the tests run in file order on it.
"""
import os
import re

import pytest

from test_shell import finish_shell, CMD, PROMPT, Shell, boot_shell, CREATE_USAGE, DEFINE_USAGE

DEFS = """# definitions the shell takes at boot
define auto1 ticker --mem 4M --autostart
define spare hello --mem 2M --vcpus 1

create hello
define bad/name hello
"""
# list --all: "-" for the id and the two words "shut off" of a defined VM with no VM now.
ROW = re.compile(r"^ *(\d+|-) (\S+) +(shut off|\S+) +(\S+) +(\d+) +(\S+) +(\S+)(  \(this shell\))?$")
NOTE = "note: 'stop' is now 'destroy', a hard stop that frees the VM's memory\n"


def list_all(sh, *args):
    out = sh.run(" ".join(("list",) + args)).splitlines()
    assert out[0].split() == ["ID", "NAME", "STATE", "MEM(MiB)", "VCPUS", "CPUS", "TIME(s)"]
    rows = {}
    for line in out[1:]:
        m = ROW.match(line)
        assert m, line
        rows[m.group(2)] = dict(id=m.group(1), state=m.group(3), mem=m.group(4),
                                vcpus=int(m.group(5)), cpus=m.group(6), time=m.group(7))
    return rows


def wait_state(sh, name, state):
    for _ in range(100):
        rows = list_all(sh)
        if rows[name]["state"] == state:
            return rows
    raise AssertionError("vm %s not %s: %r" % (name, state, rows))


def ticker_start(sh, vm):
    """Attaches to a ticker VM's console from its start (--all) until it has ticked twice;
    returns the VM id the guest says it runs as and the first tick number seen."""
    m = sh.m
    sh.type("console %s --all" % vm)
    m.send("\r")
    m.expect(r"Connected to vm %s .*\r\n" % vm, CMD)
    vm_id = int(m.expect(r"ticker: start \(vm (\d+),[^\r]*\r\n", CMD).group(1))
    first = int(m.expect(r"ticker: tick (\d+)\r\n", CMD).group(1))
    m.expect(r"ticker: tick %d\r\n" % (first + 1), CMD)
    m.send("\x1d")
    m.expect(r"Disconnected from vm %s\r\n" % vm + re.escape(PROMPT), CMD)
    return vm_id, first


@pytest.fixture(scope="module")
def sh(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("lifecycle"))
    defs = os.path.join(work, "defs.txt")
    with open(defs, "w") as f:
        f.write(DEFS)
    m = boot_shell(work, more_modules=[(defs, "defs")])
    shell = Shell(m)
    shell.boot = m.text()
    yield shell
    finish_shell(m, "watchdog")


def test_boot_definitions_and_autostart(sh):
    boot = sh.boot.replace("\r", "")
    want = ("defs: define auto1 ticker --mem 4M --autostart\n"
            "defined vm 'auto1' (image ticker, 4 MiB, 1 vCPU, autostart): start auto1 runs it\n"
            "defs: define spare hello --mem 2M --vcpus 1\n"
            "defined vm 'spare' (image hello, 2 MiB, 1 vCPU): start spare runs it\n"
            "defs: create hello\n"
            "error: defs line 5: only define lines are taken, not 'create'\n"
            "defs: define bad/name hello\n"
            "error: bad name 'bad/name': use 1 to 31 letters, digits, '.', '_' or '-', not "
            "starting with '-' and not all digits\n"
            "usage: " + DEFINE_USAGE + "\n")
    assert want in boot, boot
    assert re.search(r"autostart: start auto1\nstarted vm 2 'auto1' from its definition\n",
                     boot), boot
    # The definitions module is no guest image.
    assert "defs" not in sh.run("images")
    sh.error("create defs", "image 'defs' holds the shell's boot definitions; it is not a "
             "guest image (see images)",
             CREATE_USAGE)
    # list shows active VMs only, list --all the shut-off definition too (id '-').
    assert set(list_all(sh)) == {"mgmt", "auto1"}
    rows = list_all(sh, "--all")
    assert list(rows) == ["mgmt", "auto1", "spare"], rows
    assert rows["auto1"]["state"] == "running" and rows["auto1"]["id"] == "2"
    assert rows["spare"] == dict(id="-", state="shut off", mem="2", vcpus=1, cpus="-", time="-")
    assert sh.run("config auto1") == "define auto1 ticker --mem 4M --vcpus 1 --autostart\n"
    assert ticker_start(sh, "auto1") == (2, 1)


def test_destroy_a_running_vm_then_start_it_again(sh):
    free_running = sh.free_bytes()
    assert sh.run("destroy auto1") == ("destroyed vm 2 'auto1'; shut off, its definition kept "
                                       "(start auto1)\n")
    free = sh.free_bytes()
    assert free[0] >= free_running[0] + (4 << 20), (free, free_running)   # its memory is back
    assert "auto1" not in list_all(sh)
    assert list_all(sh, "--all")["auto1"] == dict(id="-", state="shut off", mem="4", vcpus=1,
                                                  cpus="-", time="-")
    sh.error("info auto1", "vm 'auto1' is shut off (destroyed by the operator): it has no "
             "memory or vCPUs now (start auto1)")
    sh.error("destroy auto1", "vm 'auto1' is not running: it is shut off (undefine auto1 "
             "forgets it)")
    sh.error("shutdown auto1", "vm 'auto1' is not running: it is shut off")
    sh.error("reset auto1", "vm 'auto1' is not running: it is shut off (start auto1)")
    out = sh.run("start auto1")
    m = re.fullmatch(r"started vm (\d+) 'auto1' from its definition\n", out)
    assert m and int(m.group(1)) > 2, out
    new = int(m.group(1))
    # The same definition, a new VM: it runs from its start again as the new id.
    assert ticker_start(sh, "auto1") == (new, 1)
    assert list_all(sh)["auto1"]["id"] == str(new)
    assert sh.run("config auto1") == "define auto1 ticker --mem 4M --vcpus 1 --autostart\n"
    sh.error("start auto1", "vm 'auto1' is already running")
    # stop is the old name of destroy and says so.
    assert sh.run("stop auto1") == NOTE + ("destroyed vm %d 'auto1'; shut off, its definition "
                                           "kept (start auto1)\n" % new)
    assert sh.free_bytes() == free
    # A paused VM is destroyed as well.
    out = sh.run("start auto1")
    new = int(re.fullmatch(r"started vm (\d+) 'auto1' from its definition\n", out).group(1))
    assert sh.run("pause auto1") == "paused vm %d 'auto1'\n" % new
    assert sh.run("destroy auto1").startswith("destroyed vm %d 'auto1';" % new)
    assert sh.free_bytes() == free


def test_reset_shutdown_reboot(sh):
    out = sh.run("start auto1")
    old = int(re.fullmatch(r"started vm (\d+) 'auto1' from its definition\n", out).group(1))
    # The ticker never enables ACPI power-button events (test_shell_state.py has one that does).
    sh.error("shutdown auto1", "vm 'auto1' has not enabled ACPI power-button events: the press "
             "is latched but the guest is not told; 'destroy auto1' stops it at once, without asking")
    sh.error("reboot auto1", "vm 'auto1' has not enabled ACPI power-button events: the press "
             "is latched but the guest is not told; 'reset auto1' restarts it at once, without asking")
    assert list_all(sh)["auto1"]["state"] == "running"   # neither touched it
    out = sh.run("reset auto1")
    m = re.fullmatch(r"reset vm 'auto1': vm %d destroyed, vm (\d+) made from its definition "
                     r"and started\n" % old, out)
    assert m, out
    new = int(m.group(1))
    assert new > old
    assert ticker_start(sh, "auto1") == (new, 1)   # from its start again
    # A VM made by create resets too (from what create was given), and stays transient.
    assert re.fullmatch(r"created vm \d+ 'tr' \(2 MiB, 1 vCPU\)\nstarted vm \d+ 'tr'\n",
                        sh.run("create ticker --name tr --mem 2M --start"))
    assert re.fullmatch(r"reset vm 'tr': vm \d+ destroyed, vm \d+ made from its definition "
                        r"and started\n", sh.run("reset tr"))
    tr = list_all(sh)["tr"]
    assert tr["state"] == "running" and tr["mem"] == "2"
    assert sh.run("destroy tr") == "destroyed vm %s 'tr'\n" % tr["id"]
    assert "tr" not in list_all(sh, "--all")   # transient: forgotten
    assert re.fullmatch(r"created vm \d+ 'h' .*\n", sh.run("create hello --name h --mem 2M"))
    sh.error("shutdown h", "vm 'h' has not started (start h)")
    sh.error("reset h", "vm 'h' has not started (start h)")
    assert sh.run("destroy h").startswith("destroyed vm ")


def test_define_config_undefine_autostart(sh):
    define = DEFINE_USAGE
    out = sh.run("define tk ticker --mem 8M --vcpus 2 --cpus 1")
    assert out == "defined vm 'tk' (image ticker, 8 MiB, 2 vCPUs): start tk runs it\n"
    line = "define tk ticker --mem 8M --vcpus 2 --cpus 1"
    assert sh.run("config tk") == line + "\n"
    sh.error("define tk hello", "vm 'tk' is defined already (config tk shows it; undefine tk "
             "first)")
    sh.error("define auto1 hello", "vm 'auto1' is defined already (config auto1 shows it; "
             "undefine auto1 first)")
    sh.error("define mgmt hello", "a vm named 'mgmt' exists already (see list)")
    # config's line is what define takes back.
    assert sh.run("undefine tk") == "undefined vm 'tk'\n"
    assert "tk" not in list_all(sh, "--all")
    sh.error("config tk", "no VM with id or name 'tk' (see list --all)")
    assert sh.run(line).startswith("defined vm 'tk' ")
    assert sh.run("config tk") == line + "\n"
    assert sh.run("autostart tk") == "vm 'tk' will be started when the shell starts\n"
    assert sh.run("config tk") == line + " --autostart\n"
    assert sh.run("autostart tk --disable") == "vm 'tk' will not be started when the shell " \
        "starts\n"
    assert sh.run("config tk") == line + "\n"
    # It runs as defined; a running VM is not undefined.
    out = sh.run("start tk")
    tk = int(re.fullmatch(r"started vm (\d+) 'tk' from its definition\n", out).group(1))
    row = list_all(sh)["tk"]
    assert (row["mem"], row["vcpus"], row["cpus"]) == ("8", 2, "1"), row
    sh.error("undefine tk", "vm 'tk' is running: destroy it first (destroy tk), then undefine it")
    sh.error("undefine %d" % tk, "vm 'tk' is running: destroy it first (destroy tk), then "
             "undefine it")
    sh.error("create hello --name tk", "a vm named 'tk' exists already")
    assert sh.run("destroy tk").startswith("destroyed vm %d 'tk';" % tk)
    sh.error("create hello --name tk", "a vm named 'tk' is defined (shut off): start tk runs "
             "it; undefine tk frees the name")
    assert sh.run("undefine tk") == "undefined vm 'tk'\n"
    # Made by create: transient, with a config line but nothing to undefine or autostart.
    assert re.fullmatch(r"created vm \d+ 'tr' .*\n", sh.run("create hello --name tr --mem 2M"))
    assert sh.run("config tr") == "define tr hello --mem 2M --vcpus 1\n"
    sh.error("undefine tr", "vm 'tr' is transient (made by create): it has no definition to "
             "undefine; destroy forgets it")
    sh.error("autostart tr", "vm 'tr' is transient (made by create): only a defined VM can "
             "autostart (see define)")
    sh.error("define tr hello", "a vm named 'tr' exists already (see list)")
    assert sh.run("destroy tr").startswith("destroyed vm ")
    sh.error("config mgmt", "vm 'mgmt' is the management guest (this shell): it has no "
             "definition")
    sh.error("undefine mgmt", "vm 'mgmt' is the management guest (this shell): it has no "
             "definition")
    # Bad input.
    rule = ("use 1 to 31 letters, digits, '.', '_' or '-', not starting with '-' and not all "
            "digits")
    sh.error("define", "missing NAME", define)
    sh.error("define x", "missing IMAGE or --kernel IMAGE (see images)", define)
    sh.error("define 5 hello", "bad name '5': " + rule, define)
    sh.error("define x/y hello", "bad name 'x/y': " + rule, define)
    sh.error("define x nosuch", "no boot image named 'nosuch' (see images)", define)
    sh.error("define x mgmt", "image 'mgmt' is the management guest's (this shell); it is not "
             "a guest image (see images)", define)
    sh.error("define x hello --mem 1", "bad size '1': give a unit, K, M or G (e.g. 16M); a bare "
             "number is not taken as bytes", define)
    sh.error("define x hello --vcpus 9", "bad vCPU count '9': use 1 to 8", define)
    sh.error("define x hello --name y", "unknown option '--name'", define)
    sh.error("define x hello extra", "too many arguments ('extra')", define)
    sh.error("define x hello --autostart --autostart", "option '--autostart' given twice",
             define)
    sh.error("start nosuch", "no VM with id or name 'nosuch' (see list --all)")
    sh.error("undefine nosuch", "no VM with id or name 'nosuch' (see list --all)")
    sh.error("autostart", "missing VM", "autostart VM [--disable]")
    sh.error("autostart spare --disable --disable", "option '--disable' given twice",
             "autostart VM [--disable]")
    assert sh.run("list --all x").startswith("error: too many arguments ('x')\n"
                                             "usage: list [--all]")
    assert "x" not in list_all(sh, "--all")


def test_finished_and_crashed_vms_start_again(sh):
    out = sh.run("start spare")
    first = int(re.fullmatch(r"started vm (\d+) 'spare' from its definition\n", out).group(1))
    wait_state(sh, "spare", "finished")
    out = sh.run("start spare")
    m = re.fullmatch(r"started vm (\d+) 'spare' from its definition \(vm %d, which had "
                     r"finished, destroyed\)\n" % first, out)
    assert m, out
    wait_state(sh, "spare", "finished")
    assert sh.run("destroy spare").startswith("destroyed vm %s 'spare';" % m.group(1))
    sh.error("info spare", "vm 'spare' is shut off (finished: every vCPU halted): it has no "
             "memory or vCPUs now (start spare)")
    assert sh.run("define bw bad_wild --mem 2M").startswith("defined vm 'bw' ")
    out = sh.run("start bw")
    bw = int(re.fullmatch(r"started vm (\d+) 'bw' from its definition\n", out).group(1))
    wait_state(sh, "bw", "crashed")
    sh.error("pause bw", "vm 'bw' is not running: it has crashed")
    assert sh.run("destroy bw").startswith("destroyed vm %d 'bw';" % bw)
    # The last stop reason is kept, whole.
    out = sh.run("info bw")
    assert re.fullmatch(r"error: vm 'bw' is shut off \(crashed: EPT violation: instruction fetch "
                        r"at GPA 0xbeef0000, [^\n]*\): it has no memory or vCPUs now "
                        r"\(start bw\)\n", out), out
    assert sh.run("undefine bw") == "undefined vm 'bw'\n"
    assert sorted(list_all(sh, "--all")) == ["auto1", "mgmt", "spare"]
