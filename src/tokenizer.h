/*
** tokenizer.h — UTF-8 text cut into words by ICU's word break iterator.
**
** The text is decoded into a UTF-16 buffer (what ICU works on) together with a
** table that maps every UTF-16 index back to the byte offset in the caller's
** UTF-8, so that every word carries the exact byte range it came from: the
** snippet code highlights with those offsets and never re-guesses boundaries.
** Only segments whose rule status says "word" are kept (letters, numbers,
** kana, ideographs); spaces, punctuation and symbols (emoji, €, %) are not.
**
** Apostrophe variants (’ ‘ ʼ ′ ` and full-width ＇) reach ICU as U+0027 and
** NBSP / narrow NBSP as U+0020, in the UTF-16 buffer only (same length, so
** offsets stay exact): "l′école" is one word, "1\u202f002" two numbers.
**
** ICU, not this module, decides what a word is: "l'école", "aujourd'hui",
** "Simplon.co", "www.pop.eu", "12h30" and "758,20" are single words, while
** "Villeneuve-la-Garenne" is three and "1 002 758" is three numbers. Elision
** and everything French is the analyzer's business.
**
** A furet_tokenizer keeps its break iterator and buffers from one run to the
** next (nothing is allocated once they are big enough). Not thread safe: one
** per thread. Only tokenizer.c and analyzer.c include ICU.
*/
#ifndef FURET_TOKENIZER_H
#define FURET_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include <unicode/utypes.h>

#include "furet.h"

/* Kinds of word, from ICU's rule status. */
#define FURET_WORD_LETTER 0 /* letters (or letters and digits: "1er", "covid") */
#define FURET_WORD_NUMBER 1 /* ICU number: "1901", "758,20", "12h30" */
#define FURET_WORD_CJK 2    /* kana or ideographs (dictionary segmentation) */

/* What the fast path for Latin text (tokenizer.c) knows of a word's
** characters, which spares the analyzer a look at each of them. */
#define FURET_CHARS_ANY 0    /* nothing: ICU cut the text */
#define FURET_CHARS_DIGITS 1 /* ASCII digits only */
#define FURET_CHARS_WORD 2   /* ASCII, Latin-1 and Latin Extended-A letters,
                                ASCII digits and U+0027 (at least one), not
                                digits only */
#define FURET_CHARS_DOTTED 3 /* those, and '.', ',' or ';' inside */
#define FURET_CHARS_PLAIN 4  /* as WORD, without U+0027: no elision to
                                look for, most words */

typedef struct furet_word {
	size_t start, end;      /* byte range [start, end) in the UTF-8 text */
	int32_t u_start, u_end; /* the same word in furet_tokenizer_utf16() */
	int kind;               /* FURET_WORD_* */
	int chars;              /* FURET_CHARS_* */
} furet_word;

typedef struct furet_tokenizer furet_tokenizer;

/* Opens a tokenizer (an ICU word break iterator for locale "fr").
** FURET_NOMEM, or FURET_ERROR when ICU fails. *out NULL on failure;
** release with furet_tokenizer_close. */
furet_rc furet_tokenizer_open(furet_tokenizer **out);

/* Accepts NULL. */
void furet_tokenizer_close(furet_tokenizer *t);

/* Cuts text[0..len) into words. The text should be valid UTF-8 (the analyzer
** checks with furet_utf8_valid first); an invalid byte is never read past the
** end of the text and is decoded as U+FFFD, so hostile input cannot crash it.
** FURET_INVALID when text is NULL with len > 0 or len does not fit ICU's
** int32_t lengths, FURET_NOMEM, FURET_ERROR (ICU). On success *words points to
** *n_words words in text order, borrowed until the next run or close. */
furet_rc furet_tokenizer_run(furet_tokenizer *t, const char *text, size_t len,
	const furet_word **words, size_t *n_words);

/* Tests: with is_icu_only, every text goes to ICU, none takes the fast
** path for Latin text (see tokenizer.c). */
void furet_tokenizer_set_icu_only(furet_tokenizer *t, int is_icu_only);
/* Did the last run take the fast path? */
int furet_tokenizer_was_fast(const furet_tokenizer *t);

/* The UTF-16 form of the text of the last successful run (with the
** substitutions above), indexed by furet_word.u_start/u_end; borrowed until
** the next run or close. */
const UChar *furet_tokenizer_utf16(const furet_tokenizer *t);

/* Its length in UTF-16 units. */
int32_t furet_tokenizer_length(const furet_tokenizer *t);

/* The byte offsets in the UTF-8 text of the last run's UTF-16 units:
** map[i] for UTF-16 index i, 0 <= i <= its UTF-16 length (the length maps
** to the text's byte length); valid until the next run. */
const uint32_t *furet_tokenizer_offsets(const furet_tokenizer *t);

#endif
