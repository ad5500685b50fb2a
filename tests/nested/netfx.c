/*
 * Not a test by itself: a tiny PVH guest that drives kiln-vmm's virtio-net
 * device the way a driver does, for tests/nested/net.sh (real KVM, in the
 * nested harness).  Unlike kiln's kernel it can program its IOAPIC pin
 * either way, so both interrupt paths of the device get exercised:
 *
 *   fxmode=edge   (default) pin 5 edge-triggered: plain irqfd
 *   fxmode=level  level-triggered: irqfd with resampling; one interrupt is
 *                 left unacknowledged at EOI, and another must follow
 *
 * It switches to 64-bit mode (identity map of the low 4 GiB), finds the
 * device from virtio_mmio.device= on its command line, checks the
 * identification registers, pokes a few invalid things (a notification
 * for queue 7, a 16-bit notification, a write to the magic register),
 * sets up both queues, then sends five ARP requests for 10.0.2.1 (the
 * host side of the tap), sleeping in hlt for the device's next interrupt
 * before each look at the receive ring, so interrupts that stop coming
 * hang it (kiln-vmm --timeout then fails the test).  It leaves the 8259
 * PIC and LINT0 as KVM reset them: if the device's line also reached the
 * PIC, vector 5 would arrive (status 95).
 *
 * Exit status (port 0xf4): 0 success; 20-29 device or setup problems (see
 * fx_main); 95 vector 5 arrived; 96 another unexpected vector.  Output:
 * one "netfx: ..." line on the serial port.
 */
#include <stddef.h>
#include <stdint.h>

__asm__(".pushsection .note.Xen, \"a\", @note\n"
	"\t.balign 4\n"
	"\t.long 4\n"
	"\t.long 4\n"
	"\t.long 18\n" /* XEN_ELFNOTE_PHYS32_ENTRY */
	"\t.asciz \"Xen\"\n"
	"\t.balign 4\n"
	"\t.long pvh_start\n"
	"\t.popsection\n"

	".pushsection .data\n"
	"\t.balign 8\n"
	"fx_gdt:\n"
	"\t.quad 0\n"
	"\t.quad 0x00af9a000000ffff\n" /* 0x08: 64-bit code */
	"\t.quad 0x00cf92000000ffff\n" /* 0x10: data */
	"fx_gdt_ptr:\n"
	"\t.word 23\n"
	"\t.quad fx_gdt\n"
	"\t.popsection\n"

	".pushsection .bss\n"
	"\t.balign 4096\n"
	"fx_pml4: .space 4096\n"
	"fx_pdpt: .space 4096\n"
	"fx_pd: .space 16384\n"
	"fx_stack: .space 16384\n"
	"fx_stack_top:\n"
	"\t.popsection\n"

	"\t.text\n"
	"\t.code32\n"
	"\t.globl pvh_start\n"
	"pvh_start:\n"
	"\tmovl %ebx, %esi\n"
	"\tmovl $fx_pdpt + 3, fx_pml4\n"
	"\tmovl $fx_pd + 3, %eax\n"
	"\tmovl $fx_pdpt, %edi\n"
	"\tmovl $4, %ecx\n"
	"1:\tmovl %eax, (%edi)\n"
	"\taddl $4096, %eax\n"
	"\taddl $8, %edi\n"
	"\tloop 1b\n"
	"\tmovl $fx_pd, %edi\n"
	"\tmovl $0x83, %eax\n" /* 2 MiB page, writable, present */
	"\tmovl $2048, %ecx\n"
	"2:\tmovl %eax, (%edi)\n"
	"\taddl $0x200000, %eax\n"
	"\taddl $8, %edi\n"
	"\tloop 2b\n"
	"\tmovl %cr4, %eax\n"
	"\torl $0x20, %eax\n" /* PAE */
	"\tmovl %eax, %cr4\n"
	"\tmovl $fx_pml4, %eax\n"
	"\tmovl %eax, %cr3\n"
	"\tmovl $0xc0000080, %ecx\n"
	"\trdmsr\n"
	"\torl $0x100, %eax\n" /* EFER.LME */
	"\twrmsr\n"
	"\tmovl %cr0, %eax\n"
	"\torl $0x80000001, %eax\n"
	"\tmovl %eax, %cr0\n"
	"\tlgdt fx_gdt_ptr\n"
	"\tljmp $0x08, $fx_long\n"
	"\t.code64\n"
	"fx_long:\n"
	"\tmovw $0x10, %ax\n"
	"\tmovw %ax, %ds\n"
	"\tmovw %ax, %es\n"
	"\tmovw %ax, %ss\n"
	"\tmovq $fx_stack_top, %rsp\n"
	"\tmovl %esi, %edi\n"
	"\tcall fx_main\n"
	"\tmovw $0xf4, %dx\n"
	"\toutb %al, %dx\n"
	"3:\thlt\n"
	"\tjmp 3b\n"

	"\t.globl fx_isr_net\n"
	"fx_isr_net:\n"
	"\tpushq %rax\n"
	"\tpushq %rcx\n"
	"\tpushq %rdx\n"
	"\tpushq %rsi\n"
	"\tpushq %rdi\n"
	"\tpushq %r8\n"
	"\tpushq %r9\n"
	"\tpushq %r10\n"
	"\tpushq %r11\n"
	"\tcall fx_irq\n"
	"\tpopq %r11\n"
	"\tpopq %r10\n"
	"\tpopq %r9\n"
	"\tpopq %r8\n"
	"\tpopq %rdi\n"
	"\tpopq %rsi\n"
	"\tpopq %rdx\n"
	"\tpopq %rcx\n"
	"\tpopq %rax\n"
	"\tiretq\n"
	"\t.globl fx_isr_5\n"
	"fx_isr_5:\n"
	"\tmovb $95, %al\n"
	"\tjmp 4f\n"
	"\t.globl fx_isr_other\n"
	"fx_isr_other:\n"
	"\tmovb $96, %al\n"
	"4:\tmovw $0xf4, %dx\n"
	"\toutb %al, %dx\n"
	"\thlt\n");

void fx_isr_net(void);
void fx_isr_5(void);
void fx_isr_other(void);
int fx_main(uint32_t start_info);
void fx_irq(void);

#define VEC_NET	   0x30
#define LAPIC	   0xfee00000UL
#define IOAPIC	   0xfec00000UL
#define QSIZE	   8
#define BUF_SIZE   2048
#define ARP_ROUNDS 5

static uintptr_t vio;
static int level;
static volatile unsigned irqs, redelivered, skip_ack, waits;

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct ring {
	struct desc d[QSIZE] __attribute__((aligned(16)));
	volatile uint16_t avail[2 + QSIZE + 1] __attribute__((aligned(2)));
	volatile uint32_t used[1 + 2 * QSIZE + 1] __attribute__((aligned(4)));
	uint16_t seen;
};

static struct ring rx, tx;
static uint8_t rxbuf[QSIZE][BUF_SIZE], txbuf[BUF_SIZE];
static uint8_t mac[6];
static struct {
	uint16_t lo, sel;
	uint8_t ist, attr;
	uint16_t mid;
	uint32_t hi, zero;
} idt[256];

#define barrier() __asm__ volatile("" ::: "memory")

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(vio + off);
}

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(vio + off) = v;
}

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void puts_serial(const char *s)
{
	while (*s)
		outb(0x3f8, (uint8_t)*s++);
}

static void put_num(unsigned v)
{
	char b[12];
	int i = 11;
	b[i] = '\0';
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	puts_serial(b + i);
}

static const char *find(const char *s, const char *w)
{
	for (; *s; s++) {
		size_t i = 0;
		while (w[i] && s[i] == w[i])
			i++;
		if (!w[i])
			return s + i;
	}
	return NULL;
}

static void lapic_eoi(void)
{
	*(volatile uint32_t *)(LAPIC + 0xb0) = 0;
}

/* The device's interrupt: acknowledge (except once, in level mode, to see
 * the resampled line come back), then EOI. */
void fx_irq(void)
{
	uint32_t isr = rd(0x060);
	irqs++;
	if (skip_ack == 2 && isr != 0)
		redelivered = 1;
	if (skip_ack == 1 && isr != 0) {
		skip_ack = 2;
		lapic_eoi();
		return;
	}
	wr(0x064, isr);
	lapic_eoi();
}

static void idt_set(int v, void (*fn)(void))
{
	uint64_t a = (uint64_t)(uintptr_t)fn;
	idt[v].lo = (uint16_t)a;
	idt[v].sel = 0x08;
	idt[v].ist = 0;
	idt[v].attr = 0x8e;
	idt[v].mid = (uint16_t)(a >> 16);
	idt[v].hi = (uint32_t)(a >> 32);
	idt[v].zero = 0;
}

static void queue_setup(unsigned q, struct ring *r)
{
	wr(0x030, q);
	wr(0x038, QSIZE);
	wr(0x080, (uint32_t)(uintptr_t)r->d);
	wr(0x084, 0);
	wr(0x090, (uint32_t)(uintptr_t)r->avail);
	wr(0x094, 0);
	wr(0x0a0, (uint32_t)(uintptr_t)r->used);
	wr(0x0a4, 0);
	wr(0x044, 1);
}

static void post(struct ring *r, unsigned q, uint16_t id, void *buf,
		 uint32_t len, int writable)
{
	r->d[id].addr = (uint64_t)(uintptr_t)buf;
	r->d[id].len = len;
	r->d[id].flags = writable ? 2 : 0;
	r->d[id].next = 0;
	uint16_t idx = r->avail[1];
	r->avail[2 + idx % QSIZE] = id;
	barrier();
	r->avail[1] = (uint16_t)(idx + 1);
	barrier();
	wr(0x050, q); /* ioeventfd in KVM */
}

static void send_arp(void)
{
	static const uint8_t hdr[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
	uint8_t *f = txbuf + 12;
	for (int i = 0; i < 12; i++)
		txbuf[i] = 0;
	for (int i = 0; i < 6; i++) {
		f[i] = 0xff;
		f[6 + i] = mac[i];
		f[22 + i] = mac[i];
		f[32 + i] = 0;
	}
	for (int i = 0; i < 10; i++)
		f[12 + i] = hdr[i];
	f[28] = 10, f[29] = 0, f[30] = 2, f[31] = 2;
	f[38] = 10, f[39] = 0, f[40] = 2, f[41] = 1;
	post(&tx, 1, 0, txbuf, 12 + 42, 0);
}

/* New receive buffers: 1 if one of them is the ARP reply. */
static int rx_scan(void)
{
	int got = 0;
	while (rx.seen != (uint16_t)(rx.used[0] >> 16)) {
		unsigned slot = rx.seen % QSIZE;
		uint16_t id = (uint16_t)rx.used[1 + 2 * slot];
		uint32_t len = rx.used[2 + 2 * slot];
		const uint8_t *f = rxbuf[id % QSIZE] + 12;
		if (len >= 12 + 42 && f[12] == 0x08 && f[13] == 0x06 &&
		    f[21] == 2 && f[28] == 10 && f[29] == 0 && f[30] == 2 &&
		    f[31] == 1)
			got = 1;
		rx.seen++;
		post(&rx, 0, id % QSIZE, rxbuf[id % QSIZE], BUF_SIZE, 1);
	}
	return got;
}

int fx_main(uint32_t start_info)
{
	const char *cmd = (const char *)(uintptr_t) *
			  (volatile uint64_t *)(uintptr_t)(start_info + 0x18);
	const char *p = find(cmd, "virtio_mmio.device=512@0x");
	if (p == NULL)
		return 20;
	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) {
		vio = vio * 16 +
		      (uintptr_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
		p++;
	}
	unsigned gsi = 0;
	if (*p++ != ':')
		return 21;
	while (*p >= '0' && *p <= '9')
		gsi = gsi * 10 + (unsigned)(*p++ - '0');
	level = find(cmd, "fxmode=level") != NULL;
	if (rd(0x000) != 0x74726976 || rd(0x004) != 2 || rd(0x008) != 1)
		return 22;

	for (int v = 0; v < 256; v++)
		idt_set(v, v == 5 ? fx_isr_5 : fx_isr_other);
	idt_set(VEC_NET, fx_isr_net);
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr));
	*(volatile uint32_t *)(LAPIC + 0x80) = 0;     /* TPR */
	*(volatile uint32_t *)(LAPIC + 0xf0) = 0x1ff; /* enable, spurious */
	volatile uint32_t *ioapic = (volatile uint32_t *)IOAPIC;
	ioapic[0] = 0x10 + 2 * gsi + 1;
	ioapic[4] = 0; /* destination APIC 0 */
	ioapic[0] = 0x10 + 2 * gsi;
	ioapic[4] = VEC_NET | (level ? 1u << 15 : 0);

	wr(0x070, 0);
	wr(0x070, 1);
	wr(0x070, 3);
	wr(0x014, 1);
	if (!(rd(0x010) & 1)) /* VERSION_1 */
		return 23;
	wr(0x024, 0);
	wr(0x020, 1u << 5); /* MAC */
	wr(0x024, 1);
	wr(0x020, 1);
	wr(0x070, 0xb);
	if (!(rd(0x070) & 8))
		return 24;
	for (int i = 0; i < 6; i++)
		mac[i] = *(volatile uint8_t *)(vio + 0x100 + i);
	queue_setup(0, &rx);
	queue_setup(1, &tx);
	if (rd(0x044) != 1)
		return 25;
	for (uint16_t i = 0; i < QSIZE; i++)
		post(&rx, 0, i, rxbuf[i], BUF_SIZE, 1);
	wr(0x070, 0xf);

	/* Invalid requests the device must shrug off. */
	wr(0x050, 7);
	*(volatile uint16_t *)(vio + 0x050) = 1;
	wr(0x000, 0);
	if (rd(0x070) != 0xf || rd(0x000) != 0x74726976)
		return 26;

	/* Every step waits in hlt for the device's next interrupt before it
	 * looks at the ring: if interrupts stopped coming (a line left high,
	 * an edge lost), the guest would sleep until kiln-vmm's --timeout. */
	unsigned replies = 0;
	skip_ack = level;
	__asm__ volatile("cli");
	for (int round = 0; round < ARP_ROUNDS; round++) {
		unsigned seen = irqs;
		send_arp();
		for (;;) {
			while (irqs == seen) {
				waits++;
				__asm__ volatile("sti; hlt; cli" ::: "memory");
			}
			seen = irqs;
			if (rx_scan())
				break;
		}
		replies++;
	}
	while (level && !redelivered)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	__asm__ volatile("sti");
	puts_serial("netfx: ");
	puts_serial(level ? "level" : "edge");
	puts_serial("-triggered pin, ");
	put_num(replies);
	puts_serial(" ARP replies by interrupt, ");
	put_num(irqs);
	puts_serial(" interrupts, ");
	put_num(waits);
	puts_serial(" waits in hlt");
	puts_serial(level ? ", one redelivered after an EOI without ACK\n"
			  : "\n");
	return 0;
}
