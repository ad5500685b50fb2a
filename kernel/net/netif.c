/*
 * The network stack: lwIP (NO_SYS=1, raw API) glued to the kernel.
 *
 * Design.  lwIP has no threads here and takes no locks; it is only ever
 * entered from net_poll (or code running in its place, such as the socket
 * layer later) with interrupts disabled, on the one CPU.  A device
 * interrupt acknowledges the device and calls net_dev_kick, which marks
 * the device pending; the frames themselves move in net_poll: the
 * driver's poll hands each received frame to net_input, which copies it
 * into a pbuf for ethernet_input, and lwIP answers (ARP, ICMP echo, TCP)
 * synchronously through net_linkoutput to the driver's xmit.  net_poll
 * also runs lwIP's timers (ARP ageing, TCP retransmission), due at
 * net_poll_deadline().  Who calls net_poll: every wait (it is registered
 * as wait.h's poller, so sleeps, blocking socket operations and poll/epoll
 * all run it after each wake-up), and the interrupt itself when it came
 * from user mode (the kernel was not inside lwIP).
 *
 * Cost when unused: net_init only scans the command line; with no
 * virtio_mmio.device= and no kiln.ip= lwIP is never initialised and
 * net_poll returns at once.
 */
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "../drivers/virtio.h"
#include "net.h"
#include "wait.h"
#include "net_config.h"
#include "proc.h"
#include <kiln/abi.h>

#define NET_MAX_FRAGS 16 /* pbufs per frame before it is flattened */

static bool net_stack_up;
static struct net_dev *net_device;
static struct netif net_netif;

bool net_active(void)
{
	return net_device != NULL;
}

/* lwIP's lwip_init, once: pools, the loopback interface, timers. */
static void net_stack_init(void)
{
	if (net_stack_up)
		return;
	lwip_init();
	net_stack_up = true;
}

static err_t net_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct net_dev *dev = nif->state;
	struct net_frag frag[NET_MAX_FRAGS];
	static uint8_t flat[1514];
	int n = 0;

	for (struct pbuf *q = p; q && n <= NET_MAX_FRAGS; q = q->next) {
		if (n < NET_MAX_FRAGS) {
			frag[n].data = q->payload;
			frag[n].len = q->len;
		}
		n++;
	}
	if (n > NET_MAX_FRAGS) {
		/* A long chain: one copy into a flat frame. */
		if (p->tot_len > sizeof(flat))
			return ERR_IF;
		pbuf_copy_partial(p, flat, p->tot_len, 0);
		frag[0].data = flat;
		frag[0].len = p->tot_len;
		n = 1;
	}
	int r = dev->xmit(dev, frag, n, p->tot_len);
	return r == 0 ? ERR_OK : r == -ENOBUFS ? ERR_MEM : ERR_IF;
}

static err_t net_netif_init(struct netif *nif)
{
	struct net_dev *dev = nif->state;

	nif->name[0] = 'e';
	nif->name[1] = 'n';
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, dev->mac, ETH_HWADDR_LEN);
	nif->mtu = dev->mtu;
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		     NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	nif->output = etharp_output;
	nif->linkoutput = net_linkoutput;
	return ERR_OK;
}

int net_dev_register(struct net_dev *dev)
{
	if (net_device) {
		klog("%s: only one network device is supported; %s is used",
		     dev->name, net_device->name);
		return -EBUSY;
	}
	net_stack_init();

	ip4_addr_t addr, mask, gw;
	ip4_addr_set_u32(&addr, net_config.have_ip ? net_config.addr : 0);
	ip4_addr_set_u32(&mask, net_config.have_ip ? net_config.mask : 0);
	ip4_addr_set_u32(&gw, net_config.gw);
	if (!netif_add(&net_netif, &addr, &mask, &gw, dev, net_netif_init,
		       ethernet_input)) {
		klog("%s: lwIP refused the interface", dev->name);
		return -ENOMEM;
	}
	dev->netif = &net_netif;
	net_device = dev;
	netif_set_default(&net_netif);
	/* Up with link: a gratuitous ARP announces the address. */
	netif_set_up(&net_netif);

	char a[16], g[16];
	net_format_ip(net_config.addr, a);
	net_format_ip(net_config.gw, g);
	kdebug("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, address %s/%d, "
	       "gateway %s",
	       dev->name, dev->mac[0], dev->mac[1], dev->mac[2], dev->mac[3],
	       dev->mac[4], dev->mac[5], net_config.have_ip ? a : "none",
	       net_config.prefix, net_config.gw ? g : "none");
	return 0;
}

void net_input(struct net_dev *dev, const void *frame, size_t len)
{
	struct netif *nif = dev->netif;

	if (!nif || len < SIZEOF_ETH_HDR || len > 0xffff)
		return;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (!p)
		return; /* out of memory: dropped, as a full NIC would */
	memcpy(p->payload, frame, len);
	if (nif->input(p, nif) != ERR_OK)
		pbuf_free(p);
}

void net_dev_kick(struct net_dev *dev, bool from_user)
{
	dev->pending = true;
	if (from_user && dev->netif)
		net_poll();
}

void net_poll(void)
{
	if (!net_stack_up)
		return;
	struct net_dev *dev = net_device;
	if (dev && dev->pending) {
		dev->pending = false;
		dev->poll(dev);
	}
#if LWIP_NETIF_LOOPBACK
	netif_poll_all();
#endif
	sys_check_timeouts();
	net_flush();
}

void net_flush(void)
{
	struct net_dev *dev = net_device;

	if (dev && dev->flush)
		dev->flush(dev);
}

/* True while a connection still has data or a FIN the peer has not
 * acknowledged. */
static bool net_tcp_busy(void)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		if (pcb->unsent || pcb->unacked)
			return true;
	return false;
}

void net_drain(uint64_t budget_ns)
{
	if (!net_stack_up)
		return;
	uint64_t deadline = clock_monotonic_ns() + budget_ns;
	net_flush();
	while (net_tcp_busy() && clock_monotonic_ns() < deadline) {
		struct net_dev *dev = net_device;
		if (dev) {
			dev->pending = false;
			dev->poll(dev);
		}
		sys_check_timeouts();
		net_flush();
		__asm__ volatile("pause");
	}
}

uint64_t net_poll_deadline(void)
{
	if (!net_stack_up)
		return UINT64_MAX;
	/* Called by every wait just before it halts: nothing may stay
	 * queued for the device while the CPU sleeps. */
	net_flush();
	if (net_device && net_device->pending)
		return 0;
	u32_t ms = sys_timeouts_sleeptime();
	if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return UINT64_MAX;
	return clock_monotonic_ns() + (uint64_t)ms * 1000000;
}

void net_init(void)
{
	if (net_config_read())
		machine_exit(KILN_EXIT_MONITOR);
	if (!net_config.have_devices && !net_config.have_ip)
		return;
	if (net_config.have_ip)
		net_stack_init();
	if (net_config.have_devices)
		virtio_mmio_probe();
	if (net_config.have_ip && !net_device)
		klog("kiln.ip is set but there is no network device (no "
		     "virtio-net in virtio_mmio.device= on the command line)");
	net_config_write_etc();
	/* Every wait (poll, epoll, blocking reads, later sockets) runs the
	 * network's work, waking no later than lwIP's next timer. */
	if (net_stack_up)
		wait_register_poller(net_poll, net_poll_deadline);
}
