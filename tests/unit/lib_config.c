/*
 * Unit tests of lib/config.c: percent-encoding as abi.h defines it
 * (every byte from 1 to 255 round-trips; '%', bytes below 0x21 and from
 * 0x7f up are escaped, nothing else), the exact text of a config, -e
 * overriding by key in place, and parse(format(c)) == c.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lib_test.h"

static void test_encoding(void)
{
	char all[256], *enc, *dec = NULL, err[128];
	int escaped_ok = 1;

	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	enc = config_encode(all);
	CHECK(enc != NULL, "encode all bytes 1..255");
	for (const char *p = enc; enc && *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x21 || c >= 0x7f)
			escaped_ok = 0;
	}
	CHECK(escaped_ok, "encoded text has no space, control or high byte");
	CHECK(config_decode(enc, &dec, err, sizeof(err)) == 0 &&
		  strcmp(dec, all) == 0,
	      "every byte 1..255 round-trips");
	free(enc);
	free(dec);

	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain/path-1.2_x", "plain/path-1.2_x"},
	    {"a b", "a%20b"},
	    {"100%", "100%25"},
	    {"x=y%41%", "x=y%2541%25"},
	    {"tab\there", "tab%09here"},
	    {"line\nbreak", "line%0Abreak"},
	    {"\x7f\xc3\xa9", "%7F%C3%A9"},
	    {"", ""},
	    {"'\"", "'\""},
	};
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(cases); i++) {
		enc = config_encode(cases[i].in);
		CHECK(enc && strcmp(enc, cases[i].out) == 0,
		      "encode -> '%s' (got '%s')", cases[i].out, enc);
		dec = NULL;
		CHECK(config_decode(cases[i].out, &dec, err, sizeof(err)) ==
			      0 &&
			  strcmp(dec, cases[i].in) == 0,
		      "decode '%s'", cases[i].out);
		free(enc);
		free(dec);
	}
	CHECK(config_decode("%4", &dec, err, sizeof(err)) < 0 &&
		  config_decode("%zz", &dec, err, sizeof(err)) < 0 &&
		  config_decode("%00", &dec, err, sizeof(err)) < 0,
	      "bad escapes and NUL are refused");
	CHECK(config_decode("%c3%A9", &dec, err, sizeof(err)) == 0 &&
		  strcmp(dec, "\xc3\xa9") == 0,
	      "lower-case hex decodes");
	free(dec);
}

static void test_format(void)
{
	struct config c, back;
	char err[128], *text, *text2;

	config_init(&c);
	c.exe = strdup("/usr/bin/echo");
	strv_push(&c.args, "/usr/bin/echo");
	strv_push(&c.args, "two  spaces");
	strv_push(&c.args, "");
	strv_push(&c.args, "%41");
	CHECK(config_env_set(&c, "PATH=/bin", err, sizeof(err)) == 0 &&
		  config_env_set(&c, "HOME=/", err, sizeof(err)) == 0 &&
		  config_env_set(&c, "PATH=/usr/bin:/bin", err, sizeof(err)) ==
		      0 &&
		  config_env_set(&c, "EMPTY=", err, sizeof(err)) == 0,
	      "env entries set");
	CHECK(c.env.n == 3 && strcmp(c.env.v[0], "PATH=/usr/bin:/bin") == 0,
	      "a later entry replaces the same key in place");
	CHECK(config_env_set(&c, "NOEQUALS", err, sizeof(err)) < 0 &&
		  lib_test_has(err, "KEY=VALUE") &&
		  config_env_set(&c, "=x", err, sizeof(err)) < 0,
	      "entries without '=' or key are refused");

	text = config_format(&c);
	CHECK(text && strcmp(text, "exe /usr/bin/echo\n"
				   "arg /usr/bin/echo\n"
				   "arg two%20%20spaces\n"
				   "arg \n"
				   "arg %2541\n"
				   "env PATH=/usr/bin:/bin\n"
				   "env HOME=/\n"
				   "env EMPTY=\n"
				   "cwd /\n") == 0,
	      "config text is exactly as documented");

	config_init(&back);
	CHECK(config_parse(text, &back, err, sizeof(err)) == 0, "parses back");
	text2 = config_format(&back);
	CHECK(text2 && strcmp(text, text2) == 0 && back.args.n == 4 &&
		  strcmp(back.args.v[1], "two  spaces") == 0 &&
		  strcmp(back.args.v[2], "") == 0,
	      "parse(format(c)) == c");
	CHECK(config_parse("future-key something\nexe /x\n", &back, err,
			   sizeof(err)) == 0 &&
		  strcmp(back.exe, "/x") == 0,
	      "unknown keys are ignored");
	free(text);
	free(text2);
	config_release(&back);
	config_release(&c);
}

int main(void)
{
	test_encoding();
	test_format();
	return lib_test_done("lib_config");
}
