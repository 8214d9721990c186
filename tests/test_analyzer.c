/*
** test_analyzer.c — the French analysis chain and the ICU tokenizer under it.
**
** Exact expectations: which term a word becomes, the byte range each token
** covers in the original text (highlights depend on it), positions, the stop
** flag, and the error codes for bad input. tests/golden/analyzer.tsv pins the
** term of about fifty single words (word<TAB>term); it changes only when the
** chain changes on purpose, together with furet_analyzer_signature().
** Allocation failures are injected with furet_alloc_fail_after.
*/
#include "testutil.h"

#include <unicode/uclean.h>
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

static void test_elision(void **state)
{
	const char *texts[] = { "l'école", "l\xe2\x80\x99école", "L'ÉCOLE",
		"L\xe2\x80\x99École" };
	size_t starts[] = { 2, 4, 2, 4 };
	size_t i, n;
	const furet_token *t;

	(void)state;
	assert_term("école", "ecol");
	for (i = 0; i < sizeof texts / sizeof *texts; i++) {
		t = run(texts[i], &n);
		assert_int_equal(n, 1);
		assert_string_equal(t[0].term, "ecol");
		assert_int_equal(t[0].start, starts[i]);
		assert_int_equal(t[0].end, strlen(texts[i]));
		assert_int_equal(t[0].pos, 0);
	}

	t = run("qu'il jusqu'à lorsqu\xe2\x80\x99on puisqu'elle quoiqu'on "
		"c'est d'un j'ai m'a n'est s'il t'a", &n);
	assert_int_equal(n, 12);
	assert_string_equal(t[0].term, "il");
	assert_int_equal(t[0].start, 3);
	assert_string_equal(t[1].term, "a");
	assert_int_equal(t[1].start, 6 + 6);
	assert_string_equal(t[2].term, "on");
	assert_int_equal(t[2].start, 15 + 9);
	assert_string_equal(t[3].term, "elle");
	assert_string_equal(t[4].term, "on");
	assert_string_equal(t[5].term, "est");
	assert_string_equal(t[6].term, "un");
	assert_string_equal(t[7].term, "ai");
	assert_string_equal(t[8].term, "a");
	assert_string_equal(t[9].term, "est");
	assert_string_equal(t[10].term, "il");
	assert_string_equal(t[11].term, "a");
	for (i = 0; i < n; i++)
		assert_int_equal(t[i].pos, i);
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
	assert_term("d\xe2\x80\x99" "aujourd\xe2\x80\x99hui", "aujourd'hui");
	/* Prefixes that look like elisions but are not in the list. */
	assert_term("prud'homme", "prud'homm");
	assert_term("presqu'île", "presqu'il");
	assert_term("quelqu'un", "quelqu'un");
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
	assert_string_equal(t[1].term, "ecol");
	assert_int_equal(t[1].pos, 1);
}

static void test_case_and_accents(void **state)
{
	const char *forms[] = { "École", "ÉCOLE", "ecole", "école", "Ecole",
		"e\xcc\x81\x63ole" /* decomposed é */ };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof forms / sizeof *forms; i++)
		assert_term(forms[i], "ecol");
	assert_term("cœur", "coeur");
	assert_term("coeur", "coeur");
	assert_term("CŒUR", "coeur");
	assert_term("Lætitia", "laetiti");
	assert_term("Straße", "strass");
	assert_term("naïf", "naif");
}

static void test_offsets(void **state)
{
	const char *s = "Élève à l\xe2\x80\x99école d\xe2\x80\x99été.";
	const char *words[] = { "Élève", "à", "école", "été" };
	const char *terms[] = { "elev", "a", "ecol", "ete" };
	size_t starts[] = { 0, 8, 15, 26 };
	size_t i, n;
	const furet_token *t;

	(void)state;
	t = run(s, &n);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_slice(s, &t[i], words[i]);
		assert_int_equal(t[i].start, starts[i]);
		assert_string_equal(t[i].term, terms[i]);
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
	/* Both ends of the sorted list, and its accented tail. */
	t = run("a y à ça étaient êtes ou où", &n);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++)
		assert_true(t[i].flags & FURET_TOK_STOP);
	t = run("c or vers sommes même", &n);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++)
		assert_false(t[i].flags & FURET_TOK_STOP);
}

static void test_numbers(void **state)
{
	const char *s = "En 1901 puis 2015, 1 002 758,20 € et 12h30";
	const char *terms[] = { "en", "1901", "puis", "2015", "1", "002",
		"758,20", "et", "12h30" };
	size_t i, n;
	const furet_token *t;

	(void)state;
	t = run(s, &n);
	assert_int_equal(n, sizeof terms / sizeof *terms);
	for (i = 0; i < n; i++) {
		assert_string_equal(t[i].term, terms[i]);
		assert_int_equal(t[i].pos, i);
	}
	assert_slice(s, &t[6], "758,20");
}

static void test_icu_words(void **state)
{
	const char *s = "Villeneuve-la-Garenne, Simplon.co et An@é";
	const char *terms[] = { "villeneuv", "la", "garen", "simplon.co", "et",
		"an@e" };
	size_t i, n;
	const furet_token *t;

	(void)state;
	t = run(s, &n);
	assert_int_equal(n, sizeof terms / sizeof *terms);
	for (i = 0; i < n; i++)
		assert_string_equal(t[i].term, terms[i]);
	assert_slice(s, &t[5], "An@é");
	/* Supplementary characters: UTF-16 surrogate pairs must map back to the
	** right bytes. */
	s = "\xf0\x9f\x98\x80 école \xf0\x9d\x94\xb8" "bc";
	t = run(s, &n);
	assert_int_equal(n, 2);
	assert_slice(s, &t[0], "école");
	assert_int_equal(t[0].start, 5);
	assert_slice(s, &t[1], "\xf0\x9d\x94\xb8" "bc");
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
	assert_int_equal(t[1].pos, 2);
	assert_slice(s, &t[1], "après");
}

static void test_big_text(void **state)
{
	const char *sentence = "Le financement de l’école numérique à "
		"Valenciennes a été subventionné en 2015 par la Région. ";
	const char *terms[] = { "le", "financ", "de", "ecol", "numer", "a",
		"valencien", "a", "ete", "subvention", "en", "2015", "par", "la",
		"region" };
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
		assert_string_equal(t[n - 1].term, "region");
		assert_slice(s, &t[n - 1], "Région");
	}
	free(s);
}

static void test_reuse(void **state)
{
	size_t n1, n2;
	const furet_token *t;

	(void)state;
	t = run("formations quartiers", &n1);
	assert_int_equal(n1, 2);
	t = run("pêche", &n2);
	assert_int_equal(n2, 1);
	assert_string_equal(t[0].term, "pech");
	assert_int_equal(t[0].start, 0);
}

static void test_golden(void **state)
{
	size_t len, n_lines = 0;
	char *data = tu_read("tests/golden/analyzer.tsv", &len);
	char *line, *next;

	(void)state;
	assert_non_null(data);
	for (line = data; *line; line = next) {
		char *tab, *eol = strchr(line, '\n');
		char got[300];

		next = eol ? eol + 1 : line + strlen(line);
		if (eol)
			*eol = '\0';
		if (!*line)
			continue;
		tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab = '\0';
		term_of(line, got, sizeof got);
		if (strcmp(got, tab + 1))
			fail_msg("golden: %s -> %s, expected %s", line, got, tab + 1);
		n_lines++;
	}
	assert_true(n_lines >= 40);
	free(data);
}

static void test_signature(void **state)
{
	const char *sig = furet_analyzer_signature();

	(void)state;
	assert_non_null(sig);
	assert_true(strlen(sig) < 100);
	assert_non_null(strstr(sig, "icu/" U_ICU_VERSION " "));
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
	assert_int_equal(furet_tokenizer_offset(tk, w[1].u_end), 9);

	assert_int_equal(furet_tokenizer_run(tk, "1 002 日本語",
		strlen("1 002 日本語"), &w, &n), FURET_OK);
	assert_int_equal(n, 3);
	assert_int_equal(w[0].kind, FURET_WORD_NUMBER);
	assert_int_equal(w[1].kind, FURET_WORD_NUMBER);
	assert_int_equal(w[2].kind, FURET_WORD_CJK);
	assert_int_equal(w[2].start, 6);
	assert_int_equal(w[2].end, 15);
	furet_tokenizer_close(tk);
	furet_tokenizer_close(NULL);
}

/* Every allocation of open and run fails in turn: each must give FURET_NOMEM
** (or succeed), never crash or leak (valgrind and ASan check the leaks). */
static void test_nomem(void **state)
{
	const char *s = "Le financement de l’école numérique à Valenciennes, "
		"cœur d'aujourd'hui, 2015.";
	size_t k, n;
	int ok = 0;

	(void)state;
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
				assert_int_equal(n, 10);
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
		cmocka_unit_test(test_elision),
		cmocka_unit_test(test_inner_apostrophe),
		cmocka_unit_test(test_lone_elision),
		cmocka_unit_test(test_case_and_accents),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_positions_and_stop),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_icu_words),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_long_word),
		cmocka_unit_test(test_big_text),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_tokenizer),
		cmocka_unit_test(test_nomem),
	};
	int failed = cmocka_run_group_tests_name("analyzer", tests, setup,
		teardown);

	u_cleanup();
	return failed ? 1 : 0;
}
