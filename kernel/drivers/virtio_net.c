/*
 * virtio-net driver (virtio 1.x): queue 0 receives, queue 1 transmits.
 *
 * Features asked for: VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MAC, nothing
 * else yet: no checksum or segmentation offload, no mergeable receive
 * buffers.  So every frame on the wire is at most 1514 bytes and comes
 * with the 12-byte struct virtio_net_hdr that VERSION_1 always has, all
 * zeroes on transmit.
 *
 * Buffers are 2 KiB halves of pages from the page allocator (physically
 * contiguous, which DMA needs and kmalloc's large blocks are not), one per
 * descriptor, never freed: receive descriptor i always points at receive
 * buffer i and is handed back to the device as soon as its frame has been
 * copied into lwIP; transmit descriptors come from a free list and the
 * frame is copied into their buffer.  Transmit completions raise no
 * interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT) and are reclaimed on the next
 * poll or when the free list runs dry.  The receive interrupt only
 * acknowledges and marks the device pending (net_dev_kick); frames reach
 * lwIP from net_poll.
 *
 * Notifications both ways come in bursts, because each one is a VM exit
 * (expensive, and the benchmark in docs/bench-net.md counts them):
 *   - transmit: xmit only queues the frame; the device is notified once
 *     per burst, by the flush that ends net_poll and every socket call
 *     (net_flush), before any halt, or every VNET_TX_BATCH frames;
 *   - receive: the interrupt turns receive interrupts off
 *     (VIRTQ_AVAIL_F_NO_INTERRUPT) until the poll has emptied the ring,
 *     as Linux's NAPI does; the poll turns them back on and looks once
 *     more, so a frame that came in between is not left waiting.
 */
#include "mm.h"
#include "net.h"
#include "proc.h"
#include "virtio.h"

#define VNET_HDR_LEN   12   /* struct virtio_net_hdr with VERSION_1 */
#define VNET_BUF_SIZE  2048 /* one buffer: header + largest frame */
#define VNET_FRAME_MAX 1514 /* Ethernet header + 1500, no FCS */
#define VNET_RX_BUFS   128  /* receive buffers posted (256 KiB) */
#define VNET_TX_BUFS   128  /* frames in flight to the device */
#define VNET_RX_BUDGET 256  /* frames per poll before yielding */
#define VNET_TX_BATCH  32   /* frames queued before a notification */

struct vnet {
	struct virtio_dev *vdev;
	struct net_dev net;
	struct virtq rx, tx;
	uint16_t nrx, ntx;
	uint8_t *rx_buf[VNET_RX_BUFS];
	uint8_t *tx_buf[VNET_TX_BUFS];
	uint16_t tx_free[VNET_TX_BUFS]; /* stack of free tx descriptors */
	uint16_t ntx_free;
	uint16_t tx_queued; /* frames pushed since the last notification */
	char name[40];
};

/* Allocates n buffers of VNET_BUF_SIZE, two to a page; false when out of
 * memory.  Pages are not zeroed: the device or the copy fills them. */
static bool vnet_buffers(uint8_t **buf, uint16_t n)
{
	for (uint16_t i = 0; i < n; i += 2) {
		uint8_t *page = page_alloc_nozero();
		if (!page)
			return false;
		buf[i] = page;
		if (i + 1 < n)
			buf[i + 1] = page + VNET_BUF_SIZE;
	}
	return true;
}

/* Notifies the device of the frames queued since the last time. */
static void vnet_tx_notify(struct vnet *v)
{
	if (v->tx_queued) {
		v->tx_queued = 0;
		virtq_kick(&v->tx);
	}
}

static void vnet_flush(struct net_dev *nd)
{
	vnet_tx_notify(nd->priv);
}

static void vnet_tx_reclaim(struct vnet *v)
{
	uint32_t id, len;

	while (virtq_pop(&v->tx, &id, &len))
		if (id < v->ntx && v->ntx_free < v->ntx)
			v->tx_free[v->ntx_free++] = (uint16_t)id;
}

static int vnet_xmit(struct net_dev *nd, const struct net_frag *frag, int nfrag,
		     size_t len)
{
	struct vnet *v = nd->priv;

	if (len > VNET_FRAME_MAX)
		return -EMSGSIZE;
	if (!v->ntx_free) {
		vnet_tx_notify(v); /* the device frees them once it knows */
		vnet_tx_reclaim(v);
	}
	if (!v->ntx_free)
		return -ENOBUFS;
	uint16_t id = v->tx_free[--v->ntx_free];
	uint8_t *b = v->tx_buf[id];
	memset(b, 0, VNET_HDR_LEN);
	size_t off = VNET_HDR_LEN;
	for (int i = 0; i < nfrag && off < VNET_HDR_LEN + len; i++) {
		size_t n = MIN(frag[i].len, VNET_HDR_LEN + len - off);
		memcpy(b + off, frag[i].data, n);
		off += n;
	}
	struct virtq_desc *d = &v->tx.desc[id];
	d->addr = virt_to_phys(b);
	d->len = (uint32_t)off;
	d->flags = 0;
	d->next = 0;
	virtq_push(&v->tx, id);
	if (++v->tx_queued >= VNET_TX_BATCH)
		vnet_tx_notify(v);
	return 0;
}

static void vnet_poll(struct net_dev *nd)
{
	struct vnet *v = nd->priv;
	uint32_t id, len;
	int n = 0;

	for (;;) {
		while (n < VNET_RX_BUDGET && virtq_pop(&v->rx, &id, &len)) {
			n++;
			if (id >= v->nrx)
				continue; /* a device bug: not ours to hand back
					   */
			if (len > VNET_HDR_LEN && len <= VNET_BUF_SIZE)
				net_input(nd, v->rx_buf[id] + VNET_HDR_LEN,
					  len - VNET_HDR_LEN);
			virtq_push(&v->rx, (uint16_t)id);
		}
		/* Interrupts back on, then one more look: a frame the device
		 * used before it could see the flag raised no interrupt. */
		*(volatile uint16_t *)&v->rx.avail->flags = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		bool more =
		    *(volatile uint16_t *)&v->rx.used->idx != v->rx.last_used;
		if (!more)
			break;
		if (n >= VNET_RX_BUDGET) {
			nd->pending = true; /* more next time */
			break;
		}
		*(volatile uint16_t *)&v->rx.avail->flags =
		    VIRTQ_AVAIL_F_NO_INTERRUPT;
	}
	if (n)
		virtq_kick(&v->rx);
	vnet_tx_reclaim(v);
}

static void vnet_irq(struct virtio_dev *d, uint32_t status, bool from_user)
{
	struct vnet *v = d->driver;

	/* No more receive interrupts until the poll has emptied the ring. */
	*(volatile uint16_t *)&v->rx.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	net_dev_kick(&v->net, from_user);
}

int virtio_net_probe(struct virtio_dev *d)
{
	int err = virtio_negotiate(d, VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
					  VIRTIO_FEATURE(VIRTIO_NET_F_MAC));
	if (err)
		return err;
	struct vnet *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->vdev = d;
	d->driver = v;
	snprintf(v->name, sizeof(v->name), "virtio-net@0x%lx", d->phys);
	if ((err = virtq_init(d, &v->rx, 0, VNET_RX_BUFS)) ||
	    (err = virtq_init(d, &v->tx, 1, VNET_TX_BUFS))) {
		klog("%s: cannot set up its queues (error %d)", v->name, -err);
		return err;
	}
	v->nrx = v->rx.num;
	v->ntx = v->tx.num;
	if (!vnet_buffers(v->rx_buf, v->nrx) ||
	    !vnet_buffers(v->tx_buf, v->ntx)) {
		klog("%s: out of memory for buffers", v->name);
		return -ENOMEM;
	}
	for (uint16_t i = 0; i < v->nrx; i++) {
		struct virtq_desc *desc = &v->rx.desc[i];
		desc->addr = virt_to_phys(v->rx_buf[i]);
		desc->len = VNET_BUF_SIZE;
		desc->flags = VIRTQ_DESC_F_WRITE;
		virtq_push(&v->rx, i);
	}
	for (uint16_t i = 0; i < v->ntx; i++)
		v->tx_free[v->ntx_free++] = (uint16_t)(v->ntx - 1 - i);
	v->tx.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;

	struct net_dev *nd = &v->net;
	nd->name = v->name;
	nd->mtu = 1500;
	if (d->features & VIRTIO_FEATURE(VIRTIO_NET_F_MAC)) {
		for (int i = 0; i < 6; i++)
			nd->mac[i] = virtio_config_read8(d, (uint32_t)i);
	} else {
		random_bytes(nd->mac, sizeof(nd->mac));
		nd->mac[0] = (uint8_t)((nd->mac[0] & 0xfe) | 0x02);
	}
	nd->xmit = vnet_xmit;
	nd->poll = vnet_poll;
	nd->flush = vnet_flush;
	nd->priv = v;
	d->irq = vnet_irq;
	if ((err = virtio_driver_ok(d)))
		return err;
	virtq_kick(&v->rx);
	return net_dev_register(nd);
}
