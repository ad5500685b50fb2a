/*
 * Bridges, addresses and persistent taps over rtnetlink (see hostnet.h).
 *
 * libnl turns the kernel's errno into its own NLE_* codes, losing detail
 * ("Object exists" for both EEXIST and EBUSY, say); every socket here
 * gets an error callback that keeps the kernel's errno, so messages say
 * what the kernel said.  Taps are made with /dev/net/tun because the
 * kernel creates tun/tap devices only through TUNSETIFF.
 */
#include <net/if.h> /* before linux/if.h, which libnl includes */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/socket.h>

#include "hostnet.h"
#include "util.h"

/* A netlink socket and the kernel errno of its last failed request. */
struct hostnet_nl {
	struct nl_sock *sk;
	int kerr; /* positive errno; 0 when the kernel reported none */
};

static int hostnet_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e,
			  void *arg)
{
	struct hostnet_nl *nl = arg;

	nl->kerr = -e->error;
	return NL_STOP;
}

static int hostnet_open(struct hostnet_nl *nl, const char *what,
			const char *name, char *err, size_t errlen)
{
	int e;

	nl->kerr = 0;
	nl->sk = nl_socket_alloc();
	if (nl->sk == NULL)
		return util_err(err, errlen, "cannot %s '%s': out of memory",
				what, name);
	e = nl_connect(nl->sk, NETLINK_ROUTE);
	if (e < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return util_err(err, errlen,
				"cannot %s '%s': netlink socket: %s", what,
				name, nl_geterror(e));
	}
	nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, hostnet_err_cb, nl);
	return 0;
}

static void hostnet_close(struct hostnet_nl *nl)
{
	nl_socket_free(nl->sk);
	nl->sk = NULL;
}

/* The reason of a failed libnl call e: the kernel's own if it gave one. */
static const char *hostnet_why(const struct hostnet_nl *nl, int e)
{
	if (nl->kerr > 0)
		return strerror(nl->kerr);
	return nl_geterror(e);
}

/* The link called name, from the kernel (NULL if it does not exist). */
static struct rtnl_link *hostnet_get(struct hostnet_nl *nl, const char *name)
{
	struct rtnl_link *link = NULL;

	if (rtnl_link_get_kernel(nl->sk, 0, name, &link) < 0)
		return NULL;
	return link;
}

static enum hostnet_kind hostnet_kind_of(struct rtnl_link *link)
{
	const char *type;

	if (link == NULL)
		return HOSTNET_NONE;
	type = rtnl_link_get_type(link);
	if (type && strcmp(type, "bridge") == 0)
		return HOSTNET_BRIDGE;
	/* tun and tap share the kind "tun"; a tap carries Ethernet. */
	if (type && strcmp(type, "tun") == 0 &&
	    rtnl_link_get_arptype(link) == ARPHRD_ETHER)
		return HOSTNET_TAP;
	return HOSTNET_OTHER;
}

static const char *hostnet_kind_name(enum hostnet_kind k)
{
	switch (k) {
	case HOSTNET_BRIDGE:
		return "a bridge";
	case HOSTNET_TAP:
		return "a tap";
	case HOSTNET_NONE:
		return "missing";
	default:
		return "another kind of interface";
	}
}

static int hostnet_name_ok(const char *name, const char *what, char *err,
			   size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' ') ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return util_err(err, errlen,
				"cannot %s '%s': an interface name is 1 to %d "
				"characters without '/' or spaces",
				what, name, IFNAMSIZ - 1);
	return 0;
}

enum hostnet_kind hostnet_link_kind(const char *name)
{
	struct hostnet_nl nl;
	struct rtnl_link *link;
	enum hostnet_kind k;
	char err[8];

	if (hostnet_name_ok(name, "find", err, sizeof(err)) < 0 ||
	    hostnet_open(&nl, "find", name, err, sizeof(err)) < 0)
		return HOSTNET_NONE;
	link = hostnet_get(&nl, name);
	k = hostnet_kind_of(link);
	if (link)
		rtnl_link_put(link);
	hostnet_close(&nl);
	return k;
}

int hostnet_link_exists(const char *name)
{
	return strlen(name) < IFNAMSIZ && if_nametoindex(name) != 0;
}

/* 52:54:00 is what guests get; bridges get a locally administered
 * 02:6b:6e ("kn") + three bytes of a hash of the name. */
static void hostnet_bridge_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x6b;
	mac[2] = 0x6e;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

int hostnet_bridge_create(const char *name, const uint8_t *mac, char *err,
			  size_t errlen)
{
	const char *what = "create bridge";
	struct hostnet_nl nl;
	struct rtnl_link *link = NULL, *old;
	struct nl_addr *addr = NULL;
	uint8_t m[6];
	int e, ret = -1;

	if (hostnet_name_ok(name, what, err, errlen) < 0 ||
	    hostnet_open(&nl, what, name, err, errlen) < 0)
		return -1;
	old = hostnet_get(&nl, name);
	if (old) {
		enum hostnet_kind k = hostnet_kind_of(old);
		rtnl_link_put(old);
		if (k == HOSTNET_BRIDGE)
			ret = 0;
		else
			util_err(err, errlen,
				 "cannot create bridge '%s': an interface of "
				 "that name exists and is %s (delete it: ip "
				 "link del %s)",
				 name, hostnet_kind_name(k), name);
		goto close_nl;
	}
	link = rtnl_link_bridge_alloc();
	if (mac)
		memcpy(m, mac, 6);
	else
		hostnet_bridge_mac(name, m);
	addr = nl_addr_build(AF_LLC, m, 6);
	if (link == NULL || addr == NULL) {
		util_err(err, errlen,
			 "cannot create bridge '%s': out of memory", name);
		goto put_link;
	}
	rtnl_link_set_name(link, name);
	/* A MAC given at creation is kept (NET_ADDR_SET); otherwise the
	 * bridge takes its lowest port's, changing as taps come and go and
	 * leaving stale entries in the guests' ARP caches. */
	rtnl_link_set_addr(link, addr);
	e = rtnl_link_add(nl.sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (e < 0) {
		/* Someone else made it in between: fine if it is a bridge. */
		if (nl.kerr == EEXIST &&
		    hostnet_link_kind(name) == HOSTNET_BRIDGE)
			ret = 0;
		else
			util_err(err, errlen, "cannot create bridge '%s': %s%s",
				 name, hostnet_why(&nl, e),
				 nl.kerr == EOPNOTSUPP
				     ? " (load the bridge module: modprobe "
				       "bridge)"
				     : "");
		goto put_link;
	}
	ret = 0;
put_link:
	nl_addr_put(addr);
	if (link)
		rtnl_link_put(link);
close_nl:
	hostnet_close(&nl);
	return ret;
}

int hostnet_tap_create(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	enum hostnet_kind k;
	int fd, ret = -1;

	if (hostnet_name_ok(name, "create tap", err, errlen) < 0)
		return -1;
	k = hostnet_link_kind(name);
	if (k == HOSTNET_TAP)
		return 0;
	if (k != HOSTNET_NONE)
		return util_err(err, errlen,
				"cannot create tap '%s': an interface of that "
				"name exists and is %s (delete it: ip link del "
				"%s)",
				name, hostnet_kind_name(k), name);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return util_err(err, errlen,
				"cannot create tap '%s': cannot open "
				"'/dev/net/tun': %s%s",
				name, strerror(errno),
				errno == ENOENT
				    ? " (load the tun module: modprobe tun)"
				    : "");
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	/* The flags the monitors open it with: a persistent tap remembers
	 * single-queue vs multi-queue, and a mismatch is EINVAL then. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		util_err(err, errlen, "cannot create tap '%s': %s", name,
			 strerror(errno));
		goto close_fd;
	}
	if (ioctl(fd, TUNSETPERSIST, 1L) < 0) {
		util_err(err, errlen, "cannot make tap '%s' persistent: %s",
			 name, strerror(errno));
		goto close_fd; /* not persistent: closing deletes it */
	}
	ret = 0;
close_fd:
	close(fd);
	return ret;
}

int hostnet_link_delete(const char *name, char *err, size_t errlen)
{
	const char *what = "delete interface";
	struct hostnet_nl nl;
	struct rtnl_link *link;
	int e, ret = 0;

	if (hostnet_name_ok(name, what, err, errlen) < 0 ||
	    hostnet_open(&nl, what, name, err, errlen) < 0)
		return -1;
	link = rtnl_link_alloc();
	if (link == NULL) {
		ret = util_err(err, errlen, "cannot %s '%s': out of memory",
			       what, name);
		goto close_nl;
	}
	rtnl_link_set_name(link, name);
	e = rtnl_link_delete(nl.sk, link);
	if (e < 0 && nl.kerr != ENODEV)
		ret = util_err(err, errlen, "cannot %s '%s': %s", what, name,
			       hostnet_why(&nl, e));
	rtnl_link_put(link);
close_nl:
	hostnet_close(&nl);
	return ret;
}

/* Applies change to link name (looked up first, so a missing link is
 * reported as such). */
static int hostnet_change(const char *what, const char *name,
			  struct rtnl_link *change, char *err, size_t errlen)
{
	struct hostnet_nl nl;
	struct rtnl_link *link;
	int e, ret = -1;

	if (hostnet_name_ok(name, what, err, errlen) < 0 ||
	    hostnet_open(&nl, what, name, err, errlen) < 0)
		return -1;
	link = hostnet_get(&nl, name);
	if (link == NULL) {
		util_err(err, errlen, "cannot %s '%s': no such interface", what,
			 name);
		goto close_nl;
	}
	nl.kerr = 0;
	e = rtnl_link_change(nl.sk, link, change, 0);
	if (e < 0)
		util_err(err, errlen, "cannot %s '%s': %s", what, name,
			 hostnet_why(&nl, e));
	else
		ret = 0;
	rtnl_link_put(link);
close_nl:
	hostnet_close(&nl);
	return ret;
}

int hostnet_link_up(const char *name, char *err, size_t errlen)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int ret;

	if (change == NULL)
		return util_err(err, errlen,
				"cannot bring up '%s': out of "
				"memory",
				name);
	rtnl_link_set_flags(change, IFF_UP);
	ret = hostnet_change("bring up", name, change, err, errlen);
	rtnl_link_put(change);
	return ret;
}

int hostnet_link_set_master(const char *name, const char *master, char *err,
			    size_t errlen)
{
	struct rtnl_link *change;
	unsigned idx;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "add to bridge '%s'", master);
	idx = strlen(master) < IFNAMSIZ ? if_nametoindex(master) : 0;
	if (idx == 0)
		return util_err(err, errlen, "cannot %s '%s': no such bridge",
				what, name);
	change = rtnl_link_alloc();
	if (change == NULL)
		return util_err(err, errlen, "cannot %s '%s': out of memory",
				what, name);
	rtnl_link_set_master(change, (int)idx);
	ret = hostnet_change(what, name, change, err, errlen);
	rtnl_link_put(change);
	return ret;
}

int hostnet_addr_add(const char *name, uint32_t addr, int prefix, char *err,
		     size_t errlen)
{
	const char *what = "add an address to";
	struct hostnet_nl nl;
	struct rtnl_addr *ra = NULL;
	struct nl_addr *local = NULL, *bcast = NULL;
	uint32_t be = htonl(addr);
	uint32_t bc = htonl(addr | (prefix >= 32 ? 0 : 0xffffffffu >> prefix));
	unsigned idx;
	int e, ret = -1;

	if (hostnet_name_ok(name, what, err, errlen) < 0)
		return -1;
	idx = if_nametoindex(name);
	if (idx == 0)
		return util_err(err, errlen,
				"cannot %s '%s': no such interface", what,
				name);
	if (hostnet_open(&nl, what, name, err, errlen) < 0)
		return -1;
	ra = rtnl_addr_alloc();
	local = nl_addr_build(AF_INET, &be, 4);
	bcast = nl_addr_build(AF_INET, &bc, 4);
	if (ra == NULL || local == NULL || bcast == NULL) {
		util_err(err, errlen, "cannot %s '%s': out of memory", what,
			 name);
		goto put;
	}
	nl_addr_set_prefixlen(local, prefix);
	rtnl_addr_set_ifindex(ra, (int)idx);
	rtnl_addr_set_family(ra, AF_INET);
	rtnl_addr_set_local(ra, local);
	rtnl_addr_set_prefixlen(ra, prefix);
	rtnl_addr_set_broadcast(ra, bcast);
	e = rtnl_addr_add(nl.sk, ra, NLM_F_CREATE | NLM_F_EXCL);
	if (e < 0 && nl.kerr != EEXIST) {
		char a[16];
		snprintf(a, sizeof(a), "%u.%u.%u.%u", addr >> 24,
			 (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
		util_err(err, errlen, "cannot add address %s/%d to '%s': %s", a,
			 prefix, name, hostnet_why(&nl, e));
		goto put;
	}
	ret = 0;
put:
	nl_addr_put(bcast);
	nl_addr_put(local);
	if (ra)
		rtnl_addr_put(ra);
	hostnet_close(&nl);
	return ret;
}
