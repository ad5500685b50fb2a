/*
 * Not a test: a tiny PVH "kernel" that the system toolchain links at 1 MiB
 * (tests/unit/vmm.mk).  vmm_boot checks the loader against readelf on it,
 * an ELF laid out by ld rather than by the test itself; and it is a smoke
 * guest for kiln-vmm wherever /dev/kvm exists (scripts/nested-kvm.sh).
 *
 * In 32-bit flat mode it checks EBX -> hvm_start_info magic (exit 99 if
 * wrong), then acts on the first byte of the command line:
 *   'h'  cli; hlt forever  (kiln-vmm --timeout: status 121, halted)
 *   's'  spin forever      (kiln-vmm --timeout: status 124)
 *   't'  triple fault      (status 121)
 *   'e'  an SSE instruction on unbacked memory, which KVM must emulate
 *        and cannot (KVM_EXIT_INTERNAL_ERROR: status 125)
 *   else print "serial ok\n" through the 8250, "kiln console ok\n" through
 *        KILN_PORT_CONSOLE, record mark 1, and exit 42 through port 0xf4
 */
__asm__(".pushsection .note.Xen, \"a\", @note\n"
	"\t.balign 4\n"
	"\t.long 4\n"  /* namesz */
	"\t.long 4\n"  /* descsz */
	"\t.long 18\n" /* XEN_ELFNOTE_PHYS32_ENTRY */
	"\t.asciz \"Xen\"\n"
	"\t.balign 4\n"
	"\t.long pvh_start\n"
	"\t.popsection\n"

	".pushsection .data\n"
	"\t.balign 8\n"
	"fx_req:\n"
	"\t.quad fx_msg2\n"
	"\t.long fx_msg2_end - fx_msg2\n"
	"\t.long 0\n"
	"fx_msg:\n"
	"\t.ascii \"serial ok\\n\"\n"
	"fx_msg_end:\n"
	"fx_msg2:\n"
	"\t.ascii \"kiln console ok\\n\"\n"
	"fx_msg2_end:\n"
	"fx_idtr:\n"
	"\t.word 0\n"
	"\t.long 0\n"
	"\t.popsection\n"

	"\t.text\n"
	"\t.code32\n"
	"\t.globl pvh_start\n"
	"pvh_start:\n"
	"\tcmpl $0x336ec578, (%ebx)\n"
	"\tjne fx_bad\n"
	"\tmovl 0x18(%ebx), %esi\n" /* cmdline_paddr (low half) */
	"\tmovb (%esi), %al\n"
	"\tcmpb $'h', %al\n"
	"\tje fx_hang\n"
	"\tcmpb $'s', %al\n"
	"\tje fx_spin\n"
	"\tcmpb $'t', %al\n"
	"\tje fx_triple\n"
	"\tcmpb $'e', %al\n"
	"\tje fx_emul\n"
	"\tmovl $fx_msg, %esi\n"
	"\tmovw $0x3f8, %dx\n"
	"1:\tcmpl $fx_msg_end, %esi\n"
	"\tje 2f\n"
	"\tmovb (%esi), %al\n"
	"\toutb %al, %dx\n"
	"\tincl %esi\n"
	"\tjmp 1b\n"
	"2:\tmovw $0x510, %dx\n"
	"\tmovl $fx_req, %eax\n"
	"\toutl %eax, %dx\n"
	"\tmovw $0x514, %dx\n"
	"\tmovl $1, %eax\n"
	"\toutl %eax, %dx\n"
	"\tmovw $0xf4, %dx\n"
	"\tmovb $42, %al\n"
	"\toutb %al, %dx\n"
	"fx_bad:\n"
	"\tmovw $0xf4, %dx\n"
	"\tmovb $99, %al\n"
	"\toutb %al, %dx\n"
	"fx_hang:\n"
	"\tcli\n"
	"\thlt\n"
	"\tjmp fx_hang\n"
	"fx_spin:\n"
	"\tjmp fx_spin\n"
	"fx_emul:\n"
	"\tmovl %cr4, %eax\n"
	"\torl $0x200, %eax\n" /* CR4.OSFXSR: SSE allowed */
	"\tmovl %eax, %cr4\n"
	"\tpaddb 0xd0000000, %xmm0\n"
	"\tjmp fx_bad\n"
	"fx_triple:\n"
	"\tlidt fx_idtr\n"
	"\tint3\n"
	"\t.code64\n");
