/*
 * Graceful stop requests from the monitor (include/kiln/abi.h, "Graceful
 * stop"), which the program sees as SIGTERM.  Two ways in:
 *  - kiln-vmm (kiln.vmm=kiln): an edge on IOAPIC input KILN_STOP_GSI,
 *    announced by an OUT to KILN_PORT_STOP;
 *  - QEMU (kiln.exit=com2): the byte KILN_COM2_STOP_BYTE on COM2's input,
 *    which raises the UART's receive interrupt (ISA IRQ 3, IOAPIC input
 *    KILN_COM2_STOP_GSI), announced by the record KILN_COM2_STOP_READY on
 *    COM2, the channel the exit record already uses.
 * The interrupt only records the request; the scheduler turns it into the
 * signal on its next look at the world (stop_take), outside interrupt
 * context, so both ways share everything after the interrupt.
 *
 * The line is routed and announced to the monitor only when the program
 * first gives SIGTERM a disposition other than SIG_DFL (stop_enable): a
 * program that keeps the default dies of SIGTERM either way, so it pays
 * nothing at boot, and an old monitor never sees the port or the record.
 */
#include "arch.h"
#include "ioapic.h"
#include "proc.h"
#include "sched.h"
#include "stop.h"
#include "x86.h"
#include <kiln/abi.h>

#define COM2	      0x2f8
#define UART_IER      1
#define UART_FCR      2
#define UART_LCR      3
#define UART_MCR      4
#define UART_LSR      5
#define UART_LSR_DR   0x01
#define UART_IER_RDI  0x01
#define UART_MCR_OUT2 0x08 /* gates the IRQ line on a real PC */

extern bool console_kiln_port, console_exit_com2;

static bool stop_enabled;
static volatile bool stop_requested;

static void stop_irq(struct trapframe *tf)
{
	stop_requested = true;
	sched_kick();
}

/* Reading the received bytes lowers the UART's line, so the next byte
 * is a new edge. */
static void stop_com2_irq(struct trapframe *tf)
{
	for (int i = 0; i < 64 && (inb(COM2 + UART_LSR) & UART_LSR_DR); i++)
		if (inb(COM2) == (uint8_t)KILN_COM2_STOP_BYTE)
			stop_requested = true;
	if (stop_requested)
		sched_kick();
}

static void stop_enable_com2(void)
{
	outb(COM2 + UART_IER, 0);
	outb(COM2 + UART_LCR, 0x03); /* 8N1, divisor latch off */
	outb(COM2 + UART_FCR, 0);    /* no FIFO: one byte is all we need */
	/* Bytes sent before the program was ready are not a request. */
	for (int i = 0; i < 64 && (inb(COM2 + UART_LSR) & UART_LSR_DR); i++)
		(void)inb(COM2);
	int vec = ioapic_route(KILN_COM2_STOP_GSI, stop_com2_irq);
	if (vec < 0) {
		kdebug("no IOAPIC input %d for stop requests (error %d)",
		       KILN_COM2_STOP_GSI, -vec);
		return;
	}
	outb(COM2 + UART_MCR, UART_MCR_OUT2);
	outb(COM2 + UART_IER, UART_IER_RDI);
	console_com2_write(KILN_COM2_STOP_READY,
			   sizeof(KILN_COM2_STOP_READY) - 1);
}

void stop_enable(void)
{
	if (stop_enabled || (!console_kiln_port && !console_exit_com2))
		return;
	stop_enabled = true;
	if (!console_kiln_port) {
		stop_enable_com2();
		return;
	}
	int vec = ioapic_route(KILN_STOP_GSI, stop_irq);
	if (vec < 0) {
		kdebug("no IOAPIC input %d for stop requests (error %d)",
		       KILN_STOP_GSI, -vec);
		return;
	}
	outl(KILN_PORT_STOP, KILN_STOP_READY);
}

bool stop_take(void)
{
	if (!stop_requested)
		return false;
	stop_requested = false;
	return true;
}
