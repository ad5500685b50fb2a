/*
 * Sockets as the syscall shims see them (implemented in kernel/net/socket.c
 * over lwIP's raw API).  A socket is an open file without an inode whose
 * priv is a struct sock; everything here takes that file.  Addresses are
 * IPv4 only and cross this interface as struct sock_addr, already checked
 * and converted from the program's struct sockaddr_in by the shim
 * (kernel/sys/socket.c), which also copies option values and message
 * headers in and out.  No lwIP type appears here, so the shims compile
 * without lwIP's headers.
 *
 * Every function returns 0 or a count, or -errno with Linux's meaning.
 * Data buffers are described by iovecs whose bases are the program's
 * memory when user is true (the shims and read/write) or the kernel's
 * (sendfile's bounce buffer).
 */
#ifndef KILN_NET_SOCKET_H
#define KILN_NET_SOCKET_H

#include "kernel.h"

#include <linux/uio.h>

struct file;

/* An iovec walk for copying a message in or out piece by piece (TCP/UDP
 * in socket.c, AF_UNIX in unix.c). */
struct sock_iter {
	const struct iovec *iov;
	int cnt, idx;
	size_t off;
	bool user;
};

void sock_iter_init(struct sock_iter *it, const struct iovec *iov, int cnt,
		    bool user);
/* Copies n bytes between buf and the iovecs at the iterator's position:
 * into them when out, out of them otherwise.  0, or -EFAULT (then nothing
 * is known about how much was copied). */
int sock_iter_copy(struct sock_iter *it, void *buf, size_t n, bool out);

/* The parts of Linux's socket ABI that its uapi headers leave to libc. */
#define AF_UNSPEC      0
#define AF_UNIX	       1
#define AF_INET	       2
#define AF_INET6       10
#define AF_NETLINK     16
#define AF_PACKET      17
#define AF_MAX	       46
#define SOCK_STREAM    1
#define SOCK_DGRAM     2
#define SOCK_RAW       3
#define SOCK_MAX       11 /* types at or above this are EINVAL */
#define SOCK_TYPE_MASK 0xf
/* socket/accept4 flags: the O_ flags of the same value */
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC  02000000

#define MSG_OOB		 0x1
#define MSG_PEEK	 0x2
#define MSG_DONTROUTE	 0x4
#define MSG_CTRUNC	 0x8
#define MSG_TRUNC	 0x20
#define MSG_DONTWAIT	 0x40
#define MSG_EOR		 0x80
#define MSG_WAITALL	 0x100
#define MSG_CONFIRM	 0x800
#define MSG_ERRQUEUE	 0x2000
#define MSG_NOSIGNAL	 0x4000
#define MSG_MORE	 0x8000
#define MSG_WAITFORONE	 0x10000
#define MSG_CMSG_CLOEXEC 0x40000000

#define SHUT_RD	  0
#define SHUT_WR	  1
#define SHUT_RDWR 2

#define SOL_SOCKET 1
#define SOL_IP	   0
#define SOL_TCP	   6
#define SOL_UDP	   17
#define SOL_IPV6   41

/* An IPv4 endpoint: addr in network byte order (as in sin_addr), port in
 * host byte order. */
struct sock_addr {
	uint32_t addr;
	uint16_t port;
};

/* Creates a socket file (type SOCK_STREAM or SOCK_DGRAM, already checked
 * by the shim; fflags: O_NONBLOCK or 0) holding one reference in *out.
 * -EAFNOSUPPORT when the kernel has no network (booted without --net),
 * -ENOMEM. */
int sock_create(int type, unsigned int fflags, struct file **out);

/* True when f is a socket. */
bool sock_is(const struct file *f);
/* SOCK_STREAM or SOCK_DGRAM. */
int sock_type(const struct file *f);

int sock_bind(struct file *f, const struct sock_addr *a);
int sock_listen(struct file *f, int backlog);
/* Waits for a connection (O_NONBLOCK: -EAGAIN); *out is the new socket
 * file (fflags: O_NONBLOCK or 0) with one reference, *peer its remote end
 * (when peer is not NULL).  The connection is taken off the queue only
 * when install(file, arg) returns a descriptor (>= 0), which is then
 * returned; otherwise the file is dropped, the connection stays queued and
 * install's error is returned. */
int sock_accept(struct file *f, unsigned int fflags, struct sock_addr *peer,
		int (*install)(struct file *nf, void *arg), void *arg);
/* a NULL: AF_UNSPEC, which dissolves a UDP association. */
int sock_connect(struct file *f, const struct sock_addr *a);

/* Sends the concatenation of iov[0..cnt) (total bytes, at most
 * FS_MAX_RW) with MSG_* flags, to *to when not NULL (UDP).  Bytes sent or
 * -errno (-EAGAIN, -EPIPE, -EMSGSIZE...). */
ssize_t sock_send(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, const struct sock_addr *to,
		  bool user);
/* Receives into iov[0..cnt) (total bytes) with MSG_* flags; *from gets
 * the sender when not NULL; *oflags gets MSG_TRUNC for a datagram cut
 * short (when not NULL).  Bytes (0 at end of stream) or -errno. */
ssize_t sock_recv(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, struct sock_addr *from, int *oflags,
		  bool user);

int sock_shutdown(struct file *f, int how);
/* The local (peer false) or remote end; -ENOTCONN without a peer. */
int sock_name(struct file *f, bool peer, struct sock_addr *out);

/* Options: val is a kernel copy of the program's len bytes.  getopt
 * writes at most *len bytes and sets *len to the size written. */
int sock_setopt(struct file *f, int level, int name, const void *val,
		size_t len);
int sock_getopt(struct file *f, int level, int name, void *val, size_t *len);

#endif
