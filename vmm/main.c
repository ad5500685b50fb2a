/*
 * kiln-vmm's lifecycle: parse arguments, load the kernel and initrd into
 * fresh guest RAM and write the boot information (all checked before KVM is
 * opened, so bad input is reported the same way with or without /dev/kvm),
 * create the VM, run it, and exit with the guest's status.
 *
 * Stopping: SIGINT, SIGTERM and the --timeout timer (SIGALRM) share one
 * handler that records the signal and sets kvm_run.immediate_exit.  The
 * vCPU runs on this same thread, so a signal arriving during KVM_RUN makes
 * it return EINTR, and one arriving just before makes it return at once;
 * either way the run loop sees the recorded signal and stops the VM.
 * Graceful stop (abi.h): once the guest has said it passes SIGTERM on to
 * its program, the first SIGTERM is recorded as a stop request instead,
 * which the run loop raises as an interrupt in the guest; the program
 * then decides when to exit.  A second SIGTERM stops the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "kiln/abi.h"
#include "vmm.h"

static struct vmm main_vm;
static volatile sig_atomic_t main_stop;
static struct kvm_run *volatile main_run;

void vmm_die(int status, const char *fmt, ...)
{
	va_list ap;

	console_flush(&main_vm.con);
	fputs("kiln-vmm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void main_on_signal(int sig)
{
	static volatile sig_atomic_t term_forwarded;
	struct kvm_run *r = main_run;

	if (sig == SIGTERM && main_vm.stop_ready && !term_forwarded) {
		term_forwarded = 1;
		main_vm.stop_pending = 1;
	} else {
		main_stop = sig;
	}
	if (r != NULL)
		r->immediate_exit = 1;
}

/* Opens a file for reading and returns its size; dies on failure. */
static int main_open(const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		vmm_die(KILN_EXIT_MONITOR, "cannot open '%s': %s", path,
			strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		vmm_die(KILN_EXIT_MONITOR, "'%s' is not a regular file", path);
	*size = (uint64_t)st.st_size;
	return fd;
}

static void main_load_kernel(const char *path, struct boot_kernel *k)
{
	char err[256];
	uint64_t size;
	int fd = main_open(path, &size);

	if (size == 0)
		vmm_die(KILN_EXIT_MONITOR,
			"'%s': empty file, not an ELF kernel", path);
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		vmm_die(KILN_EXIT_MONITOR, "cannot map '%s': %s", path,
			strerror(errno));
	if (boot_load_elf(&main_vm.mem, p, size, k, err, sizeof(err)) < 0)
		vmm_die(KILN_EXIT_MONITOR, "'%s': %s", path, err);
	munmap(p, size);
	close(fd);
}

/* Reads the initrd straight into guest RAM at the top. */
static void main_load_initrd(const char *path, const struct boot_kernel *k,
			     uint64_t *gpa, uint64_t *size)
{
	char err[256];
	int fd = main_open(path, size);

	if (boot_place_initrd(main_vm.mem.size, k, *size, gpa, err,
			      sizeof(err)) < 0)
		vmm_die(KILN_EXIT_NOMEM, "%s", err);
	uint8_t *dst = mem_gpa(&main_vm.mem, *gpa, *size);
	for (uint64_t done = 0; done < *size;) {
		ssize_t n = read(fd, dst + done, *size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			vmm_die(KILN_EXIT_MONITOR, "cannot read '%s': %s", path,
				n < 0 ? strerror(errno) : "file shrank");
		done += (uint64_t)n;
	}
	close(fd);
}

static void main_signals(unsigned timeout_s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_on_signal; /* no SA_RESTART: KVM_RUN must stop */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGALRM, &sa, NULL) < 0)
		vmm_die(KILN_EXIT_MONITOR, "sigaction: %s", strerror(errno));
	if (timeout_s > 0) {
		struct itimerval it = {.it_value = {.tv_sec = timeout_s}};
		if (setitimer(ITIMER_REAL, &it, NULL) < 0)
			vmm_die(KILN_EXIT_MONITOR, "setitimer: %s",
				strerror(errno));
	}
}

static void main_trace(const struct vmm *vm, uint64_t exit_ns)
{
	for (unsigned i = 0; i < vm->nmarks; i++) {
		const char *name = kiln_mark_name(vm->marks[i].mark);
		if (name != NULL)
			fprintf(stderr, "kiln-vmm: mark %s %llu ns\n", name,
				(unsigned long long)vm->marks[i].ns);
		else
			fprintf(stderr, "kiln-vmm: mark %u %llu ns\n",
				vm->marks[i].mark,
				(unsigned long long)vm->marks[i].ns);
	}
	fprintf(stderr, "kiln-vmm: mark exit %llu ns\n",
		(unsigned long long)exit_ns);
}

int main(int argc, char **argv)
{
	struct vmm *vm = &main_vm;
	struct vmm_args a;
	struct boot_kernel k;
	struct kvm_vm kvm;
	uint64_t initrd_gpa = 0, initrd_size = 0;
	char err[512];
	char where[96];

	vm->t0_ns = vmm_now_ns();
	console_init(&vm->con, STDOUT_FILENO);
	switch (args_parse(&a, argc, argv, err, sizeof(err))) {
	case 1:
		fputs(args_usage, stdout);
		return 0;
	case -1:
		fprintf(stderr,
			"kiln-vmm: %s\nTry 'kiln-vmm --help' for more "
			"information.\n",
			err);
		return KILN_EXIT_MONITOR;
	}
	if (a.serial != NULL) {
		int fd = open(a.serial,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			vmm_die(KILN_EXIT_MONITOR, "cannot open '%s': %s",
				a.serial, strerror(errno));
		console_init(&vm->con, fd);
	}

	if (mem_init(&vm->mem, a.memory_mib * VMM_MIB, err, sizeof(err)) < 0)
		vmm_die(KILN_EXIT_MONITOR, "%s", err);
	main_load_kernel(a.kernel, &k);
	if (a.initrd != NULL)
		main_load_initrd(a.initrd, &k, &initrd_gpa, &initrd_size);
	const char *cmdline = a.cmdline;
	char *net_cmdline = NULL;
	if (a.net != NULL) {
		/* The tap, too, is checked before KVM; the guest finds the
		 * device on its command line, as on QEMU microvm. */
		if (net_open(&vm->mem, a.net, a.mac, err, sizeof(err)) < 0)
			vmm_die(KILN_EXIT_MONITOR, "%s", err);
		if (asprintf(&net_cmdline, "%s%s%s", a.cmdline,
			     a.cmdline[0] ? " " : "", VMM_NET_CMDLINE) < 0)
			vmm_die(KILN_EXIT_MONITOR, "out of memory");
		cmdline = net_cmdline;
	}
	if (boot_write_info(&vm->mem, cmdline, initrd_gpa, initrd_size, err,
			    sizeof(err)) < 0)
		vmm_die(KILN_EXIT_MONITOR, "%s", err);
	free(net_cmdline);

	kvm_init(&kvm, &vm->mem);
	kvm_boot(&kvm, k.entry);
	if (a.net != NULL && net_start(kvm.vm_fd, err, sizeof(err)) < 0)
		vmm_die(KILN_EXIT_MONITOR, "%s", err);
	main_run = kvm.run;
	main_signals(a.timeout_s);

	int status = kvm_run_loop(&kvm, vm, &main_stop);
	uint64_t exit_ns = vmm_now_ns() - vm->t0_ns;
	console_flush(&vm->con);
	if (status < 0) {
		int dead = kvm_where(&kvm, where, sizeof(where));
		if (-status == SIGALRM && dead) {
			/* cli; hlt: KVM never returns for it, so it is found
			 * here, and it is a crash, not a slow guest. */
			fprintf(stderr,
				"kiln-vmm: guest crashed (%s), found at "
				"--timeout %u s\n",
				where, a.timeout_s);
			status = KILN_EXIT_GUEST_CRASH;
		} else if (-status == SIGALRM) {
			fprintf(stderr,
				"kiln-vmm: guest timed out after %u s, "
				"stopped (%s)\n",
				a.timeout_s, where);
			status = KILN_EXIT_TIMEOUT;
		} else {
			fprintf(stderr, "kiln-vmm: stopped by %s (%s)\n",
				-status == SIGINT ? "SIGINT" : "SIGTERM",
				where);
			status = 128 - status;
		}
	}
	if (a.trace_boot)
		main_trace(vm, exit_ns);
	struct net_stats ns = {0};
	if (a.net != NULL) {
		net_get_stats(&ns); /* the I/O thread is stopped below */
		net_close();
	}
	if (a.stats)
		kvm_print_stats(&kvm, stderr);
	if (a.net != NULL && (a.trace_boot || a.stats))
		fprintf(stderr,
			"kiln-vmm: virtio-net: %lu frames received, %lu sent, "
			"%lu + %lu dropped, %lu interrupts (%s), %lu "
			"notifications by MMIO exit\n",
			ns.rx_packets, ns.tx_packets, ns.rx_dropped,
			ns.tx_dropped, ns.irqs, ns.irq_path, ns.mmio_kicks);
	if (a.net != NULL && a.stats)
		fprintf(stderr,
			"kiln-vmm: virtio-net: %lu interrupts not raised (the "
			"last one not acknowledged yet)\n",
			ns.irqs_coalesced);
	if (vm->bad_requests > 0)
		fprintf(stderr,
			"kiln-vmm: ignored %lu malformed control-port requests "
			"from the guest\n",
			vm->bad_requests);
	if (vm->con.errors > 0)
		fprintf(stderr, "kiln-vmm: %lu console writes failed\n",
			vm->con.errors);
	if (ns.guest_errors > 0)
		fprintf(stderr,
			"kiln-vmm: virtio-net: ignored %lu invalid requests "
			"from the guest (last: %s)\n",
			ns.guest_errors, ns.last_error);
	kvm_release(&kvm);
	mem_release(&vm->mem);
	return status;
}
