/*
 * `kiln build [OPTIONS] [PROGRAM [ARGS...]]`: build an image (kernel,
 * rootfs, config; lib/image.h) from command-line options, a Kilnfile, or
 * both, and write it as an image archive (-o) or hand it to kilnd.  The
 * packing options are kiln run's (shared through cmd_run.c), so an image
 * holds exactly what `kiln run` would boot.  Every input is checked before
 * the output file exists, and the output appears only when complete (a
 * nameless temp file linked into place), so a failed or killed build never
 * leaves a partial archive.  Reference: docs/cli.md.
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
#include "daemon.h"
#include "image.h"
#include "kiln/abi.h"
#include "kilnfile.h"
#include "util.h"

#define BUILD_KILNFILE "Kilnfile"

const char cmd_build_help[] =
    "usage: kiln build [OPTIONS] [PROGRAM [ARGS...]]\n"
    "\n"
    "Builds an image: PROGRAM (a path, or a name searched in $PATH) with\n"
    "its ELF interpreter, shared libraries and extra files, its arguments,\n"
    "environment and defaults, and the kernel.  The same inputs always give\n"
    "the same image ID.  Without PROGRAM the build is described by a\n"
    "Kilnfile (-f, default ./Kilnfile); options on the command line add to\n"
    "it.  With -o the image is written as an archive for 'kiln load' and\n"
    "its ID printed; without -o it goes to kilnd.\n"
    "\n"
    "Options:\n"
    "  -t, --tag NAME[:TAG]      tag the image (repeatable; TAG defaults to\n"
    "                            latest)\n"
    "  -f, --kilnfile PATH       read the build from PATH (see\n"
    "                            docs/image-format.md)\n"
    "  -o, --output FILE         write the image archive to FILE ('-':\n"
    "                            stdout)\n"
    "  -e, --env KEY=VAL         set an environment variable (repeatable)\n"
    "  -m, --memory SIZE         default guest RAM, e.g. 64M (2M to 3G)\n"
    "      --file HOST:GUEST     put host file HOST at absolute path GUEST\n"
    "                            (repeatable)\n"
    "      --dir HOST:GUEST      copy host directory tree HOST to GUEST\n"
    "                            (repeatable)\n"
    "      --expose PORT[/PROTO] a port the program listens on (tcp or udp;\n"
    "                            repeatable)\n"
    "  -w, --workdir DIR         the program's working directory\n"
    "      --kernel PATH         kernel to put in the image (default\n"
    "                            $KILN_KERNEL, else kiln.elf next to kiln)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0; 125 kiln error (bad option, Kilnfile, file, tag),\n"
    "126 not a runnable x86_64 program, 127 program or library not found.\n";

struct build_opts {
	const char *kilnfile;
	const char *output;
	const char *kernel;
	const char *workdir;
	uint64_t memory_mib; /* 0: not given */
	struct strv tags, env, files, dirs, ports;
	const char *program; /* NULL: from the Kilnfile */
	char **args;
	int nargs;
};

static void build_opts_release(struct build_opts *o)
{
	strv_release(&o->tags);
	strv_release(&o->env);
	strv_release(&o->files);
	strv_release(&o->dirs);
	strv_release(&o->ports);
}

/* 0, 1 for --help, -1 after printing why. */
static int build_parse(int argc, char **argv, struct build_opts *o)
{
	enum { OPT_FILE = 256, OPT_DIR, OPT_EXPOSE, OPT_KERNEL };
	static const struct option longopts[] = {
	    {"tag", required_argument, NULL, 't'},
	    {"kilnfile", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"env", required_argument, NULL, 'e'},
	    {"memory", required_argument, NULL, 'm'},
	    {"file", required_argument, NULL, OPT_FILE},
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"expose", required_argument, NULL, OPT_EXPOSE},
	    {"workdir", required_argument, NULL, 'w'},
	    {"kernel", required_argument, NULL, OPT_KERNEL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char err[512], buf[IMAGE_TAG_MAX];
	int c;

	opterr = 0;
	optind = 1;
	/* "+": stop at the first non-option, the program. */
	while ((c = getopt_long(argc, argv, "+:t:f:o:e:m:w:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 't':
			if (image_tag_normalize(optarg, buf, sizeof(buf), err,
						sizeof(err)) < 0) {
				cli_error("%s", err);
				return -1;
			}
			if (strv_push(&o->tags, buf) < 0)
				goto nomem;
			break;
		case 'f':
			o->kilnfile = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'e':
			if (run_parse_env(optarg, &o->env) < 0)
				return -1;
			break;
		case 'm':
			if (run_parse_memory(optarg, &o->memory_mib) < 0)
				return -1;
			break;
		case OPT_FILE:
		case OPT_DIR: {
			const char *guest;
			char *host;

			if (run_split_file(optarg, &host, &guest) < 0 ||
			    (c == OPT_FILE && guest[1] == '\0')) {
				cli_error("invalid --%s '%s' (use HOST:GUEST, "
					  "GUEST an absolute path)",
					  c == OPT_FILE ? "file" : "dir",
					  optarg);
				return -1;
			}
			free(host);
			if (strv_push(c == OPT_FILE ? &o->files : &o->dirs,
				      optarg) < 0)
				goto nomem;
			break;
		}
		case OPT_EXPOSE:
			if (image_port_normalize(optarg, buf, sizeof(buf), err,
						 sizeof(err)) < 0) {
				cli_error("%s", err);
				return -1;
			}
			if (strv_push(&o->ports, buf) < 0)
				goto nomem;
			break;
		case 'w':
			if (optarg[0] != '/') {
				cli_error("invalid --workdir '%s' (use an "
					  "absolute guest path)",
					  optarg);
				return -1;
			}
			o->workdir = optarg;
			break;
		case OPT_KERNEL:
			o->kernel = optarg;
			break;
		case 'h':
			return 1;
		case ':':
			cli_error("option '%s' needs a value (see 'kiln build "
				  "--help')",
				  argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0)
				cli_error("unknown option '-%c' (see 'kiln "
					  "build --help')",
					  optopt);
			else
				cli_error("unknown option '%s' (see 'kiln "
					  "build --help')",
					  argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		o->program = argv[optind];
		o->args = argv + optind + 1;
		o->nargs = argc - optind - 1;
	}
	return 0;
nomem:
	cli_error("out of memory");
	return -1;
}

static int build_append(struct strv *to, const struct strv *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (strv_push(to, from->v[i]) < 0)
			return -1;
	return 0;
}

/*
 * The build spec: the Kilnfile's (if any) with the command line's
 * additions; the program resolved as kiln run resolves it.  Returns the
 * exit status of a failure after printing why, or 0.
 */
static int build_spec(const struct build_opts *o, struct image_build_spec *spec)
{
	const char *kilnfile = o->kilnfile;
	char err[1024], *shown = NULL, *exe;
	int status = KILN_EXIT_MONITOR;

	if (kilnfile == NULL && o->program == NULL) {
		if (access(BUILD_KILNFILE, F_OK) != 0) {
			cli_error("'kiln build' needs a program or a Kilnfile "
				  "(no ./" BUILD_KILNFILE
				  "; see 'kiln build --help')");
			return status;
		}
		kilnfile = BUILD_KILNFILE;
	}
	if (kilnfile != NULL) {
		if (o->program != NULL) {
			cli_error("give the program in the Kilnfile or on the "
				  "command line, not both ('%s' and '%s')",
				  kilnfile, o->program);
			return status;
		}
		if (kilnfile_load(kilnfile, spec, err, sizeof(err)) < 0) {
			cli_error("%s", err);
			return status;
		}
	} else {
		spec->program = strdup(o->program);
		if (spec->program == NULL)
			goto nomem;
		for (int i = 0; i < o->nargs; i++)
			if (strv_push(&spec->args, o->args[i]) < 0)
				goto nomem;
	}
	if (build_append(&spec->env, &o->env) < 0 ||
	    build_append(&spec->files, &o->files) < 0 ||
	    build_append(&spec->dirs, &o->dirs) < 0 ||
	    build_append(&spec->ports, &o->ports) < 0 ||
	    build_append(&spec->tags, &o->tags) < 0)
		goto nomem;
	if (o->memory_mib != 0)
		spec->memory_mib = o->memory_mib;
	if (o->workdir != NULL) {
		free(spec->workdir);
		spec->workdir = strdup(o->workdir);
		if (spec->workdir == NULL)
			goto nomem;
	}

	/* Host inputs, each a clear message and 125 before any work. */
	for (size_t i = 0; i < spec->files.n + spec->dirs.n; i++) {
		int is_dir = i >= spec->files.n;
		const char *s =
		    is_dir ? spec->dirs.v[i - spec->files.n] : spec->files.v[i];
		const char *guest;
		char *host;
		struct stat st;

		if (run_split_file(s, &host, &guest) < 0) {
			cli_error("invalid %s '%s' (use HOST:GUEST)",
				  is_dir ? "--dir" : "--file", s);
			return status;
		}
		if (stat(host, &st) < 0) {
			cli_error("%s: cannot find '%s': %s",
				  is_dir ? "--dir" : "--file", host,
				  strerror(errno));
			free(host);
			return status;
		}
		if (is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
			cli_error(is_dir ? "--dir: '%s' is not a directory"
					 : "--file: '%s' is not a regular file "
					   "(use --dir for a directory)",
				  host);
			free(host);
			return status;
		}
		free(host);
	}

	exe = run_find_program(spec->program, &shown, &status);
	if (exe == NULL)
		goto out;
	if (run_check_program(shown, exe, &status) < 0) {
		free(exe);
		goto out;
	}
	free(spec->program);
	spec->program = exe;
	spec->kernel = run_find_kernel(o->kernel);
	if (spec->kernel == NULL) {
		status = KILN_EXIT_MONITOR;
		goto out;
	}
	status = 0;
out:
	free(shown);
	return status;
nomem:
	cli_error("out of memory");
	return KILN_EXIT_MONITOR;
}

/*
 * The archive's destination while it is written: a nameless file in the
 * directory of the output path, linked there only when complete, so no
 * partial archive is ever visible (a named ".tmp" file that is removed on
 * failure where O_TMPFILE is missing).  "-" is stdout.
 */
struct build_out {
	int fd;
	int is_stdout;
	char *path;
	char *tmp; /* named fallback, or NULL */
};

static int build_out_open(struct build_out *out, const char *path)
{
	const char *slash;
	struct stat st;
	char *dir;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			cli_error("refusing to write an image archive to a "
				  "terminal (redirect stdout, or use -o FILE)");
			return -1;
		}
		out->fd = STDOUT_FILENO;
		out->is_stdout = 1;
		return 0;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_error("-o: '%s' is a directory (give a file name)", path);
		return -1;
	}
	slash = strrchr(path, '/');
	out->path = strdup(path);
	dir = slash == NULL   ? strdup(".")
	      : slash == path ? strdup("/")
			      : strndup(path, (size_t)(slash - path));
	if (out->path == NULL || dir == NULL) {
		free(dir);
		cli_error("out of memory");
		return -1;
	}
	out->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	/* Filesystems without O_TMPFILE say so with one of these. */
	if (out->fd < 0 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		out->tmp = util_asprintf("%s.tmp-XXXXXX", path);
		if (out->tmp != NULL)
			out->fd = mkostemp(out->tmp, O_CLOEXEC);
		if (out->fd >= 0)
			fchmod(out->fd, 0644);
		else {
			free(out->tmp);
			out->tmp = NULL;
		}
	}
	if (out->fd < 0) {
		cli_error("-o: cannot create '%s': %s", path, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

/* Drops a failed output: nothing stays on disk. */
static void build_out_abort(struct build_out *out)
{
	if (out->fd >= 0 && !out->is_stdout)
		close(out->fd);
	if (out->tmp != NULL)
		unlink(out->tmp);
	free(out->tmp);
	free(out->path);
	memset(out, 0, sizeof(*out));
	out->fd = -1;
}

/* Syncs the archive and gives it its name (replacing an older file). */
static int build_out_commit(struct build_out *out)
{
	char proc[64], *tmp = NULL;
	int rc = -1;

	if (out->is_stdout)
		return 0;
	if (fsync(out->fd) < 0) {
		cli_error("-o: cannot write '%s': %s", out->path,
			  strerror(errno));
		goto out;
	}
	if (out->tmp == NULL) {
		/* linkat cannot replace a file: link a unique name, then
		 * rename it over the target. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", out->fd);
		tmp = util_asprintf("%s.tmp-%ld", out->path, (long)getpid());
		if (tmp == NULL) {
			cli_error("out of memory");
			goto out;
		}
		unlink(tmp);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) <
		    0) {
			cli_error("-o: cannot create '%s': %s", out->path,
				  strerror(errno));
			free(tmp);
			goto out;
		}
		out->tmp = tmp;
	}
	if (rename(out->tmp, out->path) < 0) {
		cli_error("-o: cannot create '%s': %s", out->path,
			  strerror(errno));
		goto out;
	}
	free(out->tmp);
	out->tmp = NULL;
	rc = 0;
out:
	build_out_abort(out);
	return rc;
}

/*
 * Without -o the image goes to kilnd: POST /v1/images/load with the
 * archive in archive_fd (rewound), which kilnd verifies and stores with
 * its tags (cli/daemon.c starts kilnd first if none answers).  The ID goes
 * to stdout, as with -o.
 */
static int build_send_to_daemon(int archive_fd, const struct image *img)
{
	int status = cli_image_upload(archive_fd, NULL, 1);

	if (status != 0)
		return status;
	fprintf(stderr, "kiln: loaded image %.19s into kilnd", img->id);
	for (size_t i = 0; i < img->tags.n; i++)
		fprintf(stderr, "%s%s", i ? ", " : ", tagged ", img->tags.v[i]);
	fputc('\n', stderr);
	return 0;
}

/* errno of image_build -> kiln's exit status. */
static int build_status(int e)
{
	return e == ENOENT    ? KILN_EXIT_NOTFOUND
	       : e == ENOEXEC ? KILN_EXIT_NOEXEC
			      : KILN_EXIT_MONITOR;
}

int cmd_build(int argc, char **argv)
{
	struct build_opts o;
	struct image_build_spec spec;
	struct image img;
	struct build_out out;
	char err[1024];
	int status = KILN_EXIT_MONITOR, r, tmpfd = -1;

	memset(&o, 0, sizeof(o));
	memset(&out, 0, sizeof(out));
	out.fd = -1;
	image_build_spec_init(&spec);
	image_init(&img);
	run_std_fds();
	r = build_parse(argc, argv, &o);
	if (r != 0) {
		if (r > 0) {
			fputs(cmd_build_help, stdout);
			status = 0;
		}
		goto done;
	}
	status = build_spec(&o, &spec);
	if (status != 0)
		goto done;
	status = KILN_EXIT_MONITOR;

	if (o.output != NULL) {
		if (build_out_open(&out, o.output) < 0)
			goto done;
		if (image_build(&spec, out.fd, &img, err, sizeof(err)) < 0) {
			int e = errno;
			cli_error("%s", err);
			build_out_abort(&out);
			status = build_status(e);
			goto done;
		}
		if (build_out_commit(&out) < 0)
			goto done;
		/* With -o - stdout is the archive: the ID goes to stderr. */
		fprintf(strcmp(o.output, "-") == 0 ? stderr : stdout, "%s\n",
			img.id);
		fflush(stdout);
		fprintf(stderr, "kiln: wrote image archive '%s'", o.output);
		for (size_t i = 0; i < img.tags.n; i++)
			fprintf(stderr, "%s%s", i ? ", " : ", tagged ",
				img.tags.v[i]);
		fputc('\n', stderr);
		status = 0;
		goto done;
	}

	tmpfd = util_temp_fd(NULL, "kiln-image");
	if (tmpfd < 0) {
		cli_error("cannot create a temporary file: %s",
			  strerror(errno));
		goto done;
	}
	if (image_build(&spec, tmpfd, &img, err, sizeof(err)) < 0) {
		int e = errno;
		cli_error("%s", err);
		status = build_status(e);
		goto done;
	}
	if (lseek(tmpfd, 0, SEEK_SET) < 0) {
		cli_error("cannot rewind the image archive: %s",
			  strerror(errno));
		goto done;
	}
	status = build_send_to_daemon(tmpfd, &img);
done:
	if (tmpfd >= 0)
		close(tmpfd);
	if (out.fd >= 0 || out.path != NULL)
		build_out_abort(&out);
	image_release(&img);
	image_build_spec_release(&spec);
	build_opts_release(&o);
	return status;
}
