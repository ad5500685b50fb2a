/*
 * The vvar page: the clock data the kernel fills once at boot and every
 * program sees read-only right below the vDSO (kernel/vdso/vdso.c).  The
 * kernel's own clock (kernel/drivers/clock.c) and the vDSO both compute the
 * time with vvar_monotonic_ns() below from this one page, so a time read
 * in the program and one read by a syscall come from the same formula and
 * the same numbers and can never disagree or go backward relative to each
 * other.  Under KVM the pvclock area inside the page is written by the
 * hypervisor itself (the page's physical address is what the kernel hands
 * to MSR_KVM_SYSTEM_TIME_NEW).
 *
 * This header is compiled into the kernel and into the vDSO (a user-space
 * shared object): it may only use <stdint.h>.
 */
#ifndef VVAR_H
#define VVAR_H

#include <stdint.h>

#define VVAR_SIZE 4096

/* How the time is computed; VVAR_MODE_SYSCALL makes the vDSO ask the
 * kernel (before the clock is set up, or with kiln.novdso nothing is
 * mapped at all). */
#define VVAR_MODE_SYSCALL 0
#define VVAR_MODE_TSC	  1 /* ns = ((tsc - tsc0) * tsc_mult) >> 32 */
#define VVAR_MODE_PVCLOCK 2 /* KVM's pvclock (kvmclock) */

/* KVM's struct pvclock_vcpu_time_info, written by the hypervisor. */
struct vvar_pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct vvar {
	/* Odd while the kernel rewrites the fields below (it does at boot
	 * only today; readers retry all the same). */
	uint32_t seq;
	uint32_t mode;
	uint64_t tsc0;
	uint64_t tsc_mult;
	uint64_t realtime_at_boot; /* ns since the epoch at monotonic 0 */
	/* 64-byte aligned: a pvclock area must not cross a page. */
	struct vvar_pvclock pvclock __attribute__((aligned(64)));
};

static inline uint64_t vvar_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t vvar_mul_shift32(uint64_t a, uint64_t m)
{
	return (uint64_t)(((unsigned __int128)a * m) >> 32);
}

/* TSC ticks from stamp to tsc.  A TSC read behind the stamp (possible
 * where the TSC is itself emulated, as under nested KVM) counts as no
 * time: unsigned, the difference would wrap to centuries, and one such
 * read would put every deadline computed from it out of reach. */
static inline uint64_t vvar_ticks_since(uint64_t tsc, uint64_t stamp)
{
	return tsc > stamp ? tsc - stamp : 0;
}

/* Nanoseconds since boot from the page's data (0 in VVAR_MODE_SYSCALL).
 * Reads go through volatile: the hypervisor and the kernel write the page
 * behind the compiler's back. */
static inline uint64_t vvar_monotonic_ns(const volatile struct vvar *v)
{
	if (v->mode == VVAR_MODE_PVCLOCK) {
		const volatile struct vvar_pvclock *p = &v->pvclock;
		uint32_t ver;
		uint64_t ns;
		do {
			ver = p->version;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			uint64_t d =
			    vvar_ticks_since(vvar_rdtsc(), p->tsc_timestamp);
			int8_t shift = p->tsc_shift;
			if (shift < 0)
				d >>= -shift;
			else
				d <<= shift;
			ns = p->system_time +
			     vvar_mul_shift32(d, p->tsc_to_system_mul);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
		} while ((ver & 1) || ver != p->version);
		return ns;
	}
	if (v->mode == VVAR_MODE_TSC)
		return vvar_mul_shift32(vvar_ticks_since(vvar_rdtsc(), v->tsc0),
					v->tsc_mult);
	return 0;
}

/* The monotonic time and the realtime offset, read consistently against
 * a kernel update (seq).  Returns the mode (VVAR_MODE_SYSCALL: ask the
 * kernel). */
static inline uint32_t vvar_read(const volatile struct vvar *v, uint64_t *mono,
				 uint64_t *rt_base)
{
	uint32_t seq, mode;
	do {
		seq = v->seq;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		mode = v->mode;
		*rt_base = v->realtime_at_boot;
		*mono = vvar_monotonic_ns(v);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != v->seq);
	return mode;
}

#endif
