; SPDX-License-Identifier: MIT
; AP start-up trampoline: real mode -> protected mode -> long mode -> kernel.
; Assembled here, copied by arch/smp.c to a page below 1 MiB, entered by SIPI
; at CS = page >> 4, IP = 0. The data block is described by struct tramp_data.
%include "asm_offsets.inc"

%define TD(f) (TRAMP_DATA_OFFSET + f)

section .rodata
align 16
global trampoline_start
global trampoline_end

trampoline_start:
bits 16
	jmp short tramp_code16
	align 8, db 0
tramp_data:
	dq 0                                 ; cr3
	dq 0                                 ; stack_top
	dq 0                                 ; pcpu
	dq 0                                 ; entry
	dd tramp_pm32 - trampoline_start     ; far32_off
	dw 0x08                              ; far32_sel: 32-bit code
	dw 0
	dd tramp_lm64 - trampoline_start     ; far64_off
	dw 0x18                              ; far64_sel: 64-bit code
	dw tramp_gdt_end - tramp_gdt - 1     ; gdt_limit
	dd tramp_gdt - trampoline_start      ; gdt_base
	dd 0

%if (tramp_data - trampoline_start) != TRAMP_DATA_OFFSET
%error "trampoline data block is not at TRAMP_DATA_OFFSET"
%endif

align 8
tramp_gdt:
	dq 0
	dq 0x00cf9a000000ffff ; 0x08: 32-bit code, flat
	dq 0x00cf92000000ffff ; 0x10: data, flat
	dq 0x00af9a000000ffff ; 0x18: 64-bit code
tramp_gdt_end:

tramp_code16:
	cli
	cld
	mov ax, cs
	mov ds, ax
	movzx ebx, ax
	shl ebx, 4                     ; ebx = physical base of the trampoline
	o32 lgdt [TD(TD_GDT_LIMIT)]
	mov eax, 0x00000031            ; PE, ET, NE; CD and NW clear: INIT left them set
	mov cr0, eax                   ; (SDM vol. 3A 10.1.1), which runs the AP uncached
	jmp far dword [TD(TD_FAR32_OFF)]

bits 32
tramp_pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, (1 << 5) | (1 << 7)    ; PAE, PGE
	mov cr4, eax
	mov eax, [ebx + TD(TD_CR3)]
	mov cr3, eax
	mov ecx, 0xc0000080            ; IA32_EFER
	rdmsr
	or eax, (1 << 8) | (1 << 11)   ; LME, NXE
	wrmsr
	mov eax, cr0
	or eax, 0x80010001             ; PG, WP, PE
	mov cr0, eax
	jmp far [ebx + TD(TD_FAR64_OFF)]

bits 64
tramp_lm64:
	mov ebx, ebx                   ; upper halves are undefined after the switch
	xor eax, eax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, [rbx + TD(TD_STACK_TOP)]
	mov rdi, [rbx + TD(TD_PCPU)]
	mov rax, [rbx + TD(TD_ENTRY)]
	xor ebp, ebp
	push rbp
	jmp rax
trampoline_end:
