; SPDX-License-Identifier: MIT
; Triple fault on purpose: int3 with an empty IDT escalates #GP -> #DF -> shutdown.
;
; Standalone (no C library): Tern must stop the VM after the first line.

bits 64
default rel


section .text.start progbits alloc exec nowrite align=16

global _start
_start:
	cld
	lea rsi, [msg_start]
	call puts

	; Vector 3 lies beyond an IDT limit of 0: #GP, whose vector is beyond
	; it too, so #DF, and then a triple fault (SDM Vol. 3A, 6.15, Int 8).
	lidt [idtr_empty]
	int3

	lea rsi, [msg_survived]
	call puts
.halt:
	cli
	hlt
	jmp .halt

%include "tests/guests/puts.inc"

section .rodata

msg_start:	db "bad_triple: start", 10, 0
msg_survived:	db "bad_triple: ERROR int3 with an empty IDT did not triple fault", 10, 0

align 2
idtr_empty:	dw 0				; limit
		dq 0				; base
