#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Boot Tern images under QEMU or Bochs and talk to the serial console.

Used by the integration tests, `make run` and `make bench`. Every wait is
bounded; a timeout raises EmuTimeout carrying the console tail.
"""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TERN_BUILD: another build directory (make BUILD=...), e.g. for parallel work.
BUILD = os.path.abspath(os.environ.get("TERN_BUILD", os.path.join(ROOT, "build")))
OVMF_BOCHS = "/usr/share/ovmf/OVMF.fd"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGA_BIOS = "/usr/share/bochs/VGABIOS-lgpl-latest"


class EmuTimeout(AssertionError):
    pass


def kvm_has_vmx():
    """True where QEMU can run Tern at full speed: /dev/kvm and an Intel CPU with VMX."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    with open("/proc/cpuinfo") as f:
        info = f.read()
    return "GenuineIntel" in info and re.search(r"^flags\s*:.*\bvmx\b", info, re.M) is not None


def make_bootcfg(cmdline, modules=()):
    lines = ["# Tern boot configuration (test)", "kernel /tern/tern.elf",
             "cmdline " + cmdline]
    for path, name in modules:
        lines.append("module /tern/%s %s" % (os.path.basename(path), name))
    return "\n".join(lines) + "\n"


def make_esp(workdir, cmdline="", modules=(), cfg_text=None, drop_kernel=False):
    """A copy of build/esp.img with its own tern.cfg (and modules)."""
    esp = os.path.join(workdir, "esp.img")
    shutil.copyfile(os.path.join(BUILD, "esp.img"), esp)
    cfg = os.path.join(workdir, "tern.cfg")
    with open(cfg, "w") as f:
        f.write(cfg_text if cfg_text is not None else make_bootcfg(cmdline, modules))
    subprocess.run(["mcopy", "-o", "-i", esp, cfg, "::/EFI/tern/tern.cfg"], check=True)
    for path, _ in modules:
        subprocess.run(["mcopy", "-o", "-i", esp, path, "::/tern/" + os.path.basename(path)],
                       check=True)
    if drop_kernel:
        subprocess.run(["mdel", "-i", esp, "::/tern/tern.elf"], check=True)
    return esp


def make_iso(workdir, cmdline="", modules=()):
    """A GRUB ISO booting build/tern.elf through Multiboot2 with this cmdline and modules."""
    iso = os.path.join(workdir, "tern.iso")
    subprocess.run([os.path.join(ROOT, "tools", "mkiso.sh"), iso, os.path.join(BUILD, "tern.elf"),
                    cmdline] + ["%s:%s" % (path, name) for path, name in modules], check=True)
    return iso


class Machine:
    """One emulator run. Serial output goes to a file that is polled.

    console="file" (the default): the emulator writes COM1 to serial.out.
    console="pty": COM1 is a pseudo-terminal, so the console is two-way: a
    reader thread appends everything the machine prints to serial.out (so
    wait_for, lines and tail work as before) and to a buffer that expect()
    searches byte-exactly (prompts have no newline); send() types.

    Why not pexpect here: the reader must drain the pty all the time (a full
    pty blocks the emulator's serial writes, and with it the guest), and the
    tests search the whole transcript again from an earlier mark, where
    pexpect's consuming buffer has already dropped what it matched.
    """

    def __init__(self, emu="qemu", cpus=2, mem=256, model="corei7_skylake_x",
                 cmdline="", modules=(), workdir=None, cfg_text=None, boot="uefi",
                 drop_kernel=False, accel="tcg", interactive=False, console="file",
                 com=1, qemu_args=(), host_mem=None, iso=None):
        if console not in ("file", "pty"):
            raise ValueError("unknown console " + console)
        self.emu, self.cpus, self.mem, self.model = emu, cpus, mem, model
        self.boot, self.accel, self.interactive = boot, accel, interactive
        self.console = console
        # com=2 (QEMU): COM1 is connected to nothing and COM2 is the file or pty read here.
        self.com, self.qemu_args = com, list(qemu_args)
        # host_mem (Bochs): MiB Bochs really allocates, so mem can exceed 4 GiB cheaply.
        self.host_mem = host_mem
        if com not in (1, 2) or (com == 2 and emu != "qemu"):
            raise ValueError("com=%r: COM2 is offered under QEMU only" % com)
        if iso and boot != "mb2":
            raise ValueError("iso= is booted from CD by the BIOS: give boot='mb2'")
        self.master = self.slave = None
        self.reader = None
        self.raw = bytearray()        # everything read from the pty
        self.raw_lock = threading.Lock()
        self.epos = 0                 # expect() mark in self.raw
        self.before = ""              # text between the mark and the last expect() match
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="tern-%s-" % emu)
        os.makedirs(self.dir, exist_ok=True)
        self.serial = os.path.join(self.dir, "serial.out")
        self.proc = None
        self.start_time = None
        self.pos = 0
        if boot == "disk":
            # A whole disk image as built (make usb), booted as it is.
            self.image = os.path.join(self.dir, "disk.img")
            shutil.copyfile(os.path.join(BUILD, "tern-usb.img"), self.image)
            boot = "uefi"
            self.boot = boot
        elif boot == "uefi":
            self.image = make_esp(self.dir, cmdline, modules, cfg_text, drop_kernel)
        elif boot == "mb2" and iso:
            # A BIOS-bootable CD image used as it is (e.g. tools/linux-iso.sh's bare Linux).
            self.image = os.path.abspath(iso)
        elif boot == "mb2":
            self.image = make_iso(self.dir, cmdline, modules)
        else:
            raise ValueError("unknown boot method " + boot)

    # --- command lines -------------------------------------------------------
    def qemu_cmd(self):
        cpu = ["-accel", "kvm", "-cpu", "host"] if self.accel == "kvm" else \
              ["-accel", "tcg", "-cpu", "max"]
        if self.interactive:
            serial = ["-serial", "mon:stdio"]
        elif self.slave is not None:
            serial = ["-serial", os.ttyname(self.slave)]
        else:
            serial = ["-serial", "file:" + self.serial]
        if self.com == 2:
            serial = ["-serial", "null"] + serial
        if self.boot == "mb2":  # the default SeaBIOS boots the GRUB CD
            firmware = []
            disk = ["-cdrom", self.image]
        else:
            vars_copy = os.path.join(self.dir, "vars.fd")
            shutil.copyfile(OVMF_VARS, vars_copy)
            firmware = ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE,
                        "-drive", "if=pflash,format=raw,unit=1,file=" + vars_copy]
            disk = ["-drive", "format=raw,file=" + self.image]
        return ["qemu-system-x86_64", "-machine", "q35", *cpu, "-smp", str(self.cpus),
                "-m", str(self.mem), *firmware,
                "-display", "none", "-net", "none", "-no-reboot",
                *([] if self.interactive else ["-monitor", "none"]),
                *serial, *disk, *self.qemu_args]

    def bochsrc(self, com1):
        if self.boot == "mb2":  # the Bochs BIOS boots the GRUB CD
            firmware = ["romimage: file=%s" % BOCHS_BIOS,
                        "ata0-master: type=cdrom, path=%s, status=inserted" % self.image,
                        "boot: cdrom"]
        else:
            firmware = ["romimage: file=%s, address=0xffe00000" % OVMF_BOCHS,
                        "ata0-master: type=disk, path=%s, mode=flat" % self.image,
                        "boot: disk"]
        return "\n".join([
            "memory: guest=%d, host=%d" % (self.mem, self.host_mem) if self.host_mem
            else "megs: %d" % self.mem,
            "cpu: model=%s, count=%d, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=1"
            % (self.model, self.cpus),
            firmware[0],
            "vgaromimage: file=%s" % VGA_BIOS,
            *firmware[1:],
            "clock: sync=none, time0=local",
            "com1: enabled=1, " + com1,
            'display_library: rfb, options="timeout=0"',
            "log: %s" % os.path.join(self.dir, "bochs.log"),
            "panic: action=fatal", "error: action=report",
            "info: action=ignore", "debug: action=ignore",
            "magic_break: enabled=1", ""])

    def bochs_cmd(self, com1=None):
        rc = os.path.join(self.dir, "bochsrc")
        with open(rc, "w") as f:
            f.write(self.bochsrc(com1 or "mode=file, dev=" + self.serial))
        cont = os.path.join(self.dir, "cont.rc")
        with open(cont, "w") as f:
            f.write("c\nq\n")
        return ["bochs", "-q", "-f", rc, "-rc", cont]

    # --- running -------------------------------------------------------------
    def start(self):
        open(self.serial, "w").close()
        com1 = None
        if self.console == "pty":
            self.master, self.slave = pty.openpty()
            tty.setraw(self.slave)
            com1 = "mode=term, dev=" + os.ttyname(self.slave)
        cmd = self.qemu_cmd() if self.emu == "qemu" else self.bochs_cmd(com1)
        self.start_time = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd=self.dir,
                                     start_new_session=True)
        if self.console == "pty":
            self.reader = threading.Thread(target=self._pump, daemon=True)
            self.reader.start()
        return self

    # --- the two-way console (console="pty") ----------------------------------
    def _pump(self):
        """Copies the pty to serial.out and self.raw until the machine is closed."""
        with open(self.serial, "ab") as log:
            while self.master is not None:
                try:
                    r, _, _ = select.select([self.master], [], [], 0.1)
                    data = os.read(self.master, 65536) if r else b""
                except (OSError, TypeError, ValueError):
                    return
                if data:
                    with self.raw_lock:
                        self.raw += data
                    log.write(data)
                    log.flush()

    def send(self, data):
        """Types data (str or bytes) on the console."""
        if self.master is None:
            raise RuntimeError("send() needs console='pty'")
        if isinstance(data, str):
            data = data.encode()
        while data:
            n = os.write(self.master, data)
            data = data[n:]

    def sendline(self, line):
        """Types line and Enter (a carriage return, as a terminal sends it)."""
        self.send(line + "\r")

    def text(self, start=0):
        """What the console printed from byte start on (Latin-1), carriage returns and
        escape sequences kept."""
        with self.raw_lock:
            return bytes(self.raw[start:]).decode("latin-1")

    def expect(self, pattern, timeout=60):
        """Waits for a regex in the raw console text after the expect mark; moves the mark
        past the match and leaves the text before it in self.before. Returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            with self.raw_lock:
                raw = bytes(self.raw)
            # Latin-1 maps each byte to one character: match offsets are byte offsets.
            text = raw[self.epos:].decode("latin-1")
            m = rx.search(text)
            if m:
                self.before = text[:m.start()]
                self.epos += m.end()
                return m
            if time.monotonic() > deadline or self.proc.poll() is not None:
                why = "exited (rc %s)" % self.proc.returncode if self.proc.poll() is not None \
                    else "timed out after %ds" % timeout
                raise EmuTimeout("%s %s waiting for %r; console after the mark:\n%s"
                                 % (self.emu, why, pattern, text[-3000:]))
            time.sleep(0.02)

    def mark(self):
        """Moves the expect mark to the end of what was printed so far."""
        with self.raw_lock:
            self.epos = len(self.raw)

    def output(self):
        with open(self.serial, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")

    def lines(self):
        """The output up to its last newline: a line still being written never matches."""
        out = self.output()
        return out[:out.rfind("\n") + 1]

    def tail(self, n=40):
        return "\n".join(self.output().splitlines()[-n:])

    def wait_for(self, pattern, timeout=120, anywhere=False):
        """Wait for a regex on the console after the last match (or anywhere, without
        moving the mark, for lines whose order is not fixed); returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        start = 0 if anywhere else self.pos
        while True:
            out = self.lines()
            m = rx.search(out, start)
            if m:
                if not anywhere:
                    self.pos = m.end()
                return m
            if time.monotonic() > deadline:
                raise EmuTimeout("no %r within %ds on %s; console tail:\n%s"
                                 % (pattern, timeout, self.emu, self.tail()))
            if self.proc.poll() is not None:
                # It exited: one more read catches the last flushed bytes.
                out = self.output()
                m = rx.search(out, start)
                if m:
                    if not anywhere:
                        self.pos = m.end()
                    return m
                raise EmuTimeout("%s exited (rc %s) before %r; console tail:\n%s"
                                 % (self.emu, self.proc.returncode, pattern, self.tail()))
            time.sleep(0.05)

    def elapsed(self):
        return time.monotonic() - self.start_time

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise EmuTimeout("%s did not exit by itself within %ds; console tail:\n%s"
                             % (self.emu, timeout, self.tail()))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        # The pty goes with the emulator; what it printed stays in serial.out.
        master, self.master = self.master, None
        if self.reader:
            self.reader.join(1)
            self.reader = None
        for fd in (master, self.slave):
            if fd is not None:
                os.close(fd)
        self.slave = None

    def close(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
