/*
 * Unit tests of lib/util.c: memory sizes ("64M", "1G", "512K" rounds up
 * to 1 MiB, a plain number is MiB, nonsense is refused with the message
 * users see), lexical path joining, dirname, string vectors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib_test.h"
#include "util.h"

static void test_sizes(void)
{
	static const struct {
		const char *in;
		uint64_t mib;
	} good[] = {
	    {"64M", 64},  {"64m", 64},	 {"1G", 1024}, {"3g", 3072},
	    {"512K", 1},  {"1536k", 2},	 {"1025K", 2}, {"2048", 2048},
	    {"0", 0},	  {"64MiB", 64}, {"64MB", 64}, {"1gib", 1024},
	    {"4096K", 4},
	};
	static const char *const bad[] = {
	    "",
	    "abc",
	    "M",
	    "-1",
	    "64X",
	    "64MM",
	    "1.5G",
	    " 64M",
	    "64M ",
	    "64Mi",
	    "99999999999999999999999",
	    "0x40",
	};
	char err[256];

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(good); i++) {
		uint64_t mib = 12345;
		int r = util_parse_mib(good[i].in, &mib, err, sizeof(err));
		CHECK(r == 0 && mib == good[i].mib,
		      "size '%s' is %llu MiB (got "
		      "%d, %llu)",
		      good[i].in, (unsigned long long)good[i].mib, r,
		      (unsigned long long)mib);
	}
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
		uint64_t mib = 0;
		err[0] = '\0';
		int r = util_parse_mib(bad[i], &mib, err, sizeof(err));
		CHECK(r == -1 && lib_test_has(err, "invalid memory size") &&
			  lib_test_has(err, "use e.g. 64M or 1G"),
		      "size '%s' is refused: %s", bad[i], err);
	}
	util_parse_mib("abc", &(uint64_t){0}, err, sizeof(err));
	CHECK(strcmp(err, "invalid memory size 'abc' (use e.g. 64M or 1G)") ==
		  0,
	      "the message quotes the input: %s", err);
}

static void test_paths(void)
{
	static const struct {
		const char *base, *rel, *want;
	} cases[] = {
	    {"/work", "examples/hello", "/work/examples/hello"},
	    {"/work", "./examples/./hello", "/work/examples/hello"},
	    {"/work/a", "../b", "/work/b"},
	    {"/work", "/bin/echo", "/bin/echo"},
	    {"/", "x", "/x"},
	    {"/a", "../../..", "/"},
	    {"/a//b/", "c//d/", "/a/b/c/d"},
	    {NULL, "/usr/./lib/../bin", "/usr/bin"},
	};

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(cases); i++) {
		char *got = util_path_join(cases[i].base, cases[i].rel);
		CHECK(got && strcmp(got, cases[i].want) == 0,
		      "join('%s', '%s') = '%s' (got '%s')",
		      cases[i].base ? cases[i].base : "NULL", cases[i].rel,
		      cases[i].want, got ? got : "NULL");
		free(got);
	}
	char *d = util_dirname("/usr/bin/echo");
	CHECK(d && strcmp(d, "/usr/bin") == 0, "dirname of /usr/bin/echo");
	free(d);
	d = util_dirname("/echo");
	CHECK(d && strcmp(d, "/") == 0, "dirname of /echo is /");
	free(d);
}

static void test_strv(void)
{
	struct strv sv = {0};
	int ok = 1;

	for (int i = 0; i < 100; i++) {
		char buf[16];
		snprintf(buf, sizeof(buf), "s%d", i);
		ok &= strv_push(&sv, buf) == 0;
	}
	CHECK(ok && sv.n == 100 && sv.v[100] == NULL, "100 pushes, NULL-ended");
	CHECK(strv_find(&sv, "s42") == 42 && strv_find(&sv, "x") == -1,
	      "strv_find");
	strv_release(&sv);
	CHECK(sv.n == 0 && sv.v == NULL, "released vector is empty");
	char *s = util_asprintf("%s-%d", "a", 7);
	CHECK(s && strcmp(s, "a-7") == 0, "util_asprintf");
	free(s);
}

int main(void)
{
	test_sizes();
	test_paths();
	test_strv();
	return lib_test_done("lib_util");
}
