/*
 * Network configuration from the kernel command line, and the files of
 * /etc that make a program's libc see it.
 *
 * The words (written by kiln run from --ip, --gw, --dns, --hostname):
 *   kiln.ip=ADDR/PREFIX     the interface's IPv4 address and prefix
 *   kiln.gw=ADDR            default gateway
 *   kiln.dns=ADDR[,ADDR]    nameservers for /etc/resolv.conf (at most 3)
 *   kiln.hostname=NAME      read by main.c into proc_hostname()
 * When kiln.ip is given, /etc/hostname, /etc/hosts (localhost plus the
 * address under the hostname) and, with kiln.dns, /etc/resolv.conf are
 * generated, so getaddrinfo and gethostname agree with the command line.
 * A file the image already carries (kiln run --file) is left as it is.
 */
#include "../fs/vfs.h"
#include "boot.h"
#include "net_config.h"
#include "proc.h"

struct net_config net_config;

static uint32_t be32(uint32_t host)
{
	return __builtin_bswap32(host);
}

/* Dotted quad into a network-order address; false unless it is exactly
 * four decimal numbers of 0-255 ending at *end (which gets the stop). */
static bool parse_ip(const char *s, const char **end, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		if (i && *s++ != '.')
			return false;
		if (*s < '0' || *s > '9')
			return false;
		unsigned part = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			part = part * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (part > 255 || digits > 3)
			return false;
		v = v << 8 | part;
	}
	*end = s;
	*out = be32(v);
	return true;
}

void net_format_ip(uint32_t addr, char *buf)
{
	uint32_t v = be32(addr);
	snprintf(buf, 16, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
		 (v >> 8) & 255, v & 255);
}

static int bad_word(const char *word, const char *want)
{
	klog("invalid '%s' on the kernel command line: want %s", word, want);
	return -EINVAL;
}

static int parse_word(const char *w)
{
	const char *end;
	uint32_t a;

	if (!strncmp(w, "virtio_mmio.device=", 19)) {
		net_config.have_devices = true;
	} else if (!strncmp(w, "kiln.ip=", 8)) {
		if (!parse_ip(w + 8, &end, &a) || *end++ != '/' || *end < '0' ||
		    *end > '9')
			return bad_word(w, "ADDR/PREFIX such as 10.0.0.2/24");
		int prefix = 0;
		while (*end >= '0' && *end <= '9' && prefix <= 32)
			prefix = prefix * 10 + (*end++ - '0');
		if (*end || prefix < 1 || prefix > 32)
			return bad_word(w, "a prefix length of 1-32");
		net_config.have_ip = true;
		net_config.addr = a;
		net_config.prefix = prefix;
		net_config.mask = be32(0xffffffffu << (32 - prefix));
	} else if (!strncmp(w, "kiln.gw=", 8)) {
		if (!parse_ip(w + 8, &end, &a) || *end)
			return bad_word(w, "an IPv4 address such as 10.0.0.1");
		net_config.gw = a;
	} else if (!strncmp(w, "kiln.dns=", 9)) {
		const char *s = w + 9;
		for (;;) {
			if (!parse_ip(s, &end, &a) || (*end && *end != ','))
				return bad_word(w, "IPv4 addresses separated "
						   "by commas");
			if (net_config.ndns < NET_MAX_DNS)
				net_config.dns[net_config.ndns++] = a;
			if (!*end)
				break;
			s = end + 1;
		}
	}
	return 0;
}

int net_config_read(void)
{
	char w[128];
	int err = 0;

	memset(&net_config, 0, sizeof(net_config));
	for (const char *p = boot_info.cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ' ')
			p++;
		size_t n = (size_t)(p - start);
		/* Only our words are copied out (longer ones are cut, and
		 * then fail to parse). */
		if (n && (!strncmp(start, "kiln.", 5) ||
			  !strncmp(start, "virtio_mmio.", 12))) {
			n = MIN(n, sizeof(w) - 1);
			memcpy(w, start, n);
			w[n] = 0;
			if (parse_word(w))
				err = -EINVAL;
		}
	}
	return err;
}

/* A name that can go into /etc/hosts as it is (RFC 1123 characters,
 * plus '_' which resolvers accept). */
static bool hostname_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
		      *s == '_'))
			return false;
	return true;
}

/* Writes path with text unless the image has it; logs a failure. */
static void etc_write(const char *path, const char *text)
{
	struct file *f;

	if (vfs_open(path, O_RDONLY, 0, &f) == 0) {
		file_put(f);
		return;
	}
	int err = vfs_write_file(path, text, strlen(text), 0644);
	if (err)
		klog("cannot write '%s' (error %d)", path, -err);
}

void net_config_write_etc(void)
{
	char addr[16], text[512];
	const char *host = proc_hostname();

	if (!net_config.have_ip)
		return;
	int err = vfs_mkdir_at(AT_FDCWD, "/etc", 0755);
	if (err && err != -EEXIST) {
		klog("cannot create '/etc' (error %d)", -err);
		return;
	}
	if (!hostname_ok(host)) {
		klog("hostname '%s' is not a valid host name; not writing "
		     "/etc/hostname and /etc/hosts",
		     host);
	} else {
		snprintf(text, sizeof(text), "%s\n", host);
		etc_write("/etc/hostname", text);
		net_format_ip(net_config.addr, addr);
		snprintf(text, sizeof(text),
			 "127.0.0.1\tlocalhost\n"
			 "::1\tlocalhost ip6-localhost ip6-loopback\n"
			 "%s\t%s\n",
			 addr, host);
		etc_write("/etc/hosts", text);
	}

	/* glibc asks DNS before /etc/hosts without this file. */
	etc_write("/etc/nsswitch.conf", "hosts: files dns\n");

	if (net_config.ndns) {
		size_t n = 0;
		for (int i = 0; i < net_config.ndns; i++) {
			net_format_ip(net_config.dns[i], addr);
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "nameserver %s\n", addr);
		}
		etc_write("/etc/resolv.conf", text);
	}
}
