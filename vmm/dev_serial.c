/*
 * COM1 at 0x3f8: just enough of an 8250 for a polling driver.  The
 * transmitter is always empty and idle (LSR 0x60), so THR writes go
 * straight to the console; nothing is ever received and no interrupt is
 * raised.  IER, LCR, MCR, SCR and the divisor latch keep what the guest
 * writes so a driver's probe reads back its own values.  IIR reads 0x01
 * ("no interrupt pending") rather than 0, which would claim a pending
 * modem-status interrupt.
 */
#include "vmm.h"

#define SERIAL_BASE	0x3f8
#define SERIAL_LCR_DLAB 0x80
#define SERIAL_LSR_IDLE 0x60 /* THR empty | transmitter empty */
#define SERIAL_IIR_NONE 0x01

/* A read/write register: OUT stores (masked), IN returns what is stored. */
static void dev_serial_reg(uint8_t *reg, int out, uint8_t *v, uint8_t mask)
{
	if (out)
		*reg = *v & mask;
	else
		*v = *reg;
}

static void dev_serial_io(struct vmm *vm, uint16_t port, int out, uint8_t *data,
			  unsigned size)
{
	struct serial_regs *r = &vm->serial;
	int dlab = (r->lcr & SERIAL_LCR_DLAB) != 0;
	uint8_t v = out ? data[0] : 0;

	switch (port - SERIAL_BASE) {
	case 0: /* THR/RBR, or DLL with DLAB set */
		if (dlab)
			dev_serial_reg(&r->dll, out, &v, 0xff);
		else if (out)
			console_putc(&vm->con, (char)v);
		break;
	case 1: /* IER, or DLM with DLAB set */
		if (dlab)
			dev_serial_reg(&r->dlm, out, &v, 0xff);
		else
			dev_serial_reg(&r->ier, out, &v, 0x0f);
		break;
	case 2: /* IIR on read; FCR on write (ignored) */
		if (!out)
			v = SERIAL_IIR_NONE;
		break;
	case 3:
		dev_serial_reg(&r->lcr, out, &v, 0xff);
		break;
	case 4:
		dev_serial_reg(&r->mcr, out, &v, 0x1f);
		break;
	case 5:
		if (!out)
			v = SERIAL_LSR_IDLE;
		break;
	case 7:
		dev_serial_reg(&r->scr, out, &v, 0xff);
		break;
	default: /* 6: MSR, no modem lines */
		break;
	}
	if (!out) {
		for (unsigned i = 0; i < size; i++)
			data[i] = 0;
		data[0] = v;
	}
}

static const struct io_device dev_serial = {
    .name = "serial",
    .base = SERIAL_BASE,
    .len = 8,
    .io = dev_serial_io,
};
IO_DEVICE(dev_serial);
