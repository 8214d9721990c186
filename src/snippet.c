/*
** snippet.c — highlight ranges and snippet windows (see snippet.h).
*/
#include "snippet.h"

#include <string.h>

furet_rc furet_snippet_highlights(furet_analyzer *an, const char *text,
	size_t len, const char *const *terms, size_t n_terms, furet_buf *spans,
	size_t *n_spans)
{
	const furet_token *toks;
	size_t nt, i, j;
	furet_rc rc;

	size_t last_end = 0;

	*n_spans = 0;
	if (!n_terms)
		return FURET_OK;
	rc = furet_analyzer_run(an, text, len, FURET_MODE_DOCUMENT, &toks, &nt);
	if (rc)
		return rc;
	for (i = 0; i < nt; i++) {
		/* A compound's whole comes before its parts: once it is
		** highlighted, its parts are inside it already. */
		if (*n_spans && toks[i].start < last_end)
			continue;
		for (j = 0; j < n_terms; j++) {
			if (strcmp(toks[i].term, terms[j]) == 0) {
				furet_span s;
				s.start = toks[i].start;
				s.end = toks[i].end;
				furet_buf_append(spans, &s, sizeof s);
				(*n_spans)++;
				last_end = s.end;
				break;
			}
		}
	}
	return spans->has_err ? FURET_NOMEM : FURET_OK;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

furet_span furet_snippet_window(const char *text, size_t len,
	const furet_span *hl, size_t n_hl, size_t width)
{
	furet_span w = { 0, len };
	size_t best = 0, best_n = 0, i, j = 0, start, end;

	if (len <= width)
		return w;
	/* Slide over the highlights: the window starting at hl[i] that covers
	** the most of them wins; the earliest on ties. */
	for (i = 0; i < n_hl; i++) {
		if (j < i)
			j = i;
		while (j < n_hl && hl[j].end <= hl[i].start + width)
			j++;
		if (j - i > best_n) {
			best_n = j - i;
			best = i;
		}
	}
	if (best_n) {
		size_t used = hl[best + best_n - 1].end - hl[best].start;
		size_t lead = used < width ? (width - used) / 3 : 0;
		start = hl[best].start > lead ? hl[best].start - lead : 0;
	} else {
		start = 0;
	}
	end = start + width < len ? start + width : len;
	if (end == len && len > width)
		start = len - width;
	/* Widen to word boundaries, and never split a UTF-8 sequence. */
	while (start > 0 && !is_space((unsigned char)text[start - 1]))
		start--;
	while (end < len && !is_space((unsigned char)text[end]))
		end++;
	while (start < end && is_space((unsigned char)text[start]))
		start++;
	while (end > start && is_space((unsigned char)text[end - 1]))
		end--;
	w.start = start;
	w.end = end;
	return w;
}
