/*
 * Checking an instance's network settings before boot (see netcfg.h).
 * The rules are the ones that would otherwise surface as a guest that
 * boots and silently cannot talk: a prefix out of range, a gateway outside
 * the subnet, the subnet's own network or broadcast address, a tap that
 * does not exist or that another process already holds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "netcfg.h"
#include "tap.h"
#include "util.h"

static int netcfg_addr(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static void netcfg_fmt(uint32_t a, char *buf, size_t n)
{
	struct in_addr in = {htonl(a)};
	inet_ntop(AF_INET, &in, buf, (socklen_t)n);
}

static uint32_t netcfg_mask(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int netcfg_parse_ip(struct netcfg *c, const char *s, char *err, size_t n)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	char *end;
	long p;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr)) {
		snprintf(err, n,
			 "invalid address '%s' (use ADDRESS/PREFIX, e.g. "
			 "10.0.0.2/24)",
			 s);
		return -1;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (netcfg_addr(addr, &c->addr) < 0) {
		snprintf(err, n,
			 "invalid address '%s' (use an IPv4 address such as "
			 "10.0.0.2/24)",
			 s);
		return -1;
	}
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno ||
	    p < 1 || p > 32) {
		snprintf(err, n,
			 "invalid prefix length in '%s' (use 1 to 32, e.g. "
			 "/24)",
			 s);
		return -1;
	}
	c->prefix = (int)p;
	if (p <= 30) {
		uint32_t host = c->addr & ~netcfg_mask(c->prefix);
		if (host == 0 || host == ~netcfg_mask(c->prefix)) {
			snprintf(err, n,
				 "address '%s' is the subnet's %s address; "
				 "pick a host address",
				 s, host == 0 ? "network" : "broadcast");
			return -1;
		}
	}
	if (c->addr == 0 || (c->addr >> 24) == 127 || (c->addr >> 28) >= 14) {
		snprintf(err, n,
			 "address '%s' cannot be an instance's address "
			 "(unspecified, loopback, multicast or reserved)",
			 s);
		return -1;
	}
	return 0;
}

int netcfg_parse_gw(struct netcfg *c, const char *s, char *err, size_t n)
{
	if (netcfg_addr(s, &c->gw) < 0 || c->gw == 0) {
		snprintf(err, n, "invalid gateway '%s' (use e.g. 10.0.0.1)", s);
		return -1;
	}
	return 0;
}

int netcfg_parse_dns(struct netcfg *c, const char *s, char *err, size_t n)
{
	if (netcfg_addr(s, &c->dns) < 0 || c->dns == 0) {
		snprintf(err, n, "invalid DNS server '%s' (use e.g. 10.0.0.1)",
			 s);
		return -1;
	}
	return 0;
}

int netcfg_parse_hostname(struct netcfg *c, const char *s, char *err, size_t n)
{
	size_t len = strlen(s);
	int ok = len > 0 && len < sizeof(c->hostname) && s[0] != '-' &&
		 s[len - 1] != '-' && s[0] != '.';
	for (size_t i = 0; ok && i < len; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') ||
		     (s[i] >= 'A' && s[i] <= 'Z') ||
		     (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.';
	if (!ok) {
		snprintf(err, n,
			 "invalid hostname '%s' (letters, digits, '-' and "
			 "'.', at most %zu characters)",
			 s, sizeof(c->hostname) - 1);
		return -1;
	}
	memcpy(c->hostname, s, len + 1);
	return 0;
}

int netcfg_parse_mac(struct netcfg *c, const char *s, char *err, size_t n)
{
	if (tap_mac_parse(s, c->mac, err, n) < 0)
		return -1;
	c->have_mac = 1;
	return 0;
}

int netcfg_parse_tap(struct netcfg *c, const char *s, char *err, size_t n)
{
	size_t len = strlen(s);
	if (len == 0 || len >= sizeof(c->tap) || strchr(s, '/') ||
	    strchr(s, ' ')) {
		snprintf(err, n,
			 "invalid tap name '%s' (an interface name of 1 to "
			 "15 characters)",
			 s);
		return -1;
	}
	memcpy(c->tap, s, len + 1);
	return 0;
}

int netcfg_check(const struct netcfg *c, char *err, size_t n)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	if (c->tap[0] && c->prefix == 0) {
		snprintf(err, n,
			 "--net '%s' needs --ip ADDRESS/PREFIX (kiln has no "
			 "DHCP client yet)",
			 c->tap);
		return -1;
	}
	if (!c->tap[0] && (c->prefix || c->gw || c->dns || c->have_mac)) {
		snprintf(err, n,
			 "--ip, --gw, --dns and --mac need --net TAP (the "
			 "tap device the instance is attached to)");
		return -1;
	}
	if (c->gw) {
		uint32_t m = netcfg_mask(c->prefix);
		netcfg_fmt(c->gw, g, sizeof(g));
		netcfg_fmt(c->addr, a, sizeof(a));
		if ((c->gw & m) != (c->addr & m)) {
			snprintf(err, n,
				 "gateway '%s' is outside the instance's "
				 "subnet %s/%d",
				 g, a, c->prefix);
			return -1;
		}
		if (c->gw == c->addr) {
			snprintf(err, n,
				 "gateway '%s' is the instance's own address",
				 g);
			return -1;
		}
	}
	return 0;
}

int netcfg_check_tap(const struct netcfg *c, char *err, size_t n)
{
	/* Attach exactly as kiln-vmm will, and let go. */
	int fd = tap_open(c->tap, err, n);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

void netcfg_mac_string(struct netcfg *c, char *buf)
{
	if (!c->have_mac) {
		uint8_t r[3] = {0x12, 0x34, 0x56};
		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			r[2] ^= (uint8_t)getpid();
		c->mac[0] = 0x52;
		c->mac[1] = 0x54;
		c->mac[2] = 0x00;
		memcpy(c->mac + 3, r, 3);
		c->have_mac = 1;
	}
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1],
		 c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
}

char *netcfg_kernel_words(const struct netcfg *c)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	char ip[64] = "";
	netcfg_fmt(c->addr, a, sizeof(a));
	netcfg_fmt(c->gw, g, sizeof(g));
	netcfg_fmt(c->dns, d, sizeof(d));
	if (c->prefix)
		snprintf(ip, sizeof(ip), "kiln.ip=%s/%d", a, c->prefix);
	char *s = util_asprintf(
	    "%s%s%s%s%s%s%s", ip, c->gw ? " kiln.gw=" : "", c->gw ? g : "",
	    c->dns ? " kiln.dns=" : "", c->dns ? d : "",
	    c->hostname[0] ? " kiln.hostname=" : "", c->hostname);
	/* No leading space when there is no address. */
	if (s && s[0] == ' ')
		memmove(s, s + 1, strlen(s));
	return s;
}
