/*
 * Boot: from the PVH start info to the program's first instruction.
 *
 * kmain copies what it needs out of the loader's structures (memory map,
 * command line, where the rootfs is), brings up the CPU tables, memory,
 * clock and console, unpacks the rootfs, reads /.kiln/config and enters
 * the program.  The kernel prints nothing on a normal boot: on kiln-vmm
 * every console exit costs microseconds, and the program's output is the
 * user's.
 */
#include "arch.h"
#include "boot.h"
#include "exec.h"
#include "fs.h"
#include "mm.h"
#include "net.h"
#include "proc.h"
#include "sched.h"
#include "syscall.h"
#include "vm.h"
#include "x86.h"
#include <asm-generic/fcntl.h>
#include <kiln/abi.h>
#include <kiln/pvh.h>

struct boot_info boot_info;
/* kiln.test=panic: panic once the kernel is up, so tests can check that
 * a kernel failure reaches the host as KILN_EXIT_PANIC with a report. */
static bool test_panic;
/* kiln.test=fault: a page fault in the kernel itself, for tests of the
 * exception report (vector, error code, address, registers, backtrace). */
static bool test_fault;

static __attribute__((noinline)) void test_fault_now(void)
{
	*(volatile uint64_t *)0xdead000UL = 1;
}
extern bool console_kiln_port, console_exit_com2;
void console_init(void);
void clock_init(void);

/* The program, as read from the config and the command line. */
static struct {
	char *exe;
	char *argv[MAX_ARGS + 1];
	int argc;
	char *envp[MAX_ENVS + 1];
	int envc;
	char *cwd;
} prog;

const char *proc_exe_path(void)
{
	return prog.exe ? prog.exe : "(kernel)";
}

noreturn void proc_exit(int status)
{
	/* As on Linux, the program's descriptors close when it ends: its
	 * connections send their FIN (or RST with unread data), and the
	 * network gets a moment to deliver them before the VM stops. */
	if (net_active()) {
		fs_close_all();
		net_drain(NET_EXIT_DRAIN_NS);
	}
	machine_exit(status);
}

static void mark(enum kiln_mark m)
{
	if (console_kiln_port)
		outl(KILN_PORT_MARK, m);
}

static void boot_info_read(uint64_t si_phys)
{
	const struct hvm_start_info *si = phys_to_virt(si_phys);
	if (si->magic != HVM_START_MAGIC)
		panic("bad PVH start info magic 0x%x at 0x%lx", si->magic,
		      si_phys);
	if (si->cmdline_paddr)
		strlcpy(boot_info.cmdline, phys_to_virt(si->cmdline_paddr),
			sizeof(boot_info.cmdline));
	if (si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_table_entry *e =
		    phys_to_virt(si->memmap_paddr);
		for (uint32_t i = 0;
		     i < si->memmap_entries && boot_info.nram < MAX_MEMMAP; i++)
			if (e[i].type == HVM_MEMMAP_RAM && e[i].size)
				boot_info.ram[boot_info.nram++] =
				    (struct mem_range){e[i].addr,
						       e[i].addr + e[i].size};
	}
	if (boot_info.nram == 0)
		panic("no memory map in the PVH start info (version %u)",
		      si->version);
	if (si->nr_modules && si->modlist_paddr) {
		const struct hvm_modlist_entry *m =
		    phys_to_virt(si->modlist_paddr);
		boot_info.initrd_start = m->paddr;
		boot_info.initrd_size = m->size;
	}
}

/* Adds or replaces KEY=VAL in the environment. */
static void env_set(char *kv)
{
	char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	for (int i = 0; i < prog.envc; i++) {
		if (strncmp(prog.envp[i], kv, klen) == 0 &&
		    prog.envp[i][klen] == '=') {
			prog.envp[i] = kv;
			return;
		}
	}
	if (prog.envc < MAX_ENVS)
		prog.envp[prog.envc++] = kv;
}

/* Command line words; the kernel's own are kiln.*. */
static void cmdline_parse(bool early)
{
	static char buf[MAX_CMDLINE];
	strlcpy(buf, boot_info.cmdline, sizeof(buf));
	char *p = buf;
	while (*p) {
		while (*p == ' ')
			p++;
		char *w = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
		if (early) {
			if (!strcmp(w, "kiln.vmm=kiln"))
				console_kiln_port = true;
			else if (!strcmp(w, "kiln.exit=com2"))
				console_exit_com2 = true;
			else if (!strcmp(w, "kiln.debug"))
				kernel_debug = true;
			else if (!strcmp(w, "kiln.strace"))
				syscall_trace = true;
			else if (!strcmp(w, "kiln.novdso"))
				vdso_disabled = true;
			else if (!strcmp(w, "kiln.test=panic"))
				test_panic = true;
			else if (!strcmp(w, "kiln.test=fault"))
				test_fault = true;
		} else if (!strncmp(w, "kiln.hostname=", 14)) {
			char name[65];
			strlcpy(name, w + 14, sizeof(name));
			percent_decode(name);
			proc_set_hostname(name, strlen(name));
		} else if (!strncmp(w, "kiln.env=", 9)) {
			char *kv = strdup(w + 9);
			if (kv) {
				percent_decode(kv);
				env_set(kv);
			}
		}
	}
}

/* Reads /.kiln/config (format in abi.h). */
static void config_read(void)
{
	struct file *f;
	int r = vfs_open(KILN_CONFIG_PATH, O_RDONLY, 0, &f);
	if (r) {
		klog("no program to run: cannot open '%s' in the rootfs "
		     "(error %d); build the image with kiln",
		     KILN_CONFIG_PATH, -r);
		machine_exit(KILN_EXIT_NOTFOUND);
	}
	static char chunk[65536];
	size_t len = 0;
	ssize_t n;
	char *text = NULL;
	uint64_t off = 0;
	while ((n = vfs_pread(f, chunk, sizeof(chunk), off)) > 0) {
		char *t = krealloc(text, len + (size_t)n + 1);
		if (!t)
			panic("out of memory reading the config");
		text = t;
		memcpy(text + len, chunk, (size_t)n);
		len += (size_t)n;
		off += (uint64_t)n;
	}
	file_put(f);
	if (!text)
		return;
	text[len] = 0;
	bool too_many = false;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char *sp = strchr(line, ' ');
		if (sp) {
			*sp = 0;
			char *val = sp + 1;
			percent_decode(val);
			if (!strcmp(line, "exe"))
				prog.exe = val;
			else if (!strcmp(line, "arg") && prog.argc < MAX_ARGS)
				prog.argv[prog.argc++] = val;
			else if (!strcmp(line, "arg"))
				too_many = true;
			else if (!strcmp(line, "env"))
				env_set(val);
			else if (!strcmp(line, "cwd"))
				prog.cwd = val;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (too_many) {
		klog("too many arguments in '%s' (at most %d)",
		     KILN_CONFIG_PATH, MAX_ARGS);
		machine_exit(KILN_EXIT_NOEXEC);
	}
}

static noreturn void exec_failed(int err)
{
	int status = err == -ENOENT   ? KILN_EXIT_NOTFOUND
		     : err == -ENOMEM ? KILN_EXIT_NOMEM
				      : KILN_EXIT_NOEXEC;
	machine_exit(status);
}

void kmain(uint64_t start_info);
void kmain(uint64_t start_info)
{
	boot_info_read(start_info);
	cmdline_parse(true);
	mark(KILN_MARK_KERNEL_ENTRY);
	console_init();
	arch_init();
	phys_init();
	vm_init();
	clock_init();
	apic_init();
	sched_init();
	syscall_init();
	if (test_panic)
		panic("test panic requested on the command line "
		      "(kiln.test=panic)");
	if (test_fault)
		test_fault_now();
	kdebug("%lu KiB of RAM, rootfs %lu bytes, command line '%s'",
	       phys_total_bytes() >> 10, boot_info.initrd_size,
	       boot_info.cmdline);

	if (!boot_info.initrd_size) {
		klog("no rootfs: boot the kernel with an initrd built by kiln");
		machine_exit(KILN_EXIT_NOTFOUND);
	}
	if (fs_init(phys_to_virt(boot_info.initrd_start),
		    boot_info.initrd_size))
		machine_exit(KILN_EXIT_NOEXEC);
	if (fs_open_console() < 0)
		panic("cannot open the console");

	config_read();
	cmdline_parse(false);
	net_init();
	if (!prog.exe) {
		klog("no program to run: '%s' names no exe", KILN_CONFIG_PATH);
		machine_exit(KILN_EXIT_NOTFOUND);
	}
	if (prog.argc == 0)
		prog.argv[prog.argc++] = prog.exe;
	if (prog.cwd && vfs_chdir(prog.cwd))
		klog("cannot change to working directory '%s'; using '/'",
		     prog.cwd);

	uint64_t entry, sp;
	int r = exec_load(prog.exe, prog.argv, prog.argc, prog.envp, prog.envc,
			  &entry, &sp);
	if (r)
		exec_failed(r);
	mark(KILN_MARK_USER_ENTRY);
	arch_enter_user(entry, sp);
}
