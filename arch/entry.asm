; SPDX-License-Identifier: MIT
; 64-bit kernel entry from a boot front end: switch to the boot stack, call C.
bits 64
default rel

section .text.boot
global kernel_entry
extern kernel_main

; rdi = struct boot_info * (see boot/boot_info.h for the entry contract)
kernel_entry:
	cli
	cld
	lea rsp, [boot_stack_top]
	xor ebp, ebp
	push rbp            ; a zero return address ends backtraces
	call kernel_main
.hang:
	cli
	hlt
	jmp .hang

; Runs fn(arg) on a new stack; never returns (the old stack is abandoned).
; rdi = new stack top, rsi = fn, rdx = arg
global switch_stack_and_call
switch_stack_and_call:
	mov rsp, rdi
	xor ebp, ebp
	push rbp
	mov rdi, rdx
	call rsi
	jmp kernel_entry.hang

section .bss
align 4096
global boot_stack_bottom
boot_stack_bottom:
	resb 16384
global boot_stack_top
boot_stack_top:
