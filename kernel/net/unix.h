/*
 * AF_UNIX sockets as the syscall shims (kernel/sys/socket.c) see them;
 * implemented in kernel/net/unix.c without lwIP.  Unlike the inet sockets
 * of socket.h these functions take the program's pointers themselves
 * (addresses, control messages, lengths), since a sockaddr_un and
 * SCM_RIGHTS need more than a fixed-size struct.  Iovecs are already
 * copied and checked by the shim (bases are the program's memory).
 *
 * Every function returns 0 or a count, or -errno with Linux's meaning.
 */
#ifndef KILN_NET_UNIX_H
#define KILN_NET_UNIX_H

#include "kernel.h"

#include <linux/uio.h>

struct file;

/* socket(AF_UNIX, type, protocol) and socketpair: type without flags
 * (checked here: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW as
 * DGRAM), flags SOCK_NONBLOCK | SOCK_CLOEXEC.  A descriptor, or 0 after
 * writing the pair to usv. */
long unix_socket(int type, int protocol, int flags);
long unix_socketpair(int type, int protocol, int flags, int *usv);

/* True when f is an AF_UNIX socket. */
bool unix_is(const struct file *f);

long unix_bind(struct file *f, const void *uaddr, int len);
long unix_listen(struct file *f, int backlog);
/* flags: SOCK_NONBLOCK | SOCK_CLOEXEC.  The new descriptor. */
long unix_accept(struct file *f, int flags, void *uaddr, int *ulen);
long unix_connect(struct file *f, const void *uaddr, int len);
long unix_shutdown(struct file *f, int how);
/* getsockname (peer false) and getpeername. */
long unix_name(struct file *f, bool peer, void *uaddr, int *ulen);

/* sendmsg: iov[0..cnt) of total bytes; uname/namelen the destination
 * (NULL/0: none); uctl/ctllen the control messages (SCM_RIGHTS,
 * SCM_CREDENTIALS).  Bytes sent. */
long unix_sendmsg(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, const void *uname, int namelen,
		  const void *uctl, size_t ctllen);
/* recvmsg: *namelen is in the size of uname's buffer and out the length
 * of the sender's address (0: unnamed); *ctllen likewise for the control
 * buffer (uctl NULL: none, passed descriptors are closed); *oflags gets
 * MSG_TRUNC / MSG_CTRUNC.  flags may hold MSG_CMSG_CLOEXEC.  Bytes. */
long unix_recvmsg(struct file *f, const struct iovec *iov, int cnt,
		  size_t total, int flags, void *uname, int *namelen,
		  void *uctl, size_t *ctllen, int *oflags);

/* Options, as sock_setopt/sock_getopt: val is a kernel buffer. */
int unix_setopt(struct file *f, int level, int name, const void *val,
		size_t len);
int unix_getopt(struct file *f, int level, int name, void *val, size_t *len);

#endif
