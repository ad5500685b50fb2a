/*
 * The virtio-mmio register file and split virtqueues (see virtio.h for the
 * contract).  Two rules run through this file:
 *
 * Shared memory is read once.  The guest can rewrite its rings while the
 * monitor reads them, so every field (an index, a descriptor) is loaded
 * once into a local and checked and used from there; nothing is read
 * twice and trusted to be the same.  Loads and stores of ring fields are
 * __atomic operations on naturally aligned fields (alignment is checked
 * when the queue is made ready), with the orderings the virtio memory
 * model needs: acquire on the available index, release on the used index,
 * and a full fence between publishing our side and reading the driver's
 * event fields.
 *
 * Guest mistakes are never fatal.  A register access that makes no sense
 * is ignored and counted (virtio_mmio.errors); a ring that breaks the rules
 * stops its queue (virtq.broken) and the device asks for a reset.  Either
 * way the guest only loses its own device.
 */
#include <string.h>

#include "virtio.h"

/* Offsets inside the rings (virtio 1.2, 2.7.6 and 2.7.8). */
#define AVAIL_FLAGS	  0
#define AVAIL_IDX	  2
#define AVAIL_RING	  4
#define USED_FLAGS	  0
#define USED_IDX	  2
#define USED_RING	  4
#define USED_ELEM_SIZE	  8
#define RING_ALIGN_DESC	  16
#define RING_ALIGN_AVAIL  2
#define RING_ALIGN_USED	  4
#define STATUS_DRIVER_SET 0xbf /* every bit but NEEDS_RESET (device-owned) */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static uint16_t virtq_load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)(const void *)p,
			       __ATOMIC_RELAXED);
}

static void virtq_store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELAXED);
}

static void virtq_store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

static uint16_t virtq_avail_idx(const struct virtq *q)
{
	return __atomic_load_n(
	    (const uint16_t *)(const void *)(q->avail + AVAIL_IDX),
	    __ATOMIC_ACQUIRE);
}

/* The descriptor at index i (< size), copied field by field. */
static void virtq_desc_load(const struct virtq *q, uint16_t i,
			    struct virtq_desc *d)
{
	const uint8_t *p = q->desc + (size_t)i * VIRTQ_DESC_SIZE;

	d->addr = __atomic_load_n((const uint64_t *)(const void *)p,
				  __ATOMIC_RELAXED);
	d->len = __atomic_load_n((const uint32_t *)(const void *)(p + 8),
				 __ATOMIC_RELAXED);
	d->flags = virtq_load16(p + 12);
	d->next = virtq_load16(p + 14);
}

void virtq_fail(struct virtq *q, const char *why)
{
	if (q->broken == NULL)
		q->broken = why;
}

int virtq_pop(const struct mem *m, struct virtq *q, struct virtq_chain *c)
{
	if (q->broken != NULL)
		return -1;
	if (!q->ready)
		return 0;
	uint16_t avail_idx = virtq_avail_idx(q);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size) {
		virtq_fail(q, "available index moved by more than the queue "
			      "size");
		return -1;
	}
	uint16_t head =
	    virtq_load16(q->avail + AVAIL_RING +
			 2 * (size_t)(q->last_avail & (q->size - 1)));
	if (head >= q->size) {
		virtq_fail(q, "descriptor index out of range");
		return -1;
	}

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	uint16_t i = head;
	/* A chain visits each descriptor at most once, so more than size of
	 * them means a loop; the bound also caps the work per chain. */
	for (unsigned n = 0;; n++) {
		struct virtq_desc d;
		if (n == q->size) {
			virtq_fail(q, "descriptor chain longer than the queue "
				      "(a loop)");
			return -1;
		}
		virtq_desc_load(q, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			virtq_fail(q, "indirect descriptor (not negotiated)");
			return -1;
		}
		void *p = mem_gpa(m, d.addr, d.len);
		if (p == NULL) {
			virtq_fail(q, "descriptor buffer outside guest memory");
			return -1;
		}
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			c->in_len += d.len;
			if (d.len > 0)
				c->iov[c->nout + c->nin++] =
				    (struct iovec){p, d.len};
		} else {
			if (c->nin > 0) {
				virtq_fail(q, "device-readable descriptor "
					      "after a writable one");
				return -1;
			}
			c->out_len += d.len;
			if (d.len > 0)
				c->iov[c->nout++] = (struct iovec){p, d.len};
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= q->size) {
			virtq_fail(q, "next descriptor index out of range");
			return -1;
		}
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	if (!q->ready)
		return;
	uint8_t *e = q->used + USED_RING +
		     USED_ELEM_SIZE * (size_t)(q->used_idx & (q->size - 1));
	virtq_store32(e, head);
	virtq_store32(e + 4, len);
	q->used_idx++;
	/* Release: the element is visible before the index that covers it. */
	__atomic_store_n((uint16_t *)(void *)(q->used + USED_IDX), q->used_idx,
			 __ATOMIC_RELEASE);
	q->pushed++;
}

int virtq_should_signal(struct virtq *q)
{
	if (!q->ready || q->pushed == 0)
		return 0;
	q->pushed = 0;
	/* Our used index must be visible before we read what the driver
	 * asked for, or both sides could decide the other will act. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t old = q->signalled_used, now = q->used_idx;
		int valid = q->signalled_valid;
		q->signalled_used = now;
		q->signalled_valid = 1;
		if (!valid)
			return 1;
		uint16_t ev =
		    virtq_load16(q->avail + AVAIL_RING + 2 * (size_t)q->size);
		/* vring_need_event(): did the used index pass used_event? */
		return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	}
	return !(virtq_load16(q->avail + AVAIL_FLAGS) &
		 VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtq_notify_off(struct virtq *q)
{
	/* With EVENT_IDX, leaving avail_event behind does the same. */
	if (q->ready && !q->event_idx)
		virtq_store16(q->used + USED_FLAGS, VIRTQ_USED_F_NO_NOTIFY);
}

int virtq_notify_on(struct virtq *q)
{
	if (!q->ready || q->broken != NULL)
		return 0;
	if (q->event_idx)
		virtq_store16(q->used + USED_RING +
				  USED_ELEM_SIZE * (size_t)q->size,
			      q->last_avail);
	else
		virtq_store16(q->used + USED_FLAGS, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_avail_idx(q) != q->last_avail;
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst,
			size_t n)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->nout && done < n; i++) {
		size_t len = c->iov[i].iov_len;
		if (off >= len) {
			off -= len;
			continue;
		}
		size_t k = len - off < n - done ? len - off : n - done;
		memcpy((uint8_t *)dst + done,
		       (uint8_t *)c->iov[i].iov_base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off,
			 const void *src, size_t n)
{
	size_t done = 0;

	for (unsigned i = c->nout; i < c->nout + c->nin && done < n; i++) {
		size_t len = c->iov[i].iov_len;
		if (off >= len) {
			off -= len;
			continue;
		}
		size_t k = len - off < n - done ? len - off : n - done;
		memcpy((uint8_t *)c->iov[i].iov_base + off,
		       (const uint8_t *)src + done, k);
		done += k;
		off = 0;
	}
	return done;
}

/* ---- the register file ---- */

static void virtio_mmio_error(struct virtio_mmio *d, const char *why)
{
	d->errors++;
	d->last_error = why;
}

void virtio_mmio_reset(struct virtio_mmio *d)
{
	d->driver_features = 0;
	d->device_features_sel = d->driver_features_sel = d->queue_sel = 0;
	d->status = 0;
	__atomic_store_n(&d->isr, 0, __ATOMIC_RELEASE);
	memset(d->q, 0, sizeof(d->q));
}

int virtio_mmio_running(const struct virtio_mmio *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & VIRTIO_STATUS_NEEDS_RESET);
}

int virtio_mmio_has(const struct virtio_mmio *d, unsigned bit)
{
	return bit < 64 && (d->status & VIRTIO_STATUS_FEATURES_OK) &&
	       ((d->driver_features >> bit) & 1);
}

int virtio_mmio_needs_reset(struct virtio_mmio *d)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return 0;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (!(d->status & VIRTIO_STATUS_DRIVER_OK))
		return 0;
	__atomic_fetch_or(&d->isr, VIRTIO_INT_CONFIG, __ATOMIC_ACQ_REL);
	return 1;
}

/* The queue QueueSel names, or NULL when it names none. */
static struct virtq *virtio_mmio_queue(struct virtio_mmio *d)
{
	return d->queue_sel < d->nqueues ? &d->q[d->queue_sel] : NULL;
}

/* QueueReady = 1: check the size and the three areas, then go. */
static void virtio_mmio_queue_enable(struct virtio_mmio *d, struct virtq *q)
{
	uint32_t n = q->size;

	if (n == 0 || n > VIRTQ_SIZE_MAX || (n & (n - 1)) != 0) {
		virtio_mmio_error(d, "queue size not a power of two from 1 "
				     "to 256");
		return;
	}
	if (q->desc_gpa % RING_ALIGN_DESC || q->avail_gpa % RING_ALIGN_AVAIL ||
	    q->used_gpa % RING_ALIGN_USED) {
		virtio_mmio_error(d, "misaligned ring address");
		return;
	}
	uint8_t *desc = mem_gpa(d->mem, q->desc_gpa, (uint64_t)n * 16);
	uint8_t *avail = mem_gpa(d->mem, q->avail_gpa, 6 + (uint64_t)n * 2);
	uint8_t *used =
	    mem_gpa(d->mem, q->used_gpa, 6 + (uint64_t)n * USED_ELEM_SIZE);
	if (desc == NULL || avail == NULL || used == NULL) {
		virtio_mmio_error(d, "ring outside guest memory");
		return;
	}
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->signalled_valid = 0;
	q->pushed = 0;
	q->broken = NULL;
	q->event_idx = virtio_mmio_has(d, VIRTIO_F_EVENT_IDX);
	q->ready = 1;
}

/* The ring address registers: one half of a 64-bit address each. */
static void virtio_mmio_queue_addr(struct virtio_mmio *d, uint64_t off,
				   uint32_t v)
{
	struct virtq *q = virtio_mmio_queue(d);
	uint64_t *a;

	if (q == NULL || q->ready) {
		virtio_mmio_error(d, q ? "ring address written while the queue "
					 "is ready"
				       : "ring address for a queue that does "
					 "not exist");
		return;
	}
	switch (off & ~4ULL) {
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		a = &q->desc_gpa;
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		a = &q->avail_gpa;
		break;
	default:
		a = &q->used_gpa;
		break;
	}
	if (off & 4)
		*a = (*a & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		*a = (*a & ~0xffffffffULL) | v;
}

static int virtio_mmio_features_ok(const struct virtio_mmio *d)
{
	uint64_t f = d->driver_features;

	return (f & ~d->device_features) == 0 &&
	       ((f >> VIRTIO_F_VERSION_1) & 1) &&
	       (d->features_check == NULL || d->features_check(f) == 0);
}

static unsigned virtio_mmio_set_status(struct virtio_mmio *d, uint32_t v)
{
	uint32_t old = d->status;
	unsigned ev = 0;

	if (v == 0) {
		virtio_mmio_reset(d);
		return VIRTIO_EV_RESET;
	}
	if (v & ~(uint32_t)STATUS_DRIVER_SET) {
		virtio_mmio_error(d, "status bits the driver may not set");
		return 0;
	}
	if (old & ~v & STATUS_DRIVER_SET) {
		virtio_mmio_error(d, "status bits cleared without a reset");
		return 0;
	}
	uint32_t now = v | (old & VIRTIO_STATUS_NEEDS_RESET);
	if ((now & VIRTIO_STATUS_FEATURES_OK) &&
	    !(old & VIRTIO_STATUS_FEATURES_OK) && !virtio_mmio_features_ok(d)) {
		/* The driver reads Status back and sees FEATURES_OK refused. */
		virtio_mmio_error(d, "feature bits never offered (or without "
				     "VERSION_1)");
		now &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	}
	if ((now & VIRTIO_STATUS_DRIVER_OK) &&
	    !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(now & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_mmio_error(d, "DRIVER_OK without FEATURES_OK");
			now &= ~(uint32_t)VIRTIO_STATUS_DRIVER_OK;
		} else {
			ev |= VIRTIO_EV_DRIVER_OK;
		}
	}
	d->status = now;
	if (ev & VIRTIO_EV_DRIVER_OK) {
		for (unsigned i = 0; i < d->nqueues; i++)
			d->q[i].event_idx =
			    virtio_mmio_has(d, VIRTIO_F_EVENT_IDX);
	}
	return ev;
}

static uint32_t virtio_mmio_read_reg(struct virtio_mmio *d, uint64_t off)
{
	struct virtq *q = virtio_mmio_queue(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_MODERN;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_VENDOR_KILN;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->device_features_sel > 1)
			return 0;
		return (uint32_t)(d->device_features >>
				  (32 * d->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VIRTQ_SIZE_MAX : 0;
	case VIRTIO_MMIO_QUEUE_NUM:
		return q ? q->size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? (uint32_t)q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&d->isr, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return q ? (uint32_t)(q->desc_gpa >> (off & 4 ? 32 : 0)) : 0;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return q ? (uint32_t)(q->avail_gpa >> (off & 4 ? 32 : 0)) : 0;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return q ? (uint32_t)(q->used_gpa >> (off & 4 ? 32 : 0)) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions: length -1 */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	default:
		return 0; /* write-only and reserved registers */
	}
}

static unsigned virtio_mmio_write_reg(struct virtio_mmio *d, uint64_t off,
				      uint32_t v, unsigned *queue)
{
	struct virtq *q = virtio_mmio_queue(d);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = v;
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->status & VIRTIO_STATUS_FEATURES_OK)
			virtio_mmio_error(d, "feature bits written after "
					     "FEATURES_OK");
		else if (d->driver_features_sel == 0)
			d->driver_features =
			    (d->driver_features & ~0xffffffffULL) | v;
		else if (d->driver_features_sel == 1)
			d->driver_features =
			    (d->driver_features & 0xffffffffULL) | (uint64_t)v
								       << 32;
		else if (v != 0)
			virtio_mmio_error(d, "feature bits above 63");
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = v;
		return 0;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q == NULL || q->ready)
			virtio_mmio_error(d, q ? "queue size written while the "
						 "queue is ready"
					       : "queue size for a queue that "
						 "does not exist");
		else
			q->size = v;
		return 0;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q == NULL || v > 1)
			virtio_mmio_error(d, q ? "QueueReady value other than "
						 "0 or 1"
					       : "QueueReady for a queue that "
						 "does not exist");
		else if (v == 1 && !q->ready)
			virtio_mmio_queue_enable(d, q);
		else if (v == 0)
			q->ready = 0;
		return 0;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v >= d->nqueues || !d->q[v].ready) {
			virtio_mmio_error(d, "notification for a queue that "
					     "does not exist or is not ready");
			return 0;
		}
		*queue = v;
		return VIRTIO_EV_NOTIFY;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&d->isr, ~v, __ATOMIC_ACQ_REL);
		return VIRTIO_EV_ACK;
	case VIRTIO_MMIO_STATUS:
		return virtio_mmio_set_status(d, v);
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		virtio_mmio_queue_addr(d, off, v);
		return 0;
	case VIRTIO_MMIO_SHM_SEL:
		return 0; /* there are no regions; every length reads -1 */
	case VIRTIO_MMIO_MAGIC_VALUE:
	case VIRTIO_MMIO_VERSION:
	case VIRTIO_MMIO_DEVICE_ID:
	case VIRTIO_MMIO_VENDOR_ID:
	case VIRTIO_MMIO_DEVICE_FEATURES:
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
	case VIRTIO_MMIO_INTERRUPT_STATUS:
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
	case VIRTIO_MMIO_CONFIG_GENERATION:
		virtio_mmio_error(d, "write to a read-only register");
		return 0;
	default:
		/* Includes QueueReset: VIRTIO_F_RING_RESET is not offered. */
		virtio_mmio_error(d, "write to an unknown register");
		return 0;
	}
}

unsigned virtio_mmio_access(struct virtio_mmio *d, uint64_t off, int write,
			    uint8_t *data, unsigned len, unsigned *queue)
{
	uint32_t v;

	if (len != 1 && len != 2 && len != 4 && len != 8) {
		virtio_mmio_error(d, "access size other than 1, 2, 4 or 8");
		return 0;
	}
	if (!write)
		memset(data, 0, len);
	if (off >= VIRTIO_MMIO_WINDOW || len > VIRTIO_MMIO_WINDOW - off) {
		virtio_mmio_error(d, "access beyond the device's window");
		return 0;
	}
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;
		if (write) {
			virtio_mmio_error(d, "write to the read-only config "
					     "space");
			return 0;
		}
		for (unsigned i = 0; i < len && c + i < d->config_len; i++)
			data[i] = d->config[c + i];
		return 0;
	}
	if (len != 4 || off % 4 != 0) {
		virtio_mmio_error(d, "register access not 32-bit and aligned");
		return 0;
	}
	if (!write) {
		v = virtio_mmio_read_reg(d, off);
		memcpy(data, &v, 4);
		return 0;
	}
	memcpy(&v, data, 4);
	return virtio_mmio_write_reg(d, off, v, queue);
}
