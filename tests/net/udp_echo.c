/*
 * udp_echo: a UDP echo server for tests/e2e/net_tcp.sh, run inside kiln
 * with a network.  It binds PORT, prints "udp_echo: ready on PORT" and
 * sends every datagram back to its sender, alternating recvfrom/sendto
 * and recvmsg/sendmsg, until a datagram "quit" arrives; then it prints
 * "udp_echo: echoed N datagrams" and exits 0.  Before serving it checks a
 * few local answers (EMSGSIZE above 65507 bytes, MSG_TRUNC, the bound
 * name) and prints "ok"/"not ok" lines for them.
 *
 * Usage: udp_echo PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (!ok)
		failures++;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	if (argc != 2) {
		fprintf(stderr, "usage: udp_echo PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int port = atoi(argv[1]);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		perror("udp_echo: socket");
		return 1;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp_echo: bind");
		return 1;
	}
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	check(getsockname(s, (struct sockaddr *)&me, &ml) == 0 &&
		  ml == sizeof(me) && ntohs(me.sin_port) == port,
	      "getsockname gives the bound port");
	errno = 0;
	check(sendto(s, buf, 65508, 0, (struct sockaddr *)&me, sizeof(me)) <
		      0 &&
		  errno == EMSGSIZE,
	      "a 65508-byte datagram is EMSGSIZE");
	int t = socket(AF_INET, SOCK_DGRAM, 0);
	check(t >= 0 && bind(t, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
		  errno == EADDRINUSE,
	      "binding the port again is EADDRINUSE");
	close(t);

	printf("udp_echo: ready on %d\n", port);
	long n = 0;
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r;
		if (n % 2 == 0) {
			r = recvfrom(s, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl);
		} else {
			struct iovec iov[2] = {{buf, 100},
					       {buf + 100, sizeof(buf) - 100}};
			struct msghdr m = {.msg_name = &from,
					   .msg_namelen = sizeof(from),
					   .msg_iov = iov,
					   .msg_iovlen = 2};
			r = recvmsg(s, &m, 0);
			fl = m.msg_namelen;
			if (r >= 0 && (m.msg_flags & MSG_TRUNC))
				check(0, "recvmsg set MSG_TRUNC");
		}
		if (r < 0) {
			perror("udp_echo: recv");
			return 1;
		}
		if (fl != sizeof(from) || from.sin_family != AF_INET) {
			printf("not ok - sender address (length %u)\n",
			       (unsigned)fl);
			return 1;
		}
		if (r == 4 && memcmp(buf, "quit", 4) == 0)
			break;
		ssize_t w;
		if (n % 2 == 0) {
			w = sendto(s, buf, (size_t)r, 0,
				   (struct sockaddr *)&from, fl);
		} else {
			struct iovec iov = {buf, (size_t)r};
			struct msghdr m = {.msg_name = &from,
					   .msg_namelen = fl,
					   .msg_iov = &iov,
					   .msg_iovlen = 1};
			w = sendmsg(s, &m, 0);
		}
		if (w != r) {
			perror("udp_echo: send");
			return 1;
		}
		n++;
	}
	printf("udp_echo: echoed %ld datagrams\n", n);
	return failures ? 1 : 0;
}
