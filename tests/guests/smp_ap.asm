; SPDX-License-Identifier: MIT
; Start-up path of the smp guest's application processors: real mode, then
; protected mode, then long mode, then smp_ap_main() on a stack of its own.
;
; Only smp_tramp_start..smp_tramp_end runs below 1 MiB: smp.c copies it to
; the page the SIPI vector names. It addresses itself through CS (DS = CS),
; so it runs at any page; everything else runs in place in the image at
; 1 MiB, which the APs reach by absolute far jumps. The BSP fills the
; smp_ap_* variables (smp.c) before it sends the first SIPI.

%define CR0_PE     (1 << 0)
%define MSR_IA32_EFER 0xc0000080

; Selectors of smp_gdt. 0x08 and 0x10 match Tern's GDT (guest.h), so the
; IDT gates built on the BSP with CS = 0x08 are valid on the APs too.
%define SEL_CODE64 0x08
%define SEL_DATA   0x10
%define SEL_CODE32 0x18

extern smp_ap_main
extern smp_ap_cr0
extern smp_ap_cr3
extern smp_ap_cr4
extern smp_ap_efer
extern smp_ap_next_slot
extern smp_ap_stack_top
extern smp_ap_stack_size

section .rodata

; Real mode, CS:IP = (V << 8):0000, interrupts off (guest.h).
bits 16
global smp_tramp_start
global smp_tramp_end
align 16
smp_tramp_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	o32 lgdt [smp_tramp_gdtr - smp_tramp_start]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:smp_ap_entry32

align 8
smp_tramp_gdtr:
	dw smp_gdt.end - smp_gdt - 1
	dd smp_gdt			; the image is below 4 GiB
smp_tramp_end:

section .data

; Flat segments (SDM Vol. 3A, 3.4.5), accessed bits preset so that loading
; them does not write here.
align 16
smp_gdt:
	dq 0
	dq 0x00af9b000000ffff		; 0x08: 64-bit code
	dq 0x00cf93000000ffff		; 0x10: data, 4 GiB
	dq 0x00cf9b000000ffff		; 0x18: 32-bit code, 4 GiB
.end:

section .text

; Protected mode, paging off: the BSP's paging state, then long mode.
bits 32
smp_ap_entry32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov eax, [smp_ap_cr4]
	mov cr4, eax
	mov eax, [smp_ap_cr3]
	mov cr3, eax
	mov ecx, MSR_IA32_EFER
	mov eax, [smp_ap_efer]
	xor edx, edx
	wrmsr
	mov eax, [smp_ap_cr0]		; PG with EFER.LME: IA-32e mode
	mov cr0, eax
	jmp SEL_CODE64:smp_ap_entry64

bits 64
default rel
smp_ap_entry64:
	; A stack slot of its own: APs may come up in any order, even at once.
	mov eax, 1
	lock xadd [smp_ap_next_slot], eax
	imul rax, [smp_ap_stack_size]
	mov rsp, [smp_ap_stack_top]
	sub rsp, rax
	and rsp, -16
	xor ebp, ebp
	call smp_ap_main
.halt:
	cli
	hlt
	jmp .halt
