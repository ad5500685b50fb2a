/*
 * A stand-in kernel for testing kiln's hypervisor plumbing without the
 * real kernel: a PVH ELF64 whose 32-bit entry talks to the same ports the
 * kiln kernel uses (abi.h) and nothing else.  Built several times by
 * cli/cli.mk with one behaviour each:
 *   FX_EXIT=N      "hi\n" on COM1, "kiln-exit N\n" on COM2, N to port 0xf4
 *   FX_NORECORD=N  "hi\n" on COM1, N to port 0xf4 only (no COM2 record)
 *   FX_SPIN        "hi\n" on COM1, then spin forever (Ctrl-C, --timeout)
 *   FX_TRIPLE      "hi\n" on COM1, then a triple fault (QEMU -no-reboot)
 *   FX_BULK        FX_BULK_LINES lines of 50 bytes on COM1, then exit 0
 * Port writes need no UART setup: QEMU's 8250 takes bytes at any speed.
 */
#define FX_BULK_LINES 2000

	.section .note.Xen, "a", @note
	.balign 4
	.long 4                 /* namesz */
	.long 8                 /* descsz */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad fx_start
	.balign 4

	.text
	.code32
	.globl fx_start
fx_start:
#ifdef FX_BULK
	mov $FX_BULK_LINES, %ecx
1:	mov $fx_line, %esi
	call fx_puts_com1
	loop 1b
	mov $0, %bl
	jmp fx_exit
#else
	mov $fx_hi, %esi
	call fx_puts_com1
#endif
#if defined(FX_SPIN)
2:	pause
	jmp 2b
#elif defined(FX_TRIPLE)
	lidt fx_null_idt
	int3
3:	hlt
	jmp 3b
#elif defined(FX_NORECORD)
	mov $FX_NORECORD, %al
	out %al, $0xf4
4:	hlt
	jmp 4b
#elif defined(FX_EXIT)
	mov $fx_record, %esi
	mov $0x2f8, %dx
	call fx_puts
	mov $FX_EXIT, %bl
	jmp fx_exit
#endif

	/* The status in %bl to port 0xf4 (FX_EXIT wrote its record
	 * already; FX_BULK writes "kiln-exit 0" here). */
fx_exit:
#ifdef FX_BULK
	mov $fx_record0, %esi
	mov $0x2f8, %dx
	call fx_puts
#endif
	mov %bl, %al
	out %al, $0xf4
5:	hlt
	jmp 5b

/* Writes the NUL-terminated string at %esi to port %dx. */
fx_puts_com1:
	mov $0x3f8, %dx
fx_puts:
	lodsb
	test %al, %al
	jz 6f
	out %al, %dx
	jmp fx_puts
6:	ret

	.section .rodata
fx_hi:	.asciz "hi\n"
fx_line: .asciz "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM\n"
fx_record0: .asciz "kiln-exit 0\n"
#ifdef FX_EXIT
#define FX_STR2(x) #x
#define FX_STR(x) FX_STR2(x)
fx_record: .ascii "kiln-exit "
	.ascii FX_STR(FX_EXIT)
	.asciz "\n"
#endif
	.balign 8
fx_null_idt:
	.word 0
	.long 0
