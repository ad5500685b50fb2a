/*
 * Port and MMIO dispatch.  Devices register themselves with IO_DEVICE()
 * (vmm.h), which puts a pointer to their struct io_device in the
 * "vmm_devices" section; the linker provides the section's bounds.  A port
 * no device claims reads as all ones and ignores writes, as on a PC bus
 * with nothing behind it; an unclaimed MMIO address reads as zeros.
 * MMIO devices register a window the same way with MMIO_DEVICE().
 */
#include <string.h>

#include "vmm.h"

/* Weak, so a unit test that links no device still links. */
extern const struct io_device *const __start_vmm_devices[]
    __attribute__((weak));
extern const struct io_device *const __stop_vmm_devices[] __attribute__((weak));
extern const struct mmio_device *const __start_vmm_mmio_devices[]
    __attribute__((weak));
extern const struct mmio_device *const __stop_vmm_mmio_devices[]
    __attribute__((weak));

const struct io_device *io_find(uint16_t port)
{
	for (const struct io_device *const *d = __start_vmm_devices;
	     d < __stop_vmm_devices; d++) {
		if (port >= (*d)->base && port - (*d)->base < (*d)->len)
			return *d;
	}
	return NULL;
}

void io_port(struct vmm *vm, uint16_t port, int out, uint8_t *data,
	     unsigned size)
{
	const struct io_device *d = io_find(port);

	if (size != 1 && size != 2 && size != 4)
		return;
	if (!out)
		memset(data, 0xff, size);
	if (d != NULL)
		d->io(vm, port, out, data, size);
}

const struct mmio_device *io_find_mmio(uint64_t gpa)
{
	for (const struct mmio_device *const *d = __start_vmm_mmio_devices;
	     d < __stop_vmm_mmio_devices; d++) {
		if (gpa >= (*d)->base && gpa - (*d)->base < (*d)->len)
			return *d;
	}
	return NULL;
}

void io_mmio(struct vmm *vm, uint64_t gpa, int write, uint8_t *data,
	     unsigned len)
{
	const struct mmio_device *d = io_find_mmio(gpa);

	if (!write)
		memset(data, 0, len);
	if (d != NULL)
		d->mmio(vm, gpa - d->base, write, data, len);
}
