/*
 * Unit tests of lib/kilnfile.c: shell-like word splitting (quotes,
 * escapes, empty words, nothing expanded), a full Kilnfile parsed into the
 * exact build spec (paths joined to the Kilnfile's directory, ports and
 * tags normalized, comments, blank lines, CRLF, lower-case instructions),
 * each kind of bad line refused with "NAME:LINE: message", and
 * kilnfile_load resolving paths against the file's real directory.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kilnfile.h"
#include "lib_test.h"

static int words_are(const char *line, const char *const *want, size_t n)
{
	struct strv w = {0};
	char err[256];
	int ok = kilnfile_words(line, &w, err, sizeof(err)) == 0 && w.n == n;

	for (size_t i = 0; ok && i < n; i++)
		ok = strcmp(w.v[i], want[i]) == 0;
	if (!ok) {
		NOTE("words of [%s]:", line);
		for (size_t i = 0; i < w.n; i++)
			NOTE("  [%s]", w.v[i]);
	}
	strv_release(&w);
	return ok;
}

static void test_words(void)
{
	struct strv w = {0};
	char err[256];

#define WORDS(line, ...)                                                       \
	do {                                                                   \
		static const char *const want[] = {__VA_ARGS__};               \
		CHECK(words_are(line, want, UTIL_ARRAY_SIZE(want)),            \
		      "words of [%s]", line);                                  \
	} while (0)
	WORDS("a b\tc", "a", "b", "c");
	WORDS("  -r /srv   -p 8080  ", "-r", "/srv", "-p", "8080");
	WORDS("'a b' \"c d\"", "a b", "c d");
	WORDS("x'y z'w", "xy zw");
	WORDS("a\\ b", "a b");
	WORDS("'' \"\"", "", "");
	WORDS("\"a\\\"b\\\\c\\$d\\`e\\n\"", "a\"b\\c$d`e\\n");
	WORDS("'no \\escapes \"here'", "no \\escapes \"here");
	WORDS("$HOME ~ *.c a#b", "$HOME", "~", "*.c", "a#b");
	WORDS("x '#' \\# # y z", "x", "#", "#");
	CHECK(words_are("", NULL, 0) && words_are("   ", NULL, 0),
	      "blank text has no words");
#undef WORDS
	CHECK(kilnfile_words("'open", &w, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "unterminated ' quote"),
	      "unterminated single quote: %s", err);
	CHECK(kilnfile_words("a \"open", &w, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "unterminated \" quote"),
	      "unterminated double quote: %s", err);
	CHECK(kilnfile_words("a \\", &w, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "backslash"),
	      "trailing backslash: %s", err);
	strv_release(&w);
}

static void test_parse_good(void)
{
	static const char text[] = "# a web server\n"
				   "\n"
				   "PROGRAM ./examples/httpd\n"
				   "ARGS -r /srv -p 8080\n"
				   "  args --name 'my site' a#b  # a comment\n"
				   "ENV A=1 B=\"two words\"\r\n"
				   "FILE index.html /srv/index.html\n"
				   "FILE /etc/hostname /etc/hostname\n"
				   "DIR ./site /srv/site\n"
				   "WORKDIR /srv\n"
				   "EXPOSE 8080 53/udp\n"
				   "Memory 64M\n"
				   "TAG web web:1\n"
				   "\t# indented comment\n";
	struct image_build_spec s;
	char err[512] = "";

	image_build_spec_init(&s);
	CHECK(kilnfile_parse(text, "Kilnfile", "/proj", &s, err, sizeof(err)) ==
		  0,
	      "a full Kilnfile parses: %s", err);
	CHECK(s.program && strcmp(s.program, "/proj/./examples/httpd") == 0,
	      "PROGRAM joined to the Kilnfile's directory: %s", s.program);
	CHECK(s.args.n == 7 && strcmp(s.args.v[0], "-r") == 0 &&
		  strcmp(s.args.v[4], "--name") == 0 &&
		  strcmp(s.args.v[5], "my site") == 0 &&
		  strcmp(s.args.v[6], "a#b") == 0,
	      "ARGS lines append, quotes group, ' #' starts a comment (%zu)",
	      s.args.n);
	CHECK(s.env.n == 2 && strcmp(s.env.v[1], "B=two words") == 0,
	      "ENV with quotes, CRLF line end stripped");
	CHECK(s.files.n == 2 &&
		  strcmp(s.files.v[0], "/proj/index.html:/srv/index.html") ==
		      0 &&
		  strcmp(s.files.v[1], "/etc/hostname:/etc/hostname") == 0,
	      "FILE as HOST:GUEST, relative HOST joined: %s",
	      s.files.n ? s.files.v[0] : "");
	CHECK(s.dirs.n == 1 &&
		  strcmp(s.dirs.v[0], "/proj/./site:/srv/site") == 0,
	      "DIR");
	CHECK(s.workdir && strcmp(s.workdir, "/srv") == 0, "WORKDIR");
	CHECK(s.ports.n == 2 && strcmp(s.ports.v[0], "8080/tcp") == 0 &&
		  strcmp(s.ports.v[1], "53/udp") == 0,
	      "EXPOSE normalized");
	CHECK(s.memory_mib == 64, "MEMORY (instruction names ignore case)");
	CHECK(s.tags.n == 2 && strcmp(s.tags.v[0], "web:latest") == 0 &&
		  strcmp(s.tags.v[1], "web:1") == 0,
	      "TAG normalized");
	image_build_spec_release(&s);

	image_build_spec_init(&s);
	CHECK(kilnfile_parse("PROGRAM httpd\n", "K", "/p", &s, err,
			     sizeof(err)) == 0 &&
		  strcmp(s.program, "httpd") == 0,
	      "a bare PROGRAM name is left for the PATH search");
	image_build_spec_release(&s);

	/* The parse appends to what the spec holds. */
	image_build_spec_init(&s);
	strv_push(&s.env, "FIRST=1");
	CHECK(kilnfile_parse("PROGRAM /bin/x\nENV SECOND=2", "K", "/p", &s, err,
			     sizeof(err)) == 0 &&
		  s.env.n == 2 && strcmp(s.env.v[1], "SECOND=2") == 0 &&
		  strcmp(s.program, "/bin/x") == 0,
	      "entries are appended; no final newline needed");
	image_build_spec_release(&s);
}

static void test_parse_bad(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"PROGRAM x\n\n\n\n\n\nCOPYY a b\n",
	     "Kilnfile:7: unknown instruction 'COPYY'"},
	    {"PROGRAM a\nPROGRAM b\n",
	     "Kilnfile:2: PROGRAM given twice (first on line 1)"},
	    {"PROGRAM a b\n", "Kilnfile:1: PROGRAM takes one program"},
	    {"PROGRAM\n", "Kilnfile:1: PROGRAM takes one program"},
	    {"PROGRAM ''\n", "Kilnfile:1: PROGRAM takes one program"},
	    {"ENV\nPROGRAM a\n", "Kilnfile:1: ENV needs KEY=VALUE"},
	    {"PROGRAM a\nENV FOO\n",
	     "Kilnfile:2: ENV entry 'FOO' is not KEY=VALUE"},
	    {"PROGRAM a\nENV =x\n", "Kilnfile:2: ENV entry '=x'"},
	    {"PROGRAM a\nFILE x\n",
	     "Kilnfile:2: FILE takes a host path and a guest path, got 1 word"},
	    {"PROGRAM a\nFILE x srv/x\n",
	     "Kilnfile:2: FILE: guest path 'srv/x' is not absolute"},
	    {"PROGRAM a\nFILE '' /x\n", "Kilnfile:2: FILE: empty host path"},
	    {"PROGRAM a\nFILE x /a:/b\n",
	     "Kilnfile:2: FILE: guest path '/a:/b' must not contain ':/'"},
	    {"PROGRAM a\nDIR a b c\n",
	     "Kilnfile:2: DIR takes a host path and a guest path, got 3 words"},
	    {"PROGRAM a\nWORKDIR srv\n",
	     "Kilnfile:2: WORKDIR takes one absolute guest path"},
	    {"PROGRAM a\nWORKDIR /a\nWORKDIR /b\n",
	     "Kilnfile:3: WORKDIR given twice (first on line 2)"},
	    {"PROGRAM a\nEXPOSE 80/sctp\n",
	     "Kilnfile:2: invalid port '80/sctp'"},
	    {"PROGRAM a\nEXPOSE\n", "Kilnfile:2: EXPOSE needs PORT"},
	    {"PROGRAM a\nMEMORY lots\n", "Kilnfile:2: invalid memory size"},
	    {"PROGRAM a\nMEMORY 1M\n",
	     "Kilnfile:2: memory size '1M' is outside 2M to 3G"},
	    {"PROGRAM a\nMEMORY 4G\n", "Kilnfile:2: memory size '4G'"},
	    {"PROGRAM a\nMEMORY 64M\nMEMORY 32M\n",
	     "Kilnfile:3: MEMORY given twice"},
	    {"PROGRAM a\nMEMORY 64 M\n", "Kilnfile:2: MEMORY takes one size"},
	    {"PROGRAM a\nTAG Web:1\n", "Kilnfile:2: invalid image name 'Web'"},
	    {"PROGRAM a\nTAG web:-1\n", "Kilnfile:2: invalid tag '-1'"},
	    {"PROGRAM a\nTAG\n", "Kilnfile:2: TAG needs NAME[:TAG]"},
	    {"PROGRAM a\nARGS 'open\n", "Kilnfile:2: unterminated ' quote"},
	    {"PROGRAM a\nARGS x \\\ny\n", "Kilnfile:2: the line ends with a"},
	    {"# nothing\n\nARGS x\n", "Kilnfile: no PROGRAM line"},
	    {"", "Kilnfile: no PROGRAM line"},
	};
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
		struct image_build_spec s;
		char err[512] = "";

		image_build_spec_init(&s);
		CHECK(kilnfile_parse(bad[i].text, "Kilnfile", "/p", &s, err,
				     sizeof(err)) < 0 &&
			  strncmp(err, bad[i].want, strlen(bad[i].want)) == 0,
		      "refused: %s", err);
		image_build_spec_release(&s);
	}
}

static void test_load(void)
{
	char *dir = lib_test_tmpdir(), path[4200], link[4200], real[4200],
	     want[4300], err[512] = "";
	struct image_build_spec s;

	snprintf(path, sizeof(path), "%s/proj", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proj/Kilnfile", dir);
	lib_test_write(path, "PROGRAM ./srv\nFILE a.txt /a.txt\n", 32);
	snprintf(link, sizeof(link), "%s/alias", dir);
	snprintf(real, sizeof(real), "%s/proj", dir);
	CHECK(symlink(real, link) == 0, "symlink alias -> proj");
	snprintf(path, sizeof(path), "%s/alias/Kilnfile", dir);
	image_build_spec_init(&s);
	CHECK(kilnfile_load(path, &s, err, sizeof(err)) == 0,
	      "kilnfile_load: %s", err);
	/* realpath of the directory: /tmp may itself be a symlink. */
	{
		char rdir[4200];
		if (realpath(real, rdir) == NULL)
			rdir[0] = '\0';
		snprintf(want, sizeof(want), "%s/./srv", rdir);
		CHECK(s.program && strcmp(s.program, want) == 0,
		      "paths are relative to the Kilnfile's real directory: "
		      "%s",
		      s.program);
		snprintf(want, sizeof(want), "%s/a.txt:/a.txt", rdir);
		CHECK(s.files.n == 1 && strcmp(s.files.v[0], want) == 0,
		      "FILE too: %s", s.files.n ? s.files.v[0] : "");
	}
	image_build_spec_release(&s);

	image_build_spec_init(&s);
	lib_test_write(path, "PROGRAM ./x\nBOGUS\n", 18);
	CHECK(kilnfile_load(path, &s, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "alias/Kilnfile:2: unknown instruction"),
	      "messages name the file as given: %s", err);
	image_build_spec_release(&s);

	image_build_spec_init(&s);
	lib_test_write(path, "PROGRAM x\0y\n", 12);
	CHECK(kilnfile_load(path, &s, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "not a text file"),
	      "a NUL byte is refused: %s", err);
	image_build_spec_release(&s);

	image_build_spec_init(&s);
	snprintf(path, sizeof(path), "%s/none/Kilnfile", dir);
	CHECK(kilnfile_load(path, &s, err, sizeof(err)) < 0 &&
		  lib_test_has(err, "cannot read the Kilnfile") &&
		  lib_test_has(err, "No such file"),
	      "a missing Kilnfile: %s", err);
	image_build_spec_release(&s);
	lib_test_rmdir(dir);
	free(dir);
}

int main(void)
{
	test_words();
	test_parse_good();
	test_parse_bad();
	test_load();
	return lib_test_done("lib_kilnfile");
}
