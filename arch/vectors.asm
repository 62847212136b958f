; SPDX-License-Identifier: MIT
; IDT entry stubs for all 256 vectors and the common trap path.
%include "asm_offsets.inc"

bits 64
default rel
section .text

extern trap_dispatch
global idt_stub_table

; Vectors where the CPU pushes an error code (SDM vol. 3A table 6-1).
%define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%macro STUB 1
align 16
stub_%1:
%if HAS_ERR(%1) == 0
	push qword 0
%endif
	push qword %1
	jmp trap_common
%endmacro

%assign v 0
%rep 256
	STUB v
%assign v v+1
%endrep

; The frame must match struct trap_frame: GPRs pushed here in reverse order.
%if TF_VECTOR != 15 * 8 || TF_RAX != 14 * 8 || TF_R15 != 0
%error "struct trap_frame does not match the push order in vectors.asm"
%endif

trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	cld
	; Align the stack for C: the CPU aligns it to 16 before pushing its frame
	; only for IST entries, so do it here and keep the old value in rbx.
	mov rbx, rsp
	and rsp, -16
	call trap_dispatch
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16 ; vector, error code
	iretq

section .rodata
align 8
idt_stub_table:
%assign v 0
%rep 256
	dq stub_ %+ v
%assign v v+1
%endrep
