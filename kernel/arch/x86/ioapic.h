/*
 * The I/O APIC: routes a device's interrupt line (GSI) to a vector on
 * this CPU.  Used by drivers of devices found on the command line
 * (virtio-mmio); nothing is touched until the first route.
 */
#ifndef IOAPIC_H
#define IOAPIC_H

#include "arch.h"

/* Routes input gsi, edge-triggered and active high, to a newly allocated
 * vector whose handler is fn, delivered to this CPU.  Returns the vector,
 * or -ENODEV when no IOAPIC has that input, -ENOSPC when out of vectors.
 * Routing a gsi again returns the vector it already has (fn must then be
 * the same handler: lines are shared by one handler). */
int ioapic_route(unsigned gsi, irq_handler_t fn);

#endif
