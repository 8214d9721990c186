/*
** jsonflat.h — the usual .jsonl line, read without building a JSON tree.
**
** Most lines of a .jsonl corpus are one flat object of strings:
** {"id": "...", "title": "...", "text": "..."}. jansson builds a tree of
** them (a hash table, an allocation per member) and was the largest cost
** of `furet index` on its main thread after the analysis. jflat_parse reads
** such a line in one pass, pointing into the line where a string has no
** escape and decoding into a buffer where it has one.
**
** It only says yes to a line it reads exactly as jansson (json_loadb with
** JSON_ALLOW_NUL) would: one object, members whose values are strings or
** null, "id" and "text" strings, "meta" absent or null, nothing after the
** closing brace but white space. Anything else — a number, an array, a
** nested object, true/false, a "meta" to re-encode, a lone surrogate, a
** control character, a syntax error — gets 0, and the caller hands the line
** to jansson, which reads it or words the error. With members repeated, the
** last one counts, as in jansson. The line must be valid UTF-8 (ingest.c
** repairs it first). test_ingest and fuzz_jsonl compare it with jansson.
*/
#ifndef FURET_JSONFLAT_H
#define FURET_JSONFLAT_H

#include <stddef.h>

#include "util.h"

typedef struct jflat_str {
	const char *p;  /* NULL: absent or null */
	size_t len;
	int has_nul;    /* a \u0000 was decoded in it */
} jflat_str;

typedef struct jflat {
	jflat_str id, title, text;
	furet_buf buf; /* the decoded strings that had escapes */
} jflat;

void jflat_init(jflat *j);
void jflat_free(jflat *j);

/* Reads line[0..n): 1 when it is a flat object as above (the strings are
** valid until the next call or jflat_free), 0 when jansson must read it, -1
** out of memory. */
int jflat_parse(jflat *j, const char *line, size_t n);

#endif
