/*
 * virtio 1.x over MMIO: the transport (virtio_mmio.c) and what device
 * drivers (virtio_net.c) use of it.  Only the modern interface (register
 * Version 2, VIRTIO_F_VERSION_1) is supported, as Firecracker offers and
 * QEMU with -global virtio-mmio.force-legacy=false; queues are split
 * virtqueues whose three parts each live in their own zeroed page.
 *
 * Devices are found on the kernel command line as
 * virtio_mmio.device=SIZE@ADDR:IRQ (Linux's syntax, which QEMU microvm
 * with acpi=off and Firecracker generate).  Every virtio device shares one
 * interrupt handler that acknowledges the device and calls the driver's
 * irq hook; drivers do their real work later, from net_poll.
 */
#ifndef KILN_DRIVERS_VIRTIO_H
#define KILN_DRIVERS_VIRTIO_H

#include "kernel.h"

/* Device IDs (virtio 1.x section 5). */
#define VIRTIO_ID_NET 1

/* Feature bits. */
#define VIRTIO_F_VERSION_1  32
#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_FEATURE(bit) (1ULL << (bit))

/* Descriptor and ring flags. */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

/* Largest queue the transport sets up (ring pages stay one page each). */
#define VIRTQ_MAX_SIZE 256

struct virtq_desc {
	uint64_t addr; /* guest physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

struct virtio_dev;

/* One split virtqueue.  The driver owns the descriptors: it writes
 * desc[i] and hands i to the device with virtq_push. */
struct virtq {
	struct virtio_dev *dev;
	uint16_t index;	    /* queue number on the device */
	uint16_t num;	    /* entries (a power of two) */
	uint16_t avail_idx; /* next free slot in avail->ring, free running */
	uint16_t last_used; /* next used->ring entry to read, free running */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
};

struct virtio_dev {
	volatile uint8_t *regs; /* mapped MMIO window */
	uint64_t phys;		/* its physical address, for messages */
	uint32_t size;
	unsigned irq_line;  /* IOAPIC input (GSI) */
	uint32_t device_id; /* VIRTIO_ID_* */
	uint64_t features;  /* negotiated */
	/* Called from the interrupt handler after the device's interrupt
	 * status was read and acknowledged; from_user tells whether the
	 * interrupt came from the program (the kernel was idle). */
	void (*irq)(struct virtio_dev *d, uint32_t status, bool from_user);
	void *driver; /* the driver's state */
};

/* Probes every virtio_mmio.device= on the command line and hands each
 * modern device to its driver.  Returns the number of devices a driver
 * took.  Costs nothing when the command line names none. */
int virtio_mmio_probe(void);

/* Resets the device and negotiates features: the device's offer ANDed
 * with wanted, which must include VIRTIO_F_VERSION_1.  0, or -ENODEV
 * (with a klog line) when the device refuses. */
int virtio_negotiate(struct virtio_dev *d, uint64_t wanted);

/* Sets up queue `index` with at most max entries (rounded down to a
 * power of two, at most VIRTQ_MAX_SIZE and the device's maximum); 0 or
 * -errno.  The queue's pages come from page_alloc and are never freed. */
int virtq_init(struct virtio_dev *d, struct virtq *q, uint16_t index,
	       uint16_t max);

/* Tells the device the driver is ready (status DRIVER_OK) and routes its
 * interrupt; 0 or -errno. */
int virtio_driver_ok(struct virtio_dev *d);

/* Makes descriptor chain head `id` available to the device (no
 * notification yet). */
void virtq_push(struct virtq *q, uint16_t id);

/* Notifies the device of newly available buffers, unless it asked not
 * to be. */
void virtq_kick(struct virtq *q);

/* The next buffer the device is done with: its head id and the bytes it
 * wrote.  False when there is none. */
bool virtq_pop(struct virtq *q, uint32_t *id, uint32_t *len);

/* Device-specific configuration space, byte by byte. */
uint8_t virtio_config_read8(struct virtio_dev *d, uint32_t off);

/* Drivers' probe functions, called by virtio_mmio_probe by device ID;
 * 0 if the driver took the device. */
int virtio_net_probe(struct virtio_dev *d);

#endif
