/*
 * The rest of the kernel, as far as kernel/fs needs it, on the host:
 * allocation from malloc, user-memory access as memcpy with a few address
 * ranges that fault, a captured console, a fixed clock, plus the TAP
 * helpers and the syscall dispatcher of the kfs tests.  This is the only
 * test file that includes libc headers; the kernel code it links with
 * sees only kernel/include.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kfs_test.h"

/* ---- mm.h ---- */

void *kmalloc(size_t n);
void *kzalloc(size_t n);
void *krealloc(void *p, size_t n);
void kfree(void *p);
void *page_alloc(void);
void page_free(void *page);
uint64_t phys_total_bytes(void);
void uvm_file_shrunk(const void *key, uint64_t from);
/* The unit tests map nothing: no mapping to update. */
void uvm_file_shrunk(const void *key, uint64_t from)
{
}
/* The system's generated files (kernel/sys/info.c) need the hardware;
 * the tests add their own. */
int procfs_system_files(void);
int procfs_system_files(void)
{
	return 0;
}
uint64_t phys_free_bytes(void);

void *kmalloc(size_t n)
{
	return malloc(n ? n : 1);
}

void *kzalloc(size_t n)
{
	return calloc(1, n ? n : 1);
}

void *krealloc(void *p, size_t n)
{
	return realloc(p, n ? n : 1);
}

void kfree(void *p)
{
	free(p);
}

void *page_alloc(void)
{
	void *p = aligned_alloc(4096, 4096);
	if (p)
		memset(p, 0, 4096);
	return p;
}

void page_free(void *page)
{
	free(page);
}

uint64_t phys_total_bytes(void)
{
	return 256u << 20;
}

uint64_t phys_free_bytes(void)
{
	return 128u << 20;
}

/* ---- kernel.h ---- */

int kprintf(const char *fmt, ...);
void klog(const char *fmt, ...);
void panic(const char *fmt, ...);
size_t strlcpy(char *dst, const char *src, size_t size);
extern bool kernel_debug;
bool kernel_debug;

static char last_log[1024];
static bool log_quiet;

void kfs_log_quiet(bool quiet)
{
	log_quiet = quiet;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void klog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	if (!log_quiet)
		printf("# klog: %s\n", last_log);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "panic: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

const char *kfs_last_log(void)
{
	return last_log;
}

/* ---- uaccess.h ---- */

int copy_from_user(void *dst, const void *usrc, size_t n);
int copy_to_user(void *udst, const void *src, size_t n);
int clear_user(void *udst, size_t n);
long strncpy_from_user(char *dst, const char *usrc, size_t max);
bool user_range_ok(const void *p, size_t n);

#define USER_TOP 0x800000000000UL

bool user_range_ok(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;
	return a + n >= a && a + n <= USER_TOP;
}

static bool user_bad(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, bad = (uintptr_t)KFS_BAD;

	if (n == 0)
		return !user_range_ok(p, 0);
	if (!user_range_ok(p, n) || a < 0x10000)
		return true;
	return a < bad + (1UL << 40) && a + n > bad;
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
	if (user_bad(usrc, n))
		return -EFAULT;
	memcpy(dst, usrc, n);
	return 0;
}

int copy_to_user(void *udst, const void *src, size_t n)
{
	if (user_bad(udst, n))
		return -EFAULT;
	memcpy(udst, src, n);
	return 0;
}

int clear_user(void *udst, size_t n)
{
	if (user_bad(udst, n))
		return -EFAULT;
	memset(udst, 0, n);
	return 0;
}

long strncpy_from_user(char *dst, const char *usrc, size_t max)
{
	if (user_bad(usrc, 1))
		return -EFAULT;
	for (size_t i = 0; i < max; i++) {
		if (user_bad(usrc + i, 1))
			return -EFAULT;
		dst[i] = usrc[i];
		if (!usrc[i])
			return (long)i;
	}
	return -ENAMETOOLONG;
}

/* ---- proc.h ---- */

const char *proc_exe_path(void);
void console_write(const char *buf, size_t n);
void random_bytes(void *buf, size_t n);
uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);
int proc_nofile(void);

static const char *exe_path = "/bin/prog";
static char *console_buf;
static size_t console_len;

const char *proc_exe_path(void)
{
	return exe_path;
}

/* RLIMIT_NOFILE: the whole table (1024, MAX_FDS), as by default. */
int proc_nofile(void)
{
	return 1024;
}

void kfs_set_exe(const char *path)
{
	exe_path = path;
}

void console_write(const char *buf, size_t n)
{
	char *p = realloc(console_buf, console_len + n + 1);
	if (!p)
		abort();
	console_buf = p;
	memcpy(console_buf + console_len, buf, n);
	console_len += n;
	console_buf[console_len] = '\0';
}

const char *kfs_console(void)
{
	return console_buf ? console_buf : "";
}

void kfs_console_reset(void)
{
	console_len = 0;
	if (console_buf)
		console_buf[0] = '\0';
}

void random_bytes(void *buf, size_t n)
{
	static uint32_t x = 2463534242u;
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

uint64_t clock_monotonic_ns(void)
{
	return 1000;
}

uint64_t clock_realtime_ns(void)
{
	return 1700000000ULL * 1000000000ULL + 123;
}

/* ---- TAP ---- */

static int checks, failures;

void kfs_ok(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void kfs_eq(long long got, long long want, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (got != want)
		failures++;
	printf("%s %d - ", got == want ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (got != want)
		printf(": got %lld, want %lld", got, want);
	printf("\n");
}

int kfs_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, checks - failures,
	       failures);
	free(console_buf);
	console_buf = NULL;
	return failures ? 1 : 0;
}

bool kfs_contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* ---- syscalls ---- */

/* The kernel's struct syscall_desc; the build renames the .syscalls
 * section of the fs objects to kfs_syscalls so the linker provides these
 * bounds. */
struct kfs_desc {
	long nr;
	const char *name;
	long (*fn)(long, long, long, long, long, long);
};
extern const struct kfs_desc __start_kfs_syscalls[], __stop_kfs_syscalls[];

/* The kernel panics on a number registered twice; say so here first. */
static void check_registrations(void)
{
	for (const struct kfs_desc *s = __start_kfs_syscalls;
	     s < __stop_kfs_syscalls; s++)
		for (const struct kfs_desc *t = s + 1; t < __stop_kfs_syscalls;
		     t++)
			if (s->nr == t->nr)
				kfs_ok(false,
				       "syscall %ld registered twice "
				       "('%s', '%s')",
				       s->nr, s->name, t->name);
}

long kfs_sc6(long nr, long a, long b, long c, long d, long e, long f)
{
	static bool checked;

	if (!checked) {
		checked = true;
		check_registrations();
	}
	for (const struct kfs_desc *s = __start_kfs_syscalls;
	     s < __stop_kfs_syscalls; s++)
		if (s->nr == nr)
			return s->fn(a, b, c, d, e, f);
	printf("# syscall %ld not registered\n", nr);
	return -ENOSYS;
}

/* ---- archives ---- */

void kfs_free(void *p)
{
	free(p);
}

void *kfs_read_host_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(fp);
	return buf;
}

void *kfs_cpio_from_script(const char *script, size_t *len)
{
	char dir[] = "/tmp/kfs-cpio-XXXXXX";
	char cmd[8192], arc[64];
	void *data = NULL;

	if (!mkdtemp(dir))
		return NULL;
	snprintf(arc, sizeof(arc), "%s.cpio", dir);
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; %s\n"
		 "find . | LC_ALL=C sort | cpio -o -H newc --quiet > '%s'",
		 dir, script, arc);
	if (system(cmd) == 0)
		data = kfs_read_host_file(arc, len);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, arc);
	if (system(cmd) != 0)
		fprintf(stderr, "kfs: cannot remove '%s'\n", dir);
	return data;
}

/* wait.h's file_poll: the hosted tests have no pipes or sockets, and the
 * files they read as streams (the console) answer at once, so "readable"
 * is the right answer for every file here. */
struct file;
unsigned int file_poll(struct file *f);
unsigned int file_poll(struct file *f)
{
	(void)f;
	return 0x1; /* POLLIN */
}

/* ksignal.h's SIGPIPE: no pipes or sockets here, so never raised; a call
 * would mean vfs_write saw EPIPE from a file that cannot give it. */
void signal_raise_pipe(void);
void signal_raise_pipe(void)
{
	fprintf(stderr, "kfs: SIGPIPE raised by a hosted filesystem test\n");
	abort();
}

/* wait.h's wait_until: one thread and no interrupts here, so a wait that
 * is not over at once never will be; the tests only ask for waits that
 * are (a blocking lock that is free).  A signal is what would end a real
 * one early: -EINTR (4). */
int wait_until(bool (*ready)(void *arg), void *arg, uint64_t deadline_ns);
int wait_until(bool (*ready)(void *arg), void *arg, uint64_t deadline_ns)
{
	(void)deadline_ns;
	return ready(arg) ? 0 : -4;
}
