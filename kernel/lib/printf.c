/*
 * A small vsnprintf: enough for kernel messages and generated files.
 * Conversions: d i u x X p s c %, flags '-' '0', width, precision (for s
 * and integer zero padding), length modifiers hh h l ll z t.
 */
#include "kernel.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width,
		       bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left)
		while (fill-- > 0)
			put(o, pad);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false, zero = false;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else
				break;
		}
		int width = 0, prec = -1;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		int lng = 0;
		while (*fmt == 'l' || *fmt == 'z' || *fmt == 't' ||
		       *fmt == 'h') {
			if (*fmt != 'h')
				lng = 1;
			fmt++;
		}

		char tmp[24];
		const char *s;
		size_t n;
		uint64_t u;
		bool neg = false;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
			neg = v < 0;
			u = neg ? -(uint64_t)v : (uint64_t)v;
			goto number10;
		}
		case 'u':
			u = lng ? va_arg(ap, unsigned long)
				: va_arg(ap, unsigned int);
		number10:
			n = 0;
			do {
				tmp[sizeof(tmp) - 1 - n++] = '0' + u % 10;
				u /= 10;
			} while (u);
			if (neg)
				tmp[sizeof(tmp) - 1 - n++] = '-';
			s = tmp + sizeof(tmp) - n;
			put_padded(&o, s, n, width, left,
				   zero && !left && !neg ? '0' : ' ');
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			lng = 1;
			zero = true;
			width = 16;
			u = (uint64_t)va_arg(ap, void *);
			goto number16;
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, unsigned long)
				: va_arg(ap, unsigned int);
		number16 : {
			const char *digits = *fmt == 'X' ? "0123456789ABCDEF"
							 : "0123456789abcdef";
			n = 0;
			do {
				tmp[sizeof(tmp) - 1 - n++] = digits[u & 15];
				u >>= 4;
			} while (u);
			s = tmp + sizeof(tmp) - n;
			put_padded(&o, s, n, width, left,
				   zero && !left ? '0' : ' ');
			break;
		}
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			n = prec >= 0 ? strnlen(s, prec) : strlen(s);
			put_padded(&o, s, n, width, left, ' ');
			break;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		case 0:
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
