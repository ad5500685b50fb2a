/*
 * The console: the program's stdout and stderr and the kernel's messages,
 * one stream in order.  On QEMU it is the 8250 UART at 0x3f8, a byte per
 * port write; on kiln-vmm (kiln.vmm=kiln) a whole buffer goes out in one
 * exit through KILN_PORT_CONSOLE, which is what keeps output cheap when
 * every exit costs microseconds.  machine_exit also lives here because it
 * must flush the console and, on QEMU, report the status on COM2.
 */
#include "arch.h"
#include "mm.h"
#include "proc.h"
#include "x86.h"
#include <kiln/abi.h>

#define COM1	      0x3f8
#define COM2	      0x2f8
#define UART_LSR      5
#define UART_LSR_THRE 0x20

bool kernel_debug;
bool console_kiln_port; /* set from the command line by main.c */
bool console_exit_com2;

/* Physically contiguous bounce buffer for the kiln console port. */
static char kiln_buf[4096] __aligned(4096);
static struct kiln_console_req kiln_req __aligned(64);

static void uart_putc(uint16_t base, char c)
{
	/* Bounded wait for the transmitter; QEMU's UART is always ready. */
	for (int i = 0; i < 100000; i++) {
		if (inb(base + UART_LSR) & UART_LSR_THRE)
			break;
		cpu_relax();
	}
	outb(base, (uint8_t)c);
}

void console_com2_write(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		uart_putc(COM2, buf[i]);
}

void console_write(const char *buf, size_t n)
{
	if (console_kiln_port) {
		while (n) {
			size_t c = MIN(n, sizeof(kiln_buf));
			memcpy(kiln_buf, buf, c);
			kiln_req.gpa = virt_to_phys(kiln_buf);
			kiln_req.len = (uint32_t)c;
			outl(KILN_PORT_CONSOLE,
			     (uint32_t)virt_to_phys(&kiln_req));
			buf += c;
			n -= c;
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		uart_putc(COM1, buf[i]);
}

static void kvprintf(const char *prefix, const char *fmt, va_list ap)
{
	char buf[512];
	size_t p = strlcpy(buf, prefix, sizeof(buf));
	int n = vsnprintf(buf + p, sizeof(buf) - p, fmt, ap);
	size_t len = p + (size_t)n;
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	console_write(buf, len);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf("", fmt, ap);
	va_end(ap);
	return 0;
}

void klog(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	size_t len = MIN((size_t)n, sizeof(buf) - 2);
	buf[len++] = '\n';
	buf[len] = 0;
	kprintf("kiln: %s", buf);
}

noreturn void panic(const char *fmt, ...)
{
	static bool panicking;
	irq_disable();
	if (!panicking) {
		panicking = true;
		va_list ap;
		va_start(ap, fmt);
		kvprintf("\nkiln: kernel panic: ", fmt, ap);
		va_end(ap);
		kprintf("\n");
		backtrace_print((uint64_t)__builtin_frame_address(0));
	}
	machine_exit(KILN_EXIT_PANIC);
}

noreturn void machine_exit(int status)
{
	irq_disable();
	if (console_exit_com2) {
		char rec[32];
		int n =
		    snprintf(rec, sizeof(rec), "kiln-exit %d\n", status & 255);
		console_com2_write(rec, (size_t)n);
	}
	outb(KILN_PORT_EXIT, (uint8_t)status);
	/* No exit device: a triple fault ends the VM (QEMU -no-reboot,
	 * kiln-vmm's shutdown exit). */
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed empty = {0, 0};
	__asm__ volatile("lidt %0; int3" ::"m"(empty));
	for (;;)
		__asm__ volatile("hlt");
}

void console_init(void);
void console_init(void)
{
	if (console_kiln_port)
		return;
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
}
