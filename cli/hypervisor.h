/*
 * Starting a packed image on a hypervisor and turning how it ended into
 * kiln's exit status: kiln-vmm (KVM, our monitor) or QEMU's microvm
 * machine (with KVM or, without /dev/kvm, TCG software emulation).
 * Both run as a child of kiln; SIGINT, SIGTERM and SIGHUP stop the child,
 * and kiln then exits with 128 + the signal.
 */
#ifndef KILN_HYPERVISOR_H
#define KILN_HYPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct hv_boot {
	const char *kernel; /* PVH ELF kernel (kiln.elf) */
	int initrd_fd;	    /* the rootfs; given as /dev/fd/N */
	uint64_t memory_mib;
	unsigned timeout_s;		/* 0: no limit */
	const struct strv *kernel_args; /* extra command-line words */
	int kvm;			/* QEMU: -accel kvm (else tcg) */
	const char *tap;		/* NULL: no network device */
	const char *mac;		/* with tap: "52:54:00:..." */
};

/* 1 if /dev/kvm can be opened read-write; else 0 with the reason (an
 * errno string) in why. */
int hv_kvm_usable(char *why, size_t whylen);

/*
 * Installs kiln's SIGINT/SIGTERM/SIGHUP handlers (SIGINT and SIGHUP stay
 * ignored, for kiln and its monitor, if they were ignored at start: a
 * background job of a script, nohup).  Until a child runs, a signal ends
 * kiln at once with 128 + the signal (nothing to undo then: the rootfs is
 * an unlinked temp file).  Call before packing.
 */
void hv_signals_install(void);

/* Runs kiln-vmm (path vmm) and returns the program's exit status, or a
 * KILN_EXIT_* status after printing why. */
int hv_run_kiln(const struct hv_boot *b, const char *vmm);

/* Runs QEMU (binary qemu, e.g. "qemu-system-x86_64"), streaming COM1 to
 * stdout; returns the status from COM2's "kiln-exit N" record, else from
 * isa-debug-exit, else a KILN_EXIT_* status after printing why. */
int hv_run_qemu(const struct hv_boot *b, const char *qemu);

/* Appends QEMU's argument vector for b to argv, with COM1 and COM2
 * written to the given file descriptors (as /dev/fd/N); 0, or -1 when out
 * of memory.  docs/cli.md shows the result. */
int hv_qemu_argv(const struct hv_boot *b, const char *qemu, int con_fd,
		 int exit_fd, struct strv *argv);

#endif /* KILN_HYPERVISOR_H */
