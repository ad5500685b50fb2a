/*
 * Subnet arithmetic for kilnd's address allocator (see ipam.h).  The
 * allocator sorts a copy of the addresses in use and walks up from the
 * first address after the gateway, so it costs O(n log n) in the number
 * of leases whatever the subnet's size, and freed addresses are reused
 * lowest first (what a user reading `kiln ps` expects).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "util.h"

int ipam_addr_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

void ipam_addr_format(uint32_t addr, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
		 (addr >> 8) & 0xff, addr & 0xff);
}

void ipam_subnet_format(const struct ipam_subnet *s, char *buf, size_t buflen)
{
	char a[16];

	ipam_addr_format(s->net, a, sizeof(a));
	snprintf(buf, buflen, "%s/%d", a, s->prefix);
}

uint32_t ipam_mask(int prefix)
{
	return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

uint32_t ipam_gateway(const struct ipam_subnet *s)
{
	return s->net + 1;
}

uint32_t ipam_broadcast(const struct ipam_subnet *s)
{
	return s->net | ~ipam_mask(s->prefix);
}

uint32_t ipam_capacity(const struct ipam_subnet *s)
{
	return (~ipam_mask(s->prefix) + 1) - 3;
}

int ipam_contains(const struct ipam_subnet *s, uint32_t addr)
{
	return (addr & ipam_mask(s->prefix)) == s->net;
}

int ipam_overlaps(const struct ipam_subnet *a, const struct ipam_subnet *b)
{
	/* Two prefixes overlap iff one contains the other's network. */
	return ipam_contains(a, b->net) || ipam_contains(b, a->net);
}

int ipam_subnet_parse(const char *s, struct ipam_subnet *out, char *err,
		      size_t errlen)
{
	const char *slash = strchr(s, '/');
	char addr[32], *end;
	uint32_t a;
	long p;

	if (slash == NULL)
		return util_err(err, errlen,
				"invalid subnet '%s' (use ADDRESS/PREFIX, e.g. "
				"10.89.0.0/24)",
				s);
	if ((size_t)(slash - s) >= sizeof(addr))
		return util_err(err, errlen,
				"invalid subnet '%s': not an IPv4 address", s);
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (ipam_addr_parse(addr, &a) < 0)
		return util_err(err, errlen,
				"invalid subnet '%s': '%s' is not an IPv4 "
				"address",
				s, addr);
	p = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
	    end - (slash + 1) > 2 || p < IPAM_PREFIX_MIN || p > IPAM_PREFIX_MAX)
		return util_err(err, errlen,
				"invalid subnet '%s': the prefix length must "
				"be %d to %d",
				s, IPAM_PREFIX_MIN, IPAM_PREFIX_MAX);
	if (a & ~ipam_mask((int)p)) {
		char net[16];
		ipam_addr_format(a & ipam_mask((int)p), net, sizeof(net));
		return util_err(err, errlen,
				"invalid subnet '%s': host bits are set (use "
				"%s/%ld)",
				s, net, p);
	}
	/* 0/8 "this network", 127/8 loopback, 169.254/16 link-local,
	 * 224/3 multicast and reserved: a bridge there breaks the host. */
	if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 16) == 0xa9fe ||
	    (a >> 29) == 7)
		return util_err(err, errlen,
				"invalid subnet '%s': not usable for a "
				"network (loopback, link-local, multicast or "
				"reserved; use a private range such as "
				"10.89.0.0/24)",
				s);
	out->net = a;
	out->prefix = (int)p;
	return 0;
}

static int ipam_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int ipam_alloc(const struct ipam_subnet *s, const char *name,
	       const uint32_t *used, size_t n, uint32_t *out, char *err,
	       size_t errlen)
{
	uint32_t *sorted = NULL, cand = ipam_gateway(s) + 1;
	uint32_t last = ipam_broadcast(s) - 1;
	char sub[24];

	if (n > 0) {
		sorted = malloc(n * sizeof(*sorted));
		if (sorted == NULL)
			return util_err(err, errlen, "out of memory");
		memcpy(sorted, used, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), ipam_cmp);
	}
	for (size_t i = 0; i < n && cand <= last; i++) {
		if (sorted[i] == cand)
			cand++;
		/* Lower ones (gateway, other subnets) and duplicates need
		 * nothing; the first higher one is a gap: cand is free. */
		else if (sorted[i] > cand)
			break;
	}
	free(sorted);
	if (cand <= last) {
		*out = cand;
		return 0;
	}
	ipam_subnet_format(s, sub, sizeof(sub));
	return util_err(
	    err, errlen, "network '%s' has no free address (%s: %u host%s)",
	    name, sub, ipam_capacity(s), ipam_capacity(s) == 1 ? "" : "s");
}
