/*
 * kiln-vmm's own control ports (include/kiln/abi.h), used by a kernel that
 * finds kiln.vmm=kiln on its command line:
 *   KILN_PORT_CONSOLE  32-bit OUT of the guest-physical address of a
 *                      struct kiln_console_req: its bytes go to the console
 *                      in one write, one exit for a whole buffer
 *   KILN_PORT_MARK     32-bit OUT of an enum kiln_mark: the monitor records
 *                      the time since it started (printed by --trace-boot)
 *   KILN_PORT_STOP     32-bit OUT of KILN_STOP_READY: the guest passes a
 *                      SIGTERM on to its program (main.c then raises
 *                      KILN_STOP_GSI instead of stopping the VM)
 * Every address and length comes from the guest, so each goes through
 * mem_gpa(); a request that fails a check is dropped and counted, never
 * fatal to the monitor.
 */
#include <string.h>

#include "kiln/abi.h"
#include "vmm.h"

const char *kiln_mark_name(uint32_t mark)
{
	switch (mark) {
	case KILN_MARK_KERNEL_ENTRY:
		return "kernel_entry";
	case KILN_MARK_USER_ENTRY:
		return "user_entry";
	default:
		return NULL;
	}
}

static void dev_kiln_console(struct vmm *vm, uint32_t gpa)
{
	struct kiln_console_req req;
	const void *p = mem_gpa(&vm->mem, gpa, sizeof(req));

	if (p == NULL) {
		vm->bad_requests++;
		return;
	}
	/* Copy once: the fields are checked and used from this copy. */
	memcpy(&req, p, sizeof(req));
	p = mem_gpa(&vm->mem, req.gpa, req.len);
	if (req.len > KILN_CONSOLE_MAX || p == NULL) {
		vm->bad_requests++;
		return;
	}
	console_write(&vm->con, p, req.len);
}

static void dev_kiln_mark(struct vmm *vm, uint32_t mark)
{
	if (vm->nmarks == VMM_MARKS_MAX) {
		vm->bad_requests++;
		return;
	}
	vm->marks[vm->nmarks].mark = mark;
	vm->marks[vm->nmarks].ns = vmm_now_ns() - vm->t0_ns;
	vm->nmarks++;
}

static void dev_kiln_io(struct vmm *vm, uint16_t port, int out, uint8_t *data,
			unsigned size)
{
	uint32_t v;

	if (!out)
		return; /* reads see 0xff */
	if (size != 4) {
		vm->bad_requests++;
		return;
	}
	memcpy(&v, data, 4);
	if (port == KILN_PORT_CONSOLE)
		dev_kiln_console(vm, v);
	else if (port == KILN_PORT_MARK)
		dev_kiln_mark(vm, v);
	else if (port == KILN_PORT_STOP && v == KILN_STOP_READY)
		vm->stop_ready = 1;
	else
		vm->bad_requests++;
}

static const struct io_device dev_kiln = {
    .name = "kiln",
    .base = KILN_PORT_CONSOLE,
    .len = KILN_PORT_STOP + 4 - KILN_PORT_CONSOLE,
    .io = dev_kiln_io,
};
IO_DEVICE(dev_kiln);
