; SPDX-License-Identifier: MIT
; The guest tests/guests/dirtytest.c logs: real mode at 0000:7c00, no stack,
; no memory written but on purpose. Each byte it reads from its UART starts a
; round: one byte written into each of DIRTY_PAGES pages (GPA 0x10123 +
; k * 0x7000), then "D\n" on the UART, then it waits for the next byte.
; Position-independent: dirtytest.c copies it to 0x7c00.

DIRTY_PAGES equ 16

section .rodata
bits 16
global dirty_payload, dirty_payload_end
dirty_payload:
	cli
.wait:
	mov dx, 0x3fd
.poll:
	in al, dx
	test al, 1
	jz .poll
	mov dx, 0x3f8
	in al, dx
	mov bx, 0x1000
	mov cx, DIRTY_PAGES
.write:
	mov es, bx
	mov [es:0x123], al
	add bx, 0x700
	loop .write
	mov al, 'D'
	out dx, al
	mov al, 10
	out dx, al
	jmp .wait
dirty_payload_end:
