/*
 * What kiln's programs share about starting a packed image on a
 * hypervisor, without starting anything: whether KVM is usable, the
 * argument vectors of kiln-vmm and of QEMU's microvm machine, and how to
 * turn the way a monitor ended into kiln's exit status.  `kiln run`
 * (cli/hypervisor.c) and kilnd's per-instance shim (daemon/shim.c) both
 * build on it, so an instance boots exactly as `kiln run` boots it.
 * Never prints, never exits.
 */
#ifndef KILN_HV_H
#define KILN_HV_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct hv_boot {
	const char *kernel; /* PVH ELF kernel (kiln.elf) */
	const char *initrd; /* the rootfs by path; NULL: /dev/fd/initrd_fd */
	int initrd_fd;
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

/* Like hv_kvm_usable(), but $KILN_KVM=0 or 1 overrides the probe (tests
 * of the fallback on KVM hosts, and of the kiln-vmm plumbing with a
 * stand-in $KILN_VMM without KVM). */
int hv_kvm_choose(char *why, size_t whylen);

/* The QEMU binary: $KILN_QEMU, else "qemu-system-x86_64" (from $PATH). */
const char *hv_qemu_binary(void);

/* Appends kiln-vmm's argument vector for b to argv (vmm: its path); 0, or
 * -1 when out of memory. */
int hv_kiln_argv(const struct hv_boot *b, const char *vmm, struct strv *argv);

/* Appends QEMU's argument vector for b to argv, with COM1 written to
 * con_fd (as /dev/fd/N) and COM2 connected both ways to com2_fd, which
 * must be a connected stream socket (one end of a socketpair); 0, or -1
 * when out of memory.  docs/cli.md shows the result. */
int hv_qemu_argv(const struct hv_boot *b, const char *qemu, int con_fd,
		 int com2_fd, struct strv *argv);

/* 1 when the COM2 bytes hold the kernel's "kiln-stop-ready\n" record:
 * the program has a SIGTERM disposition of its own and the kernel passes
 * a stop byte on to it as SIGTERM. */
int hv_stop_ready(const char *rec, size_t n);

/* What QEMU says besides the console, kept by the loop that copies its
 * output (`kiln run`, `kilnd shim`): the COM2 bytes (exit record, ready
 * record) and the start of its stderr, for hv_qemu_status. */
#define HV_RECORD_MAX 256
#define HV_STDERR_MAX 16384
struct hv_qemu_out {
	char rec[HV_RECORD_MAX];
	size_t nrec;
	int ready; /* the COM2 bytes hold the ready record (hv_stop_ready) */
	char err[HV_STDERR_MAX];
	size_t nerr;
};

/* Keeps the n bytes read from COM2 (com2) or from QEMU's stderr, as many
 * as fit. */
void hv_qemu_keep(struct hv_qemu_out *o, int com2, const char *buf, size_t n);

/*
 * The graceful stop on QEMU, for the nth stop signal sig (1: the first):
 * when it is the first SIGTERM and the guest is ready (hv_stop_ready),
 * writes the stop byte to com2_fd (the host's end of COM2) and returns 1,
 * leaving QEMU running while the program ends itself.  Otherwise returns
 * 0, and the caller stops QEMU as before.  Async-signal-safe.
 */
int hv_qemu_forward_stop(int com2_fd, int ready, int sig, int nth);

/* The status in a "kiln-exit N\n" record found anywhere in the COM2
 * bytes (the last one wins), or -1 when there is none. */
int hv_parse_record(const char *rec, size_t n);

/*
 * kiln's status for a QEMU that ended with wait status wst, given the
 * COM2 record's status (record, -1 if none) and whether QEMU wrote
 * anything on stderr.  When the cause is not the program's own status, a
 * one-line explanation goes into msg ("" otherwise); want_stderr is then
 * set when QEMU's stderr should be shown under it.
 */
int hv_qemu_status(int wst, int record, int had_stderr, const char *qemu,
		   char *msg, size_t msglen, int *want_stderr);

/* The same for kiln-vmm, whose exit status is the program's. */
int hv_kiln_status(int wst, char *msg, size_t msglen);

#endif /* KILN_HV_H */
