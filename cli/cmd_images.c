/*
 * The image commands that talk to kilnd:
 *   kiln images [-q] [--json]       REPOSITORY TAG ID CREATED SIZE
 *   kiln rmi [-f] IMAGE...          untag, or remove with its blobs
 *   kiln tag IMAGE NAME[:TAG]
 *   kiln save [-o FILE] IMAGE       the archive (stdout if no -o)
 *   kiln load [-i FILE] [-t TAG]    an archive (stdin if no -i)
 * IMAGE is a tag, an ID or a unique ID prefix of 4+ hex digits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "kiln/abi.h"
#include "util.h"

static const char cmd_images_help[] =
    "usage: kiln images [-q] [--json]\n"
    "\n"
    "Lists the images in kilnd's store, one line per tag: REPOSITORY TAG\n"
    "ID CREATED SIZE (ID: the first 12 hex digits of sha256:...).\n"
    "\n"
    "Options:\n"
    "  -q, --quiet    IDs only (each image once)\n"
    "      --json     the images as a JSON array (docs/api.md)\n"
    "  -h, --help     show this help\n";

static const char cmd_rmi_help[] =
    "usage: kiln rmi [-f] IMAGE...\n"
    "\n"
    "Removes a tag; when it was the image's last tag (or IMAGE is an ID),\n"
    "removes the image and the blobs no other image uses.  An image that\n"
    "an instance uses is refused; -f removes it anyway when none of them\n"
    "runs (they then cannot start again).\n"
    "\n"
    "Options:\n"
    "  -f, --force    remove an image that stopped instances use\n";

static const char cmd_tag_help[] =
    "usage: kiln tag IMAGE NAME[:TAG]\n"
    "\n"
    "Gives IMAGE another tag (TAG defaults to latest); a tag names one\n"
    "image, so it moves from the image that had it.\n";

static const char cmd_save_help[] =
    "usage: kiln save [-o FILE] IMAGE\n"
    "\n"
    "Writes IMAGE as an archive (a tar with its manifest, tags and blobs;\n"
    "docs/image-format.md) to FILE, or to stdout when it is not a\n"
    "terminal.  'kiln load' reads it back, here or on another host.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   where to write (replaced only once complete)\n";

static const char cmd_load_help[] =
    "usage: kiln load [-i FILE] [-t NAME[:TAG]] [-q]\n"
    "\n"
    "Loads an image archive (from 'kiln save' or 'kiln build -o') into\n"
    "kilnd's store, from FILE or stdin.  Every blob is verified.\n"
    "\n"
    "Options:\n"
    "  -i, --input FILE    read FILE instead of stdin\n"
    "  -t, --tag TAG       also tag the image\n"
    "  -q, --quiet         print the image ID only\n";

static int images_opts(const char *cmd, const char *help, int argc, char **argv,
		       const char *shortopts, const char **arg, int *flag,
		       int *json)
{
	static const struct option longopts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"force", no_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"input", required_argument, NULL, 'i'},
	    {"tag", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return 1;
		}
		if (c == '?' || c == ':' ||
		    (c != 'j' && strchr(shortopts, c) == NULL) ||
		    (c == 'j' && json == NULL)) {
			if (c != '?' && c != ':') {
				cli_error("option '%s' is not for 'kiln %s' "
					  "(see 'kiln %s --help')",
					  argv[optind - 1], cmd, cmd);
				return -1;
			}
			cli_usage_error(cmd, c, argv);
			return -1;
		}
		if (c == 'j')
			*json = 1;
		else if (c == 'o' || c == 'i' || c == 't')
			arg[c == 't' ? 1 : 0] = optarg;
		else
			*flag = 1;
	}
	return 0;
}

static void images_size(json_int_t n, char *buf, size_t len)
{
	if (n >= 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)n / (1024 * 1024));
	else
		snprintf(buf, len, "%.1f KiB", (double)n / 1024);
}

int cmd_images(int argc, char **argv)
{
	const char *arg[2] = {0};
	int quiet = 0, as_json = 0, r0;
	struct cli_resp r;
	size_t i;
	json_t *v;

	r0 = images_opts("images", cmd_images_help, argc, argv, ":qh", arg,
			 &quiet, &as_json);
	if (r0 != 0)
		return r0 > 0 ? 0 : KILN_EXIT_MONITOR;
	if (optind < argc) {
		cli_error("'kiln images' takes no arguments (see 'kiln images "
			  "--help')");
		return KILN_EXIT_MONITOR;
	}
	if (!cli_api_list("/v1/images", as_json, &r, &r0))
		return r0;
	if (!quiet)
		printf("%-30s %-15s %-12s %-8s %s\n", "REPOSITORY", "TAG", "ID",
		       "CREATED", "SIZE");
	json_array_foreach(r.json, i, v)
	{
		const char *id = json_string_value(json_object_get(v, "id"));
		const char *hex =
		    id && strncmp(id, "sha256:", 7) == 0 ? id + 7 : "?";
		json_t *tags = json_object_get(v, "tags");
		char when[16], size[32];
		size_t k, n = json_array_size(tags);

		if (quiet) {
			printf("%.12s\n", hex);
			continue;
		}
		cli_since(json_string_value(json_object_get(v, "created_at")),
			  when, sizeof(when));
		images_size(json_integer_value(json_object_get(v, "size")),
			    size, sizeof(size));
		for (k = 0; k < (n ? n : 1); k++) {
			const char *t =
			    n ? json_string_value(json_array_get(tags, k))
			      : NULL;
			const char *colon = t ? strrchr(t, ':') : NULL;
			printf("%-30.*s %-15s %-12.12s %-8s %s\n",
			       t ? (int)(colon - t) : 6, t ? t : "<none>",
			       colon ? colon + 1 : "<none>", hex, when, size);
		}
	}
	cli_resp_release(&r);
	return 0;
}

int cmd_rmi(int argc, char **argv)
{
	const char *arg[2] = {0};
	int force = 0, worst = 0, r0;

	r0 = images_opts("rmi", cmd_rmi_help, argc, argv, ":fh", arg, &force,
			 NULL);
	if (r0 != 0)
		return r0 > 0 ? 0 : KILN_EXIT_MONITOR;
	if (optind >= argc) {
		cli_error("'kiln rmi' needs at least one image (see 'kiln rmi "
			  "--help')");
		return KILN_EXIT_MONITOR;
	}
	for (int i = optind; i < argc; i++) {
		char *path = cli_path(
		    force ? "/v1/images/%s?force=1" : "/v1/images/%s", argv[i]);
		struct cli_resp r;
		int st = 0;

		if (cli_api("DELETE", path, NULL, &r) < 0) {
			st = KILN_EXIT_MONITOR;
		} else if (r.status != 200) {
			st = cli_api_error(&r);
		} else {
			json_t *t,
			    *untagged = json_object_get(r.json, "untagged");
			const char *del = json_string_value(
			    json_object_get(r.json, "deleted"));
			size_t k;
			json_array_foreach(untagged, k, t)
			    printf("untagged: %s\n", json_string_value(t));
			if (del != NULL)
				printf("deleted: %s\n", del);
		}
		cli_resp_release(&r);
		free(path);
		if (st == KILN_EXIT_MONITOR || (st != 0 && worst == 0))
			worst = st;
	}
	return worst;
}

int cmd_tag(int argc, char **argv)
{
	const char *arg[2] = {0};
	int unused = 0, st = 0, r0;
	struct cli_resp r;
	char *path;

	r0 = images_opts("tag", cmd_tag_help, argc, argv, ":h", arg, &unused,
			 NULL);
	if (r0 != 0)
		return r0 > 0 ? 0 : KILN_EXIT_MONITOR;
	if (argc - optind != 2) {
		cli_error("'kiln tag' needs an image and a new tag: kiln tag "
			  "IMAGE NAME[:TAG]");
		return KILN_EXIT_MONITOR;
	}
	path = cli_path("/v1/images/%s/tag?tag=%s", argv[optind],
			argv[optind + 1]);
	if (cli_api("POST", path, NULL, &r) < 0)
		st = KILN_EXIT_MONITOR;
	else if (r.status != 201)
		st = cli_api_error(&r);
	cli_resp_release(&r);
	free(path);
	return st;
}

struct save_out {
	int fd;
	int failed;
};

static size_t save_sink(const char *data, size_t n, void *cls)
{
	struct save_out *o = cls;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(o->fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->failed = errno ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	return n;
}

int cmd_save(int argc, char **argv)
{
	const char *arg[2] = {0};
	int unused = 0, st = 0, r0;
	struct save_out o = {.fd = 1};
	char *tmp = NULL, *path;
	struct cli_resp r;

	r0 = images_opts("save", cmd_save_help, argc, argv, ":o:h", arg,
			 &unused, NULL);
	if (r0 != 0)
		return r0 > 0 ? 0 : KILN_EXIT_MONITOR;
	if (argc - optind != 1) {
		cli_error("'kiln save' needs one image (see 'kiln save "
			  "--help')");
		return KILN_EXIT_MONITOR;
	}
	if (arg[0] == NULL && isatty(1)) {
		cli_error("refusing to write an archive to a terminal (use -o "
			  "FILE or redirect stdout)");
		return KILN_EXIT_MONITOR;
	}
	if (arg[0] != NULL) {
		tmp = util_asprintf("%s.tmp.%d", arg[0], (int)getpid());
		o.fd = tmp ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				  0644)
			   : -1;
		if (o.fd < 0) {
			cli_error("cannot create '%s': %s", arg[0],
				  strerror(errno));
			free(tmp);
			return KILN_EXIT_MONITOR;
		}
	}
	path = cli_path("/v1/images/%s/archive", argv[optind]);
	if (cli_api_stream("GET", path, save_sink, &o, NULL, &r) < 0)
		st = KILN_EXIT_MONITOR;
	else if (r.status != 200)
		st = cli_api_error(&r);
	else if (o.failed) {
		cli_error("cannot write '%s': %s", arg[0] ? arg[0] : "stdout",
			  strerror(o.failed));
		st = KILN_EXIT_MONITOR;
	}
	free(path);
	cli_resp_release(&r);
	if (tmp != NULL) {
		if (st == 0 && (fsync(o.fd) < 0 || close(o.fd) < 0)) {
			cli_error("cannot write '%s': %s", arg[0],
				  strerror(errno));
			st = KILN_EXIT_MONITOR;
		} else if (st != 0) {
			close(o.fd);
		}
		if (st == 0 && rename(tmp, arg[0]) < 0) {
			cli_error("cannot write '%s': %s", arg[0],
				  strerror(errno));
			st = KILN_EXIT_MONITOR;
		}
		if (st != 0)
			unlink(tmp);
		free(tmp);
	}
	return st;
}

int cli_image_upload(int fd, const char *tag, int quiet)
{
	char *path = tag ? cli_path("/v1/images/load?tag=%s", tag)
			 : cli_path("/v1/images/load");
	struct cli_resp r;
	int st = 0;

	if (cli_api_upload(path, fd, &r) < 0) {
		st = KILN_EXIT_MONITOR;
	} else if (r.status != 201) {
		st = cli_api_error(&r);
	} else {
		const char *id =
		    json_string_value(json_object_get(r.json, "id"));
		json_t *tags = json_object_get(r.json, "tags"), *t;
		size_t k;

		if (quiet) {
			printf("%s\n", id ? id : "?");
		} else {
			printf("loaded %s", id ? id : "?");
			json_array_foreach(tags, k, t) printf(
			    "%s%s", k ? ", " : " (", json_string_value(t));
			printf("%s\n", json_array_size(tags) ? ")" : "");
		}
	}
	cli_resp_release(&r);
	free(path);
	return st;
}

int cmd_load(int argc, char **argv)
{
	const char *arg[2] = {0};
	int quiet = 0, fd = 0, st, r0;

	r0 = images_opts("load", cmd_load_help, argc, argv, ":i:t:qh", arg,
			 &quiet, NULL);
	if (r0 != 0)
		return r0 > 0 ? 0 : KILN_EXIT_MONITOR;
	if (optind < argc) {
		cli_error("'kiln load' takes no arguments; the archive comes "
			  "with -i FILE or on stdin");
		return KILN_EXIT_MONITOR;
	}
	if (arg[0] != NULL) {
		fd = open(arg[0], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("cannot open '%s': %s", arg[0],
				  strerror(errno));
			return KILN_EXIT_MONITOR;
		}
	} else if (isatty(0)) {
		cli_error("no archive: use -i FILE or pipe one to stdin");
		return KILN_EXIT_MONITOR;
	}
	st = cli_image_upload(fd, arg[1], quiet);
	if (fd > 0)
		close(fd);
	return st;
}
