/*
** analyzer.h — text to index terms: the French analysis chain.
**
** tokenizer.c cuts UTF-8 text into words with ICU (word break iterator, locale
** "fr") and maps ICU's UTF-16 positions back to UTF-8 byte offsets; this module
** turns each word into index terms: NFKC case folding, French elision
** stripping (l' d' j' m' n' s' t' c' qu' jusqu' lorsqu' puisqu' quoiqu', with
** every apostrophe variant), compounds, numbers, acronyms, names and URLs, a
** stop-word flag, and Snowball French stemming. Terms keep their accents
** ("école" -> "écol"); each token also carries an accent-free lookup key, the
** stem of the word without accents ("ecol"), through which the search
** matches words that differ only by accents without merging them in the
** index ("pêche"/"péché", "chat"/"châtiment" stay apart). The rules and
** their examples are in analyzer.c's opening comment.
**
** The same chain runs on documents and on queries, so that both agree; the
** `mode` argument exists so that later rules that apply to one side only can
** be added without touching callers. Only tokenizer.c and analyzer.c include
** ICU or libstemmer.
**
** A furet_analyzer is not thread safe: use one per thread. Tokens and their
** term strings are owned by the analyzer and valid until its next run or close.
*/
#ifndef FURET_ANALYZER_H
#define FURET_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "furet.h"

#define FURET_MODE_DOCUMENT 0
#define FURET_MODE_QUERY 1

#define FURET_TOK_STOP 0x1     /* a French stop word: indexed, dropped from free-text queries */
#define FURET_TOK_PART 0x2     /* one part of a compound, name, e-mail or URL */
#define FURET_TOK_WHOLE 0x4    /* the whole compound/name, at its first part's
                                  position, spanning all its parts */
#define FURET_TOK_NUMBER 0x8   /* a number, in canonical form */
#define FURET_TOK_ACRONYM 0x10 /* an acronym written with dots (S.A.S. -> sas) */
#define FURET_TOK_ACCENTED 0x20 /* the word has accents or ligatures (fold != term) */

typedef struct furet_token {
	const char *term;  /* NUL terminated UTF-8 index term: the stem, accents kept */
	size_t term_len;   /* bytes, without the NUL */
	uint32_t term_hash; /* furet_hash32 of term (util.h), the key of the
	                      indexing tables: made once for a word the
	                      analyzer's cache holds, not once a token */
	const char *fold;  /* NUL terminated accent-free lookup key: the stem of the
	                      word with accents folded (term itself when the word has
	                      none). Words that only accents tell apart share it. */
	size_t fold_len;
	const char *word;  /* NUL terminated: the word after normalisation, elision
	                      and case folding, before stemming (for explain) */
	size_t word_len;
	uint32_t pos;      /* word position from 0; a WHOLE token shares its first
	                      part's position; parts have consecutive positions */
	size_t start, end; /* byte range [start, end) of the word in the input text
	                      (after elision stripping: "l'école" -> the range of "école") */
	size_t elision_len; /* bytes of the stripped elision before start ("l'" -> 2) */
	unsigned flags;    /* FURET_TOK_* */
} furet_token;

typedef struct furet_analyzer furet_analyzer;

/* Opens an analyzer (ICU break iterator, Snowball stemmer, buffers).
** FURET_NOMEM or FURET_ERROR (ICU failure). *out set to NULL on failure. */
furet_rc furet_analyzer_open(furet_analyzer **out);
void furet_analyzer_close(furet_analyzer *a);

/* Analyses text[0..len) (valid UTF-8; FURET_INVALID otherwise). On success
** *toks points to *n_toks tokens ordered by position, then start (a WHOLE
** token comes before its first part), valid until the next call. */
furet_rc furet_analyzer_run(furet_analyzer *a, const char *text, size_t len,
	int mode, const furet_token **toks, size_t *n_toks);

/* The same for text known to be valid UTF-8, which is not checked again:
** the writer checks each document whole, then analyses pieces of it cut
** at character boundaries (analysed.c). On invalid text the tokens are
** those of its bytes decoded as U+FFFD, never a read past len. */
furet_rc furet_analyzer_run_valid(furet_analyzer *a, const char *text,
	size_t len, int mode, const furet_token **toks, size_t *n_toks);

/* Does code point c make part of a word in a name or URL (letters,
** digits, marks, format characters and the apostrophe: ICU's general
** categories L, N, M, Cf)? Exposed for the test that checks its fast path
** for Latin text against ICU. */
int furet_analyzer_is_part_char(int32_t c);

/* Signature of the chain, e.g. "furet-fr/1 icu/72.1 snowball/french"; stored in
** every index so that an index built with another chain is refused. Static. */
const char *furet_analyzer_signature(void);

#endif
