/*
** test_analyzer.c — the French analysis chain and the ICU tokenizer under it.
**
** Exact expectations: which term and fold key a word becomes, the byte range
** each token covers in the original text (highlights depend on it) and the
** elision before it, positions, flags, and the error codes for bad input.
** One test per rule of analyzer.c: apostrophes, elision, normalisation,
** accents and fold keys, compounds, inversions, numbers, acronyms, names and
** URLs, stop words. tests/golden/analyzer.tsv pins the whole token list of
** more than 300 inputs (its format is described at its top); it changes only
** when the chain changes on purpose, together with
** furet_analyzer_signature(). Allocation failures are injected with
** furet_alloc_fail_after.
*/
#include "testutil.h"

#include <unicode/uchar.h>
#include <unicode/uclean.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uvernum.h>

#include "analyzer.h"
#include "tokenizer.h"
#include "util.h"

static furet_analyzer *an;

static int setup(void **state)
{
	(void)state;
	return furet_analyzer_open(&an) == FURET_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	furet_analyzer_close(an);
	an = NULL;
	return 0;
}

/* Runs s through the shared analyzer and expects success. */
static const furet_token *run(const char *s, size_t *n)
{
	const furet_token *t = NULL;
	assert_int_equal(furet_analyzer_run(an, s, strlen(s), FURET_MODE_DOCUMENT,
		&t, n), FURET_OK);
	return t;
}

/* The term of a text that must give exactly one token. The term is copied:
** the analyzer's own is overwritten by the next run. */
static void term_of(const char *s, char *out, size_t cap)
{
	size_t n;
	const furet_token *t = run(s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(t[0].term), t[0].term_len);
	assert_true(t[0].term_len < cap);
	memcpy(out, t[0].term, t[0].term_len + 1);
}

static void assert_term(const char *s, const char *want)
{
	char got[300];
	term_of(s, got, sizeof got);
	assert_string_equal(got, want);
}

/* The token covers exactly want in s. */
static void assert_slice(const char *s, const furet_token *t, const char *want)
{
	assert_true(t->start <= t->end && t->end <= strlen(s));
	assert_int_equal(t->end - t->start, strlen(want));
	assert_memory_equal(s + t->start, want, strlen(want));
}

/* Golden rendering (see the top of tests/golden/analyzer.tsv), also used by
** the unit tests below to state a whole token list in one string. */
static void render(const furet_token *t, size_t n, char *out, size_t cap)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len < cap; i++) {
		char fl[8];
		size_t k = 0;
		int has_fold = strcmp(t[i].fold, t[i].term) != 0;

		if (t[i].flags & FURET_TOK_WHOLE)
			fl[k++] = 'W';
		if (t[i].flags & FURET_TOK_PART)
			fl[k++] = 'P';
		if (t[i].flags & FURET_TOK_STOP)
			fl[k++] = 'S';
		if (t[i].flags & FURET_TOK_NUMBER)
			fl[k++] = 'N';
		if (t[i].flags & FURET_TOK_ACRONYM)
			fl[k++] = 'A';
		fl[k] = '\0';
		len += (size_t)snprintf(out + len, cap - len, "%s%s%s%s@%u%s%s",
			i ? " " : "", t[i].term, has_fold ? "~" : "",
			has_fold ? t[i].fold : "", t[i].pos, k ? "/" : "", fl);
	}
	assert_true(len < cap);
}

/* Checks what every token list must satisfy: strings NUL terminated with
** their lengths, ranges inside the text, order by position then start, a
** WHOLE token before the parts it spans, fold == term without accents. */
static void check_invariants(const char *s, size_t len, const furet_token *t,
	size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(strlen(t[i].term), t[i].term_len);
		assert_int_equal(strlen(t[i].fold), t[i].fold_len);
		assert_int_equal(strlen(t[i].word), t[i].word_len);
		assert_true(t[i].term_len > 0 && t[i].term_len <= 255);
		assert_true(t[i].start < t[i].end && t[i].end <= len);
		assert_true(t[i].elision_len <= t[i].start);
		if (!(t[i].flags & FURET_TOK_ACCENTED))
			assert_string_equal(t[i].fold, t[i].term);
		if (t[i].elision_len) /* the last byte of an apostrophe */
			assert_non_null(strchr("'`\x99\x98\xbc\xb2\x87",
				s[t[i].start - 1]));
		if (t[i].flags & FURET_TOK_WHOLE) {
			/* One piece of text: no space inside. */
			assert_null(memchr(s + t[i].start, ' ', t[i].end - t[i].start));
			assert_false(t[i].flags & (FURET_TOK_STOP | FURET_TOK_PART));
			if (i + 1 < n && (t[i + 1].flags & FURET_TOK_PART)) {
				assert_true(t[i + 1].pos == t[i].pos);
				assert_true(t[i + 1].end <= t[i].end);
			}
		}
		if (i) {
			assert_true(t[i].pos >= t[i - 1].pos);
			if (t[i].pos == t[i - 1].pos)
				assert_true(t[i].start >= t[i - 1].start);
			else
				assert_true(t[i].pos == t[i - 1].pos + 1 ||
					t[i].start >= t[i - 1].end);
		}
	}
}

/* s gives exactly the tokens `want`, in golden form. */
static void assert_tokens(const char *s, const char *want)
{
	char got[4096];
	size_t n;
	const furet_token *t = run(s, &n);

	check_invariants(s, strlen(s), t, n);
	render(t, n, got, sizeof got);
	if (strcmp(got, want))
		fail_msg("%s\n  got:      %s\n  expected: %s", s, got, want);
}

/* Token i of t covers exactly `want` in s, from byte `start`. */
static void assert_range(const char *s, const furet_token *t, size_t start,
	const char *want)
{
	assert_int_equal(t->start, start);
	assert_slice(s, t, want);
}

static void test_apostrophes(void **state)
{
	/* Every apostrophe variant, its UTF-8 length, and the elision bytes. */
	static const struct {
		const char *text;
		size_t elision;
	} cases[] = {
		{ "l'école", 2 },
		{ "l\xe2\x80\x99" "école", 4 },  /* U+2019 ’ */
		{ "l\xe2\x80\x98" "école", 4 },  /* U+2018 ‘ */
		{ "l\xca\xbc" "école", 3 },      /* U+02BC ʼ */
		{ "l\xe2\x80\xb2" "école", 4 },  /* U+2032 ′ */
		{ "l`école", 2 },                /* backtick */
		{ "l\xef\xbc\x87" "école", 4 },  /* U+FF07 full-width */
	};
	size_t i, n;
	const furet_token *t;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *s = cases[i].text;

		t = run(s, &n);
		assert_int_equal(n, 1);
		assert_string_equal(t[0].term, "écol");
		assert_string_equal(t[0].fold, "ecol");
		assert_string_equal(t[0].word, "école");
		assert_int_equal(t[0].pos, 0);
		assert_int_equal(t[0].elision_len, cases[i].elision);
		assert_range(s, &t[0], cases[i].elision, "école");
		/* The highlight of the whole written word starts at the elision. */
		assert_int_equal(t[0].start - t[0].elision_len, 0);
	}
	/* Inside a word they are kept, as U+0027. */
	assert_tokens("aujourd\xe2\x80\xb2hui aujourd`hui aujourd\xca\xbchui "
		"aujourd\xe2\x80\x98hui", "aujourd'hui@0 aujourd'hui@1 "
		"aujourd'hui@2 aujourd'hui@3");
	t = run("d\xe2\x80\xb2" "aujourd\xe2\x80\x99hui", &n);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].word, "aujourd'hui");
	assert_int_equal(t[0].elision_len, 4);
	assert_range("d\xe2\x80\xb2" "aujourd\xe2\x80\x99hui", &t[0], 4,
		"aujourd\xe2\x80\x99hui");
	/* Opening and closing quotes around a word are no elision. */
	assert_tokens("\xe2\x80\x98" "bonjour\xe2\x80\x99 `code`",
		"bonjour@0 cod@1");
}

static void test_elision(void **state)
{
	const char *texts[] = { "l'école", "l\xe2\x80\x99école", "L'ÉCOLE",
		"L\xe2\x80\x99École" };
	size_t starts[] = { 2, 4, 2, 4 };
	size_t i, n;
	const furet_token *t;
	const char *s = "qu'il jusqu'à lorsqu\xe2\x80\x99on puisqu'elle quoiqu'on "
		"c'est d'un j'ai m'a n'est s'il t'a";

	(void)state;
	assert_term("école", "écol");
	for (i = 0; i < sizeof texts / sizeof *texts; i++) {
		t = run(texts[i], &n);
		assert_int_equal(n, 1);
		assert_string_equal(t[0].term, "écol");
		assert_string_equal(t[0].fold, "ecol");
		assert_int_equal(t[0].start, starts[i]);
		assert_int_equal(t[0].elision_len, starts[i]);
		assert_int_equal(t[0].end, strlen(texts[i]));
		assert_int_equal(t[0].pos, 0);
	}

	t = run(s, &n);
	assert_int_equal(n, 12);
	assert_string_equal(t[0].term, "il");
	assert_int_equal(t[0].start, 3);
	assert_int_equal(t[0].elision_len, 3);
	assert_string_equal(t[1].term, "à");
	assert_int_equal(t[1].start, 6 + 6);
	assert_int_equal(t[1].elision_len, 6);
	assert_string_equal(t[2].term, "on");
	assert_int_equal(t[2].start, 15 + 9);
	assert_int_equal(t[2].elision_len, 9);
	assert_string_equal(t[3].term, "elle");
	assert_string_equal(t[4].term, "on");
	assert_string_equal(t[5].term, "est");
	assert_string_equal(t[6].term, "un");
	assert_string_equal(t[7].term, "ai");
	assert_string_equal(t[8].term, "a");
	assert_string_equal(t[9].term, "est");
	assert_string_equal(t[10].term, "il");
	assert_string_equal(t[11].term, "a");
	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].pos, i);
		assert_memory_equal(s + t[i].start - t[i].elision_len,
			i == 1 ? "jusqu'" : i == 2 ? "lorsqu" : i == 6 ? "d'" : "",
			i == 1 ? 6 : i == 2 ? 6 : i == 6 ? 2 : 0);
	}
	/* A full-width elision is one too (normalisation folds the rest). */
	assert_tokens("\xef\xbc\xac\xe2\x80\x99\xef\xbc\xa5\xef\xbc\xa3\xef\xbc\xaf"
		"\xef\xbc\xac\xef\xbc\xa5", "ecol@0");
}

static void test_inner_apostrophe(void **state)
{
	const char *s = "d'aujourd'hui";
	size_t n;
	const furet_token *t;

	(void)state;
	assert_term("aujourd'hui", "aujourd'hui");
	assert_term("aujourd\xe2\x80\x99hui", "aujourd'hui");
	assert_term("Aujourd\xe2\x80\x99hui", "aujourd'hui");
	t = run(s, &n);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].term, "aujourd'hui");
	assert_slice(s, &t[0], "aujourd'hui");
	assert_int_equal(t[0].elision_len, 2);
	assert_term("d\xe2\x80\x99" "aujourd\xe2\x80\x99hui", "aujourd'hui");
	/* Prefixes that look like elisions but are not in the list. */
	assert_term("prud'homme", "prud'homm");
	assert_tokens("presqu'île", "presqu'îl~presqu'il@0");
	assert_term("entr'ouvert", "entr'ouvert");
	assert_term("quelqu'un", "quelqu'un");
	t = run("presqu\xe2\x80\x99île", &n);
	assert_int_equal(t[0].elision_len, 0);
	assert_int_equal(t[0].start, 0);
}

static void test_lone_elision(void **state)
{
	size_t n;
	const furet_token *t;

	(void)state;
	/* ICU cuts "l' école" into "l", "'", "école": "l" is a stop word. */
	t = run("l' école", &n);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].term, "l");
	assert_true(t[0].flags & FURET_TOK_STOP);
	assert_string_equal(t[1].term, "écol");
	assert_int_equal(t[1].pos, 1);
	assert_int_equal(t[1].elision_len, 0);
}

static void test_normalisation(void **state)
{
	const char *s;
	size_t n;
	const furet_token *t;

	(void)state;
	/* The ligature fi (3 bytes) is two letters; the range keeps it. */
	s = "\xef\xac\x81nance";
	t = run(s, &n);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].term, "financ");
	assert_string_equal(t[0].word, "finance");
	assert_range(s, &t[0], 0, s);
	assert_false(t[0].flags & FURET_TOK_ACCENTED);
	/* Full-width letters are ASCII letters. */
	s = "\xef\xbc\xa5\xef\xbc\xa3\xef\xbc\xaf\xef\xbc\xac\xef\xbc\xa5";
	t = run(s, &n);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].term, "ecol");
	assert_ptr_equal(t[0].fold, t[0].term);
	assert_string_equal(t[0].word, "ecole");
	assert_range(s, &t[0], 0, s);
	assert_tokens("\xef\xbc\x92\xef\xbc\x90\xef\xbc\x91\xef\xbc\x95", "2015@0/N");
	/* NBSP and narrow NBSP separate words like spaces. */
	s = "école\xc2\xa0numérique\xe2\x80\xaf!";
	t = run(s, &n);
	assert_int_equal(n, 2);
	assert_range(s, &t[0], 0, "école");
	assert_range(s, &t[1], 8, "numérique");
	/* ICU counts U+202F as ExtendNumLet: without the tokenizer's
	** substitution "Bonjour\u202f" would be one word. */
	s = "Bonjour\xe2\x80\xaf!";
	t = run(s, &n);
	assert_int_equal(n, 1);
	assert_range(s, &t[0], 0, "Bonjour");
	/* A soft hyphen inside a word is dropped, its bytes stay in the range. */
	s = "r\xc3\xa9\xc2\xad" "forme";
	t = run(s, &n);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].word, "réforme");
	assert_range(s, &t[0], 0, s);
	/* Decomposed input stems like precomposed input. */
	assert_tokens("e\xcc\x81" "cole \xc3\xa9" "cole", "écol~ecol@0 écol~ecol@1");
	assert_tokens("Stra\xc3\x9f" "e", "strass@0");
}

/* The term and fold of a one-token text, with its ACCENTED flag. */
static void assert_keys(const char *s, const char *term, const char *fold,
	int is_accented)
{
	size_t n;
	const furet_token *t = run(s, &n);

	assert_int_equal(n, 1);
	if (strcmp(t[0].term, term) || strcmp(t[0].fold, fold))
		fail_msg("%s: term %s fold %s, expected %s %s", s, t[0].term,
			t[0].fold, term, fold);
	assert_int_equal(!!(t[0].flags & FURET_TOK_ACCENTED), is_accented);
	if (!strcmp(term, fold))
		assert_ptr_equal(t[0].fold, t[0].term); /* "term itself" */
}

static void test_fold_keys(void **state)
{
	size_t n;
	const furet_token *t;

	(void)state;
	/* école, ecole, Ecole, ÉCOLE share the fold key; the unaccented ones
	** share the term. */
	assert_keys("école", "écol", "ecol", 1);
	assert_keys("École", "écol", "ecol", 1);
	assert_keys("ÉCOLE", "écol", "ecol", 1);
	assert_keys("ecole", "ecol", "ecol", 0);
	assert_keys("Ecole", "ecol", "ecol", 0);
	assert_keys("ECOLE", "ecol", "ecol", 0);
	/* fold = stem(unaccent(word)), not unaccent(stem(word)). */
	assert_keys("événement", "éven", "even", 1);
	assert_keys("evenement", "even", "even", 0);
	assert_keys("après", "apres", "apre", 1);
	assert_keys("apres", "apre", "apre", 0);
	assert_keys("indemnité", "indemn", "indemnit", 1);
	assert_keys("indemnite", "indemnit", "indemnit", 0);
	/* Ligatures are expanded before stemming: same term, and ACCENTED
	** although the fold is the term. */
	assert_keys("cœur", "coeur", "coeur", 1);
	assert_keys("coeur", "coeur", "coeur", 0);
	assert_keys("CŒUR", "coeur", "coeur", 1);
	assert_keys("Lætitia", "laetiti", "laetiti", 1);
	assert_keys("Laetitia", "laetiti", "laetiti", 0);
	assert_keys("œuvre", "oeuvr", "oeuvr", 1);
	/* Accents tell terms apart... */
	assert_keys("châtiment", "chât", "chat", 1);
	assert_keys("chat", "chat", "chat", 0);
	assert_keys("pêche", "pêch", "pech", 1);
	assert_keys("péché", "pech", "pech", 1); /* Snowball drops a last é */
	assert_keys("peche", "pech", "pech", 0);
	/* ... and the fold keys of "châtiment" and "chat" collide, which is
	** accepted: a search ranks exact terms above fold matches. */
	assert_keys("naïf", "naïf", "naif", 1);
	assert_keys("Noël", "noël", "noel", 1);
	assert_keys("garçon", "garçon", "garcon", 1);
	/* word: normalised, case folded, elision stripped, before stemming. */
	t = run("L\xe2\x80\x99\xc5\x92UVRE", &n);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].word, "œuvre");
	assert_string_equal(t[0].term, "oeuvr");
}

static void test_offsets(void **state)
{
	const char *s = "Élève à l\xe2\x80\x99école d\xe2\x80\x99été.";
	const char *words[] = { "Élève", "à", "école", "été" };
	const char *terms[] = { "élev", "à", "écol", "été" };
	const char *folds[] = { "elev", "a", "ecol", "ete" };
	size_t starts[] = { 0, 8, 15, 26 };
	size_t elisions[] = { 0, 0, 4, 4 };
	size_t i, n;
	const furet_token *t;

	(void)state;
	t = run(s, &n);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_slice(s, &t[i], words[i]);
		assert_int_equal(t[i].start, starts[i]);
		assert_int_equal(t[i].elision_len, elisions[i]);
		assert_string_equal(t[i].term, terms[i]);
		assert_string_equal(t[i].fold, folds[i]);
		assert_int_equal(t[i].pos, i);
	}
	assert_true(t[1].flags & FURET_TOK_STOP);
	assert_false(t[3].flags & FURET_TOK_STOP);
}

static void test_positions_and_stop(void **state)
{
	const char *s = "Le financement de l'école et des quartiers, été 2015 : "
		"nous avions fait un être";
	const char *words[] = { "Le", "financement", "de", "école", "et", "des",
		"quartiers", "été", "2015", "nous", "avions", "fait", "un", "être" };
	int stop[] = { 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0 };
	const char *homographs[] = { "été", "avions", "son", "sommes", "fait",
		"est", "car", "ton", "or", "as", "vers", "entre", "même", "être",
		"avoir", "c" };
	const char *function_words[] = { "le", "la", "les", "l", "un", "une",
		"des", "du", "de", "d", "à", "au", "aux", "et", "ou", "où", "ne",
		"pas", "je", "tu", "il", "elle", "on", "nous", "vous", "ils",
		"elles", "ce", "cette", "qui", "que", "dont", "sont", "ai", "a",
		"ont", "était", "étaient", "sera", "avait", "ça", "y", "êtes",
		"sur", "pour", "par", "dans", "avec", "sans", "sous", "chez" };
	size_t i, n;
	const furet_token *t;

	(void)state;
	t = run(s, &n);
	assert_int_equal(n, sizeof words / sizeof *words);
	for (i = 0; i < n; i++) {
		assert_slice(s, &t[i], words[i]);
		assert_int_equal(t[i].pos, i);
		assert_int_equal(!!(t[i].flags & FURET_TOK_STOP), stop[i]);
	}
	for (i = 0; i < sizeof homographs / sizeof *homographs; i++) {
		t = run(homographs[i], &n);
		assert_int_equal(n, 1);
		if (t[0].flags & FURET_TOK_STOP)
			fail_msg("%s must not be a stop word", homographs[i]);
	}
	for (i = 0; i < sizeof function_words / sizeof *function_words; i++) {
		t = run(function_words[i], &n);
		assert_int_equal(n, 1);
		if (!(t[0].flags & FURET_TOK_STOP))
			fail_msg("%s must be a stop word", function_words[i]);
	}
	/* Stop words keep their positions. */
	assert_tokens("le nord est à l'est", "le@0/S nord@1 est@2 à~a@3/S est@4");
}

static void test_compounds(void **state)
{
	const char *s = "Villeneuve-la-Garenne et Paris";
	char whole[64];
	size_t n;
	const furet_token *t;

	(void)state;
	t = run(s, &n);
	assert_int_equal(n, 6);
	/* The WHOLE first, at the first part's position, spanning the parts. */
	assert_string_equal(t[0].term, "villeneuvelagaren");
	assert_string_equal(t[0].word, "villeneuvelagarenne");
	assert_int_equal(t[0].flags, FURET_TOK_WHOLE);
	assert_int_equal(t[0].pos, 0);
	assert_range(s, &t[0], 0, "Villeneuve-la-Garenne");
	assert_string_equal(t[1].term, "villeneuv");
	assert_int_equal(t[1].flags, FURET_TOK_PART);
	assert_int_equal(t[1].pos, 0);
	assert_range(s, &t[1], 0, "Villeneuve");
	assert_string_equal(t[2].term, "la");
	assert_int_equal(t[2].flags, FURET_TOK_PART | FURET_TOK_STOP);
	assert_int_equal(t[2].pos, 1);
	assert_range(s, &t[2], 11, "la");
	assert_string_equal(t[3].term, "garen");
	assert_int_equal(t[3].pos, 2);
	assert_range(s, &t[3], 14, "Garenne");
	assert_string_equal(t[4].term, "et");
	assert_int_equal(t[4].pos, 3);
	assert_int_equal(t[4].flags, FURET_TOK_STOP);
	assert_string_equal(t[5].term, "paris");
	assert_int_equal(t[5].pos, 4);
	assert_term("villeneuvelagarenne", "villeneuvelagaren");

	/* The WHOLE has the term of the word written without hyphens. */
	term_of("socioprofessionnelle", whole, sizeof whole);
	assert_string_equal(whole, "socioprofessionnel");
	assert_tokens("socio-professionnelle",
		"socioprofessionnel@0/W socio@0/P professionnel@1/P");
	assert_tokens("socio\xe2\x80\x90professionnelle", /* U+2010 */
		"socioprofessionnel@0/W socio@0/P professionnel@1/P");
	assert_tokens("socio\xe2\x80\x91professionnelle", /* U+2011 */
		"socioprofessionnel@0/W socio@0/P professionnel@1/P");
	/* Spaces, two hyphens or a dash: no compound. */
	assert_tokens("socio - professionnelle", "socio@0 professionnel@1");
	assert_tokens("socio--professionnelle", "socio@0 professionnel@1");
	assert_tokens("socio\xe2\x80\x94professionnelle", "socio@0 professionnel@1");
	/* A WHOLE never is a stop word, its stop parts stay stop words. */
	assert_tokens("au-delà", "audelà~audel@0/W au@0/PS delà~del@1/P");
	/* Accents and ligatures: the WHOLE has both keys. */
	assert_tokens("Île-de-France", "îledefr~iledefr@0/W île~ile@0/P "
		"de@1/PS franc@2/P");
	/* An elision before the first part belongs to the WHOLE too. */
	s = "l'arrière-pays";
	t = run(s, &n);
	assert_int_equal(n, 3);
	assert_true(t[0].flags & FURET_TOK_WHOLE);
	assert_range(s, &t[0], 2, "arrière-pays");
	assert_int_equal(t[0].elision_len, 2);
	assert_int_equal(t[1].elision_len, 2);
	assert_int_equal(t[2].elision_len, 0);
	/* Numbers join a letter word; numbers alone do not. */
	assert_tokens("covid-19", "covid19@0/W covid@0/P 19@1/PN");
	assert_tokens("2020-2021", "2020@0/N 2021@1/N");
	/* Names, acronyms and numbers with separators break the chain. */
	assert_tokens("Simplon.co-Paris", "simplon.co@0/W simplon@0/P co@1/P "
		"paris@2");
	/* Positions go on after a compound; two compounds in a row. */
	assert_tokens("e-mail et arc-en-ciel", "email@0/W e@0/P mail@1/P et@2/S "
		"arcenciel@3/W arc@3/P en@4/PS ciel@5/P");
}

static void test_inversions(void **state)
{
	const char *s = "Y a-t-elle pensé ?";
	size_t n;
	const furet_token *t;

	(void)state;
	/* The euphonic t takes neither a token nor a position. */
	t = run(s, &n);
	assert_int_equal(n, 4);
	assert_range(s, &t[1], 2, "a");
	assert_int_equal(t[1].pos, 1);
	assert_range(s, &t[2], 6, "elle");
	assert_int_equal(t[2].pos, 2);
	assert_int_equal(t[3].pos, 3);
	assert_tokens("a-t-elle", "a@0/PS elle@1/PS");
	assert_tokens("va-t-il", "va@0/P il@1/PS");
	assert_tokens("y a-t-il", "y@0/S a@1/PS il@2/PS");
	assert_tokens("A-t-on", "a@0/PS on@1/PS");
	assert_tokens("a\xe2\x80\x91t\xe2\x80\x91" "elle", "a@0/PS elle@1/PS");
	/* Inversions and imperatives: parts only. */
	assert_tokens("pensez-vous", "pens@0/P vous@1/PS");
	assert_tokens("dit-il", "dit@0/P il@1/PS");
	assert_tokens("donne-le-moi", "don@0/P le@1/PS moi@2/PS");
	assert_tokens("allez-y", "allez@0/P y@1/PS");
	assert_tokens("s'agit-il", "agit@0/P il@1/PS");
	assert_tokens("est-ce", "est@0/P ce@1/PS");
	assert_tokens("celui-ci", "celui@0/PS ci@1/P");
	assert_tokens("cette année-là", "cet@0/S anné~anne@1/P là~la@2/P");
	/* A t that is not before a subject pronoun stays. */
	assert_tokens("t-shirt", "tshirt@0/W t@0/PS shirt@1/P");
}

static void test_numbers(void **state)
{
	/* Four spellings of one number, with every kind of space. */
	const char *spellings[] = { "1 002 758,20", "1002758,20", "1.002.758,20",
		"1 002 758.20", "1\xc2\xa0" "002\xc2\xa0" "758,20",
		"1\xe2\x80\xaf" "002\xe2\x80\xaf" "758,20", "1,002,758.20" };
	const char *s;
	size_t i, n;
	const furet_token *t;

	(void)state;
	for (i = 0; i < sizeof spellings / sizeof *spellings; i++) {
		t = run(spellings[i], &n);
		assert_int_equal(n, 1);
		assert_string_equal(t[0].term, "1002758,20");
		assert_ptr_equal(t[0].fold, t[0].term);
		assert_int_equal(t[0].flags, FURET_TOK_NUMBER);
		assert_range(spellings[i], &t[0], 0, spellings[i]);
	}
	/* The merged number has one position and spans its groups. */
	s = "En 2015, 1 002 758,20 € et 12h30";
	t = run(s, &n);
	assert_int_equal(n, 5);
	assert_range(s, &t[2], 9, "1 002 758,20");
	assert_int_equal(t[2].pos, 2);
	assert_string_equal(t[2].word, "1 002 758,20");
	assert_string_equal(t[3].term, "et");
	assert_int_equal(t[3].pos, 3);
	assert_string_equal(t[4].term, "12h30");
	assert_false(t[4].flags & FURET_TOK_NUMBER);
	assert_int_equal(t[4].pos, 4);
	assert_tokens("92% 92 % 92\xc2\xa0%", "92@0/N 92@1/N 92@2/N");
	/* A 4-digit group never starts a run. */
	assert_tokens("en 2015 250 personnes", "en@0/S 2015@1/N 250@2/N person@3");
	assert_tokens("2015 250 000", "2015@0/N 250000@1/N");
	/* Exactly one space between groups of exactly three digits. */
	assert_tokens("1  002", "1@0/N 002@1/N");
	assert_tokens("1\t002", "1@0/N 002@1/N");
	assert_tokens("1 02 1 0002", "1@0/N 02@1/N 1@2/N 0002@3/N");
	assert_tokens("1 002,5 1 002.500", "1002,5@0/N 1002,500@1/N");
	/* A lone dot: thousands before exactly three digits, else decimal. */
	assert_tokens("1.002 3.5 10.000 1234.567", "1002@0/N 3,5@1/N 10000@2/N "
		"1234,567@3/N");
	assert_tokens("3,5 0,50 1.002,5", "3,5@0/N 0,50@1/N 1002,5@2/N");
	/* Not a French number: kept as written. */
	assert_tokens("1.2.3 1,2,3 1,5.3", "1.2.3@0/N 1,2,3@1/N 1,5.3@2/N");
	/* Years, laws, ordinals. */
	assert_tokens("loi 1901", "loi@0 1901@1/N");
	assert_tokens("1er 2e 1re 2ème XXe IIIe", "1er@0 2e@1 1re@2 "
		"2ème~2eme@3 xxe@4 iii@5");
}

static void test_acronyms(void **state)
{
	const char *forms[] = { "S.A.S.", "S.A.S", "s.a.s.", "S.a.S" };
	const char *s = "la S.A.S. Dupont";
	size_t i, n;
	const furet_token *t;

	(void)state;
	for (i = 0; i < sizeof forms / sizeof *forms; i++) {
		t = run(forms[i], &n);
		assert_int_equal(n, 1);
		assert_string_equal(t[0].term, "sas");
		assert_int_equal(t[0].flags, FURET_TOK_ACRONYM);
		assert_int_equal(t[0].start, 0);
		assert_int_equal(t[0].end, 5);
	}
	t = run(s, &n);
	assert_int_equal(n, 3);
	assert_range(s, &t[1], 3, "S.A.S");
	assert_int_equal(t[2].pos, 2);
	/* The same term as the word written without dots. */
	assert_term("SAS", "sas");
	/* Never a stop word, even when the letters make one. */
	assert_tokens("S.A.", "sa@0/A");
	assert_tokens("l'O.N.U.", "onu@0/A");
	assert_tokens("J.-P. Sartre", "j@0/S p@1 sartr@2");
	/* Letters must be single: these are names. */
	assert_tokens("M.Dupont", "m.dupont@0/W m@0/PS dupont@1/P");
}

static void test_names_and_urls(void **state)
{
	const char *s;
	size_t n;
	const furet_token *t;

	(void)state;
	s = "chez Simplon.co !";
	t = run(s, &n);
	assert_int_equal(n, 4);
	assert_string_equal(t[1].term, "simplon.co");
	assert_int_equal(t[1].flags, FURET_TOK_WHOLE);
	assert_int_equal(t[1].pos, 1);
	assert_range(s, &t[1], 5, "Simplon.co");
	assert_string_equal(t[2].term, "simplon");
	assert_int_equal(t[2].flags, FURET_TOK_PART);
	assert_int_equal(t[2].pos, 1);
	assert_range(s, &t[2], 5, "Simplon");
	assert_string_equal(t[3].term, "co");
	assert_int_equal(t[3].pos, 2);
	assert_range(s, &t[3], 13, "co");

	assert_tokens("contact@simplon.co", "contact@simplon.co@0/W contact@0/P "
		"simplon@1/P co@2/P");
	/* A URL: ICU's pieces joined up to the space, trailing punctuation out. */
	s = "voir (https://simplon.co/formations). Fin";
	t = run(s, &n);
	assert_int_equal(n, 7);
	assert_string_equal(t[1].term, "https://simplon.co/formations");
	assert_int_equal(t[1].flags, FURET_TOK_WHOLE);
	assert_range(s, &t[1], 6, "https://simplon.co/formations");
	assert_string_equal(t[2].term, "http");
	assert_range(s, &t[2], 6, "https");
	assert_string_equal(t[5].term, "format");
	assert_int_equal(t[5].pos, 4);
	assert_range(s, &t[5], 25, "formations");
	assert_string_equal(t[6].term, "fin");
	assert_int_equal(t[6].pos, 5);
	/* "www" is dropped, without a position; the WHOLE still covers it. */
	s = "www.pop.eu";
	t = run(s, &n);
	assert_int_equal(n, 3);
	assert_range(s, &t[0], 0, "www.pop.eu");
	assert_string_equal(t[1].term, "pop");
	assert_int_equal(t[1].pos, 0);
	assert_int_equal(t[2].pos, 1);
	assert_tokens("WWW.POP.EU/fr/", "www.pop.eu/fr@0/W pop@0/P eu@1/P "
		"fr@2/P");
	assert_tokens("Simplon.co/formations", "simplon.co/formations@0/W "
		"simplon@0/P co@1/P format@2/P");
	/* Not URLs. */
	assert_tokens("http:// et/ou web/mobile", "http@0 et@1/S ou@2/S web@3 "
		"mobil@4");
	/* The WHOLE is accent-free and not stemmed; parts are words. */
	assert_tokens("An@é An@étotal", "an@e@0/W an@0/P é~e@1/P "
		"an@etotal@2/W an@2/P étotal~etotal@3/P");
	assert_tokens("Université.fr", "universite.fr@0/W univers~universit@0/P "
		"fr@1/P");
	assert_tokens("foo_bar _foo", "foo_bar@0/W foo@0/P bar@1/P foo@2");
}

static void test_icu_words(void **state)
{
	const char *s;
	size_t n;
	const furet_token *t;

	(void)state;
	/* Supplementary characters: UTF-16 surrogate pairs must map back to the
	** right bytes. */
	s = "\xf0\x9f\x98\x80 école \xf0\x9d\x94\xb8" "bc";
	t = run(s, &n);
	assert_int_equal(n, 2);
	assert_slice(s, &t[0], "école");
	assert_int_equal(t[0].start, 5);
	assert_slice(s, &t[1], "\xf0\x9d\x94\xb8" "bc");
	assert_tokens("日本語 Москва", "日本語@0 москва@1");
}
static void test_invalid(void **state)
{
	const char *bad[] = { "\xff", "abc \xc3", "\xc3\x28", "\xed\xa0\x80",
		"\xc0\xaf", "\xf4\x90\x80\x80", "école \xe2\x80" };
	const furet_token *t;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		t = (const furet_token *)1;
		n = 99;
		assert_int_equal(furet_analyzer_run(an, bad[i], strlen(bad[i]),
			FURET_MODE_DOCUMENT, &t, &n), FURET_INVALID);
		assert_null(t);
		assert_int_equal(n, 0);
	}
	assert_int_equal(furet_analyzer_run(an, "a", 1, 7, &t, &n),
		FURET_INVALID);
	assert_int_equal(furet_analyzer_run(an, NULL, 3, FURET_MODE_QUERY, &t,
		&n), FURET_INVALID);
	/* A NUL byte is valid UTF-8 and simply not a word. */
	assert_int_equal(furet_analyzer_run(an, "un\0deux", 7, FURET_MODE_QUERY,
		&t, &n), FURET_OK);
	assert_int_equal(n, 2);
	assert_string_equal(t[1].term, "deux");
}

static void test_empty(void **state)
{
	const char *texts[] = { "", " ", " \t\n\r  \n", "… !? — « » , ; 😀" };
	const furet_token *t;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof *texts; i++) {
		n = 99;
		assert_int_equal(furet_analyzer_run(an, texts[i], strlen(texts[i]),
			FURET_MODE_DOCUMENT, &t, &n), FURET_OK);
		assert_int_equal(n, 0);
	}
	assert_int_equal(furet_analyzer_run(an, NULL, 0, FURET_MODE_QUERY, &t,
		&n), FURET_OK);
	assert_int_equal(n, 0);
}

static void test_long_word(void **state)
{
	char s[600];
	size_t n;
	const furet_token *t;

	(void)state;
	/* A 300-letter word cannot be a key: no token, but it keeps its place. */
	strcpy(s, "avant ");
	memset(s + 6, 'x', 300);
	strcpy(s + 306, " après");
	t = run(s, &n);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].term, "avant");
	assert_int_equal(t[0].pos, 0);
	assert_string_equal(t[1].term, "apres");
	assert_string_equal(t[1].fold, "apre");
	assert_int_equal(t[1].pos, 2);
	assert_slice(s, &t[1], "après");

	/* A long part of a compound keeps its position; there is no WHOLE. */
	memset(s, 'y', 300);
	strcpy(s + 300, "-école et");
	t = run(s, &n);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].term, "écol");
	assert_int_equal(t[0].flags, FURET_TOK_PART | FURET_TOK_ACCENTED);
	assert_int_equal(t[0].pos, 1);
	assert_int_equal(t[1].pos, 2);

	/* A URL longer than a key: no WHOLE, its parts stay. */
	strcpy(s, "https://x.fr/");
	memset(s + 13, 'z', 250);
	strcpy(s + 263, " fin");
	t = run(s, &n);
	assert_int_equal(n, 5);
	assert_string_equal(t[0].term, "http");
	assert_int_equal(t[0].flags, FURET_TOK_PART);
	assert_string_equal(t[1].term, "x");
	assert_string_equal(t[2].term, "fr");
	assert_int_equal(t[3].term_len, 250);
	assert_string_equal(t[4].term, "fin");
	assert_int_equal(t[4].pos, 4);
}

static void test_big_text(void **state)
{
	const char *sentence = "Le financement de l’école numérique à "
		"Valenciennes a été subventionné en 2015 par la Région. ";
	const char *terms[] = { "le", "financ", "de", "écol", "numer", "à",
		"valencien", "a", "été", "subvention", "en", "2015", "par", "la",
		"région" };
	size_t per = sizeof terms / sizeof *terms, slen = strlen(sentence);
	size_t reps = (1u << 20) / slen + 1, len = reps * slen, i, n;
	char *s = malloc(len + 1);
	const furet_token *t;
	int round;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < reps; i++)
		memcpy(s + i * slen, sentence, slen);
	s[len] = '\0';
	/* Twice: the second run reuses the grown buffers. */
	for (round = 0; round < 2; round++) {
		assert_int_equal(furet_analyzer_run(an, s, len, FURET_MODE_DOCUMENT,
			&t, &n), FURET_OK);
		assert_int_equal(n, reps * per);
		for (i = 0; i < n; i++) {
			assert_int_equal(t[i].pos, i);
			assert_true(t[i].end <= len);
			assert_true(i == 0 || t[i].start >= t[i - 1].end);
		}
		for (i = 0; i < n; i += n / 97 + 1)
			assert_string_equal(t[i].term, terms[i % per]);
		assert_string_equal(t[n - 1].term, "région");
		assert_string_equal(t[n - 1].fold, "region");
		assert_slice(s, &t[n - 1], "Région");
	}
	free(s);
}

static void test_reuse(void **state)
{
	size_t n1, n2;
	const furet_token *t;

	(void)state;
	run("Villeneuve-la-Garenne, formations quartiers", &n1);
	assert_int_equal(n1, 6);
	/* Nothing of the longer run shows through. */
	t = run("pêche", &n2);
	assert_int_equal(n2, 1);
	assert_string_equal(t[0].term, "pêch");
	assert_string_equal(t[0].fold, "pech");
	assert_int_equal(t[0].start, 0);
}

/* Each token's term_hash is furet_hash32 of its term, whether the word
** was stemmed, came from the cache (its second time), is a number or the
** whole of a compound or a name. */
static void test_term_hash(void **state)
{
	const char *s = "Les écoles de Villeneuve-la-Garenne : 1 234,50 euros, "
		"S.A.S. www.exemple.fr ; les écoles ÉCOLES";
	const furet_token *t;
	size_t n, i;

	(void)state;
	t = run(s, &n);
	assert_true(n > 10);
	for (i = 0; i < n; i++)
		assert_int_equal(t[i].term_hash,
			furet_hash32(t[i].term, t[i].term_len));
}

/* Once the buffers have grown, a run allocates nothing (through our hooks):
** every allocation would fail, and the run still succeeds. */
static void test_no_alloc_after_warm_up(void **state)
{
	const char *s = "L’École d’été de Villeneuve-la-Garenne a-t-elle "
		"1 002 758,20 € pour la S.A.S. https://simplon.co/formations, "
		"contact@simplon.co, cœur, ﬁnance, 日本語 et 1.002.758,20 ?";
	const furet_token *t;
	size_t n, n0;

	(void)state;
	t = run(s, &n0);
	assert_true(n0 > 20);
	furet_alloc_fail_after(1);
	assert_int_equal(furet_analyzer_run(an, s, strlen(s), FURET_MODE_DOCUMENT,
		&t, &n), FURET_OK);
	assert_int_equal(furet_alloc_fail_after(0), 0);
	assert_int_equal(n, n0);
	check_invariants(s, strlen(s), t, n);
}

/* Documents and queries go through the same chain. */
static void test_query_mode(void **state)
{
	const char *s = "Villeneuve-la-Garenne a-t-elle 1 002 758,20 € S.A.S. "
		"www.pop.eu l’école";
	char doc[1024], query[1024];
	const furet_token *t;
	size_t n;

	(void)state;
	t = run(s, &n);
	render(t, n, doc, sizeof doc);
	assert_int_equal(furet_analyzer_run(an, s, strlen(s), FURET_MODE_QUERY,
		&t, &n), FURET_OK);
	render(t, n, query, sizeof query);
	assert_string_equal(doc, query);
}

/* The Latin fast path of furet_analyzer_is_part_char answers as ICU's
** general categories do, for every code point it handles without ICU
** (and a few beyond). */
static void test_part_char_fast_path(void **state)
{
	UChar32 c;
	(void)state;

	for (c = 0; c < 0x300; c++) {
		int icu = c == 0x27 || (U_GET_GC_MASK(c) & (U_GC_L_MASK |
			U_GC_N_MASK | U_GC_M_MASK | U_GC_CF_MASK)) != 0;
		if (!furet_analyzer_is_part_char(c) != !icu)
			fail_msg("U+%04X: fast path says %d, ICU %d", (unsigned)c,
				furet_analyzer_is_part_char(c), icu);
	}
}

/* What the fast path says of a word's characters (furet_word.chars) is
** what they are. */
static void check_chars(const furet_tokenizer *tk, const furet_word *w)
{
	const UChar *u = furet_tokenizer_utf16(tk);
	int32_t i;
	int n_digits = 0, n_part = 0, n_dots = 0, n_quotes = 0;

	for (i = w->u_start; i < w->u_end; i++) {
		n_digits += u[i] >= '0' && u[i] <= '9';
		n_quotes += u[i] == 0x27;
		n_part += furet_analyzer_is_part_char(u[i]) != 0;
		n_dots += u[i] == '.' || u[i] == ',' || u[i] == ';';
	}
	i = w->u_end - w->u_start;
	switch (w->chars) {
	case FURET_CHARS_ANY:
		break;
	case FURET_CHARS_DIGITS:
		assert_int_equal(n_digits, i);
		break;
	case FURET_CHARS_WORD:
		assert_int_equal(n_part, i);
		assert_true(n_digits < i);
		assert_true(n_quotes > 0);
		break;
	case FURET_CHARS_PLAIN:
		assert_int_equal(n_part, i);
		assert_true(n_digits < i);
		assert_int_equal(n_quotes, 0);
		break;
	case FURET_CHARS_DOTTED:
		assert_true(n_dots > 0);
		assert_int_equal(n_part + n_dots, i);
		break;
	default:
		fail_msg("chars %d", w->chars);
	}
}

/* tk and icu (ICU only) cut text into the same words. */
static void same_words(furet_tokenizer *tk, furet_tokenizer *icu,
	const char *text, size_t len)
{
	const furet_word *a, *b;
	size_t na, nb, i;

	assert_int_equal(furet_tokenizer_run(tk, text, len, &a, &na), FURET_OK);
	for (i = 0; i < na; i++)
		check_chars(tk, &a[i]);
	assert_int_equal(furet_tokenizer_run(icu, text, len, &b, &nb), FURET_OK);
	for (i = 0; i < na && i < nb; i++)
		if (a[i].start != b[i].start || a[i].end != b[i].end ||
			a[i].u_start != b[i].u_start || a[i].u_end != b[i].u_end ||
			a[i].kind != b[i].kind)
			break;
	if (i < na || i < nb)
		fail_msg("\"%.*s\": word %zu differs: fast path [%zu, %zu) kind %d "
			"of %zu words, ICU [%zu, %zu) kind %d of %zu", (int)len, text, i,
			i < na ? a[i].start : 0, i < na ? a[i].end : 0,
			i < na ? a[i].kind : -1, na, i < nb ? b[i].start : 0,
			i < nb ? b[i].end : 0, i < nb ? b[i].kind : -1, nb);
}

/* The fast path for Latin text (tokenizer.c) finds ICU's words: on random
** strings over letters, digits and every separator its rules treat apart
** (and some that send the text to ICU), then on real French text when
** ../shared/data is there. */
static void test_tokenizer_fast_path(void **state)
{
	static const char *const alphabet[] = {
		"a", "Z", "\xc3\xa9", "\xc5\x93", "\xc3\x80", "x", "0", "7", "'",
		"\xe2\x80\x99", "`", ".", ",", ";", ":", " ", "-", "\xc2\xab",
		"\xc2\xbb", "\xe2\x82\xac", "\xe2\x80\xa6", "\n", "\xe2\x80\x93",
		"\xc2\xa0", "\xe2\x80\xaf", "\xc3\x97", "!", "/", "%", "\"", "#",
		"$", "&", "(", ")", "*", "+", "<", "=", ">", "?", "[", "\\", "]",
		"^", "{", "|", "}", "~", "\t", "\xc2\xb0", "\xc2\xa7",
		/* these send the text to ICU: */
		"@", "_", "\xc2\xb7", "\xc2\xaa", "\xc2\xb2", "\xcc\x81", "\xce\xa9",
		"\xf0\x9f\x98\x80", "\xc2\xad",
	};
	furet_tokenizer *tk, *icu;
	char text[256];
	unsigned seed = 12345, r, k, n_fast = 0;
	const char *data = tu_shared_data();
	(void)state;

	assert_int_equal(furet_tokenizer_open(&tk), FURET_OK);
	assert_int_equal(furet_tokenizer_open(&icu), FURET_OK);
	furet_tokenizer_set_icu_only(icu, 1);
	for (r = 0; r < 40000; r++) {
		size_t len = 0;
		unsigned n = 1 + (seed = seed * 1103515245 + 12345) % 12;
		/* Mostly the fast alphabet, so most strings take the fast path. */
		unsigned span = r % 4 ? 52 : (unsigned)(sizeof alphabet / sizeof *alphabet);
		for (k = 0; k < n; k++) {
			const char *c = alphabet[((seed = seed * 1103515245 + 12345) >> 8)
				% span];
			memcpy(text + len, c, strlen(c));
			len += strlen(c);
		}
		same_words(tk, icu, text, len);
		n_fast += (unsigned)furet_tokenizer_was_fast(tk);
	}
	assert_true(n_fast > 20000); /* the fast path did run */
	assert_false(furet_tokenizer_was_fast(icu));
	if (data) {
		char path[4200];
		FILE *f;
		char *line = NULL;
		size_t cap = 0, n_lines = 0, n_fast_lines = 0;
		ssize_t got;

		snprintf(path, sizeof path, "%s/eval/piaf/passages.jsonl", data);
		f = fopen(path, "r");
		assert_non_null(f);
		while ((got = getline(&line, &cap, f)) > 0) {
			same_words(tk, icu, line, (size_t)got);
			n_lines++;
			n_fast_lines += (size_t)furet_tokenizer_was_fast(tk);
		}
		free(line);
		fclose(f);
		print_message("fast path: %zu of %zu PIAF passages\n", n_fast_lines,
			n_lines);
		assert_true(n_lines > 1000);
	} else {
		print_message("SKIP real text: no ../shared/data (set FURET_DATA)\n");
	}
	furet_tokenizer_close(tk);
	furet_tokenizer_close(icu);
}

/* Decodes the input column of a golden line: \uXXXX (BMP) and \t. */
static size_t unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	while (*s && n + 4 < cap) {
		unsigned long cp;
		char hex[5];

		if (s[0] == '\\' && s[1] == 't') {
			out[n++] = '\t';
			s += 2;
			continue;
		}
		if (s[0] != '\\' || s[1] != 'u') {
			out[n++] = *s++;
			continue;
		}
		memcpy(hex, s + 2, 4);
		hex[4] = '\0';
		cp = strtoul(hex, NULL, 16);
		assert_true(cp > 0 && cp < 0x10000);
		s += 6;
		if (cp < 0x80) {
			out[n++] = (char)cp;
		} else if (cp < 0x800) {
			out[n++] = (char)(0xc0 | cp >> 6);
			out[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[n++] = (char)(0xe0 | cp >> 12);
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			out[n++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	out[n] = '\0';
	return n;
}

static void test_golden(void **state)
{
	size_t len, n_lines = 0, n_bad = 0;
	char *data = tu_read("tests/golden/analyzer.tsv", &len);
	char *line, *next;

	(void)state;
	assert_non_null(data);
	for (line = data; *line; line = next) {
		char *tab, *eol = strchr(line, '\n');
		char in[4096], got[16384];
		const furet_token *t;
		size_t n, in_len;

		next = eol ? eol + 1 : line + strlen(line);
		if (eol)
			*eol = '\0';
		if (!*line || *line == '#')
			continue;
		tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab = '\0';
		in_len = unescape(line, in, sizeof in);
		assert_int_equal(furet_analyzer_run(an, in, in_len,
			FURET_MODE_DOCUMENT, &t, &n), FURET_OK);
		check_invariants(in, in_len, t, n);
		render(t, n, got, sizeof got);
		if (strcmp(got, tab + 1)) {
			print_error("golden: %s\n  got:      %s\n  expected: %s\n",
				line, got, tab + 1);
			n_bad++;
		}
		n_lines++;
	}
	free(data);
	if (n_bad)
		fail_msg("%zu of %zu golden lines differ", n_bad, n_lines);
	assert_true(n_lines >= 300);
}

/* Words of Latin letters are normalised without ICU (latin_fold in
** analyzer.c): the same word as ICU's NFKC_Casefold gives, for every letter
** up to U+017F, between an upper and a lower case ASCII letter. */
static void test_latin_fold(void **state)
{
	const UNormalizer2 *nf;
	UErrorCode err = U_ZERO_ERROR;
	UChar32 c;
	(void)state;

	nf = unorm2_getNFKCCasefoldInstance(&err);
	assert_false(U_FAILURE(err));
	for (c = 0x80; c < 0x180; c++) {
		UChar u[4], v[64];
		char text[16], want[192];
		int32_t m, m8;
		size_t n;
		const furet_token *t;

		if (!(U_GET_GC_MASK(c) & U_GC_L_MASK))
			continue;
		u[0] = 'A';
		u[1] = (UChar)c;
		u[2] = 'b';
		err = U_ZERO_ERROR;
		u_strToUTF8(text, sizeof text, &m8, u, 3, &err);
		assert_false(U_FAILURE(err));
		m = unorm2_normalize(nf, u, 3, v, 64, &err);
		u_strToUTF8(want, sizeof want, &m8, v, m, &err);
		assert_false(U_FAILURE(err));
		t = run(text, &n);
		assert_true(n >= 1);
		if (strcmp(t[0].word, want))
			fail_msg("U+%04X: word \"%s\", ICU \"%s\"", (unsigned)c,
				t[0].word, want);
	}
}

static void test_signature(void **state)
{
	const char *sig = furet_analyzer_signature();

	(void)state;
	assert_non_null(sig);
	assert_true(strlen(sig) < 100);
	assert_non_null(strstr(sig, "icu/" U_ICU_VERSION " "));
	assert_memory_equal(sig, "furet-fr/2 ", 11);
	assert_non_null(strstr(sig, " stop/2"));
	assert_ptr_equal(sig, furet_analyzer_signature());
}

static void test_tokenizer(void **state)
{
	furet_tokenizer *tk;
	const furet_word *w;
	size_t n;
	/* Hostile bytes handed straight to the tokenizer: decoded as U+FFFD,
	** never read past the end. */
	const char bad[] = "\xff\xfe" "ab\xe2\x80 cd\xf0\x9f";

	(void)state;
	assert_int_equal(furet_tokenizer_open(&tk), FURET_OK);
	assert_int_equal(furet_tokenizer_run(tk, bad, sizeof bad - 1, &w, &n),
		FURET_OK);
	assert_int_equal(n, 2);
	assert_int_equal(w[0].start, 2);
	assert_int_equal(w[0].end, 4);
	assert_int_equal(w[0].kind, FURET_WORD_LETTER);
	assert_int_equal(w[1].start, 7);
	assert_int_equal(w[1].end, 9);
	assert_int_equal(furet_tokenizer_offsets(tk)[w[1].u_end], 9);

	assert_int_equal(furet_tokenizer_run(tk, "1 002 日本語",
		strlen("1 002 日本語"), &w, &n), FURET_OK);
	assert_int_equal(n, 3);
	assert_int_equal(w[0].kind, FURET_WORD_NUMBER);
	assert_int_equal(w[1].kind, FURET_WORD_NUMBER);
	assert_int_equal(w[2].kind, FURET_WORD_CJK);
	assert_int_equal(w[2].start, 6);
	assert_int_equal(w[2].end, 15);

	/* Apostrophe variants reach ICU as U+0027, same length: one word, and
	** the UTF-8 text maps back exactly. */
	assert_int_equal(furet_tokenizer_run(tk, "l\xe2\x80\xb2\xc3\xa9t\xc3\xa9 "
		"l`a", strlen("l\xe2\x80\xb2\xc3\xa9t\xc3\xa9 l`a"), &w, &n),
		FURET_OK);
	assert_int_equal(n, 2);
	assert_int_equal(w[0].start, 0);
	assert_int_equal(w[0].end, 9);
	assert_int_equal(w[0].u_end - w[0].u_start, 5);
	assert_int_equal(furet_tokenizer_utf16(tk)[1], 0x27);
	assert_int_equal(w[1].start, 10);
	assert_int_equal(w[1].end, 13);
	assert_int_equal(furet_tokenizer_utf16(tk)[7], 0x27);
	assert_int_equal(furet_tokenizer_length(tk), 9);
	/* NBSP and narrow NBSP reach it as spaces. */
	assert_int_equal(furet_tokenizer_run(tk, "1\xe2\x80\xaf" "002\xc2\xa0" "3",
		strlen("1\xe2\x80\xaf" "002\xc2\xa0" "3"), &w, &n), FURET_OK);
	assert_int_equal(n, 3);
	assert_int_equal(w[1].start, 4);
	assert_int_equal(furet_tokenizer_utf16(tk)[1], 0x20);
	assert_int_equal(furet_tokenizer_utf16(tk)[5], 0x20);
	furet_tokenizer_close(tk);
	furet_tokenizer_close(NULL);
}

/* Every allocation of open and run fails in turn: each must give FURET_NOMEM
** (or succeed), never crash or leak (valgrind and ASan check the leaks). */
static void test_nomem(void **state)
{
	const char *s = "Le financement de l’école numérique à Valenciennes, "
		"cœur d'aujourd'hui, 2015, Villeneuve-la-Garenne, 1 002 758,20 €, "
		"S.A.S., https://simplon.co/formations.";
	size_t k, n, n_ref;
	int ok = 0;

	(void)state;
	run(s, &n_ref);
	assert_int_equal(n_ref, 21);
	for (k = 1; k < 1000 && !ok; k++) {
		furet_analyzer *a = NULL;
		const furet_token *t;
		furet_rc rc;

		furet_alloc_fail_after(k);
		rc = furet_analyzer_open(&a);
		if (rc == FURET_OK) {
			rc = furet_analyzer_run(a, s, strlen(s), FURET_MODE_DOCUMENT,
				&t, &n);
			if (rc == FURET_OK) {
				ok = 1;
				assert_int_equal(n, n_ref);
			}
		} else {
			assert_null(a);
		}
		assert_true(rc == FURET_OK || rc == FURET_NOMEM);
		furet_analyzer_close(a);
	}
	furet_alloc_fail_after(0);
	assert_true(ok);
	assert_true(k > 8); /* failures were really injected, at several points */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apostrophes),
		cmocka_unit_test(test_elision),
		cmocka_unit_test(test_inner_apostrophe),
		cmocka_unit_test(test_lone_elision),
		cmocka_unit_test(test_normalisation),
		cmocka_unit_test(test_fold_keys),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_positions_and_stop),
		cmocka_unit_test(test_compounds),
		cmocka_unit_test(test_inversions),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_acronyms),
		cmocka_unit_test(test_names_and_urls),
		cmocka_unit_test(test_icu_words),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_long_word),
		cmocka_unit_test(test_big_text),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_term_hash),
		cmocka_unit_test(test_no_alloc_after_warm_up),
		cmocka_unit_test(test_query_mode),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_part_char_fast_path),
		cmocka_unit_test(test_latin_fold),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_tokenizer),
		cmocka_unit_test(test_tokenizer_fast_path),
		cmocka_unit_test(test_nomem),
	};
	int failed = cmocka_run_group_tests_name("analyzer", tests, setup,
		teardown);

	u_cleanup();
	return failed ? 1 : 0;
}
