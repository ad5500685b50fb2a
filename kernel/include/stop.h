/* Graceful stop requests from the monitor (kernel/drivers/stop.c). */
#ifndef STOP_H
#define STOP_H

#include "kernel.h"

/* The program set a SIGTERM disposition: on kiln-vmm, route the stop line
 * and tell the monitor that a SIGTERM may be passed on.  Idempotent. */
void stop_enable(void);

/* True once per stop request received since the last call. */
bool stop_take(void);

#endif
