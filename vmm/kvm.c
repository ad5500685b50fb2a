/*
 * Everything that talks to /dev/kvm: VM and vCPU creation, the vCPU's
 * initial state for a PVH entry, and the run loop that turns exits into
 * device calls.
 *
 * The VM has KVM's in-kernel interrupt controllers (LAPIC, IOAPIC, PIC) so
 * the guest has one interrupt model on every hypervisor, no PIT (the kernel
 * uses kvmclock), one memory slot and one vCPU.  Every ioctl is checked; a
 * failing one ends the monitor with KILN_EXIT_MONITOR and a message naming
 * it.  This file cannot run on a machine without /dev/kvm, so it is kept to
 * straight-line calls whose logic lives in the unit-tested files.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kiln/abi.h"
#include "vmm.h"

#define KVM_TSS_ADDR	      0xfffbd000UL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define KVM_CPUID_MAX	      4096 /* entries; KVM reports ~60-100 */
#define X86_CR0_PE	      0x1ULL
#define X86_CR0_ET	      0x10ULL
#define X86_RFLAGS_IF	      0x200ULL
#define SEL_CODE	      0x08
#define SEL_DATA	      0x10
#define SEL_TSS		      0x18

/* An ioctl that must succeed: dies naming it otherwise. */
#define KVM_CHECK(fd, req, arg) kvm_check(ioctl((fd), (req), (arg)), #req)

static int kvm_check(int r, const char *what)
{
	if (r < 0)
		vmm_die(KILN_EXIT_MONITOR, "%s: %s", what, strerror(errno));
	return r;
}

static void kvm_set_cpuid(struct kvm_vm *k)
{
	struct kvm_cpuid2 *c = NULL;

	/* KVM fails with E2BIG until the buffer holds the whole table. */
	for (unsigned n = 128; n <= KVM_CPUID_MAX; n *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (c == NULL)
			vmm_die(KILN_EXIT_MONITOR, "out of memory");
		c->nent = n;
		if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG || n == KVM_CPUID_MAX)
			kvm_check(-1, "KVM_GET_SUPPORTED_CPUID");
	}
	/* Room for the one leaf the filter may append. */
	struct kvm_cpuid2 *f =
	    calloc(1, sizeof(*f) + (c->nent + 1) * sizeof(f->entries[0]));
	if (f == NULL)
		vmm_die(KILN_EXIT_MONITOR, "out of memory");
	memcpy(f->entries, c->entries, c->nent * sizeof(c->entries[0]));
	f->nent = (uint32_t)cpuid_filter(f->entries, c->nent, c->nent + 1);
	KVM_CHECK(k->vcpu_fd, KVM_SET_CPUID2, f);
	free(f);
	free(c);
}

void kvm_init(struct kvm_vm *k, const struct mem *m)
{
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = m->size,
	    .userspace_addr = (uintptr_t)m->host,
	};

	k->vm_fd = k->vcpu_fd = -1;
	k->run = NULL;
	k->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->sys_fd < 0)
		vmm_die(KILN_EXIT_MONITOR, "cannot open '/dev/kvm': %s%s",
			strerror(errno),
			errno == EACCES ? " (add yourself to group kvm)" : "");
	int api = KVM_CHECK(k->sys_fd, KVM_GET_API_VERSION, 0UL);
	if (api != KVM_API_VERSION)
		vmm_die(KILN_EXIT_MONITOR, "KVM API version %d, need %d", api,
			KVM_API_VERSION);
	if (KVM_CHECK(k->sys_fd, KVM_CHECK_EXTENSION,
		      (unsigned long)KVM_CAP_IMMEDIATE_EXIT) <= 0)
		vmm_die(KILN_EXIT_MONITOR,
			"KVM lacks KVM_CAP_IMMEDIATE_EXIT (Linux 4.11 or later "
			"needed)");
	k->vm_fd = KVM_CHECK(k->sys_fd, KVM_CREATE_VM, 0UL);
	KVM_CHECK(k->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
	KVM_CHECK(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity);
	KVM_CHECK(k->vm_fd, KVM_CREATE_IRQCHIP, 0UL);
	KVM_CHECK(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
	k->vcpu_fd = KVM_CHECK(k->vm_fd, KVM_CREATE_VCPU, 0UL);

	int size = KVM_CHECK(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	if ((size_t)size < sizeof(struct kvm_run))
		vmm_die(KILN_EXIT_MONITOR, "KVM_GET_VCPU_MMAP_SIZE: %d", size);
	k->run_size = (size_t)size;
	k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      k->vcpu_fd, 0);
	if (k->run == MAP_FAILED)
		vmm_die(KILN_EXIT_MONITOR, "cannot map the vCPU run area: %s",
			strerror(errno));
	kvm_set_cpuid(k);
}

static void kvm_flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = 1;
}

void kvm_boot(struct kvm_vm *k, uint32_t entry)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	/* PVH: 32-bit flat protected mode, paging off (Xen's pvh.pandoc). */
	KVM_CHECK(k->vcpu_fd, KVM_GET_SREGS, &sr);
	kvm_flat_segment(&sr.cs, SEL_CODE, 0xb); /* exec/read, accessed */
	kvm_flat_segment(&sr.ds, SEL_DATA, 0x3); /* read/write, accessed */
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.selector = SEL_TSS;
	sr.tr.limit = 0x67;
	sr.tr.type = 0xb; /* busy 32-bit TSS: Intel VM entry wants a valid TR */
	sr.tr.present = 1;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.type = 0x2;
	sr.ldt.unusable = 1;
	sr.gdt.base = BOOT_GDT_GPA;
	sr.gdt.limit = BOOT_GDT_SIZE - 1;
	sr.cr0 = X86_CR0_PE | X86_CR0_ET;
	sr.cr3 = 0;
	sr.cr4 = 0;
	sr.efer = 0;
	KVM_CHECK(k->vcpu_fd, KVM_SET_SREGS, &sr);

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rbx = VMM_START_INFO_GPA;
	regs.rflags = 0x2;
	KVM_CHECK(k->vcpu_fd, KVM_SET_REGS, &regs);

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f; /* the state fninit leaves */
	fpu.mxcsr = 0x1f80;
	KVM_CHECK(k->vcpu_fd, KVM_SET_FPU, &fpu);
}

int kvm_where(struct kvm_vm *k, char *buf, size_t len)
{
	struct kvm_regs regs;
	struct kvm_mp_state mp;

	if (ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0) {
		snprintf(buf, len, "rip unknown (KVM_GET_REGS: %s)",
			 strerror(errno));
		return 0;
	}
	int halted = ioctl(k->vcpu_fd, KVM_GET_MP_STATE, &mp) == 0 &&
		     mp.mp_state == KVM_MP_STATE_HALTED;
	int dead = halted && !(regs.rflags & X86_RFLAGS_IF);
	snprintf(buf, len, "rip 0x%llx%s", (unsigned long long)regs.rip,
		 dead	  ? ", halted with interrupts disabled"
		 : halted ? ", halted"
			  : "");
	return dead;
}

/*
 * True when the vCPU sits at the reset vector: KVM on AMD reinitializes
 * the VMCB on a shutdown, so the faulting RIP is gone by the time we look.
 */
static int kvm_was_reset(struct kvm_vm *k)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	return ioctl(k->vcpu_fd, KVM_GET_SREGS, &sr) == 0 &&
	       ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) == 0 &&
	       sr.cs.base == 0xffff0000 && regs.rip == 0xfff0;
}

/* Formats up to 15 instruction bytes at the guest's RIP into buf. */
static void kvm_insn_bytes(struct kvm_vm *k, const struct vmm *vm, char *buf,
			   size_t len)
{
	const struct kvm_run *r = k->run;
	const uint8_t *p = NULL;
	unsigned n = 0;

	snprintf(buf, len, "unavailable");
	if (r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    r->emulation_failure.ndata >= 3 &&
	    (r->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		p = r->emulation_failure.insn_bytes;
		n = r->emulation_failure.insn_size;
		if (n > sizeof(r->emulation_failure.insn_bytes))
			n = sizeof(r->emulation_failure.insn_bytes);
	} else {
		struct kvm_regs regs;
		struct kvm_translation t = {0};
		if (ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0)
			return;
		t.linear_address = regs.rip;
		if (ioctl(k->vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			return;
		for (n = 15; n > 0; n--) {
			p = mem_gpa(&vm->mem, t.physical_address, n);
			if (p != NULL)
				break;
		}
	}
	if (n == 0)
		return;
	for (unsigned i = 0, o = 0; i < n && o + 4 < len; i++)
		o += (unsigned)snprintf(buf + o, len - o, "%s%02x",
					i ? " " : "", p[i]);
}

static const char *kvm_suberror_name(uint32_t s)
{
	switch (s) {
	case KVM_INTERNAL_ERROR_EMULATION:
		return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX:
		return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
		return "unexpected exit reason";
	default:
		return "unknown";
	}
}

static void kvm_exit_io(struct kvm_vm *k, struct vmm *vm)
{
	struct kvm_run *r = k->run;
	uint64_t bytes = (uint64_t)r->io.size * r->io.count;

	if (r->io.data_offset > k->run_size ||
	    bytes > k->run_size - r->io.data_offset)
		vmm_die(KILN_EXIT_MONITOR,
			"KVM_EXIT_IO data outside the run area (offset %llu)",
			(unsigned long long)r->io.data_offset);
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	for (uint32_t i = 0; i < r->io.count && !vm->exit_requested; i++)
		io_port(vm, r->io.port, r->io.direction == KVM_EXIT_IO_OUT,
			data + (size_t)i * r->io.size, r->io.size);
}

/* One edge on the graceful-stop input: the IOAPIC latches an edge-
 * triggered input on the rising edge. */
static void kvm_stop_edge(struct kvm_vm *k)
{
	struct kvm_irq_level l = {.irq = KILN_STOP_GSI, .level = 1};

	kvm_check(ioctl(k->vm_fd, KVM_IRQ_LINE, &l), "KVM_IRQ_LINE");
	l.level = 0;
	kvm_check(ioctl(k->vm_fd, KVM_IRQ_LINE, &l), "KVM_IRQ_LINE");
}

int kvm_run_loop(struct kvm_vm *k, struct vmm *vm, volatile sig_atomic_t *stop)
{
	struct kvm_run *r = k->run;
	char where[96];
	char insn[64];

	for (;;) {
		if (*stop)
			return -*stop;
		if (vm->stop_pending) {
			vm->stop_pending = 0;
			kvm_stop_edge(k);
		}
		if (ioctl(k->vcpu_fd, KVM_RUN, 0UL) < 0) {
			if (errno != EINTR && errno != EAGAIN)
				kvm_check(-1, "KVM_RUN");
			r->immediate_exit = 0; /* *stop is checked next */
			continue;
		}
		switch (r->exit_reason) {
		case KVM_EXIT_IO:
			k->exits_io++;
			kvm_exit_io(k, vm);
			break;
		case KVM_EXIT_MMIO:
			k->exits_mmio++;
			io_mmio(vm, r->mmio.phys_addr, r->mmio.is_write,
				r->mmio.data,
				r->mmio.len <= 8 ? r->mmio.len : 8);
			break;
		case KVM_EXIT_INTR:
			k->exits_other++;
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; with one, KVM waits
			 * in KVM_RUN and --timeout is what ends a dead guest.
			 */
			kvm_where(k, where, sizeof(where));
			fprintf(stderr, "kiln-vmm: guest halted (%s)\n", where);
			return KILN_EXIT_GUEST_CRASH;
		case KVM_EXIT_SHUTDOWN:
			kvm_where(k, where, sizeof(where));
			if (kvm_was_reset(k))
				snprintf(where, sizeof(where),
					 "rip lost: KVM reset the vCPU");
			fprintf(stderr,
				"kiln-vmm: guest crashed: triple fault (%s)\n",
				where);
			return KILN_EXIT_GUEST_CRASH;
		case KVM_EXIT_INTERNAL_ERROR:
			kvm_where(k, where, sizeof(where));
			kvm_insn_bytes(k, vm, insn, sizeof(insn));
			fprintf(stderr,
				"kiln-vmm: KVM internal error, suberror %u "
				"(%s) at %s, instruction bytes: %s\n",
				r->internal.suberror,
				kvm_suberror_name(r->internal.suberror), where,
				insn);
			return KILN_EXIT_MONITOR;
		case KVM_EXIT_FAIL_ENTRY:
			kvm_where(k, where, sizeof(where));
			fprintf(
			    stderr,
			    "kiln-vmm: KVM cannot enter the guest, hardware "
			    "reason 0x%llx (%s)\n",
			    (unsigned long long)
				r->fail_entry.hardware_entry_failure_reason,
			    where);
			return KILN_EXIT_MONITOR;
		default:
			kvm_where(k, where, sizeof(where));
			fprintf(
			    stderr,
			    "kiln-vmm: unexpected KVM exit reason %u (%s)\n",
			    r->exit_reason, where);
			return KILN_EXIT_MONITOR;
		}
		if (vm->exit_requested)
			return vm->exit_status;
	}
}

/*
 * The vCPU's binary statistics (KVM_GET_STATS_FD, Linux 5.14): a header,
 * descriptors (each followed by its name), then the values.  Fills want[i]
 * with the counter named names[i], or leaves it at -1.
 */
static void kvm_read_stats(int vcpu_fd, const char *const *names,
			   long long *want, unsigned n)
{
#ifdef KVM_GET_STATS_FD
	struct kvm_stats_header h;
	int fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	char *descs = NULL;

	if (fd < 0)
		return;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.num_desc > 4096 || h.name_size > 4096)
		goto close_fd;
	size_t dsize = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(dsize * h.num_desc);
	if (descs == NULL ||
	    pread(fd, descs, dsize * h.num_desc, h.desc_offset) !=
		(ssize_t)(dsize * h.num_desc))
		goto close_fd;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d =
		    (struct kvm_stats_desc *)(void *)(descs + i * dsize);
		d->name[h.name_size - 1] = '\0';
		for (unsigned j = 0; j < n; j++) {
			uint64_t v;
			if (strcmp(d->name, names[j]) != 0 ||
			    pread(fd, &v, sizeof(v),
				  h.data_offset + d->offset) !=
				(ssize_t)sizeof(v))
				continue;
			want[j] = (long long)v;
		}
	}
close_fd:
	free(descs);
	close(fd);
#else
	(void)vcpu_fd;
	(void)names;
	(void)want;
	(void)n;
#endif
}

void kvm_print_stats(struct kvm_vm *k, FILE *f)
{
	static const char *const names[] = {
	    "exits",	 "io_exits",	     "mmio_exits",    "halt_exits",
	    "irq_exits", "irq_window_exits", "irq_injections"};
	enum { N = sizeof(names) / sizeof(names[0]) };
	long long v[N];

	for (unsigned i = 0; i < N; i++)
		v[i] = -1;
	if (k->vcpu_fd >= 0)
		kvm_read_stats(k->vcpu_fd, names, v, N);
	if (v[0] >= 0)
		fprintf(f,
			"kiln-vmm: stats: %lld VM exits (io %lld, mmio %lld, "
			"hlt %lld, external interrupt %lld, interrupt window "
			"%lld), %lld interrupts injected; ",
			v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
	else
		fputs("kiln-vmm: stats: KVM's exit counters unavailable; ", f);
	fprintf(f, "%lu returns to kiln-vmm (io %lu, mmio %lu, signal %lu)\n",
		k->exits_io + k->exits_mmio + k->exits_other, k->exits_io,
		k->exits_mmio, k->exits_other);
}

void kvm_release(struct kvm_vm *k)
{
	if (k->run != NULL && k->run != MAP_FAILED)
		munmap(k->run, k->run_size);
	if (k->vcpu_fd >= 0)
		close(k->vcpu_fd);
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
}
