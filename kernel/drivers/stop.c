/*
 * Graceful stop requests from kiln-vmm (include/kiln/abi.h, "Graceful
 * stop"): an edge on IOAPIC input KILN_STOP_GSI means "the instance is
 * being stopped", which the program sees as SIGTERM.  The interrupt only
 * records the request; the scheduler turns it into the signal on its next
 * look at the world (stop_take), outside interrupt context.
 *
 * The line is routed and announced to the monitor only when the program
 * first gives SIGTERM a disposition other than SIG_DFL (stop_enable): a
 * program that keeps the default dies of SIGTERM either way, so it pays
 * nothing at boot, and an old monitor never sees the port.
 */
#include "arch.h"
#include "ioapic.h"
#include "sched.h"
#include "stop.h"
#include "x86.h"
#include <kiln/abi.h>

extern bool console_kiln_port;

static bool stop_enabled;
static volatile bool stop_requested;

static void stop_irq(struct trapframe *tf)
{
	stop_requested = true;
	sched_kick();
}

void stop_enable(void)
{
	if (stop_enabled || !console_kiln_port)
		return;
	stop_enabled = true;
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
