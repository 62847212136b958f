; SPDX-License-Identifier: MIT
; Guest entry and the VM-exit stub. The current vCPU is this CPU's
; pcpu->vcpu (GS-relative); its struct guest_regs is laid out by
; generated offsets, so C and asm cannot disagree.
%include "asm_offsets.inc"

bits 64
default rel
section .text

extern vmx_exit_handler
extern vmx_entry_failed

; Load the current vCPU's GPRs and enter it. Never returns.
global vmx_run_current
vmx_run_current:
	mov rax, [gs:PCPU_VCPU]
	cmp byte [rax + VCPU_LAUNCHED], 0
	mov rcx, [rax + VCPU_REGS + GR_RCX]
	mov rdx, [rax + VCPU_REGS + GR_RDX]
	mov rbx, [rax + VCPU_REGS + GR_RBX]
	mov rbp, [rax + VCPU_REGS + GR_RBP]
	mov rsi, [rax + VCPU_REGS + GR_RSI]
	mov rdi, [rax + VCPU_REGS + GR_RDI]
	mov r8,  [rax + VCPU_REGS + GR_R8]
	mov r9,  [rax + VCPU_REGS + GR_R9]
	mov r10, [rax + VCPU_REGS + GR_R10]
	mov r11, [rax + VCPU_REGS + GR_R11]
	mov r12, [rax + VCPU_REGS + GR_R12]
	mov r13, [rax + VCPU_REGS + GR_R13]
	mov r14, [rax + VCPU_REGS + GR_R14]
	mov r15, [rax + VCPU_REGS + GR_R15]
	mov rax, [rax + VCPU_REGS + GR_RAX]  ; mov leaves the flags of the cmp alone
	je .launch
	vmresume
	jmp .failed
.launch:
	vmlaunch
.failed:
	; Still in the host, on the host stack: CF or ZF says why.
	pushfq
	pop rdi
	and rsp, -16
	call vmx_entry_failed

; HOST_RIP: every VM exit lands here with RSP = the CPU's empty stack top.
global vmx_exit_stub
vmx_exit_stub:
	push rax
	mov rax, [gs:PCPU_VCPU]
	mov [rax + VCPU_REGS + GR_RCX], rcx
	mov [rax + VCPU_REGS + GR_RDX], rdx
	mov [rax + VCPU_REGS + GR_RBX], rbx
	mov [rax + VCPU_REGS + GR_RBP], rbp
	mov [rax + VCPU_REGS + GR_RSI], rsi
	mov [rax + VCPU_REGS + GR_RDI], rdi
	mov [rax + VCPU_REGS + GR_R8], r8
	mov [rax + VCPU_REGS + GR_R9], r9
	mov [rax + VCPU_REGS + GR_R10], r10
	mov [rax + VCPU_REGS + GR_R11], r11
	mov [rax + VCPU_REGS + GR_R12], r12
	mov [rax + VCPU_REGS + GR_R13], r13
	mov [rax + VCPU_REGS + GR_R14], r14
	mov [rax + VCPU_REGS + GR_R15], r15
	pop qword [rax + VCPU_REGS + GR_RAX]
	xor ebp, ebp                    ; backtraces stop here
	call vmx_exit_handler
	jmp vmx_run_current
