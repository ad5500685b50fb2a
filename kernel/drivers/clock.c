/*
 * Time.  Under KVM the kvmclock page gives nanoseconds since boot from the
 * TSC with the host's own scale factors and the wall clock at boot, with no
 * calibration; elsewhere (QEMU without KVM) the TSC is calibrated against
 * the PIT for 2 ms and the wall clock comes from the CMOS RTC, to the
 * second.  Both paths end in one formula: ns = base + (tsc - tsc0) * mul.
 */
#include "mm.h"
#include "proc.h"
#include "vvar.h"
#include "x86.h"

/* The clock's data lives in the vvar page (vvar.h), which every program
 * also sees read-only under its vDSO: the kernel and the vDSO compute the
 * time from the same numbers with the same code.  A whole page of its own,
 * so that nothing else of the kernel's is visible to the program. */
static union {
	struct vvar v;
	char page[VVAR_SIZE];
} vvar_store __aligned(VVAR_SIZE);

const struct vvar *clock_vvar(void)
{
	return &vvar_store.v;
}

uint64_t clock_monotonic_ns(void)
{
	return vvar_monotonic_ns(&vvar_store.v);
}

uint64_t clock_realtime_ns(void)
{
	uint64_t mono, base;
	vvar_read(&vvar_store.v, &mono, &base);
	return base + mono;
}

struct pvclock_wall {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __packed;

static bool kvm_clocksource(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 31))) /* not under a hypervisor */
		return false;
	cpuid(0x40000000, 0, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x0000004d)
		return false; /* "KVMKVMKVM" */
	cpuid(0x40000001, 0, r);
	return r[0] & (1 << 3); /* KVM_FEATURE_CLOCKSOURCE2 */
}

/* PIT channel 0 counter (mode 0, counting down from 0xffff). */
static uint16_t pit_read(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint8_t lo = inb(0x40);
	uint8_t hi = inb(0x40);
	return (uint16_t)(hi << 8 | lo);
}

/* TSC ticks per ms, measured against the PIT for ~2 ms: the multiplier
 * that turns ticks into ns, scaled by 2^32. */
static uint64_t tsc_calibrate_pit(void)
{
	uint64_t tsc_khz;
	const uint32_t pit_hz = 1193182, ticks = 2386; /* ~2 ms */
	outb(0x43, 0x30); /* channel 0, lo/hi, mode 0 */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	uint16_t start = pit_read();
	uint64_t t0 = rdtsc();
	uint16_t now;
	int spins = 0;
	do {
		now = pit_read();
	} while ((uint16_t)(start - now) < ticks && ++spins < 10000000);
	uint64_t t1 = rdtsc();
	uint32_t elapsed = (uint16_t)(start - now);
	if (elapsed == 0 || t1 <= t0) {
		/* No PIT: assume 1 GHz rather than stop time. */
		tsc_khz = 1000000;
	} else {
		tsc_khz = (t1 - t0) * pit_hz / elapsed / 1000;
	}
	return (1000000ULL << 32) / tsc_khz;
}

static unsigned bcd(unsigned v)
{
	return (v & 15) + (v >> 4) * 10;
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

/* Seconds since the epoch from the CMOS RTC (0 when absent). */
static uint64_t rtc_seconds(void)
{
	for (int i = 0; i < 1000 && (cmos(0x0a) & 0x80); i++)
		cpu_relax(); /* update in progress */
	unsigned s = cmos(0), mi = cmos(2), h = cmos(4), d = cmos(7),
		 mo = cmos(8), y = cmos(9), b = cmos(0x0b);
	if (s == 0xff && mi == 0xff)
		return 0;
	if (!(b & 0x04)) {
		s = bcd(s);
		mi = bcd(mi);
		h = bcd(h & 0x7f) | (h & 0x80);
		d = bcd(d);
		mo = bcd(mo);
		y = bcd(y);
	}
	if (!(b & 0x02) && (h & 0x80))
		h = ((h & 0x7f) + 12) % 24;
	y += 2000;
	/* Days from civil (Howard Hinnant's algorithm). */
	int yy = (int)y - (mo <= 2);
	int era = yy / 400;
	unsigned yoe = (unsigned)(yy - era * 400);
	unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	return (uint64_t)days * 86400 + h * 3600 + mi * 60 + s;
}

void clock_init(void);
void clock_init(void)
{
	struct vvar *v = &vvar_store.v;
	v->seq = 1;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (kvm_clocksource()) {
		static struct pvclock_wall kvmwall __aligned(64);
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys(&v->pvclock) | 1);
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, virt_to_phys(&kvmwall));
		v->realtime_at_boot =
		    kvmwall.sec * 1000000000ULL + kvmwall.nsec;
		v->mode = VVAR_MODE_PVCLOCK;
	} else {
		v->tsc0 = rdtsc();
		v->tsc_mult = tsc_calibrate_pit();
		v->realtime_at_boot = rtc_seconds() * 1000000000ULL;
		v->mode = VVAR_MODE_TSC;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	v->seq = 2;
}
