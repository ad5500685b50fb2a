/*
 * virtio-net: a virtio 1.x network device on the virtio-mmio transport,
 * backed by a host tap device.  One receive queue (0) and one transmit
 * queue (1), no control queue, no mergeable receive buffers.
 *
 * Threads.  The vCPU thread sees only register accesses (KVM_EXIT_MMIO on
 * the window at VMM_NET_MMIO_GPA) and handles them through
 * virtio_mmio_access().  Everything that moves packets runs on one I/O
 * thread that sleeps in epoll_wait() on:
 *   - one eventfd per queue, bound with KVM_IOEVENTFD to a write of the
 *     queue's index to QueueNotify, so a guest's kick is a wakeup inside
 *     the host kernel and never a return to this process (if KVM refuses
 *     the binding, the MMIO exit writes the same eventfd);
 *   - the tap fd (edge triggered);
 *   - a control eventfd (DRIVER_OK, stop);
 *   - the irqfd's resample eventfd (below).
 * Interrupts go out through an irqfd on IOAPIC pin VMM_NET_GSI, chosen at
 * DRIVER_OK to match how the guest programmed that pin: a plain irqfd (one
 * edge per interrupt) for an edge-triggered pin, an irqfd with
 * KVM_IRQFD_FLAG_RESAMPLE for a level-triggered one, so that the line
 * behaves like QEMU's virtio-mmio line, high while InterruptStatus is not
 * 0 (net_irq_choose() says why not always the latter).  Without irqfd:
 * KVM_IRQ_LINE.  The pin is wired to the IOAPIC only
 * (net_route_ioapic_only()).
 * One mutex covers the transport and the queues; the I/O thread holds it
 * for a pass over the queues, the vCPU thread for one register access.
 *
 * Data path.  Frames carry the 12-byte virtio_net_hdr_v1, which is the
 * tap's own header format (tap.c sets IFF_VNET_HDR, size 12), so receive
 * is one readv() from the tap straight into the guest's buffers and
 * transmit one writev() from them: no copy of packet data in the monitor.
 * Receive appends a scratch buffer after the guest's: a frame larger than
 * the guest's buffers lands partly there, is dropped, and the buffers are
 * given back to the ring unused.  Transmit copies only the header, so
 * that what the tap sees is what was checked: offload flags the driver did
 * not negotiate are cleared, unknown segmentation types drop the frame.
 * Each pass does at most NET_BUDGET frames per queue, so a flooding guest
 * cannot starve the other direction.
 *
 * Hostile guests: all ring parsing is virtio.c's (checked, bounded); a
 * guest that breaks a ring gets DEVICE_NEEDS_RESET and a dead network
 * until its driver resets the device, and a line on stderr (at most
 * NET_REPORTS_MAX per run).
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio.h"
#include "vmm.h"

#define VIRTIO_ID_NET 1

/* Feature bits (virtio 1.2, 5.1.3) */
#define NET_F_CSUM	 0
#define NET_F_GUEST_CSUM 1
#define NET_F_MAC	 5
#define NET_F_GUEST_TSO4 7
#define NET_F_GUEST_TSO6 8
#define NET_F_HOST_TSO4	 11
#define NET_F_HOST_TSO6	 12
#define NET_F_STATUS	 16
#define NET_S_LINK_UP	 1

#define NET_HDR_F_NEEDS_CSUM 1
#define NET_GSO_NONE	     0
#define NET_GSO_TCPV4	     1
#define NET_GSO_TCPV6	     4

#define NET_RXQ	   0
#define NET_TXQ	   1
#define NET_BUDGET 256 /* frames per queue per pass */
#define NET_SCRATCH                                                            \
	(128 << 10) /* > any frame a tap hands out (64 KiB                     \
		       GSO + headers) */
#define NET_REPORTS_MAX 8

#define BIT(n) (1ULL << (n))

/* struct virtio_net_hdr_v1 */
struct net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};
_Static_assert(sizeof(struct net_hdr) == 12, "virtio_net_hdr_v1 layout");

enum net_irq_mode {
	NET_IRQ_COUNT,	  /* no VM (tests): interrupts are only counted */
	NET_IRQ_IRQFD,	  /* irqfd: a pulse per interrupt (edge pin) */
	NET_IRQ_RESAMPLE, /* irqfd + resamplefd: level semantics */
	NET_IRQ_LINE,	  /* KVM_IRQ_LINE ioctls (no irqfd) */
};

static struct net {
	pthread_mutex_t lock;
	struct virtio_mmio dev;
	int attached;
	int fds_open; /* the fd fields below are valid (-1 or open) */
	int tap_fd;
	int offload; /* TUNSETOFFLOAD works on tap_fd */
	int kick_fd[2], ctl_fd, irq_fd, resample_fd, epoll_fd, vm_fd;
	enum net_irq_mode irq_mode;
	int pin_level; /* the guest made our IOAPIC pin level-triggered */
	int thread_started, stop;
	pthread_t thread;
	int tap_readable, tap_dead;
	uint8_t *scratch;
	struct virtq_chain chain;		/* I/O thread only */
	struct iovec txiov[VIRTQ_SIZE_MAX + 1]; /* I/O thread only */
	struct net_stats stats;
	unsigned reports;
} net = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One line on stderr about a problem; at most NET_REPORTS_MAX per run,
 * since a guest can cause them. */
__attribute__((format(printf, 1, 2))) static void net_report(const char *fmt,
							     ...)
{
	va_list ap;

	if (net.reports >= NET_REPORTS_MAX)
		return;
	net.reports++;
	fputs("kiln-vmm: virtio-net: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void net_guest_error(const char *why)
{
	net.dev.errors++;
	net.dev.last_error = why;
}

static void net_kick(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		net_report("eventfd write: %s", strerror(errno));
}

static void net_drain(int fd)
{
	uint64_t v;

	if (fd >= 0)
		while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			;
}

/* Called with the lock held, after setting a bit in dev.isr. */
static void net_irq_raise(void)
{
	struct kvm_irq_level l = {.irq = VMM_NET_GSI, .level = 1};

	net.stats.irqs++;
	switch (net.irq_mode) {
	case NET_IRQ_COUNT:
		break;
	case NET_IRQ_RESAMPLE:
	case NET_IRQ_IRQFD:
		net_kick(net.irq_fd);
		break;
	case NET_IRQ_LINE:
		if (ioctl(net.vm_fd, KVM_IRQ_LINE, &l) < 0)
			net_report("KVM_IRQ_LINE: %s", strerror(errno));
		/* An edge-triggered pin needs an edge per interrupt. */
		l.level = 0;
		if (!net.pin_level && ioctl(net.vm_fd, KVM_IRQ_LINE, &l) < 0)
			net_report("KVM_IRQ_LINE: %s", strerror(errno));
		break;
	}
}

/* With the lock held: a level line follows InterruptStatus
 * (KVM_IRQ_LINE only; a resampling irqfd's line is lowered by KVM). */
static void net_irq_update(void)
{
	struct kvm_irq_level l = {.irq = VMM_NET_GSI, .level = 0};

	if (net.irq_mode == NET_IRQ_LINE && net.pin_level &&
	    __atomic_load_n(&net.dev.isr, __ATOMIC_ACQUIRE) == 0 &&
	    ioctl(net.vm_fd, KVM_IRQ_LINE, &l) < 0)
		net_report("KVM_IRQ_LINE: %s", strerror(errno));
}

/* Binds (or with deassign, unbinds) irq_fd to the pin; 0 or -1. */
static int net_irqfd(int resample, int deassign)
{
	struct kvm_irqfd irq = {
	    .fd = (uint32_t)net.irq_fd,
	    .gsi = VMM_NET_GSI,
	    .flags = deassign	? KVM_IRQFD_FLAG_DEASSIGN
		     : resample ? KVM_IRQFD_FLAG_RESAMPLE
				: 0,
	    .resamplefd = resample ? (uint32_t)net.resample_fd : 0,
	};
	return ioctl(net.vm_fd, KVM_IRQFD, &irq) < 0 ? -1 : 0;
}

/*
 * At DRIVER_OK (a driver routes its interrupt before that): match the
 * interrupt path to how the guest programmed its IOAPIC pin.  An
 * edge-triggered pin gets a plain irqfd, one edge per interrupt.  A
 * level-triggered pin gets an irqfd with resampling: KVM keeps the line
 * high until the guest's EOI, then lowers it and tells the I/O thread,
 * which raises it again while InterruptStatus is not 0, the way QEMU's
 * virtio-mmio line follows InterruptStatus.  Resampling is kept off edge
 * pins because it depends on KVM seeing the EOI, and with AMD's AVIC the
 * EOI of an edge-triggered vector never leaves the guest: the line would
 * stay high and no further edge would come.
 */
static void net_irq_choose(void)
{
	struct kvm_irqchip chip;

	if (net.vm_fd < 0)
		return;
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	net.pin_level =
	    ioctl(net.vm_fd, KVM_GET_IRQCHIP, &chip) == 0 &&
	    chip.chip.ioapic.redirtbl[VMM_NET_GSI].fields.trig_mode == 1;
	enum net_irq_mode want =
	    net.pin_level ? NET_IRQ_RESAMPLE : NET_IRQ_IRQFD;
	if (net.irq_mode == NET_IRQ_LINE || net.irq_mode == want)
		return;
	net_irqfd(0, 1);
	if (net_irqfd(want == NET_IRQ_RESAMPLE, 0) == 0) {
		net.irq_mode = want;
		return;
	}
	net_report("KVM_IRQFD%s: %s",
		   want == NET_IRQ_RESAMPLE
		       ? " with resampling (level-triggered "
			 "pin)"
		       : "",
		   strerror(errno));
	if (net_irqfd(net.irq_mode == NET_IRQ_RESAMPLE, 0) < 0)
		net.irq_mode = NET_IRQ_LINE;
}

/* Tells the tap which offloads the driver accepted (so which frames it
 * may hand us: partial checksums, TSO). */
static void net_set_offload(void)
{
	unsigned f = 0;

	if (!net.offload)
		return;
	if (virtio_mmio_has(&net.dev, NET_F_GUEST_CSUM))
		f |= TUN_F_CSUM;
	if (virtio_mmio_has(&net.dev, NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (virtio_mmio_has(&net.dev, NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if (tap_offload(net.tap_fd, f) < 0)
		net_report("TUNSETOFFLOAD: %s", strerror(errno));
}

/* The driver's accepted features must be consistent (5.1.3.1). */
static int net_features_check(uint64_t f)
{
	if ((f & (BIT(NET_F_HOST_TSO4) | BIT(NET_F_HOST_TSO6))) &&
	    !(f & BIT(NET_F_CSUM)))
		return -1;
	if ((f & (BIT(NET_F_GUEST_TSO4) | BIT(NET_F_GUEST_TSO6))) &&
	    !(f & BIT(NET_F_GUEST_CSUM)))
		return -1;
	return 0;
}

/*
 * Sets InterruptStatus bits.  An interrupt is due only when one of them is
 * new: while a bit is still set the driver has not acknowledged the last
 * interrupt, so its handler has yet to run and will find everything
 * pushed until then (drivers acknowledge before they look at the rings).
 * That is what a level-triggered line that follows InterruptStatus does
 * (QEMU's virtio-mmio), so an edge-triggered pin gets no more interrupts
 * than on QEMU, and a busy device no interrupt per frame.
 */
static void net_isr_set(uint32_t bits, int *irq)
{
	uint32_t old = __atomic_fetch_or(&net.dev.isr, bits, __ATOMIC_ACQ_REL);

	if (bits & ~old)
		*irq = 1;
	else
		net.stats.irqs_coalesced++;
}

/* The guest broke queue q: stop, ask for a reset, say so once. */
static void net_broken(struct virtq *q, const char *which, int *irq)
{
	if (virtio_mmio_needs_reset(&net.dev))
		*irq = 1;
	net_guest_error(q->broken);
	net_report("the guest broke its %s queue (%s); network stopped "
		   "until the driver resets the device",
		   which, q->broken);
}

/* Sends one frame; the chain has only readable buffers. */
static void net_tx_one(const struct virtq_chain *c)
{
	struct net_hdr h;
	uint64_t skip = sizeof(h);
	unsigned n = 1;

	if (c->out_len < sizeof(h)) {
		net_guest_error("transmit buffer shorter than the virtio-net "
				"header");
		net.stats.tx_dropped++;
		return;
	}
	virtq_chain_read(c, 0, &h, sizeof(h));
	if (!virtio_mmio_has(&net.dev, NET_F_CSUM)) {
		h.flags = 0;
		h.gso_type = NET_GSO_NONE;
	}
	h.flags &= NET_HDR_F_NEEDS_CSUM;
	h.num_buffers = 0;
	if (!(h.gso_type == NET_GSO_NONE ||
	      (h.gso_type == NET_GSO_TCPV4 &&
	       virtio_mmio_has(&net.dev, NET_F_HOST_TSO4)) ||
	      (h.gso_type == NET_GSO_TCPV6 &&
	       virtio_mmio_has(&net.dev, NET_F_HOST_TSO6)))) {
		net_guest_error("transmit header asks for a segmentation "
				"offload that was not negotiated");
		net.stats.tx_dropped++;
		return;
	}
	net.txiov[0] = (struct iovec){&h, sizeof(h)};
	for (unsigned i = 0; i < c->nout; i++) {
		size_t len = c->iov[i].iov_len;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		net.txiov[n++] = (struct iovec){
		    (uint8_t *)c->iov[i].iov_base + skip, len - skip};
		skip = 0;
	}
	for (;;) {
		ssize_t r = writev(net.tap_fd, net.txiov, (int)n);
		if (r >= 0) {
			net.stats.tx_packets++;
			return;
		}
		if (errno != EINTR)
			break;
	}
	/* EIO: the tap is down; EINVAL: a header the host refused; EAGAIN:
	 * its queue is full.  A real NIC drops the frame too. */
	net.stats.tx_dropped++;
}

/* Returns 1 when the budget ran out with work left. */
static int net_tx(int *irq)
{
	struct virtq *q = &net.dev.q[NET_TXQ];
	struct virtq_chain *c = &net.chain;
	unsigned n = 0;
	int more = 0;

	if (!q->ready)
		return 0;
	for (;;) {
		int r = 0;
		virtq_notify_off(q);
		while (n < NET_BUDGET &&
		       (r = virtq_pop(net.dev.mem, q, c)) == 1) {
			n++;
			if (c->nin > 0) {
				virtq_fail(q, "device-writable buffer in the "
					      "transmit queue");
				r = -1;
				break;
			}
			net_tx_one(c);
			virtq_push(q, c->head, 0);
		}
		if (r < 0) {
			net_broken(q, "transmit", irq);
			return 0;
		}
		if (n == NET_BUDGET) {
			more = 1; /* notifications stay off: we come back */
			break;
		}
		if (!virtq_notify_on(q))
			break;
		n++; /* bounds a guest that keeps moving its index */
	}
	if (virtq_should_signal(q))
		net_isr_set(VIRTIO_INT_USED, irq);
	return more;
}

static int net_rx(int *irq)
{
	struct virtq *q = &net.dev.q[NET_RXQ];
	struct virtq_chain *c = &net.chain;
	const uint16_t one = 1;
	unsigned n = 0;
	int more = 0;

	if (!q->ready)
		return 0;
	while (net.tap_readable && !net.tap_dead) {
		if (n == NET_BUDGET) {
			more = 1;
			break;
		}
		int r = virtq_pop(net.dev.mem, q, c);
		if (r == 0) {
			/* No buffers: the guest's kick will wake us. */
			if (!virtq_notify_on(q))
				break;
			n++; /* bounds a guest that keeps moving its index */
			continue;
		}
		if (r == 1 && c->nout > 0) {
			virtq_fail(q, "device-readable buffer in the receive "
				      "queue");
			r = -1;
		}
		if (r < 0) {
			net_broken(q, "receive", irq);
			return 0;
		}
		c->iov[c->nin] = (struct iovec){net.scratch, NET_SCRATCH};
		ssize_t len = readv(net.tap_fd, c->iov, (int)c->nin + 1);
		if (len < 0) {
			virtq_unpop(q);
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				/* Idle: refills need not wake us. */
				net.tap_readable = 0;
				virtq_notify_off(q);
				break;
			}
			net.tap_dead = 1;
			net_report("reading the tap: %s; receive stopped",
				   strerror(errno));
			break;
		}
		n++;
		if ((uint64_t)len > c->in_len ||
		    (size_t)len < sizeof(struct net_hdr)) {
			virtq_unpop(q); /* too big for this buffer: dropped */
			net.stats.rx_dropped++;
			continue;
		}
		/* The tap leaves num_buffers alone; without mergeable
		 * buffers it is always 1. */
		virtq_chain_write(c, offsetof(struct net_hdr, num_buffers),
				  &one, sizeof(one));
		virtq_push(q, c->head, (uint32_t)len);
		net.stats.rx_packets++;
	}
	if (virtq_should_signal(q))
		net_isr_set(VIRTIO_INT_USED, irq);
	return more;
}

/* One pass, lock held.  Returns 1 when work is left (budget). */
static int net_service(void)
{
	int irq = 0, more = 0;

	if (!net.attached || !virtio_mmio_running(&net.dev))
		return 0;
	more |= net_tx(&irq);
	if (virtio_mmio_running(&net.dev))
		more |= net_rx(&irq);
	if (irq)
		net_irq_raise();
	return more;
}

void net_poll(void)
{
	net_drain(net.kick_fd[0]);
	net_drain(net.kick_fd[1]);
	net_drain(net.ctl_fd);
	pthread_mutex_lock(&net.lock);
	net.tap_readable = 1;
	while (net_service())
		;
	pthread_mutex_unlock(&net.lock);
}

static void *net_thread(void *arg)
{
	struct epoll_event ev[8];
	int timeout = -1;

	(void)arg;
	for (;;) {
		int tap = 0, resample = 0;
		int n = epoll_wait(net.epoll_fd, ev, 8, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			net_report("epoll_wait: %s; network stopped",
				   strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			if (fd == net.tap_fd)
				tap = 1;
			else
				net_drain(fd);
			if (fd == net.resample_fd)
				resample = 1;
		}
		pthread_mutex_lock(&net.lock);
		if (net.stop) {
			pthread_mutex_unlock(&net.lock);
			return NULL;
		}
		if (tap)
			net.tap_readable = 1;
		timeout = net_service() ? 0 : -1;
		/* KVM lowered the line at the guest's EOI: raise it again
		 * while something is still pending. */
		if (resample && net.irq_mode == NET_IRQ_RESAMPLE &&
		    __atomic_load_n(&net.dev.isr, __ATOMIC_ACQUIRE) != 0)
			net_irq_raise();
		pthread_mutex_unlock(&net.lock);
	}
}

/* The vCPU thread's side: one register access. */
static void net_mmio(struct vmm *vm, uint64_t off, int write, uint8_t *data,
		     unsigned len)
{
	unsigned q = 0;

	(void)vm;
	if (!net.attached)
		return; /* no --net: nothing answers here, reads see zeros */
	/* The interrupt handler's two accesses, on every interrupt, skip the
	 * lock: the I/O thread holds it for a whole pass (tap reads and
	 * writes included), and the vCPU would wait for that pass to end.
	 * InterruptStatus is atomic; the ACK needs the lock only where it
	 * must lower a KVM_IRQ_LINE line (net_irq_update). */
	if (len == 4 && off == VIRTIO_MMIO_INTERRUPT_STATUS && !write) {
		uint32_t v = __atomic_load_n(&net.dev.isr, __ATOMIC_ACQUIRE);
		memcpy(data, &v, 4);
		return;
	}
	if (len == 4 && off == VIRTIO_MMIO_INTERRUPT_ACK && write &&
	    net.irq_mode != NET_IRQ_LINE) {
		uint32_t v;
		memcpy(&v, data, 4);
		__atomic_fetch_and(&net.dev.isr, ~v, __ATOMIC_ACQ_REL);
		return;
	}
	pthread_mutex_lock(&net.lock);
	unsigned ev = virtio_mmio_access(&net.dev, off, write, data, len, &q);
	if (ev & VIRTIO_EV_NOTIFY) {
		net_kick(net.kick_fd[q]); /* KVM did not catch it (fallback) */
		net.stats.mmio_kicks++;
	}
	if (ev & VIRTIO_EV_DRIVER_OK) {
		net_irq_choose();
		net_set_offload();
		net.tap_readable = 1; /* frames may have queued meanwhile */
		net_kick(net.ctl_fd);
	}
	if ((ev & VIRTIO_EV_RESET) && net.offload)
		tap_offload(net.tap_fd, 0);
	if (ev & (VIRTIO_EV_RESET | VIRTIO_EV_ACK))
		net_irq_update();
	pthread_mutex_unlock(&net.lock);
}

static const struct mmio_device dev_virtio_net = {
    .name = "virtio-net",
    .base = VMM_NET_MMIO_GPA,
    .len = VIRTIO_MMIO_WINDOW,
    .mmio = net_mmio,
};
MMIO_DEVICE(dev_virtio_net);

int net_attach(const struct mem *m, int fd, const uint8_t mac[6], int offload,
	       char *err, size_t errlen)
{
	struct virtio_mmio *d = &net.dev;

	net_close();
	net.tap_fd = fd;
	net.offload = offload;
	net.kick_fd[0] = net.kick_fd[1] = net.ctl_fd = net.irq_fd = -1;
	net.resample_fd = net.epoll_fd = net.vm_fd = -1;
	net.fds_open = 1;
	int *efd[] = {&net.kick_fd[0], &net.kick_fd[1], &net.ctl_fd,
		      &net.irq_fd, &net.resample_fd};
	for (size_t i = 0; i < sizeof(efd) / sizeof(efd[0]); i++) {
		*efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (*efd[i] < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			goto release;
		}
	}
	net.scratch = malloc(NET_SCRATCH);
	if (net.scratch == NULL) {
		snprintf(err, errlen, "out of memory");
		goto release;
	}

	memset(d, 0, sizeof(*d));
	d->mem = m;
	d->device_id = VIRTIO_ID_NET;
	d->device_features = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) |
			     BIT(NET_F_MAC) | BIT(NET_F_STATUS) |
			     BIT(NET_F_CSUM) | BIT(NET_F_HOST_TSO4) |
			     BIT(NET_F_HOST_TSO6);
	if (offload)
		d->device_features |= BIT(NET_F_GUEST_CSUM) |
				      BIT(NET_F_GUEST_TSO4) |
				      BIT(NET_F_GUEST_TSO6);
	d->nqueues = 2;
	d->features_check = net_features_check;
	/* struct virtio_net_config: mac, status, max_virtqueue_pairs, mtu */
	memcpy(d->config, mac, 6);
	d->config[6] = NET_S_LINK_UP;
	d->config[8] = 1;
	d->config[10] = 1500 & 0xff;
	d->config[11] = 1500 >> 8;
	d->config_len = 12;
	virtio_mmio_reset(d);
	net.attached = 1;
	return 0;

release:
	net_close();
	return -1;
}

int net_open(const struct mem *m, const char *tap, const uint8_t mac[6],
	     char *err, size_t errlen)
{
	int fd = tap_open(tap, err, errlen);

	if (fd < 0)
		return -1;
	/* Offer receive offloads only if this tap can switch them on. */
	int offload =
	    tap_offload(fd, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0 &&
	    tap_offload(fd, 0) == 0;
	return net_attach(m, fd, mac, offload, err, errlen);
}

/*
 * KVM's default routing sends GSIs 0-15 to its 8259 PIC as well as to the
 * IOAPIC.  A PVH guest that never initializes the PIC (kiln's kernel does
 * not) leaves it with vector base 0 and LINT0 in ExtINT mode, so the
 * device's line would also arrive as vector 5, a #BR.  The device's input
 * is therefore wired to the IOAPIC only, like the PC's inputs 16-23; every
 * other GSI keeps KVM's default routes.  -1 on failure.
 */
static int net_route_ioapic_only(int vm_fd)
{
	const unsigned n_max = 16 + 24;
	struct kvm_irq_routing *t =
	    calloc(1, sizeof(*t) + n_max * sizeof(t->entries[0]));
	unsigned n = 0;

	if (t == NULL)
		return -1;
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		if (gsi < 16 && gsi != VMM_NET_GSI) {
			t->entries[n].gsi = gsi;
			t->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			t->entries[n].u.irqchip.irqchip =
			    gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
				    : KVM_IRQCHIP_PIC_SLAVE;
			t->entries[n].u.irqchip.pin = gsi % 8;
			n++;
		}
		t->entries[n].gsi = gsi;
		t->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		t->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		t->entries[n].u.irqchip.pin = gsi;
		n++;
	}
	t->nr = n;
	int rc = ioctl(vm_fd, KVM_SET_GSI_ROUTING, t);
	free(t);
	return rc < 0 ? -1 : 0;
}

/* Binds the eventfds to the VM; every failure has a slower fallback. */
static void net_bind_kvm(int vm_fd)
{
	if (net_route_ioapic_only(vm_fd) < 0)
		net_report("KVM_SET_GSI_ROUTING: %s; GSI %d also reaches the "
			   "8259 PIC (the guest must mask it)",
			   strerror(errno), VMM_NET_GSI);
	for (unsigned q = 0; q < 2; q++) {
		struct kvm_ioeventfd io = {
		    .datamatch = q,
		    .addr = VMM_NET_MMIO_GPA + VIRTIO_MMIO_QUEUE_NOTIFY,
		    .len = 4,
		    .fd = net.kick_fd[q],
		    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0)
			net_report("KVM_IOEVENTFD: %s; queue notifications "
				   "take MMIO exits instead",
				   strerror(errno));
	}
	/* Edge until DRIVER_OK says otherwise (net_irq_choose()). */
	net.vm_fd = vm_fd;
	net.irq_mode = NET_IRQ_IRQFD;
	if (net_irqfd(0, 0) < 0) {
		net.irq_mode = NET_IRQ_LINE;
		net_report("KVM_IRQFD: %s; interrupts through KVM_IRQ_LINE",
			   strerror(errno));
	}
}

int net_start(int vm_fd, char *err, size_t errlen)
{
	sigset_t all, old;

	if (!net.attached) {
		snprintf(err, errlen, "virtio-net: no device attached");
		return -1;
	}
	net.irq_mode = NET_IRQ_COUNT;
	if (vm_fd >= 0)
		net_bind_kvm(vm_fd);
	net.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (net.epoll_fd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	int fds[] = {net.tap_fd, net.kick_fd[0], net.kick_fd[1], net.ctl_fd,
		     net.resample_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		struct epoll_event e = {
		    .events = EPOLLIN | (fds[i] == net.tap_fd ? EPOLLET : 0),
		    .data.fd = fds[i],
		};
		if (epoll_ctl(net.epoll_fd, EPOLL_CTL_ADD, fds[i], &e) < 0) {
			snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
			return -1;
		}
	}
	/* Signals (SIGINT, SIGTERM, the --timeout alarm) must reach the vCPU
	 * thread, whose KVM_RUN they interrupt, so this one blocks them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int e = pthread_create(&net.thread, NULL, net_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		snprintf(err, errlen, "cannot start the network I/O thread: %s",
			 strerror(e));
		return -1;
	}
	net.thread_started = 1;
	return 0;
}

void net_close(void)
{
	if (net.thread_started) {
		pthread_mutex_lock(&net.lock);
		net.stop = 1;
		pthread_mutex_unlock(&net.lock);
		net_kick(net.ctl_fd);
		pthread_join(net.thread, NULL);
	}
	if (net.fds_open) {
		int fds[] = {net.tap_fd,  net.kick_fd[0], net.kick_fd[1],
			     net.ctl_fd,  net.irq_fd,	  net.resample_fd,
			     net.epoll_fd};
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	free(net.scratch);
	net.scratch = NULL;
	net.attached = net.thread_started = net.stop = net.fds_open = 0;
	net.tap_readable = net.tap_dead = 0;
	memset(&net.stats, 0, sizeof(net.stats));
	net.tap_fd = -1;
}

void net_get_stats(struct net_stats *s)
{
	pthread_mutex_lock(&net.lock);
	*s = net.stats;
	s->guest_errors = net.dev.errors;
	s->irq_path = net.irq_mode == NET_IRQ_IRQFD	 ? "irqfd"
		      : net.irq_mode == NET_IRQ_RESAMPLE ? "irqfd+resample"
		      : net.irq_mode == NET_IRQ_LINE	 ? "KVM_IRQ_LINE"
							 : "none";
	s->last_error = net.dev.last_error;
	pthread_mutex_unlock(&net.lock);
}

unsigned long net_irq_count(void)
{
	pthread_mutex_lock(&net.lock);
	unsigned long n = net.stats.irqs;
	pthread_mutex_unlock(&net.lock);
	return n;
}
