; SPDX-License-Identifier: MIT
; The Multiboot v1 test kernel's header and entry (Multiboot Specification
; 0.6.96, 3.1 header, 3.2 machine state). Assembled twice: as is for the ELF32
; image (the loader reads the ELF program headers), and with -DAOUT_KLUDGE for
; the flat image, whose header carries the load addresses (flags bit 16).
bits 32

MB_HDR_MAGIC   equ 0x1badb002
MB_PAGE_ALIGN  equ 1 << 0          ; modules page-aligned
MB_MEMORY_INFO equ 1 << 1          ; mem_lower/mem_upper and the memory map
MB_AOUT_KLUDGE equ 1 << 16         ; the address fields below are valid
%ifdef AOUT_KLUDGE
MB_FLAGS equ MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_AOUT_KLUDGE
%else
MB_FLAGS equ MB_PAGE_ALIGN | MB_MEMORY_INFO
%endif

extern mb1_main, __image_start, __data_end, __bss_end
global _start, mb1_header

section .multiboot progbits alloc noexec nowrite align=4
mb1_header:
	dd MB_HDR_MAGIC
	dd MB_FLAGS
	dd -(MB_HDR_MAGIC + MB_FLAGS)
	dd mb1_header                   ; header_addr
	dd __image_start                ; load_addr
	dd __data_end                   ; load_end_addr
	dd __bss_end                    ; bss_end_addr
	dd _start                       ; entry_addr

section .text
_start:
	; EAX: the magic, EBX: the Multiboot information; no stack is given.
	mov esp, stack_top
	push ebx
	push eax
	call mb1_main
.halt:
	cli
	hlt
	jmp .halt

section .bss
align 16
	resb 8192
stack_top:
