/*
 * virtio 1.x for kiln-vmm: the virtio-mmio transport (register layout
 * version 2, "modern" only) and split virtqueues, as pure functions over
 * guest RAM.  Nothing here blocks, allocates, talks to KVM or knows what
 * the device does with a buffer: a device (dev_virtio_net.c) owns a struct
 * virtio_mmio, forwards the guest's MMIO accesses to virtio_mmio_access()
 * and acts on the events it returns, and moves buffers with virtq_pop() /
 * virtq_push().  That split is what lets tests/unit/vmm_virtio.c and the
 * fuzz harness drive all of it without /dev/kvm.
 *
 * Trust: everything in guest RAM and every register value is hostile.
 * Ring areas are checked with mem_gpa() when a queue is made ready (the
 * checked host pointers are then kept: guest RAM never moves), and every
 * buffer a descriptor names is checked with mem_gpa() each time it is
 * popped.  Each field of shared memory is read once and used from that
 * copy.  A guest that breaks the ring rules gets its queue stopped
 * (virtq.broken) and DEVICE_NEEDS_RESET; it can never make the monitor
 * read or write outside guest RAM, loop, or fail.
 */
#ifndef KILN_VMM_VIRTIO_H
#define KILN_VMM_VIRTIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm.h"

/* virtio-mmio registers (virtio 1.2, section 4.2.2), offsets in the window */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100 /* device-specific config space */
#define VIRTIO_MMIO_WINDOW		0x200 /* bytes per device, as QEMU */

#define VIRTIO_MMIO_MAGIC  0x74726976 /* "virt" */
#define VIRTIO_MMIO_MODERN 2	      /* register layout version */
#define VIRTIO_VENDOR_KILN 0x4e4c494b /* "KILN" */

/* Device status (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER	  0x02
#define VIRTIO_STATUS_DRIVER_OK	  0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED	  0x80

/* InterruptStatus bits */
#define VIRTIO_INT_USED	  0x1 /* a used buffer was added */
#define VIRTIO_INT_CONFIG 0x2 /* config changed (or DEVICE_NEEDS_RESET) */

/* Feature bits shared by all devices (6) */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* Split virtqueue layout (2.7) */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1
#define VIRTQ_DESC_SIZE		   16 /* addr u64, len u32, flags u16, next u16 */

#define VIRTQ_SIZE_MAX	  256 /* QueueNumMax: the longest chain, too */
#define VIRTIO_QUEUES_MAX 2
#define VIRTIO_CONFIG_MAX 32 /* bytes of device config space kept */

/*
 * One split virtqueue.  The first group is what the driver wrote to the
 * queue registers; the rest is valid only while ready is set.
 */
struct virtq {
	uint32_t size; /* QueueNum as written; checked at QueueReady */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int ready;
	uint8_t *desc, *avail, *used; /* checked host pointers to the areas */
	uint16_t last_avail;	      /* next available-ring slot to take */
	uint16_t used_idx;	      /* our used index (the guest's copy is
					 written, never read back) */
	uint16_t signalled_used;      /* used_idx at the last interrupt check */
	int signalled_valid;
	unsigned pushed;    /* used entries since the last signal check */
	int event_idx;	    /* VIRTIO_F_EVENT_IDX negotiated */
	const char *broken; /* why the guest broke this queue; NULL: fine */
};

/*
 * One descriptor chain taken from a queue: iov[0, nout) are the
 * device-readable buffers, iov[nout, nout + nin) the device-writable ones,
 * all host pointers into guest RAM, checked.  Zero-length descriptors are
 * left out.  One spare slot follows the last used one, for the caller.
 */
struct virtq_chain {
	uint16_t head;
	unsigned nout, nin;
	uint64_t out_len, in_len; /* bytes in each part */
	struct iovec iov[VIRTQ_SIZE_MAX + 1];
};

/*
 * A virtio-mmio device.  The device fills in the first group, then calls
 * virtio_mmio_reset(); the guest drives the rest through registers.
 * Neither the transport nor the queues lock: the device serializes calls.
 */
struct virtio_mmio {
	const struct mem *mem;
	uint32_t device_id;
	uint64_t device_features; /* offered */
	unsigned nqueues;	  /* at most VIRTIO_QUEUES_MAX */
	uint8_t config[VIRTIO_CONFIG_MAX];
	unsigned config_len;
	/* Extra rules for the driver's feature set (dependencies between
	 * bits); 0 accepts.  NULL: only "offered" and VERSION_1 are checked.
	 */
	int (*features_check)(uint64_t features);

	uint64_t driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status;
	/* InterruptStatus.  Always accessed atomically: a device may read and
	 * acknowledge it without its lock (dev_virtio_net.c does). */
	uint32_t isr;
	uint32_t config_generation;
	struct virtq q[VIRTIO_QUEUES_MAX];

	unsigned long errors;	/* guest mistakes ignored so far */
	const char *last_error; /* the latest one, for a report */
};

/* What virtio_mmio_access() asks of the device (a bit mask). */
#define VIRTIO_EV_NOTIFY    0x1 /* QueueNotify for a ready queue: *queue */
#define VIRTIO_EV_DRIVER_OK 0x2 /* the driver set DRIVER_OK: start */
#define VIRTIO_EV_RESET	    0x4 /* the driver wrote 0 to Status */
#define VIRTIO_EV_ACK	    0x8 /* InterruptACK: isr may now be 0 */

/* Back to the state after power-on: no features, no queues, status 0.
 * Keeps the first group of fields and the error counters. */
void virtio_mmio_reset(struct virtio_mmio *d);

/*
 * One guest access of len bytes (1, 2, 4 or 8) at offset off in the
 * device's window; data is little-endian, read into for a load.  Registers
 * below VIRTIO_MMIO_CONFIG take aligned 32-bit accesses only; the config
 * space any size.  Anything else (odd sizes, unknown registers, writes to
 * read-only ones, values out of range) is ignored and counted in errors;
 * reads of it see zeros.  Returns VIRTIO_EV_* bits; for VIRTIO_EV_NOTIFY
 * *queue gets the queue index.
 */
unsigned virtio_mmio_access(struct virtio_mmio *d, uint64_t off, int write,
			    uint8_t *data, unsigned len, unsigned *queue);

/* DRIVER_OK is set and DEVICE_NEEDS_RESET is not: queues may be used. */
int virtio_mmio_running(const struct virtio_mmio *d);

/* Whether feature bit was negotiated (offered and accepted, FEATURES_OK). */
int virtio_mmio_has(const struct virtio_mmio *d, unsigned bit);

/*
 * The device gives up on the guest (a broken queue): sets
 * DEVICE_NEEDS_RESET and, when the driver is running, the config-change
 * interrupt bit.  Returns 1 when an interrupt should be raised.
 */
int virtio_mmio_needs_reset(struct virtio_mmio *d);

/*
 * Takes the next available descriptor chain.  Returns 1 with *c filled,
 * 0 when the ring is empty (or the queue is not ready), -1 when the guest
 * broke the ring rules: q->broken then says how, and the queue stays
 * stopped until the device is reset.  Checked: the available index moving
 * by more than the queue size, head and next indices, chains longer than
 * the queue (loops), buffers outside guest RAM (via mem_gpa, overflow
 * safe), indirect descriptors (never offered), readable after writable.
 */
int virtq_pop(const struct mem *m, struct virtq *q, struct virtq_chain *c);

/* Gives back the chain taken by the last virtq_pop(): the next pop
 * returns it again (a packet that did not fit, for instance). */
void virtq_unpop(struct virtq *q);

/* Returns chain head to the driver with len bytes written into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/*
 * After a batch of virtq_push(): whether the driver wants an interrupt
 * for it (used_event with VIRTIO_F_EVENT_IDX, otherwise the avail ring's
 * NO_INTERRUPT flag).  0 when nothing was pushed since the last call.
 */
int virtq_should_signal(struct virtq *q);

/* Asks the driver not to notify (kick) this queue while the device is
 * busy with it anyway. */
void virtq_notify_off(struct virtq *q);

/*
 * Asks for notifications again before the device goes idle.  Returns 1
 * when buffers arrived in the meantime: the caller must pop again, or a
 * buffer added between its last pop and this call would never be seen.
 */
int virtq_notify_on(struct virtq *q);

/* Stops the queue: the guest broke it (why is kept for the report). */
void virtq_fail(struct virtq *q, const char *why);

/* Copies up to n bytes at offset off of the chain's readable part into
 * dst; returns the count copied. */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst,
			size_t n);

/* Copies up to n bytes from src into the chain's writable part at offset
 * off; returns the count copied. */
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off,
			 const void *src, size_t n);

#endif /* KILN_VMM_VIRTIO_H */
