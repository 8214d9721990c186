/*
** safe.c — terminal-safe output for the command line; see safe.h.
*/
#include "safe.h"

#include <string.h>

void cli_put_safe(FILE *f, const char *s, size_t len)
{
	size_t i = 0, from = 0;
	const unsigned char *p = (const unsigned char *)s;

	while (i < len) {
		size_t skip = 0;
		if (p[i] < 0x20 || p[i] == 0x7f)
			skip = 1;
		else if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
			p[i + 1] <= 0x9f)
			skip = 2;
		if (skip) {
			fwrite(s + from, 1, i - from, f);
			fputc(' ', f);
			i += skip;
			from = i;
		} else {
			i++;
		}
	}
	fwrite(s + from, 1, len - from, f);
}

void cli_vsay(const char *where, size_t line, const char *fmt, va_list ap)
{
	char buf[4096];
	size_t len = 0;
	int n;

	if (where && line)
		n = snprintf(buf, sizeof buf, "%s:%zu: ", where, line);
	else if (where)
		n = snprintf(buf, sizeof buf, "%s: ", where);
	else
		n = 0;
	if (n > 0)
		len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
	n = vsnprintf(buf + len, sizeof buf - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < sizeof buf - len ? (size_t)n : sizeof buf - len - 1;
	fputs("furet: ", stderr);
	cli_put_safe(stderr, buf, len);
	fputc('\n', stderr);
}
