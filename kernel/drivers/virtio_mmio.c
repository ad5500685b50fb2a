/*
 * The virtio-mmio transport, modern (virtio 1.x) only.
 *
 * Devices come from virtio_mmio.device=SIZE@ADDR:IRQ words on the command
 * line (SIZE may carry a K/M/G suffix, ADDR is 0x-hex or decimal, an
 * optional :ID after IRQ is ignored).  Each window is mapped uncached; a
 * window whose magic is wrong is skipped with a message, an empty slot
 * (device ID 0) silently, a legacy one (register Version 1) with a hint to
 * pass -global virtio-mmio.force-legacy=false to QEMU.
 *
 * Memory ordering: the kernel runs on x86, where stores are seen in order
 * and loads are not reordered with loads, so publishing a descriptor before
 * the ring index needs only a compiler barrier; the one StoreLoad case,
 * reading the device's "no notify" flag after publishing the index, takes
 * a full fence (virtio 1.x section 2.7.13).
 */
#include "virtio.h"
#include "boot.h"
#include "ioapic.h"
#include "mm.h"
#include "x86.h"

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */

/* Registers (virtio 1.x section 4.2.2). */
#define REG_MAGIC	      0x000
#define REG_VERSION	      0x004
#define REG_DEVICE_ID	      0x008
#define REG_DEVICE_FEATURES   0x010
#define REG_DEVICE_FEAT_SEL   0x014
#define REG_DRIVER_FEATURES   0x020
#define REG_DRIVER_FEAT_SEL   0x024
#define REG_QUEUE_SEL	      0x030
#define REG_QUEUE_NUM_MAX     0x034
#define REG_QUEUE_NUM	      0x038
#define REG_QUEUE_READY	      0x044
#define REG_QUEUE_NOTIFY      0x050
#define REG_INTERRUPT_STATUS  0x060
#define REG_INTERRUPT_ACK     0x064
#define REG_STATUS	      0x070
#define REG_QUEUE_DESC_LOW    0x080
#define REG_QUEUE_DESC_HIGH   0x084
#define REG_QUEUE_DRIVER_LOW  0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW  0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_CONFIG	      0x100

/* Device status bits. */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER	   2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED	   128

#define VIRTIO_MMIO_MAX_DEVICES 16

static struct virtio_dev devices[VIRTIO_MMIO_MAX_DEVICES];
static int ndevices;

#define barrier()    __asm__ volatile("" ::: "memory")
#define full_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static uint32_t reg_read(struct virtio_dev *d, uint32_t off)
{
	return *(volatile uint32_t *)(d->regs + off);
}

static void reg_write(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(d->regs + off) = v;
}

uint8_t virtio_config_read8(struct virtio_dev *d, uint32_t off)
{
	return d->regs[REG_CONFIG + off];
}

/* One interrupt handler for every virtio device: acknowledge what each
 * device on this vector reports and let its driver note the work. */
static void virtio_mmio_irq(struct trapframe *tf)
{
	bool from_user = (tf->cs & 3) == 3;

	for (int i = 0; i < ndevices; i++) {
		struct virtio_dev *d = &devices[i];
		if (!d->irq)
			continue;
		uint32_t status = reg_read(d, REG_INTERRUPT_STATUS);
		if (!status)
			continue;
		reg_write(d, REG_INTERRUPT_ACK, status);
		d->irq(d, status, from_user);
	}
}

int virtio_negotiate(struct virtio_dev *d, uint64_t wanted)
{
	reg_write(d, REG_STATUS, 0); /* reset */
	for (int spins = 0; reg_read(d, REG_STATUS) != 0; spins++) {
		if (spins == 1000000) {
			klog("virtio device at 0x%lx does not reset", d->phys);
			return -ENODEV;
		}
		cpu_relax();
	}
	reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE);
	reg_write(d, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);

	uint64_t offered = 0;
	for (uint32_t sel = 0; sel < 2; sel++) {
		reg_write(d, REG_DEVICE_FEAT_SEL, sel);
		offered |= (uint64_t)reg_read(d, REG_DEVICE_FEATURES)
			   << (32 * sel);
	}
	if (!(offered & VIRTIO_FEATURE(VIRTIO_F_VERSION_1))) {
		klog("virtio device at 0x%lx does not offer VIRTIO_F_VERSION_1 "
		     "(legacy only); it is not used",
		     d->phys);
		goto failed;
	}
	d->features = offered & wanted;
	for (uint32_t sel = 0; sel < 2; sel++) {
		reg_write(d, REG_DRIVER_FEAT_SEL, sel);
		reg_write(d, REG_DRIVER_FEATURES,
			  (uint32_t)(d->features >> (32 * sel)));
	}
	reg_write(d, REG_STATUS,
		  STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
	if (!(reg_read(d, REG_STATUS) & STATUS_FEATURES_OK)) {
		klog("virtio device at 0x%lx refused features 0x%lx", d->phys,
		     d->features);
		goto failed;
	}
	return 0;

failed:
	reg_write(d, REG_STATUS, STATUS_FAILED);
	return -ENODEV;
}

static void reg_write64(struct virtio_dev *d, uint32_t low, uint64_t v)
{
	reg_write(d, low, (uint32_t)v);
	reg_write(d, low + 4, (uint32_t)(v >> 32));
}

int virtq_init(struct virtio_dev *d, struct virtq *q, uint16_t index,
	       uint16_t max)
{
	reg_write(d, REG_QUEUE_SEL, index);
	if (reg_read(d, REG_QUEUE_READY))
		return -EBUSY;
	uint32_t num = reg_read(d, REG_QUEUE_NUM_MAX);
	if (num == 0)
		return -ENOENT;
	num = MIN(num, MIN((uint32_t)max, VIRTQ_MAX_SIZE));
	while (num & (num - 1)) /* a power of two */
		num &= num - 1;

	/* One zeroed page each: 16 * 256 bytes of descriptors, 6 + 2 * 256
	 * of available ring and 6 + 8 * 256 of used ring all fit. */
	q->desc = page_alloc();
	q->avail = page_alloc();
	q->used = page_alloc();
	if (!q->desc || !q->avail || !q->used) {
		page_free(q->desc);
		page_free(q->avail);
		page_free(q->used);
		return -ENOMEM;
	}
	q->dev = d;
	q->index = index;
	q->num = (uint16_t)num;
	q->avail_idx = 0;
	q->last_used = 0;

	reg_write(d, REG_QUEUE_NUM, num);
	reg_write64(d, REG_QUEUE_DESC_LOW, virt_to_phys(q->desc));
	reg_write64(d, REG_QUEUE_DRIVER_LOW, virt_to_phys(q->avail));
	reg_write64(d, REG_QUEUE_DEVICE_LOW, virt_to_phys(q->used));
	reg_write(d, REG_QUEUE_READY, 1);
	return 0;
}

int virtio_driver_ok(struct virtio_dev *d)
{
	int vector = ioapic_route(d->irq_line, virtio_mmio_irq);
	if (vector < 0) {
		klog("virtio device at 0x%lx: cannot route interrupt %u "
		     "(error %d)",
		     d->phys, d->irq_line, -vector);
		reg_write(d, REG_STATUS, STATUS_FAILED);
		return vector;
	}
	reg_write(d, REG_STATUS,
		  STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK |
		      STATUS_DRIVER_OK);
	return 0;
}

void virtq_push(struct virtq *q, uint16_t id)
{
	q->avail->ring[q->avail_idx & (q->num - 1)] = id;
	barrier(); /* the entry before the index that publishes it */
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
}

void virtq_kick(struct virtq *q)
{
	full_fence(); /* our avail->idx store before the flags load */
	if (!(*(volatile uint16_t *)&q->used->flags & VIRTQ_USED_F_NO_NOTIFY))
		reg_write(q->dev, REG_QUEUE_NOTIFY, q->index);
}

bool virtq_pop(struct virtq *q, uint32_t *id, uint32_t *len)
{
	uint16_t used_idx = *(volatile uint16_t *)&q->used->idx;
	if (used_idx == q->last_used)
		return false;
	barrier(); /* the index before the entry it covers */
	struct virtq_used_elem *e = &q->used->ring[q->last_used & (q->num - 1)];
	*id = e->id;
	*len = e->len;
	q->last_used++;
	return true;
}

/* Linux's memparse: a number with an optional K, M or G suffix. */
static bool parse_number(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0, base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	const char *start = s;
	for (;; s++) {
		unsigned digit;
		if (*s >= '0' && *s <= '9')
			digit = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			digit = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			digit = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - digit) / base)
			return false;
		v = v * base + digit;
	}
	if (s == start)
		return false;
	*sp = s;
	*out = v;
	return true;
}

static bool parse_size(const char **sp, uint64_t *out)
{
	if (!parse_number(sp, out))
		return false;
	int shift = 0;
	switch (**sp) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	}
	if (shift) {
		(*sp)++;
		if (*out > (UINT64_MAX >> shift))
			return false;
		*out <<= shift;
	}
	return true;
}

/* SIZE@ADDR:IRQ[:ID]; false if the word is malformed. */
static bool parse_device(const char *s, uint64_t *size, uint64_t *addr,
			 uint64_t *irq)
{
	if (!parse_size(&s, size) || *s++ != '@' || !parse_number(&s, addr) ||
	    *s++ != ':' || !parse_number(&s, irq))
		return false;
	return (*s == 0 || *s == ':') && *size >= REG_CONFIG && *irq < 256 &&
	       *addr + *size > *addr;
}

static int virtio_mmio_attach(const char *word)
{
	uint64_t size, addr, irq;

	if (!parse_device(word, &size, &addr, &irq)) {
		klog("ignoring malformed 'virtio_mmio.device=%s' (want "
		     "SIZE@ADDR:IRQ)",
		     word);
		return 0;
	}
	if (ndevices == VIRTIO_MMIO_MAX_DEVICES) {
		klog("ignoring 'virtio_mmio.device=%s': more than %d devices",
		     word, VIRTIO_MMIO_MAX_DEVICES);
		return 0;
	}
	struct virtio_dev *d = &devices[ndevices];
	memset(d, 0, sizeof(*d));
	d->regs = vm_map_mmio(addr, size);
	d->phys = addr;
	d->size = (uint32_t)size;
	d->irq_line = (unsigned)irq;
	if (reg_read(d, REG_MAGIC) != VIRTIO_MMIO_MAGIC) {
		klog("no virtio device at 0x%lx (bad magic 0x%x)", addr,
		     reg_read(d, REG_MAGIC));
		return 0;
	}
	d->device_id = reg_read(d, REG_DEVICE_ID);
	if (d->device_id == 0)
		return 0; /* an empty slot */
	uint32_t version = reg_read(d, REG_VERSION);
	if (version != 2) {
		klog("virtio device at 0x%lx is legacy (version %u); only "
		     "virtio 1.x is supported (QEMU: -global "
		     "virtio-mmio.force-legacy=false)",
		     addr, version);
		return 0;
	}
	ndevices++;
	switch (d->device_id) {
	case VIRTIO_ID_NET:
		return virtio_net_probe(d) == 0;
	default:
		kdebug("virtio device at 0x%lx: type %u has no driver", addr,
		       d->device_id);
		return 0;
	}
}

int virtio_mmio_probe(void)
{
	static const char key[] = "virtio_mmio.device=";
	char word[128];
	int taken = 0;

	for (const char *p = boot_info.cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		size_t n = (size_t)(p - w);
		if (n <= sizeof(key) - 1 || strncmp(w, key, sizeof(key) - 1))
			continue;
		n -= sizeof(key) - 1;
		if (n >= sizeof(word))
			n = sizeof(word) - 1;
		memcpy(word, w + sizeof(key) - 1, n);
		word[n] = 0;
		taken += virtio_mmio_attach(word);
	}
	return taken;
}
