/*
 * Tap devices, shared by kiln-vmm (which attaches its virtio-net device to
 * one) and the CLI (which checks, before booting, that the tap the user
 * named can be attached).  Nothing here prints or exits.
 */
#ifndef KILN_TAP_H
#define KILN_TAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Attaches to the existing tap device name (non-blocking, virtio-net
 * headers of 12 bytes, no offloads).  Returns the fd, or -1 with err: no
 * such device, in use (EBUSY), not a tap, no permission; each message
 * says how to fix it.  Never creates a tap.
 */
int tap_open(const char *name, char *err, size_t errlen);
/* TUNSETOFFLOAD: which offloads (TUN_F_*) the tap may hand us. */
int tap_offload(int fd, unsigned tun_flags);

/* Parses "52:54:00:12:34:56" into mac: six hex pairs, unicast, not all
 * zero.  0, or -1 with err quoting the value. */
int tap_mac_parse(const char *s, uint8_t mac[6], char *err, size_t errlen);

#endif /* KILN_TAP_H */
