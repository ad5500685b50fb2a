/*
 * The guest console: bytes from the 8250 and from KILN_PORT_CONSOLE go to
 * one file descriptor (stdout or --serial FILE) in order.
 *
 * Bytes from the UART arrive one per exit, so they are buffered and flushed
 * at a newline, when the buffer is full and at exit; a batched request from
 * the kiln console port is written with one write(2) after flushing what
 * came before it.  A failed write drops the output and is counted: the
 * guest must keep running even when nobody reads its console.
 */
#include <errno.h>
#include <unistd.h>

#include "vmm.h"

void console_init(struct console *c, int fd)
{
	c->fd = fd;
	c->len = 0;
	c->errors = 0;
}

static void console_write_all(struct console *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			c->errors++;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

void console_flush(struct console *c)
{
	size_t n = c->len;
	c->len = 0;
	console_write_all(c, c->buf, n);
}

void console_putc(struct console *c, char ch)
{
	c->buf[c->len++] = ch;
	if (ch == '\n' || c->len == sizeof(c->buf))
		console_flush(c);
}

void console_write(struct console *c, const void *p, size_t n)
{
	console_flush(c);
	console_write_all(c, p, n);
}
