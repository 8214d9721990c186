/*
** analyzer.c — the French analysis chain: words from tokenizer.c -> terms.
**
** For each word ICU returns (see tokenizer.h for what counts as a word):
**
**   1. elision: a leading l' d' j' m' n' s' t' c' qu' jusqu' lorsqu' puisqu'
**      quoiqu' (any case, ' or U+2019) is stripped and the token's start moves
**      past it, so a highlight covers "école" in "l'école". Only the first
**      apostrophe is looked at, and only these prefixes: "aujourd'hui",
**      "prud'homme", "presqu'île", "quelqu'un" stay whole, and
**      "d'aujourd'hui" becomes "aujourd'hui". A word that is nothing but an
**      elision is dropped without taking a position.
**   2. full case folding (u_strFoldCase: "É" -> "é", "ß" -> "ss"), U+2019
**      -> "'", then NFC, so that decomposed input ("e" + U+0301) stems like
**      precomposed input.
**   3. stop word test on that form (before stemming): see stop_words[].
**   4. Snowball French stemming of letter words; ICU numbers ("1901",
**      "758,20", "12h30") and kana/ideographs are not stemmed.
**   5. accent and ligature folding of the stem: NFD, nonspacing marks
**      dropped, "œ" -> "oe", "æ" -> "ae". Stemming comes first because the
**      stemmer's rules depend on accents: folding first would merge unrelated
**      words ("châtiment" and "chat").
**
** Example: "L’École d’été" -> "ecol" (position 0, bytes [4,10)) and "ete"
** (1, [15,20), not a stop word); "jusqu'à 1901" -> "a" (0, [6,8), stop) and
** "1901" (1, [9,13)).
**
** Words longer than TERM_MAX bytes, or whose term would be, produce no token
** but keep their position: no index can use a key that long (LMDB's limit is
** 511 bytes) and they are base64 or junk, not French.
**
** Memory: all terms of a run go into one arena (a furet_buf) and tokens into
** one array, both reused from run to run, so a run allocates nothing once the
** buffers have grown. While the arena may still move, tokens remember their
** term as an offset (term_off[]); pointers are fixed up at the end of the run.
** A word cache (see struct cache_slot) spares the stemmer the frequent words.
**
** Any change to the output of this chain (rules, stop list, ICU or Snowball
** version) must change furet_analyzer_signature(), which every index stores.
*/
#include "analyzer.h"

#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/uvernum.h>

#include "tokenizer.h"
#include "util.h"

#define TERM_MAX 255

#define SIGNATURE "furet-fr/1 icu/" U_ICU_VERSION " snowball/french stop/1"
_Static_assert(sizeof SIGNATURE < 100, "the signature must stay short");

/* A direct-mapped cache from folded word to (term, flags). Words follow Zipf's
** law: a few thousand of them make most of any French text, and stemming is
** more than half the cost of a word, so most words skip it. Words (and terms)
** longer than CACHE_LEN bytes are not cached. */
#define CACHE_SLOTS 4096 /* a power of two */
#define CACHE_LEN 27

struct cache_slot {
	unsigned char word_len; /* 0: empty slot (words are never empty) */
	unsigned char term_len; /* 0: the word has no usable term */
	unsigned char kind, flags;
	char word[CACHE_LEN + 1];
	char term[CACHE_LEN + 1];
};

struct furet_analyzer {
	struct cache_slot *cache; /* CACHE_SLOTS slots */
	furet_tokenizer *tok;
	struct sb_stemmer *stemmer;
	const UNormalizer2 *nfc, *nfd; /* owned by ICU */
	UChar *u1, *u2;                /* UTF-16 scratch for one word */
	size_t u1_cap, u2_cap;         /* in UChar */
	furet_buf word;                /* the folded word in UTF-8, for stemmer and stop list */
	furet_buf arena;               /* every term of the run, NUL terminated */
	furet_token *toks;
	size_t *term_off;              /* toks[i]'s term at arena.data + term_off[i] */
	size_t n_toks, toks_cap;
};

/* French function words, case folded and accented as they reach the test (NFC).
** Sorted by bytes (LC_ALL=C sort) for bsearch, so the accented words come
** last. Only words that are hardly ever content words: articles, prepositions,
** pronouns, possessives, conjunctions, negation and the commonest forms of
** être/avoir. Left out on purpose because they are also nouns or content
** words: "été", "avions", "fait", "être", "avoir", "or", "as", "sommes",
** "vers", "entre", "même", and "c" (the language C). Kept despite a rare noun
** sense: "son", "ton", "pas", "car". The lone letters d j l m n s t qu are what
** ICU leaves of an elision followed by a space ("l' école"). */
static const char *const stop_words[] = {
	"a", "ai", "au", "aux", "avaient", "avais", "avait", "avec", "avez",
	"avons", "car", "ce", "ceci", "cela", "celle", "celles", "celui",
	"ces", "cet", "cette", "ceux", "chez", "comme", "d", "dans", "de",
	"depuis", "des", "donc", "dont", "du", "elle", "elles", "en", "es",
	"est", "et", "eux", "il", "ils", "j", "je", "l", "la", "laquelle",
	"le", "lequel", "les", "lesquelles", "lesquels", "leur", "leurs",
	"lorsque", "lui", "m", "ma", "mais", "me", "mes", "moi", "mon", "n",
	"ne", "ni", "nos", "notre", "nous", "on", "ont", "ou", "o\xc3\xb9" /* où */,
	"par", "parmi", "pas", "pendant", "pour", "puisque", "qu", "quand", "que",
	"quel", "quelle", "quelles", "quels", "qui", "quoi", "quoique", "s",
	"sa", "sans", "se", "selon", "sera", "seraient", "serait", "seront",
	"ses", "si", "soi", "soient", "soit", "son", "sont", "sous", "suis",
	"sur", "t", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos",
	"votre", "vous", "y",
	"\xc3\xa0" /* à */, "\xc3\xa7\x61" /* ça */,
	"\xc3\xa9taient" /* étaient */, "\xc3\xa9tais" /* étais */,
	"\xc3\xa9tait" /* était */, "\xc3\xaates" /* êtes */,
};

/* Elided forms, without their apostrophe, lowercase ASCII. */
static const char *const elisions[] = {
	"l", "d", "j", "m", "n", "s", "t", "c",
	"qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
};
#define ELISION_MAX 6 /* longest entry above */

const char *furet_analyzer_signature(void)
{
	return SIGNATURE;
}

furet_rc furet_analyzer_open(furet_analyzer **out)
{
	furet_analyzer *a = NULL;
	UErrorCode err = U_ZERO_ERROR;
	furet_rc rc = FURET_OK;

	if (!out)
		return FURET_INVALID;
	*out = NULL;
	a = furet_malloc(sizeof *a);
	if (!a) {
		rc = FURET_NOMEM;
		goto done;
	}
	memset(a, 0, sizeof *a);
	furet_buf_init(&a->word);
	furet_buf_init(&a->arena);

	a->cache = furet_malloc(CACHE_SLOTS * sizeof *a->cache);
	if (!a->cache) {
		rc = FURET_NOMEM;
		goto done;
	}
	memset(a->cache, 0, CACHE_SLOTS * sizeof *a->cache);
	rc = furet_tokenizer_open(&a->tok);
	if (rc != FURET_OK)
		goto done;
	/* libstemmer allocates with plain malloc: it cannot use our hooks, and
	** answers NULL both for an unknown algorithm and for out of memory. */
	a->stemmer = sb_stemmer_new("french", "UTF_8");
	if (!a->stemmer) {
		rc = FURET_NOMEM;
		goto done;
	}
	a->nfc = unorm2_getNFCInstance(&err);
	a->nfd = unorm2_getNFDInstance(&err);
	if (U_FAILURE(err)) {
		rc = FURET_ERROR;
		goto done;
	}
	*out = a;
	a = NULL;
done:
	furet_analyzer_close(a);
	return rc;
}

void furet_analyzer_close(furet_analyzer *a)
{
	if (!a)
		return;
	furet_free(a->term_off);
	furet_free(a->toks);
	furet_buf_free(&a->arena);
	furet_buf_free(&a->word);
	furet_free(a->u2);
	furet_free(a->u1);
	if (a->stemmer)
		sb_stemmer_delete(a->stemmer);
	furet_tokenizer_close(a->tok);
	furet_free(a->cache);
	furet_free(a);
}

static int ugrow(UChar **p, size_t *cap, size_t need)
{
	UChar *n;
	size_t c;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	n = furet_realloc(*p, c * sizeof *n);
	if (!n)
		return -1;
	*p = n;
	*cap = c;
	return 0;
}

static int cmp_str(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

static int is_stop(const char *w)
{
	return bsearch(w, stop_words, sizeof stop_words / sizeof *stop_words,
		sizeof *stop_words, cmp_str) != NULL;
}

static int is_apostrophe(UChar c)
{
	return c == 0x27 || c == 0x2019;
}

/* Length in UTF-16 units of the elision that starts u[0..n) including its
** apostrophe, or 0 when there is none. */
static int32_t elision_len(const UChar *u, int32_t n)
{
	char low[ELISION_MAX + 1];
	int32_t i;
	size_t k;

	for (i = 0; i < n && i <= ELISION_MAX; i++) {
		if (is_apostrophe(u[i]))
			break;
		/* Every elided form is ASCII: any other letter means none. */
		if (u[i] >= 'A' && u[i] <= 'Z')
			low[i] = (char)(u[i] - 'A' + 'a');
		else if (u[i] >= 'a' && u[i] <= 'z')
			low[i] = (char)u[i];
		else
			return 0;
	}
	if (i == 0 || i >= n || i > ELISION_MAX || !is_apostrophe(u[i]))
		return 0;
	low[i] = '\0';
	for (k = 0; k < sizeof elisions / sizeof *elisions; k++)
		if (!strcmp(low, elisions[k]))
			return i + 1;
	return 0;
}

/* Case folds u[0..n) into a->u1 (NFC, U+2019 as "'") and then into UTF-8 in
** a->word. 0, or -1 with *rc set. */
static int fold_word(furet_analyzer *a, const UChar *u, int32_t n,
	furet_rc *rc)
{
	UErrorCode err = U_ZERO_ERROR;
	int32_t m, i, m8;

	/* Full case folding grows a string at most threefold. */
	if (ugrow(&a->u1, &a->u1_cap, (size_t)n * 3 + 1))
		goto nomem;
	m = u_strFoldCase(a->u1, (int32_t)a->u1_cap, u, n, U_FOLD_CASE_DEFAULT,
		&err);
	if (U_FAILURE(err))
		goto icu;
	for (i = 0; i < m; i++)
		if (a->u1[i] == 0x2019)
			a->u1[i] = 0x27;
	if (unorm2_quickCheck(a->nfc, a->u1, m, &err) != UNORM_YES &&
		!U_FAILURE(err)) {
		UChar *swap;
		size_t swap_cap;

		err = U_ZERO_ERROR;
		/* NFC is rarely longer than its input (a few composition
		** exclusions): retry once with the size ICU asks for. */
		if (ugrow(&a->u2, &a->u2_cap, (size_t)m + 1))
			goto nomem;
		i = unorm2_normalize(a->nfc, a->u1, m, a->u2, (int32_t)a->u2_cap,
			&err);
		if (err == U_BUFFER_OVERFLOW_ERROR) {
			err = U_ZERO_ERROR;
			if (ugrow(&a->u2, &a->u2_cap, (size_t)i + 1))
				goto nomem;
			i = unorm2_normalize(a->nfc, a->u1, m, a->u2,
				(int32_t)a->u2_cap, &err);
		}
		if (U_FAILURE(err))
			goto icu;
		m = i;
		swap = a->u1, a->u1 = a->u2, a->u2 = swap;
		swap_cap = a->u1_cap, a->u1_cap = a->u2_cap, a->u2_cap = swap_cap;
	}
	if (U_FAILURE(err))
		goto icu;

	furet_buf_reset(&a->word);
	if (furet_buf_reserve(&a->word, (size_t)m * 3))
		goto nomem;
	u_strToUTF8((char *)a->word.data, (int32_t)a->word.cap, &m8, a->u1, m,
		&err);
	if (U_FAILURE(err))
		goto icu;
	a->word.len = (size_t)m8;
	a->word.data[m8] = '\0';
	return 0;
nomem:
	*rc = FURET_NOMEM;
	return -1;
icu:
	*rc = err == U_MEMORY_ALLOCATION_ERROR ? FURET_NOMEM : FURET_ERROR;
	return -1;
}

static void put_utf8(furet_buf *b, UChar32 c)
{
	unsigned char s[4];
	size_t n;

	if (c < 0x80) {
		s[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		s[0] = (unsigned char)(0xc0 | c >> 6);
		s[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		s[0] = (unsigned char)(0xe0 | c >> 12);
		s[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		s[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		s[0] = (unsigned char)(0xf0 | c >> 18);
		s[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		s[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		s[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	furet_buf_append(b, s, n);
}

/* Appends the accent- and ligature-folded form of s[0..n) (UTF-8, valid) to
** the arena. 0, or -1 with *rc set (arena errors are left to the caller's
** has_err check). */
static int fold_accents(furet_analyzer *a, const unsigned char *s, int32_t n,
	furet_rc *rc)
{
	UErrorCode err = U_ZERO_ERROR;
	int32_t i, n16, m, k;

	for (i = 0; i < n && s[i] < 0x80; i++)
		;
	if (i == n) {
		/* Most stems are ASCII: nothing to fold. */
		furet_buf_append(&a->arena, s, (size_t)n);
		return 0;
	}
	if (ugrow(&a->u1, &a->u1_cap, (size_t)n + 1))
		goto nomem;
	u_strFromUTF8(a->u1, (int32_t)a->u1_cap, &n16, (const char *)s, n, &err);
	if (U_FAILURE(err))
		goto icu;
	/* NFD rarely more than triples a string (Hangul syllables, stacked
	** Vietnamese accents); when it does, ICU says how much it needs. */
	if (ugrow(&a->u2, &a->u2_cap, (size_t)n16 * 4 + 1))
		goto nomem;
	m = unorm2_normalize(a->nfd, a->u1, n16, a->u2, (int32_t)a->u2_cap, &err);
	if (err == U_BUFFER_OVERFLOW_ERROR) {
		err = U_ZERO_ERROR;
		if (ugrow(&a->u2, &a->u2_cap, (size_t)m + 1))
			goto nomem;
		m = unorm2_normalize(a->nfd, a->u1, n16, a->u2, (int32_t)a->u2_cap,
			&err);
	}
	if (U_FAILURE(err))
		goto icu;
	for (k = 0; k < m;) {
		UChar32 c;

		U16_NEXT(a->u2, k, m, c);
		if (u_charType(c) == U_NON_SPACING_MARK)
			continue;
		if (c == 0x153) /* œ (Œ was case folded) */
			furet_buf_append(&a->arena, "oe", 2);
		else if (c == 0xe6) /* æ */
			furet_buf_append(&a->arena, "ae", 2);
		else if (c == 0xdf) /* ß, in case a stem brings one back */
			furet_buf_append(&a->arena, "ss", 2);
		else
			put_utf8(&a->arena, c);
	}
	return 0;
nomem:
	*rc = FURET_NOMEM;
	return -1;
icu:
	*rc = err == U_MEMORY_ALLOCATION_ERROR ? FURET_NOMEM : FURET_ERROR;
	return -1;
}

static uint32_t hash_word(const unsigned char *p, size_t n, int kind)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Appends to the arena the term of the folded word in a->word (of tokenizer
** kind `kind`) and sets *flags; appends nothing when the word has no usable
** term. Frequent words come from the cache; the others go through the stop
** list, the stemmer and fold_accents. 0, or -1 with *rc set. */
static int word_term(furet_analyzer *a, int kind, unsigned *flags,
	furet_rc *rc)
{
	const unsigned char *w = a->word.data, *stem;
	size_t wlen = a->word.len, off = a->arena.len;
	struct cache_slot *slot = NULL;
	int32_t stem_len;

	*flags = 0;
	if (wlen <= CACHE_LEN) {
		slot = &a->cache[hash_word(w, wlen, kind) & (CACHE_SLOTS - 1)];
		if (slot->word_len == wlen && slot->kind == kind &&
			!memcmp(slot->word, w, wlen)) {
			*flags = slot->flags;
			furet_buf_append(&a->arena, slot->term, slot->term_len);
			return 0;
		}
	}

	if (is_stop((const char *)w))
		*flags |= FURET_TOK_STOP;
	if (kind == FURET_WORD_LETTER) {
		stem = sb_stemmer_stem(a->stemmer, w, (int)wlen);
		if (!stem) {
			*rc = FURET_NOMEM;
			return -1;
		}
		stem_len = sb_stemmer_length(a->stemmer);
	} else {
		stem = w;
		stem_len = (int32_t)wlen;
	}
	/* The stem lives in the stemmer (or in a->word) until the next word:
	** folding copies it into the arena. */
	if (fold_accents(a, stem, stem_len, rc))
		return -1;

	if (slot && !a->arena.has_err && a->arena.len - off <= CACHE_LEN) {
		slot->word_len = (unsigned char)wlen;
		slot->kind = (unsigned char)kind;
		slot->flags = (unsigned char)*flags;
		memcpy(slot->word, w, wlen);
		slot->term_len = (unsigned char)(a->arena.len - off);
		memcpy(slot->term, a->arena.data + off, slot->term_len);
	}
	return 0;
}

static int push_token(furet_analyzer *a, size_t off, size_t len, uint32_t pos,
	size_t start, size_t end, unsigned flags)
{
	furet_token *t;

	if (a->n_toks == a->toks_cap) {
		size_t cap = a->toks_cap ? a->toks_cap * 2 : 256;
		size_t *o;

		if (cap > SIZE_MAX / sizeof *t)
			return -1;
		t = furet_realloc(a->toks, cap * sizeof *t);
		if (!t)
			return -1;
		a->toks = t;
		o = furet_realloc(a->term_off, cap * sizeof *o);
		if (!o)
			return -1;
		a->term_off = o;
		a->toks_cap = cap;
	}
	t = &a->toks[a->n_toks];
	a->term_off[a->n_toks] = off;
	a->n_toks++;
	t->term = NULL;
	t->term_len = len;
	t->pos = pos;
	t->start = start;
	t->end = end;
	t->flags = flags;
	return 0;
}

furet_rc furet_analyzer_run(furet_analyzer *a, const char *text, size_t len,
	int mode, const furet_token **toks, size_t *n_toks)
{
	const furet_word *words;
	const UChar *u16;
	size_t n_words, i;
	uint32_t pos = 0;
	furet_rc rc = FURET_OK;

	if (toks)
		*toks = NULL;
	if (n_toks)
		*n_toks = 0;
	if (!a || !toks || !n_toks || (!text && len) ||
		(mode != FURET_MODE_DOCUMENT && mode != FURET_MODE_QUERY)) {
		rc = FURET_INVALID;
		goto done;
	}
	a->n_toks = 0;
	furet_buf_reset(&a->arena);
	if (len && furet_utf8_valid(text, len) != len) {
		rc = FURET_INVALID;
		goto done;
	}
	rc = furet_tokenizer_run(a->tok, text, len, &words, &n_words);
	if (rc != FURET_OK)
		goto done;
	u16 = furet_tokenizer_utf16(a->tok);

	for (i = 0; i < n_words; i++) {
		const furet_word *w = &words[i];
		int32_t us = w->u_start, ue = w->u_end;
		size_t start = w->start, off;
		unsigned flags = 0;

		if (w->kind == FURET_WORD_LETTER) {
			int32_t el = elision_len(u16 + us, ue - us);
			if (el) {
				if (us + el == ue)
					continue; /* nothing but "l'" */
				us += el;
				start = furet_tokenizer_offset(a->tok, us);
			}
		}
		if (w->end - start > TERM_MAX)
			goto skip;
		if (fold_word(a, u16 + us, ue - us, &rc))
			goto done;
		off = a->arena.len;
		if (word_term(a, w->kind, &flags, &rc))
			goto done;
		if (a->arena.has_err) {
			rc = FURET_NOMEM;
			goto done;
		}
		if (a->arena.len == off || a->arena.len - off > TERM_MAX) {
			/* Only marks, or too long: no usable term. */
			a->arena.len = off;
			if (a->arena.cap)
				a->arena.data[off] = '\0';
			goto skip;
		}
		if (push_token(a, off, a->arena.len - off, pos, start, w->end,
			flags)) {
			rc = FURET_NOMEM;
			goto done;
		}
		furet_buf_putc(&a->arena, '\0');
	skip:
		pos++;
	}
	if (a->arena.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (i = 0; i < a->n_toks; i++)
		a->toks[i].term = (const char *)a->arena.data + a->term_off[i];
	*toks = a->toks;
	*n_toks = a->n_toks;
done:
	if (rc != FURET_OK && a)
		a->n_toks = 0;
	return rc;
}
