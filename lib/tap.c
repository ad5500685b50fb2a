/*
 * The host side of the guest's network: an existing tap device, opened
 * through /dev/net/tun as a single-queue tap with virtio-net headers
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, header size 12: the virtio 1.x
 * struct virtio_net_hdr_v1), so a frame goes between the tap and guest
 * buffers with no reformatting.  The fd is non-blocking.
 *
 * kiln-vmm never creates taps: the user (or the daemon, later) creates and
 * configures one, and a name that does not exist is an error, not a new
 * device.  Every failure is reported in words a user can act on; nothing
 * here prints or exits (main.c does).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"

#define TAP_VNET_HDR_LEN 12

int tap_open(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int hdr = TAP_VNET_HDR_LEN;
	int fd;

	if (name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen,
			 "tap device name '%s': must be 1 to %d characters",
			 name, IFNAMSIZ - 1);
		return -1;
	}
	/* TUNSETIFF would create a missing device (with CAP_NET_ADMIN),
	 * which nobody configured and which vanishes at exit: refuse. */
	if (if_nametoindex(name) == 0) {
		snprintf(err, errlen,
			 "tap device '%s' does not exist (create it with: ip "
			 "tuntap add %s mode tap)",
			 name, name);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '/dev/net/tun': %s%s",
			 strerror(errno),
			 errno == ENOENT
			     ? " (load the tun module: modprobe tun)"
			     : "");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		if (e == EBUSY)
			snprintf(err, errlen,
				 "tap device '%s' is already in use by another "
				 "process",
				 name);
		else if (e == EINVAL)
			snprintf(
			    err, errlen,
			    "'%s' is not a tap device kiln can attach to (a "
			    "tun device, a multi-queue tap or another kind "
			    "of interface; create one: ip tuntap add NAME "
			    "mode tap)",
			    name);
		else if (e == EPERM || e == EACCES)
			snprintf(err, errlen,
				 "not allowed to attach to tap device '%s' "
				 "(create it for your user: ip tuntap add %s "
				 "mode tap user $USER)",
				 name, name);
		else
			snprintf(err, errlen,
				 "cannot attach to tap device "
				 "'%s': %s",
				 name, strerror(e));
		goto close_fd;
	}
	/* Lost a race with someone deleting it: TUNSETIFF made a new one,
	 * which is not persistent.  Closing the fd deletes it again. */
	if (ioctl(fd, TUNGETIFF, &ifr) == 0 && !(ifr.ifr_flags & IFF_PERSIST)) {
		snprintf(err, errlen,
			 "tap device '%s' does not exist (create "
			 "it with: ip tuntap add %s mode tap)",
			 name, name);
		goto close_fd;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		snprintf(err, errlen, "tap device '%s': TUNSETVNETHDRSZ: %s",
			 name, strerror(errno));
		goto close_fd;
	}
	/* No offloads until the guest's driver accepts them. */
	if (tap_offload(fd, 0) < 0) {
		snprintf(err, errlen, "tap device '%s': TUNSETOFFLOAD: %s",
			 name, strerror(errno));
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return -1;
}

int tap_offload(int fd, unsigned tun_flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0 ? -1 : 0;
}

int tap_mac_parse(const char *s, uint8_t mac[6], char *err, size_t errlen)
{
	unsigned v[6];
	int ok = strlen(s) == 17;

	for (int i = 0; ok && i < 17; i++)
		ok = i % 3 == 2 ? s[i] == ':' : isxdigit((unsigned char)s[i]);
	if (!ok || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2],
			  &v[3], &v[4], &v[5]) != 6) {
		snprintf(err, errlen,
			 "invalid MAC address '%s' (use six hex pairs like "
			 "52:54:00:12:34:56)",
			 s);
		return -1;
	}
	if (v[0] & 1) {
		snprintf(
		    err, errlen,
		    "invalid MAC address '%s': multicast (lowest bit of the "
		    "first byte set); use e.g. 52:54:00:12:34:56",
		    s);
		return -1;
	}
	if ((v[0] | v[1] | v[2] | v[3] | v[4] | v[5]) == 0) {
		snprintf(err, errlen,
			 "invalid MAC address '%s': all zero; use e.g. "
			 "52:54:00:12:34:56",
			 s);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}
