/*
 * A bounded-time fuzzer for kiln-vmm's virtio layer, run by `make test`
 * (a few seconds) and built with AddressSanitizer and UBSan when the
 * toolchain has them (tests/unit/vmm.mk).  It plays a hostile guest:
 *
 *   transport  random register accesses (any offset, size and value) on a
 *              bare struct virtio_mmio, mixed with plausible driver steps,
 *              rings full of random or half-valid descriptors, and every
 *              virtq_* operation; after each step it checks the invariants
 *              (no buffer outside guest RAM, FEATURES_OK only for offered
 *              bits with VERSION_1, ready queues only with sane rings...).
 *   device     the same against the virtio-net device through io_mmio(),
 *              as KVM_EXIT_MMIO reaches it, with a datagram socket as the
 *              tap: random frames in, random transmit chains and headers
 *              out, random notifications and resets; every frame that
 *              reaches the "tap" must carry a sanitized header.
 *
 * Guest RAM sits between two PROT_NONE guard pages, so a stray access
 * just past it faults even where ASan cannot see (it is an mmap).  alarm()
 * turns a hang (a loop the bounds failed to stop) into a failure.
 *
 * Usage: vmm_virtio_fuzz [SECONDS [SEED]]   (default 3 s, or
 * $VMM_FUZZ_SECONDS; the seed comes from the clock and is printed, so a
 * failure can be replayed).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/virtio.h"
#include "../../vmm/vmm.h"
#include "vmm_test.h"

#define RAM  (256 * 1024)
#define PAGE 4096

static struct vmm vm;
static uint64_t rng_state;
static unsigned long n_access, n_pop, n_chain_ok, n_poll, n_frames_out,
    n_frames_in, n_rx, violations;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(unsigned percent)
{
	return below(100) < percent;
}

/* A value a hostile driver might try. */
static uint32_t rnd_val(void)
{
	static const uint32_t v[] = {
	    0,		1,	 2,	 3,	   4,	       7,
	    8,		15,	 16,	 255,	   256,	       257,
	    0x7fff,	0x8000,	 0xffff, 0x10000,  0x7fffffff, 0x80000000,
	    0xffffffff, RAM - 1, RAM,	 RAM - 16, 0xfeb00000};
	return chance(60) ? v[below(sizeof(v) / sizeof(v[0]))]
			  : (uint32_t)rnd();
}

/* A guest-physical address: mostly inside RAM, sometimes at its edge or
 * far outside. */
static uint64_t rnd_gpa(void)
{
	switch (below(10)) {
	case 0:
		return RAM - below(64);
	case 1:
		return rnd();
	case 2:
		return (uint64_t)rnd_val();
	default:
		return below(RAM) & ~(chance(50) ? 15ULL : 0);
	}
}

static void violation(const char *what)
{
	violations++;
	if (violations <= 10)
		printf("# violation: %s\n", what);
}

/* Fills [gpa, gpa + len) of RAM (clipped) with random bytes. */
static void scribble(uint64_t gpa, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++) {
		uint8_t *p = mem_gpa(&vm.mem, gpa + i, 1);
		if (p == NULL)
			return;
		*p = (uint8_t)rnd();
	}
}

static void put16(uint64_t gpa, uint16_t v)
{
	void *p = mem_gpa(&vm.mem, gpa, 2);
	if (p != NULL)
		memcpy(p, &v, 2);
}

/* Writes one descriptor, half of the time a plausible one. */
static void rnd_desc(uint64_t table, unsigned size, unsigned i)
{
	uint8_t *p = mem_gpa(&vm.mem, table + 16ULL * i, 16);
	if (p == NULL)
		return;
	uint64_t addr = rnd_gpa();
	uint32_t len = chance(70) ? (uint32_t)below(3000) : rnd_val();
	uint16_t flags = chance(70) ? (uint16_t)below(4) : (uint16_t)rnd();
	uint16_t next =
	    chance(80) ? (uint16_t)below(size ? size : 1) : (uint16_t)rnd_val();
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Makes the driver's side of a ring move: descriptors, heads, the index. */
static void rnd_ring(const struct virtq *q)
{
	unsigned size = q->size ? q->size : 1;
	switch (below(5)) {
	case 0:
		scribble(q->desc_gpa + 16 * below(size), below(64));
		break;
	case 1:
		for (unsigned i = 0, n = (unsigned)below(8); i < n; i++)
			rnd_desc(q->desc_gpa, q->size, (unsigned)below(size));
		break;
	case 2: {
		/* Add a few heads the usual way. */
		void *p = mem_gpa(&vm.mem, q->avail_gpa + 2, 2);
		uint16_t idx = 0;
		if (p == NULL)
			break;
		memcpy(&idx, p, 2);
		for (unsigned i = 0, n = (unsigned)below(6); i < n; i++) {
			put16(q->avail_gpa + 4 + 2 * (uint64_t)(idx % size),
			      chance(90) ? (uint16_t)below(size)
					 : (uint16_t)rnd_val());
			idx++;
		}
		put16(q->avail_gpa + 2, idx);
		break;
	}
	case 3:
		put16(q->avail_gpa + 2, (uint16_t)rnd_val());
		break;
	default:
		scribble(q->avail_gpa, below(16));
		scribble(q->used_gpa, below(16));
		break;
	}
}

/* ---- the transport alone ---- */

static struct virtio_mmio d;

static int check_features(uint64_t f)
{
	return (f & 2) && !(f & 1) ? -1 : 0;
}

static void transport_access(void)
{
	uint8_t data[8];
	unsigned q = 0;
	static const unsigned lens[] = {1, 2, 4, 4, 4, 4, 8, 3, 0};
	unsigned len = lens[below(sizeof(lens) / sizeof(lens[0]))];
	uint64_t off = chance(80) ? below(0x110) & ~3ULL : below(0x220);
	if (chance(5))
		off = rnd();
	uint32_t v = rnd_val();
	memcpy(data, &v, 4);
	v = rnd_val();
	memcpy(data + 4, &v, 4);
	unsigned ev = virtio_mmio_access(&d, off, (int)below(2), data, len, &q);
	n_access++;
	if ((ev & VIRTIO_EV_NOTIFY) && (q >= d.nqueues || !d.q[q].ready))
		violation("notify event for a queue that is not ready");
}

/* A driver step that gets further than random bytes would. */
static void transport_driver_step(void)
{
	unsigned q = 0;
	uint8_t b[4];
	uint32_t v;
#define W(off, val)                                                            \
	(v = (uint32_t)(val), memcpy(b, &v, 4),                                \
	 virtio_mmio_access(&d, (off), 1, b, 4, &q))
	switch (below(4)) {
	case 0:
		W(VIRTIO_MMIO_STATUS, 0);
		W(VIRTIO_MMIO_STATUS, 3);
		W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
		W(VIRTIO_MMIO_DRIVER_FEATURES,
		  chance(70) ? (uint32_t)d.device_features & (uint32_t)rnd()
			     : (uint32_t)rnd());
		W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
		W(VIRTIO_MMIO_DRIVER_FEATURES, chance(80) ? 1 : rnd_val());
		W(VIRTIO_MMIO_STATUS, 0xb);
		break;
	case 1: {
		unsigned qi = chance(90) ? (unsigned)below(2) : rnd_val();
		uint64_t base = below(RAM) & ~4095ULL;
		if (chance(80)) /* a driver zeroes its rings */
			memset(vm.mem.host + base, 0,
			       RAM - base < 0x3000 ? RAM - base : 0x3000);
		uint32_t num = chance(80) ? 1u << below(9) : rnd_val();
		uint64_t desc = chance(80) ? base : rnd_gpa();
		/* A table that ends where RAM does: reading past it faults. */
		if (chance(30) && num <= VIRTQ_SIZE_MAX)
			desc = RAM - 16ULL * num;
		W(VIRTIO_MMIO_QUEUE_SEL, qi);
		W(VIRTIO_MMIO_QUEUE_READY, 0);
		W(VIRTIO_MMIO_QUEUE_NUM, num);
		W(VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
		W(VIRTIO_MMIO_QUEUE_DESC_HIGH, chance(90) ? 0 : rnd_val());
		W(VIRTIO_MMIO_QUEUE_DRIVER_LOW,
		  chance(80) ? base + 0x1000 : rnd_gpa());
		W(VIRTIO_MMIO_QUEUE_DEVICE_LOW,
		  chance(80) ? base + 0x2000 : rnd_gpa());
		W(VIRTIO_MMIO_QUEUE_READY, 1);
		break;
	}
	case 2:
		W(VIRTIO_MMIO_STATUS, 0xf);
		break;
	default:
		W(VIRTIO_MMIO_QUEUE_NOTIFY, rnd_val());
		break;
	}
#undef W
	n_access++;
}

static void check_chain(const struct virtq *q, const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;
	const uint8_t *lo = vm.mem.host, *hi = vm.mem.host + vm.mem.size;

	if (c->nout + c->nin > q->size)
		violation("chain with more buffers than the queue size");
	for (unsigned i = 0; i < c->nout + c->nin; i++) {
		const uint8_t *p = c->iov[i].iov_base;
		size_t n = c->iov[i].iov_len;
		if (p < lo || p > hi || n > (size_t)(hi - p))
			violation("buffer outside guest RAM");
		*(i < c->nout ? &out : &in) += n;
	}
	if (out != c->out_len || in != c->in_len)
		violation("chain lengths do not add up");
	if (c->head >= q->size)
		violation("head outside the queue");
}

static void transport_queue_op(void)
{
	static struct virtq_chain c;
	struct virtq *q = &d.q[below(d.nqueues)];
	uint8_t buf[64];

	switch (below(6)) {
	case 0:
	case 1: {
		int r = virtq_pop(&vm.mem, q, &c);
		n_pop++;
		if (r == 1) {
			n_chain_ok++;
			check_chain(q, &c);
			virtq_chain_read(&c, below(4000), buf, below(64));
			virtq_chain_write(&c, below(4000), buf, below(64));
			if (chance(70))
				virtq_push(q, c.head, (uint32_t)rnd_val());
			else if (chance(50))
				virtq_unpop(q);
		}
		if (r == -1 && q->broken == NULL)
			violation("pop failed without a reason");
		break;
	}
	case 2:
		virtq_should_signal(q);
		break;
	case 3:
		virtq_notify_off(q);
		break;
	case 4:
		virtq_notify_on(q);
		break;
	default:
		if (q->ready)
			rnd_ring(q);
		break;
	}
}

static void check_transport(void)
{
	if ((d.status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((d.driver_features & ~d.device_features) ||
	     !(d.driver_features >> VIRTIO_F_VERSION_1 & 1)))
		violation("FEATURES_OK with bits never offered");
	if ((d.status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(d.status & VIRTIO_STATUS_FEATURES_OK))
		violation("DRIVER_OK without FEATURES_OK");
	if (d.isr & ~3u)
		violation("unknown InterruptStatus bits");
	for (unsigned i = 0; i < d.nqueues; i++) {
		const struct virtq *q = &d.q[i];
		if (!q->ready)
			continue;
		if (q->size == 0 || q->size > VIRTQ_SIZE_MAX ||
		    (q->size & (q->size - 1)))
			violation("ready queue with a bad size");
		if (mem_gpa(&vm.mem, q->desc_gpa, 16ULL * q->size) != q->desc ||
		    mem_gpa(&vm.mem, q->avail_gpa, 6 + 2ULL * q->size) !=
			q->avail ||
		    mem_gpa(&vm.mem, q->used_gpa, 6 + 8ULL * q->size) !=
			q->used ||
		    q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4)
			violation("ready queue with rings outside RAM");
	}
}

static void fuzz_transport(void)
{
	memset(&d, 0, sizeof(d));
	d.mem = &vm.mem;
	d.device_id = 1;
	d.device_features = (1ULL << VIRTIO_F_VERSION_1) | (rnd() & 0xffffffff);
	d.nqueues = 1 + (unsigned)below(VIRTIO_QUEUES_MAX);
	d.config_len = (unsigned)below(VIRTIO_CONFIG_MAX + 1);
	d.features_check = chance(50) ? check_features : NULL;
	virtio_mmio_reset(&d);
	for (int step = 0; step < 300; step++) {
		switch (below(4)) {
		case 0:
			transport_access();
			break;
		case 1:
			transport_driver_step();
			break;
		default:
			transport_queue_op();
			break;
		}
		check_transport();
	}
}

/* ---- the virtio-net device through io_mmio ---- */

static int host_fd = -1; /* the "network" side of the fake tap */

static void mmio_w(uint64_t off, uint32_t v)
{
	uint8_t b[8];
	memcpy(b, &v, 4);
	io_mmio(&vm, VMM_NET_MMIO_GPA + off, 1, b, 4);
	n_access++;
}

static uint32_t mmio_r(uint64_t off)
{
	uint8_t b[8] = {0};
	uint32_t v;
	io_mmio(&vm, VMM_NET_MMIO_GPA + off, 0, b, 4);
	memcpy(&v, b, 4);
	n_access++;
	return v;
}

/* Ring placement of the device-level driver, kept to post buffers. */
static struct {
	unsigned size;
	uint64_t desc, avail, used;
	uint16_t idx;
} dq[2];

static void dev_driver_init(void)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 5);
	if (chance(50))
		f |= 1ULL << VIRTIO_F_EVENT_IDX;
	if (chance(50))
		f |= 1 | (1ULL << 11) | (1ULL << 12); /* CSUM, HOST_TSO */
	if (chance(30))
		f |= 2 | (1ULL << 7); /* GUEST_CSUM, GUEST_TSO4 */
	if (chance(10))
		f = rnd();
	mmio_w(VIRTIO_MMIO_STATUS, 0);
	mmio_w(VIRTIO_MMIO_STATUS, 3);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_w(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	mmio_w(VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned qi = 0; qi < 2; qi++) {
		dq[qi].size = chance(85) ? 1u << (1 + below(8)) : rnd_val();
		uint64_t base = (0x4000 + below(RAM - 0x8000)) & ~4095ULL;
		dq[qi].desc = chance(95) ? base : rnd_gpa();
		if (chance(30) && dq[qi].size <= VIRTQ_SIZE_MAX)
			dq[qi].desc = RAM - 16ULL * dq[qi].size; /* see above */
		dq[qi].avail = base + 0x1000;
		dq[qi].used = base + 0x2000;
		dq[qi].idx = 0;
		mmio_w(VIRTIO_MMIO_QUEUE_SEL, qi);
		mmio_w(VIRTIO_MMIO_QUEUE_NUM, dq[qi].size);
		mmio_w(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)dq[qi].desc);
		mmio_w(VIRTIO_MMIO_QUEUE_DESC_HIGH,
		       (uint32_t)(dq[qi].desc >> 32));
		mmio_w(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)dq[qi].avail);
		mmio_w(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
		mmio_w(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)dq[qi].used);
		mmio_w(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
		if (chance(90)) { /* a driver zeroes its rings */
			memset(vm.mem.host + base, 0, 0x3000);
			dq[qi].idx = 0;
		} else {
			scribble(dq[qi].avail, 4);
			dq[qi].idx = (uint16_t)rnd();
			put16(dq[qi].avail + 2, dq[qi].idx);
		}
		mmio_w(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mmio_w(VIRTIO_MMIO_STATUS, chance(95) ? 0xf : rnd_val());
}

/* Posts a receive or transmit chain of 1-4 descriptors. */
static void dev_post(unsigned qi)
{
	unsigned size = dq[qi].size;
	if (size == 0 || size > VIRTQ_SIZE_MAX || (size & (size - 1)))
		return;
	unsigned head = (unsigned)below(size), n = 1 + (unsigned)below(4);
	uint64_t buf = (0x1000 + below(RAM - 0x3000)) & ~15ULL;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (head + k) % size;
		uint64_t addr = chance(95) ? buf + k * 0x400 : rnd_gpa();
		uint32_t len =
		    chance(90) ? 1 + (uint32_t)below(0x400) : rnd_val();
		uint16_t flags =
		    (uint16_t)((qi == 0 ? VIRTQ_DESC_F_WRITE : 0) |
			       (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		if (chance(5))
			flags ^= (uint16_t)(1u << below(3));
		uint16_t next = (uint16_t)((head + k + 1) % size);
		uint8_t *p = mem_gpa(&vm.mem, dq[qi].desc + 16ULL * i, 16);
		if (p == NULL)
			return;
		memcpy(p, &addr, 8);
		memcpy(p + 8, &len, 4);
		memcpy(p + 12, &flags, 2);
		memcpy(p + 14, &next, 2);
		if (qi == 1 && k == 0 && len >= 2 && chance(80)) {
			/* A transmit header: flags and gso_type anything. */
			scribble(addr, len < 12 ? len : 12);
		}
	}
	put16(dq[qi].avail + 4 + 2 * (uint64_t)(dq[qi].idx % size),
	      (uint16_t)head);
	dq[qi].idx++;
	put16(dq[qi].avail + 2, dq[qi].idx);
}

static void dev_frames_out(void)
{
	uint8_t buf[70000];
	ssize_t n;

	while ((n = recv(host_fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		n_frames_out++;
		if (n < 12) {
			violation("frame shorter than the virtio-net header");
			continue;
		}
		uint16_t nb;
		memcpy(&nb, buf + 10, 2);
		if ((buf[0] & ~1u) ||
		    (buf[1] != 0 && buf[1] != 1 && buf[1] != 4) || nb != 0)
			violation(
			    "unsanitized transmit header reached the tap");
	}
}

static void dev_frame_in(void)
{
	static uint8_t buf[70000];
	size_t n = chance(90) ? below(2000) : below(sizeof(buf));
	for (size_t i = 0; i < n && i < 64; i++)
		buf[i] = (uint8_t)rnd();
	if (send(host_fd, buf, n, MSG_DONTWAIT) >= 0)
		n_frames_in++;
}

static int dev_open(void)
{
	int sv[2];
	char err[256];
	uint8_t mac[6] = {0x52, 0x54, 0x00, 1, 2, 3};

	struct net_stats st;
	net_get_stats(&st);
	n_rx += st.rx_packets; /* the counters restart with each device */
	if (host_fd >= 0)
		close(host_fd);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    net_attach(&vm.mem, sv[0], mac, 0, err, sizeof(err)) < 0) {
		printf("# device setup failed: %s\n", strerror(errno));
		return -1;
	}
	host_fd = sv[1];
	return 0;
}

static void fuzz_device(void)
{
	dev_driver_init();
	for (int step = 0; step < 200; step++) {
		switch (below(12)) {
		case 0: {
			uint8_t b[8];
			uint64_t off =
			    chance(80) ? below(0x110) & ~3ULL : below(0x240);
			uint32_t v = rnd_val();
			memcpy(b, &v, 4);
			memcpy(b + 4, &v, 4);
			io_mmio(&vm, VMM_NET_MMIO_GPA + off, (int)below(2), b,
				1u << below(4));
			n_access++;
			break;
		}
		case 1:
			mmio_w(VIRTIO_MMIO_QUEUE_NOTIFY,
			       chance(80) ? (uint32_t)below(2) : rnd_val());
			break;
		case 2:
		case 3:
			dev_post((unsigned)below(2));
			break;
		case 4:
		case 5:
			dev_frame_in();
			break;
		case 6:
			rnd_ring(
			    &(struct virtq){.size = dq[below(2)].size,
					    .desc_gpa = dq[0].desc,
					    .avail_gpa = dq[below(2)].avail,
					    .used_gpa = dq[1].used});
			break;
		case 7:
			if (chance(10))
				dev_driver_init();
			else
				mmio_w(VIRTIO_MMIO_INTERRUPT_ACK,
				       mmio_r(VIRTIO_MMIO_INTERRUPT_STATUS));
			break;
		default:
			net_poll();
			n_poll++;
			dev_frames_out();
			break;
		}
	}
	net_poll();
	dev_frames_out();
}

int main(int argc, char **argv)
{
	const char *env = getenv("VMM_FUZZ_SECONDS");
	double seconds = argc > 1 ? atof(argv[1]) : env ? atof(env) : 3;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 0)
			     : (uint64_t)t0.tv_nsec * 2654435761u ^
				   (uint64_t)getpid() << 32;
	if (rng_state == 0)
		rng_state = 1;
	printf("# vmm_virtio_fuzz: %.1f s, seed 0x%llx (replay: %s %.1f "
	       "0x%llx)\n",
	       seconds, (unsigned long long)rng_state, argv[0], seconds,
	       (unsigned long long)rng_state);
	fflush(stdout);
	alarm((unsigned)seconds + 60); /* a hang is a failure */

	/* Guest RAM between two guard pages. */
	uint8_t *area = mmap(NULL, RAM + 2 * PAGE, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED ||
	    mprotect(area + PAGE, RAM, PROT_READ | PROT_WRITE) < 0) {
		perror("mmap");
		return 1;
	}
	vm.mem.host = area + PAGE;
	vm.mem.size = RAM;
	if (dev_open() < 0)
		return 1;

	unsigned long rounds = 0;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) +
			(double)(t.tv_nsec - t0.tv_nsec) / 1e9 >=
		    seconds)
			break;
		scribble(below(RAM), below(512));
		if (chance(50))
			fuzz_transport();
		else
			fuzz_device();
		if (chance(2) && dev_open() < 0)
			return 1;
		rounds++;
	}
	struct net_stats st;
	net_get_stats(&st);
	n_rx += st.rx_packets;
	printf("# %lu rounds: %lu register accesses, %lu pops (%lu chains), "
	       "%lu device passes, %lu frames offered, %lu received by the "
	       "guest, %lu sent by it\n",
	       rounds, n_access, n_pop, n_chain_ok, n_poll, n_frames_in, n_rx,
	       n_frames_out);
	net_close();
	CHECK(rounds > 0 && n_chain_ok > 0 && n_poll > 0,
	      "the fuzzer reached parsed chains and device passes");
	CHECK(n_frames_out > 0 && n_rx > 0,
	      "and frames went all the way through, both ways");
	CHECK(violations == 0, "no invariant violated (%lu)", violations);
	CHECK(1, "no crash, no sanitizer report, no hang");
	return vmm_test_done("vmm_virtio_fuzz");
}
