# SPDX-License-Identifier: MIT
"""Issue 13: Debian's own, unmodified Linux kernel in Tern VMs, created and driven from
the shell on one Bochs boot (2 CPUs). The kernel and a busybox initramfs come from
Debian's packages (tools/fetch-linux.sh, cached in build/linux). The uncompressed
vmlinux boots with 2 vCPUs to the busybox shell, which is driven through `console`;
its dmesg is held to what the same kernel prints on bare Bochs; the bzImage (which
decompresses itself) boots beside it and a ticker; guest poweroff, destroy and bad
kernel inputs leave memory exactly as it was."""
import json
import os
import re
import time

import pytest

import emu
from test_shell import finish_shell, CMD, PROMPT, Shell, boot_shell, CREATE_USAGE

LINUX = os.path.join(emu.BUILD, "linux")
BOOT_LINUX = 900   # kernel entry to the busybox shell under Bochs: about 1-3 min wall
GUEST_CMD = 120    # one command in the guest's shell
GUEST_PROMPT = "/ # "
CMDLINE = "console=ttyS0"

# What the same kernel also prints booted bare in Bochs corei7_skylake_x (through GRUB,
# tools/bench.py linux_bare): not Tern's doing, each with its reason.
BARE_ALSO = [
    (r"RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks",
     "the CPU model's own speculation report: Skylake-X is RETBleed-affected, bare or not"),
]
# Bare Bochs also warns "XSAVE consistency problem: size 2432 != kernel_size 2688"
# with a Call Trace (its CPUID.(0xD,1).EBX is the standard size) and "Detected
# 3500.000 MHz" (CPUID 0x16, not the TSC's rate): Tern answers both truthfully
# (vmm/cpuid.c), so neither is excepted here.
# dmesg lines that fail the test (issue 13): a guest's platform must be as clean as a PC's.
BAD = re.compile(r"unchecked MSR access|spurious|clocksource.*unstable|TSC.*unreliable|"
                 r"MP-BIOS bug|APIC calibration|Call Trace|WARNING:|BUG:|"
                 r"XSAVE consistency|ACPI Error|ACPI Warning|ACPI BIOS Error|"
                 r"i8042: (Warning|Failed)|Keylock", re.I)


def kernel_version():
    with open(os.path.join(LINUX, "version")) as f:
        return f.read().split()[0]


@pytest.fixture(scope="module")
def sh(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("linux"))
    vmlinuz = os.path.join(LINUX, "vmlinuz")
    with open(os.path.join(work, "noise"), "wb") as f:
        f.write(os.urandom(64 << 10))       # not a kernel
    with open(vmlinuz, "rb") as f, open(os.path.join(work, "half"), "wb") as out:
        out.write(f.read(os.path.getsize(vmlinuz) // 2))   # a truncated bzImage
    more = [(os.path.join(LINUX, "vmlinux"), "vmlinux"), (vmlinuz, "bzimage"),
            (os.path.join(LINUX, "initramfs.cpio.gz"), "initrd"),
            (os.path.join(work, "noise"), "noise"), (os.path.join(work, "half"), "half")]
    m = boot_shell(work, mem=768, more_modules=more)
    shell = Shell(m)
    shell.start_free = shell.free_bytes()
    yield shell
    # Linux itself says "NMI watchdog: ... disabled": Tern's own words are looked for.
    finish_shell(m, "ERROR: watchdog", "*** PANIC")


def run_long(sh, line, timeout=CMD):
    """A line longer than the editor's 80 columns, sent at once (a paste): the editor
    scrolls it, so the echo checked is its tail; returns the output up to the prompt."""
    m = sh.m
    m.send(line + "\r")
    m.expect(re.escape(line[-24:]) + r"\r\n", timeout)
    m.expect(re.escape(PROMPT), timeout)
    # A create of this size shows its progress in place: "creating vm 'x': 64/128 MiB".
    return re.sub(r"creating vm '[^']*': \d+/\d+ MiB\x1b\[K|\x1b\[K", "",
                  m.before.replace("\r", ""))


def refused(sh, line, message):
    out = run_long(sh, line)
    assert re.fullmatch(r"error: " + message + r"\n", out), (line, out)
    assert list(sh.vms()) == ["mgmt"], line
    assert sh.free_bytes() == sh.start_free, line


def test_bad_kernel_inputs_are_refused_with_nothing_made(sh):
    refused(sh, "create x --kernel noise --mem 64M",
            r"cannot load kernel 'noise' into 64 MiB: not a kernel: no bzImage header, no "
            r"Multiboot header in the first 8 KiB, not an ELF64")
    refused(sh, "create x --kernel half --mem 64M",
            r"cannot load kernel 'half' into 64 MiB: bzImage truncated: syssize 0x[0-9a-f]+ says "
            r"\d+ bytes of kernel, the image has \d+")
    refused(sh, "create x --kernel vmlinux --initrd vmlinux --mem 64M",
            r"cannot load kernel 'vmlinux' into 64 MiB: .*initrd.*")
    refused(sh, "create x --kernel vmlinux --initrd bzimage --mem 128M",
            r"image 'bzimage' is a kernel, not an initrd: give it as --kernel")
    refused(sh, "create x --kernel vmlinux --mem 32M",
            r"cannot load kernel 'vmlinux' into 32 MiB: .*")
    refused(sh, "create x --kernel vmlinux --mem 128M --cmdline " + "a" * 2100,
            r"cannot load kernel 'vmlinux' into 128 MiB: .*command line.*")
    refused(sh, "create x --kernel initrd --mem 64M",
            r"cannot load kernel 'initrd' into 64 MiB: not a kernel: .*")
    refused(sh, "create x --initrd initrd --mem 64M",
            r"--initrd goes with --kernel IMAGE\nusage: " + re.escape(CREATE_USAGE))
    out = sh.run('create x --kernel vmlinux --cmdline "console=ttyS0')
    assert out.startswith("error: a quote is not closed"), out


def attach(sh, vm, everything=True):
    m = sh.m
    m.send("console %s%s\r" % (vm, " --all" if everything else ""))
    m.expect(r"Connected to vm %s .*\r\n" % vm, CMD)


def detach(sh, vm):
    sh.m.send("\x1d")
    sh.m.expect(r"Disconnected from vm %s\r\n" % vm + re.escape(PROMPT), CMD)


def guest(sh, command, timeout=GUEST_CMD):
    """Runs command in the attached guest's busybox shell; its output without \\r."""
    m = sh.m
    m.send(command + "\r")
    m.expect(re.escape(command) + r"\r\n", timeout)
    m.expect(re.escape(GUEST_PROMPT), timeout)
    return m.before.replace("\r", "")


def guest_dmesg(sh):
    """The guest's whole kernel log, fetched 25 lines at a time: its console
    buffer in Tern holds 4 KiB, and a guest writes faster than the serial line
    shows, so one long dmesg would come through with '[... N bytes skipped]'."""
    n = int(guest(sh, "dmesg | wc -l").split()[-1])
    chunks = [guest(sh, "dmesg | sed -n %d,%dp" % (i, i + 24)) for i in range(1, n + 1, 25)]
    log = "".join(chunks)
    assert "bytes skipped]" not in log, log
    return log


def booted(sh, vm):
    """Attached to vm: waits for its /init marker and prompt; /init said nothing failed
    (its power button and pvpanic modules loaded and bound)."""
    sh.m.expect(r"TERN-LINUX-UP\r\n", BOOT_LINUX)
    assert "TERN-LINUX:" not in sh.m.before, sh.m.before[-2000:]
    sh.m.send("\r")
    sh.m.expect(re.escape(GUEST_PROMPT), GUEST_CMD)


def interrupts(sh):
    """/proc/interrupts as {name: total count}, name being the last column."""
    rows = {}
    for line in guest(sh, "cat /proc/interrupts").splitlines()[1:]:
        f = line.split()
        if not f:
            continue
        counts = [int(x) for x in f[1:] if x.isdigit()]
        rows[f[-1] if not f[0].rstrip(":").isalpha() else f[0].rstrip(":")] = sum(counts)
    return rows


def test_vmlinux_boots_to_the_busybox_shell_with_2_vcpus(sh):
    out = run_long(sh, "create l1 --kernel vmlinux --initrd initrd --cmdline %s --mem 128M "
                   "--vcpus 2 --on-reboot destroy --start" % CMDLINE)
    assert re.fullmatch(r"created vm \d+ 'l1' \(128 MiB, 2 vCPUs, vmlinux kernel 'vmlinux', "
                        r"initrd 'initrd'\)\nstarted vm \d+ 'l1'\n", out), out
    attach(sh, "l1")
    booted(sh, "l1")
    assert kernel_version() in guest(sh, "uname -a")
    cpuinfo = guest(sh, "cat /proc/cpuinfo")
    assert len(re.findall(r"^processor\s+: \d+$", cpuinfo, re.M)) == 2, cpuinfo
    assert len(re.findall(r"^flags\s+:.* hypervisor( |$)", cpuinfo, re.M)) == 2, cpuinfo
    assert guest(sh, "nproc").strip() == "2"
    first = interrupts(sh)
    meminfo = guest(sh, "cat /proc/meminfo")
    total_kib = int(re.search(r"MemTotal:\s+(\d+) kB", meminfo).group(1))
    # The kernel's own image and reservations are not in MemTotal; its boot line counts
    # all the RAM it was given: 128 MiB less the 384 KiB legacy hole and page 0.
    ram_kib = int(re.search(r"Memory: \d+K/(\d+)K available",
                            guest(sh, "dmesg | grep Memory:")).group(1))
    assert (127 << 10) < ram_kib <= (128 << 10) - 384, ram_kib
    assert 64 << 10 < total_kib < ram_kib, meminfo
    free = re.search(r"^Mem:\s+(\d+)", guest(sh, "free"), re.M)
    assert free and int(free.group(1)) == total_kib
    later = interrupts(sh)
    assert later["LOC"] > first["LOC"] > 0, (first, later)   # local APIC timers
    serial = [k for k in later if k == "ttyS0"]
    assert serial and later["ttyS0"] > first["ttyS0"], (first, later)
    detach(sh, "l1")
    assert sh.vms()["l1"]["state"] == "running"
    # Both vCPUs ran, on two physical CPUs.
    vcpus = sh.vcpus("l1")
    assert len(vcpus) == 2 and all(v["state"] != "offline" for v in vcpus), vcpus
    cpus = set()
    for v in vcpus:
        cpus |= set(v["seen"].split(","))
    assert len(cpus) >= 2, vcpus


def test_dmesg_is_as_clean_as_on_bare_hardware(sh):
    attach(sh, "l1", everything=False)
    sh.m.send("\r")
    sh.m.expect(re.escape(GUEST_PROMPT), GUEST_CMD)
    log = guest_dmesg(sh)
    detach(sh, "l1")
    bad = [l for l in log.splitlines()
           if BAD.search(l) and not any(re.search(ok, l) for ok, _ in BARE_ALSO)]
    assert not bad, "\n".join(bad)
    assert "smp: Brought up 1 node, 2 CPUs" in log, log[-3000:]
    # XSAVE as the SDM says: the compacted size Linux computes is the one CPUID gives.
    assert re.search(r"x86/fpu: Enabled xstate features 0x[0-9a-f]+, context size is \d+ bytes, "
                     r"using 'compacted' format", log), log[:6000]
    # The TSC rate Linux takes from CPUID 0x15 is the one Tern measured.
    tern = float(re.search(r"\] tsc: ([\d.]+) MHz \(calibrated", sh.m.output()).group(1))
    seen = float(re.search(r"tsc: Detected ([\d.]+) MHz TSC", log).group(1))
    assert abs(seen - tern) < 0.01, (seen, tern)


def info_json(sh, what=""):
    out = sh.run(("info %s --json" % what).replace("  ", " "))
    return json.loads(out[out.index("{"):out.rindex("}") + 1])


IDLE_SPAN_US = 2000000   # host (emulated) time an idle sample spans


def test_an_idle_linux_costs_its_cpus_next_to_nothing(sh):
    """Issue 14: at its shell prompt, Linux (tickless) idles in HLT, and HLT blocks the
    vCPU: over two seconds of host time its two vCPUs together run a small fraction of one
    CPU, with no storm of exits (a timer re-armed in a loop, an interrupt never taken)."""
    assert sh.vms()["l1"]["state"] == "running"
    h0, v0 = info_json(sh), info_json(sh, "l1")
    h1 = h0
    for _ in range(400):   # bounded: each info takes emulated time too
        if h1["uptime_us"] - h0["uptime_us"] >= IDLE_SPAN_US:
            break
        h1 = info_json(sh)
    v1 = info_json(sh, "l1")
    span = h1["uptime_us"] - h0["uptime_us"]
    assert span >= IDLE_SPAN_US, (h0, h1)
    ran = v1["run_us"] - v0["run_us"]
    exits = v1["exits_total"] - v0["exits_total"]
    by = {k: n - v0["exits"].get(k, 0) for k, n in v1["exits"].items()}
    print("idle Linux, 2 vCPUs: ran %d us of %d us, %d exits/s: %r"
          % (ran, span, exits * 1000000 // span, by))
    # Measured 0.45% of the span and 43 exits a second (WRMSR: TSC-deadline re-arms, HLT,
    # APIC writes: EOIs): 5% or 1,000 a second would be a storm.
    assert ran < span // 20, (ran, span, by)
    assert exits * 1000000 // span < 1000, (exits, span, by)
    assert by.get("HLT", 0) > 0, by


def test_bzimage_beside_a_linux_and_a_ticker(sh):
    assert re.fullmatch(r"created vm \d+ 'tk' \(4 MiB, 1 vCPU\)\nstarted vm \d+ 'tk'\n",
                        sh.run("create ticker --name tk --mem 4M --start"))
    before = sh.free_bytes()
    out = run_long(sh, "create l2 --kernel bzimage --initrd initrd --cmdline %s --mem 128M "
                   "--start" % CMDLINE)
    assert re.fullmatch(r"created vm \d+ 'l2' \(128 MiB, 1 vCPU, bzImage kernel 'bzimage', "
                        r"initrd 'initrd'\)\nstarted vm \d+ 'l2'\n", out), out
    attach(sh, "l2")
    booted(sh, "l2")
    assert guest(sh, "echo l2 here $((6*7))") == "l2 here 42\n"
    detach(sh, "l2")
    # Each console its own: l1's shell answers on l1's, the ticker ticks on.
    attach(sh, "l1", everything=False)
    assert guest(sh, "echo l1 here") == "l1 here\n"
    detach(sh, "l1")
    attach(sh, "tk", everything=False)
    ticks = [int(sh.m.expect(r"ticker: tick (\d+)\r\n", 60).group(1)) for _ in range(2)]
    detach(sh, "tk")
    assert ticks[1] == ticks[0] + 1
    # shutdown from the shell: the power button; the guest's acpid runs poweroff, the VM
    # shuts off (a created one is forgotten) and its memory comes back exactly.
    assert re.fullmatch(r"vm \d+ 'l2' is being shut down \(ACPI power button\); it is shut off "
                        r"when the guest powers off\n", sh.run("shutdown l2"))
    # The guest takes a few emulated seconds to power off: a bounded wait on the list.
    deadline = time.monotonic() + GUEST_CMD
    while "l2" in sh.vms():
        assert time.monotonic() < deadline, "l2 still listed after its shutdown"
    assert sh.free_bytes() == before
    assert "vm l2: powered off by the guest (ACPI S5)" in sh.run("log 40")


def test_reboot_and_a_kernel_panic_follow_the_on_actions(sh):
    """reboot from the shell (power button, then made anew), a kernel panic reported
    through pvpanic handled by on_crash=restart while l1 and the ticker run on, and a
    destroy of the running Linux that returns its memory exactly."""
    m = sh.m
    before = sh.free_bytes()
    out = run_long(sh, "create l3 --kernel vmlinux --initrd initrd --cmdline %s --mem 128M "
                   "--on-crash restart --start" % CMDLINE)
    first = int(re.search(r"started vm (\d+) 'l3'", out).group(1))
    attach(sh, "l3")
    booted(sh, "l3")
    detach(sh, "l3")
    assert re.fullmatch(r"vm %d 'l3' is being rebooted \(ACPI power button\): when the guest "
                        r"has powered off it is made anew and started\n" % first, sh.run("reboot l3"))
    second = int(m.expect(r"vm 'l3': powered off by the guest \(ACPI S5\); made anew from its "
                          r"definition as vm (\d+) and started \(as reboot asked\)\r\n",
                          BOOT_LINUX).group(1))
    m.expect(re.escape(PROMPT), CMD)
    assert second > first
    attach(sh, "l3")
    booted(sh, "l3")
    # The guest's pvpanic device is bound; a panic is reported and the console follows
    # the VM on_crash=restart makes anew.
    assert "QEMU0001" in guest(sh, "ls /sys/bus/platform/devices/")
    m.send("echo c > /proc/sysrq-trigger\r")
    m.expect(r"Kernel panic - not syncing", GUEST_CMD)
    m.expect(r"\[vm l3 has crashed: the guest reported a crash \(pvpanic\)\]\r\n", GUEST_CMD)
    third = int(m.expect(r"\[vm l3 is vm (\d+) now: following its console\]\r\n", CMD).group(1))
    assert third > second
    booted(sh, "l3")
    assert guest(sh, "echo back $((2+3))") == "back 5\n"
    detach(sh, "l3")
    assert "vm l3: stopped: the guest reported a crash (pvpanic)" in sh.run("log 60")
    # Everything else ran on.
    assert sh.vms()["l1"]["state"] == "running"
    attach(sh, "tk", everything=False)
    ticks = [int(m.expect(r"ticker: tick (\d+)\r\n", 60).group(1)) for _ in range(2)]
    detach(sh, "tk")
    assert ticks[1] == ticks[0] + 1
    attach(sh, "l1", everything=False)
    assert guest(sh, "echo l1 still here") == "l1 still here\n"
    detach(sh, "l1")
    # destroy of the running Linux: gone, memory back exactly.
    assert re.fullmatch(r"destroyed vm %d 'l3'\n" % third, sh.run("destroy l3"))
    assert "l3" not in sh.vms()
    assert sh.free_bytes() == before


def test_guest_reboot_follows_on_reboot_destroy(sh):
    """l1 was made with --on-reboot destroy: the guest's own reboot ends it, memory back."""
    m = sh.m
    attach(sh, "l1", everything=False)
    m.send("\r")
    m.expect(re.escape(GUEST_PROMPT), GUEST_CMD)
    m.send("reboot\r")
    m.expect(r"reboot: Restarting system\r\n", GUEST_CMD)
    m.expect(r"\[vm l1 has finished: reset by the guest\]\r\n", CMD)
    m.expect(r"\[vm l1 is gone\]\r\n", CMD)
    m.expect(re.escape(PROMPT), CMD)
    assert "l1" not in sh.vms()
    assert sh.run("destroy tk").startswith("destroyed vm")
    assert list(sh.vms()) == ["mgmt"]
    assert sh.free_bytes() == sh.start_free
