/*
 * The I/O APIC, programmed only when a driver routes an interrupt, so a
 * machine without devices never touches it.  There are no ACPI or MP
 * tables to read (QEMU microvm with acpi=off, kiln-vmm, Firecracker), so
 * the chips are found where every PC-compatible machine puts them: the
 * first at 0xfec00000 with GSIs 0-23, and on microvm a second at
 * 0xfec10000 for the inputs after it.  Each chip says how many inputs it
 * has in its version register; a missing chip reads as all ones.
 *
 * Lines are edge-triggered, active high: virtio-mmio raises its line when
 * its interrupt status becomes non-zero and the handler acknowledges the
 * device before the EOI, and an irqfd-style monitor injects edges.
 */
#include "ioapic.h"
#include "boot.h"
#include "x86.h"

#define IOAPIC_PHYS	  0xfec00000UL
#define IOAPIC_STRIDE	  0x10000UL /* microvm's second chip */
#define IOAPIC_MAX_CHIPS  2
#define IOAPIC_REGSEL	  0x00
#define IOAPIC_WINDOW	  0x10
#define IOAPIC_REG_VER	  0x01
#define IOAPIC_REG_REDIR  0x10 /* + 2 * input: low word, then high */
#define IOAPIC_MASKED	  (1u << 16)
#define IOAPIC_LEVEL	  (1u << 15)
#define IOAPIC_ACTIVE_LOW (1u << 13)
/* Vectors for device interrupts: above the LAPIC timer (32), below the
 * spurious vector (255). */
#define VEC_DEVICE_FIRST 48
#define VEC_DEVICE_LAST	 239

struct ioapic_chip {
	volatile uint32_t *regs;
	unsigned gsi_base, ninputs;
};

static struct ioapic_chip chips[IOAPIC_MAX_CHIPS];
static int nchips = -1; /* -1: not probed yet */
static int next_vector = VEC_DEVICE_FIRST;
static struct {
	unsigned gsi;
	int vector;
	irq_handler_t fn;
} routes[VEC_DEVICE_LAST - VEC_DEVICE_FIRST + 1];
static int nroutes;

static uint32_t ioapic_read(struct ioapic_chip *c, uint32_t reg)
{
	c->regs[IOAPIC_REGSEL / 4] = reg;
	return c->regs[IOAPIC_WINDOW / 4];
}

static void ioapic_write(struct ioapic_chip *c, uint32_t reg, uint32_t v)
{
	c->regs[IOAPIC_REGSEL / 4] = reg;
	c->regs[IOAPIC_WINDOW / 4] = v;
}

static void ioapic_probe(void)
{
	unsigned gsi = 0;

	nchips = 0;
	/* One mapping (a 2 MiB uncached page) covers both chips. */
	uint8_t *base =
	    vm_map_mmio(IOAPIC_PHYS, IOAPIC_STRIDE * IOAPIC_MAX_CHIPS);
	for (int i = 0; i < IOAPIC_MAX_CHIPS; i++) {
		struct ioapic_chip *c = &chips[nchips];
		c->regs = (volatile uint32_t *)(base + i * IOAPIC_STRIDE);
		uint32_t ver = ioapic_read(c, IOAPIC_REG_VER);
		if (ver == 0xffffffff || ver == 0)
			break;
		c->gsi_base = gsi;
		c->ninputs = ((ver >> 16) & 0xff) + 1;
		gsi += c->ninputs;
		nchips++;
	}
}

static uint32_t this_apic_id(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return r[1] >> 24;
}

int ioapic_route(unsigned gsi, irq_handler_t fn)
{
	for (int i = 0; i < nroutes; i++)
		if (routes[i].gsi == gsi)
			return routes[i].fn == fn ? routes[i].vector : -EBUSY;
	if (nchips < 0)
		ioapic_probe();
	struct ioapic_chip *c = NULL;
	for (int i = 0; i < nchips; i++)
		if (gsi >= chips[i].gsi_base &&
		    gsi < chips[i].gsi_base + chips[i].ninputs)
			c = &chips[i];
	if (!c)
		return -ENODEV;
	if (next_vector > VEC_DEVICE_LAST)
		return -ENOSPC;
	int vector = next_vector++;
	routes[nroutes].gsi = gsi;
	routes[nroutes].vector = vector;
	routes[nroutes].fn = fn;
	nroutes++;
	irq_register(vector, fn);
	unsigned pin = gsi - c->gsi_base;
	/* High word first, so the entry is never live with a stale
	 * destination: physical destination mode, fixed delivery. */
	ioapic_write(c, IOAPIC_REG_REDIR + 2 * pin + 1, this_apic_id() << 24);
	ioapic_write(c, IOAPIC_REG_REDIR + 2 * pin, (uint32_t)vector);
	return vector;
}
