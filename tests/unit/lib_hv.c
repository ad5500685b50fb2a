/*
 * Unit tests of lib/hv.c, the command lines and status rules `kiln run`
 * and kilnd's shim share: kiln-vmm's and QEMU's argument vectors (the
 * rootfs by fd or by path, with and without a tap), the COM2 record
 * parser, QEMU's and kiln-vmm's statuses, and the KILN_KVM override.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv.h"
#include "kiln/abi.h"
#include "lib_test.h"
#include "util.h"

/* The vector joined with spaces (a static buffer). */
static const char *joined(const struct strv *v)
{
	static char buf[4096];

	buf[0] = '\0';
	for (size_t i = 0; i < v->n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 i ? " " : "", v->v[i]);
	return buf;
}

/* A wait status as waitpid would give it. */
static int exited(int code)
{
	return (code & 0xff) << 8;
}

static int killed(int sig)
{
	return sig & 0x7f;
}

int main(void)
{
	struct strv args = {0}, v = {0};
	struct hv_boot b;
	char msg[256], why[256];
	int show;

	strv_push(&args, "kiln.hostname=web-1");
	strv_push(&args, "kiln.env=A=1");
	memset(&b, 0, sizeof(b));
	b.kernel = "/k.elf";
	b.initrd_fd = 5;
	b.memory_mib = 64;
	b.kernel_args = &args;

	CHECK(hv_kiln_argv(&b, "/bin/kiln-vmm", &v) == 0, "kiln-vmm argv");
	CHECK(strcmp(joined(&v),
		     "/bin/kiln-vmm --kernel /k.elf --initrd /dev/fd/5 "
		     "--cmdline console=ttyS0 kiln.hostname=web-1 kiln.env=A=1 "
		     "--memory 64") == 0,
	      "kiln-vmm: rootfs by fd, extra words: %s", joined(&v));
	CHECK(v.v[v.n] == NULL, "the vector ends with NULL");
	strv_release(&v);

	b.initrd = "/state/blobs/sha256/ab";
	b.timeout_s = 7;
	b.tap = "kt0123456789ab";
	b.mac = "52:54:00:01:02:03";
	hv_kiln_argv(&b, "kiln-vmm", &v);
	CHECK(strcmp(joined(&v),
		     "kiln-vmm --kernel /k.elf --initrd /state/blobs/sha256/ab "
		     "--cmdline console=ttyS0 kiln.hostname=web-1 kiln.env=A=1 "
		     "--memory 64 --timeout 7 --net kt0123456789ab --mac "
		     "52:54:00:01:02:03") == 0,
	      "kiln-vmm: rootfs by path, timeout, tap: %s", joined(&v));
	strv_release(&v);

	b.timeout_s = 0;
	b.kvm = 0;
	hv_qemu_argv(&b, "qemu-system-x86_64", 8, 9, &v);
	CHECK(strstr(joined(&v), "-accel tcg -m 64 ") != NULL, "qemu: tcg");
	CHECK(strstr(joined(&v), "-initrd /state/blobs/sha256/ab ") != NULL,
	      "qemu: rootfs by path");
	CHECK(strstr(joined(&v), "-append console=ttyS0 kiln.exit=com2 "
				 "kiln.hostname=web-1 kiln.env=A=1 ") != NULL,
	      "qemu: the exit record on COM2, then the extra words");
	CHECK(strstr(joined(&v),
		     "-netdev tap,id=n0,ifname=kt0123456789ab,script=no,"
		     "downscript=no -device virtio-net-device,netdev=n0,mac="
		     "52:54:00:01:02:03") != NULL,
	      "qemu: the tap");
	CHECK(strstr(joined(&v), "-chardev file,id=con,path=/dev/fd/8 "
				 "-serial chardev:con") != NULL &&
		  strstr(joined(&v), "-chardev socket,id=kexit,fd=9 -device "
				     "isa-serial,chardev=kexit,iobase=0x2f8,"
				     "irq=3") != NULL,
	      "qemu: console on its fd, COM2 both ways on the socket");
	strv_release(&v);
	b.kvm = 1;
	b.tap = NULL;
	hv_qemu_argv(&b, "q", 8, 9, &v);
	CHECK(strstr(joined(&v), "-accel kvm") != NULL &&
		  strstr(joined(&v), "netdev") == NULL,
	      "qemu: kvm, no tap");
	strv_release(&v);

	CHECK(hv_parse_record("kiln-exit 42\n", 13) == 42, "record 42");
	{
		const char *two = "junk kiln-exit 0\nkiln-exit 255\n";
		CHECK(hv_parse_record(two, strlen(two)) == 255,
		      "the last record wins");
	}
	CHECK(hv_parse_record("kiln-exit 256\n", 14) == -1, "256 is no status");
	CHECK(hv_parse_record("kiln-exit 7", 11) == -1,
	      "a record without its newline is not one");
	CHECK(hv_parse_record("", 0) == -1, "no record");

	CHECK(!hv_stop_ready("", 0) && !hv_stop_ready("kiln-exit 0\n", 12),
	      "no stop-ready record");
	{
		const char *r = "kiln-stop-ready\nkiln-exit 42\n";
		CHECK(hv_stop_ready(r, strlen(r)) &&
			  hv_parse_record(r, strlen(r)) == 42,
		      "stop-ready next to the exit record");
		CHECK(!hv_stop_ready(r, 15),
		      "stop-ready without its newline is not one");
	}
	{
		static struct hv_qemu_out o;
		static char big[HV_STDERR_MAX + 100];

		hv_qemu_keep(&o, 1, "kiln-stop", 9);
		CHECK(!o.ready, "half a ready record: not ready yet");
		hv_qemu_keep(&o, 1, "-ready\nkiln-exit 7\n", 19);
		CHECK(o.ready && hv_parse_record(o.rec, o.nrec) == 7,
		      "a ready record split over two reads, then the exit "
		      "record");
		memset(big, 'e', sizeof(big));
		hv_qemu_keep(&o, 0, big, sizeof(big));
		hv_qemu_keep(&o, 0, "x", 1);
		CHECK(o.nerr == HV_STDERR_MAX && o.nrec == 28,
		      "stderr kept up to its limit, the COM2 bytes untouched");
	}
	{
		int sp[2];
		char c = 0;

		CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0,
		      "socketpair");
		CHECK(hv_qemu_forward_stop(sp[0], 1, SIGTERM, 1) == 1 &&
			  read(sp[1], &c, 1) == 1 && c == KILN_COM2_STOP_BYTE,
		      "a first SIGTERM to a ready guest is the stop byte");
		CHECK(hv_qemu_forward_stop(sp[0], 0, SIGTERM, 1) == 0,
		      "not ready: the caller stops QEMU");
		CHECK(hv_qemu_forward_stop(sp[0], 1, SIGTERM, 2) == 0,
		      "a second SIGTERM stops QEMU");
		CHECK(hv_qemu_forward_stop(sp[0], 1, SIGINT, 1) == 0,
		      "SIGINT stops QEMU");
		CHECK(hv_qemu_forward_stop(-1, 1, SIGTERM, 1) == 0,
		      "COM2 closed: the caller stops QEMU");
		close(sp[1]);
		signal(SIGPIPE, SIG_IGN);
		CHECK(hv_qemu_forward_stop(sp[0], 1, SIGTERM, 1) == 0,
		      "QEMU gone: the caller stops it");
		close(sp[0]);
	}

	CHECK(hv_qemu_status(exited(0), 3, 0, "q", msg, sizeof(msg), &show) ==
		      3 &&
		  msg[0] == '\0',
	      "qemu: the record wins, no message");
	CHECK(hv_qemu_status(exited(0), -1, 0, "q", msg, sizeof(msg), &show) ==
		      KILN_EXIT_GUEST_CRASH &&
		  strstr(msg, "reset") != NULL,
	      "qemu: a clean exit without a record is a guest reset: %s", msg);
	CHECK(hv_qemu_status(exited(85), -1, 0, "q", msg, sizeof(msg), &show) ==
		  42,
	      "qemu: isa-debug-exit (42 << 1) | 1 without a record");
	CHECK(hv_qemu_status(exited(1), -1, 1, "q", msg, sizeof(msg), &show) ==
		      KILN_EXIT_MONITOR &&
		  show && strstr(msg, "failed with status 1") != NULL,
	      "qemu: status 1 with stderr is QEMU's own failure: %s", msg);
	CHECK(hv_qemu_status(killed(SIGKILL), -1, 0, "q", msg, sizeof(msg),
			     &show) == KILN_EXIT_MONITOR &&
		  strstr(msg, "killed by signal 9") != NULL,
	      "qemu: killed: %s", msg);
	CHECK(hv_kiln_status(exited(143), msg, sizeof(msg)) == 143 &&
		  msg[0] == '\0',
	      "kiln-vmm: its status is the program's");
	CHECK(hv_kiln_status(killed(SIGSEGV), msg, sizeof(msg)) ==
		      KILN_EXIT_MONITOR &&
		  strstr(msg, "kiln-vmm was killed by signal 11") != NULL,
	      "kiln-vmm killed: %s", msg);

	setenv("KILN_KVM", "0", 1);
	CHECK(hv_kvm_choose(why, sizeof(why)) == 0 &&
		  strstr(why, "KILN_KVM=0") != NULL,
	      "KILN_KVM=0: no KVM, and why");
	setenv("KILN_KVM", "1", 1);
	CHECK(hv_kvm_choose(why, sizeof(why)) == 1, "KILN_KVM=1: KVM");
	unsetenv("KILN_KVM");
	setenv("KILN_QEMU", "/opt/q", 1);
	CHECK(strcmp(hv_qemu_binary(), "/opt/q") == 0, "KILN_QEMU");
	unsetenv("KILN_QEMU");
	CHECK(strcmp(hv_qemu_binary(), "qemu-system-x86_64") == 0,
	      "QEMU from $PATH by default");

	strv_release(&args);
	return lib_test_done("lib_hv");
}
