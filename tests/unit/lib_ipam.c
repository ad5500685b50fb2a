/*
 * Unit tests of lib/ipam.c: subnet parsing (every rejection with its
 * message), gateway/broadcast/capacity arithmetic at both ends of the
 * prefix range, overlap, and the allocator: lowest free first, holes
 * reused, unsorted and foreign input ignored, exhaustion reported with
 * the network's name and size.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ipam.h"
#include "lib_test.h"

static uint32_t A(const char *s)
{
	uint32_t a = 0;

	if (ipam_addr_parse(s, &a) < 0) {
		printf("bad address in test: %s\n", s);
		exit(2);
	}
	return a;
}

static void parse_ok(const char *s, const char *net, int prefix)
{
	struct ipam_subnet sn;
	char err[256] = "", back[24] = "";
	int r = ipam_subnet_parse(s, &sn, err, sizeof(err));

	if (r == 0)
		ipam_subnet_format(&sn, back, sizeof(back));
	CHECK(r == 0 && sn.net == A(net) && sn.prefix == prefix &&
		  strcmp(back, s) == 0,
	      "'%s' parses to %s/%d and formats back (%s%s)", s, net, prefix,
	      back, err);
}

static void parse_bad(const char *s, const char *want)
{
	struct ipam_subnet sn = {0, 0};
	char err[256] = "";
	int r = ipam_subnet_parse(s, &sn, err, sizeof(err));

	CHECK(r == -1 && lib_test_has(err, want) && sn.prefix == 0,
	      "'%s' is refused with '%s' (got: %s)", s, want, err);
}

static void test_parse(void)
{
	parse_ok("10.88.0.0/16", "10.88.0.0", 16);
	parse_ok("10.89.0.0/24", "10.89.0.0", 24);
	parse_ok("10.0.0.0/8", "10.0.0.0", 8);
	parse_ok("192.168.7.252/30", "192.168.7.252", 30);
	parse_ok("172.16.0.0/12", "172.16.0.0", 12);

	parse_bad("10.88.0.1/16", "invalid subnet '10.88.0.1/16': host bits "
				  "are set (use 10.88.0.0/16)");
	parse_bad("10.89.0.5/30", "host bits are set (use 10.89.0.4/30)");
	parse_bad("10.0.0.0/7", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/31", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/32", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/0", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/-8", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/+8", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/16x", "the prefix length must be 8 to 30");
	parse_bad("10.0.0.0/016", "invalid subnet '10.0.0.0/016'");
	parse_bad("10.0.0.0/ 16", "the prefix length must be 8 to 30");
	parse_bad("10.88.0.0", "use ADDRESS/PREFIX");
	parse_bad("", "invalid subnet ''");
	parse_bad("/16", "'' is not an IPv4 address");
	parse_bad("10.88.0/16", "'10.88.0' is not an IPv4 address");
	parse_bad("10.88.0.256/24", "is not an IPv4 address");
	parse_bad("fd00::/64", "is not an IPv4 address");
	parse_bad("a.b.c.d/24", "'a.b.c.d' is not an IPv4 address");
	parse_bad("127.0.0.0/8", "loopback, link-local, multicast or reserved");
	parse_bad("0.0.0.0/8", "loopback, link-local, multicast or reserved");
	parse_bad("169.254.0.0/16", "loopback, link-local");
	parse_bad("169.254.3.0/24", "loopback, link-local");
	parse_bad("224.0.0.0/8", "multicast or reserved");
	parse_bad("240.0.0.0/8", "multicast or reserved");
	parse_bad("10.88.0.0/16/1", "the prefix length must be 8 to 30");
	parse_bad("10.888.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0/8",
		  "not an IPv4 address");
}

static void test_arith(void)
{
	struct ipam_subnet s16 = {A("10.88.0.0"), 16};
	struct ipam_subnet s30 = {A("10.89.0.0"), 30};
	struct ipam_subnet s8 = {A("10.0.0.0"), 8};
	struct ipam_subnet s24 = {A("10.88.3.0"), 24};
	struct ipam_subnet other = {A("10.89.0.4"), 30};
	char buf[24];

	CHECK(ipam_gateway(&s16) == A("10.88.0.1"), "/16 gateway is .0.1");
	CHECK(ipam_broadcast(&s16) == A("10.88.255.255"),
	      "/16 broadcast is .255.255");
	CHECK(ipam_capacity(&s16) == 65533, "/16 holds 65533 instances (%u)",
	      ipam_capacity(&s16));
	CHECK(ipam_capacity(&s30) == 1, "/30 holds 1 instance (%u)",
	      ipam_capacity(&s30));
	CHECK(ipam_capacity(&s8) == 16777213, "/8 holds 16777213 (%u)",
	      ipam_capacity(&s8));
	CHECK(ipam_broadcast(&s30) == A("10.89.0.3"), "/30 broadcast is .3");
	CHECK(ipam_mask(16) == 0xffff0000u && ipam_mask(30) == 0xfffffffcu &&
		  ipam_mask(0) == 0,
	      "masks");
	CHECK(ipam_contains(&s16, A("10.88.200.7")) &&
		  !ipam_contains(&s16, A("10.89.0.1")) &&
		  ipam_contains(&s16, A("10.88.255.255")),
	      "contains");
	CHECK(ipam_overlaps(&s16, &s24) && ipam_overlaps(&s24, &s16),
	      "10.88.3.0/24 overlaps 10.88.0.0/16 both ways");
	CHECK(!ipam_overlaps(&s16, &s30) && !ipam_overlaps(&s30, &other),
	      "neighbours do not overlap");
	CHECK(ipam_overlaps(&s8, &s30), "10.0.0.0/8 overlaps 10.89.0.0/30");
	ipam_addr_format(A("192.168.1.254"), buf, sizeof(buf));
	CHECK(strcmp(buf, "192.168.1.254") == 0, "format %s", buf);
	CHECK(ipam_addr_parse("1.2.3", &(uint32_t){0}) == -1 &&
		  ipam_addr_parse("", &(uint32_t){0}) == -1,
	      "bad addresses refused");
}

static void alloc_is(const struct ipam_subnet *s, const uint32_t *used,
		     size_t n, const char *want, const char *what)
{
	uint32_t got = 0;
	char err[256] = "", g[16] = "";
	int r = ipam_alloc(s, "net", used, n, &got, err, sizeof(err));

	ipam_addr_format(got, g, sizeof(g));
	CHECK(r == 0 && got == A(want), "%s: %s (got %s%s)", what, want, g,
	      err);
}

static void test_alloc(void)
{
	struct ipam_subnet s16 = {A("10.88.0.0"), 16};
	struct ipam_subnet s30 = {A("10.89.0.0"), 30};
	struct ipam_subnet s29 = {A("10.89.0.8"), 29};
	char err[256] = "";
	uint32_t got = 0;

	alloc_is(&s16, NULL, 0, "10.88.0.2", "empty /16: the first host");
	{
		uint32_t u[] = {A("10.88.0.2"), A("10.88.0.3")};
		alloc_is(&s16, u, 2, "10.88.0.4", "two taken: the third");
	}
	{
		uint32_t u[] = {A("10.88.0.4"), A("10.88.0.2"), A("10.88.0.5")};
		alloc_is(&s16, u, 3, "10.88.0.3", "a hole is reused first");
	}
	{
		uint32_t u[] = {A("10.88.0.3"), A("10.88.0.2"), A("10.88.0.2"),
				A("10.88.0.1"), A("10.99.0.2"), A("10.88.0.3")};
		alloc_is(&s16, u, 6, "10.88.0.4",
			 "duplicates, the gateway and foreign addresses are "
			 "ignored");
	}
	{
		/* 10.88.0.2 .. 10.88.1.0 taken: crossing a byte boundary. */
		uint32_t u[255];
		for (size_t i = 0; i < 255; i++)
			u[i] = A("10.88.0.2") + (uint32_t)i;
		alloc_is(&s16, u, 255, "10.88.1.1",
			 "255 taken: 10.88.1.1 (.0.255 and .1.0 are hosts)");
	}
	alloc_is(&s30, NULL, 0, "10.89.0.2", "/30: its one host");
	{
		uint32_t u[] = {A("10.89.0.2")};
		int r = ipam_alloc(&s30, "small", u, 1, &got, err, sizeof(err));
		CHECK(r == -1 &&
			  strcmp(err, "network 'small' has no free "
				      "address (10.89.0.0/30: 1 host)") == 0,
		      "full /30: %s", err);
	}
	{
		uint32_t u[] = {A("10.89.0.14"), A("10.89.0.10"),
				A("10.89.0.12"), A("10.89.0.11"),
				A("10.89.0.13")};
		int r = ipam_alloc(&s29, "n29", u, 5, &got, err, sizeof(err));
		CHECK(r == -1 && strcmp(err, "network 'n29' has no free "
					     "address (10.89.0.8/29: 5 "
					     "hosts)") == 0,
		      "full /29 (unsorted): %s", err);
		r = ipam_alloc(&s29, "n29", u + 1, 4, &got, err, sizeof(err));
		CHECK(r == 0 && got == A("10.89.0.14"),
		      "/29 with its last host free: 10.89.0.14, never the "
		      "broadcast .15");
	}
	{
		/* A whole /22 filled and one freed in the middle. */
		struct ipam_subnet s22 = {A("10.90.0.0"), 22};
		uint32_t n = ipam_capacity(&s22), *u = malloc(n * sizeof(*u));
		for (uint32_t i = 0; i < n; i++)
			u[i] = A("10.90.0.2") + (n - 1 - i);
		int r = ipam_alloc(&s22, "n22", u, n, &got, err, sizeof(err));
		CHECK(r == -1 &&
			  lib_test_has(err, "(10.90.0.0/22: 1021 hosts)"),
		      "full /22: %s", err);
		u[500] = u[0];
		alloc_is(&s22, u, n, "10.90.2.10",
			 "/22 with 10.90.2.10 freed: that one");
		free(u);
	}
}

int main(void)
{
	test_parse();
	test_arith();
	test_alloc();
	return lib_test_done("lib_ipam");
}
