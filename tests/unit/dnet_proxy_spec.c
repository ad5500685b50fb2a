/*
 * Unit tests of proxy_spec_parse and proxy_spec_format (daemon/proxy.c):
 * every accepted form of -p [ADDR:]HOST:GUEST[/tcp|/udp] with its
 * canonical text, and every kind of bad spec refused with a message that
 * quotes it and names what is wrong.
 */
#include "lib_test.h"
#include "proxy.h"

static void ok(const char *spec, const char *canon)
{
	struct proxy_spec s;
	char err[256] = "", got[64] = "";
	int r = proxy_spec_parse(spec, &s, err, sizeof(err));

	if (r == 0)
		proxy_spec_format(&s, got, sizeof(got));
	CHECK(r == 0 && strcmp(got, canon) == 0, "'%s' -> '%s' (got '%s'%s)",
	      spec, canon, got, err);
}

static void bad(const char *spec, const char *want)
{
	struct proxy_spec s = {"untouched", 7, 7, PROXY_TCP};
	char err[256] = "";
	int r = proxy_spec_parse(spec, &s, err, sizeof(err));
	char quoted[128];

	snprintf(quoted, sizeof(quoted), "invalid port spec '%s'", spec);
	CHECK(r == -1 && lib_test_has(err, quoted) && lib_test_has(err, want) &&
		  strcmp(s.host_addr, "untouched") == 0 && s.host_port == 7,
	      "'%s' refused: '%s' (got: %s)", spec, want, err);
}

int main(void)
{
	struct proxy_spec s;
	char err[128];

	ok("127.0.0.1:8080:8080/tcp", "127.0.0.1:8080:8080/tcp");
	ok("8080:80", "0.0.0.0:8080:80/tcp");
	ok("53:53/udp", "0.0.0.0:53:53/udp");
	ok("0.0.0.0:1:65535", "0.0.0.0:1:65535/tcp");
	ok("10.1.2.3:65535:1/udp", "10.1.2.3:65535:1/udp");
	ok("127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp");
	ok("00080:0080", "0.0.0.0:80:80/tcp");

	CHECK(proxy_spec_parse("127.0.0.1:5353:53/udp", &s, err, sizeof(err)) ==
		      0 &&
		  s.proto == PROXY_UDP && s.host_port == 5353 &&
		  s.guest_port == 53 && strcmp(s.host_addr, "127.0.0.1") == 0,
	      "fields of 127.0.0.1:5353:53/udp");

	bad("8080", "use [ADDR:]HOST:GUEST[/tcp|/udp]");
	bad("", "use [ADDR:]HOST:GUEST");
	bad(":", "use [ADDR:]HOST:GUEST");
	bad("/tcp", "use [ADDR:]HOST:GUEST");
	bad("8080/udp", "use [ADDR:]HOST:GUEST");
	bad("8080:", "the guest port must be a number from 1 to 65535");
	bad(":80", "the host port must be a number from 1 to 65535");
	bad("0:80", "the host port must be a number from 1 to 65535");
	bad("65536:80", "the host port must be a number from 1 to 65535");
	bad("8080:0", "the guest port must be a number from 1 to 65535");
	bad("8080:70000", "the guest port must be");
	bad("8080:123456", "the guest port must be");
	bad("-1:80", "the host port must be");
	bad("+80:80", "the host port must be");
	bad(" 80:80", "the host port must be");
	bad("80:80 ", "the guest port must be");
	bad("http:80", "the host port must be");
	bad("8080:80/sctp", "the protocol must be tcp or udp");
	bad("8080:80/TCP", "the protocol must be tcp or udp");
	bad("8080:80/", "the protocol must be tcp or udp");
	bad("8080:80/tcp/udp", "the protocol must be tcp or udp");
	bad("localhost:8080:80", "the address must be an IPv4 address");
	bad("127.0.0.256:8080:80", "the address must be an IPv4 address");
	bad("127.1:8080:80", "the address must be an IPv4 address");
	bad(":8080:80", "the address must be an IPv4 address");
	bad("1.2.3.4.5.6.7.8.9.10:8080:80", "the address must be an IPv4");
	bad("[::1]:8080:80", "use [ADDR:]HOST:GUEST");
	bad("::1:8080:80", "IPv6 addresses are not supported");
	bad("1:2:3:4", "IPv6 addresses are not supported");
	bad("127.0.0.1:8080-8090:80", "the host port must be");
	return lib_test_done("dnet_proxy_spec");
}
