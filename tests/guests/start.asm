; SPDX-License-Identifier: MIT
; Entry of the C test guests: guest_main(memsize, vcpu, vm_id, nr_vcpus), then halt.
;
; Tern enters here on vCPU 0 in 64-bit mode with RDI = memory size, RSI =
; vCPU index, RDX = VM id, RCX = number of vCPUs and RSP = top of guest memory
; (see guest.h), which is already the SysV argument order of guest_main.

bits 64
default rel

extern guest_main
extern __bss_start
extern __bss_end

section .text.start progbits alloc exec nowrite align=16

global _start
_start:
	cld
	; Tern zeroes guest memory, but clearing .bss here keeps the C
	; guarantee independent of that (memtest checks the rest).
	mov r12, rdi
	mov r13, rsi
	mov r14, rdx
	mov r15, rcx
	lea rdi, [__bss_start]
	lea rcx, [__bss_end]
	sub rcx, rdi
	xor eax, eax
	rep stosb
	mov rdi, r12
	mov rsi, r13
	mov rdx, r14
	mov rcx, r15

	; SysV: RSP is 16-byte aligned at the call, so guest_main sees
	; RSP = 8 (mod 16) after the return address is pushed.
	and rsp, -16
	xor ebp, ebp			; terminates frame-pointer backtraces
	call guest_main

.halt:
	cli
	hlt
	jmp .halt
