/*
 * kiln-vmm's command line: the documented interface parses, defaults are
 * right, and every mistake gets a clear message instead of a guess.
 */
#include "../../vmm/vmm.h"
#include "vmm_test.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

int main(void)
{
	struct vmm_args a;
	char err[256];

	char *full[] = {"kiln-vmm", "--kernel",	    "k.elf",   "--initrd",
			"r.cpio",   "--cmdline",    "a b=c",   "--memory",
			"128",	    "--serial",	    "out.txt", "--timeout",
			"5",	    "--trace-boot", "--stats"};
	CHECK(args_parse(&a, ARGC(full), full, err, sizeof(err)) == 0,
	      "every option parses");
	CHECK(strcmp(a.kernel, "k.elf") == 0 &&
		  strcmp(a.initrd, "r.cpio") == 0 &&
		  strcmp(a.cmdline, "a b=c") == 0 &&
		  strcmp(a.serial, "out.txt") == 0,
	      "paths and command line kept");
	CHECK(a.memory_mib == 128 && a.timeout_s == 5 && a.trace_boot == 1 &&
		  a.stats == 1,
	      "memory 128, timeout 5, trace-boot, stats");

	char *eq[] = {"kiln-vmm", "--kernel=k2", "--memory=2", "--cmdline="};
	CHECK(args_parse(&a, ARGC(eq), eq, err, sizeof(err)) == 0 &&
		  strcmp(a.kernel, "k2") == 0 && a.memory_mib == 2 &&
		  strcmp(a.cmdline, "") == 0,
	      "--opt=value form");

	char *min[] = {"kiln-vmm", "--kernel", "k"};
	CHECK(args_parse(&a, ARGC(min), min, err, sizeof(err)) == 0 &&
		  a.memory_mib == 64 && a.initrd == NULL && a.serial == NULL &&
		  a.timeout_s == 0 && !a.trace_boot && !a.stats &&
		  strcmp(a.cmdline, "") == 0,
	      "defaults: 64 MiB, no initrd, stdout, no timeout");

	char *max[] = {"kiln-vmm", "--kernel", "k", "--memory", "3072"};
	CHECK(args_parse(&a, ARGC(max), max, err, sizeof(err)) == 0 &&
		  a.memory_mib == 3072,
	      "--memory 3072 (maximum) accepted");

	char *help[] = {"kiln-vmm", "--help"};
	CHECK(args_parse(&a, ARGC(help), help, err, sizeof(err)) == 1,
	      "--help asks for usage");
	CHECK(vmm_test_has(args_usage, "--kernel KERNEL.elf") &&
		  vmm_test_has(args_usage, "--trace-boot") &&
		  vmm_test_has(args_usage, "--stats"),
	      "usage names the options");

	struct {
		char *argv[6];
		int argc;
		const char *want;
	} bad[] = {
	    {{"kiln-vmm"}, 1, "no kernel"},
	    {{"kiln-vmm", "--kernel"}, 2, "needs a value"},
	    {{"kiln-vmm", "--kernel", "k", "--memory", "1"},
	     5,
	     "from 2 to 3072"},
	    {{"kiln-vmm", "--kernel", "k", "--memory", "3073"},
	     5,
	     "from 2 to 3072"},
	    {{"kiln-vmm", "--kernel", "k", "--memory", "64M"},
	     5,
	     "must be a number"},
	    {{"kiln-vmm", "--kernel", "k", "--memory", "-5"},
	     5,
	     "must be a number"},
	    {{"kiln-vmm", "--kernel", "k", "--memory",
	      "99999999999999999999999"},
	     5,
	     "must be a number"},
	    {{"kiln-vmm", "--kernel", "k", "--timeout", "soon"},
	     5,
	     "--timeout 'soon'"},
	    {{"kiln-vmm", "--kernel", "k", "--bogus"},
	     4,
	     "unknown option '--bogus'"},
	    {{"kiln-vmm", "--kernelx=k"}, 2, "unknown option"},
	    {{"kiln-vmm", "--kernel", "k", "extra"},
	     4,
	     "unexpected argument 'extra'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int r =
		    args_parse(&a, bad[i].argc, bad[i].argv, err, sizeof(err));
		CHECK(r == -1 && vmm_test_has(err, bad[i].want),
		      "refused with '%s': %s", bad[i].want, err);
	}
	return vmm_test_done("vmm_args");
}
