/*
 * kiln-vmm's command line.  Hand-written rather than getopt_long so that
 * it is a pure function (no global optind) the unit tests can call again
 * and again.  Accepts "--opt VALUE" and "--opt=VALUE"; a repeated option
 * takes its last value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

const char args_usage[] =
    "usage: kiln-vmm --kernel KERNEL.elf [--initrd ROOTFS.cpio]\n"
    "                [--cmdline STRING] [--memory MIB] [--serial FILE]\n"
    "                [--timeout SECONDS] [--trace-boot]\n"
    "\n"
    "Boots a PVH ELF64 kernel in a KVM virtual machine with one vCPU.\n"
    "\n"
    "  --kernel FILE     ELF64 kernel with a PVH entry note (required)\n"
    "  --initrd FILE     module handed to the kernel (kiln: the rootfs)\n"
    "  --cmdline STRING  kernel command line; ' kiln.vmm=kiln' is appended\n"
    "  --memory MIB      guest RAM in MiB, 2 to 3072 (default 64)\n"
    "  --serial FILE     write the console to FILE instead of stdout\n"
    "  --timeout SECONDS stop the guest after SECONDS (exit status 124)\n"
    "  --trace-boot      print boot-timeline marks to stderr at exit\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: the byte the guest writes to port 0xf4; 121 guest crash\n"
    "(triple fault), 122 memory too small, 124 timeout, 125 monitor or KVM\n"
    "failure or bad arguments, 130/143 stopped by SIGINT/SIGTERM.\n";

/* Parses a decimal number in [min, max]; -1 and err otherwise. */
static int args_number(const char *opt, const char *s, uint64_t min,
		       uint64_t max, const char *unit, uint64_t *out, char *err,
		       size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		snprintf(err, errlen,
			 "%s '%s': must be a number from %llu to "
			 "%llu%s",
			 opt, s, (unsigned long long)min,
			 (unsigned long long)max, unit);
		return -1;
	}
	*out = v;
	return 0;
}

int args_parse(struct vmm_args *a, int argc, char **argv, char *err,
	       size_t errlen)
{
	static const char *const valued[] = {"--kernel",  "--initrd",
					     "--cmdline", "--memory",
					     "--serial",  "--timeout"};
	uint64_t n;

	memset(a, 0, sizeof(*a));
	a->cmdline = "";
	a->memory_mib = VMM_MEMORY_DEFAULT_MIB;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *val = NULL;
		const char *opt = NULL;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return 1;
		if (strcmp(arg, "--trace-boot") == 0) {
			a->trace_boot = 1;
			continue;
		}
		for (size_t j = 0; j < sizeof(valued) / sizeof(valued[0]);
		     j++) {
			size_t l = strlen(valued[j]);
			if (strncmp(arg, valued[j], l) != 0)
				continue;
			if (arg[l] == '=') {
				opt = valued[j];
				val = arg + l + 1;
			} else if (arg[l] == '\0') {
				opt = valued[j];
				if (i + 1 == argc) {
					snprintf(err, errlen,
						 "option '%s' needs a value",
						 opt);
					return -1;
				}
				val = argv[++i];
			}
		}
		if (opt == NULL) {
			snprintf(err, errlen, "%s '%s'",
				 arg[0] == '-' ? "unknown option"
					       : "unexpected argument",
				 arg);
			return -1;
		}
		if (strcmp(opt, "--kernel") == 0) {
			a->kernel = val;
		} else if (strcmp(opt, "--initrd") == 0) {
			a->initrd = val;
		} else if (strcmp(opt, "--cmdline") == 0) {
			a->cmdline = val;
		} else if (strcmp(opt, "--serial") == 0) {
			a->serial = val;
		} else if (strcmp(opt, "--memory") == 0) {
			if (args_number(opt, val, VMM_MEMORY_MIN_MIB,
					VMM_MEMORY_MAX_MIB, " (MiB)",
					&a->memory_mib, err, errlen) < 0)
				return -1;
		} else {
			if (args_number(opt, val, 0, 1000000, " (seconds)", &n,
					err, errlen) < 0)
				return -1;
			a->timeout_s = (unsigned)n;
		}
	}
	if (a->kernel == NULL || a->kernel[0] == '\0') {
		snprintf(err, errlen, "no kernel given (--kernel KERNEL.elf)");
		return -1;
	}
	return 0;
}
