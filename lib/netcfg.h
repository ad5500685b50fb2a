/*
 * Network settings of one instance as the user gives them on the command
 * line (kiln run --net TAP --ip ADDR/PREFIX --gw ADDR --dns ADDR
 * --hostname NAME --mac MAC), checked before anything boots and turned
 * into the kernel command-line words the guest reads (kiln.ip=, kiln.gw=,
 * kiln.dns=, kiln.hostname=; include/kiln/abi.h).  Never prints, never
 * exits: errors come back in the caller's buffer.
 */
#ifndef KILN_NETCFG_H
#define KILN_NETCFG_H

#include <stddef.h>
#include <stdint.h>

struct netcfg {
	char tap[16];	   /* interface name (IFNAMSIZ) */
	uint32_t addr;	   /* host byte order */
	int prefix;	   /* 1..32; 0 when no --ip */
	uint32_t gw;	   /* 0: none */
	uint32_t dns;	   /* 0: none */
	char hostname[64]; /* "" : none */
	uint8_t mac[6];
	int have_mac;
};

/* Each parser fills its field of c; 0, or -1 with a message in err that
 * quotes the value and says what is expected. */
int netcfg_parse_ip(struct netcfg *c, const char *s, char *err, size_t n);
int netcfg_parse_gw(struct netcfg *c, const char *s, char *err, size_t n);
int netcfg_parse_dns(struct netcfg *c, const char *s, char *err, size_t n);
int netcfg_parse_hostname(struct netcfg *c, const char *s, char *err, size_t n);
int netcfg_parse_mac(struct netcfg *c, const char *s, char *err, size_t n);
int netcfg_parse_tap(struct netcfg *c, const char *s, char *err, size_t n);

/* Cross-field rules: --ip needs --net and the other way round, the gateway
 * is inside the subnet and is not the instance's own address.  0 or -1. */
int netcfg_check(const struct netcfg *c, char *err, size_t n);

/* Checks on the host: the tap exists, is a tap, and nobody holds it (it
 * is opened and released again).  0 or -1 with the fix in err. */
int netcfg_check_tap(const struct netcfg *c, char *err, size_t n);

/* "52:54:00:12:34:56" into buf (at least 18 bytes); a random locally
 * administered MAC (52:54:00:xx:xx:xx) first when none was given. */
void netcfg_mac_string(struct netcfg *c, char *buf);

/* Kernel command-line words for the guest, space separated; the caller
 * frees the string.  NULL when out of memory. */
char *netcfg_kernel_words(const struct netcfg *c);

#endif /* KILN_NETCFG_H */
