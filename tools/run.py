#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`make run`: boot Tern with its serial console on this terminal.

QEMU with KVM where /dev/kvm and VMX exist (nested virtualization), else
Bochs (which emulates VT-x). QEMU: Ctrl-A x quits. Bochs: Ctrl-A x quits too
(this script relays the console through a pty).

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


def relay(master, proc):
    """Copy the terminal to the pty and back until Ctrl-A x or the emulator exits."""
    stdin = sys.stdin.fileno()
    old = termios.tcgetattr(stdin) if os.isatty(stdin) else None
    if old:
        tty.setraw(stdin)
    escape = False
    try:
        while proc.poll() is None:
            r, _, _ = select.select([stdin, master], [], [], 0.2)
            if master in r:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                os.write(sys.stdout.fileno(), data)
            if stdin in r:
                data = os.read(stdin, 1024)
                if not data:
                    break
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
                    break
    finally:
        if old:
            termios.tcsetattr(stdin, termios.TCSADRAIN, old)


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
        if which == "qemu":
            print("Tern under QEMU (%s), %d CPUs: console below; Ctrl-A x quits."
                  % ("KVM" if kvm else "TCG: no VT-x, Tern will say so and power off", a.cpus))
            subprocess.run(m.qemu_cmd(), check=False)
            return
        master, slave = pty.openpty()
        cmd = m.bochs_cmd("mode=term, dev=" + os.ttyname(slave))
        print("Tern under Bochs (%s, %d CPUs; emulated VT-x, slow: about 30 s to the kernel). "
              "Ctrl-A x quits.\r" % (a.model, a.cpus))
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=m.dir, start_new_session=True)
        m.proc = proc
        relay(master, proc)
        print("\r\n[tern run: emulator stopped]\r")
    finally:
        m.close()


if __name__ == "__main__":
    main()
