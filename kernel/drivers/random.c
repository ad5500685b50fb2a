/*
 * Random bytes for getrandom, /dev/urandom and AT_RANDOM.  RDRAND when the
 * CPU has it (it works in nested guests); otherwise a SipHash-style mixer
 * over a counter, seeded from the TSC and the clock at first use.  The
 * fallback is not a cryptographic generator; QEMU without KVM is a
 * development target.
 */
#include "proc.h"
#include "x86.h"

static int have_rdrand = -1;
static uint64_t state[2], counter;

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t v0 = a ^ 0x736f6d6570736575ULL, v1 = b ^ 0x646f72616e646f6dULL;
	uint64_t v2 = a ^ 0x6c7967656e657261ULL, v3 = b ^ 0x7465646279746573ULL;
	for (int i = 0; i < 4; i++) {
		v0 += v1;
		v1 = rotl(v1, 13);
		v1 ^= v0;
		v0 = rotl(v0, 32);
		v2 += v3;
		v3 = rotl(v3, 16);
		v3 ^= v2;
		v0 += v3;
		v3 = rotl(v3, 21);
		v3 ^= v0;
		v2 += v1;
		v1 = rotl(v1, 17);
		v1 ^= v2;
		v2 = rotl(v2, 32);
	}
	return v0 ^ v1 ^ v2 ^ v3;
}

static bool rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) {
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

static uint64_t next64(void)
{
	uint64_t v;
	if (have_rdrand < 0) {
		uint32_t r[4];
		cpuid(1, 0, r);
		have_rdrand = (r[2] >> 30) & 1;
		state[0] = rdtsc() ^ clock_realtime_ns();
		state[1] = rdtsc() * 0x9e3779b97f4a7c15ULL;
	}
	if (have_rdrand && rdrand64(&v))
		return v;
	counter++;
	return mix(state[0] ^ counter, state[1] + rdtsc());
}

void random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		uint64_t v = next64();
		size_t c = MIN(n, sizeof(v));
		memcpy(p, &v, c);
		p += c;
		n -= c;
	}
}
