#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`make run`: boot Tern with its serial console on this terminal.

QEMU with KVM where /dev/kvm and VMX exist (nested virtualization), else
Bochs (which emulates VT-x). QEMU: Ctrl-A x quits. Bochs: Ctrl-A x quits too
(this script relays the console through a pty).

The exit status is 1 when Tern said it cannot run on the (emulated) machine
("Tern cannot run on this machine because ..."), as under QEMU TCG, which has
no VT-x; else the emulator's. --console-pty also offers the console on a
second pty, whose path it prints, for tools/ternctl (`ternctl --console PATH
list`); input from both goes to the shell.

By default the console is the management shell: `mgmt=mgmt` is added to the
command line with build/mgmt.elf as module 'mgmt', and, when no modules are
given, a few test guests to create VMs from (hello, ticker, echo, counter,
spinner). --no-mgmt boots exactly the command line and modules given.
"""
import argparse
import os
import pty
import re
import select
import subprocess
import sys
import termios
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

CTRL_A = b"\x01"
# What Tern prints before it powers off on a machine without usable VT-x (init/main.c).
REFUSAL = b"Tern cannot run on this machine because"
MGMT_IMAGE = os.path.join(emu.BUILD, "mgmt.elf")
DEFAULT_GUESTS = ("hello", "ticker", "echo", "counter", "spinner")


def with_mgmt(cmdline, mods):
    """The command line and modules with the management shell added."""
    if not re.search(r"(^|\s)mgmt=", cmdline):
        cmdline = ("mgmt=mgmt " + cmdline).strip()
        if not mods:
            for g in DEFAULT_GUESTS:
                path = os.path.join(emu.BUILD, "guests", g + ".elf")
                if os.path.exists(path):
                    mods.append((path, g))
        mods.insert(0, (MGMT_IMAGE, "mgmt"))
    return cmdline, mods


quit_by_user = [False]   # relay() ended on Ctrl-A x


def relay(master, proc, extra=None):
    """Copy the terminal (and the extra pty's master) to the pty and back until Ctrl-A x or
    the emulator exits. Returns whether Tern said it cannot run."""
    stdin = sys.stdin.fileno()
    old = termios.tcgetattr(stdin) if os.isatty(stdin) else None
    if old:
        tty.setraw(stdin)
    escape = False
    quit_by_user[0] = False
    seen = b""
    refused = False
    stdin_open = True
    try:
        while proc.poll() is None:
            fds = [master] + ([stdin] if stdin_open else []) + \
                ([extra] if extra is not None else [])
            r, _, _ = select.select(fds, [], [], 0.2)
            if master in r:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                os.write(sys.stdout.fileno(), data)
                if extra is not None:
                    try:
                        os.write(extra, data)
                    except OSError:
                        pass  # nobody on the other end: the output is dropped there
                seen = (seen + data)[-2 * len(REFUSAL):]
                refused |= REFUSAL in seen
            if extra is not None and extra in r:
                try:
                    os.write(master, os.read(extra, 1024))
                except OSError:
                    pass
            if stdin_open and stdin in r:
                data = os.read(stdin, 1024)
                if not data:
                    if extra is None:
                        break
                    stdin_open = False   # in the background: the extra pty goes on
                    continue
                out, quit_ = bytearray(), False
                for b in data:  # Ctrl-A x quits; Ctrl-A Ctrl-A sends one Ctrl-A
                    if escape:
                        escape = False
                        if b in b"xX":
                            quit_ = True
                            break
                        out.append(b)
                    elif b == CTRL_A[0]:
                        escape = True
                    else:
                        out.append(b)
                if out:
                    os.write(master, bytes(out))
                if quit_:
                    quit_by_user[0] = True
                    break
    finally:
        if old:
            termios.tcsetattr(stdin, termios.TCSADRAIN, old)
    return refused


def qemu_stdio(cmd, log):
    """QEMU's -serial mon:stdio, with a copy of the console in log (a chardev logfile)."""
    i = cmd.index("mon:stdio")
    return cmd[:i - 1] + ["-chardev", "stdio,id=con0,mux=on,signal=off,logfile=" + log,
                          "-serial", "chardev:con0", "-mon", "chardev=con0,mode=readline"] + \
        cmd[i + 1:]


def refused_exit(refused, rc):
    """The exit status: 1 if Tern refused to run, else the emulator's."""
    if refused:
        print("\r\n[tern run: Tern cannot run on this machine (see above): exit status 1]\r")
        return 1
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--emu", default="auto", choices=["auto", "bochs", "qemu"])
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--model", default="corei7_skylake_x")
    ap.add_argument("--boot", default="uefi", choices=["uefi", "mb2"])
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--module", action="append", default=[],
                    help="PATH[:NAME] of a boot module (repeatable)")
    ap.add_argument("--no-mgmt", action="store_true",
                    help="do not add the management shell (mgmt=mgmt and its module)")
    ap.add_argument("--console-pty", action="store_true",
                    help="also offer the console on a pty (its path is printed) for ternctl")
    a = ap.parse_args()
    mods = []
    for spec in a.module:
        path, _, name = spec.partition(":")
        mods.append((path, name or os.path.splitext(os.path.basename(path))[0]))
    if not a.no_mgmt:
        a.cmdline, mods = with_mgmt(a.cmdline, mods)

    kvm = emu.kvm_has_vmx()
    which = a.emu if a.emu != "auto" else ("qemu" if kvm else "bochs")
    m = emu.Machine(emu=which, cpus=a.cpus, mem=a.mem, model=a.model, cmdline=a.cmdline,
                    modules=mods,
                    boot=a.boot, accel="kvm" if (which == "qemu" and kvm) else "tcg",
                    interactive=True)
    try:
        master, slave = pty.openpty()
        tty.setraw(slave)
        extra = None
        if which == "qemu" and not a.console_pty:
            print("Tern under QEMU (%s), %d CPUs: console below; Ctrl-A x quits."
                  % ("KVM" if kvm else "TCG: no VT-x, Tern will say so and power off", a.cpus))
            log = os.path.join(m.dir, "console.log")
            rc = subprocess.run(qemu_stdio(m.qemu_cmd(), log), check=False).returncode
            with open(log, "rb") as f:
                return refused_exit(REFUSAL in f.read(), rc)
        if a.console_pty:
            extra, extra_slave = pty.openpty()
            tty.setraw(extra_slave)
            print("Console also on %s (e.g. tools/ternctl --console %s list)\r"
                  % (os.ttyname(extra_slave), os.ttyname(extra_slave)))
        if which == "qemu":
            m.interactive = False
            m.slave = slave   # qemu_cmd: -serial on the pty
            cmd = m.qemu_cmd()
            print("Tern under QEMU (%s), %d CPUs: console below; Ctrl-A x quits.\r"
                  % ("KVM" if kvm else "TCG: no VT-x", a.cpus))
        else:
            cmd = m.bochs_cmd("mode=term, dev=" + os.ttyname(slave))
            print("Tern under Bochs (%s, %d CPUs; emulated VT-x, slow: about 30 s to the "
                  "kernel). Ctrl-A x quits.\r" % (a.model, a.cpus))
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=m.dir, start_new_session=True)
        m.proc = proc
        refused = relay(master, proc, extra)
        print("\r\n[tern run: emulator stopped]\r")
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        return refused_exit(refused, 0 if quit_by_user[0] else rc)
    finally:
        m.slave = None   # closed here, not by m.close()
        m.close()


if __name__ == "__main__":
    sys.exit(main())
