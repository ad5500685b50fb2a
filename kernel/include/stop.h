/* Graceful stop requests from the monitor (kernel/drivers/stop.c). */
#ifndef STOP_H
#define STOP_H

#include "kernel.h"

/* The program set a SIGTERM disposition: route the stop line (kiln-vmm's
 * input 22, or COM2's receive interrupt on QEMU) and tell the monitor that
 * a SIGTERM may be passed on.  Idempotent. */
void stop_enable(void);

/* True once per stop request received since the last call. */
bool stop_take(void);

#endif
