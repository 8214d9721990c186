/*
** fuzz_build.c — arbitrary bytes as a program of furet_query_* calls, then
** the built query written out and parsed (qbuild.c): never a crash nor a
** leak; the query is refused only for what its builders were given (bad
** UTF-8, an unknown field, nesting past the limit); and when every text is
** plain (lowercase ASCII letters and spaces, so nothing in it is syntax)
** the query string parsed as typed gives the very tree of the built query.
**
** The program: each byte is an operation on a stack of queries; w, p and x
** push words, a phrase or a prefix of the text that follows, up to a 0x00
** byte; & | n pop two and push their AND, OR or NEAR (distance: the next
** byte); ! + - t s f apply NOT, require, exclude, title, section or an
** unknown field to the top; other bytes are skipped. What is left on the
** stack is joined by OR.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "furet.h"
#include "qbuild.h"
#include "query.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STACK 64

static char *format(const furet_qtree *qt, const char *text)
{
	size_t need = furet_qtree_format(qt, text, NULL, 0);
	char *buf = malloc(need + 1);

	if (!buf)
		abort();
	furet_qtree_format(qt, text, buf, need + 1);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	furet_query *st[STACK], *q = NULL;
	size_t n = 0, i = 0, k;
	int is_plain = 1, is_wrong = 0;
	const char *why;
	furet_buf text;
	furet_qtree *built = NULL, *typed = NULL;
	furet_rc rc;

	while (i < size) {
		uint8_t op = data[i++];
		furet_query *a, *b;
		const char *s;
		size_t len;

		switch (op) {
		case 'w':
		case 'p':
		case 'x':
			s = (const char *)data + i;
			len = 0;
			while (i + len < size && data[i + len])
				len++;
			i += len + (i + len < size);
			if (n == STACK)
				break;
			for (k = 0; k < len; k++)
				if (!(s[k] == ' ' || (s[k] >= 'a' && s[k] <= 'z')))
					is_plain = 0;
			if (furet_utf8_valid(s, len) != len)
				is_wrong = 1;
			st[n++] = op == 'w' ? furet_query_words(s, len) :
				op == 'p' ? furet_query_phrase(s, len) :
				furet_query_prefix(s, len);
			break;
		case '&':
		case '|':
		case 'n':
			if (n < 2)
				break;
			b = st[--n];
			a = st[--n];
			st[n++] = op == '&' ? furet_query_and(a, b) :
				op == '|' ? furet_query_or(a, b) :
				furet_query_near(a, b, i < size ? data[i++] : 10);
			break;
		case '!':
		case '+':
		case '-':
		case 't':
		case 's':
		case 'f':
			if (!n)
				break;
			a = st[n - 1];
			st[n - 1] = op == '!' ? furet_query_not(a) :
				op == '+' ? furet_query_require(a) :
				op == '-' ? furet_query_exclude(a) :
				furet_query_field(a, op == 't' ? FURET_QF_TITLE :
					op == 's' ? FURET_QF_SECTION : 9);
			is_wrong |= op == 'f';
			break;
		default:
			break;
		}
	}
	for (k = 0; k < n; k++)
		q = q ? furet_query_or(q, st[k]) : st[k];
	if (!q)
		q = furet_query_words("", 0);
	if (!q)
		abort(); /* no allocation fails here */

	/* A wrong argument is reported, unless a query too deep was found
	** first; nothing else is refused. */
	rc = furet_qbuild_check(q, &why);
	if ((is_wrong && rc != FURET_INVALID && rc != FURET_QUERY) ||
		(!is_wrong && rc != FURET_OK && rc != FURET_QUERY) ||
		(rc && !why))
		abort();
	furet_buf_init(&text);
	if (furet_qbuild_tree(q, &text, &built) != rc ||
		(rc == FURET_OK) != (built != NULL))
		abort();
	if (built && is_plain) {
		const char *t = text.len ? (const char *)text.data : "";
		char *f1, *f2;

		if (furet_qtree_parse(t, text.len, &typed) != FURET_OK)
			abort();
		f1 = format(built, t);
		f2 = format(typed, t);
		if (strcmp(f1, f2) != 0)
			abort();
		free(f1);
		free(f2);
	}
	furet_qtree_free(typed);
	furet_qtree_free(built);
	furet_buf_free(&text);
	furet_query_free(q);
	return 0;
}
