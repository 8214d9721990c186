/*
** snippet.h — highlights and snippet windows for a hit.
**
** Highlights come from running the analyzer over the stored passage text and
** keeping the byte ranges of the tokens whose term is one of the query's:
** the ranges are the analyzer's own offsets, so they always cut at word
** boundaries (and exclude an elided article). The snippet window is the
** stretch of about `width` bytes that holds the most highlights, widened to
** word boundaries.
*/
#ifndef FURET_SNIPPET_H
#define FURET_SNIPPET_H

#include "analyzer.h"
#include "furet.h"
#include "util.h"

/* Appends to spans (an array of furet_span in a furet_buf) the highlights of
** text for the n_terms query terms (terms[i] NUL terminated): sorted, never
** overlapping (a matched compound hides its matched parts). */
furet_rc furet_snippet_highlights(furet_analyzer *an, const char *text,
	size_t len, const char *const *terms, size_t n_terms, furet_buf *spans,
	size_t *n_spans);

/* The snippet window of text given its highlights (sorted). */
furet_span furet_snippet_window(const char *text, size_t len,
	const furet_span *hl, size_t n_hl, size_t width);

#endif
