; SPDX-License-Identifier: MIT
; Exception and interrupt entry stubs for test guests: build a struct
; guest_trap_frame, call C.
;
; The push order below is the layout of struct guest_trap_frame in guest.h
; (read it bottom-up there); trap.c checks its size and offsets.

bits 64
default rel

extern guest_trap_dispatch

; Vectors for which the CPU pushes an error code (SDM Vol. 3A, 6.15):
; #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17, #CP 21, #VC 29, #SX 30.
%define ERRCODE_VECTORS ((1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | \
			 (1 << 14) | (1 << 17) | (1 << 21) | (1 << 29) | (1 << 30))

section .text

; One stub per IDT vector (X86_NR_VECTORS in guest.h). Only exceptions
; (vectors below 32) can come with an error code.
%define NR_VECTORS 256

%assign vec 0
%rep NR_VECTORS
trap_stub_ %+ vec:
%if vec >= 32 || ((ERRCODE_VECTORS >> vec) & 1) == 0
	push 0				; no error code: keep the frame uniform
%endif
	push vec
	jmp trap_common
%assign vec vec + 1
%endrep

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

	mov rdi, rsp			; struct guest_trap_frame *
	mov rbx, rsp			; callee-saved: survives the call
	and rsp, -16			; SysV alignment whatever the interrupted RSP was
	call guest_trap_dispatch
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
	add rsp, 16			; vector and error code
	iretq

section .rodata

; Entry addresses, indexed by vector, for guest_trap_install().
global guest_trap_stubs
align 8
guest_trap_stubs:
%assign vec 0
%rep NR_VECTORS
	dq trap_stub_ %+ vec
%assign vec vec + 1
%endrep
