/*
 * PVH entry.  The loader (QEMU, kiln-vmm, Firecracker) enters pvh_start in
 * 32-bit flat protected mode, paging off, EBX = physical address of the
 * hvm_start_info.  We switch to long mode with static boot page tables that
 * map the first GiB three times: identity (for the jump), at the direct
 * map base and at the kernel base; then call kmain(start_info) on the boot
 * stack.  mm/vm.c replaces these tables with the real ones.
 */
#include "x86.h"
#include "param.h"

#define PHYS(x) ((x) - KERNEL_BASE)

	.section .note.pvh, "a"
	.p2align 2
	.long 4			/* name size: "Xen\0" */
	.long 4			/* descriptor size */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.section .boot.text, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	mov	%ebx, %esi			/* start_info, kept for kmain */
	mov	$PHYS(boot_stack_top), %esp

	mov	%cr4, %eax
	or	$(CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov	%eax, %cr4

	mov	$boot_pml4, %eax
	mov	%eax, %cr3

	mov	$MSR_EFER, %ecx
	rdmsr
	or	$(EFER_LME | EFER_NXE | EFER_SCE), %eax
	wrmsr

	mov	%cr0, %eax
	and	$~(CR0_EM | CR0_TS | CR0_CD | CR0_NW), %eax
	or	$(CR0_PG | CR0_PE | CR0_MP | CR0_NE | CR0_WP), %eax
	mov	%eax, %cr0

	lgdt	boot_gdt_desc
	ljmp	$GDT_KERNEL_CS, $long_mode

	.code64
long_mode:
	mov	$GDT_KERNEL_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	movabs	$boot_stack_top, %rsp
	xor	%ebp, %ebp
	mov	%esi, %edi			/* kmain(start_info physical) */
	movabs	$kmain, %rax
	call	*%rax
1:	hlt
	jmp	1b

	.section .boot.data, "aw"
	.p2align 12
boot_pml4:
	.quad boot_pdpt_low + PTE_P + PTE_W		/* 0: identity */
	.fill 255, 8, 0
	.quad boot_pdpt_low + PTE_P + PTE_W		/* 256: direct map */
	.fill 254, 8, 0
	.quad boot_pdpt_high + PTE_P + PTE_W		/* 511: kernel */
boot_pdpt_low:
	.quad boot_pd + PTE_P + PTE_W
	.fill 511, 8, 0
boot_pdpt_high:
	.fill 510, 8, 0
	.quad boot_pd + PTE_P + PTE_W			/* -2 GiB */
	.quad 0
boot_pd:				/* 512 x 2 MiB = the first GiB */
	.set i, 0
	.rept 512
	.quad (i << 21) + PTE_P + PTE_W + PTE_PS + PTE_G
	.set i, i + 1
	.endr

	.p2align 3
boot_gdt:
	.quad 0
	.quad GDT_ENTRY_KERNEL_CODE
	.quad GDT_ENTRY_KERNEL_DATA
boot_gdt_desc:
	.word boot_gdt_desc - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.p2align 12
	.globl boot_stack_top
boot_stack:
	.skip KERNEL_STACK_SIZE
boot_stack_top:
