/*
 * `kiln run [OPTIONS] PROGRAM [ARGS...]`: pack PROGRAM with its
 * interpreter, libraries and --file extras into a rootfs, write
 * /.kiln/config, boot it on kiln-vmm or QEMU in the foreground and exit
 * with the program's status.  Everything that can be checked is checked
 * before the VM starts, each failure one line and a status from abi.h.
 * Reference: docs/cli.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "elfinfo.h"
#include "hypervisor.h"
#include "kiln/abi.h"
#include "netcfg.h"
#include "rootfs.h"
#include "util.h"

#define RUN_MEMORY_DEFAULT_MIB 64
#define RUN_MEMORY_MIN_MIB     2
/* Below the 32-bit PCI hole: one RAM region on every monitor. */
#define RUN_MEMORY_MAX_MIB 3072
#define RUN_TIMEOUT_MAX	   31536000 /* a year */
#define RUN_DEFAULT_PATH                                                       \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RUN_KERNEL_SYSTEM "/usr/local/lib/kiln/kiln.elf"
#define MIB		  (1024 * 1024)

const char cmd_run_help[] =
    "usage: kiln run [OPTIONS] PROGRAM [ARGS...]\n"
    "       kiln run [-d] [--name NAME] [-p SPEC] ... IMAGE   (see 'kiln run "
    "-d --help')\n"
    "\n"
    "Packs PROGRAM (a path, or a name searched in $PATH), its ELF\n"
    "interpreter and shared libraries into an image, boots it in a VM in the\n"
    "foreground and exits with the program's status.  Options stop at\n"
    "PROGRAM: everything after it is the program's.\n"
    "\n"
    "Options:\n"
    "  -e, --env KEY=VAL         set an environment variable (repeatable)\n"
    "  -m, --memory SIZE         guest RAM, e.g. 64M, 1G (plain number: MiB;\n"
    "                            default 64M, 2M to 3G)\n"
    "      --file HOST:GUEST     put host file HOST at absolute path GUEST\n"
    "                            (repeatable)\n"
    "      --dir HOST:GUEST      copy host directory tree HOST to GUEST\n"
    "                            (repeatable)\n"
    "      --hypervisor NAME     kiln (KVM) or qemu; default kiln when\n"
    "                            /dev/kvm is usable, else qemu without KVM\n"
    "      --timeout SECONDS     stop the VM after SECONDS (status 124)\n"
    "      --kernel PATH         kernel to boot (default $KILN_KERNEL, else\n"
    "                            kiln.elf next to kiln, else\n"
    "                            " RUN_KERNEL_SYSTEM ")\n"
    "      --kernel-arg WORD     add WORD to the kernel command line\n"
    "                            (debugging, e.g. kiln.debug; repeatable)\n"
    "      --keep-rootfs PATH    also write the packed rootfs to PATH\n"
    "      --net TAP             attach a virtio-net device on tap TAP\n"
    "      --ip ADDR/PREFIX      the instance's IPv4 address (with --net)\n"
    "      --gw ADDR             default gateway (inside the subnet)\n"
    "      --dns ADDR            DNS server for /etc/resolv.conf\n"
    "      --hostname NAME       hostname (uname, /etc/hostname, /etc/hosts)\n"
    "      --mac MAC             MAC address (default: random 52:54:00:..)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: the program's; 120 kernel panic, 121 guest crash, 122 too\n"
    "little memory, 124 timeout, 125 kiln or hypervisor error, 126 not a\n"
    "runnable x86_64 program, 127 program or library not found,\n"
    "128+N stopped by signal N.\n";

const char cmd_pack_help[] =
    "usage: kiln pack -o ROOTFS [OPTIONS] PROGRAM [ARGS...]\n"
    "\n"
    "Packs PROGRAM, its ELF interpreter, its shared libraries and --file\n"
    "extras with /.kiln/config into a cpio rootfs at ROOTFS, exactly as\n"
    "'kiln run' would, without booting it.  Boot it with kiln-vmm\n"
    "(--initrd) or QEMU (-initrd) and build/kiln.elf.\n"
    "\n"
    "Options:\n"
    "  -o, --output ROOTFS       where to write the rootfs (required)\n"
    "  -e, --env KEY=VAL         set an environment variable (repeatable)\n"
    "      --file HOST:GUEST     put host file HOST at absolute path GUEST\n"
    "                            (repeatable)\n"
    "      --dir HOST:GUEST      copy host directory tree HOST to GUEST\n"
    "                            (repeatable)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0; 125 kiln error, 126 not a runnable x86_64 program,\n"
    "127 program or library not found.\n";

enum run_hv {
	RUN_HV_DEFAULT,
	RUN_HV_KILN,
	RUN_HV_QEMU,
};

struct run_opts {
	uint64_t memory_mib;
	int memory_given;
	enum run_hv hv;
	unsigned timeout_s;
	const char *kernel;
	const char *keep_rootfs;
	const char *output; /* kiln pack -o */
	struct netcfg net;
	int pack;	   /* kiln pack: write the rootfs, boot nothing */
	struct strv env;   /* -e entries as given */
	struct strv files; /* --file specs as given */
	struct strv dirs;  /* --dir specs as given */
	struct strv kernel_args;
	const char *program; /* as the user wrote it */
	char **args;	     /* the program's arguments */
	int nargs;
};

void run_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
}

int run_parse_env(const char *arg, struct strv *env)
{
	if (strchr(arg, '=') == NULL || arg[0] == '=') {
		cli_error("invalid environment entry '%s' (use -e KEY=VALUE)",
			  arg);
		return -1;
	}
	if (strv_push(env, arg) < 0) {
		cli_error("out of memory");
		return -1;
	}
	return 0;
}

int run_parse_memory(const char *arg, uint64_t *mib)
{
	char err[256];

	if (util_parse_mib(arg, mib, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return -1;
	}
	if (*mib < RUN_MEMORY_MIN_MIB) {
		cli_error("memory size '%s' is below the minimum of %dM", arg,
			  RUN_MEMORY_MIN_MIB);
		return -1;
	}
	if (*mib > RUN_MEMORY_MAX_MIB) {
		cli_error("memory size '%s' is above the maximum of 3G (%dM)",
			  arg, RUN_MEMORY_MAX_MIB);
		return -1;
	}
	return 0;
}

static int run_parse(int argc, char **argv, struct run_opts *o)
{
	enum {
		OPT_FILE = 256,
		OPT_HV,
		OPT_TIMEOUT,
		OPT_KERNEL,
		OPT_KEEP,
		OPT_KARG,
		OPT_NET,
		OPT_IP,
		OPT_GW,
		OPT_DNS,
		OPT_HOSTNAME,
		OPT_MAC,
		OPT_DIR
	};
	const char *cmd = o->pack ? "pack" : "run";
	static const struct option longopts[] = {
	    {"env", required_argument, NULL, 'e'},
	    {"memory", required_argument, NULL, 'm'},
	    {"file", required_argument, NULL, OPT_FILE},
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"hypervisor", required_argument, NULL, OPT_HV},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"kernel", required_argument, NULL, OPT_KERNEL},
	    {"kernel-arg", required_argument, NULL, OPT_KARG},
	    {"keep-rootfs", required_argument, NULL, OPT_KEEP},
	    {"output", required_argument, NULL, 'o'},
	    {"net", required_argument, NULL, OPT_NET},
	    {"ip", required_argument, NULL, OPT_IP},
	    {"gw", required_argument, NULL, OPT_GW},
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"hostname", required_argument, NULL, OPT_HOSTNAME},
	    {"mac", required_argument, NULL, OPT_MAC},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char err[512];
	int c;

	o->memory_mib = RUN_MEMORY_DEFAULT_MIB;
	opterr = 0;
	optind = 1;
	/* "+": stop at the first non-option, the program. */
	while ((c = getopt_long(argc, argv, o->pack ? "+:e:m:ho:" : "+:e:m:h",
				longopts, NULL)) != -1) {
		if (o->pack &&
		    (c == OPT_HV || c == OPT_TIMEOUT || c == OPT_KERNEL ||
		     c == OPT_KARG || c == OPT_KEEP ||
		     (c >= OPT_NET && c <= OPT_MAC))) {
			const char *name = "?";
			for (const struct option *lo = longopts; lo->name; lo++)
				if (lo->val == c)
					name = lo->name;
			cli_error("option '--%s' is for 'kiln run', not 'kiln "
				  "pack'",
				  name);
			return -1;
		}
		if (!o->pack && c == 'o') {
			cli_error("option '--output' is for 'kiln pack' (see "
				  "'kiln run --help')");
			return -1;
		}
		switch (c) {
		case 'e':
			if (run_parse_env(optarg, &o->env) < 0)
				return -1;
			break;
		case 'm':
			if (run_parse_memory(optarg, &o->memory_mib) < 0)
				return -1;
			o->memory_given = 1;
			break;
		case OPT_FILE:
			if (strv_push(&o->files, optarg) < 0)
				goto nomem;
			break;
		case OPT_DIR:
			if (strv_push(&o->dirs, optarg) < 0)
				goto nomem;
			break;
		case OPT_HV:
			if (strcmp(optarg, "kiln") == 0) {
				o->hv = RUN_HV_KILN;
			} else if (strcmp(optarg, "qemu") == 0) {
				o->hv = RUN_HV_QEMU;
			} else {
				cli_error(
				    "unknown hypervisor '%s' (use kiln or "
				    "qemu)",
				    optarg);
				return -1;
			}
			break;
		case OPT_TIMEOUT: {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || v == 0 ||
			    v > RUN_TIMEOUT_MAX) {
				cli_error("invalid timeout '%s' (use whole "
					  "seconds, e.g. --timeout 30)",
					  optarg);
				return -1;
			}
			o->timeout_s = (unsigned)v;
			break;
		}
		case OPT_KERNEL:
			o->kernel = optarg;
			break;
		case OPT_KARG:
			if (optarg[0] == '\0' ||
			    strpbrk(optarg, " \t\n") != NULL) {
				cli_error(
				    "invalid --kernel-arg '%s' (one word, "
				    "no spaces)",
				    optarg);
				return -1;
			}
			if (strv_push(&o->kernel_args, optarg) < 0)
				goto nomem;
			break;
		case OPT_KEEP:
			o->keep_rootfs = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_NET:
		case OPT_IP:
		case OPT_GW:
		case OPT_DNS:
		case OPT_HOSTNAME:
		case OPT_MAC: {
			int r =
			    c == OPT_NET   ? netcfg_parse_tap(&o->net, optarg,
							      err, sizeof(err))
			    : c == OPT_IP  ? netcfg_parse_ip(&o->net, optarg,
							     err, sizeof(err))
			    : c == OPT_GW  ? netcfg_parse_gw(&o->net, optarg,
							     err, sizeof(err))
			    : c == OPT_DNS ? netcfg_parse_dns(&o->net, optarg,
							      err, sizeof(err))
			    : c == OPT_HOSTNAME
				? netcfg_parse_hostname(&o->net, optarg, err,
							sizeof(err))
				: netcfg_parse_mac(&o->net, optarg, err,
						   sizeof(err));
			if (r < 0) {
				cli_error("%s", err);
				return -1;
			}
			break;
		}
		case 'h':
			return 1;
		case ':':
			cli_error("option '%s' needs a value (see 'kiln %s "
				  "--help')",
				  argv[optind - 1], cmd);
			return -1;
		default:
			if (optopt != 0)
				cli_error("unknown option '-%c' (see 'kiln %s "
					  "--help')",
					  optopt, cmd);
			else
				cli_error("unknown option '%s' (see 'kiln %s "
					  "--help')",
					  argv[optind - 1], cmd);
			return -1;
		}
	}
	if (optind >= argc) {
		cli_error("'kiln %s' needs a program (see 'kiln %s --help')",
			  cmd, cmd);
		return -1;
	}
	if (netcfg_check(&o->net, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return -1;
	}
	if (o->pack && o->output == NULL) {
		cli_error("'kiln pack' needs an output file: -o ROOTFS.cpio");
		return -1;
	}
	o->program = argv[optind];
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	return 0;
nomem:
	cli_error("out of memory");
	return -1;
}

/*
 * Finds the program: a name with a '/' is a path (relative to the current
 * directory); a bare name is searched in $PATH like execvp does.  Sets
 * *shown to the path to quote in messages and returns the absolute host
 * path, which is also its path in the guest: "." is dropped, and ".." is
 * resolved on the file system (realpath of the directory) because a
 * lexical ".." after a symlink would name another file.  Returns NULL
 * after printing why, with the status in *status.
 */
char *run_find_program(const char *prog, char **shown, int *status)
{
	char cwd[PATH_MAX], *abs = NULL;
	struct stat st;

	*status = KILN_EXIT_NOTFOUND;
	if (prog[0] == '\0') {
		cli_error("cannot find program ''");
		return NULL;
	}
	if (strchr(prog, '/') == NULL) {
		const char *path = getenv("PATH");
		char *copy;

		if (path == NULL)
			path = RUN_DEFAULT_PATH;
		copy = strdup(path);
		if (copy == NULL)
			goto nomem;
		/* strtok would drop empty entries; they mean "." */
		for (char *dir = copy, *next; dir != NULL; dir = next) {
			char *cand;

			next = strchr(dir, ':');
			if (next != NULL)
				*next++ = '\0';
			cand = util_asprintf("%s/%s", *dir ? dir : ".", prog);
			if (cand == NULL) {
				free(copy);
				goto nomem;
			}
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(cand, X_OK) == 0) {
				*shown = cand;
				break;
			}
			free(cand);
		}
		free(copy);
		if (*shown == NULL) {
			cli_error("cannot find program '%s' (not in $PATH)",
				  prog);
			return NULL;
		}
	} else {
		*shown = strdup(prog);
		if (*shown == NULL)
			goto nomem;
	}

	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		cli_error("cannot get the current directory: %s",
			  strerror(errno));
		*status = KILN_EXIT_MONITOR;
		return NULL;
	}
	{
		const char *p = *shown;
		int dotdot =
		    strstr(p, "/../") != NULL || strncmp(p, "../", 3) == 0 ||
		    (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0) ||
		    strcmp(p, "..") == 0;
		if (dotdot) {
			char *dir = util_dirname(p), real[PATH_MAX];
			const char *base = strrchr(p, '/') + 1;
			if (dir != NULL && realpath(dir, real) != NULL)
				abs = util_path_join(real, base);
			else
				abs = util_path_join(cwd, p);
			free(dir);
		} else {
			abs = util_path_join(cwd, p);
		}
	}
	if (abs == NULL)
		goto nomem;
	if (stat(abs, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
			cli_error("cannot find program '%s'", prog);
		} else {
			cli_error("cannot access '%s': %s", *shown,
				  strerror(errno));
			*status = KILN_EXIT_NOEXEC;
		}
		free(abs);
		return NULL;
	}
	return abs;
nomem:
	cli_error("out of memory");
	*status = KILN_EXIT_MONITOR;
	return NULL;
}

int run_check_program(const char *shown, const char *exe, int *status)
{
	struct elf_info info;
	struct stat st;
	char err[1024];

	if (elf_read(shown, &info, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		*status = info.error == ELF_ERR_IO && info.sys_errno == ENOENT
			      ? KILN_EXIT_NOTFOUND
			      : KILN_EXIT_NOEXEC;
		elf_release(&info);
		return -1;
	}
	elf_release(&info);
	if (stat(exe, &st) == 0 && (st.st_mode & 0111) == 0) {
		cli_error("'%s' is not executable (chmod +x '%s')", shown,
			  shown);
		*status = KILN_EXIT_NOEXEC;
		return -1;
	}
	return 0;
}

/* rootfs failure kind -> exit status. */
static int run_fail_status(const struct rootfs *fs)
{
	switch (fs->fail) {
	case ROOTFS_FAIL_NOTFOUND:
		return KILN_EXIT_NOTFOUND;
	case ROOTFS_FAIL_NOEXEC:
		return KILN_EXIT_NOEXEC;
	default:
		return KILN_EXIT_MONITOR;
	}
}

/* Splits "HOST:GUEST" at the last ":/" (GUEST is absolute; HOST may
 * contain colons).  Returns 0 with *host (new string) and *guest
 * pointing into spec. */
int run_split_file(const char *spec, char **host, const char **guest)
{
	const char *sep = NULL;

	for (const char *p = spec; (p = strstr(p, ":/")) != NULL; p++)
		sep = p;
	if (sep == NULL || sep == spec || sep[2] == '\0')
		return -1;
	*host = strndup(spec, (size_t)(sep - spec));
	*guest = sep + 1;
	return *host ? 0 : -1;
}

/* The --file and --dir lists: each host file must exist and be a
 * regular file, each host directory a directory. */
static int run_check_files(const struct run_opts *o)
{
	for (size_t i = 0; i < o->files.n + o->dirs.n; i++) {
		int is_dir = i >= o->files.n;
		const char *spec =
		    is_dir ? o->dirs.v[i - o->files.n] : o->files.v[i];
		const char *opt = is_dir ? "--dir" : "--file";
		const char *guest;
		char *host;
		struct stat st;

		if (run_split_file(spec, &host, &guest) < 0) {
			cli_error("invalid %s '%s' (use HOST:GUEST, GUEST "
				  "an absolute path)",
				  opt, spec);
			return -1;
		}
		if (stat(host, &st) < 0) {
			cli_error("%s: cannot find '%s': %s", opt, host,
				  strerror(errno));
			free(host);
			return -1;
		}
		if (is_dir && !S_ISDIR(st.st_mode)) {
			cli_error("--dir: '%s' is not a directory (use --file "
				  "for a file)",
				  host);
			free(host);
			return -1;
		}
		if (!is_dir && !S_ISREG(st.st_mode)) {
			cli_error("--file: '%s' is not a regular file (use "
				  "--dir for a directory)",
				  host);
			free(host);
			return -1;
		}
		free(host);
	}
	return 0;
}

/* Copies the packed rootfs (fd) to path. */
static int run_keep_rootfs(int fd, const char *path)
{
	char buf[65536];
	off_t off = 0;
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (out < 0) {
		cli_error("--keep-rootfs: cannot create '%s': %s", path,
			  strerror(errno));
		return -1;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			cli_error("--keep-rootfs: cannot write '%s': %s", path,
				  strerror(errno));
			close(out);
			return -1;
		}
		off += n;
	}
	if (close(out) < 0 || n < 0) {
		cli_error("--keep-rootfs: cannot write '%s': %s", path,
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* The kernel: --kernel, $KILN_KERNEL, kiln.elf beside kiln, the system's.
 * Returns a new string, or NULL after printing why. */
char *run_find_kernel(const char *opt)
{
	const char *env = getenv("KILN_KERNEL");
	char *beside;

	if (opt != NULL || (env != NULL && env[0] != '\0')) {
		const char *k = opt ? opt : env;
		if (access(k, R_OK) == 0)
			return strdup(k);
		cli_error("cannot read the kernel '%s' (from %s): %s", k,
			  opt ? "--kernel" : "$KILN_KERNEL", strerror(errno));
		return NULL;
	}
	beside = util_asprintf("%s/kiln.elf", cli_self_dir());
	if (beside != NULL && access(beside, R_OK) == 0)
		return beside;
	if (access(RUN_KERNEL_SYSTEM, R_OK) == 0) {
		free(beside);
		return strdup(RUN_KERNEL_SYSTEM);
	}
	cli_error("cannot find the kernel: no '%s' or '%s' (run 'make', or "
		  "pass --kernel)",
		  beside ? beside : "kiln.elf", RUN_KERNEL_SYSTEM);
	free(beside);
	return NULL;
}

/* Builds /.kiln/config's text for the program. */
static char *run_config_text(const struct run_opts *o, const char *exe)
{
	struct config cfg;
	char err[512], *text = NULL;

	config_init(&cfg);
	cfg.exe = strdup(exe);
	cfg.cwd = strdup("/");
	if (cfg.exe == NULL || cfg.cwd == NULL || strv_push(&cfg.args, exe) < 0)
		goto out;
	for (int i = 0; i < o->nargs; i++)
		if (strv_push(&cfg.args, o->args[i]) < 0)
			goto out;
	if (config_env_set(&cfg, "PATH=" RUN_DEFAULT_PATH, err, sizeof(err)) <
		0 ||
	    config_env_set(&cfg, "HOME=/", err, sizeof(err)) < 0)
		goto out;
	for (size_t i = 0; i < o->env.n; i++)
		if (config_env_set(&cfg, o->env.v[i], err, sizeof(err)) < 0)
			goto out;
	text = config_format(&cfg);
out:
	config_release(&cfg);
	if (text == NULL)
		cli_error("out of memory");
	return text;
}

/* Packs the image into a nameless temp file; returns its fd, or -1 with
 * *status set after printing why. */
static int run_pack(const struct run_opts *o, const char *exe, uint64_t *size,
		    int *status)
{
	struct rootfs fs;
	char err[1024], *config = NULL;
	FILE *f = NULL;
	int fd = -1;

	*status = KILN_EXIT_MONITOR;
	rootfs_init(&fs);
	if (rootfs_add_program(&fs, exe, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		*status = run_fail_status(&fs);
		goto out;
	}
	/* Directories first, so a --file can replace one of their files. */
	for (size_t i = 0; i < o->dirs.n + o->files.n; i++) {
		int is_dir = i < o->dirs.n;
		const char *spec =
		    is_dir ? o->dirs.v[i] : o->files.v[i - o->dirs.n];
		const char *guest;
		char *host;
		int r;

		if (run_split_file(spec, &host, &guest) < 0)
			goto out; /* checked before */
		r = is_dir
			? rootfs_add_dir(&fs, guest, host, err, sizeof(err))
			: rootfs_add_file(&fs, guest, host, err, sizeof(err));
		if (r < 0) {
			cli_error("%s '%s': %s", is_dir ? "--dir" : "--file",
				  spec, err);
			free(host);
			goto out;
		}
		free(host);
	}
	config = run_config_text(o, exe);
	if (config == NULL)
		goto out;
	if (rootfs_add_data(&fs, KILN_CONFIG_PATH, config, strlen(config), 0644,
			    err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	fd = util_temp_fd(NULL, "kiln-rootfs");
	if (fd < 0) {
		cli_error("cannot create a temporary file in '%s': %s",
			  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
			  strerror(errno));
		goto out;
	}
	int wfd = dup(fd);
	f = wfd < 0 ? NULL : fdopen(wfd, "w");
	if (f == NULL && wfd >= 0)
		close(wfd);
	if (f == NULL || rootfs_write(&fs, f, size, err, sizeof(err)) < 0) {
		cli_error("cannot write the rootfs: %s",
			  f ? err : strerror(errno));
		goto out_close;
	}
	if (fclose(f) != 0) {
		f = NULL;
		cli_error("cannot write the rootfs: %s", strerror(errno));
		goto out_close;
	}
	f = NULL;
	*status = 0;
	goto out;
out_close:
	if (f != NULL)
		fclose(f);
	close(fd);
	fd = -1;
out:
	free(config);
	rootfs_release(&fs);
	return fd;
}

static void run_opts_release(struct run_opts *o)
{
	strv_release(&o->env);
	strv_release(&o->files);
	strv_release(&o->dirs);
	strv_release(&o->kernel_args);
}

/* kiln run and kiln pack: the same options and packing; pack stops after
 * writing the rootfs. */
static int run_main(int argc, char **argv, int pack)
{
	struct run_opts o;
	struct hv_boot boot;
	char *shown = NULL, *exe = NULL, *kernel = NULL, *vmm = NULL;
	char err[1024], why[256], mac[18];
	uint64_t rootfs_size = 0;
	struct stat st;
	int status = KILN_EXIT_MONITOR, fd = -1, kvm, r;

	memset(&o, 0, sizeof(o));
	memset(&boot, 0, sizeof(boot));
	o.pack = pack;
	run_std_fds();
	r = run_parse(argc, argv, &o);
	if (r != 0) {
		if (r > 0) {
			fputs(pack ? cmd_pack_help : cmd_run_help, stdout);
			status = 0;
		}
		goto out;
	}

	/* The program: found, an ELF kiln can run, executable. */
	exe = run_find_program(o.program, &shown, &status);
	if (exe == NULL)
		goto out;
	if (run_check_program(shown, exe, &status) < 0)
		goto out;
	status = KILN_EXIT_MONITOR;
	if (run_check_files(&o) < 0)
		goto out;

	hypervisor_signals_install();
	fd = run_pack(&o, exe, &rootfs_size, &status);
	if (fd < 0)
		goto out;
	status = KILN_EXIT_MONITOR;
	if (o.keep_rootfs != NULL && run_keep_rootfs(fd, o.keep_rootfs) < 0)
		goto out;
	if (o.pack) {
		status =
		    run_keep_rootfs(fd, o.output) < 0 ? KILN_EXIT_MONITOR : 0;
		goto out;
	}

	kernel = run_find_kernel(o.kernel);
	if (kernel == NULL)
		goto out;
	{
		/* What must fit in guest RAM besides the program's own
		 * memory: the first MiB (the kernel loads at 1 MiB), the
		 * kernel, the rootfs (the kernel's files point into it) and
		 * a MiB for page tables, heap and the program's stack. */
		uint64_t ksize =
		    stat(kernel, &st) == 0 ? (uint64_t)st.st_size : 0;
		uint64_t need =
		    (2 * (uint64_t)MIB + ksize + rootfs_size + MIB - 1) / MIB;
		if (o.memory_mib < need) {
			cli_error(
			    "not enough guest memory: the image needs at "
			    "least %llu MiB (rootfs %.1f MiB, kernel %llu "
			    "KiB) but guest memory is %llu MiB%s; use "
			    "--memory %lluM or more",
			    (unsigned long long)need, (double)rootfs_size / MIB,
			    (unsigned long long)(ksize / 1024),
			    (unsigned long long)o.memory_mib,
			    o.memory_given ? "" : " (the default)",
			    (unsigned long long)need);
			status = KILN_EXIT_NOMEM;
			goto out;
		}
	}

	kvm = hv_kvm_choose(why, sizeof(why));
	if (o.hv == RUN_HV_KILN && !kvm) {
		cli_error(
		    "--hypervisor kiln needs KVM: %s (use --hypervisor qemu)",
		    why);
		goto out;
	}
	if (o.hv == RUN_HV_DEFAULT) {
		o.hv = kvm ? RUN_HV_KILN : RUN_HV_QEMU;
		if (!kvm)
			fprintf(stderr, "kiln: /dev/kvm not available, using "
					"QEMU without KVM (slow)\n");
	}
	if (o.net.tap[0] || o.net.hostname[0]) {
		char *words = netcfg_kernel_words(&o.net);
		char *save = NULL;
		if (words == NULL) {
			cli_error("out of memory");
			goto out;
		}
		for (char *w = strtok_r(words, " ", &save); w;
		     w = strtok_r(NULL, " ", &save))
			if (strv_push(&o.kernel_args, w) < 0) {
				free(words);
				cli_error("out of memory");
				goto out;
			}
		free(words);
	}
	if (o.net.tap[0]) {
		if (netcfg_check_tap(&o.net, err, sizeof(err)) < 0) {
			cli_error("%s", err);
			goto out;
		}
		netcfg_mac_string(&o.net, mac);
		boot.tap = o.net.tap;
		boot.mac = mac;
	}
	boot.kernel = kernel;
	boot.initrd_fd = fd;
	boot.memory_mib = o.memory_mib;
	boot.timeout_s = o.timeout_s;
	boot.kernel_args = &o.kernel_args;
	boot.kvm = kvm;

	if (o.hv == RUN_HV_KILN) {
		const char *env = getenv("KILN_VMM");
		vmm = env && env[0]
			  ? strdup(env)
			  : util_asprintf("%s/kiln-vmm", cli_self_dir());
		if (vmm == NULL || access(vmm, X_OK) < 0) {
			cli_error(
			    "cannot find kiln-vmm at '%s' (run 'make', set "
			    "$KILN_VMM, or use --hypervisor qemu)",
			    vmm ? vmm : "kiln-vmm");
			goto out;
		}
		status = hypervisor_run_kiln(&boot, vmm);
	} else {
		status = hypervisor_run_qemu(&boot, hv_qemu_binary());
	}
out:
	if (fd >= 0)
		close(fd);
	free(shown);
	free(exe);
	free(kernel);
	free(vmm);
	run_opts_release(&o);
	return status;
}

int cmd_run(int argc, char **argv)
{
	/* `kiln run IMAGE` goes through kilnd (cmd_run_image.c). */
	if (run_image_wanted(argc, argv))
		return cmd_run_image(argc, argv);
	return run_main(argc, argv, 0);
}

int cmd_pack(int argc, char **argv)
{
	return run_main(argc, argv, 1);
}
