; SPDX-License-Identifier: MIT
; hcfuzz's assembly: a VMCALL that loads and saves every GPR, the trip to CPL 3
; and back, and the two payloads it runs in VMs it creates.

bits 64
default rel

extern hf_regs_in
extern hf_regs_out

; struct order of hf_regs_in/hf_regs_out (hcfuzz.c, enum hf_reg).
%define R_RAX 0
%define R_RBX 1
%define R_RCX 2
%define R_RDX 3
%define R_RSI 4
%define R_RDI 5
%define R_RBP 6
%define R_R8  7
%define R_R9  8
%define R_R10 9
%define R_R11 10
%define R_R12 11
%define R_R13 12
%define R_R14 13
%define R_R15 14

; Selectors of the GDT hcfuzz_user.c loads (RPL 3 for the user ones).
%define HF_USER_CS (0x18 | 3)
%define HF_USER_DS (0x20 | 3)

section .text

%macro LOAD 2
	mov %1, [hf_regs_in + %2 * 8]
%endmacro
%macro SAVE 2
	mov [hf_regs_out + %2 * 8], %1
%endmacro

; void hf_vmcall_regs(void): every GPR but RSP from hf_regs_in, VMCALL, every
; GPR to hf_regs_out. RIP-relative loads and stores need no free register.
; The System V callee-saved registers, kept across each routine below.
%macro PUSH_CALLEE_SAVED 0
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
%endmacro
%macro POP_CALLEE_SAVED 0
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
%endmacro

global hf_vmcall_regs
hf_vmcall_regs:
	PUSH_CALLEE_SAVED
	LOAD rax, R_RAX
	LOAD rbx, R_RBX
	LOAD rcx, R_RCX
	LOAD rdx, R_RDX
	LOAD rsi, R_RSI
	LOAD rdi, R_RDI
	LOAD rbp, R_RBP
	LOAD r8, R_R8
	LOAD r9, R_R9
	LOAD r10, R_R10
	LOAD r11, R_R11
	LOAD r12, R_R12
	LOAD r13, R_R13
	LOAD r14, R_R14
	LOAD r15, R_R15
	vmcall
	SAVE rax, R_RAX
	SAVE rbx, R_RBX
	SAVE rcx, R_RCX
	SAVE rdx, R_RDX
	SAVE rsi, R_RSI
	SAVE rdi, R_RDI
	SAVE rbp, R_RBP
	SAVE r8, R_R8
	SAVE r9, R_R9
	SAVE r10, R_R10
	SAVE r11, R_R11
	SAVE r12, R_R12
	SAVE r13, R_R13
	SAVE r14, R_R14
	SAVE r15, R_R15
	POP_CALLEE_SAVED
	ret

; int64_t hf_user_vmcall(uint64_t nr, uint64_t user_rsp): drops to CPL 3
; (with the GDT, TSS and page tables hcfuzz_user.c set up), VMCALLs there with
; RAX = nr and zero arguments, and comes back through the #UD of the ud2 that
; follows: hcfuzz_user.c's trap handler resumes at hf_user_back at CPL 0.
global hf_user_vmcall
global hf_user_insn
global hf_user_back
hf_user_vmcall:
	PUSH_CALLEE_SAVED
	mov [hf_user_krsp], rsp
	push HF_USER_DS			; SS
	push rsi			; RSP
	push 0x2			; RFLAGS: interrupts off
	push HF_USER_CS			; CS
	lea rax, [hf_user_insn]
	push rax			; RIP
	mov rax, rdi
	xor edi, edi
	xor esi, esi
	xor edx, edx
	xor ecx, ecx
	iretq
hf_user_insn:
	vmcall
	ud2
hf_user_back:
	mov rsp, [hf_user_krsp]
	POP_CALLEE_SAVED
	ret

section .bss
global hf_user_krsp
hf_user_krsp:	resq 1

; The payloads are data here: hcfuzz copies them into other VMs with VM_WRITE.
section .rodata

global hf_payload_real_size
global hf_payload_long_size
align 8
hf_payload_real_size:	dq hf_payload_real_end - hf_payload_real
hf_payload_long_size:	dq hf_payload_long_end - hf_payload_long

; Real mode, loaded at 0000:7c00: prints its line on COM1, then cli; hlt.
global hf_payload_real
bits 16
hf_payload_real:
	push cs
	pop ds
	mov si, 0x7c00 + (.msg - hf_payload_real)
	mov dx, 0x3f8
.next:
	lodsb
	test al, al
	jz .halt
	out dx, al
	jmp .next
.halt:
	cli
	hlt
	jmp .halt
.msg:	db "payload: hi", 10, 0
hf_payload_real_end:

; 64-bit, anywhere: prints its line, then idles in sti; hlt for good (no
; interrupt ever comes), so the VM stays RUNNING without using a CPU.
global hf_payload_long
bits 64
hf_payload_long:
	lea rsi, [.msg]
	mov edx, 0x3f8
.next:
	lodsb
	test al, al
	jz .idle
	out dx, al
	jmp .next
.idle:
	sti
	hlt
	jmp .idle
.msg:	db "payload64: up", 10, 0
hf_payload_long_end:
