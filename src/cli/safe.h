/*
** safe.h — text that did not come from furet, made safe for a terminal.
**
** Document text, document ids, file names and the detail of a damaged
** index may hold control characters and escape sequences. Everything the
** command line prints goes through here or through JSON escaping: control
** characters (C0, DEL and C1) become spaces, so no escape sequence from a
** document reaches the terminal and every message stays on one line.
**
** Uses libc only.
*/
#ifndef FURET_CLI_SAFE_H
#define FURET_CLI_SAFE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes s[0..len) to f with control characters as spaces. */
void cli_put_safe(FILE *f, const char *s, size_t len);

/* One message on stderr: "furet: ", then "WHERE: " or "WHERE:LINE: " when
** where is not NULL (line 0: none), then the formatted text, made safe and
** cut at about 4 KiB, then a newline. */
void cli_vsay(const char *where, size_t line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
