/*
 * The vDSO's bytes (built from kernel/vdso by kernel/kernel.mk) inside the
 * kernel's read-only data, page aligned and padded to whole pages, so that
 * kernel/exec/vdso.c maps these very pages into the program.
 */
	.section .rodata.vdso, "a"
	.balign 4096
	.globl vdso_image_start
vdso_image_start:
	.incbin VDSO_SO
	.balign 4096
	.globl vdso_image_end
vdso_image_end:
	.section .note.GNU-stack, "", @progbits
