/*
** analyzer.c — the French analysis chain: words from tokenizer.c -> terms.
**
** tokenizer.c hands over ICU's words (apostrophe variants already turned into
** U+0027 and NBSPs into spaces, see tokenizer.h). Each word, or each group of
** words that belong together, becomes one or more tokens:
**
**   1. elision: a leading l' d' j' m' n' s' t' c' qu' jusqu' lorsqu' puisqu'
**      quoiqu' (any case) is stripped; the token starts after it and
**      elision_len says how many bytes it had. Only the first apostrophe is
**      looked at, and only these prefixes: "aujourd'hui", "prud'homme",
**      "presqu'île", "quelqu'un" stay whole, "d'aujourd'hui" becomes
**      "aujourd'hui". ICU never ends a word with an apostrophe: "l' école"
**      gives the stop word "l", then "école".
**   2. normalisation: NFKC_Casefold ("ﬁ" -> "fi", "ＥＣＯＬＥ" -> "ecole",
**      "É" -> "é", "ß" -> "ss", soft hyphens dropped, NFC). The result is the
**      token's `word`, and the stop list is tested on it (see stop_words[]).
**   3. term: Snowball French stem of the word with its accents, after the
**      ligatures œ -> oe and æ -> ae ("cœur" and "coeur" -> "coeur",
**      "école" -> "écol", "châtiment" -> "chât"). fold: the stem of the word
**      without accents (NFD, nonspacing marks dropped, ligatures expanded):
**      "événement" -> term "éven", fold stem("evenement") = "even", which is
**      also the term and fold of the query word "evenement". Stemming the
**      accent-free word is what makes the fold key agree with what a user
**      types without accents; unrelated words may share a fold key
**      ("châtiment", "chat": both "chat"), never a term. A word with digits
**      ("1er", "covid19") is not stemmed; ICU numbers and kana/ideographs
**      neither. FURET_TOK_ACCENTED: the word differs from its accent-free form.
**   4. compounds: words joined by one hyphen (U+002D, U+2010, U+2011) and
**      nothing else give one PART token each, at consecutive positions, and
**      a WHOLE token at the first part's position, spanning all of them, whose
**      term is that of the parts written together ("socio-professionnelle" ->
**      "socioprofessionnel", the term of "socioprofessionnelle"). The
**      euphonic t of "a-t-elle", "va-t-il" (a middle part "t" before il,
**      elle, on, ils or elles) is dropped: no token, no position.
**      When the last part is a pronoun (je tu il elle on nous vous ils elles
**      ce moi toi le la les lui leur y en, and the deictic ci là) the words are
**      an inversion or an imperative ("pensez-vous", "dit-il", "donne-le-moi",
**      "celui-ci"): parts only. A compound needs at least one letter word:
**      "2020-2021" is two numbers. Only plain words join: a name, an acronym
**      or a number with a separator breaks the chain.
**   5. numbers: one canonical term per French spelling, digits without
**      separators and "," before the decimals: "1 002 758,20" (three ICU
**      words, one space, NBSP or narrow NBSP between groups: 1-3 digits, then
**      groups of exactly 3, the last one possibly with decimals), "1002758,20",
**      "1.002.758,20", "1 002 758.20" -> "1002758,20", one token, one
**      position, spanning all the groups. Within one ICU number: when both "."
**      and "," appear the last one is the decimal separator; a lone kind of
**      separator is a thousands separator when the groups are 1-3 digits then
**      exactly 3 ("1.002", "1,002,758"), otherwise a single "." or "," is the
**      decimal one ("3.5" -> "3,5", "758,20"). Anything else ("1.2.3") stays
**      as written. A 4-digit group never starts a run: "en 2015 250
**      personnes" stays 2015, 250; a run stops before TERM_MAX bytes. Leading
**      and trailing zeros are kept. Other ICU numbers ("12h30", "v2.0")
**      are only normalised, without FURET_TOK_NUMBER.
**   6. acronyms and names: a word of single letters each followed by a dot
**      ("S.A.S.", ICU leaves out the last dot) gives the term of the letters
**      written together, FURET_TOK_ACRONYM ("sas"). Other words with
**      punctuation inside ("Simplon.co", "contact@simplon.co", "foo_bar",
**      "étudiant·e·s") and URLs (a word "http", "https" or "ftp" followed by
**      "://", a word starting with "www.", or a dotted name followed by "/";
**      ICU cuts them at "/" and ":", we join the pieces up to the next space,
**      trailing punctuation left out) give a WHOLE token, the lowercase
**      accent-free text not stemmed ("simplon.co"), and a PART token for every
**      run of letters and digits in it, stemmed like a word; parts "www" are
**      dropped without a position.
**   7. stop words (stop_words[]) keep their token and position, with
**      FURET_TOK_STOP; a WHOLE or ACRONYM token never is one.
**
** Tokens come ordered by position, then start; a WHOLE token before its first
** part. Positions never decrease.
**
** Example: "L’École d’été" -> "écol" (fold "ecol", position 0, bytes [4,10),
** elision 4 bytes) and "été" (fold "ete", 1, [15,20), not a stop word).
**
** Words longer than TERM_MAX bytes, or whose normalised form or term would be,
** produce no token but keep their position: no index can use a key that long
** (LMDB's limit is 511 bytes) and they are base64 or junk, not French. A
** WHOLE token that long is left out (its parts stay).
**
** Memory: the word, term and fold of every token of a run go into one arena
** (a furet_buf), tokens into one array, both reused from run to run, so a run
** allocates nothing once the buffers have grown. While the arena may still
** move, tokens remember their strings as offsets (struct tok_text); pointers
** are fixed up at the end of the run. A word cache (see struct cache_slot)
** spares the normaliser of accents and the stemmer the frequent words.
**
** Any change to the output of this chain (rules, stop list, ICU or Snowball
** version) must change furet_analyzer_signature(), which every index stores.
*/
#include "analyzer.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <libstemmer.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/uvernum.h>

#include "tokenizer.h"
#include "util.h"

#define TERM_MAX 255

#define SIGNATURE "furet-fr/2 icu/" U_ICU_VERSION " snowball/french stop/2"
_Static_assert(sizeof SIGNATURE < 100, "the signature must stay short");

/* How a normalised word becomes a term (see analyze()). */
#define AN_WORD 0 /* stop list, Snowball unless it has digits */
#define AN_RAW 1  /* as it is: ICU numbers, kana and ideographs */
#define AN_NAME 2 /* accent-free, not stemmed: the WHOLE of a name or URL */

/* A cache from (mode, normalised word) to term, fold and flags, in sets of
** WAYS slots, most recently used first. Words follow Zipf's law: a few
** thousand of them make most of any French text, and stemming (twice for
** an accented word) is most of the cost of a word, so most words skip it.
** Words, terms and folds longer than CACHE_LEN bytes are not cached. 32768
** slots (3.1 MB an analyzer): on 36 MB of French text (5.4 million words),
** 8192 slots left 390,000 stems to Snowball (1.7 G instructions, a fifth of
** the analysis), 32768 147,000. Four ways instead of one (direct-mapped),
** for the same memory: on a 46 MB sample of the scale corpus, Snowball's
** instructions 1.23 G -> 0.60 G (two ways: 0.77 G), and the analysis of the
** 212 MB corpus alone 7.31-8.93 -> 6.37-8.01 s in three alternating rounds
** on a noisy host (its rebuild's CPU 17.7-19.3 -> 17.0-17.5 s). */
#define CACHE_SLOTS 32768 /* a power of two */
#define WAYS 4            /* slots in a set, a power of two */
#define CACHE_LEN 27

struct cache_slot {
	unsigned char word_len; /* 0: empty slot (words are never empty) */
	unsigned char term_len; /* 0: the word has no usable term */
	unsigned char fold_len; /* 0: the fold is the term */
	unsigned char mode, flags;
	uint32_t term_hash;
	char word[CACHE_LEN + 1];
	char term[CACHE_LEN + 1];
	char fold[CACHE_LEN + 1];
};

/* Where a token's strings are in the arena while it may still move. */
struct tok_text {
	size_t word, term, fold;
};

/* What analyze() made of a word: arena offsets, lengths and flags. */
struct analysis {
	size_t word_off, word_len, term_off, term_len, fold_off, fold_len;
	uint32_t term_hash;
	unsigned flags;
	int ok; /* 0: no usable term, nothing was added to the arena */
};

/* One ICU word seen by the rules: its range after elision and its shape. */
#define SHAPE_EMPTY 0   /* nothing but an elision */
#define SHAPE_PLAIN 1   /* letters, digits, marks and apostrophes only */
#define SHAPE_NAME 2    /* punctuation inside: "simplon.co", "foo_bar" */
#define SHAPE_ACRONYM 3 /* "S.A.S" */
#define SHAPE_DIGITS 4  /* an ICU number of ASCII digits only */
#define SHAPE_NUMSEP 5  /* an ICU number with punctuation: "758,20", "v2.0" */

struct view {
	int32_t us, ue;    /* UTF-16 range after elision */
	size_t start, end; /* byte range after elision */
	size_t elision;    /* bytes stripped before start */
	int kind;          /* FURET_WORD_* */
	int shape;         /* SHAPE_* */
};

struct furet_analyzer {
	struct cache_slot *cache; /* CACHE_SLOTS slots */
	furet_tokenizer *tok;
	struct sb_stemmer *stemmer;
	const UNormalizer2 *nfc, *nfd, *nfkc_cf; /* owned by ICU */
	UChar *u1, *u2;                /* UTF-16 scratch for one word */
	size_t u1_cap, u2_cap;         /* in UChar */
	furet_buf word;                /* the normalised word in UTF-8 */
	furet_buf lig;                 /* the word with œ, æ expanded */
	furet_buf un;                  /* the word without accents */
	furet_buf cat;                 /* the parts of a compound, end to end */
	furet_buf arena;               /* every word, term and fold of the run */
	furet_token *toks;
	struct tok_text *text;         /* toks[i]'s strings in the arena */
	size_t n_toks, toks_cap;
	const UChar *u16;              /* the run's text, from the tokenizer */
	const uint32_t *map;           /* and its byte offsets (once a call) */
	int32_t n16;
};

/* French function words, normalised as they reach the test (NFKC_Casefold).
** Sorted by bytes (LC_ALL=C sort) for bsearch, so the accented words come
** last. Articles, prepositions, pronouns, possessives, conjunctions, the
** negation and the commonest auxiliary forms of être/avoir. Left out on
** purpose because they are also content words that a search must find:
** "été", "avions", "son", "sommes", "fait", "est" (the cardinal point),
** "car" (the vehicle), "ton", "or", "as", "vers", "entre", "même", "être",
** "avoir", "c" (the language). The lone letters d j l m n s t qu are what ICU
** leaves of an elision followed by a space ("l' école"). */
static const char *const stop_words[] = {
	"a", "ai", "au", "aux", "avaient", "avais", "avait", "avec", "avez",
	"avons", "ce", "ceci", "cela", "celle", "celles", "celui",
	"ces", "cet", "cette", "ceux", "chez", "comme", "d", "dans", "de",
	"depuis", "des", "donc", "dont", "du", "elle", "elles", "en", "es",
	"et", "eux", "il", "ils", "j", "je", "l", "la", "laquelle",
	"le", "lequel", "les", "lesquelles", "lesquels", "leur", "leurs",
	"lorsque", "lui", "m", "ma", "mais", "me", "mes", "moi", "mon", "n",
	"ne", "ni", "nos", "notre", "nous", "on", "ont", "ou", "o\xc3\xb9" /* où */,
	"par", "parmi", "pas", "pendant", "pour", "puisque", "qu", "quand", "que",
	"quel", "quelle", "quelles", "quels", "qui", "quoi", "quoique", "s",
	"sa", "sans", "se", "selon", "sera", "seraient", "serait", "seront",
	"ses", "si", "soi", "soient", "soit", "sont", "sous", "suis",
	"sur", "t", "ta", "te", "tes", "toi", "tu", "un", "une", "vos",
	"votre", "vous", "y",
	"\xc3\xa0" /* à */, "\xc3\xa7\x61" /* ça */,
	"\xc3\xa9taient" /* étaient */, "\xc3\xa9tais" /* étais */,
	"\xc3\xa9tait" /* était */, "\xc3\xaates" /* êtes */,
};

/* Last parts that make a hyphenated group an inversion or an imperative
** rather than a compound word: no WHOLE token. Sorted by bytes, like
** stop_words[]. */
static const char *const pronouns[] = {
	"ce", "ci", "elle", "elles", "en", "il", "ils", "je", "la", "le",
	"les", "leur", "lui", "l\xc3\xa0" /* là */, "moi", "nous", "on", "toi",
	"tu", "vous", "y",
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
	furet_buf_init(&a->lig);
	furet_buf_init(&a->un);
	furet_buf_init(&a->cat);
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
	a->nfkc_cf = unorm2_getNFKCCasefoldInstance(&err);
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
	furet_free(a->text);
	furet_free(a->toks);
	furet_buf_free(&a->arena);
	furet_buf_free(&a->cat);
	furet_buf_free(&a->un);
	furet_buf_free(&a->lig);
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

static furet_rc icu_rc(UErrorCode err)
{
	return err == U_MEMORY_ALLOCATION_ERROR ? FURET_NOMEM : FURET_ERROR;
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

static int is_pronoun(const char *w)
{
	return bsearch(w, pronouns, sizeof pronouns / sizeof *pronouns,
		sizeof *pronouns, cmp_str) != NULL;
}

/* u[0..n) is the ASCII string s, ignoring ASCII case. */
static int u_is(const UChar *u, int32_t n, const char *s)
{
	int32_t i;

	for (i = 0; i < n && s[i]; i++) {
		UChar c = u[i];
		if (c >= 'A' && c <= 'Z')
			c = (UChar)(c - 'A' + 'a');
		if (c != (unsigned char)s[i])
			return 0;
	}
	return i == n && !s[i];
}

static int is_digit(UChar c)
{
	return c >= '0' && c <= '9';
}

static int is_dot(UChar32 c)
{
	return c == '.' || c == 0x2024 || c == 0xfe52 || c == 0xff0e;
}

/* Letters, digits, marks, format characters (soft hyphen, joiners, which
** normalisation drops) and the apostrophe make words; everything else in a
** name or URL separates its parts. */
int furet_analyzer_is_part_char(int32_t c)
{
	/* Most characters of French text, without a call into ICU: ASCII
	** letters and digits, and Latin-1 Supplement and Latin Extended-A
	** letters (U+00C0..U+017F but x and /, all of category L). */
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == 0x27;
	if (c >= 0xc0 && c <= 0x17f && c != 0xd7 && c != 0xf7)
		return 1;
	return U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_M_MASK |
		U_GC_CF_MASK);
}

static int is_hyphen(UChar c)
{
	return c == '-' || c == 0x2010 || c == 0x2011;
}

/* Length in UTF-16 units of the elision that starts u[0..n) including its
** apostrophe, or 0 when there is none. */
static int32_t elision_len(const UChar *u, int32_t n)
{
	char low[ELISION_MAX + 1];
	int32_t i, m = n < ELISION_MAX + 1 ? n : ELISION_MAX + 1;
	size_t k;

	/* Most words have no apostrophe near their start: none. */
	for (i = 0; i < m && u[i] != 0x27; i++)
		;
	if (i == 0 || i == m || i >= n)
		return 0;
	for (i = 0; i < n && i <= ELISION_MAX; i++) {
		UChar c = u[i];

		if (c == 0x27)
			break;
		/* Every elided form is ASCII (or full-width ASCII, which
		** normalisation folds): any other letter means none. */
		if (c >= 0xff21 && c <= 0xff5a)
			c = (UChar)(c - 0xff21 + 'A');
		if (c >= 'A' && c <= 'Z')
			low[i] = (char)(c - 'A' + 'a');
		else if (c >= 'a' && c <= 'z')
			low[i] = (char)c;
		else
			return 0;
	}
	if (i == 0 || i >= n || i > ELISION_MAX || u[i] != 0x27)
		return 0;
	low[i] = '\0';
	for (k = 0; k < sizeof elisions / sizeof *elisions; k++)
		if (!strcmp(low, elisions[k]))
			return i + 1;
	return 0;
}

/* "S.A.S": one letter (and its marks), a dot, and so on, at least twice. */
static int is_acronym(const UChar *u, int32_t n)
{
	int32_t i = 0, n_letters = 0;
	UChar32 c;

	while (i < n) {
		U16_NEXT(u, i, n, c);
		if (!(U_GET_GC_MASK(c) & U_GC_L_MASK))
			return 0;
		n_letters++;
		while (i < n) {
			int32_t k = i;
			U16_NEXT(u, k, n, c);
			if (!(U_GET_GC_MASK(c) & U_GC_M_MASK))
				break;
			i = k;
		}
		if (i == n)
			break;
		U16_NEXT(u, i, n, c);
		if (!is_dot(c) || i == n)
			return 0;
	}
	return n_letters >= 2;
}

/* The view of ICU word w: elision, range and shape, into *v. */
static void view_of(const furet_analyzer *a, const furet_word *w,
	struct view *v)
{
	const UChar *u;
	int32_t i, n, n_scan, el = 0;
	int only_digits = 1, has_sep = 0;

	v->us = w->u_start;
	v->ue = w->u_end;
	v->start = w->start;
	v->end = w->end;
	v->elision = 0;
	v->kind = w->kind;
	if (w->chars == FURET_CHARS_PLAIN) {
		/* Most words: letters (and digits), no apostrophe, so no
		** elision and nothing that separates parts. */
		v->shape = SHAPE_PLAIN;
		return;
	}
	if (w->kind == FURET_WORD_LETTER)
		el = elision_len(a->u16 + v->us, v->ue - v->us);
	if (el) {
		if (v->us + el == v->ue) {
			v->shape = SHAPE_EMPTY;
			return;
		}
		v->us += el;
		v->start = a->map[v->us];
		v->elision = v->start - w->start;
	}
	u = a->u16 + v->us;
	n = n_scan = v->ue - v->us;
	if (w->chars == FURET_CHARS_DIGITS || w->chars == FURET_CHARS_WORD) {
		/* The tokenizer saw the characters: part characters all (an
		** elision takes only letters and its apostrophe away). */
		only_digits = w->chars == FURET_CHARS_DIGITS;
		n_scan = 0;
	}
	for (i = 0; i < n_scan;) {
		UChar32 c;

		U16_NEXT(u, i, n_scan, c);
		if (!is_digit((UChar)c) || c > 0x7f)
			only_digits = 0;
		if (!furet_analyzer_is_part_char(c))
			has_sep = 1;
	}
	if (w->kind == FURET_WORD_NUMBER && only_digits)
		v->shape = SHAPE_DIGITS;
	else if (!has_sep)
		v->shape = SHAPE_PLAIN;
	else if (w->kind == FURET_WORD_LETTER && is_acronym(u, n))
		v->shape = SHAPE_ACRONYM;
	else if (w->kind == FURET_WORD_LETTER)
		v->shape = SHAPE_NAME;
	else
		v->shape = SHAPE_NUMSEP;
}

/* NFKC_Casefold of the Latin letters of French text, without ICU: ASCII,
** U+00C0..U+00FF but for U+00D7, U+00DF (ß -> ss) and U+00F7, and Œ œ Ÿ.
** On these it only lowercases (À -> à, Œ -> œ, Ÿ -> ÿ), and no two of them
** compose. UTF-8 into a->word (reset, room made by the caller's check:
** see normalise), 0; or -1 when u[0..n) has any other character, a->word
** then left for ICU. test_latin_fold checks it against ICU. */
static int latin_fold(furet_analyzer *a, const UChar *u, int32_t n)
{
	unsigned char *q;
	int32_t i;

	if (furet_buf_reserve(&a->word, (size_t)n * 2))
		return -1;
	q = a->word.data;
	for (i = 0; i < n; i++) {
		UChar c = u[i];

		if (c < 0x80) {
			*q++ = (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
			continue;
		}
		if (c >= 0xc0 && c <= 0xde && c != 0xd7)
			c = (UChar)(c + 0x20);
		else if (c == 0x152)
			c = 0x153;
		else if (c == 0x178)
			c = 0xff;
		else if (!(c >= 0xe0 && c <= 0xff && c != 0xf7) && c != 0x153)
			return -1;
		*q++ = (unsigned char)(0xc0 | (c >> 6));
		*q++ = (unsigned char)(0x80 | (c & 0x3f));
	}
	a->word.len = (size_t)(q - a->word.data);
	*q = '\0';
	return 0;
}

#ifdef __SSE2__
/* Lowercases the k units at u (4 or 8) into k bytes at q when they are all
** ASCII: 1; else 0, q untouched. */
static inline int lower_units(const UChar *u, unsigned char *q, int k)
{
	__m128i x = k == 8 ? _mm_loadu_si128((const __m128i *)u) :
		_mm_loadl_epi64((const __m128i *)u);
	__m128i hi = _mm_and_si128(x, _mm_set1_epi16((short)0xff80));
	__m128i up = _mm_and_si128(_mm_cmpgt_epi16(x, _mm_set1_epi16('A' - 1)),
		_mm_cmplt_epi16(x, _mm_set1_epi16('Z' + 1)));
	unsigned char b[8];

	if (_mm_movemask_epi8(_mm_cmpeq_epi16(hi, _mm_setzero_si128())) != 0xffff)
		return 0; /* (the upper 4 units of a loadl are 0) */
	x = _mm_packus_epi16(_mm_add_epi16(x,
		_mm_and_si128(up, _mm_set1_epi16(0x20))), x);
	_mm_storel_epi64((__m128i *)b, x);
	memcpy(q, b, (size_t)k);
	return 1;
}
#endif

/* How many of the units u[0..n) lowercase into q, four or eight at a time
** (the last ones again, overlapping, for a length that is no multiple),
** while they are ASCII: n, or fewer for the caller to go on from. */
static inline int32_t ascii_lower(const UChar *u, int32_t n, unsigned char *q)
{
	int32_t i = 0;

#ifdef __SSE2__
	if (n >= 8) {
		for (; i + 8 <= n && lower_units(u + i, q + i, 8); i += 8)
			;
		if (i < n && i + 8 > n && lower_units(u + n - 8, q + n - 8, 8))
			i = n;
	} else if (n >= 4 && lower_units(u, q, 4) &&
		lower_units(u + n - 4, q + n - 4, 4)) {
		i = n;
	}
#else
	(void)u;
	(void)n;
	(void)q;
#endif
	return i;
}

static int normalise_other(furet_analyzer *a, const UChar *u, int32_t n,
	furet_rc *rc);

/* Normalises u[0..n) (NFKC_Casefold) into a->word as UTF-8. 0, or -1 with
** *rc set. */
static inline int normalise(furet_analyzer *a, const UChar *u, int32_t n,
	furet_rc *rc)
{
	int32_t i;

	furet_buf_reset(&a->word);
	/* ASCII, most words: NFKC_Casefold only lowercases it, which is done
	** in the pass that looks for anything else. Inline, the rest apart
	** (which has registers to save). */
	if (furet_buf_reserve(&a->word, (size_t)n)) {
		*rc = FURET_NOMEM;
		return -1;
	}
	i = ascii_lower(u, n, a->word.data);
	for (; i < n && u[i] < 0x80; i++)
		a->word.data[i] = (unsigned char)(u[i] >= 'A' && u[i] <= 'Z' ?
			u[i] - 'A' + 'a' : u[i]);
	if (i == n) {
		a->word.len = (size_t)n;
		a->word.data[n] = '\0';
		return 0;
	}
	return normalise_other(a, u, n, rc);
}

/* normalise's words that are not all ASCII. */
static int normalise_other(furet_analyzer *a, const UChar *u, int32_t n,
	furet_rc *rc)
{
	UErrorCode err = U_ZERO_ERROR;
	int32_t m, m8;

	a->word.data[0] = '\0';
	if (latin_fold(a, u, n) == 0)
		return 0;
	/* Compatibility mappings may lengthen a string a lot ("ﷺ" is 18
	** characters); ICU says how much room it needs when it runs short. */
	if (ugrow(&a->u1, &a->u1_cap, (size_t)n * 3 + 16))
		goto nomem;
	m = unorm2_normalize(a->nfkc_cf, u, n, a->u1, (int32_t)a->u1_cap, &err);
	if (err == U_BUFFER_OVERFLOW_ERROR) {
		err = U_ZERO_ERROR;
		if (ugrow(&a->u1, &a->u1_cap, (size_t)m + 1))
			goto nomem;
		m = unorm2_normalize(a->nfkc_cf, u, n, a->u1, (int32_t)a->u1_cap,
			&err);
	}
	if (U_FAILURE(err))
		goto icu;
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
	*rc = icu_rc(err);
	return -1;
}

/* Copies w[0..n) into a->lig with œ -> oe and æ -> ae; 1 when it changed
** anything, 0 when w has no ligature (a->lig untouched). */
static int expand_ligatures(furet_analyzer *a, const char *w, size_t n)
{
	size_t i, from = 0;
	int changed = 0;

	for (i = 0; i + 1 < n; i++) {
		const char *rep;

		if ((unsigned char)w[i] == 0xc5 && (unsigned char)w[i + 1] == 0x93)
			rep = "oe";
		else if ((unsigned char)w[i] == 0xc3 && (unsigned char)w[i + 1] == 0xa6)
			rep = "ae";
		else
			continue;
		if (!changed)
			furet_buf_reset(&a->lig);
		changed = 1;
		furet_buf_append(&a->lig, w + from, i - from);
		furet_buf_append(&a->lig, rep, 2);
		from = i + 2;
		i++;
	}
	if (changed)
		furet_buf_append(&a->lig, w + from, n - from);
	return changed;
}

/* The accent-free form of w[0..n) (valid UTF-8) into a->un: NFD, nonspacing
** marks dropped, œ -> oe, æ -> ae, then NFC again so that what has no accent
** (Hangul syllables, say) comes out as it went in. 0, or -1 with *rc set. */
static int unaccent(furet_analyzer *a, const char *w, size_t n, furet_rc *rc)
{
	UErrorCode err = U_ZERO_ERROR;
	int32_t n16, m, k, j, m8;
	const UChar *res;

	if (ugrow(&a->u1, &a->u1_cap, n + 1))
		goto nomem;
	u_strFromUTF8(a->u1, (int32_t)a->u1_cap, &n16, w, (int32_t)n, &err);
	if (U_FAILURE(err))
		goto icu;
	/* NFD rarely more than triples a string; when it does, ICU says how
	** much it needs. */
	if (ugrow(&a->u2, &a->u2_cap, (size_t)n16 * 3 + 1))
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
	if (ugrow(&a->u1, &a->u1_cap, (size_t)m * 2 + 1))
		goto nomem;
	for (k = 0, j = 0; k < m;) {
		UChar32 c;

		U16_NEXT(a->u2, k, m, c);
		if (u_charType(c) == U_NON_SPACING_MARK)
			continue;
		if (c == 0x153 || c == 0xe6) {
			a->u1[j++] = c == 0x153 ? 'o' : 'a';
			a->u1[j++] = 'e';
		} else {
			U16_APPEND_UNSAFE(a->u1, j, c);
		}
	}
	res = a->u1;
	if (unorm2_quickCheck(a->nfc, a->u1, j, &err) != UNORM_YES &&
		!U_FAILURE(err)) {
		if (ugrow(&a->u2, &a->u2_cap, (size_t)j + 1))
			goto nomem;
		m = unorm2_normalize(a->nfc, a->u1, j, a->u2, (int32_t)a->u2_cap,
			&err);
		if (err == U_BUFFER_OVERFLOW_ERROR) {
			err = U_ZERO_ERROR;
			if (ugrow(&a->u2, &a->u2_cap, (size_t)m + 1))
				goto nomem;
			m = unorm2_normalize(a->nfc, a->u1, j, a->u2,
				(int32_t)a->u2_cap, &err);
		}
		res = a->u2;
		j = m;
	}
	if (U_FAILURE(err))
		goto icu;
	furet_buf_reset(&a->un);
	if (furet_buf_reserve(&a->un, (size_t)j * 3))
		goto nomem;
	u_strToUTF8((char *)a->un.data, (int32_t)a->un.cap, &m8, res, j, &err);
	if (U_FAILURE(err))
		goto icu;
	a->un.len = (size_t)m8;
	a->un.data[m8] = '\0';
	return 0;
nomem:
	*rc = FURET_NOMEM;
	return -1;
icu:
	*rc = icu_rc(err);
	return -1;
}

static uint32_t hash_word(const char *p, size_t n, int mode)
{
	uint32_t h = 2166136261u ^ (uint32_t)mode;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static int has_ascii_digit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= '0' && s[i] <= '9')
			return 1;
	return 0;
}

static int all_ascii_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/* Appends s[0..n) to the arena: stemmed when is_stem. 0, or -1 (NOMEM). */
static int put_term(furet_analyzer *a, const char *s, size_t n, int is_stem)
{
	if (is_stem) {
		const sb_symbol *st = sb_stemmer_stem(a->stemmer,
			(const sb_symbol *)s, (int)n);
		if (!st)
			return -1;
		/* The stem lives in the stemmer until the next call: copy it. */
		furet_buf_append(&a->arena, st, (size_t)sb_stemmer_length(a->stemmer));
	} else {
		furet_buf_append(&a->arena, s, n);
	}
	return 0;
}

/* Does slot hold word w (wlen bytes) of mode? */
static int is_cached(const struct cache_slot *slot, const char *w,
	size_t wlen, int mode)
{
	return slot->word_len == wlen && slot->mode == mode &&
		furet_same(slot->word, w, wlen);
}

/* Turns the normalised word in a->word into word, term and fold in the arena
** (each NUL terminated; the fold shares the term's bytes when they are equal)
** and sets r. mode is AN_*; the flags can be STOP (AN_WORD only), ACCENTED and
** NUMBER (all ASCII digits). r->ok is 0 when the word gives no usable term
** (empty, or longer than TERM_MAX). 0, or -1 with *rc set. */
static int analyze(furet_analyzer *a, int mode, struct analysis *r,
	furet_rc *rc)
{
	const char *w = (const char *)a->word.data;
	const char *lig, *un;
	size_t wlen = a->word.len, lig_len, un_len, i;
	struct cache_slot *slot = NULL;
	unsigned char *q;
	unsigned flags = 0;
	int has_nonascii = 0, is_stem;

	memset(r, 0, sizeof *r);
	if (wlen == 0 || wlen > TERM_MAX)
		return 0;
	r->word_off = a->arena.len;
	r->word_len = wlen;
	furet_buf_append(&a->arena, w, wlen);
	furet_buf_putc(&a->arena, '\0');
	if (wlen <= CACHE_LEN) {
		/* A hit moves to the front of its set; a new word goes there
		** too (below), and the last one of the set leaves. */
		int j;
		slot = &a->cache[hash_word(w, wlen, mode) & (CACHE_SLOTS - WAYS)];
		for (j = 0; j < WAYS && !is_cached(slot + j, w, wlen, mode); j++)
			;
		if (j < WAYS) {
			if (j) {
				struct cache_slot hit = slot[j];
				memmove(slot + 1, slot, (size_t)j * sizeof *slot);
				slot[0] = hit;
			}
			if (!slot->term_len)
				goto none;
			/* The term and the fold, each NUL terminated: the slot's
			** whole arrays are copied (a fixed size, no call to
			** memcpy, and every byte of a slot is set), the arena's
			** length then moved past what counts. */
			if (furet_buf_reserve(&a->arena, 2 * sizeof slot->term))
				goto nomem;
			q = a->arena.data + a->arena.len;
			r->term_off = a->arena.len;
			r->term_len = slot->term_len;
			r->term_hash = slot->term_hash;
			memcpy(q, slot->term, sizeof slot->term);
			q[slot->term_len] = '\0';
			a->arena.len += (size_t)slot->term_len + 1;
			r->fold_off = r->term_off;
			r->fold_len = r->term_len;
			if (slot->fold_len) {
				q += slot->term_len + 1;
				r->fold_off = a->arena.len;
				r->fold_len = slot->fold_len;
				memcpy(q, slot->fold, sizeof slot->fold);
				q[slot->fold_len] = '\0';
				a->arena.len += (size_t)slot->fold_len + 1;
			}
			a->arena.data[a->arena.len] = '\0'; /* as appends leave it */
			r->flags = slot->flags;
			goto out;
		}
	}

	for (i = 0; i < wlen; i++)
		if ((unsigned char)w[i] >= 0x80)
			has_nonascii = 1;
	if (mode == AN_WORD && is_stop(w))
		flags |= FURET_TOK_STOP;
	if ((mode == AN_WORD || mode == AN_RAW) && all_ascii_digits(w, wlen))
		flags |= FURET_TOK_NUMBER;
	lig = un = w;
	lig_len = un_len = wlen;
	if (has_nonascii) {
		if (expand_ligatures(a, w, wlen)) {
			lig = (const char *)a->lig.data;
			lig_len = a->lig.len;
		}
		if (unaccent(a, w, wlen, rc))
			return -1;
		un = (const char *)a->un.data;
		un_len = a->un.len;
		if (un_len != wlen || memcmp(un, w, wlen))
			flags |= FURET_TOK_ACCENTED;
	}
	is_stem = mode == AN_WORD && !has_ascii_digit(lig, lig_len);

	r->term_off = a->arena.len;
	if (put_term(a, mode == AN_NAME ? un : lig,
		mode == AN_NAME ? un_len : lig_len, is_stem))
		goto nomem;
	r->term_len = a->arena.len - r->term_off;
	r->term_hash = furet_hash32(a->arena.data + r->term_off, r->term_len);
	furet_buf_putc(&a->arena, '\0');
	r->fold_off = r->term_off;
	r->fold_len = r->term_len;
	if (mode != AN_NAME && (flags & FURET_TOK_ACCENTED) &&
		(un_len != lig_len || memcmp(un, lig, un_len))) {
		size_t off = a->arena.len;

		if (put_term(a, un, un_len, is_stem))
			goto nomem;
		if (!a->arena.has_err && a->arena.len > off &&
			(a->arena.len - off != r->term_len ||
			memcmp(a->arena.data + off, a->arena.data + r->term_off,
			r->term_len))) {
			r->fold_off = off;
			r->fold_len = a->arena.len - off;
			furet_buf_putc(&a->arena, '\0');
		} else {
			a->arena.len = off;
		}
	}
	r->flags = flags;
	if (a->arena.has_err)
		goto nomem;
	/* A word without a usable term is cached too (term_len 0). */
	if (r->term_len > TERM_MAX || r->fold_len > TERM_MAX)
		r->term_len = 0;
	if (slot && r->term_len <= CACHE_LEN && r->fold_len <= CACHE_LEN) {
		memmove(slot + 1, slot, (WAYS - 1) * sizeof *slot);
		slot->word_len = (unsigned char)wlen;
		slot->mode = (unsigned char)mode;
		slot->flags = (unsigned char)flags;
		memcpy(slot->word, w, wlen);
		slot->term_len = (unsigned char)r->term_len;
		slot->term_hash = r->term_hash;
		memcpy(slot->term, a->arena.data + r->term_off, r->term_len);
		slot->fold_len = 0;
		if (r->fold_off != r->term_off) {
			slot->fold_len = (unsigned char)r->fold_len;
			memcpy(slot->fold, a->arena.data + r->fold_off, r->fold_len);
		}
	}
	if (r->term_len == 0)
		goto none;
out:
	if (a->arena.has_err)
		goto nomem;
	r->ok = 1;
	return 0;
none:
	/* No usable term: take the word back out of the arena. */
	a->arena.len = r->word_off;
	if (a->arena.cap)
		a->arena.data[a->arena.len] = '\0';
	memset(r, 0, sizeof *r);
	return 0;
nomem:
	*rc = FURET_NOMEM;
	return -1;
}

static int push_token(furet_analyzer *a, const struct analysis *r,
	uint32_t pos, size_t start, size_t end, size_t elision, unsigned flags)
{
	furet_token *t;

	if (a->n_toks == a->toks_cap) {
		size_t cap = a->toks_cap ? a->toks_cap * 2 : 256;
		struct tok_text *x;

		if (cap > SIZE_MAX / sizeof *t)
			return -1;
		t = furet_realloc(a->toks, cap * sizeof *t);
		if (!t)
			return -1;
		a->toks = t;
		x = furet_realloc(a->text, cap * sizeof *x);
		if (!x)
			return -1;
		a->text = x;
		a->toks_cap = cap;
	}
	t = &a->toks[a->n_toks];
	a->text[a->n_toks].word = r->word_off;
	a->text[a->n_toks].term = r->term_off;
	a->text[a->n_toks].fold = r->fold_off;
	a->n_toks++;
	t->term = t->fold = t->word = NULL;
	t->term_len = r->term_len;
	t->term_hash = r->term_hash;
	t->fold_len = r->fold_len;
	t->word_len = r->word_len;
	t->pos = pos;
	t->start = start;
	t->end = end;
	t->elision_len = elision;
	t->flags = flags;
	return 0;
}

/* Moves the last token to index k (a WHOLE token goes before its parts). */
static void move_last_to(furet_analyzer *a, size_t k)
{
	size_t n = a->n_toks - 1;
	furet_token t = a->toks[n];
	struct tok_text x = a->text[n];

	memmove(a->toks + k + 1, a->toks + k, (n - k) * sizeof *a->toks);
	memmove(a->text + k + 1, a->text + k, (n - k) * sizeof *a->text);
	a->toks[k] = t;
	a->text[k] = x;
}

/* Analyses u16[us, ue) as one word in `mode` and pushes its token with
** `flags` added; *pos moves on by one whether or not there is a token. */
static int emit_word(furet_analyzer *a, int32_t us, int32_t ue, int mode,
	size_t elision, unsigned flags, uint32_t *pos, furet_rc *rc)
{
	size_t start = a->map[us];
	size_t end = a->map[ue];
	struct analysis r;

	if (end - start <= TERM_MAX) {
		if (normalise(a, a->u16 + us, ue - us, rc) ||
			analyze(a, mode, &r, rc))
			return -1;
		if (r.ok && push_token(a, &r, *pos, start, end, elision,
			r.flags | flags))
			goto nomem;
	}
	(*pos)++;
	return 0;
nomem:
	*rc = FURET_NOMEM;
	return -1;
}

/* The next part of a name or URL in u16[*k, e): a run of part characters.
** 1 with [*ps, *pe) set, or 0 at the end. */
static int next_part(const UChar *u, int32_t *k, int32_t e, int32_t *ps,
	int32_t *pe)
{
	int32_t i = *k;
	UChar32 c;

	for (;;) {
		int32_t j = i;
		if (i >= e)
			return 0;
		U16_NEXT(u, j, e, c);
		if (furet_analyzer_is_part_char(c))
			break;
		i = j;
	}
	*ps = i;
	while (i < e) {
		int32_t j = i;
		U16_NEXT(u, j, e, c);
		if (!furet_analyzer_is_part_char(c))
			break;
		i = j;
	}
	*pe = *k = i;
	return 1;
}

/* A name or URL at u16[s, e): a WHOLE token (unless there is only one part,
** or it is too long) and a PART token for each part but "www". */
static int emit_name(furet_analyzer *a, int32_t s, int32_t e, size_t elision,
	uint32_t *pos, furet_rc *rc)
{
	const UChar *u = a->u16;
	int32_t k = s, ps, pe;
	size_t start = a->map[s];
	size_t end = a->map[e];
	uint32_t p0 = *pos;
	int n_parts = 0;

	while (next_part(u, &k, e, &ps, &pe))
		n_parts++;
	if (n_parts >= 2 && end - start <= TERM_MAX) {
		struct analysis r;

		if (normalise(a, u + s, e - s, rc) || analyze(a, AN_NAME, &r, rc))
			return -1;
		if (r.ok && push_token(a, &r, p0, start, end, elision,
			(r.flags & FURET_TOK_ACCENTED) | FURET_TOK_WHOLE))
			goto nomem;
	}
	k = s;
	while (next_part(u, &k, e, &ps, &pe)) {
		if (n_parts >= 2 && u_is(u + ps, pe - ps, "www"))
			continue;
		if (emit_word(a, ps, pe, AN_WORD, ps == s ? elision : 0,
			n_parts >= 2 ? FURET_TOK_PART : 0, pos, rc))
			return -1;
	}
	if (*pos == p0)
		(*pos)++; /* the WHOLE took a position that no part took */
	return 0;
nomem:
	*rc = FURET_NOMEM;
	return -1;
}

/* Characters that end a URL, and those left out at its end. */
static int url_stop(UChar c)
{
	return c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' ||
		c == '\\' || c == '^' || c == '{' || c == '|' || c == '}' ||
		c == 0xab || c == 0xbb || u_isUWhiteSpace(c);
}

static int url_trailer(UChar c)
{
	return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
		c == '?' || c == ')' || c == ']' || c == 0x27 || c == '*' ||
		c == '/';
}

/* When the word v starts a URL, the end of the URL in u16; 0 otherwise. */
static int32_t url_end(const furet_analyzer *a, const struct view *v)
{
	const UChar *u = a->u16;
	int32_t n = a->n16, e = v->ue, from;
	int has_alnum = 0, k;

	if (v->kind != FURET_WORD_LETTER)
		return 0;
	/* Most words are plain and none of the three schemes. */
	if (v->shape == SHAPE_PLAIN && (v->ue - v->us < 3 || v->ue - v->us > 5 ||
		((u[v->us] | 0x20) != 'h' && (u[v->us] | 0x20) != 'f')))
		return 0;
	if (v->shape == SHAPE_PLAIN && (u_is(u + v->us, v->ue - v->us, "http") ||
		u_is(u + v->us, v->ue - v->us, "https") ||
		u_is(u + v->us, v->ue - v->us, "ftp"))) {
		if (n - e < 4 || u[e] != ':' || u[e + 1] != '/' || u[e + 2] != '/')
			return 0;
		from = e + 3;
	} else if (v->shape == SHAPE_NAME && v->ue - v->us > 4 &&
		u_is(u + v->us, 4, "www.")) {
		from = e;
	} else if (v->shape == SHAPE_NAME && e + 1 < n && u[e] == '/' &&
		!url_stop(u[e + 1])) {
		for (k = v->us; k < v->ue && !is_dot(u[k]); k++)
			;
		if (k == v->ue)
			return 0; /* "foo_bar/..." is no host name */
		from = e;
	} else {
		return 0;
	}
	e = from;
	while (e < n && !url_stop(u[e]))
		e++;
	while (e > from && url_trailer(u[e - 1]))
		e--;
	for (k = from; k < e && !has_alnum; k++)
		has_alnum = u_isalnum(u[k]);
	if (!has_alnum)
		return from == v->ue ? v->ue : 0;
	return e;
}

/* The number of ICU words from i on that a run of thousands groups joins
** ("1 002 758,20"): 0 when there is no such run. */
static size_t number_run(const furet_analyzer *a, const furet_word *w,
	size_t n_words, size_t i)
{
	const UChar *u = a->u16;
	int32_t len = w[i].u_end - w[i].u_start, k;
	size_t j;

	if (w[i].kind != FURET_WORD_NUMBER || len < 1 || len > 3)
		return 0;
	for (k = w[i].u_start; k < w[i].u_end; k++)
		if (!is_digit(u[k]))
			return 0;
	for (j = i + 1; j < n_words; j++) {
		int32_t s = w[j].u_start, e = w[j].u_end;

		/* Stopping at TERM_MAX bytes also keeps a long "000 000 000 ..."
		** from being rescanned from every group: runs are short. */
		if (w[j].kind != FURET_WORD_NUMBER || s != w[j - 1].u_end + 1 ||
			u[s - 1] != ' ' || e - s < 3 || !is_digit(u[s]) ||
			!is_digit(u[s + 1]) || !is_digit(u[s + 2]) ||
			w[j].end - w[i].start > TERM_MAX)
			break;
		if (e - s == 3)
			continue;
		/* The last group: three digits, a separator, decimals. */
		if (u[s + 3] != ',' && u[s + 3] != '.')
			break;
		for (k = s + 4; k < e && is_digit(u[k]); k++)
			;
		if (k == e && e > s + 4)
			j++;
		break;
	}
	return j - i >= 2 ? j - i : 0;
}

/* Groups of s[0..n) split at sep are thousands groups: 1-3 digits, then
** exactly 3 each. */
static int is_grouped(const char *s, size_t n, char sep)
{
	size_t i, g = 0;
	int first = 1;

	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == sep) {
			if (first ? g < 1 || g > 3 : g != 3)
				return 0;
			first = 0;
			g = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			g++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Appends to the arena the canonical form of the number w[0..n) (ASCII
** digits, "." and ",", see the file comment); 0 when it cannot be read as a
** French number (nothing appended). */
static int canonical_number(furet_analyzer *a, const char *w, size_t n)
{
	size_t i, n_dots = 0, n_commas = 0, last = n, int_len;
	char dec = 0, thou = 0;

	if (!n || w[0] < '0' || w[0] > '9' || w[n - 1] < '0' || w[n - 1] > '9')
		return 0;
	for (i = 0; i < n; i++) {
		if (w[i] == '.' || w[i] == ',') {
			if (w[i - 1] < '0' || w[i - 1] > '9')
				return 0; /* two separators in a row */
			n_dots += w[i] == '.';
			n_commas += w[i] == ',';
			last = i;
		} else if (w[i] < '0' || w[i] > '9') {
			return 0;
		}
	}
	if (n_dots && n_commas) {
		dec = w[last];
		thou = dec == '.' ? ',' : '.';
		if ((dec == '.' ? n_dots : n_commas) != 1)
			return 0;
	} else if (n_dots + n_commas) {
		char c = n_dots ? '.' : ',';
		size_t count = n_dots + n_commas;

		if ((c == '.' || count > 1) && is_grouped(w, n, c))
			thou = c;
		else if (count == 1)
			dec = c;
		else
			return 0;
	}
	int_len = dec ? last : n;
	if (thou && !is_grouped(w, int_len, thou))
		return 0;
	for (i = 0; i < int_len; i++)
		if (w[i] != thou)
			furet_buf_putc(&a->arena, w[i]);
	if (dec) {
		furet_buf_putc(&a->arena, ',');
		furet_buf_append(&a->arena, w + last + 1, n - last - 1);
	}
	return 1;
}

/* A number: u16[us, ue) is one ICU number or a run of thousands groups
** (is_run). One NUMBER token with the canonical term, or, for an ICU number
** that is no French number ("12h30", "1.2.3"), its normalised form. */
static int emit_number(furet_analyzer *a, int32_t us, int32_t ue, int is_run,
	uint32_t *pos, furet_rc *rc)
{
	size_t start = a->map[us];
	size_t end = a->map[ue];
	struct analysis r;
	const char *w;
	size_t i;
	int ok;

	if (end - start > TERM_MAX) {
		(*pos)++;
		return 0;
	}
	if (normalise(a, a->u16 + us, ue - us, rc))
		return -1;
	w = (const char *)a->word.data;
	for (i = 0; i < a->word.len && ((w[i] >= '0' && w[i] <= '9') ||
		w[i] == '.' || w[i] == ',' || (is_run && w[i] == ' ')); i++)
		;
	if (i < a->word.len || a->word.len == 0)
		return emit_word(a, us, ue, AN_RAW, 0, 0, pos, rc);

	memset(&r, 0, sizeof r);
	r.word_off = a->arena.len;
	r.word_len = a->word.len;
	furet_buf_append(&a->arena, w, a->word.len);
	furet_buf_putc(&a->arena, '\0');
	r.term_off = a->arena.len;
	if (is_run) {
		/* number_run() checked the groups: drop the spaces, the one
		** separator left is the decimal one. */
		for (i = 0; i < a->word.len; i++)
			if (w[i] != ' ')
				furet_buf_putc(&a->arena, w[i] == '.' ? ',' : w[i]);
		ok = 1;
	} else {
		ok = canonical_number(a, w, a->word.len);
	}
	if (!ok)
		furet_buf_append(&a->arena, w, a->word.len);
	r.term_len = a->arena.len - r.term_off;
	r.term_hash = furet_hash32(a->arena.data + r.term_off, r.term_len);
	furet_buf_putc(&a->arena, '\0');
	r.fold_off = r.term_off;
	r.fold_len = r.term_len;
	if (a->arena.has_err || push_token(a, &r, *pos, start, end, 0,
		FURET_TOK_NUMBER)) {
		*rc = FURET_NOMEM;
		return -1;
	}
	(*pos)++;
	return 0;
}

/* Plain words that may take part in a compound. */
static int is_joinable(const struct view *v)
{
	return v->shape == SHAPE_PLAIN || v->shape == SHAPE_DIGITS;
}

/* The number of ICU words from i on that hyphens join into a compound with at
** least one letter word, or 0. */
static size_t compound_run(const furet_analyzer *a, const furet_word *w,
	size_t n_words, size_t i, const struct view *first)
{
	size_t j;
	int has_letter = first->kind == FURET_WORD_LETTER;

	if (!is_joinable(first))
		return 0;
	for (j = i + 1; j < n_words; j++) {
		struct view v;

		if (w[j].u_start != w[j - 1].u_end + 1 ||
			!is_hyphen(a->u16[w[j - 1].u_end]))
			break;
		view_of(a, &w[j], &v);
		if (v.elision || !is_joinable(&v))
			break;
		has_letter |= v.kind == FURET_WORD_LETTER;
	}
	return j - i >= 2 && has_letter ? j - i : 0;
}

/* The compound w[i, i + n): its parts, then (unless it is an inversion) the
** WHOLE token moved before them. */
static int emit_compound(furet_analyzer *a, const furet_word *w, size_t i,
	size_t n, uint32_t *pos, furet_rc *rc)
{
	struct view first;
	size_t k0 = a->n_toks, k;
	uint32_t p0 = *pos;
	int has_whole = 1, n_parts = 0, last_is_pronoun = 0;
	struct analysis r;

	view_of(a, &w[i], &first);
	furet_buf_reset(&a->cat);
	for (k = i; k < i + n; k++) {
		struct view v;
		const UChar *u;

		if (k == i)
			v = first;
		else
			view_of(a, &w[k], &v);
		u = a->u16 + v.us;

		/* The euphonic t of "a-t-elle" is no word. */
		if (k > i && k + 1 < i + n && u_is(u, v.ue - v.us, "t")) {
			const UChar *nu = a->u16 + w[k + 1].u_start;
			int32_t nn = w[k + 1].u_end - w[k + 1].u_start;

			if (u_is(nu, nn, "il") || u_is(nu, nn, "elle") ||
				u_is(nu, nn, "on") || u_is(nu, nn, "ils") ||
				u_is(nu, nn, "elles"))
				continue;
		}
		n_parts++;
		if (v.end - v.start > TERM_MAX) {
			has_whole = 0;
			(*pos)++;
			continue;
		}
		if (normalise(a, u, v.ue - v.us, rc))
			return -1;
		furet_buf_append(&a->cat, a->word.data, a->word.len);
		last_is_pronoun = is_pronoun((const char *)a->word.data);
		if (analyze(a, v.kind == FURET_WORD_LETTER ? AN_WORD : AN_RAW, &r,
			rc))
			return -1;
		if (r.ok && push_token(a, &r, *pos, v.start, v.end, v.elision,
			r.flags | FURET_TOK_PART))
			goto nomem;
		(*pos)++;
	}
	if (a->cat.has_err)
		goto nomem;
	if (!has_whole || n_parts < 2 || last_is_pronoun ||
		a->cat.len > TERM_MAX)
		return 0;
	furet_buf_reset(&a->word);
	furet_buf_append(&a->word, a->cat.data, a->cat.len);
	if (a->word.has_err)
		goto nomem;
	if (analyze(a, AN_WORD, &r, rc))
		return -1;
	if (!r.ok)
		return 0;
	if (push_token(a, &r, p0, first.start, w[i + n - 1].end, first.elision,
		(r.flags & ~(unsigned)FURET_TOK_STOP) | FURET_TOK_WHOLE))
		goto nomem;
	move_last_to(a, k0);
	return 0;
nomem:
	*rc = FURET_NOMEM;
	return -1;
}

/* The acronym v: the term of its letters written together. */
static int emit_acronym(furet_analyzer *a, const struct view *v,
	uint32_t *pos, furet_rc *rc)
{
	if (v->end - v->start <= TERM_MAX) {
		struct analysis r;
		size_t i, j;

		if (normalise(a, a->u16 + v->us, v->ue - v->us, rc))
			return -1;
		for (i = j = 0; i < a->word.len; i++)
			if (a->word.data[i] != '.')
				a->word.data[j++] = a->word.data[i];
		a->word.len = j;
		a->word.data[j] = '\0';
		if (analyze(a, AN_WORD, &r, rc))
			return -1;
		if (r.ok && push_token(a, &r, *pos, v->start, v->end, v->elision,
			(r.flags & ~(unsigned)FURET_TOK_STOP) | FURET_TOK_ACRONYM)) {
			*rc = FURET_NOMEM;
			return -1;
		}
	}
	(*pos)++;
	return 0;
}

static furet_rc run(furet_analyzer *a, const char *text, size_t len,
	int mode, int is_valid, const furet_token **toks, size_t *n_toks);

furet_rc furet_analyzer_run(furet_analyzer *a, const char *text, size_t len,
	int mode, const furet_token **toks, size_t *n_toks)
{
	return run(a, text, len, mode, 0, toks, n_toks);
}

furet_rc furet_analyzer_run_valid(furet_analyzer *a, const char *text,
	size_t len, int mode, const furet_token **toks, size_t *n_toks)
{
	return run(a, text, len, mode, 1, toks, n_toks);
}

static furet_rc run(furet_analyzer *a, const char *text, size_t len,
	int mode, int is_valid, const furet_token **toks, size_t *n_toks)
{
	const furet_word *words;
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
	if (len && !is_valid && furet_utf8_valid(text, len) != len) {
		rc = FURET_INVALID;
		goto done;
	}
	rc = furet_tokenizer_run(a->tok, text, len, &words, &n_words);
	if (rc != FURET_OK)
		goto done;
	a->u16 = furet_tokenizer_utf16(a->tok);
	a->n16 = furet_tokenizer_length(a->tok);
	a->map = furet_tokenizer_offsets(a->tok);

	for (i = 0; i < n_words;) {
		struct view v;
		int32_t e;
		size_t n;
		int r;

		view_of(a, &words[i], &v);
		if (v.shape == SHAPE_EMPTY) {
			i++; /* nothing but "l'" */
			continue;
		}
		if ((e = url_end(a, &v)) > 0) {
			/* The URL takes every ICU word that starts inside it. */
			for (n = i + 1; n < n_words && words[n].u_start < e; n++)
				;
			if (words[n - 1].u_end > e)
				e = words[n - 1].u_end;
			r = emit_name(a, v.us, e, v.elision, &pos, &rc);
			i = n;
		} else if ((n = number_run(a, words, n_words, i)) > 0) {
			r = emit_number(a, words[i].u_start, words[i + n - 1].u_end, 1,
				&pos, &rc);
			i += n;
		} else if ((n = compound_run(a, words, n_words, i, &v)) > 0) {
			r = emit_compound(a, words, i, n, &pos, &rc);
			i += n;
		} else {
			if (v.shape == SHAPE_ACRONYM)
				r = emit_acronym(a, &v, &pos, &rc);
			else if (v.shape == SHAPE_NAME)
				r = emit_name(a, v.us, v.ue, v.elision, &pos, &rc);
			else if (v.kind == FURET_WORD_NUMBER)
				r = emit_number(a, v.us, v.ue, 0, &pos, &rc);
			else
				r = emit_word(a, v.us, v.ue,
					v.kind == FURET_WORD_LETTER ? AN_WORD : AN_RAW,
					v.elision, 0, &pos, &rc);
			i++;
		}
		if (r)
			goto done;
	}
	if (a->arena.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (i = 0; i < a->n_toks; i++) {
		const char *base = (const char *)a->arena.data;

		a->toks[i].word = base + a->text[i].word;
		a->toks[i].term = base + a->text[i].term;
		a->toks[i].fold = base + a->text[i].fold;
	}
	*toks = a->toks;
	*n_toks = a->n_toks;
done:
	if (rc != FURET_OK && a)
		a->n_toks = 0;
	return rc;
}
