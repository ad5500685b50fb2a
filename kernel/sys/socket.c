/*
 * Socket syscalls: socket, socketpair, bind, listen, accept, accept4,
 * connect, sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg,
 * shutdown, getsockname, getpeername, setsockopt and getsockopt.  Thin
 * shims over kernel/net/socket.c: they look up descriptors (ENOTSOCK for a
 * file that is not a socket), copy addresses, message headers, iovecs and
 * option values between the program and the kernel, and check what Linux
 * checks before the protocol does (address lengths and families, flag
 * bits).  read, write, readv, writev, sendfile, fcntl(O_NONBLOCK), ioctl
 * and fstat reach sockets through their file ops.
 *
 * AF_INET has SOCK_STREAM and SOCK_DGRAM; AF_UNIX sockets
 * (kernel/net/unix.c) take the program's pointers themselves, so each
 * shim hands them over as they come.  Every other family is
 * EAFNOSUPPORT, so libc's probes (IPv6, netlink) take their fallbacks.
 */
#include "../fs/vfs.h"
#include "../net/socket.h"
#include "../net/unix.h"

#include "ksignal.h"
#include "mm.h"
#include "syscall.h"
#include "uaccess.h"

#include <linux/in.h>

#define SOCK_ADDR_MAX 128  /* sizeof(struct sockaddr_storage) */
#define SOCK_OPT_MAX  256  /* option bytes copied in or out */
#define SOCK_MMSG_MAX 1024 /* UIO_MAXIOV: messages per sendmmsg/recvmmsg */

/* struct msghdr and struct mmsghdr as the program lays them out. */
struct user_msghdr {
	void *msg_name;
	int msg_namelen;
	struct iovec *msg_iov;
	size_t msg_iovlen;
	void *msg_control;
	size_t msg_controllen;
	unsigned int msg_flags;
};

struct user_mmsghdr {
	struct user_msghdr msg_hdr;
	unsigned int msg_len;
};

/* The socket at fd with a reference, or NULL and *err. */
static struct file *sock_fd(int fd, long *err)
{
	struct file *f = fd_get(fd);

	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	if (!sock_is(f) && !unix_is(f)) {
		file_put(f);
		*err = -ENOTSOCK;
		return NULL;
	}
	return f;
}

/* Reads a struct sockaddr_in.  1 for AF_UNSPEC when allowed (connect's
 * "dissolve"), else 0 or -errno as Linux's inet layer answers. */
static long addr_from_user(const void *uaddr, int len, struct sock_addr *a,
			   bool allow_unspec)
{
	struct sockaddr_in sin;

	if (len < 0 || len > SOCK_ADDR_MAX)
		return -EINVAL;
	if (len < (int)sizeof(sin.sin_family))
		return -EINVAL;
	memset(&sin, 0, sizeof(sin));
	if (copy_from_user(&sin, uaddr, MIN((size_t)len, sizeof(sin))))
		return -EFAULT;
	if (sin.sin_family == AF_UNSPEC && allow_unspec)
		return 1;
	if (len < (int)sizeof(sin))
		return -EINVAL;
	if (sin.sin_family != AF_INET) {
		/* bind accepts AF_UNSPEC with INADDR_ANY, for old
		 * programs, as Linux does. */
		if (!(sin.sin_family == AF_UNSPEC && sin.sin_addr.s_addr == 0))
			return -EAFNOSUPPORT;
	}
	a->addr = sin.sin_addr.s_addr;
	a->port = __builtin_bswap16(sin.sin_port);
	return 0;
}

/* Writes a struct sockaddr_in, cut to the program's *ulen, and the full
 * length back to *ulen.  uaddr NULL: nothing (accept without address). */
static long addr_to_user(void *uaddr, int *ulen, const struct sock_addr *a)
{
	struct sockaddr_in sin;
	int len;

	if (!uaddr)
		return 0;
	if (copy_from_user(&len, ulen, sizeof(len)))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = __builtin_bswap16(a->port);
	sin.sin_addr.s_addr = a->addr;
	if (copy_to_user(uaddr, &sin, MIN((size_t)len, sizeof(sin))))
		return -EFAULT;
	len = sizeof(sin);
	return copy_to_user(ulen, &len, sizeof(len)) ? -EFAULT : 0;
}

/* Copies and checks an iovec array (kmalloc'd into *out; NULL for 0
 * entries); *total is the byte count, clipped to FS_MAX_RW as Linux
 * clips it.  EMSGSIZE for more than UIO_MAXIOV entries. */
static long iov_from_user(const struct iovec *uiov, size_t cnt,
			  struct iovec **out, size_t *total)
{
	struct iovec *iov;
	size_t sum = 0;

	*out = NULL;
	*total = 0;
	if (cnt > UIO_MAXIOV)
		return -EMSGSIZE;
	if (cnt == 0)
		return 0;
	iov = kmalloc(sizeof(*iov) * cnt);
	if (!iov)
		return -ENOMEM;
	if (copy_from_user(iov, uiov, sizeof(*iov) * cnt)) {
		kfree(iov);
		return -EFAULT;
	}
	for (size_t i = 0; i < cnt; i++) {
		if ((int64_t)iov[i].iov_len < 0 ||
		    iov[i].iov_len > (size_t)INT64_MAX - sum) {
			kfree(iov);
			return -EINVAL;
		}
		if (iov[i].iov_len &&
		    !user_range_ok(iov[i].iov_base, iov[i].iov_len)) {
			kfree(iov);
			return -EFAULT;
		}
		sum += iov[i].iov_len;
	}
	*out = iov;
	*total = MIN(sum, FS_MAX_RW);
	return 0;
}

/* ---- creation ---- */

static long sys_socket(int domain, int type, int protocol)
{
	int base = type & SOCK_TYPE_MASK;
	struct file *f;
	long r;

	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (domain == AF_UNIX)
		return unix_socket(base, protocol, type & ~SOCK_TYPE_MASK);
	if (domain != AF_INET)
		return -EAFNOSUPPORT; /* AF_INET6, AF_NETLINK... */
	if (base < 1 || base >= SOCK_MAX)
		return -EINVAL;
	switch (base) {
	case SOCK_STREAM:
		if (protocol != 0 && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		break;
	case SOCK_DGRAM:
		if (protocol != 0 && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		break;
	case SOCK_RAW:
		return -EPROTONOSUPPORT; /* no raw sockets */
	default:
		return -ESOCKTNOSUPPORT;
	}
	r = sock_create(base, (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0, &f);
	if (r)
		return r;
	r = fd_install(f, 0, type & SOCK_CLOEXEC);
	if (r < 0)
		file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_socket, socket, sys_socket);

static long sys_socketpair(int domain, int type, int protocol, int *usv)
{
	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (domain == AF_UNIX)
		return unix_socketpair(type & SOCK_TYPE_MASK, protocol,
				       type & ~SOCK_TYPE_MASK, usv);
	/* Linux has no AF_INET pairs. */
	return domain == AF_INET ? -EOPNOTSUPP : -EAFNOSUPPORT;
}
SYSCALL_REGISTER(__NR_socketpair, socketpair, sys_socketpair);

/* ---- addresses and connections ---- */

static long sys_bind(int fd, const void *uaddr, int len)
{
	struct sock_addr a;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	if (unix_is(f)) {
		r = unix_bind(f, uaddr, len);
		file_put(f);
		return r;
	}
	r = addr_from_user(uaddr, len, &a, false);
	if (!r)
		r = sock_bind(f, &a);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_bind, bind, sys_bind);

static long sys_listen(int fd, int backlog)
{
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	r = unix_is(f) ? unix_listen(f, backlog) : sock_listen(f, backlog);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_listen, listen, sys_listen);

static int accept_install(struct file *nf, void *cloexec)
{
	return fd_install(nf, 0, *(bool *)cloexec);
}

static long sys_accept4(int fd, void *uaddr, int *ulen, int flags)
{
	struct sock_addr peer;
	bool cloexec = flags & SOCK_CLOEXEC;
	long r;
	struct file *f;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	f = sock_fd(fd, &r);
	if (!f)
		return r;
	if (unix_is(f)) {
		r = unix_accept(f, flags, uaddr, ulen);
		file_put(f);
		return r;
	}
	r = sock_accept(f, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0, &peer,
			accept_install, &cloexec);
	file_put(f);
	if (r >= 0 && uaddr) {
		long e = addr_to_user(uaddr, ulen, &peer);
		if (e) {
			/* Linux drops the connection too. */
			fd_close((int)r);
			r = e;
		}
	}
	return r;
}
SYSCALL_REGISTER(__NR_accept4, accept4, sys_accept4);

static long sys_accept(int fd, void *uaddr, int *ulen)
{
	return sys_accept4(fd, uaddr, ulen, 0);
}
SYSCALL_REGISTER(__NR_accept, accept, sys_accept);

static long sys_connect(int fd, const void *uaddr, int len)
{
	struct sock_addr a;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	if (unix_is(f)) {
		r = unix_connect(f, uaddr, len);
		file_put(f);
		return r;
	}
	r = addr_from_user(uaddr, len, &a, true);
	if (r >= 0)
		r = sock_connect(f, r == 1 ? NULL : &a);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_connect, connect, sys_connect);

static long sys_shutdown(int fd, int how)
{
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	r = unix_is(f) ? unix_shutdown(f, how) : sock_shutdown(f, how);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_shutdown, shutdown, sys_shutdown);

static long sock_name_to_user(int fd, void *uaddr, int *ulen, bool peer)
{
	struct sock_addr a;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	if (unix_is(f)) {
		r = uaddr ? unix_name(f, peer, uaddr, ulen) : -EFAULT;
		file_put(f);
		return r;
	}
	r = sock_name(f, peer, &a);
	file_put(f);
	if (r)
		return r;
	if (!uaddr)
		return -EFAULT;
	return addr_to_user(uaddr, ulen, &a);
}

static long sys_getsockname(int fd, void *uaddr, int *ulen)
{
	return sock_name_to_user(fd, uaddr, ulen, false);
}
SYSCALL_REGISTER(__NR_getsockname, getsockname, sys_getsockname);

static long sys_getpeername(int fd, void *uaddr, int *ulen)
{
	return sock_name_to_user(fd, uaddr, ulen, true);
}
SYSCALL_REGISTER(__NR_getpeername, getpeername, sys_getpeername);

/* ---- data ---- */

/* A send on a socket that can no longer send (EPIPE) also raises SIGPIPE
 * unless MSG_NOSIGNAL says not to. */
static long send_signal_pipe(long r, int flags)
{
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
		signal_raise_pipe();
	return r;
}

static long sys_sendto(int fd, const void *buf, size_t len, int flags,
		       const void *uaddr, int alen)
{
	struct sock_addr to;
	struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
	bool have_to = false;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	len = MIN(len, FS_MAX_RW);
	v.iov_len = len;
	if (len && !user_range_ok(buf, len)) {
		r = -EFAULT;
		goto put;
	}
	if (unix_is(f)) {
		r = send_signal_pipe(unix_sendmsg(f, &v, 1, len, flags, uaddr,
						  uaddr ? alen : 0, NULL, 0),
				     flags);
		goto put;
	}
	if (uaddr) {
		r = addr_from_user(uaddr, alen, &to, true);
		if (r < 0)
			goto put;
		have_to = r == 0; /* AF_UNSPEC: as without an address */
	}
	r = send_signal_pipe(
	    sock_send(f, &v, 1, len, flags, have_to ? &to : NULL, true), flags);
put:
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_sendto, sendto, sys_sendto);

/* recvfrom on an AF_UNIX socket: the sender's address, if it has one,
 * goes to uaddr and *ulen. */
static long unix_recvfrom(struct file *f, struct iovec *v, size_t len,
			  int flags, void *uaddr, int *ulen)
{
	int namelen = 0, oflags;
	size_t ctllen = 0;
	long r;

	if (len && !user_range_ok(v->iov_base, len))
		return -EFAULT;
	if (uaddr && copy_from_user(&namelen, ulen, sizeof(namelen)))
		return -EFAULT;
	if (uaddr && namelen < 0)
		return -EINVAL;
	r = unix_recvmsg(f, v, 1, len, flags & ~MSG_CMSG_CLOEXEC, uaddr,
			 &namelen, NULL, &ctllen, &oflags);
	if (r >= 0 && uaddr && copy_to_user(ulen, &namelen, sizeof(namelen)))
		return -EFAULT;
	return r;
}

static long sys_recvfrom(int fd, void *buf, size_t len, int flags, void *uaddr,
			 int *ulen)
{
	struct sock_addr from;
	struct iovec v = {.iov_base = buf, .iov_len = len};
	bool stream;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	len = MIN(len, FS_MAX_RW);
	v.iov_len = len;
	if (unix_is(f)) {
		r = unix_recvfrom(f, &v, len, flags, uaddr, ulen);
		file_put(f);
		return r;
	}
	stream = sock_type(f) == SOCK_STREAM;
	if (len && !user_range_ok(buf, len))
		r = -EFAULT;
	else
		r = sock_recv(f, &v, 1, len, flags, &from, NULL, true);
	file_put(f);
	if (r >= 0 && uaddr) {
		if (stream) {
			/* No address for a stream: the length says so. */
			int zero = 0;
			if (copy_to_user(ulen, &zero, sizeof(zero)))
				return -EFAULT;
		} else {
			long e = addr_to_user(uaddr, ulen, &from);
			if (e)
				return e;
		}
	}
	return r;
}
SYSCALL_REGISTER(__NR_recvfrom, recvfrom, sys_recvfrom);

/* One sendmsg on a socket file; bytes or -errno. */
static long do_sendmsg(struct file *f, struct user_msghdr *umsg, int flags)
{
	struct user_msghdr m;
	struct sock_addr to;
	struct iovec *iov;
	size_t total;
	bool have_to = false;
	long r;

	if (copy_from_user(&m, umsg, sizeof(m)))
		return -EFAULT;
	if (unix_is(f)) {
		if (m.msg_name && (m.msg_namelen < 0 || m.msg_namelen > 128))
			return -EINVAL;
		r = iov_from_user(m.msg_iov, m.msg_iovlen, &iov, &total);
		if (r)
			return r;
		r = send_signal_pipe(
		    unix_sendmsg(f, iov, (int)m.msg_iovlen, total, flags,
				 m.msg_name, m.msg_name ? m.msg_namelen : 0,
				 m.msg_control, m.msg_controllen),
		    flags);
		kfree(iov);
		return r;
	}
	if (m.msg_name && m.msg_namelen) {
		r = addr_from_user(m.msg_name, m.msg_namelen, &to, true);
		if (r < 0)
			return r;
		have_to = r == 0;
	}
	/* Ancillary data (IP_PKTINFO...) is not interpreted. */
	r = iov_from_user(m.msg_iov, m.msg_iovlen, &iov, &total);
	if (r)
		return r;
	r = send_signal_pipe(sock_send(f, iov, (int)m.msg_iovlen, total, flags,
				       have_to ? &to : NULL, true),
			     flags);
	kfree(iov);
	return r;
}

/* One recvmsg: fills the message's address, name and control lengths and
 * flags in the program's header.  Bytes or -errno. */
static long do_recvmsg(struct file *f, struct user_msghdr *umsg, int flags)
{
	struct user_msghdr m;
	struct sock_addr from;
	struct iovec *iov;
	size_t total;
	int oflags = 0;
	long r;

	if (copy_from_user(&m, umsg, sizeof(m)))
		return -EFAULT;
	/* Checked before receiving: a datagram must never be taken from the
	 * queue and then dropped for a bad header. */
	if (m.msg_name && m.msg_namelen < 0)
		return -EINVAL;
	r = iov_from_user(m.msg_iov, m.msg_iovlen, &iov, &total);
	if (r)
		return r;
	if (unix_is(f)) {
		r = unix_recvmsg(f, iov, (int)m.msg_iovlen, total, flags,
				 m.msg_name, &m.msg_namelen, m.msg_control,
				 &m.msg_controllen, &oflags);
		kfree(iov);
		if (r < 0)
			return r;
		goto out;
	}
	flags &= ~MSG_CMSG_CLOEXEC;
	r = sock_recv(f, iov, (int)m.msg_iovlen, total, flags, &from, &oflags,
		      true);
	kfree(iov);
	if (r < 0)
		return r;
	if (m.msg_name && sock_type(f) == SOCK_DGRAM) {
		struct sockaddr_in sin;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = __builtin_bswap16(from.port);
		sin.sin_addr.s_addr = from.addr;
		if (copy_to_user(m.msg_name, &sin,
				 MIN((size_t)m.msg_namelen, sizeof(sin))))
			return -EFAULT;
		m.msg_namelen = sizeof(sin);
	} else {
		m.msg_namelen = 0;
	}
	m.msg_controllen = 0; /* no ancillary data is produced */
out:
	m.msg_flags = (unsigned int)oflags;
	if (copy_to_user(&umsg->msg_namelen, &m.msg_namelen,
			 sizeof(m.msg_namelen)) ||
	    copy_to_user(&umsg->msg_controllen, &m.msg_controllen,
			 sizeof(m.msg_controllen)) ||
	    copy_to_user(&umsg->msg_flags, &m.msg_flags, sizeof(m.msg_flags)))
		return -EFAULT;
	return r;
}

static long sys_sendmsg(int fd, struct user_msghdr *umsg, int flags)
{
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	r = do_sendmsg(f, umsg, flags);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_sendmsg, sendmsg, sys_sendmsg);

static long sys_recvmsg(int fd, struct user_msghdr *umsg, int flags)
{
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	r = do_recvmsg(f, umsg, flags);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_recvmsg, recvmsg, sys_recvmsg);

/* sendmmsg and recvmmsg: one message after another; an error after the
 * first message ends the batch with the count so far, as on Linux. */
static long sys_sendmmsg(int fd, struct user_mmsghdr *vec, unsigned int vlen,
			 int flags)
{
	unsigned int i;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	vlen = MIN(vlen, (unsigned int)SOCK_MMSG_MAX);
	r = 0;
	for (i = 0; i < vlen; i++) {
		r = do_sendmsg(f, &vec[i].msg_hdr, flags);
		if (r < 0)
			break;
		unsigned int n = (unsigned int)r;
		if (copy_to_user(&vec[i].msg_len, &n, sizeof(n))) {
			r = -EFAULT;
			break;
		}
	}
	file_put(f);
	return i ? (long)i : r;
}
SYSCALL_REGISTER(__NR_sendmmsg, sendmmsg, sys_sendmmsg);

static long sys_recvmmsg(int fd, struct user_mmsghdr *vec, unsigned int vlen,
			 int flags, void *utimeout)
{
	unsigned int i;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	/* The timeout, as on Linux, is only looked at between messages;
	 * with one thread and no signals it changes nothing here. */
	(void)utimeout;
	vlen = MIN(vlen, (unsigned int)SOCK_MMSG_MAX);
	r = 0;
	for (i = 0; i < vlen; i++) {
		r = do_recvmsg(f, &vec[i].msg_hdr, flags);
		if (r < 0)
			break;
		unsigned int n = (unsigned int)r;
		if (copy_to_user(&vec[i].msg_len, &n, sizeof(n))) {
			r = -EFAULT;
			break;
		}
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
	}
	file_put(f);
	return i ? (long)i : r;
}
SYSCALL_REGISTER(__NR_recvmmsg, recvmmsg, sys_recvmmsg);

/* ---- options ---- */

static long sys_setsockopt(int fd, int level, int name, const void *uval,
			   int len)
{
	uint8_t val[SOCK_OPT_MAX];
	long r;
	struct file *f;

	if (len < 0)
		return -EINVAL;
	f = sock_fd(fd, &r);
	if (!f)
		return r;
	/* Every option is a few bytes; longer values are cut (the
	 * options that read them look at their own size only). */
	size_t n = MIN((size_t)len, sizeof(val));
	if (n && copy_from_user(val, uval, n))
		r = -EFAULT;
	else if (unix_is(f))
		r = unix_setopt(f, level, name, val, n);
	else
		r = sock_setopt(f, level, name, val, n);
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_setsockopt, setsockopt, sys_setsockopt);

static long sys_getsockopt(int fd, int level, int name, void *uval, int *ulen)
{
	uint8_t val[SOCK_OPT_MAX];
	int len;
	size_t n;
	long r;
	struct file *f = sock_fd(fd, &r);

	if (!f)
		return r;
	if (copy_from_user(&len, ulen, sizeof(len))) {
		r = -EFAULT;
		goto put;
	}
	if (len < 0) {
		r = -EINVAL;
		goto put;
	}
	n = MIN((size_t)len, sizeof(val));
	r = unix_is(f) ? unix_getopt(f, level, name, val, &n)
		       : sock_getopt(f, level, name, val, &n);
	if (r)
		goto put;
	len = (int)n;
	if ((n && copy_to_user(uval, val, n)) ||
	    copy_to_user(ulen, &len, sizeof(len)))
		r = -EFAULT;
put:
	file_put(f);
	return r;
}
SYSCALL_REGISTER(__NR_getsockopt, getsockopt, sys_getsockopt);
