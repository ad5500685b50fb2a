/*
 * kiln-vmm's virtio layer against hand-built rings in a fake guest RAM:
 * the virtio-mmio register file (identification, feature negotiation, the
 * status rules, queue setup checks, every kind of invalid access), split
 * virtqueue parsing (chains, index wraparound, each way a ring can be
 * broken), notification suppression, --net/--mac parsing, and the
 * virtio-net device end to end: through io_mmio() as the vCPU thread
 * reaches it, with a datagram socket standing in for the tap; then, when
 * the test may create a network namespace (root), with a real tap and the
 * I/O thread, the host's kernel answering ARP and ping.  The namespace
 * and its taps die with the process, so nothing is left behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/virtio.h"
#include "../../vmm/vmm.h"
#include "vmm_test.h"

#define RAM	(1024 * 1024)
#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static struct vmm vm; /* vm.mem is the fake guest RAM */
static struct virtio_mmio d;
static unsigned last_ev, last_q;

/* ---- guest memory ---- */

static void *g(uint64_t gpa, uint64_t len)
{
	void *p = mem_gpa(&vm.mem, gpa, len);
	if (p == NULL) {
		fprintf(stderr, "test bug: gpa 0x%llx\n",
			(unsigned long long)gpa);
		exit(2);
	}
	return p;
}

static void put16(uint64_t gpa, uint16_t v)
{
	__atomic_store_n((uint16_t *)g(gpa, 2), v, __ATOMIC_RELEASE);
}

static uint16_t get16(uint64_t gpa)
{
	return __atomic_load_n((uint16_t *)g(gpa, 2), __ATOMIC_ACQUIRE);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, g(gpa, 4), 4);
	return v;
}

/* A split ring laid out by the "driver" (this test). */
struct ring {
	uint64_t desc, avail, used;
	unsigned size;
	uint16_t avail_idx, used_seen;
};

static void put_desc(const struct ring *r, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = g(r->desc + 16 * (uint64_t)i, 16);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void ring_add(struct ring *r, uint16_t head)
{
	put16(r->avail + 4 + 2 * (uint64_t)(r->avail_idx % r->size), head);
	r->avail_idx++;
	put16(r->avail + 2, r->avail_idx);
}

static void ring_clear(struct ring *r, unsigned size, uint64_t base)
{
	r->size = size;
	r->desc = base;
	r->avail = base + 0x1000;
	r->used = base + 0x2000;
	r->avail_idx = r->used_seen = 0;
	memset(g(base, 0x3000), 0, 0x3000);
}

/* ---- the register file on its own ---- */

static uint32_t r32(uint64_t off)
{
	uint8_t b[4] = {0xaa, 0xaa, 0xaa, 0xaa};
	uint32_t v;
	last_ev = virtio_mmio_access(&d, off, 0, b, 4, &last_q);
	memcpy(&v, b, 4);
	return v;
}

static void w32(uint64_t off, uint32_t v)
{
	uint8_t b[4];
	memcpy(b, &v, 4);
	last_ev = virtio_mmio_access(&d, off, 1, b, 4, &last_q);
}

static int reject_csum_only(uint64_t f)
{
	return (f & 1) ? -1 : 0; /* bit 0 alone: "needs bit 1", say */
}

static void dev_init(void)
{
	memset(&d, 0, sizeof(d));
	d.mem = &vm.mem;
	d.device_id = 1;
	d.device_features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << 5) | 1;
	d.nqueues = 2;
	memcpy(d.config, "\x52\x54\x00\x12\x34\x56\x01\x00", 8);
	d.config_len = 8;
	virtio_mmio_reset(&d);
}

static void negotiate(uint64_t f)
{
	w32(VIRTIO_MMIO_STATUS, 0);
	w32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	w32(VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	w32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	w32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	w32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				    VIRTIO_STATUS_DRIVER |
				    VIRTIO_STATUS_FEATURES_OK);
}

static void queue_regs(unsigned qi, const struct ring *r)
{
	w32(VIRTIO_MMIO_QUEUE_SEL, qi);
	w32(VIRTIO_MMIO_QUEUE_NUM, r->size);
	w32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
	w32(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(r->desc >> 32));
	w32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
	w32(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(r->avail >> 32));
	w32(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
	w32(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(r->used >> 32));
	w32(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void test_identity(void)
{
	dev_init();
	CHECK(r32(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976 &&
		  r32(VIRTIO_MMIO_VERSION) == 2 &&
		  r32(VIRTIO_MMIO_DEVICE_ID) == 1 &&
		  r32(VIRTIO_MMIO_VENDOR_ID) == VIRTIO_VENDOR_KILN,
	      "magic 0x74726976, version 2 (modern), device 1, vendor KILN");
	w32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = r32(VIRTIO_MMIO_DEVICE_FEATURES);
	w32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint32_t hi = r32(VIRTIO_MMIO_DEVICE_FEATURES);
	w32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	uint32_t beyond = r32(VIRTIO_MMIO_DEVICE_FEATURES);
	CHECK(lo == (uint32_t)d.device_features && hi == 1 && beyond == 0,
	      "device features by 32-bit halves, 0 beyond bit 63");
	w32(VIRTIO_MMIO_QUEUE_SEL, 1);
	uint32_t max1 = r32(VIRTIO_MMIO_QUEUE_NUM_MAX);
	w32(VIRTIO_MMIO_QUEUE_SEL, 2);
	CHECK(max1 == 256 && r32(VIRTIO_MMIO_QUEUE_NUM_MAX) == 0 &&
		  r32(VIRTIO_MMIO_QUEUE_READY) == 0,
	      "QueueNumMax 256 for queue 1, 0 for queue 2 (none)");
	CHECK(r32(VIRTIO_MMIO_SHM_LEN_LOW) == 0xffffffff &&
		  r32(VIRTIO_MMIO_SHM_LEN_HIGH) == 0xffffffff,
	      "no shared memory regions: length -1");
	CHECK(d.errors == 0, "no errors from a well-behaved probe");

	uint8_t b[8];
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG, 0, b, 1, &last_q);
	uint8_t b0 = b[0];
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 4, 0, b, 2, &last_q);
	uint16_t mid;
	memcpy(&mid, b, 2);
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 6, 0, b, 4, &last_q);
	uint32_t tail;
	memcpy(&tail, b, 4);
	CHECK(
	    b0 == 0x52 && mid == 0x5634 && tail == 1,
	    "config space: byte, 16-bit and 32-bit reads; zeros past its end");
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG + 0xfc, 0, b, 8, &last_q);
	CHECK(d.errors == 1, "8-byte read running past the window: counted");
}

static void test_bad_accesses(void)
{
	uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};

	dev_init();
	virtio_mmio_access(&d, VIRTIO_MMIO_MAGIC_VALUE, 0, b, 2, &last_q);
	CHECK(b[0] == 0 && b[1] == 0 && d.errors == 1,
	      "16-bit register read: zeros, counted");
	virtio_mmio_access(&d, 0x2, 0, b, 4, &last_q);
	CHECK(b[0] == 0 && d.errors == 2, "misaligned register read: counted");
	virtio_mmio_access(&d, VIRTIO_MMIO_STATUS, 1, b, 1, &last_q);
	CHECK(d.status == 0 && d.errors == 3, "8-bit Status write ignored");
	virtio_mmio_access(&d, VIRTIO_MMIO_STATUS, 1, b, 3, &last_q);
	CHECK(d.status == 0 && d.errors == 4, "3-byte access ignored");
	virtio_mmio_access(&d, VIRTIO_MMIO_WINDOW, 0, b, 4, &last_q);
	CHECK(d.errors == 5, "offset past the window ignored");

	static const uint32_t ro[] = {
	    VIRTIO_MMIO_MAGIC_VALUE,	  VIRTIO_MMIO_VERSION,
	    VIRTIO_MMIO_DEVICE_ID,	  VIRTIO_MMIO_VENDOR_ID,
	    VIRTIO_MMIO_DEVICE_FEATURES,  VIRTIO_MMIO_QUEUE_NUM_MAX,
	    VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_CONFIG_GENERATION,
	    VIRTIO_MMIO_SHM_LEN_LOW,	  VIRTIO_MMIO_SHM_BASE_HIGH};
	unsigned long before = d.errors;
	d.isr = 1;
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		w32(ro[i], 0x12345678);
	CHECK(d.errors == before + sizeof(ro) / sizeof(ro[0]) &&
		  r32(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976 &&
		  r32(VIRTIO_MMIO_DEVICE_ID) == 1 &&
		  r32(VIRTIO_MMIO_INTERRUPT_STATUS) == 1 &&
		  r32(VIRTIO_MMIO_CONFIG_GENERATION) == 0,
	      "writes to the %zu read-only registers ignored and counted",
	      sizeof(ro) / sizeof(ro[0]));
	before = d.errors;
	w32(0x0e0, 1);
	w32(VIRTIO_MMIO_QUEUE_RESET, 1);
	b[0] = 0x99;
	virtio_mmio_access(&d, VIRTIO_MMIO_CONFIG, 1, b, 1, &last_q);
	CHECK(d.errors == before + 3 && d.config[0] == 0x52,
	      "unknown register, QueueReset, config write: ignored, counted");
	CHECK(d.last_error != NULL &&
		  vmm_test_has(d.last_error, "config space"),
	      "the last error is kept for the report ('%s')",
	      d.last_error ? d.last_error : "");
	w32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CHECK(d.isr == 0 && (last_ev & VIRTIO_EV_ACK),
	      "InterruptACK clears the bit and tells the device");
}

static void test_negotiation(void)
{
	uint64_t ok = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 5);

	dev_init();
	negotiate(ok);
	CHECK((r32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) &&
		  virtio_mmio_has(&d, 5) && !virtio_mmio_has(&d, 0) &&
		  d.errors == 0,
	      "offered subset with VERSION_1: FEATURES_OK sticks");
	w32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	CHECK(d.driver_features == ok && d.errors == 1,
	      "feature writes after FEATURES_OK ignored and counted");

	dev_init();
	negotiate(ok | (1ULL << 3));
	CHECK(
	    !(r32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) &&
		!virtio_mmio_has(&d, 5) && d.errors == 1,
	    "a bit never offered: FEATURES_OK refused (driver reads it back)");
	dev_init();
	negotiate(1ULL << 5);
	CHECK(!(r32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK),
	      "no VERSION_1 (legacy driver): refused");
	dev_init();
	w32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	w32(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	CHECK(d.errors == 1 && d.driver_features == 0,
	      "feature bits above 63: ignored, counted");
	dev_init();
	d.features_check = reject_csum_only;
	negotiate(ok | 1);
	CHECK(!(d.status & VIRTIO_STATUS_FEATURES_OK),
	      "the device's own dependency check can refuse a set");
	d.features_check = NULL;

	dev_init();
	w32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				    VIRTIO_STATUS_DRIVER |
				    VIRTIO_STATUS_DRIVER_OK);
	CHECK(!(d.status & VIRTIO_STATUS_DRIVER_OK) && last_ev == 0 &&
		  d.errors == 1,
	      "DRIVER_OK before FEATURES_OK: refused");
	negotiate(ok);
	w32(VIRTIO_MMIO_STATUS, 0xf);
	CHECK((last_ev & VIRTIO_EV_DRIVER_OK) && virtio_mmio_running(&d),
	      "DRIVER_OK: the device is told and runs");
	unsigned long before = d.errors;
	w32(VIRTIO_MMIO_STATUS, 0x3);
	CHECK(d.status == 0xf && d.errors == before + 1,
	      "clearing status bits without a reset: ignored, counted");
	w32(VIRTIO_MMIO_STATUS, 0xf | VIRTIO_STATUS_NEEDS_RESET);
	CHECK(d.status == 0xf && d.errors == before + 2,
	      "the driver cannot set DEVICE_NEEDS_RESET");
	CHECK(virtio_mmio_needs_reset(&d) == 1 && (d.isr & VIRTIO_INT_CONFIG) &&
		  !virtio_mmio_running(&d) && virtio_mmio_needs_reset(&d) == 0,
	      "device-side NEEDS_RESET: config interrupt once, stops running");
	w32(VIRTIO_MMIO_STATUS, 0);
	CHECK(last_ev == VIRTIO_EV_RESET && d.status == 0 && d.isr == 0 &&
		  d.driver_features == 0 && !virtio_mmio_running(&d),
	      "Status 0 resets everything");
}

static void test_queue_setup(void)
{
	struct ring r;
	uint64_t ok = (1ULL << VIRTIO_F_VERSION_1);

	dev_init();
	negotiate(ok);
	ring_clear(&r, 8, 0x10000);
	queue_regs(0, &r);
	CHECK(r32(VIRTIO_MMIO_QUEUE_READY) == 1 && d.q[0].ready &&
		  r32(VIRTIO_MMIO_QUEUE_DESC_LOW) == 0x10000 &&
		  r32(VIRTIO_MMIO_QUEUE_NUM) == 8,
	      "queue 0: size 8, rings in RAM: ready, registers read back");
	unsigned long before = d.errors;
	w32(VIRTIO_MMIO_QUEUE_NUM, 4);
	w32(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x20000);
	CHECK(d.q[0].size == 8 && d.q[0].desc_gpa == 0x10000 &&
		  d.errors == before + 2,
	      "size and addresses cannot change while ready");
	w32(VIRTIO_MMIO_QUEUE_READY, 0);
	CHECK(!d.q[0].ready && r32(VIRTIO_MMIO_QUEUE_READY) == 0,
	      "QueueReady 0 stops the queue");
	w32(VIRTIO_MMIO_QUEUE_READY, 2);
	CHECK(d.errors == before + 3 && !d.q[0].ready,
	      "QueueReady 2: ignored, counted");

	struct {
		unsigned size;
		uint64_t desc, avail, used;
		const char *what;
	} bad[] = {
	    {0, 0x10000, 0x11000, 0x12000, "size 0"},
	    {3, 0x10000, 0x11000, 0x12000, "size 3 (not a power of two)"},
	    {512, 0x10000, 0x11000, 0x12000, "size 512 (> QueueNumMax)"},
	    {8, 0x10008, 0x11000, 0x12000, "descriptor table not 16-aligned"},
	    {8, 0x10000, 0x11001, 0x12000, "avail ring odd"},
	    {8, 0x10000, 0x11000, 0x12002, "used ring not 4-aligned"},
	    {8, RAM - 64, 0x11000, 0x12000, "descriptor table past RAM's end"},
	    {8, 0x10000, RAM - 20, 0x12000,
	     "avail ring (22 bytes) crosses "
	     "RAM's end"},
	    {8, 0x10000, 0x11000, RAM - 68,
	     "used ring (70 bytes) crosses "
	     "RAM's end"},
	    {8, 0x100010000ULL, 0x11000, 0x12000,
	     "high address half: 4 GiB up"},
	    {256, 0xfeb00000ULL, 0x11000, 0x12000, "ring in the MMIO hole"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ring b = {
		    bad[i].desc, bad[i].avail, bad[i].used, bad[i].size, 0, 0};
		before = d.errors;
		w32(VIRTIO_MMIO_QUEUE_READY, 0);
		queue_regs(1, &b);
		CHECK(!d.q[1].ready && r32(VIRTIO_MMIO_QUEUE_READY) == 0 &&
			  d.errors == before + 1,
		      "refused, QueueReady stays 0: %s", bad[i].what);
	}
	struct ring edge = {RAM - 128, RAM - 22, RAM - 72, 8, 0, 0};
	queue_regs(1, &edge);
	CHECK(d.q[1].ready, "rings ending exactly at RAM's end: accepted");

	before = d.errors;
	w32(VIRTIO_MMIO_QUEUE_SEL, 7);
	w32(VIRTIO_MMIO_QUEUE_NUM, 8);
	w32(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	w32(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK(d.errors == before + 3 && r32(VIRTIO_MMIO_QUEUE_NUM) == 0,
	      "queue registers of queue 7 (none): ignored, counted");

	w32(VIRTIO_MMIO_QUEUE_SEL, 0);
	w32(VIRTIO_MMIO_QUEUE_READY, 1);
	before = d.errors;
	w32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK(last_ev == VIRTIO_EV_NOTIFY && last_q == 0 && d.errors == before,
	      "QueueNotify 0: the device is told which queue");
	w32(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	CHECK(last_ev == 0 && d.errors == before + 1,
	      "QueueNotify 2 (no such queue): ignored, counted");
	w32(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	CHECK(last_ev == 0 && d.errors == before + 2,
	      "QueueNotify 0xffffffff: ignored, counted");
	w32(VIRTIO_MMIO_QUEUE_SEL, 1);
	w32(VIRTIO_MMIO_QUEUE_READY, 0);
	w32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK(last_ev == 0 && d.errors == before + 3,
	      "QueueNotify for a queue not ready: ignored, counted");
}

/* Ready queue 0 of size n at 0x10000 on a fresh device. */
static struct virtq *queue_fresh(struct ring *r, unsigned n, uint64_t f)
{
	dev_init();
	negotiate((1ULL << VIRTIO_F_VERSION_1) | f);
	ring_clear(r, n, 0x10000);
	queue_regs(0, r);
	w32(VIRTIO_MMIO_STATUS, 0xf);
	return &d.q[0];
}

static void test_chains(void)
{
	struct ring r;
	struct virtq_chain c;
	struct virtq *q = queue_fresh(&r, 8, 0);

	CHECK(virtq_pop(&vm.mem, q, &c) == 0, "empty ring: nothing to pop");
	put_desc(&r, 3, 0x20000, 100, VIRTQ_DESC_F_NEXT, 5);
	put_desc(&r, 5, 0x21000, 0, VIRTQ_DESC_F_NEXT, 1);
	put_desc(&r, 1, 0x22000, 50, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	put_desc(&r, 0, 0x23000, 70, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&r, 3);
	CHECK(virtq_pop(&vm.mem, q, &c) == 1 && c.head == 3 && c.nout == 1 &&
		  c.nin == 2 && c.out_len == 100 && c.in_len == 120,
	      "chain 3->5->1->0: 1 readable, 2 writable, empty one skipped");
	CHECK(c.iov[0].iov_base == g(0x20000, 1) &&
		  c.iov[1].iov_base == g(0x22000, 1) && c.iov[2].iov_len == 70,
	      "iovecs point at the buffers in guest RAM");
	CHECK(virtq_pop(&vm.mem, q, &c) == 0, "then empty again");

	memcpy(g(0x20000, 100), "0123456789", 10);
	char buf[16] = {0};
	CHECK(virtq_chain_read(&c, 3, buf, 4) == 4 &&
		  memcmp(buf, "3456", 4) == 0,
	      "chain_read at an offset");
	CHECK(virtq_chain_write(&c, 48, "abcd", 4) == 4 &&
		  memcmp(g(0x22000 + 48, 2), "ab", 2) == 0 &&
		  memcmp(g(0x23000, 2), "cd", 2) == 0,
	      "chain_write across two writable buffers");
	CHECK(virtq_chain_write(&c, 118, "xyz", 3) == 2 &&
		  virtq_chain_read(&c, 100, buf, 4) == 0,
	      "copies stop at the end of each part");

	virtq_push(q, c.head, 77);
	CHECK(get16(r.used + 2) == 1 && get32(r.used + 4) == 3 &&
		  get32(r.used + 8) == 77,
	      "push: used elem {3, 77}, used idx 1");
	CHECK(virtq_should_signal(q) == 1 && virtq_should_signal(q) == 0,
	      "interrupt wanted once per batch (no NO_INTERRUPT flag)");
	put16(r.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_push(q, 0, 0);
	CHECK(virtq_should_signal(q) == 0, "NO_INTERRUPT: no interrupt");

	/* A chain of exactly the queue size is fine; one more is a loop. */
	for (unsigned i = 0; i < 8; i++)
		put_desc(&r, i, 0x20000 + i, 1, i < 7 ? VIRTQ_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	ring_add(&r, 0);
	CHECK(virtq_pop(&vm.mem, q, &c) == 1 && c.nout == 8 && c.out_len == 8,
	      "chain of 8 descriptors in a queue of 8");
	virtq_unpop(q);
	CHECK(virtq_pop(&vm.mem, q, &c) == 1 && c.head == 0,
	      "unpop: the same chain comes back");
}

static void test_broken_rings(void)
{
	struct ring r;
	struct virtq_chain c;
	struct virtq *q;
#define BROKEN(descs, head, why_part, what)                                    \
	do {                                                                   \
		q = queue_fresh(&r, 8, 0);                                     \
		descs;                                                         \
		ring_add(&r, head);                                            \
		int rc_ = virtq_pop(&vm.mem, q, &c);                           \
		CHECK(rc_ == -1 && q->broken &&                                \
			  vmm_test_has(q->broken, why_part) &&                 \
			  virtq_pop(&vm.mem, q, &c) == -1,                     \
		      "%s: broken ('%s')", what, q->broken ? q->broken : "");  \
	} while (0)

	BROKEN((void)0, 8, "index out of range",
	       "head index 8 in a queue of 8");
	BROKEN((void)0, 0xffff, "index out of range", "head index 0xffff");
	BROKEN(put_desc(&r, 0, 0x20000, 4, VIRTQ_DESC_F_NEXT, 9), 0,
	       "next descriptor", "next index 9");
	BROKEN((put_desc(&r, 0, 0x20000, 4, VIRTQ_DESC_F_NEXT, 1),
		put_desc(&r, 1, 0x20000, 4, VIRTQ_DESC_F_NEXT, 0)),
	       0, "loop", "loop 0 -> 1 -> 0");
	BROKEN(put_desc(&r, 2, 0x20000, 4, VIRTQ_DESC_F_NEXT, 2), 2, "loop",
	       "descriptor pointing at itself");
	BROKEN(put_desc(&r, 0, RAM - 4, 8, 0, 0), 0, "outside guest memory",
	       "buffer crossing RAM's end");
	BROKEN(put_desc(&r, 0, RAM, 1, 0, 0), 0, "outside guest memory",
	       "buffer just past RAM");
	BROKEN(put_desc(&r, 0, UINT64_MAX - 1, 4, 0, 0), 0,
	       "outside guest memory", "address + length wraps 64 bits");
	BROKEN(put_desc(&r, 0, 0x1000, 0xffffffff, 0, 0), 0,
	       "outside guest memory", "length 4 GiB - 1");
	BROKEN(put_desc(&r, 0, 0xfee00000ULL, 16, 0, 0), 0,
	       "outside guest memory", "buffer on the LAPIC");
	BROKEN(put_desc(&r, 0, 0x20000, 16, VIRTQ_DESC_F_INDIRECT, 0), 0,
	       "indirect", "indirect descriptor (never offered)");
	BROKEN((put_desc(&r, 0, 0x20000, 4,
			 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1),
		put_desc(&r, 1, 0x20000, 4, 0, 0)),
	       0, "after a writable", "readable after writable");
#undef BROKEN

	q = queue_fresh(&r, 8, 0);
	put16(r.avail + 2, 9);
	CHECK(virtq_pop(&vm.mem, q, &c) == -1 && q->broken &&
		  vmm_test_has(q->broken, "more than the queue size"),
	      "available index jumping by 9 in a queue of 8: broken");
	CHECK(virtq_notify_on(q) == 0, "a broken queue asks for no kicks");
	queue_regs(0, &r); /* still ready: writes ignored */
	w32(VIRTIO_MMIO_QUEUE_READY, 0);
	put16(r.avail + 2, 0);
	queue_regs(0, &r);
	CHECK(q->ready && q->broken == NULL && virtq_pop(&vm.mem, q, &c) == 0,
	      "re-enabling the queue clears the breakage");
}

static void test_wrap_and_events(void)
{
	struct ring r;
	struct virtq_chain c;
	struct virtq *q = queue_fresh(&r, 4, 0);

	/* 16-bit indices: start just before the wrap. */
	q->last_avail = q->used_idx = 65534;
	r.avail_idx = 65534;
	put16(r.avail + 2, 65534);
	for (unsigned i = 0; i < 4; i++) {
		put_desc(&r, i, 0x20000, 8, 0, 0);
		ring_add(&r, (uint16_t)(3 - i));
	}
	unsigned got = 0, order_ok = 1;
	for (unsigned i = 0; i < 4; i++) {
		if (virtq_pop(&vm.mem, q, &c) != 1)
			break;
		order_ok &= c.head == 3 - i;
		virtq_push(q, c.head, i);
		got++;
	}
	CHECK(got == 4 && order_ok && virtq_pop(&vm.mem, q, &c) == 0,
	      "4 chains across the 16-bit wrap, in order");
	CHECK(get16(r.used + 2) == 2 && get32(r.used + 4 + 8 * 2) == 3 &&
		  get32(r.used + 4 + 8 * 1) == 0,
	      "used entries at slots 2, 3, 0, 1; used idx wrapped to 2");

	q = queue_fresh(&r, 4, 0);
	virtq_notify_off(q);
	CHECK(get16(r.used) == VIRTQ_USED_F_NO_NOTIFY,
	      "notify_off without EVENT_IDX: used flags NO_NOTIFY");
	CHECK(virtq_notify_on(q) == 0 && get16(r.used) == 0,
	      "notify_on: flags cleared, nothing pending");
	put_desc(&r, 0, 0x20000, 8, 0, 0);
	ring_add(&r, 0);
	CHECK(virtq_notify_on(q) == 1,
	      "notify_on sees a buffer added meanwhile");

	q = queue_fresh(&r, 4, 1ULL << VIRTIO_F_EVENT_IDX);
	CHECK(q->event_idx, "EVENT_IDX negotiated reaches the queue");
	put_desc(&r, 0, 0x20000, 8, 0, 0);
	for (int i = 0; i < 3; i++)
		ring_add(&r, 0);
	for (int i = 0; i < 3; i++)
		virtq_pop(&vm.mem, q, &c);
	CHECK(virtq_notify_on(q) == 0 && get16(r.used + 4 + 8 * 4) == 3,
	      "EVENT_IDX notify_on: avail_event = 3 (next index we want)");
	virtq_push(q, 0, 0);
	CHECK(virtq_should_signal(q) == 1, "first batch: always signalled");
	put16(r.avail + 4 + 2 * 4, 1); /* used_event: when idx passes 1 */
	virtq_push(q, 0, 0);
	int second = virtq_should_signal(q);
	virtq_push(q, 0, 0);
	CHECK(second == 1 && virtq_should_signal(q) == 0,
	      "used_event 1: signal at used idx 2, not at 3");
}

/* ---- --net and --mac ---- */

static void test_args(void)
{
	struct vmm_args a;
	char err[256];

	char *net[] = {"kiln-vmm", "--kernel",	       "k", "--net", "tap0",
		       "--mac",	   "52:54:00:AB:cd:01"};
	CHECK(args_parse(&a, ARGC(net), net, err, sizeof(err)) == 0 &&
		  strcmp(a.net, "tap0") == 0 &&
		  memcmp(a.mac, "\x52\x54\x00\xab\xcd\x01", 6) == 0,
	      "--net tap0 --mac 52:54:00:AB:cd:01");
	char *none[] = {"kiln-vmm", "--kernel", "k"};
	CHECK(args_parse(&a, ARGC(none), none, err, sizeof(err)) == 0 &&
		  a.net == NULL,
	      "no --net: no network device");
	uint8_t m0[6], m1[6];
	char *d0[] = {"kiln-vmm", "--kernel", "k", "--net=tap0"};
	char *d1[] = {"kiln-vmm", "--kernel", "k", "--net", "tap1"};
	args_parse(&a, ARGC(d0), d0, err, sizeof(err));
	memcpy(m0, a.mac, 6);
	args_parse(&a, ARGC(d0), d0, err, sizeof(err));
	int stable = memcmp(m0, a.mac, 6) == 0;
	args_parse(&a, ARGC(d1), d1, err, sizeof(err));
	memcpy(m1, a.mac, 6);
	CHECK(memcmp(m0, "\x52\x54\x00", 3) == 0 && stable &&
		  memcmp(m0, m1, 6) != 0,
	      "derived MAC: 52:54:00:%02x:%02x:%02x for tap0, stable, "
	      "another for tap1",
	      m0[3], m0[4], m0[5]);

	struct {
		const char *opt, *val, *want;
	} bad[] = {
	    {"--net", "", "1 to 15"},
	    {"--net", "0123456789abcdef", "1 to 15"},
	    {"--net", "a/b", "1 to 15"},
	    {"--net", "a b", "1 to 15"},
	    {"--net", "a:1", "1 to 15"},
	    {"--net", "..", "1 to 15"},
	    {"--mac", "52:54:00:12:34", "six hex pairs"},
	    {"--mac", "52:54:00:12:34:567", "six hex pairs"},
	    {"--mac", "52-54-00-12-34-56", "six hex pairs"},
	    {"--mac", "52:54:00:12:34:5g", "six hex pairs"},
	    {"--mac", " 2:54:00:12:34:56", "six hex pairs"},
	    {"--mac", "01:00:5e:00:00:01", "multicast"},
	    {"--mac", "ff:ff:ff:ff:ff:ff", "multicast"},
	    {"--mac", "00:00:00:00:00:00", "zero"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {
		    "kiln-vmm",		"--kernel",	   "k", "--net", "tap0",
		    (char *)bad[i].opt, (char *)bad[i].val};
		err[0] = '\0';
		CHECK(args_parse(&a, ARGC(argv), argv, err, sizeof(err)) ==
			      -1 &&
			  vmm_test_has(err, bad[i].want),
		      "%s '%s' refused: %s", bad[i].opt, bad[i].val, err);
	}
	char *macnonet[] = {"kiln-vmm", "--kernel", "k", "--mac",
			    "52:54:00:00:00:01"};
	CHECK(args_parse(&a, ARGC(macnonet), macnonet, err, sizeof(err)) ==
		      -1 &&
		  vmm_test_has(err, "without --net"),
	      "--mac without --net refused");
	CHECK(vmm_test_has(args_usage, "--net TAP") &&
		  vmm_test_has(args_usage, "--mac MAC"),
	      "usage names --net and --mac");
}

/* ---- the virtio-net device through io_mmio ---- */

static uint32_t nr32(uint64_t off)
{
	uint8_t b[8] = {0};
	uint32_t v;
	io_mmio(&vm, VMM_NET_MMIO_GPA + off, 0, b, 4);
	memcpy(&v, b, 4);
	return v;
}

static void nw32(uint64_t off, uint32_t v)
{
	uint8_t b[8];
	memcpy(b, &v, 4);
	io_mmio(&vm, VMM_NET_MMIO_GPA + off, 1, b, 4);
}

static void nqueue(unsigned qi, const struct ring *r)
{
	nw32(VIRTIO_MMIO_QUEUE_SEL, qi);
	nw32(VIRTIO_MMIO_QUEUE_NUM, r->size);
	nw32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
	nw32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	nw32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
	nw32(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	nw32(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
	nw32(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	nw32(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* The Linux driver's sequence: reset, ACK, DRIVER, features, FEATURES_OK,
 * queues, DRIVER_OK.  Returns Status as read back. */
static uint32_t ndriver(struct ring *rx, struct ring *tx, uint64_t f)
{
	nw32(VIRTIO_MMIO_STATUS, 0);
	nw32(VIRTIO_MMIO_STATUS, 1);
	nw32(VIRTIO_MMIO_STATUS, 3);
	nw32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	nw32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	nw32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	nw32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	nw32(VIRTIO_MMIO_STATUS, 0xb);
	ring_clear(rx, 16, 0x40000);
	ring_clear(tx, 16, 0x50000);
	nqueue(0, rx);
	nqueue(1, tx);
	nw32(VIRTIO_MMIO_STATUS, 0xf);
	return nr32(VIRTIO_MMIO_STATUS);
}

#define F_V1   (1ULL << VIRTIO_F_VERSION_1)
#define F_MAC  (1ULL << 5)
#define F_CSUM 1ULL
#define F_TSO4 (1ULL << 11)

/* Posts receive buffer i (len bytes at 0x60000 + i * 0x1000), split in
 * two descriptors (header, then the rest) when split is set. */
static void rx_post(struct ring *rx, unsigned i, uint32_t len, int split)
{
	uint64_t a = 0x60000 + (uint64_t)i * 0x1000;
	if (split) {
		put_desc(rx, 2 * i, a, 12,
			 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
			 (uint16_t)(2 * i + 1));
		put_desc(rx, 2 * i + 1, a + 12, len - 12, VIRTQ_DESC_F_WRITE,
			 0);
	} else {
		put_desc(rx, 2 * i, a, len, VIRTQ_DESC_F_WRITE, 0);
	}
	ring_add(rx, (uint16_t)(2 * i));
}

static void test_net_device(void)
{
	int sv[2];
	char err[256];
	struct ring rx, tx;
	struct net_stats st;
	uint8_t buf[4096];
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x0a, 0x0b, 0x0c};

	CHECK(nr32(VIRTIO_MMIO_MAGIC_VALUE) == 0,
	      "no device attached: its window reads zeros");
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0) {
		CHECK(0, "socketpair: %s", strerror(errno));
		return;
	}
	CHECK(net_attach(&vm.mem, sv[0], mac, 0, err, sizeof(err)) == 0,
	      "device attached to a datagram socket");
	CHECK(io_find_mmio(VMM_NET_MMIO_GPA + 0x1ff) != NULL &&
		  io_find_mmio(VMM_NET_MMIO_GPA + 0x200) == NULL &&
		  io_find_mmio(VMM_NET_MMIO_GPA - 1) == NULL,
	      "window claims exactly 0xfeb00000-0xfeb001ff");
	CHECK(nr32(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976 &&
		  nr32(VIRTIO_MMIO_VERSION) == 2 &&
		  nr32(VIRTIO_MMIO_DEVICE_ID) == 1,
	      "through io_mmio: magic, version 2, device id 1 (net)");
	uint8_t cfg[8];
	io_mmio(&vm, VMM_NET_MMIO_GPA + VIRTIO_MMIO_CONFIG, 0, cfg, 8);
	CHECK(memcmp(cfg, mac, 6) == 0 && cfg[6] == 1,
	      "config: the MAC, then status LINK_UP");
	nw32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t flo = nr32(VIRTIO_MMIO_DEVICE_FEATURES);
	CHECK((flo & F_MAC) && (flo & F_CSUM) && (flo & (1u << 16)) &&
		  !(flo & 2) && !(flo & (1u << 15)) && !(flo & (1u << 28)),
	      "offers MAC, STATUS, CSUM; not GUEST_CSUM (no tap offload), "
	      "MRG_RXBUF or INDIRECT_DESC (0x%08x)",
	      flo);
	CHECK(ndriver(&rx, &tx, F_V1 | F_MAC | F_TSO4) == 0x3,
	      "HOST_TSO4 without CSUM: FEATURES_OK refused (5.1.3.1)");
	CHECK(ndriver(&rx, &tx, F_V1 | F_MAC | F_CSUM | F_TSO4) == 0xf,
	      "driver sequence with CSUM + HOST_TSO4: DRIVER_OK");

	/* Transmit: header split across descriptors, frame after it. */
	uint8_t hdr[12] = {1 /* NEEDS_CSUM */, 0};
	memcpy(g(0x70000, 12), hdr, 12);
	memcpy(g(0x70100, 14), "frame-payload!", 14);
	put_desc(&tx, 0, 0x70000, 5, VIRTQ_DESC_F_NEXT, 1);
	put_desc(&tx, 1, 0x70005, 7, VIRTQ_DESC_F_NEXT, 2);
	put_desc(&tx, 2, 0x70100, 14, 0, 0);
	ring_add(&tx, 0);
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	net_poll();
	ssize_t n = recv(sv[1], buf, sizeof(buf), 0);
	CHECK(n == 26 && buf[0] == 1 && buf[1] == 0 &&
		  memcmp(buf + 12, "frame-payload!", 14) == 0,
	      "transmit: one datagram of header + frame (%zd bytes), "
	      "NEEDS_CSUM kept",
	      n);
	CHECK(get16(tx.used + 2) == 1 && get32(tx.used + 4) == 0 &&
		  get32(tx.used + 8) == 0,
	      "transmit buffer returned, length 0");
	CHECK((nr32(VIRTIO_MMIO_INTERRUPT_STATUS) & 1) && net_irq_count() == 1,
	      "InterruptStatus bit 0 and one interrupt");
	nw32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CHECK(nr32(VIRTIO_MMIO_INTERRUPT_STATUS) == 0, "acknowledged");

	/* Transmit with a segmentation type that was not negotiated. */
	net_get_stats(&st);
	unsigned long e_before = st.guest_errors;
	hdr[0] = 0;
	hdr[1] = 4; /* TCPV6: HOST_TSO6 not accepted */
	memcpy(g(0x70000, 12), hdr, 12);
	put_desc(&tx, 3, 0x70000, 12, VIRTQ_DESC_F_NEXT, 2);
	ring_add(&tx, 3);
	put_desc(&tx, 4, 0x70000, 6, 0, 0); /* shorter than the header */
	ring_add(&tx, 4);
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	net_poll();
	net_get_stats(&st);
	CHECK(recv(sv[1], buf, sizeof(buf), 0) < 0 && get16(tx.used + 2) == 3 &&
		  st.tx_dropped == 2 && st.tx_packets == 1 &&
		  st.guest_errors == e_before + 2,
	      "un-negotiated GSO and a runt header: dropped, counted, "
	      "buffers returned");
	CHECK(net_irq_count() == 2,
	      "acknowledged: the next used buffers raise an interrupt");

	/* Receive into a split buffer. */
	rx_post(&rx, 0, 2048, 1);
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	memset(buf, 0, 12);
	memset(g(0x60000 + 10, 2), 0xee, 2);
	for (int i = 0; i < 100; i++)
		buf[12 + i] = (uint8_t)i;
	send(sv[1], buf, 112, 0);
	net_poll();
	CHECK(get16(rx.used + 2) == 1 && get32(rx.used + 4) == 0 &&
		  get32(rx.used + 8) == 112 &&
		  memcmp(g(0x60000 + 12, 100), buf + 12, 100) == 0 &&
		  get16(0x60000 + 10) == 1,
	      "receive: 112 bytes into a 12 + 2036 chain, num_buffers 1");
	CHECK(net_irq_count() == 2 &&
		  (nr32(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_USED),
	      "not acknowledged yet: no new interrupt, as a level-triggered "
	      "line would not give one");

	/* A frame bigger than the buffer: dropped, buffer kept. */
	rx_post(&rx, 1, 64, 0);
	send(sv[1], buf, 200, 0);
	net_poll();
	net_get_stats(&st);
	CHECK(get16(rx.used + 2) == 1 && st.rx_dropped == 1,
	      "200-byte frame into a 64-byte buffer: dropped, buffer unused");
	send(sv[1], buf, 40, 0);
	net_poll();
	CHECK(get16(rx.used + 2) == 2 && get32(rx.used + 12) == 2 &&
		  get32(rx.used + 16) == 40,
	      "the next 40-byte frame uses that same buffer");

	/* No buffers: the frame waits in the socket until there are. */
	send(sv[1], buf, 50, 0);
	net_poll();
	CHECK(get16(rx.used + 2) == 2, "no receive buffer: frame waits");
	rx_post(&rx, 2, 1500, 0);
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	net_poll();
	CHECK(get16(rx.used + 2) == 3 && get32(rx.used + 4 + 8 * 2 + 4) == 50,
	      "buffer posted and kicked: the frame arrives");

	/* A hostile receive queue: readable descriptor. */
	unsigned long irqs = net_irq_count();
	put_desc(&rx, 6, 0x60000, 100, 0, 0);
	ring_add(&rx, 6);
	send(sv[1], buf, 50, 0);
	net_poll();
	uint32_t status = nr32(VIRTIO_MMIO_STATUS);
	CHECK((status & VIRTIO_STATUS_NEEDS_RESET) &&
		  (nr32(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG) &&
		  net_irq_count() == irqs + 1,
	      "readable buffer in the receive queue: NEEDS_RESET, config "
	      "interrupt");
	rx_post(&rx, 3, 1500, 0);
	net_poll();
	CHECK(get16(rx.used + 2) == 3, "the device stays stopped");
	CHECK(ndriver(&rx, &tx, F_V1 | F_MAC) == 0xf,
	      "the driver resets and starts over: DRIVER_OK");
	rx_post(&rx, 0, 1500, 0);
	net_poll();
	CHECK(get16(rx.used + 2) == 1 && get32(rx.used + 8) == 50,
	      "and receives again (the frame that waited)");

	/* Hostile: notifications and writes to nonexistent things. */
	net_get_stats(&st);
	unsigned long e0 = st.guest_errors;
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 0x10000);
	nw32(VIRTIO_MMIO_MAGIC_VALUE, 0);
	nw32(VIRTIO_MMIO_DEVICE_FEATURES, 0xffffffff);
	net_poll();
	net_get_stats(&st);
	CHECK(st.guest_errors == e0 + 4 && nr32(VIRTIO_MMIO_STATUS) == 0xf,
	      "bad notifications and read-only writes: counted, device runs");

	/* The transmit queue gets a writable buffer: broken. */
	put_desc(&tx, 0, 0x70000, 64, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&tx, 0);
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	net_poll();
	CHECK(nr32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
	      "writable buffer in the transmit queue: NEEDS_RESET");
	net_close();
	close(sv[1]);
	CHECK(nr32(VIRTIO_MMIO_MAGIC_VALUE) == 0, "closed: window reads zeros");
}

/* ---- a real tap in a private network namespace ---- */

static uint16_t csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static int tun_make(const char *name, int flags, int persist)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_flags = (short)flags;
	int rc = ioctl(fd, TUNSETIFF, &ifr);
	if (rc == 0)
		rc = ioctl(fd, TUNSETPERSIST, persist);
	close(fd);
	return rc;
}

static int if_up(const char *name, const char *addr)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		goto out;
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0 ||
	    ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto out;
	ifr.ifr_flags |= IFF_UP;
	rc = ioctl(s, SIOCSIFFLAGS, &ifr);
out:
	close(s);
	return rc;
}

static void tx_frame(struct ring *tx, unsigned slot, const void *frame,
		     size_t len)
{
	uint64_t a = 0x80000 + (uint64_t)slot * 0x1000;
	memset(g(a, 12), 0, 12);
	memcpy(g(a + 12, len), frame, len);
	put_desc(tx, slot, a, (uint32_t)(12 + len), 0, 0);
	ring_add(tx, (uint16_t)slot);
	nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
}

/* Waits (up to ms milliseconds) for received frames; returns the first
 * one that match() accepts, reposting every buffer it consumes. */
static int rx_wait(struct ring *rx, int (*match)(const uint8_t *, size_t),
		   uint8_t *out, size_t *outlen, int ms_max)
{
	for (int ms = 0; ms < ms_max; ms++) {
		while (rx->used_seen != get16(rx->used + 2)) {
			unsigned slot = rx->used_seen % rx->size;
			uint32_t id = get32(rx->used + 4 + 8 * slot);
			uint32_t len = get32(rx->used + 8 + 8 * slot);
			rx->used_seen++;
			const uint8_t *f =
			    g(0x60000 + (uint64_t)id * 0x1000, 2048);
			int hit = len > 12 && match(f + 12, len - 12);
			if (hit) {
				memcpy(out, f + 12, len - 12);
				*outlen = len - 12;
			}
			put_desc(rx, id, 0x60000 + (uint64_t)id * 0x1000, 2048,
				 VIRTQ_DESC_F_WRITE, 0);
			ring_add(rx, (uint16_t)id);
			/* EVENT_IDX: interrupt me after the next one. */
			put16(rx->avail + 4 + 2 * (uint64_t)rx->size,
			      rx->used_seen);
			nw32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
			if (hit)
				return 1;
		}
		usleep(1000);
	}
	return 0;
}

static int is_arp_reply(const uint8_t *f, size_t n)
{
	return n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
	       memcmp(f + 28, "\x0a\x00\x02\x01", 4) == 0;
}

static int is_echo_reply(const uint8_t *f, size_t n)
{
	return n >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 &&
	       f[34] == 0 && memcmp(f + 26, "\x0a\x00\x02\x01", 4) == 0 &&
	       f[38] == 0x4b && f[39] == 0x4c;
}

static void test_real_tap(void)
{
	char err[256], tap[IFNAMSIZ], tun[IFNAMSIZ];
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x0a, 0x0b, 0x0d};
	struct ring rx, tx;
	uint8_t f[2048], host_mac[6];
	size_t n;

	if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK | W_OK)) {
		CHECK(1,
		      "real tap # SKIP no network namespace or no "
		      "/dev/net/tun (%s)",
		      strerror(errno));
		return;
	}
	snprintf(tap, sizeof(tap), "kvt%d", (int)(getpid() % 100000));
	snprintf(tun, sizeof(tun), "kvn%d", (int)(getpid() % 100000));
	if (tun_make(tap, IFF_TAP | IFF_NO_PI, 1) < 0 ||
	    tun_make(tun, IFF_TUN | IFF_NO_PI, 1) < 0 ||
	    if_up(tap, "10.0.2.1") < 0) {
		CHECK(1,
		      "real tap # SKIP cannot create a tap in the namespace "
		      "(%s)",
		      strerror(errno));
		return;
	}
	CHECK(net_open(&vm.mem, "kvnone0", mac, err, sizeof(err)) == -1 &&
		  vmm_test_has(err, "does not exist") &&
		  vmm_test_has(err, "ip tuntap add kvnone0 mode tap"),
	      "missing tap: %s", err);
	CHECK(net_open(&vm.mem, tun, mac, err, sizeof(err)) == -1 &&
		  vmm_test_has(err, "is not a tap device kiln can attach to"),
	      "a tun device: %s", err);
	CHECK(net_open(&vm.mem, "lo", mac, err, sizeof(err)) == -1 &&
		  vmm_test_has(err, "is not a tap device kiln can attach to"),
	      "loopback: %s", err);
	CHECK(net_open(&vm.mem, tap, mac, err, sizeof(err)) == 0,
	      "the tap opens (%s)", tap);
	int again = tap_open(tap, err, sizeof(err));
	CHECK(again == -1 &&
		  vmm_test_has(err, "already in use by another process"),
	      "a second user: %s", err);

	nw32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK(nr32(VIRTIO_MMIO_DEVICE_FEATURES) & 2,
	      "a real tap can offload: GUEST_CSUM offered");
	CHECK(ndriver(&rx, &tx, F_V1 | F_MAC | (1ULL << VIRTIO_F_EVENT_IDX)) ==
		  0xf,
	      "driver up with EVENT_IDX");
	for (unsigned i = 0; i < 8; i++) {
		put_desc(&rx, i, 0x60000 + (uint64_t)i * 0x1000, 2048,
			 VIRTQ_DESC_F_WRITE, 0);
		ring_add(&rx, (uint16_t)i);
	}
	CHECK(net_start(-1, err, sizeof(err)) == 0, "I/O thread started");

	/* ARP: who has 10.0.2.1? tell 10.0.2.2 */
	uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	memcpy(arp + 6, mac, 6);
	memcpy(arp + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(arp + 22, mac, 6);
	memcpy(arp + 28, "\x0a\x00\x02\x02", 4);
	memcpy(arp + 38, "\x0a\x00\x02\x01", 4);
	/* Resent every 500 ms, as a real stack would: the host drops what
	 * it sends until its link watcher has seen the tap's carrier come
	 * up, which can take a second after the attach. */
	unsigned sent = 0;
	int got = 0;
	for (int i = 0; i < 20 && !got; i++, sent++) {
		tx_frame(&tx, sent % 8, arp, sizeof(arp));
		got = rx_wait(&rx, is_arp_reply, f, &n, 500);
	}
	CHECK(got, "ARP request out through the tap, the host's reply back in");
	if (!got)
		goto out;
	memcpy(host_mac, f + 22, 6);

	uint8_t ping[14 + 20 + 8 + 32];
	memcpy(ping, host_mac, 6);
	memcpy(ping + 6, mac, 6);
	ping[12] = 0x08;
	ping[13] = 0x00;
	uint8_t *ip = ping + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 32;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, "\x0a\x00\x02\x02\x0a\x00\x02\x01", 8);
	uint16_t c = csum(ip, 20);
	memcpy(ip + 10, &c, 2);
	uint8_t *icmp = ip + 20;
	memset(icmp, 0, 8);
	icmp[0] = 8;
	icmp[4] = 0x4b; /* id "KL" */
	icmp[5] = 0x4c;
	icmp[7] = 1;
	for (int i = 0; i < 32; i++)
		icmp[8 + i] = (uint8_t)i;
	c = csum(icmp, 8 + 32);
	memcpy(icmp + 2, &c, 2);
	got = 0;
	for (int i = 0; i < 10 && !got; i++, sent++) {
		tx_frame(&tx, 8 + sent % 8, ping, sizeof(ping));
		got = rx_wait(&rx, is_echo_reply, f, &n, 500);
	}
	CHECK(got && n == sizeof(ping) && memcmp(f + 42, icmp + 8, 32) == 0,
	      "ping 10.0.2.1 from the device: echo reply with our payload");
	CHECK(get16(tx.used + 2) == sent, "all %u transmit buffers returned",
	      sent);
	CHECK(net_irq_count() >= 1, "interrupts raised (%lu)", net_irq_count());
out:
	net_close();
	tun_make(tap, IFF_TAP | IFF_NO_PI, 0);
	tun_make(tun, IFF_TUN | IFF_NO_PI, 0);
}

int main(void)
{
	char err[256];

	if (mem_init(&vm.mem, RAM, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	test_identity();
	test_bad_accesses();
	test_negotiation();
	test_queue_setup();
	test_chains();
	test_broken_rings();
	test_wrap_and_events();
	test_args();
	test_net_device();
	test_real_tap();
	return vmm_test_done("vmm_virtio");
}
