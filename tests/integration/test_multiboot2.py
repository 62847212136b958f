# SPDX-License-Identifier: MIT
"""The Multiboot2 front end: GRUB from a BIOS-booted ISO hands Tern the same boot_info."""

BOCHS_BOOT = 120  # Bochs BIOS + GRUB reach the kernel in ~2 s (1 CPU) to ~8 s (4 CPUs)
QEMU_BOOT = 60    # SeaBIOS + GRUB under TCG: about a second


def test_bochs_bios_grub_vtx_ready_on_4_cpus(machine):
    m = machine(emu="bochs", boot="mb2", cpus=4, model="corei7_skylake_x",
                cmdline="after_boot=poweroff")
    m.wait_for(r"Tern \S+ hypervisor booting via Multiboot2", BOCHS_BOOT)
    m.wait_for(r"cmdline: 'after_boot=poweroff'", 5)
    m.wait_for(r"acpi: revision \d+, OEM '[^']*': MADT yes \(4 CPUs\)", 30)
    m.wait_for(r"smp: 4 of 4 CPUs online \(processor list from ACPI MADT", 120)
    m.wait_for(r"vmx: VT-x ready on 4 of 4 CPUs", 30)
    m.wait_for(r"tern: boot complete, no VMs to run; after_boot=poweroff", 30)
    m.wait_for(r"tern: powering off", 10)
    m.wait_exit(60)  # Bochs exits 1 on any power-off; the console says it was clean
    assert "EXCEPTION" not in m.output() and "PANIC" not in m.output()


def test_qemu_seabios_grub_passes_module(machine, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 19 + bytes(136))  # 5000 bytes
    m = machine(emu="qemu", boot="mb2", cpus=2, modules=[(str(blob), "blob")])
    m.wait_for(r"Tern \S+ hypervisor booting via Multiboot2", QEMU_BOOT)
    base = int(m.wait_for(r"boot: module 'blob' at 0x([0-9a-f]+), 5000 bytes", 10).group(1), 16)
    assert base % 4096 == 0, hex(base)  # the header asks GRUB for page-aligned modules
    m.wait_for(r"acpi: revision \d+, OEM '[^']*': MADT yes \(2 CPUs\)", 30)
    m.wait_for(r"smp: 2 of 2 CPUs online \(processor list from ACPI MADT", 60)
    m.wait_for(r"Tern cannot run on this machine because this CPU does not offer Intel VT-x "
               r"\(CPUID\.1:ECX\.VMX is 0\)\.", 30)
    m.wait_for(r"tern: powering off", 10)
    assert m.wait_exit(30) == 0
    assert "EXCEPTION" not in m.output() and "PANIC" not in m.output()
