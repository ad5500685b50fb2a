/*
 * Port 0xf4 (KILN_PORT_EXIT), QEMU's isa-debug-exit: the byte the guest
 * writes becomes the monitor's exit status.  Unlike QEMU, which exits with
 * (byte << 1) | 1, kiln-vmm passes the byte through unchanged.
 */
#include "kiln/abi.h"
#include "vmm.h"

static void dev_exit_io(struct vmm *vm, uint16_t port, int out, uint8_t *data,
			unsigned size)
{
	if (!out)
		return; /* reads see 0xff */
	vm->exit_status = data[0];
	vm->exit_requested = 1;
}

static const struct io_device dev_exit = {
    .name = "exit",
    .base = KILN_PORT_EXIT,
    .len = 1,
    .io = dev_exit_io,
};
IO_DEVICE(dev_exit);
