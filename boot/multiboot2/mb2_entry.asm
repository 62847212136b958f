; SPDX-License-Identifier: MIT
; Multiboot2 front end, first half: the header GRUB looks for, and the 32-bit
; entry that builds boot page tables, enters long mode and calls mb2_main().
; Multiboot2 specification 2.0, sections 3.1 (header) and 3.3 (machine state).

%define KERNEL_VIRT_BASE 0xffffffff80000000
%define PHYS(sym)        ((sym) - KERNEL_VIRT_BASE)

%define MB2_HEADER_MAGIC      0xe85250d6
%define MB2_ARCH_I386         0
%define MB2_TAG_END           0
%define MB2_TAG_INFO_REQUEST  1
%define MB2_TAG_ENTRY_ADDRESS 3
%define MB2_TAG_MODULE_ALIGN  6
%define MB2_TAG_OPTIONAL      1       ; header tag flags bit 0
%define MB2_LOADER_MAGIC      0x36d76289

; MBI tags requested explicitly (spec 3.6); GRUB always adds cmdline and modules.
%define MB2_INFO_MMAP     6
%define MB2_INFO_ACPI_OLD 14
%define MB2_INFO_ACPI_NEW 15

%define CR0_PG      (1 << 31)
%define CR4_PAE     (1 << 5)
%define MSR_IA32_EFER 0xc0000080
%define EFER_LME    (1 << 8)
%define EFER_NXE    (1 << 11)
%define PTE_P       (1 << 0)
%define PTE_W       (1 << 1)
%define PTE_PS      (1 << 7)
%define CPUID_80000001_EDX_LM (1 << 29)
%define COM1        0x3f8
%define UART_LSR    5                 ; line status register (16550 data sheet)
%define LSR_THRE    (1 << 5)          ; transmit holding register empty
%define LSR_TEMT    (1 << 6)          ; transmitter (shift register too) empty
%define UART_SPIN_MAX 1000000         ; a missing or wedged UART must not hang here
%define DEBUGCON    0xe9              ; Bochs/QEMU debug console
%define MB2_GDT_CODE 8

extern boot_stack_top
extern mb2_main

; --- the header: first in .text, so within the first 32 KiB of the file -------
section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_HEADER_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	; e_entry is the 64-bit higher-half kernel_entry; GRUB must jump here instead.
	align 8, db 0
.entry:
	dw MB2_TAG_ENTRY_ADDRESS, 0
	dd .entry_end - .entry
	dd PHYS(mb2_entry32)
.entry_end:

	align 8, db 0
.modalign: ; modules on page boundaries, so they can be handed to guests whole
	dw MB2_TAG_MODULE_ALIGN, 0
	dd 8

	align 8, db 0
.request: ; optional: a loader that lacks one of these just leaves it out
	dw MB2_TAG_INFO_REQUEST, MB2_TAG_OPTIONAL
	dd .request_end - .request
	dd MB2_INFO_MMAP, MB2_INFO_ACPI_OLD, MB2_INFO_ACPI_NEW
.request_end:

	align 8, db 0
	dw MB2_TAG_END, 0
	dd 8
mb2_header_end:

; --- 32-bit entry: protected mode, paging off, EAX = magic, EBX = MBI --------
section .text.boot
bits 32

global mb2_entry32
mb2_entry32:
	cli
	cld
	mov edi, eax                    ; kept until mb2_main(magic, mbi)
	mov esi, ebx
	rdtsc
	mov [PHYS(mb2_entry_tsc)], eax
	mov [PHYS(mb2_entry_tsc) + 4], edx
	cmp edi, MB2_LOADER_MAGIC       ; else EBX means nothing: stop before using it
	mov ebx, PHYS(msg_bad_magic)
	jne mb2_fail32

	; Without long mode there is nothing to do but say so.
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_80000001_EDX_LM
	jz .no_long_mode

	; PML4[0] -> [0, 4 GiB) identity with 2 MiB pages; PML4[511] -> PDPT whose
	; entry 510 (KERNEL_VIRT_BASE) reuses the first PD: 1 GiB -> phys [0, 1 GiB).
	mov eax, PHYS(mb2_pdpt_lo) + PTE_P + PTE_W
	mov [PHYS(mb2_pml4)], eax
	mov eax, PHYS(mb2_pdpt_hi) + PTE_P + PTE_W
	mov [PHYS(mb2_pml4) + 511 * 8], eax
	mov eax, PHYS(mb2_pd) + PTE_P + PTE_W
	mov [PHYS(mb2_pdpt_hi) + 510 * 8], eax
	xor ecx, ecx
.fill_pdpt:
	mov edx, ecx
	shl edx, 12
	lea eax, [PHYS(mb2_pd) + edx + PTE_P + PTE_W]
	mov [PHYS(mb2_pdpt_lo) + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .fill_pdpt
	xor ecx, ecx                    ; 2048 PDEs: PD i maps [i GiB, (i+1) GiB)
.fill_pd:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P + PTE_W + PTE_PS
	mov [PHYS(mb2_pd) + ecx * 8], eax
	mov dword [PHYS(mb2_pd) + ecx * 8 + 4], 0
	inc ecx
	cmp ecx, 4 * 512
	jb .fill_pd

	; SDM vol. 3A 10.8.5: PAE, CR3, EFER.LME, then paging activates IA-32e mode.
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, PHYS(mb2_pml4)
	mov cr3, eax
	mov ecx, MSR_IA32_EFER
	rdmsr
	or eax, EFER_LME | EFER_NXE
	wrmsr
	mov eax, cr0
	or eax, CR0_PG
	mov cr0, eax
	lgdt [PHYS(mb2_gdt_ptr)]
	jmp dword MB2_GDT_CODE:PHYS(mb2_entry64_low)

.no_long_mode:
	mov ebx, PHYS(msg_no_lm)
	jmp mb2_fail32

; Waits until LSR has every bit of %1 set, for at most UART_SPIN_MAX reads.
; A macro, not a call: GRUB leaves ESP undefined (Multiboot2 spec 3.3).
; Clobbers AL, ECX, DX.
%macro wait_lsr 1
	mov dx, COM1 + UART_LSR
	mov ecx, UART_SPIN_MAX
%%poll:
	in al, dx
	and al, %1
	cmp al, %1
	je %%ready
	pause
	dec ecx
	jnz %%poll
%%ready:
%endmacro

; ebx = NUL-terminated message (physical); print it and stop. Each byte waits
; for room in the transmitter, and the halt for the last byte to leave it:
; written blind, the UART drops all but the first few bytes.
mb2_fail32:
.next:
	mov al, [ebx]
	test al, al
	jz .drain
	wait_lsr LSR_THRE
	mov al, [ebx]
	mov dx, COM1
	out dx, al
	out DEBUGCON, al
	inc ebx
	jmp .next
.drain:
	wait_lsr LSR_TEMT
.stop:
	cli
	hlt
	jmp .stop

; --- 64-bit, still at the identity-mapped physical address --------------------
bits 64
mb2_entry64_low:
	xor eax, eax
	mov ds, eax
	mov es, eax
	mov ss, eax
	mov fs, eax
	mov gs, eax
	mov rax, mb2_entry64_high
	jmp rax

; --- 64-bit at the link address ---------------------------------------------
mb2_entry64_high:
	lea rsp, [rel boot_stack_top]
	xor ebp, ebp
	push rbp                        ; a zero return address ends backtraces
	mov edi, edi                    ; magic (zero-extended)
	mov esi, esi                    ; MBI physical address
	call mb2_main                   ; does not return
.hang:
	cli
	hlt
	jmp .hang

; --- boot GDT: read by lgdt while paging is off, so its base is physical ------
section .rodata
align 16
mb2_gdt:
	dq 0
	dq 0x00209a0000000000           ; 64-bit code: P, DPL 0, L
	dq 0x0000920000000000           ; data: P, writable
mb2_gdt_end:
mb2_gdt_ptr:
	dw mb2_gdt_end - mb2_gdt - 1
	dd PHYS(mb2_gdt)

msg_bad_magic:
	db "tern: not started by a Multiboot2 loader (EAX is not 0x36d76289)", 13, 10, 0
msg_no_lm:
	db "tern: this CPU has no 64-bit long mode; Tern cannot run", 13, 10, 0

section .bss
align 4096
mb2_pml4:    resq 512
mb2_pdpt_lo: resq 512
mb2_pdpt_hi: resq 512
mb2_pd:      resq 4 * 512
global mb2_entry_tsc
mb2_entry_tsc: resq 1
