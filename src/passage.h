/*
** passage.h — cutting a document into passages (the unit of retrieval).
**
** Paragraphs are separated by blank lines; a text without any blank line has
** one paragraph per line (the seed article is like that). Paragraphs longer than
** window_words words are split into consecutive windows at sentence ends, each
** at most about window_words words (a single longer sentence is cut at a word
** boundary). Short heading-like lines are not passages: they name the section
** of the passages that follow, until the next heading. In FURET_FORMAT_MARKDOWN,
** "#"-lines are headings too; the first level-1 heading is the document title.
**
** Everything is byte ranges into the caller's text: nothing is copied. Depends
** on util only; never reads ICU (word = run of non-whitespace bytes).
*/
#ifndef FURET_PASSAGE_H
#define FURET_PASSAGE_H

#include <stddef.h>

#include "furet.h"

typedef struct furet_passage_span {
	size_t start, end;          /* the passage, trimmed of surrounding whitespace */
	int has_section;
	size_t sec_start, sec_end;  /* the heading text (without "#" marks), if any */
} furet_passage_span;

typedef struct furet_split {
	furet_passage_span *spans;  /* n_spans passages, in text order */
	size_t n_spans;
	int has_title;              /* markdown: first "# " heading */
	size_t title_start, title_end;
} furet_split;

#define FURET_WINDOW_WORDS 200

/* Splits text[0..len). format is FURET_FORMAT_TEXT or FURET_FORMAT_MARKDOWN.
** On success out->spans is allocated with furet_malloc (release with
** furet_split_free). FURET_NOMEM on allocation failure (out cleared). */
furet_rc furet_passage_split(const char *text, size_t len, unsigned format,
	size_t window_words, furet_split *out);
void furet_split_free(furet_split *s);

#endif
