/*
 * kiln-vmm's port devices as pure functions, through the same dispatcher
 * the run loop uses (io_port): the 8250 at 0x3f8, the exit port 0xf4, the
 * kiln console and mark ports, unclaimed ports and MMIO.  Console output
 * goes to a pipe the test reads back.  Hostile requests (addresses outside
 * RAM, lengths that wrap or exceed KILN_CONSOLE_MAX, wrong access sizes)
 * must be counted and ignored.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "../../vmm/vmm.h"
#include "kiln/abi.h"
#include "vmm_test.h"

#define RAM VMM_MIB

static struct vmm vm;
static int pipe_rd;

/* Everything written to the console since the last call. */
static const char *drain(void)
{
	static char buf[8192];
	ssize_t n = read(pipe_rd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static uint32_t in(uint16_t port, unsigned size)
{
	uint8_t d[4] = {0x11, 0x22, 0x33, 0x44};
	uint32_t v = 0;
	io_port(&vm, port, 0, d, size);
	memcpy(&v, d, size);
	return v;
}

static void out(uint16_t port, unsigned size, uint32_t v)
{
	uint8_t d[4];
	memcpy(d, &v, 4);
	io_port(&vm, port, 1, d, size);
}

/* Puts a struct kiln_console_req at req_gpa. */
static void put_req(uint64_t req_gpa, uint64_t gpa, uint32_t len)
{
	struct kiln_console_req r = {gpa, len, 0};
	memcpy(mem_gpa(&vm.mem, req_gpa, sizeof(r)), &r, sizeof(r));
}

static void test_serial(void)
{
	out(0x3f8, 1, 'h');
	out(0x3f8, 1, 'i');
	CHECK(strcmp(drain(), "") == 0, "THR bytes buffered until newline");
	out(0x3f8, 1, '\n');
	CHECK(strcmp(drain(), "hi\n") == 0, "newline flushes 'hi\\n'");
	CHECK(in(0x3fd, 1) == 0x60, "LSR reads 0x60 (THR empty, idle)");
	CHECK(in(0x3fd, 2) == 0x0060, "16-bit LSR read: upper byte 0");
	CHECK(in(0x3fa, 1) == 0x01, "IIR: no interrupt pending");
	CHECK(in(0x3f8, 1) == 0x00, "RBR reads 0 (nothing received)");
	CHECK(in(0x3fe, 1) == 0x00, "MSR reads 0");
	out(0x3fb, 1, 0x83);
	CHECK(in(0x3fb, 1) == 0x83, "LCR keeps 0x83 (DLAB set)");
	out(0x3f8, 1, 0x01);
	out(0x3f9, 1, 0x00);
	CHECK(in(0x3f8, 1) == 0x01 && in(0x3f9, 1) == 0x00,
	      "divisor latch reads back with DLAB set");
	out(0x3fb, 1, 0x03);
	console_flush(&vm.con);
	CHECK(strcmp(drain(), "") == 0, "a DLL write is not console output");
	out(0x3f9, 1, 0x05);
	CHECK(in(0x3f9, 1) == 0x05, "IER reads back");
	out(0x3fc, 1, 0xff);
	CHECK(in(0x3fc, 1) == 0x1f, "MCR keeps its 5 defined bits");
	out(0x3ff, 1, 0x5a);
	CHECK(in(0x3ff, 1) == 0x5a, "SCR reads back (8250 probe)");
	out(0x3f8, 1, 'x');
	console_flush(&vm.con);
	CHECK(strcmp(drain(), "x") == 0, "flush at exit writes a partial line");
	for (int i = 0; i < 5000; i++)
		out(0x3f8, 1, 'y');
	CHECK(strlen(drain()) == 4096, "a full 4 KiB buffer is flushed");
	console_flush(&vm.con);
	CHECK(strlen(drain()) == 5000 - 4096, "the rest follows at flush");
}

static void test_other_ports(void)
{
	CHECK(in(0x2fd, 1) == 0xff, "COM2 LSR reads 0xff (no device)");
	CHECK(in(0x40, 1) == 0xff, "PIT reads 0xff");
	CHECK(in(0x64, 1) == 0xff, "PS/2 status reads 0xff");
	CHECK(in(0x1234, 4) == 0xffffffff, "32-bit read of nothing: all ones");
	out(0x2f8, 1, 'z');
	out(0x80, 1, 0x12);
	console_flush(&vm.con);
	CHECK(strcmp(drain(), "") == 0 && !vm.exit_requested,
	      "writes to unclaimed ports ignored");
	CHECK(io_find(0x3f8) && strcmp(io_find(0x3f8)->name, "serial") == 0 &&
		  io_find(0x3ff) == io_find(0x3f8) && io_find(0x400) == NULL &&
		  io_find(0x3f7) == NULL,
	      "serial claims exactly 0x3f8-0x3ff");
	CHECK(io_find(0x510) && strcmp(io_find(0x51b)->name, "kiln") == 0 &&
		  io_find(0x51c) == NULL,
	      "kiln ports claim 0x510-0x51b");

	uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	io_mmio(&vm, 0xfee00000, 0, d, 8);
	CHECK(d[0] == 0 && d[7] == 0, "unclaimed MMIO reads zeros");
	io_mmio(&vm, 0xd0000000, 1, d, 4);
	CHECK(1, "unclaimed MMIO write ignored");
}

static void test_exit(void)
{
	CHECK(in(0xf4, 1) == 0xff && !vm.exit_requested,
	      "reading the exit port does not exit");
	out(0xf4, 1, 42);
	CHECK(vm.exit_requested && vm.exit_status == 42, "OUT 42 -> status 42");
	vm.exit_requested = 0;
	out(0xf4, 4, 0x1ff);
	CHECK(vm.exit_requested && vm.exit_status == 255,
	      "32-bit OUT: the low byte (255) is the status");
	vm.exit_requested = 0;
}

static void test_kiln_console(void)
{
	memcpy(mem_gpa(&vm.mem, 0x2000, 5), "hello", 5);
	put_req(0x1000, 0x2000, 5);
	out(0x3f8, 1, '>');
	out(KILN_PORT_CONSOLE, 4, 0x1000);
	CHECK(strcmp(drain(), ">hello") == 0,
	      "batched console request after buffered UART bytes, in order");
	put_req(0x1000, RAM - 5, 5);
	memcpy(mem_gpa(&vm.mem, RAM - 5, 5), "tail\n", 5);
	out(KILN_PORT_CONSOLE, 4, 0x1000);
	CHECK(strcmp(drain(), "tail\n") == 0,
	      "request ending at the end of RAM");
	CHECK(vm.bad_requests == 0, "no errors so far");

	struct {
		uint32_t req_gpa;
		uint64_t gpa;
		uint32_t len;
		const char *what;
	} bad[] = {
	    {0x1000, RAM - 4, 5, "bytes past the end of RAM"},
	    {0x1000, 0x2000, KILN_CONSOLE_MAX + 1, "len > KILN_CONSOLE_MAX"},
	    {0x1000, UINT64_MAX - 2, 5, "gpa + len wraps"},
	    {0x1000, 0x100000000ULL, 1, "gpa above 4 GiB"},
	    {RAM - 8, 0, 0, "request struct crossing the end of RAM"},
	    {0xffffff00u, 0, 0, "request struct outside RAM"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long before = vm.bad_requests;
		if (bad[i].req_gpa + sizeof(struct kiln_console_req) <= RAM)
			put_req(bad[i].req_gpa, bad[i].gpa, bad[i].len);
		out(KILN_PORT_CONSOLE, 4, bad[i].req_gpa);
		CHECK(vm.bad_requests == before + 1 && strcmp(drain(), "") == 0,
		      "ignored and counted: %s", bad[i].what);
	}
	unsigned long before = vm.bad_requests;
	put_req(0x1000, 0x2000, 5);
	out(KILN_PORT_CONSOLE, 1, 0x00);
	out(KILN_PORT_CONSOLE, 2, 0x1000);
	CHECK(vm.bad_requests == before + 2 && strcmp(drain(), "") == 0,
	      "8- and 16-bit OUTs to the console port ignored and counted");
	CHECK(in(KILN_PORT_CONSOLE, 4) == 0xffffffff,
	      "console port reads ones");
	put_req(0x1000, 0x2000, 0);
	out(KILN_PORT_CONSOLE, 4, 0x1000);
	CHECK(strcmp(drain(), "") == 0 && vm.bad_requests == before + 2,
	      "empty request is fine");
}

static void test_marks(void)
{
	vm.t0_ns = vmm_now_ns();
	out(KILN_PORT_MARK, 4, KILN_MARK_KERNEL_ENTRY);
	out(KILN_PORT_MARK, 4, KILN_MARK_USER_ENTRY);
	CHECK(vm.nmarks == 2 && vm.marks[0].mark == 1 && vm.marks[1].mark == 2,
	      "two marks recorded in order");
	CHECK(vm.marks[0].ns <= vm.marks[1].ns && vm.marks[1].ns < 1000000000,
	      "mark times rise from the monitor's start");
	CHECK(strcmp(kiln_mark_name(1), "kernel_entry") == 0 &&
		  strcmp(kiln_mark_name(2), "user_entry") == 0 &&
		  kiln_mark_name(99) == NULL,
	      "mark names");
	unsigned long before = vm.bad_requests;
	for (int i = 0; i < VMM_MARKS_MAX + 5; i++)
		out(KILN_PORT_MARK, 4, 7);
	CHECK(vm.nmarks == VMM_MARKS_MAX && vm.bad_requests == before + 7,
	      "marks beyond %d dropped and counted", VMM_MARKS_MAX);
}

static void test_stop(void)
{
	unsigned long before = vm.bad_requests;

	CHECK(vm.stop_ready == 0, "graceful stop off until the guest asks");
	out(KILN_PORT_STOP, 4, 7);
	out(KILN_PORT_STOP, 2, KILN_STOP_READY);
	CHECK(vm.stop_ready == 0 && vm.bad_requests == before + 2,
	      "a wrong value or size on the stop port is counted, not taken");
	out(KILN_PORT_STOP, 4, KILN_STOP_READY);
	CHECK(vm.stop_ready == 1 && vm.bad_requests == before + 2,
	      "KILN_STOP_READY turns graceful stop on");
}

int main(void)
{
	int p[2];
	char err[256];

	if (pipe(p) < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(p[1], F_SETPIPE_SZ, 65536) < 0 ||
	    mem_init(&vm.mem, RAM, err, sizeof(err)) < 0) {
		perror("vmm_io setup");
		return 1;
	}
	pipe_rd = p[0];
	console_init(&vm.con, p[1]);
	test_serial();
	test_other_ports();
	test_exit();
	test_kiln_console();
	test_marks();
	test_stop();
	CHECK(vm.con.errors == 0, "no console write failed");
	return vmm_test_done("vmm_io");
}
