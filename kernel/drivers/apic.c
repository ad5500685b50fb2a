/*
 * The local APIC (xAPIC, memory mapped), used for one thing: the one-shot
 * timer the scheduler arms for time slices, sleeps and timeouts.  Its
 * frequency is measured against the clock the first time it is needed,
 * so programs that never sleep never pay for the calibration.
 */
#include "arch.h"
#include "boot.h"
#include "proc.h"
#include "sched.h"
#include "x86.h"

#define APIC_PHYS	0xfee00000UL
#define APIC_TPR	0x80
#define APIC_EOI	0xb0
#define APIC_SVR	0xf0
#define APIC_LVT_TIMER	0x320
#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR	0x390
#define APIC_TIMER_DIV	0x3e0
#define APIC_LVT_MASKED (1 << 16)

static volatile uint32_t *apic;
static uint64_t apic_ticks_per_ms;
static bool apic_timer_unmasked;

static uint32_t apic_read(uint32_t reg)
{
	return apic[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
	apic[reg / 4] = v;
}

void apic_eoi(void)
{
	if (apic)
		apic_write(APIC_EOI, 0);
}

static void timer_irq(struct trapframe *tf)
{
	/* The scheduler looks at the clock on the way out; it only needs to
	 * know that nothing is armed any more (the APIC's rate is measured,
	 * so the interrupt may come a little before the time it was armed
	 * for). */
	sched_timer_fired();
}

void apic_init(void)
{
	wrmsr(MSR_APIC_BASE, APIC_PHYS | (1 << 11)); /* xAPIC enabled */
	apic = vm_map_mmio(APIC_PHYS, PAGE_SIZE);
	apic_write(APIC_TPR, 0);
	/* KVM resets the boot CPU's LINT0 to ExtINT, unmasked ("virtual
	 * wire"): the 8259 PIC, never initialised here, would then deliver
	 * device IRQs as vectors 0-15, i.e. as CPU exceptions.  Devices come
	 * through the IOAPIC; mask both local interrupt pins. */
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
	apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);
	apic_write(APIC_TIMER_DIV, 0xb); /* divide by 1 */
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_TIMER);
	irq_register(VEC_TIMER, timer_irq);
}

/*
 * One reading of the timer's count, stamped with the midpoint of two clock
 * reads around it.  The vCPU may be descheduled at any instant; a reading
 * whose clock reads are far apart is retried, so a pause can stretch the
 * measured interval but never put the count and its time stamp apart.
 */
static uint64_t apic_sample(uint32_t *count)
{
	uint64_t best_width = UINT64_MAX, stamp = 0;

	for (int i = 0; i < 8 && best_width > 20000; i++) {
		uint64_t a = clock_monotonic_ns();
		uint32_t c = apic_read(APIC_TIMER_CUR);
		uint64_t b = clock_monotonic_ns();
		if (b - a < best_width) {
			best_width = b - a;
			stamp = a + (b - a) / 2;
			*count = c;
		}
	}
	return stamp;
}

static void apic_calibrate(void)
{
	uint32_t c0, c1;

	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TIMER_INIT, 0xffffffff);
	uint64_t t0 = apic_sample(&c0);
	while (clock_monotonic_ns() - t0 < 1000000)
		;
	uint64_t t1 = apic_sample(&c1);
	apic_write(APIC_TIMER_INIT, 0);
	apic_ticks_per_ms =
	    t1 > t0 ? (uint64_t)(c0 - c1) * 1000000 / (t1 - t0) : 0;
	if (apic_ticks_per_ms == 0)
		apic_ticks_per_ms = 1000000; /* 1 GHz, KVM's and QEMU's rate */
}

void apic_timer_oneshot(uint64_t ns)
{
	if (!apic_ticks_per_ms)
		apic_calibrate();
	uint64_t ticks = ns / 1000 * apic_ticks_per_ms / 1000 + 1;
	if (ticks > 0xffffffff)
		ticks = 0xffffffff;
	/* Each register write is a VM exit: unmask the timer once. */
	if (!apic_timer_unmasked) {
		apic_write(APIC_LVT_TIMER, VEC_TIMER);
		apic_timer_unmasked = true;
	}
	apic_write(APIC_TIMER_INIT, (uint32_t)ticks);
}
