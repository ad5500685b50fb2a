/*
 * blast: bulk TCP for bench/net_nested.sh, one static binary for every
 * side.  The server runs where the data comes from (a kiln guest, or a
 * process behind a veth pair), so the bytes flow guest -> host while the
 * guest stays up between rounds:
 *
 *   blast serve PORT              accepts connections one at a time; each
 *                                 sends an 8-byte big-endian count N and
 *                                 gets N bytes back, then end of file
 *   blast fetch HOST PORT BYTES   asks for BYTES and reads them; prints
 *                                 "blast: BYTES bytes in SECONDS s" (from
 *                                 the request to end of file); status 1
 *                                 if fewer arrived
 *   blast wait HOST PORT SECONDS  connects until it works (a server is up);
 *                                 status 1 when the time runs out
 *
 * The server writes 256 KiB per write() from one buffer that is filled
 * once: the measure is the network path, not the program.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLAST_CHUNK (256 * 1024)

static char blast_buf[BLAST_CHUNK];

static double blast_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int blast_addr(const char *host, const char *port,
		      struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "blast: invalid address '%s'\n", host);
		return -1;
	}
	return 0;
}

static int blast_read_all(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int blast_serve(const char *port)
{
	struct sockaddr_in sa;
	int one = 1;

	memset(blast_buf, 'k', sizeof(blast_buf));
	if (blast_addr("0.0.0.0", port, &sa) < 0)
		return 2;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 8) < 0) {
		perror("blast: listen");
		return 1;
	}
	printf("blast: serving on port %s\n", port);
	fflush(stdout);
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("blast: accept");
			return 1;
		}
		unsigned char hdr[8];
		uint64_t n = 0;
		if (blast_read_all(c, hdr, sizeof(hdr)) == 0) {
			for (int i = 0; i < 8; i++)
				n = n << 8 | hdr[i];
		}
		while (n > 0) {
			size_t k = n < BLAST_CHUNK ? (size_t)n : BLAST_CHUNK;
			ssize_t w = write(c, blast_buf, k);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			n -= (uint64_t)w;
		}
		close(c);
	}
}

static int blast_connect(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int blast_fetch(const char *host, const char *port, const char *bytes)
{
	struct sockaddr_in sa;
	uint64_t want = strtoull(bytes, NULL, 10), got = 0;
	unsigned char hdr[8];

	if (blast_addr(host, port, &sa) < 0)
		return 2;
	int fd = blast_connect(&sa);
	if (fd < 0) {
		fprintf(stderr, "blast: cannot connect to %s:%s: %s\n", host,
			port, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 8; i++)
		hdr[i] = (unsigned char)(want >> (56 - 8 * i));
	double t0 = blast_now();
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		perror("blast: write");
		return 1;
	}
	for (;;) {
		ssize_t r = read(fd, blast_buf, sizeof(blast_buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (uint64_t)r;
	}
	double t = blast_now() - t0;
	close(fd);
	printf("blast: %llu bytes in %.6f s\n", (unsigned long long)got, t);
	return got == want ? 0 : 1;
}

static int blast_wait(const char *host, const char *port, const char *secs)
{
	struct sockaddr_in sa;
	double end = blast_now() + atof(secs);

	if (blast_addr(host, port, &sa) < 0)
		return 2;
	while (blast_now() < end) {
		int fd = blast_connect(&sa);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, "blast: nothing answers on %s:%s after %s s\n", host,
		port, secs);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return blast_serve(argv[2]);
	if (argc == 5 && strcmp(argv[1], "fetch") == 0)
		return blast_fetch(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "wait") == 0)
		return blast_wait(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: blast serve PORT | blast fetch HOST PORT BYTES "
			"| blast wait HOST PORT SECONDS\n");
	return 2;
}
