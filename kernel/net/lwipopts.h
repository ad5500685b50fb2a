/*
 * lwIP's configuration for the kiln kernel (every option not set here
 * keeps lwIP's default from lwip/opt.h).
 *
 * NO_SYS=1: no threads, no sequential or socket API.  The kernel runs
 * lwIP from one CPU with interrupts disabled (the device interrupt only
 * sets a flag; net_poll does the work), so no locking is needed.  Memory:
 * every lwIP allocation, pools included, comes from kmalloc, so nothing is
 * reserved in the image and nothing is touched at boot when the network
 * is not used, and the number of connections is bounded by memory alone.
 * kiln's own socket layer (later) sits on the raw API.
 */
#ifndef KILN_LWIPOPTS_H
#define KILN_LWIPOPTS_H

#include "mm.h"

#define NO_SYS		     1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS	     1
#define LWIP_NETCONN	     0
#define LWIP_SOCKET	     0

/* Memory: the kernel heap for everything. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT	8
#define mem_clib_malloc kmalloc
#define mem_clib_free	kfree
#define mem_clib_calloc net_calloc
void *net_calloc(size_t n, size_t size);

/* Protocols: IPv4 with ARP, ICMP, UDP and TCP.  Addresses come from the
 * command line, names are resolved by the program's libc. */
#define LWIP_IPV4     1
#define LWIP_IPV6     0
#define LWIP_ARP      1
#define LWIP_ETHERNET 1
#define LWIP_ICMP     1
#define LWIP_RAW      0
#define LWIP_UDP      1
#define LWIP_TCP      1
#define LWIP_DHCP     0
#define LWIP_AUTOIP   0
#define LWIP_IGMP     0
#define LWIP_DNS      0
#define IP_REASSEMBLY 1
/* Fragments held for reassembly, across all datagrams: enough for one
 * 64 KiB datagram of 1480-byte fragments, as Linux accepts. */
#define IP_REASS_MAX_PBUFS 64
#define IP_FRAG		   1
#define ARP_QUEUEING	   1

/* Interfaces: the virtio-net device and a loopback for 127.0.0.1. */
#define LWIP_NETIF_LOOPBACK	   1
#define LWIP_HAVE_LOOPIF	   1
#define LWIP_LOOPBACK_MAX_PBUFS	   0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK   0

/* TCP: a full-size segment on Ethernet, windows big enough to keep a
 * host-local link busy (window scaling lets the receive window pass
 * 64 KiB). */
#define TCP_MSS		 1460
#define LWIP_WND_SCALE	 1
#define TCP_RCV_SCALE	 2
#define TCP_WND		 (128 * 1024)
#define TCP_SND_BUF	 (128 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
/* Writable again below this much unsent data (lwIP checks it against a
 * 16-bit limit even with window scaling). */
#define TCP_SNDLOWAT	   (16 * TCP_MSS)
#define TCP_QUEUE_OOSEQ	   1
#define LWIP_TCP_SACK_OUT  0
#define TCP_LISTEN_BACKLOG 1
#define LWIP_CALLBACK_API  1

/* For the socket layer (kernel/net/socket.c).  SO_REUSE: SO_REUSEADDR
 * lets a server bind its port again while old connections linger in
 * TIME_WAIT.  Keepalive timing per connection (TCP_KEEPIDLE...).  One
 * extension argument per pcb: its "destroyed" callback is how a socket
 * learns that lwIP freed its pcb (a TIME_WAIT pcb expires without any
 * other callback).  The pcb count only matters if the pools ever stop
 * coming from kmalloc: 100 concurrent clients plus TIME_WAIT. */
#define SO_REUSE		  1
#define LWIP_TCP_KEEPALIVE	  1
#define LWIP_TCP_PCB_NUM_EXT_ARGS 1
#define MEMP_NUM_TCP_PCB	  256
#define MEMP_NUM_TCP_PCB_LISTEN	  16
#define MEMP_NUM_UDP_PCB	  32

/* Checksums are computed in software (no offload features are
 * negotiated with the device yet). */
#define LWIP_CHECKSUM_ON_COPY 0

/* No statistics in the kernel (LWIP_DEBUG stays undefined: any
 * definition, even 0, turns lwIP's debug output on). */
#define LWIP_STATS 0
#define LWIP_PERF  0

#endif
