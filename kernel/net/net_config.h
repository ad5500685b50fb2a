/*
 * The network settings from the kernel command line, shared by
 * kernel/net's files (config.c reads them, netif.c applies them).
 */
#ifndef KILN_NET_CONFIG_H
#define KILN_NET_CONFIG_H

#include "kernel.h"

#define NET_MAX_DNS 3 /* nameservers in resolv.conf (glibc's MAXNS) */

/* Addresses are in network byte order, as lwIP keeps them. */
struct net_config {
	bool have_devices; /* virtio_mmio.device= words present */
	bool have_ip;	   /* kiln.ip= given */
	uint32_t addr, mask, gw;
	int prefix;
	uint32_t dns[NET_MAX_DNS];
	int ndns;
};
extern struct net_config net_config;

/* Reads kiln.ip=ADDR/PREFIX, kiln.gw=ADDR and kiln.dns=ADDR[,ADDR...]
 * (repeatable) from the command line into net_config.  0, or -EINVAL
 * after a klog line quoting the bad word and what is expected. */
int net_config_read(void);

/* Writes /etc/hostname, /etc/hosts and (with kiln.dns) /etc/resolv.conf
 * for the configured address, leaving alone any the image carries. */
void net_config_write_etc(void);

/* "a.b.c.d" of a network-order address into buf (16 bytes). */
void net_format_ip(uint32_t addr, char *buf);

#endif
