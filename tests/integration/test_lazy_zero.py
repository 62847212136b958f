# SPDX-License-Identifier: MIT
"""Issue 14: guest RAM is zeroed lazily, on first touch (vmm/vm.c vm_fault_in).

A VM's 2 MiB pieces come unzeroed from the allocator and are zeroed when first
touched. A guest must still never see what the memory's last owner left there:
memtest fills a large VM's RAM with its pattern, the VM is destroyed, and a second
VM, created over the same host memory (two of them do not fit side by side),
reads every byte of its RAM (a read is its first touch) and finds zeros.
"""
import os
import re
import time

import emu
from test_shell import CMD, PROMPT, Shell, boot_shell, finish_shell


def memtest_lines(sh, vm, timeout):
    """memtest's console lines, from its start, once it printed 'memtest: done' (or an
    error that ends it) within timeout seconds."""
    m = sh.m
    sh.type("console %s --all" % vm)
    m.send("\r")
    m.expect(r"Connected to vm %s .*\r\n" % vm, CMD)
    start = m.epos
    m.expect(r"memtest: (done|ERROR pattern mismatch[^\r]*|ERROR memory map[^\r]*)\r\n", timeout)
    text = m.text(start)[:m.epos - start]
    m.send("\x1d")
    m.expect(r"Disconnected from vm %s\r\n" % vm + re.escape(PROMPT), CMD)
    return [l for l in text.replace("\r", "").split("\n") if l.startswith("memtest: ")]


def wait_finished(sh, vm, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if sh.vms()[vm]["state"] == "finished":
            return
        time.sleep(1)
    raise AssertionError("vm %s did not finish in %d s" % (vm, timeout))


def test_reused_host_memory_reads_as_zeros(tmp_path):
    memtest = (os.path.join(emu.BUILD, "guests", "memtest.elf"), "memtest")
    m = boot_shell(str(tmp_path), more_modules=[memtest])
    sh = Shell(m)
    try:
        free, avail = sh.free_bytes()
        # 60% of what VMs may take, in whole 2 MiB pieces: two such VMs need more
        # than the free memory, so the second is built (at least in part) on the
        # host pages the first filled.
        size = (avail * 6 // 10) >> 21 << 21
        assert 2 * size > free, (size, free)
        mib = size >> 20
        for name in ("fill", "reuse"):
            out = sh.run("create memtest --name %s --mem %dM --start" % (name, mib))
            assert re.fullmatch(r"created vm \d+ '%s' \(%d MiB, 1 vCPU\)\nstarted vm \d+ '%s'\n"
                                % (name, mib, name), out), out
            lines = memtest_lines(sh, name, 900)
            assert "memtest: RAM [0x0, 0x%x)" % size in lines, lines
            # Every byte above its image and below its stack read as zero first...
            assert "memtest: initial memory clean" in lines, lines
            assert not [l for l in lines if "ERROR" in l], lines
            # ...then filled with this VM's pattern and read back.
            kib = [int(k) for l in lines for k in
                   re.findall(r"^memtest: vm \d+ pattern verified (\d+) KiB$", l)]
            assert len(kib) == 1 and kib[0] > (size >> 10) - 2048, (kib, lines)
            assert lines[-1] == "memtest: done", lines
            wait_finished(sh, name, CMD)
            out = sh.run("destroy " + name)
            assert re.fullmatch(r"destroyed vm \d+ '%s'\n" % name, out), out
            # Every page came back, touched or not (the second VM touches all of its).
            assert sh.free_bytes() == (free, avail)
    finally:
        finish_shell(m, "watchdog")
