/*
 * Time.  Under KVM the kvmclock page gives nanoseconds since boot from the
 * TSC with the host's own scale factors and the wall clock at boot, with no
 * calibration; elsewhere (QEMU without KVM) the TSC is calibrated against
 * the PIT for 2 ms and the wall clock comes from the CMOS RTC, to the
 * second.  Both paths end in one formula: ns = base + (tsc - tsc0) * mul.
 */
#include "mm.h"
#include "proc.h"
#include "x86.h"

struct pvclock_time {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __packed;

struct pvclock_wall {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __packed;

static struct pvclock_time kvmclock __aligned(64);
static struct pvclock_wall kvmwall __aligned(64);
static bool have_kvmclock;

/* TSC path: ns = ((tsc - tsc0) * mult) >> 32 */
static uint64_t tsc0, tsc_mult;
static uint64_t realtime_at_boot; /* ns since the epoch at monotonic 0 */

static uint64_t mul_shift32(uint64_t a, uint64_t m)
{
	return (uint64_t)(((unsigned __int128)a * m) >> 32);
}

uint64_t clock_monotonic_ns(void)
{
	if (have_kvmclock) {
		uint32_t v;
		uint64_t ns;
		do {
			v = __atomic_load_n(&kvmclock.version,
					    __ATOMIC_ACQUIRE);
			uint64_t d = rdtsc() - kvmclock.tsc_timestamp;
			if (kvmclock.tsc_shift < 0)
				d >>= -kvmclock.tsc_shift;
			else
				d <<= kvmclock.tsc_shift;
			ns = kvmclock.system_time +
			     mul_shift32(d, kvmclock.tsc_to_system_mul);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
		} while ((v & 1) || v != kvmclock.version);
		return ns;
	}
	if (!tsc_mult)
		return 0;
	return mul_shift32(rdtsc() - tsc0, tsc_mult);
}

uint64_t clock_realtime_ns(void)
{
	return realtime_at_boot + clock_monotonic_ns();
}

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

static void tsc_calibrate_pit(void)
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
	tsc_mult = (1000000ULL << 32) / tsc_khz;
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
	if (kvm_clocksource()) {
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys(&kvmclock) | 1);
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, virt_to_phys(&kvmwall));
		have_kvmclock = true;
		realtime_at_boot = kvmwall.sec * 1000000000ULL + kvmwall.nsec;
		return;
	}
	tsc0 = rdtsc();
	tsc_calibrate_pit();
	realtime_at_boot = rtc_seconds() * 1000000000ULL;
}
