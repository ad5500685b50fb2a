/*
 * The whole contract between the host (kiln-vmm, the CLI, later kilnd) and
 * the guest kernel kiln.elf.  Self-contained C99, no other includes beyond
 * <stdint.h>; bump KILN_ABI_VERSION on every change to anything below.
 *
 * Boot: the kernel is an ELF64 with a PVH note (XEN_ELFNOTE_PHYS32_ENTRY).
 * The monitor enters it in 32-bit flat protected mode with EBX pointing at
 * a struct hvm_start_info (Xen's layout, version 1) carrying the command
 * line, the memory map and one module: the rootfs, a cpio "newc" archive.
 *
 * Program: the rootfs holds KILN_CONFIG_PATH, a text file that names the
 * program and its arguments, environment and working directory (format
 * below).  The kernel command line may add environment with kiln.env=.
 */
#ifndef KILN_ABI_H
#define KILN_ABI_H

#include <stdint.h>

#define KILN_ABI_VERSION 4

/*
 * I/O ports.  0xf4 is QEMU's isa-debug-exit: the guest writes the exit
 * status as one byte.  kiln-vmm exits with that byte as its own status;
 * QEMU exits with (byte << 1) | 1, which loses bit 7, so on QEMU the kernel
 * also writes a text record "kiln-exit N\n" to the second UART (COM2) when
 * the command line says kiln.exit=com2, and the CLI reads the status there.
 */
#define KILN_PORT_EXIT 0xf4

/*
 * kiln-vmm's own control ports, used only when the command line carries
 * kiln.vmm=kiln (kiln-vmm appends it).  A 32-bit OUT to KILN_PORT_CONSOLE
 * carries the guest-physical address of a struct kiln_console_req: the
 * monitor copies the bytes to its console in one exit instead of one exit
 * per byte through the 8250.
 */
#define KILN_PORT_CONSOLE 0x510
/* A 32-bit OUT to KILN_PORT_MARK records a boot-timeline event (enum
 * kiln_mark) with the monitor's clock; used by bench/, costs one exit. */
#define KILN_PORT_MARK 0x514

/*
 * Graceful stop (ABI 3).  A kernel that can pass a stop request on to its
 * program routes IOAPIC input KILN_STOP_GSI (edge-triggered, active high)
 * and then does a 32-bit OUT of KILN_STOP_READY to KILN_PORT_STOP.  From
 * then on kiln-vmm answers its first SIGTERM by raising that input (one
 * edge) instead of stopping the VM, and the kernel sends SIGTERM to the
 * program (si_code SI_USER, si_pid 0, as from another process): the
 * program may clean up and exit with a status of its choosing; without a
 * handler SIGTERM's default action ends it with 143.  A second SIGTERM, or
 * SIGINT, stops the VM at once as before.  kiln's kernel announces itself
 * lazily, when the program first sets a SIGTERM disposition other than
 * SIG_DFL: until then the default action and a hard stop are the same.
 */
#define KILN_PORT_STOP	0x518
#define KILN_STOP_READY 1
#define KILN_STOP_GSI	22

/*
 * The same on QEMU (ABI 4), through COM2 (kiln.exit=com2): the kernel
 * routes COM2's receive interrupt (ISA IRQ 3, IOAPIC input
 * KILN_COM2_STOP_GSI on QEMU's microvm), enables it, and writes the
 * record KILN_COM2_STOP_READY on COM2 next to where the exit record goes.
 * A host that has read that record answers its first SIGTERM by writing
 * the byte KILN_COM2_STOP_BYTE to COM2's input instead of stopping QEMU;
 * the kernel then sends SIGTERM to the program exactly as for input
 * KILN_STOP_GSI.  Other bytes on COM2's input are ignored.
 */
#define KILN_COM2_STOP_READY "kiln-stop-ready\n"
#define KILN_COM2_STOP_BYTE  'T'
#define KILN_COM2_STOP_GSI   3

struct kiln_console_req {
	uint64_t gpa; /* guest-physical address of the bytes */
	uint32_t
	    len; /* byte count; the monitor rejects len > KILN_CONSOLE_MAX */
	uint32_t reserved;
};
#define KILN_CONSOLE_MAX 65536

enum kiln_mark {
	KILN_MARK_KERNEL_ENTRY = 1, /* first C code in the kernel */
	KILN_MARK_USER_ENTRY =
	    2, /* about to enter the program (ld.so or _start) */
};

/*
 * Exit statuses.  0-255 written by the program are passed through;
 * a program killed by signal N exits with 128 + N (139 for SIGSEGV), as a
 * shell reports it.  The kernel and the monitors use these for their own
 * failures (the choice follows timeout(1), docker run and the shell):
 */
#define KILN_EXIT_PANIC	      120 /* kernel panic (report on the console) */
#define KILN_EXIT_GUEST_CRASH 121 /* triple fault / unexpected reset */
#define KILN_EXIT_NOMEM	      122 /* guest memory too small for the program */
#define KILN_EXIT_TIMEOUT     124 /* monitor --timeout expired */
#define KILN_EXIT_MONITOR     125 /* the monitor or hypervisor failed */
#define KILN_EXIT_NOEXEC      126 /* program is not a runnable x86_64 ELF */
#define KILN_EXIT_NOTFOUND    127 /* program or its interpreter not found */

/*
 * /.kiln/config in the rootfs: one directive per line, "KEY VALUE\n".
 * VALUE is percent-encoded: '%', bytes below 0x21 and 0x7f and above are
 * written as %XX (two hex digits), everything else as is.  Keys:
 *   exe PATH    the program to run (absolute path inside the rootfs)
 *   arg VALUE   argv[0], argv[1], ... in order (argv[0] defaults to exe)
 *   env K=V     one environment entry, in order
 *   cwd PATH    working directory (default "/")
 * Unknown keys are ignored so older kernels can read newer images.
 */
#define KILN_CONFIG_PATH "/.kiln/config"

/*
 * Kernel command line words (space separated, values percent-encoded as
 * above), beside anything the kernel ignores (console=, virtio_mmio.device=):
 *   kiln.env=K=V      add or override one environment entry
 *   kiln.exit=com2    also report the exit status on COM2 (QEMU)
 *   kiln.vmm=kiln     running on kiln-vmm: use the control ports above
 *   kiln.ip=A/P       IPv4 address and prefix of the virtio-net device
 *   kiln.gw=A         default gateway
 *   kiln.dns=A[,B]    DNS servers (/etc/resolv.conf)
 *   kiln.hostname=N   hostname (uname, /etc/hostname, /etc/hosts)
 *   virtio_mmio.device=SIZE@ADDR:IRQ   a virtio-mmio device (QEMU microvm
 *                     and kiln-vmm add these themselves)
 *   kiln.debug        verbose boot log and register dumps on faults
 *   kiln.test=panic   panic right after boot (tests of the panic path)
 *   kiln.test=fault   page fault in the kernel right after boot (tests of
 *                     the exception report)
 */

#endif /* KILN_ABI_H */
