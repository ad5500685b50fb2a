/*
 * Hypervisor command lines and exit statuses (see hv.h).
 *
 * QEMU needs two extra channels besides its console, which the caller
 * turns into a pipe and a socket: isa-debug-exit makes QEMU exit with
 * (v << 1) | 1, which loses bit 7 of the status and cannot be told from
 * QEMU's own failure (exit 1) for v = 0, so the kernel (kiln.exit=com2)
 * also writes "kiln-exit N\n" to a second UART at 0x2f8; that record
 * wins.  COM2 is a socket, so it also carries the graceful stop the
 * other way: once the kernel has written "kiln-stop-ready\n" there (the
 * program handles or ignores SIGTERM), a first SIGTERM becomes one byte
 * on COM2's input, which the kernel turns into SIGTERM for the program
 * (include/kiln/abi.h, ABI 4).  kiln-vmm reports the program's status as
 * its own and does its graceful stop itself.
 */
#include "hv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiln/abi.h"

int hv_kvm_usable(char *why, size_t whylen)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, whylen, "cannot open '/dev/kvm': %s%s",
			 strerror(errno),
			 errno == EACCES ? " (add yourself to group kvm)" : "");
		return 0;
	}
	close(fd);
	return 1;
}

int hv_kvm_choose(char *why, size_t whylen)
{
	const char *env = getenv("KILN_KVM");

	if (env != NULL && strcmp(env, "0") == 0) {
		snprintf(why, whylen, "KVM is disabled by KILN_KVM=0");
		return 0;
	}
	if (env != NULL && strcmp(env, "1") == 0)
		return 1;
	return hv_kvm_usable(why, whylen);
}

const char *hv_qemu_binary(void)
{
	const char *qemu = getenv("KILN_QEMU");

	return qemu != NULL && qemu[0] != '\0' ? qemu : "qemu-system-x86_64";
}

/* The kernel command line: console, then what the monitor needs, then
 * the caller's extra words. */
static char *hv_cmdline(const struct hv_boot *b, const char *extra)
{
	char *s = util_asprintf("console=ttyS0%s%s", extra ? " " : "",
				extra ? extra : "");

	for (size_t i = 0; s != NULL && b->kernel_args && i < b->kernel_args->n;
	     i++) {
		char *t = util_asprintf("%s %s", s, b->kernel_args->v[i]);
		free(s);
		s = t;
	}
	return s;
}

static char *hv_initrd(const struct hv_boot *b)
{
	if (b->initrd != NULL)
		return strdup(b->initrd);
	return util_asprintf("/dev/fd/%d", b->initrd_fd);
}

int hv_kiln_argv(const struct hv_boot *b, const char *vmm, struct strv *argv)
{
	int rc = 0;

	rc |= strv_push(argv, vmm);
	rc |= strv_push(argv, "--kernel");
	rc |= strv_push(argv, b->kernel);
	rc |= strv_push(argv, "--initrd");
	rc |= strv_push_owned(argv, hv_initrd(b));
	rc |= strv_push(argv, "--cmdline");
	rc |= strv_push_owned(argv, hv_cmdline(b, NULL));
	rc |= strv_push(argv, "--memory");
	rc |= strv_push_owned(
	    argv, util_asprintf("%llu", (unsigned long long)b->memory_mib));
	if (b->timeout_s > 0) {
		rc |= strv_push(argv, "--timeout");
		rc |= strv_push_owned(argv, util_asprintf("%u", b->timeout_s));
	}
	if (b->tap) {
		rc |= strv_push(argv, "--net");
		rc |= strv_push(argv, b->tap);
		rc |= strv_push(argv, "--mac");
		rc |= strv_push(argv, b->mac);
	}
	return rc ? -1 : 0;
}

int hv_qemu_argv(const struct hv_boot *b, const char *qemu, int con_fd,
		 int com2_fd, struct strv *argv)
{
	int rc = 0;

	rc |= strv_push(argv, qemu);
	rc |= strv_push(argv, "-M");
	rc |= strv_push(argv, "microvm,acpi=off,x-option-roms=off,"
			      "isa-serial=on,rtc=on");
	rc |= strv_push(argv, "-accel");
	rc |= strv_push(argv, b->kvm ? "kvm" : "tcg");
	/* The default CPU model: `-cpu host` fails on some nested hosts. */
	rc |= strv_push(argv, "-m");
	rc |= strv_push_owned(
	    argv, util_asprintf("%llu", (unsigned long long)b->memory_mib));
	rc |= strv_push(argv, "-nodefaults");
	rc |= strv_push(argv, "-no-user-config");
	rc |= strv_push(argv, "-display");
	rc |= strv_push(argv, "none");
	rc |= strv_push(argv, "-no-reboot");
	rc |= strv_push(argv, "-kernel");
	rc |= strv_push(argv, b->kernel);
	rc |= strv_push(argv, "-initrd");
	rc |= strv_push_owned(argv, hv_initrd(b));
	rc |= strv_push(argv, "-append");
	rc |= strv_push_owned(argv, hv_cmdline(b, "kiln.exit=com2"));
	rc |= strv_push(argv, "-device");
	rc |= strv_push(argv, "isa-debug-exit,iobase=0xf4,iosize=0x04");
	if (b->tap) {
		/* Modern (virtio 1.x) devices only, as kiln-vmm offers. */
		rc |= strv_push(argv, "-global");
		rc |= strv_push(argv, "virtio-mmio.force-legacy=false");
		rc |= strv_push(argv, "-netdev");
		rc |= strv_push_owned(
		    argv, util_asprintf("tap,id=n0,ifname=%s,script=no,"
					"downscript=no",
					b->tap));
		rc |= strv_push(argv, "-device");
		rc |= strv_push_owned(
		    argv, util_asprintf("virtio-net-device,netdev=n0,mac=%s",
					b->mac));
	}
	rc |= strv_push(argv, "-chardev");
	rc |= strv_push_owned(
	    argv, util_asprintf("file,id=con,path=/dev/fd/%d", con_fd));
	rc |= strv_push(argv, "-serial");
	rc |= strv_push(argv, "chardev:con");
	/* A socket, not a file: COM2's input carries the stop byte. */
	rc |= strv_push(argv, "-chardev");
	rc |= strv_push_owned(argv,
			      util_asprintf("socket,id=kexit,fd=%d", com2_fd));
	rc |= strv_push(argv, "-device");
	rc |= strv_push(argv, "isa-serial,chardev=kexit,iobase=0x2f8,irq=3");
	return rc ? -1 : 0;
}

int hv_parse_record(const char *rec, size_t n)
{
	static const char tag[] = "kiln-exit ";
	int status = -1;

	for (size_t i = 0; i + sizeof(tag) - 1 < n; i++) {
		size_t j = i + sizeof(tag) - 1;
		int v = 0, digits = 0;

		if (memcmp(rec + i, tag, sizeof(tag) - 1) != 0)
			continue;
		for (; j < n && rec[j] >= '0' && rec[j] <= '9' && digits < 4;
		     j++, digits++)
			v = v * 10 + (rec[j] - '0');
		if (digits > 0 && j < n && rec[j] == '\n' && v <= 255)
			status = v;
	}
	return status;
}

int hv_stop_ready(const char *rec, size_t n)
{
	static const char tag[] = KILN_COM2_STOP_READY;

	for (size_t i = 0; i + sizeof(tag) - 1 <= n; i++)
		if (memcmp(rec + i, tag, sizeof(tag) - 1) == 0)
			return 1;
	return 0;
}

void hv_qemu_keep(struct hv_qemu_out *o, int com2, const char *buf, size_t n)
{
	char *to = com2 ? o->rec : o->err;
	size_t *have = com2 ? &o->nrec : &o->nerr;
	size_t room = (com2 ? sizeof(o->rec) : sizeof(o->err)) - *have;

	if (n > room)
		n = room;
	memcpy(to + *have, buf, n);
	*have += n;
	if (com2 && !o->ready)
		o->ready = hv_stop_ready(o->rec, o->nrec);
}

int hv_qemu_forward_stop(int com2_fd, int ready, int sig, int nth)
{
	const char byte = KILN_COM2_STOP_BYTE;
	ssize_t w;

	if (sig != SIGTERM || nth != 1 || !ready || com2_fd < 0)
		return 0;
	do
		w = write(com2_fd, &byte, 1);
	while (w < 0 && errno == EINTR);
	return w == 1;
}

int hv_qemu_status(int wst, int record, int had_stderr, const char *qemu,
		   char *msg, size_t msglen, int *want_stderr)
{
	msg[0] = '\0';
	*want_stderr = 0;
	if (record >= 0)
		return record; /* the kernel's own report */
	if (WIFSIGNALED(wst)) {
		snprintf(msg, msglen, "%s was killed by signal %d (%s)", qemu,
			 WTERMSIG(wst), strsignal(WTERMSIG(wst)));
		*want_stderr = 1;
		return KILN_EXIT_MONITOR;
	}
	if (WEXITSTATUS(wst) == 0) {
		/* -no-reboot turns a guest reset (a triple fault, say) into
		 * a clean QEMU exit. */
		snprintf(msg, msglen,
			 "the guest reset without reporting an exit status "
			 "(a triple fault or a kernel crash?)");
		*want_stderr = 1;
		return KILN_EXIT_GUEST_CRASH;
	}
	if ((WEXITSTATUS(wst) & 1) && !(WEXITSTATUS(wst) == 1 && had_stderr)) {
		/* isa-debug-exit without a record (an older kernel): 7 bits */
		return WEXITSTATUS(wst) >> 1;
	}
	snprintf(msg, msglen, "%s failed with status %d:", qemu,
		 WEXITSTATUS(wst));
	*want_stderr = 1;
	return KILN_EXIT_MONITOR;
}

int hv_kiln_status(int wst, char *msg, size_t msglen)
{
	msg[0] = '\0';
	if (WIFEXITED(wst))
		return WEXITSTATUS(wst);
	snprintf(msg, msglen, "kiln-vmm was killed by signal %d (%s)",
		 WTERMSIG(wst), strsignal(WTERMSIG(wst)));
	return KILN_EXIT_MONITOR;
}
