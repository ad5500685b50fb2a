/*
 * Networking as the rest of the kernel sees it (implemented in kernel/net
 * over lwIP, with drivers in kernel/drivers).
 *
 * The kernel runs on one CPU with interrupts disabled except while it
 * halts, so lwIP is never entered concurrently: a device interrupt only
 * acknowledges the device and marks it pending, and net_poll, called with
 * interrupts disabled, moves frames between the device and lwIP and runs
 * lwIP's timers.  Whoever waits (sleep_until, later poll/epoll and
 * blocking sockets) calls net_poll after every wake-up and arms its timer
 * no later than net_poll_deadline().
 */
#ifndef NET_H
#define NET_H

#include "kernel.h"

/* Boot: reads kiln.ip, kiln.gw and kiln.dns, probes the
 * virtio_mmio.device= devices on the command line, brings the interface
 * up and writes /etc/hosts, /etc/hostname and /etc/resolv.conf (with
 * proc_hostname(), so after main.c has read kiln.hostname).  When the
 * command line names no device and no kiln.ip it returns at once having
 * done nothing.  Call after fs_init (it writes files) and apic_init (it
 * takes interrupts).  Exits with KILN_EXIT_MONITOR on a malformed word. */
void net_init(void);

/* True once an interface is up (net_init found a device). */
bool net_active(void);

/* Runs the network's deferred work: received frames, transmit
 * completions, lwIP's timers.  Cheap when nothing is pending; a no-op
 * without a network.  Interrupts must be disabled. */
void net_poll(void);

/* At the program's exit, after its descriptors are closed: runs the
 * network until every TCP connection's queued data and FIN have been
 * acknowledged, for at most budget_ns, so peers see the connections end
 * (as Linux closes them at exit) instead of a host that stops answering.
 * Polls the device itself: works with interrupts disabled. */
void net_drain(uint64_t budget_ns);

/* Monotonic time (ns) by which net_poll must run again for lwIP's timers;
 * UINT64_MAX when nothing is waiting on time (no network). */
uint64_t net_poll_deadline(void);

/* Drivers ---------------------------------------------------------------- */

/* One piece of a frame to send. */
struct net_frag {
	const void *data;
	size_t len;
};

/* A network device, owned by its driver, which fills in everything but
 * the fields marked "net". */
struct net_dev {
	const char *name; /* for messages, e.g. "virtio-net@0xfeb00e00" */
	uint8_t mac[6];
	uint16_t mtu; /* IP MTU, 1500 on Ethernet */
	/* Queues one frame of len bytes, the concatenation of nfrag pieces
	 * (the caller's memory, copied before return); 0, or -ENOBUFS when
	 * the transmit queue is full (the frame is dropped; TCP resends). */
	int (*xmit)(struct net_dev *dev, const struct net_frag *frag, int nfrag,
		    size_t len);
	/* Passes every received frame to net_input and reclaims sent
	 * buffers; called by net_poll when the device is pending. */
	void (*poll)(struct net_dev *dev);
	/* Notifies the device of frames xmit queued without doing so (one
	 * notification per burst instead of per frame); NULL when xmit
	 * notifies.  Called by net_flush. */
	void (*flush)(struct net_dev *dev);
	void *priv;	       /* the driver's */
	volatile bool pending; /* net: set by net_dev_kick */
	void *netif;	       /* net: lwIP's struct netif */
};

/* Makes dev the network interface (one device for now) and configures
 * it from the command line; 0 or -errno (-EBUSY for a second device). */
int net_dev_register(struct net_dev *dev);

/* For dev->poll: one received Ethernet frame (no device header), copied
 * into lwIP before return. */
void net_input(struct net_dev *dev, const void *frame, size_t len);

/* For interrupt handlers: dev has work for net_poll.  When the interrupt
 * came from user mode (from_user), the kernel is not inside lwIP, so the
 * work is done at once, before returning to the program. */
void net_dev_kick(struct net_dev *dev, bool from_user);

/* Hands the frames lwIP queued to the device: net_poll and every socket
 * call that may send end with it, and every wait does it before halting. */
void net_flush(void);

#endif
