; SPDX-License-Identifier: MIT
; Real-mode guest: a flat binary Tern loads at 0000:7c00 (it is a valid boot sector too).

bits 16
org 0x7c00


start:
	cli
	cld
	xor ax, ax
	mov ds, ax			; the messages are addressed from segment 0
	mov ss, ax
	mov sp, 0x7c00			; grows down, below the image

	mov si, msg_start
	call puts
	mov si, msg_hello
	call puts
	mov si, msg_done
	call puts
.halt:
	cli
	hlt
	jmp .halt

%include "tests/guests/puts.inc"

msg_start:	db "realmode: start", 10, 0
msg_hello:	db "realmode: hello from real mode", 10, 0
msg_done:	db "realmode: done", 10, 0

%if ($ - $$) > 510
%error "realmode guest does not fit in a boot sector"
%endif
	times 510 - ($ - $$) db 0
	dw 0xaa55
