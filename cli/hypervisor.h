/*
 * Starting a packed image on a hypervisor in the foreground for `kiln
 * run`: kiln-vmm (KVM, our monitor) or QEMU's microvm machine (with KVM
 * or, without /dev/kvm, TCG software emulation).  Both run as a child of
 * kiln; SIGINT, SIGTERM and SIGHUP stop the child, and kiln then exits
 * with 128 + the signal.  The command lines and the status rules are
 * lib/hv.h's, shared with kilnd.
 */
#ifndef KILN_HYPERVISOR_H
#define KILN_HYPERVISOR_H

#include "hv.h"

/*
 * Installs kiln's SIGINT/SIGTERM/SIGHUP handlers (SIGINT and SIGHUP stay
 * ignored, for kiln and its monitor, if they were ignored at start: a
 * background job of a script, nohup).  Until a child runs, a signal ends
 * kiln at once with 128 + the signal (nothing to undo then: the rootfs is
 * an unlinked temp file).  Call before packing.
 */
void hypervisor_signals_install(void);

/* Runs kiln-vmm (path vmm) and returns the program's exit status, or a
 * KILN_EXIT_* status after printing why. */
int hypervisor_run_kiln(const struct hv_boot *b, const char *vmm);

/* Runs QEMU (binary qemu, e.g. "qemu-system-x86_64"), streaming COM1 to
 * stdout; returns the status from COM2's "kiln-exit N" record, else from
 * isa-debug-exit, else a KILN_EXIT_* status after printing why. */
int hypervisor_run_qemu(const struct hv_boot *b, const char *qemu);

#endif /* KILN_HYPERVISOR_H */
