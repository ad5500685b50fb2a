/*
 * kiln-vmm: kiln's own KVM monitor, one process per guest.
 *
 * The monitor is split so that everything except the KVM calls is a pure
 * function that the hosted unit tests (tests/unit/vmm_*.c) can drive:
 *   args.c     command line -> struct vmm_args
 *   mem.c      guest RAM and the one checked guest-address accessor
 *   boot.c     ELF64 + PVH note loading, hvm_start_info, initrd placement
 *   cpuid.c    the CPUID filter (what a nested guest here cannot execute)
 *   console.c  buffered console output to stdout or --serial FILE
 *   io.c       port and MMIO dispatch to devices (dev_*.c register ports
 *              or MMIO windows)
 *   virtio.c   virtio-mmio registers and split virtqueues (virtio.h)
 *   tap.c      opening the host's tap device
 *   dev_virtio_net.c  the virtio-net device and its I/O thread
 *   kvm.c      VM/vCPU creation, initial register state, the run loop
 *   main.c     lifecycle, signals, timeout, exit status
 * Only kvm.c and main.c open /dev/kvm or exit the process;
 * dev_virtio_net.c binds its eventfds to the VM (ioeventfd, irqfd) and
 * wires its interrupt line (GSI routing).
 */
#ifndef KILN_VMM_H
#define KILN_VMM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tap.h"
#include <time.h>

struct kvm_cpuid_entry2;
struct kvm_run;

/* Limits and fixed guest-physical addresses of the boot protocol. */
#define VMM_MIB		       (1024ULL * 1024)
#define VMM_MEMORY_DEFAULT_MIB 64
#define VMM_MEMORY_MIN_MIB     2
#define VMM_MEMORY_MAX_MIB     3072 /* stays below the 32-bit MMIO hole */
#define VMM_START_INFO_GPA     0x6000ULL
#define VMM_CMDLINE_GPA	       0x20000ULL
#define VMM_CMDLINE_MAX	       4096	  /* bytes including the NUL */
#define VMM_LOW_RAM_END	       0x9fc00ULL /* end of RAM below 1 MiB (EBDA follows) */
#define VMM_HIGH_RAM_START     0x100000ULL
#define VMM_PAGE	       4096ULL
#define VMM_CMDLINE_SUFFIX     "kiln.vmm=kiln"
#define VMM_MARKS_MAX	       64
#define VMM_CONSOLE_BUF	       4096

/* ---- args.c ---- */

struct vmm_args {
	const char *kernel;  /* path, required */
	const char *initrd;  /* path or NULL */
	const char *cmdline; /* never NULL ("" when not given) */
	const char *serial;  /* path or NULL for stdout */
	uint64_t memory_mib;
	unsigned timeout_s; /* 0: none */
	int trace_boot;
	int stats;	 /* --stats: exit counters at exit */
	const char *net; /* tap device name or NULL: no network */
	uint8_t mac[6];	 /* --mac, or derived from the tap name */
};

/* Usage text printed by --help. */
extern const char args_usage[];

/*
 * Parses argv into *a (which keeps pointers into argv).  Returns 0 on
 * success, 1 when --help was asked for, -1 with a message in err.
 */
int args_parse(struct vmm_args *a, int argc, char **argv, char *err,
	       size_t errlen);

/* ---- mem.c ---- */

struct mem {
	uint8_t *host; /* guest-physical 0 */
	uint64_t size; /* bytes */
};

/* Maps size bytes of lazily allocated, zero guest RAM.  -1 and err on
 * failure.  mem_release() unmaps it. */
int mem_init(struct mem *m, uint64_t size, char *err, size_t errlen);
void mem_release(struct mem *m);

/*
 * THE checked accessor: a host pointer to len bytes of guest RAM at gpa, or
 * NULL when any byte of [gpa, gpa + len) lies outside RAM or the sum wraps.
 * Every guest-supplied address goes through here.
 */
void *mem_gpa(const struct mem *m, uint64_t gpa, uint64_t len);

/* ---- console.c ---- */

struct console {
	int fd;
	size_t len;
	unsigned long errors; /* failed writes (output lost) */
	char buf[VMM_CONSOLE_BUF];
};

void console_init(struct console *c, int fd);
/* Buffers bytes; flushes on newline or when the buffer is full. */
void console_putc(struct console *c, char ch);
/* Flushes what is buffered, then writes p in one write(2) call. */
void console_write(struct console *c, const void *p, size_t n);
void console_flush(struct console *c);

/* ---- the VM as devices see it ---- */

struct vmm_mark {
	uint32_t mark; /* enum kiln_mark */
	uint64_t ns;   /* since the monitor started */
};

struct serial_regs {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
};

struct vmm {
	struct mem mem;
	struct console con;
	uint64_t t0_ns; /* CLOCK_MONOTONIC at process start */
	int exit_requested;
	int exit_status;
	unsigned nmarks;
	struct vmm_mark marks[VMM_MARKS_MAX];
	unsigned long bad_requests; /* guest control-port requests ignored */
	struct serial_regs serial;
	/* Graceful stop (abi.h): the guest said it passes SIGTERM on, and
	 * a SIGTERM is waiting to be raised on KILN_STOP_GSI. */
	volatile sig_atomic_t stop_ready;
	volatile sig_atomic_t stop_pending;
};

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t vmm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- boot.c ---- */

struct boot_kernel {
	uint32_t entry; /* PVH 32-bit physical entry point */
	uint64_t start; /* lowest guest-physical byte of any PT_LOAD */
	uint64_t end;	/* one past the highest */
};

/*
 * Copies the PT_LOAD segments of the ELF64 image (elf, len) into guest RAM
 * at their p_paddr and finds the PVH entry note.  Nothing is written to
 * guest RAM unless the whole image checks out.  -1 and err on failure.
 */
int boot_load_elf(struct mem *m, const void *elf, size_t len,
		  struct boot_kernel *k, char *err, size_t errlen);

/*
 * Where an initrd of size bytes goes: the top of RAM, page aligned down,
 * above the kernel.  Returns -1 with err ("memory too small ...") when it
 * does not fit.
 */
int boot_place_initrd(uint64_t memsize, const struct boot_kernel *k,
		      uint64_t size, uint64_t *gpa, char *err, size_t errlen);

/*
 * Writes hvm_start_info at VMM_START_INFO_GPA with the memory map and
 * module list after it, the boot GDT, and cmdline + " kiln.vmm=kiln" at
 * VMM_CMDLINE_GPA.  initrd_size 0 means no module.  -1 and err on failure.
 */
int boot_write_info(struct mem *m, const char *cmdline, uint64_t initrd_gpa,
		    uint64_t initrd_size, char *err, size_t errlen);

/* Guest-physical address and byte size of the boot GDT (null, code 0x8,
 * data 0x10, TSS 0x18) that boot_write_info() writes. */
#define BOOT_GDT_GPA  0x6100ULL
#define BOOT_GDT_SIZE 32

/* ---- cpuid.c ---- */

/*
 * Filters a KVM_GET_SUPPORTED_CPUID table in place for this machine's
 * nested guests (see docs/vmm.md).  May append the hypervisor leaf
 * 0x40000000 if missing and n < cap.  Returns the new entry count.
 */
size_t cpuid_filter(struct kvm_cpuid_entry2 *e, size_t n, size_t cap);

/* ---- io.c and dev_*.c ---- */

/*
 * A device claims ports [base, base + len).  io() is called for one access
 * of size 1, 2 or 4 bytes; data holds the little-endian value for an OUT and
 * receives it for an IN (io_port() pre-fills it with 0xff).
 */
struct io_device {
	const char *name;
	uint16_t base, len;
	void (*io)(struct vmm *vm, uint16_t port, int out, uint8_t *data,
		   unsigned size);
};

/*
 * Registers a device by placing a pointer to it in the vmm_devices section;
 * io.c walks that section.  A new device is one file plus one line in
 * vmm/vmm.mk.
 */
#define IO_DEVICE(d)                                                           \
	static const struct io_device *const d##_ptr                           \
	    __attribute__((section("vmm_devices"), used)) = &(d)

/* One port access from the guest (count repetitions for string I/O). */
void io_port(struct vmm *vm, uint16_t port, int out, uint8_t *data,
	     unsigned size);
/* One MMIO access: to the device whose window holds gpa; elsewhere reads
 * see zeros and writes are ignored. */
void io_mmio(struct vmm *vm, uint64_t gpa, int write, uint8_t *data,
	     unsigned len);
/* Looks up the device for a port; NULL when none claims it. */
const struct io_device *io_find(uint16_t port);

/*
 * A device that claims guest-physical [base, base + len) (KVM_EXIT_MMIO).
 * mmio() gets the offset in the window and one access of len <= 8 bytes
 * (it may run past the window's end: the device checks); reads are
 * pre-filled with zeros.
 */
struct mmio_device {
	const char *name;
	uint64_t base, len;
	void (*mmio)(struct vmm *vm, uint64_t off, int write, uint8_t *data,
		     unsigned len);
};

#define MMIO_DEVICE(d)                                                         \
	static const struct mmio_device *const d##_ptr                         \
	    __attribute__((section("vmm_mmio_devices"), used)) = &(d)

/* Looks up the device for an address; NULL when none claims it. */
const struct mmio_device *io_find_mmio(uint64_t gpa);

/* ---- the tap (lib/tap.c) ---- */

/* tap_open, tap_offload, tap_mac_parse: lib/tap.h */

/* ---- dev_virtio_net.c ---- */

/*
 * The network device's place in the guest: a virtio-mmio window as QEMU
 * microvm lays them out (512 bytes from 0xfeb00000, below the IOAPIC at
 * 0xfec00000, far above RAM's 3 GiB limit) and IOAPIC pin 5, announced on
 * the kernel command line the way microvm does it.
 */
#define VMM_NET_MMIO_GPA 0xfeb00000ULL
#define VMM_NET_GSI	 5
#define VMM_NET_CMDLINE	 "virtio_mmio.device=512@0xfeb00000:5"

struct net_stats {
	unsigned long rx_packets, tx_packets;
	unsigned long rx_dropped;     /* larger than the guest's buffer */
	unsigned long tx_dropped;     /* refused by the tap, or malformed */
	unsigned long guest_errors;   /* invalid requests ignored */
	unsigned long irqs;	      /* interrupts raised */
	unsigned long irqs_coalesced; /* not raised: the last one was not
					 acknowledged yet */
	const char *irq_path;	      /* "irqfd", "irqfd+resample", ... */
	unsigned long mmio_kicks;     /* QueueNotify writes that reached us as
					 MMIO exits (ioeventfd missed them) */
	const char *last_error;	      /* the latest of them (static string) */
};

/*
 * Opens tap device name (tap_open()) and attaches the device to it with
 * guest RAM m and MAC mac.  Before KVM exists; -1 and err on failure.
 */
int net_open(const struct mem *m, const char *tap, const uint8_t mac[6],
	     char *err, size_t errlen);
/*
 * The same on any packet fd (the tests use a datagram socket): fd is
 * owned from here on; offload says whether TUNSETOFFLOAD works on it.
 */
int net_attach(const struct mem *m, int fd, const uint8_t mac[6], int offload,
	       char *err, size_t errlen);
/*
 * Binds the device to the VM vm_fd (VMM_NET_GSI routed to the IOAPIC
 * only, an ioeventfd per queue on QueueNotify, an irqfd on the GSI, each
 * with a fallback) and starts the I/O thread.  vm_fd -1: no KVM (tests),
 * interrupts are only counted.  -1 and err when the thread cannot start.
 */
int net_start(int vm_fd, char *err, size_t errlen);
/* Without the thread: one pass over both queues and the tap, as the
 * thread does per wakeup (tests and the fuzz harness). */
void net_poll(void);
/* Stops the thread (if any) and releases everything. */
void net_close(void);
void net_get_stats(struct net_stats *s);
/* Interrupts raised so far (every mode). */
unsigned long net_irq_count(void);

/* "kernel_entry", "user_entry" or NULL for an unknown mark. */
const char *kiln_mark_name(uint32_t mark);

/* ---- kvm.c (needs /dev/kvm; not unit tested) ---- */

struct kvm_vm {
	int sys_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	/* Returns from KVM_RUN to kiln-vmm, by reason (--stats). */
	unsigned long exits_io, exits_mmio, exits_other;
};

/*
 * Opens /dev/kvm and creates the VM (in-kernel irqchip, RAM m as slot 0)
 * and its one vCPU with the filtered CPUID.  Dies with KILN_EXIT_MONITOR
 * on any failure.
 */
void kvm_init(struct kvm_vm *k, const struct mem *m);
/* Puts the vCPU in 32-bit flat protected mode at the PVH entry, EBX =
 * start info.  Dies on failure. */
void kvm_boot(struct kvm_vm *k, uint32_t entry);
/*
 * Runs the guest until it writes the exit port (returns the byte), crashes
 * (prints why, returns a KILN_EXIT_* status) or *stop becomes non-zero
 * (returns -*stop, the signal number).
 */
/* Runs the vCPU until the guest exits (its status), a fatal exit (a
 * KILN_EXIT_* status), or *stop is set (-*stop, the signal).  Before each
 * entry, a pending graceful stop (vm->stop_pending) is raised as one edge
 * on IOAPIC input KILN_STOP_GSI. */
int kvm_run_loop(struct kvm_vm *k, struct vmm *vm, volatile sig_atomic_t *stop);
/*
 * Describes where the vCPU is in buf ("rip 0x..., halted").  Returns 1
 * when it is halted with interrupts disabled: with KVM's in-kernel LAPIC
 * such a guest waits inside KVM_RUN forever instead of exiting.
 */
int kvm_where(struct kvm_vm *k, char *buf, size_t len);
void kvm_release(struct kvm_vm *k);
/*
 * --stats: one line on f with the vCPU's VM exits as KVM counts them (all
 * of them, including those the host kernel handles itself: ioeventfd,
 * HLT, interrupts; read with KVM_GET_STATS_FD, left out if the kernel
 * cannot) and the returns to kiln-vmm by reason.
 */
void kvm_print_stats(struct kvm_vm *k, FILE *f);

/* ---- main.c ---- */

/* Flushes the console, prints "kiln-vmm: MESSAGE" to stderr, exits. */
void vmm_die(int status, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

#endif /* KILN_VMM_H */
