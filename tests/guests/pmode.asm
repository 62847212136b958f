; SPDX-License-Identifier: MIT
; Protected-mode guest: a flat binary Tern loads at 0000:7c00 and enters in
; real mode (unrestricted guest), like realmode.asm. It switches to 32-bit
; protected mode and does MMIO through Tern's instruction emulator in three
; paging modes (SDM vol. 3A 4.1.1): paging off, 32-bit paging (a 4-MByte
; PSE page over the MMIO area, 4-KByte pages elsewhere) and PAE paging
; (3 levels, 2-MByte pages). In each: the I/O APIC at 0xFEC00000 (82093AA,
; IOREGSEL at +0, IOWIN at +0x10), the xAPIC page at 0xFEE00000 and open bus
; at 0xFED00000, each at its own address and, with paging, through a second
; linear address mapped to it. Then the PDPTE loads (4.4.1): PAE switched
; on by MOV to CR4 with paging on, a PDPT changed in memory and reloaded by
; MOV to CR0, and #GP on a PDPTE with a reserved bit. One line per phase on
; COM1, "FAIL" lines for anything wrong, "pmode: done", then CLI; HLT.

bits 16
org 0x7c00

%define COM1          0x3f8
%define IOAPIC        0xfec00000
%define OPEN_BUS      0xfed00000	; no device (docs/devices.md: no HPET)
%define LAPIC         0xfee00000
%define IOREGSEL      0x00
%define IOWIN         0x10
%define LAPIC_VER     0x30

; What the devices answer (tests assert the same values).
%define IOAPICVER_VAL 0x00170020	; max redirection entry 23 (bits 23:16); version 0x20 (vioapic.c)
%define LAPICVER_VAL  0x00050014	; max LVT entry 5, version 0x14 (integrated APIC, SDM vol. 3A 11.4.8)

; Control-register bits (SDM vol. 3A 2.5).
%define CR0_PE        0x00000001
%define CR0_ET        0x00000010
%define CR0_NE        0x00000020
%define CR0_PG        0x80000000
%define CR4_PSE       0x00000010
%define CR4_PAE       0x00000020

; Paging-structure bits (tables 4-4 to 4-10).
%define P             0x001
%define RW            0x002
%define PWT           0x008
%define PCD           0x010
%define PS            0x080

; Guest-physical layout, all below 640 KiB and above the image.
%define IDT           0x1000		; 32 interrupt gates
%define PD32          0x10000		; 32-bit page directory
%define PDPT          (PD32 + 0x800)	; the PAE PDPT, inside PD32's unused PDEs 0x200-0x207
%define PT0           0x11000		; 32-bit page table for linear 0-4 MiB
%define PAE_PD0       0x12000		; PAE: linear 0-1 GiB
%define PAE_PD2       0x13000		; PAE: linear 2-3 GiB, the aliases
%define PAE_PD2B      0x14000		; the same, the two pages swapped
%define PAE_PD3       0x15000		; PAE: linear 3-4 GiB, MMIO at its own address

; Linear aliases of the MMIO pages.
%define A4K           0x00300000	; 32-bit: 4-KByte PTEs 0x300-0x302 -> I/O APIC, open bus, xAPIC
%define A4M           0xc0000000	; 32-bit: a 4-MByte PDE -> 0xFEC00000-0xFEFFFFFF
%define A2M           0x80000000	; PAE: 2-MByte PDEs -> 0xFEC00000, 0xFEE00000

start:
	cli
	cld
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, 0x7c00
	lgdt [gdt_desc]
	mov eax, CR0_PE | CR0_ET
	mov cr0, eax
	jmp dword 0x08:pm32

bits 32

; EXPECT want, name: a FAIL line unless EAX == want.
%macro EXPECT 2
	cmp eax, %1
	je %%ok
	push dword %1
	push dword %2
	call fail_value
	add esp, 8
%%ok:
%endmacro

; ACCESS phase, where, ioapic, lapic, open: mmio_checks at those linear addresses.
%macro ACCESS 5
	mov dword [phase], %1
	mov dword [where], %2
	mov ebx, %3
	mov edi, %4
	mov edx, %5
	call mmio_checks
%endmacro

pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov esp, 0x7c00
	call setup_idt
	call setup_tables
	mov esi, msg_start
	call puts

	; Phase 1: paging off; linear is physical.
	ACCESS s_off, s_ident, IOAPIC, LAPIC, OPEN_BUS
	call phase_line

	; Phase 2: 32-bit paging with PSE. CR3 bits 11:5 are ignored here (table 4-3).
	mov eax, PDPT
	mov cr3, eax
	mov eax, CR4_PSE
	mov cr4, eax
	mov eax, CR0_PE | CR0_ET | CR0_PG
	mov cr0, eax
	ACCESS s_32, s_ident, IOAPIC, LAPIC, OPEN_BUS
	ACCESS s_32, s_a4m, A4M, A4M + 0x200000, A4M + 0x100000
	ACCESS s_32, s_a4k, A4K, A4K + 0x2000, A4K + 0x1000
	call phase_line

	; Phase 3: PAE paging, switched on from 32-bit paging by MOV to CR4
	; (4.1.2), which Tern emulates: the PDPTEs come from CR3 bits 31:5.
	mov eax, CR4_PSE | CR4_PAE
	mov cr4, eax
	ACCESS s_pae, s_ident, IOAPIC, LAPIC, OPEN_BUS
	ACCESS s_pae, s_a2m, A2M, A2M + 0x200000, A2M + 0x100000
	call phase_line

	call pdpte_reload
	call pdpte_reserved
	mov esi, msg_done
	call puts
halt:
	cli
	hlt
	jmp halt

; The PDPT changed in memory (the alias pages swapped) is seen only after a
; PDPTE load: paging off, then on by a MOV to CR0 that also sets CR0.NE,
; which Tern owns, so the write exits and Tern emulates it (4.4.1).
pdpte_reload:
	mov dword [fails], 0
	mov dword [PDPT + 2 * 8], PAE_PD2B | P
	mov eax, CR0_PE | CR0_ET
	mov cr0, eax
	mov eax, CR0_PE | CR0_ET | CR0_NE | CR0_PG
	mov cr0, eax
	ACCESS s_pae, s_reload, A2M + 0x200000, A2M, A2M + 0x300000
	mov esi, msg_pfx
	call puts
	mov esi, s_pae
	call puts
	mov esi, msg_reload
	jmp ok_or_fail

; A present PDPTE with a reserved bit (bit 1, table 4-8): the MOV to CR0 and
; the MOV to CR4 that would load it raise #GP and change nothing (4.4.1).
pdpte_reserved:
	mov dword [fails], 0
	mov dword [phase], s_pae
	mov eax, CR0_PE | CR0_ET	; paging off (clears NE: exits)
	mov cr0, eax
	mov dword [PDPT + 1 * 8], PAE_PD0 | P | RW
	mov dword [gp_count], 0
	mov dword [gp_resume], .after_cr0
	mov eax, CR0_PE | CR0_ET | CR0_NE | CR0_PG
	mov cr0, eax
	mov dword [gp_resume], 0
	mov esi, s_no_gp_cr0
	call fail_msg
.after_cr0:
	mov eax, cr0
	and eax, CR0_PG
	mov dword [where], s_rsvd_cr0
	EXPECT 0, s_cr0_pg
	; 32-bit paging again (CR3 still names PD32), then PAE by MOV to CR4.
	mov eax, CR4_PSE
	mov cr4, eax
	mov eax, CR0_PE | CR0_ET | CR0_PG
	mov cr0, eax
	mov dword [gp_resume], .after_cr4
	mov eax, CR4_PSE | CR4_PAE
	mov cr4, eax
	mov dword [gp_resume], 0
	mov esi, s_no_gp_cr4
	call fail_msg
.after_cr4:
	mov eax, cr4
	and eax, CR4_PAE
	mov dword [where], s_rsvd_cr4
	EXPECT 0, s_cr4_pae
	mov eax, [gp_count]
	EXPECT 2, s_gps
	; Not present: the reserved bits are not checked, and PAE comes on.
	mov dword [PDPT + 1 * 8], 0
	mov eax, CR4_PSE | CR4_PAE
	mov cr4, eax
	ACCESS s_pae, s_after_gp, IOAPIC, LAPIC, OPEN_BUS
	mov esi, msg_pfx
	call puts
	mov esi, s_pae
	call puts
	mov esi, msg_rsvd
	; fall through

; Print [esi] then " ok" or " FAIL" by [fails], and a newline.
ok_or_fail:
	call puts
	mov esi, msg_ok
	cmp dword [fails], 0
	je .out
	mov esi, msg_fail_end
.out:
	jmp puts

; "pmode: <phase>: ioapic ver 0x........ ok" after a phase's accesses.
phase_line:
	mov esi, msg_pfx
	call puts
	mov esi, [phase]
	call puts
	mov esi, msg_ver
	call puts
	mov eax, [ver_seen]
	call puthex
	mov esi, msg_empty
	call ok_or_fail
	mov dword [fails], 0
	ret

; The emulated accesses: EBX the I/O APIC, EDI the xAPIC page, EDX open bus.
mmio_checks:
	; C7 /0: IOREGSEL = 1 (IOAPICVER), 8B /r: read IOWIN.
	mov dword [ebx + IOREGSEL], 1
	mov eax, [ebx + IOWIN]
	mov [ver_seen], eax
	EXPECT IOAPICVER_VAL, s_ver
	; C6 /0: a byte write to IOREGSEL (82093AA 3.0 allows byte access there).
	mov byte [ebx + IOREGSEL], 1
	mov eax, [ebx + IOWIN]
	EXPECT IOAPICVER_VAL, s_ver_byte
	; Redirection entry 0, low dword (index 0x10): masked, vector 0x30.
	mov dword [ebx + IOREGSEL], 0x10
	mov dword [ebx + IOWIN], 0x00010030
	mov eax, [ebx + IOWIN]
	EXPECT 0x00010030, s_rte_mov
	; 81 /4 id, 83 /1 ib, 09 /r: AND and OR on the window in memory.
	and dword [ebx + IOWIN], 0xffffff00
	or dword [ebx + IOWIN], 0x45
	mov ecx, 0x00008000		; trigger mode: level (bit 15)
	or [ebx + IOWIN], ecx
	mov eax, [ebx + IOWIN]
	EXPECT 0x00018045, s_rte_alu
	; High dword (index 0x11): only the destination, bits 63:56, is kept.
	mov dword [ebx + IOREGSEL], 0x11
	mov dword [ebx + IOWIN], 0xffffffff
	mov eax, [ebx + IOWIN]
	EXPECT 0xff000000, s_rte_hi
	mov dword [ebx + IOWIN], 0
	mov dword [ebx + IOREGSEL], 0x10
	mov dword [ebx + IOWIN], 0x00010000	; masked, as at reset
	; 0F B6: IOREGSEL as a byte; 0F B7: IOWIN as a word, not a 32-bit access: all-ones.
	mov eax, 0xdeadbeef
	movzx eax, byte [ebx + IOREGSEL]
	EXPECT 0x10, s_movzx8
	mov eax, 0xdeadbeef
	movzx eax, word [ebx + IOWIN]
	EXPECT 0xffff, s_movzx16
	; The xAPIC version register, through the APIC page.
	mov eax, [edi + LAPIC_VER]
	EXPECT LAPICVER_VAL, s_lapic
	; Open bus: the write is dropped, reads are all-ones.
	mov dword [edx], 0x12345678
	mov eax, [edx]
	EXPECT 0xffffffff, s_open
	movzx eax, byte [edx + 3]
	EXPECT 0xff, s_open8
	ret

; FAIL line for EXPECT: [esp+4] the check's name, [esp+8] the value wanted,
; EAX got. Every register is kept (EDX may be an access's base).
fail_value:
	pushad
	call fail_head
	mov esi, [esp + 36]
	call puts
	mov esi, msg_got
	call puts
	mov eax, [esp + 28]		; EAX as PUSHAD saved it
	call puthex
	mov esi, msg_want
	call puts
	mov eax, [esp + 40]
	call puthex
	mov esi, msg_nl
	call puts
	popad
	ret

; FAIL line with the text at ESI.
fail_msg:
	push esi
	call fail_head
	pop esi
	call puts
	mov esi, msg_nl
	jmp puts

; "pmode: FAIL: <phase>, <where>: ", counted.
fail_head:
	inc dword [fails]
	mov esi, msg_fail
	call puts
	mov esi, [phase]
	call puts
	mov esi, msg_comma
	call puts
	mov esi, [where]
	call puts
	mov esi, msg_colon
	jmp puts

; EAX as 0x and 8 hex digits.
puthex:
	pushad
	mov ebx, eax
	mov dx, COM1
	mov al, '0'
	out dx, al
	mov al, 'x'
	out dx, al
	mov ecx, 8
.digit:
	rol ebx, 4
	mov al, bl
	and al, 0xf
	add al, '0'
	cmp al, '9'
	jbe .out
	add al, 'a' - '9' - 1
.out:
	out dx, al
	loop .digit
	popad
	ret

%include "tests/guests/puts.inc"

; ---- exceptions ----------------------------------------------------------------

; Vectors 0-31: #GP may be expected ([gp_resume]); anything else is a FAIL.
setup_idt:
	mov edi, IDT
	mov ecx, 32
.gate:
	mov eax, exc_other
	cmp ecx, 32 - 13
	jne .not_gp
	mov eax, exc_gp
.not_gp:
	cmp ecx, 32 - 14
	jne .set
	mov eax, exc_pf
.set:
	mov [edi], ax			; offset 15:0
	mov word [edi + 2], 0x08	; code selector
	mov word [edi + 4], 0x8e00	; present, DPL 0, 32-bit interrupt gate
	shr eax, 16
	mov [edi + 6], ax		; offset 31:16
	add edi, 8
	loop .gate
	lidt [idt_desc]
	ret

exc_gp:
	cmp dword [gp_resume], 0
	je exc_other
	add esp, 16			; error code, EIP, CS, EFLAGS
	inc dword [gp_count]
	mov eax, [gp_resume]
	mov dword [gp_resume], 0
	jmp eax

exc_pf:
	mov esi, msg_pf
	call puts
	mov eax, cr2
	call puthex
	mov esi, msg_nl
	call puts
	jmp halt

exc_other:
	mov esi, msg_exc
	call puts
	jmp halt

; ---- page tables ----------------------------------------------------------------

setup_tables:
	; Clear PD32 (and the PDPT in it) through PAE_PD3.
	mov edi, PD32
	mov ecx, (PAE_PD3 + 0x1000 - PD32) / 4
	xor eax, eax
	rep stosd
	; 32-bit: PT0 maps 0-2 MiB (guest RAM) with 4-KByte pages, and the aliases.
	mov edi, PT0
	mov eax, P | RW
	mov ecx, 512
.pte:
	stosd
	add eax, 0x1000
	loop .pte
	mov dword [PT0 + 0x300 * 4], IOAPIC | P | RW | PCD | PWT
	mov dword [PT0 + 0x301 * 4], OPEN_BUS | P | RW | PCD | PWT
	mov dword [PT0 + 0x302 * 4], LAPIC | P | RW | PCD | PWT
	mov dword [PD32 + 0 * 4], PT0 | P | RW
	mov dword [PD32 + (IOAPIC >> 22) * 4], IOAPIC | P | RW | PCD | PWT | PS
	mov dword [PD32 + (A4M >> 22) * 4], IOAPIC | P | RW | PCD | PWT | PS
	; PAE: PDPTEs 0, 2, 3 (no R/W: reserved in a PDPTE, table 4-8).
	mov dword [PDPT + 0 * 8], PAE_PD0 | P
	mov dword [PDPT + 2 * 8], PAE_PD2 | P
	mov dword [PDPT + 3 * 8], PAE_PD3 | P
	mov dword [PAE_PD0], 0 | P | RW | PS
	mov dword [PAE_PD3 + ((IOAPIC >> 21) & 0x1ff) * 8], IOAPIC | P | RW | PCD | PWT | PS
	mov dword [PAE_PD3 + ((LAPIC >> 21) & 0x1ff) * 8], LAPIC | P | RW | PCD | PWT | PS
	mov dword [PAE_PD2 + 0 * 8], IOAPIC | P | RW | PCD | PWT | PS
	mov dword [PAE_PD2 + 1 * 8], LAPIC | P | RW | PCD | PWT | PS
	mov dword [PAE_PD2B + 0 * 8], LAPIC | P | RW | PCD | PWT | PS
	mov dword [PAE_PD2B + 1 * 8], IOAPIC | P | RW | PCD | PWT | PS
	ret

; ---- data ----------------------------------------------------------------------

align 8
gdt:
	dq 0
	dq 0x00cf9a000000ffff		; 0x08: code, base 0, 4 GiB, 32-bit
	dq 0x00cf92000000ffff		; 0x10: data, base 0, 4 GiB
gdt_desc:
	dw gdt_desc - gdt - 1
	dd gdt
idt_desc:
	dw 32 * 8 - 1
	dd IDT

phase:		dd s_off
where:		dd s_ident
fails:		dd 0
ver_seen:	dd 0
gp_resume:	dd 0
gp_count:	dd 0

msg_start:	db "pmode: start, 32-bit protected mode", 10, 0
msg_done:	db "pmode: done", 10, 0
msg_pfx:	db "pmode: ", 0
msg_ver:	db ": ioapic ver ", 0
msg_reload:	db ": PDPTEs reloaded by MOV to CR0", 0
msg_rsvd:	db ": reserved PDPTE bit: #GP on MOV to CR0 and to CR4", 0
msg_empty:	db 0
msg_ok:		db " ok", 10, 0
msg_fail_end:	db " FAIL", 10, 0
msg_fail:	db "pmode: FAIL: ", 0
msg_comma:	db ", ", 0
msg_colon:	db ": ", 0
msg_got:	db ": got ", 0
msg_want:	db " want ", 0
msg_nl:		db 10, 0
msg_pf:		db "pmode: FAIL: page fault at ", 0
msg_exc:	db "pmode: FAIL: unexpected exception", 10, 0
s_off:		db "paging off", 0
s_32:		db "32-bit paging", 0
s_pae:		db "PAE paging", 0
s_ident:	db "identity", 0
s_a4m:		db "4M alias", 0
s_a4k:		db "4K alias", 0
s_a2m:		db "2M alias", 0
s_reload:	db "swapped 2M alias", 0
s_rsvd_cr0:	db "reserved PDPTE, MOV to CR0", 0
s_rsvd_cr4:	db "reserved PDPTE, MOV to CR4", 0
s_after_gp:	db "after #GP", 0
s_no_gp_cr0:	db "no #GP on MOV to CR0", 0
s_no_gp_cr4:	db "no #GP on MOV to CR4", 0
s_cr0_pg:	db "CR0.PG", 0
s_cr4_pae:	db "CR4.PAE", 0
s_gps:		db "#GP count", 0
s_ver:		db "IOAPICVER", 0
s_ver_byte:	db "IOAPICVER after byte IOREGSEL", 0
s_rte_mov:	db "RTE0 MOV", 0
s_rte_alu:	db "RTE0 AND/OR", 0
s_rte_hi:	db "RTE0 high", 0
s_movzx8:	db "MOVZX byte IOREGSEL", 0
s_movzx16:	db "MOVZX word IOWIN", 0
s_lapic:	db "xAPIC version", 0
s_open:		db "open bus dword", 0
s_open8:	db "open bus MOVZX byte", 0

%if ($ - $$) > 0x8000
%error "pmode guest overlaps its page tables"
%endif
