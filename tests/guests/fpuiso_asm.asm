; SPDX-License-Identifier: MIT
; fpuiso's register fill and read-back: every x87, XMM/YMM/ZMM and opmask
; register from or to a buffer, so the C side only compares memory.

bits 64
default rel
section .text

; void fpu_x87_load(const uint64_t v[8]): fninit, then 8 integers onto the stack.
global fpu_x87_load
fpu_x87_load:
	fninit
%assign i 0
%rep 8
	fild qword [rdi + 8 * i]
%assign i i + 1
%endrep
	ret

; void fpu_x87_store(uint64_t v[8]): pops them back in load order.
global fpu_x87_store
fpu_x87_store:
%assign i 7
%rep 8
	fistp qword [rdi + 8 * i]
%assign i i - 1
%endrep
	ret

; void fpu_xmm_load(const void *buf) / fpu_xmm_store(void *buf): 16 x 16 bytes.
global fpu_xmm_load
fpu_xmm_load:
%assign i 0
%rep 16
	movdqu xmm %+ i, [rdi + 16 * i]
%assign i i + 1
%endrep
	ret

global fpu_xmm_store
fpu_xmm_store:
%assign i 0
%rep 16
	movdqu [rdi + 16 * i], xmm %+ i
%assign i i + 1
%endrep
	ret

; 16 x 32 bytes (YMM0-15).
global fpu_ymm_load
fpu_ymm_load:
%assign i 0
%rep 16
	vmovdqu ymm %+ i, [rdi + 32 * i]
%assign i i + 1
%endrep
	ret

global fpu_ymm_store
fpu_ymm_store:
%assign i 0
%rep 16
	vmovdqu [rdi + 32 * i], ymm %+ i
%assign i i + 1
%endrep
	ret

; 32 x 64 bytes (ZMM0-31), then 8 x 8 bytes (k0-k7).
global fpu_zmm_load
fpu_zmm_load:
%assign i 0
%rep 32
	vmovdqu64 zmm %+ i, [rdi + 64 * i]
%assign i i + 1
%endrep
%assign i 0
%rep 8
	kmovq k %+ i, [rdi + 2048 + 8 * i]
%assign i i + 1
%endrep
	ret

global fpu_zmm_store
fpu_zmm_store:
%assign i 0
%rep 32
	vmovdqu64 [rdi + 64 * i], zmm %+ i
%assign i i + 1
%endrep
%assign i 0
%rep 8
	kmovq [rdi + 2048 + 8 * i], k %+ i
%assign i i + 1
%endrep
	ret
