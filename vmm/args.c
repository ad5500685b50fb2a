/*
 * kiln-vmm's command line.  Hand-written rather than getopt_long so that
 * it is a pure function (no global optind) the unit tests can call again
 * and again.  Accepts "--opt VALUE" and "--opt=VALUE"; a repeated option
 * takes its last value.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

const char args_usage[] =
    "usage: kiln-vmm --kernel KERNEL.elf [--initrd ROOTFS.cpio]\n"
    "                [--cmdline STRING] [--memory MIB] [--serial FILE]\n"
    "                [--timeout SECONDS] [--trace-boot] [--stats]\n"
    "                [--net TAP [--mac MAC]]\n"
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
    "  --stats           print VM exit and network counters to stderr at "
    "exit\n"
    "  --net TAP         a virtio-net device on the existing tap device TAP\n"
    "  --mac MAC         its MAC address (default: 52:54:00 + a hash of TAP)\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: the byte the guest writes to port 0xf4; 121 guest crash\n"
    "(triple fault), 122 memory too small, 124 timeout, 125 monitor or KVM\n"
    "failure or bad arguments, 130/143 stopped by SIGINT/SIGTERM.  When\n"
    "the guest asks for it, a first SIGTERM goes to the program instead\n"
    "(graceful stop); a second one stops the VM.\n";

/*
 * A network interface name the kernel would take (dev_valid_name()): 1 to
 * 15 bytes, not "." or "..", no '/', ':' or white space.
 */
static int args_ifname(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);
	int ok = n > 0 && n < 16 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;

	for (size_t i = 0; ok && i < n; i++)
		ok =
		    s[i] != '/' && s[i] != ':' && !isspace((unsigned char)s[i]);
	if (!ok)
		snprintf(err, errlen,
			 "--net '%s': a tap device name is 1 to 15 characters "
			 "without '/', ':' or spaces",
			 s);
	return ok ? 0 : -1;
}

/* Six hex octets separated by ':', unicast and not all zero. */
/*
 * The default MAC: the locally administered 52:54:00 prefix QEMU uses and
 * 24 bits of an FNV-1a hash of the tap name.  A tap serves one instance at
 * a time, so instances on one host get different addresses, and a guest
 * keeps its address across restarts on the same tap (neighbour caches
 * stay valid).
 */
static void args_mac_derive(const char *tap, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = tap; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

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
	static const char *const valued[] = {
	    "--kernel", "--initrd",  "--cmdline", "--memory",
	    "--serial", "--timeout", "--net",	  "--mac"};
	const char *mac = NULL;
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
		if (strcmp(arg, "--stats") == 0) {
			a->stats = 1;
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
		} else if (strcmp(opt, "--net") == 0) {
			if (args_ifname(val, err, errlen) < 0)
				return -1;
			a->net = val;
		} else if (strcmp(opt, "--mac") == 0) {
			if (tap_mac_parse(val, a->mac, err, errlen) < 0)
				return -1;
			mac = val;
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
	if (mac != NULL && a->net == NULL) {
		snprintf(err, errlen, "--mac '%s' given without --net TAP",
			 mac);
		return -1;
	}
	if (a->net != NULL && mac == NULL)
		args_mac_derive(a->net, a->mac);
	return 0;
}
