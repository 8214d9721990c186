/*
** test_build.c — queries built with furet_query_* (furet.h): each built
** query is written out as the query string it stands for, parses into the
** tree that string gives, and finds the same hits with the same scores,
** order, explanations and suggestion as furet_search on that string
** (words, names, interrogatives, typos, phrase, prefix, NEAR, fields, AND,
** OR, NOT, + and -); texts full of syntax are taken literally; empty texts,
** bad arguments, depth and size limits; ownership when memory runs out.
*/
#include "testutil.h"

#include "furet.h"
#include "qbuild.h"
#include "query.h"
#include "util.h"

static furet_index *ix;
static char *dir;

static void add(furet_writer *w, const char *id, const char *title,
	const char *text)
{
	furet_doc d = tu_doc(id, title, text);

	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
}

/* The seed article (sections, names, numbers) and two titled documents. */
static int setup(void **state)
{
	furet_writer *w = NULL;
	size_t len;
	char *text = tu_read("corpus/fabriques-du-numerique.txt", &len);
	(void)state;

	if (!text)
		return -1;
	dir = tu_mkdtemp();
	if (furet_index_open(dir, FURET_OPEN_CREATE, &ix) ||
		furet_writer_begin(ix, FURET_WRITE_REBUILD, &w))
		return -1;
	add(w, "article", "Les fabriques du numérique", text);
	add(w, "t1", "Formation au numérique en région",
		"Une formation pour les jeunes des quartiers.");
	add(w, "t2", "Quartiers populaires",
		"Les demandeurs d'emploi et la formation continue.");
	free(text);
	return furet_writer_commit(w) == FURET_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
	return 0;
}

static furet_search_options opts(void)
{
	furet_search_options o;

	furet_search_options_init(&o);
	o.limit = 100;
	o.flags = FURET_SEARCH_EXPLAIN;
	return o;
}

static void same_results(furet_results *a, furet_results *b)
{
	size_t i, k;
	const char *sa = furet_results_suggestion(a),
		*sb = furet_results_suggestion(b);

	assert_int_equal(furet_results_count(a), furet_results_count(b));
	assert_int_equal(furet_results_matched(a), furet_results_matched(b));
	assert_true((sa == NULL) == (sb == NULL));
	if (sa)
		assert_string_equal(sa, sb);
	for (i = 0; i < furet_results_count(a); i++) {
		furet_hit x, y;
		assert_int_equal(furet_results_get(a, i, &x), FURET_OK);
		assert_int_equal(furet_results_get(b, i, &y), FURET_OK);
		assert_string_equal(x.doc, y.doc);
		assert_int_equal(x.passage, y.passage);
		/* Not close: the same, bit for bit. */
		assert_true(x.score == y.score);
		assert_int_equal(x.n_highlights, y.n_highlights);
		assert_int_equal(x.n_explain, y.n_explain);
		for (k = 0; k < x.n_explain; k++) {
			assert_string_equal(x.explain[k].word, y.explain[k].word);
			assert_string_equal(x.explain[k].term, y.explain[k].term);
			assert_string_equal(x.explain[k].how, y.explain[k].how);
			assert_string_equal(x.explain[k].field, y.explain[k].field);
			assert_true(x.explain[k].score == y.explain[k].score);
		}
	}
}

/* The built query's tree, formatted; its text in text (caller frees). */
static char *built_tree(const furet_query *q, char **text)
{
	furet_buf b;
	furet_qtree *qt = NULL;
	char *out = malloc(8192);

	furet_buf_init(&b);
	assert_int_equal(furet_qbuild_tree(q, &b, &qt), FURET_OK);
	furet_qtree_format(qt, (const char *)b.data, out, 8192);
	*text = strndup(b.len ? (const char *)b.data : "", b.len);
	furet_qtree_free(qt);
	furet_buf_free(&b);
	return out;
}

static char *parsed_tree(const char *s)
{
	furet_qtree *qt = NULL;
	char *out = malloc(8192);

	assert_int_equal(furet_qtree_parse(s, strlen(s), &qt), FURET_OK);
	furet_qtree_format(qt, s, out, 8192);
	furet_qtree_free(qt);
	return out;
}

/* q (taken over) is written out as s, parses as s does, and searches as s
** does; at least min_hits hits. Returns the number of hits. */
static size_t expect_same(furet_query *q, const char *s, size_t min_hits)
{
	furet_search_options o = opts();
	furet_results *a = NULL, *b = NULL;
	char *text, *bt, *pt;
	size_t n;

	assert_non_null(q);
	bt = built_tree(q, &text);
	pt = parsed_tree(s);
	if (strcmp(text, s) != 0 || strcmp(bt, pt) != 0)
		print_error("built [%s] %s\nstring [%s] %s\n", text, bt, s, pt);
	assert_string_equal(text, s);
	assert_string_equal(bt, pt);
	assert_int_equal(furet_search_query(ix, q, &o, &a), FURET_OK);
	assert_int_equal(furet_search(ix, s, strlen(s), &o, &b), FURET_OK);
	same_results(a, b);
	n = furet_results_count(a);
	if (n < min_hits)
		print_error("[%s]: %zu hits, expected %zu or more\n", s, n, min_hits);
	assert_true(n >= min_hits);
	furet_results_free(a);
	furet_results_free(b);
	furet_query_free(q);
	free(text);
	free(bt);
	free(pt);
	return n;
}

static furet_query *W(const char *s)
{
	return furet_query_words(s, strlen(s));
}

static furet_query *P(const char *s)
{
	return furet_query_phrase(s, strlen(s));
}

static furet_query *X(const char *s)
{
	return furet_query_prefix(s, strlen(s));
}

/* The matched count of a built query (taken over) and of a string. */
static uint64_t matched_q(furet_query *q)
{
	furet_search_options o = opts();
	furet_results *r = NULL;
	uint64_t n;

	assert_non_null(q);
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_OK);
	n = furet_results_matched(r);
	furet_results_free(r);
	furet_query_free(q);
	return n;
}

static uint64_t matched_s(const char *s)
{
	furet_search_options o = opts();
	furet_results *r = NULL;
	uint64_t n;

	assert_int_equal(furet_search(ix, s, strlen(s), &o, &r), FURET_OK);
	n = furet_results_matched(r);
	furet_results_free(r);
	return n;
}

static void test_words(void **state)
{
	furet_results *r = NULL;
	furet_search_options o = opts();
	(void)state;

	/* Names, an interrogative, a stop word, punctuation. */
	expect_same(W("Qui finance POP School ?"), "Qui finance POP School ?", 3);
	/* Spaces inside are kept as typed, the ends trimmed. */
	expect_same(W("  Valenciennes \t Métropole  "),
		"Valenciennes \t Métropole", 2);
	expect_same(W("Dans quel pays"), "Dans quel pays", 0);
	expect_same(W("l’économie sociale et solidaire"),
		"l’économie sociale et solidaire", 1);
	expect_same(W("92%"), "92%", 1);

	/* A misspelt word: the same suggestion. */
	expect_same(W("formaton numérique"), "formaton numérique", 10);
	{
		furet_query *q = W("formaton numérique");
		assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_OK);
		assert_string_equal(furet_results_suggestion(r),
			"formation numérique");
		furet_results_free(r);
		furet_query_free(q);
	}
}

static void test_phrase_prefix_near(void **state)
{
	(void)state;

	expect_same(P("écoles du web"), "\"écoles du web\"", 1);
	expect_same(P("POP School"), "\"POP School\"", 3);
	expect_same(X("numéri"), "numéri*", 10);
	/* Words, then a prefix: a search box while someone types. */
	expect_same(X("Qui fina"), "Qui fina*", 1);
	/* A prefix of one character is the word. */
	expect_same(X("à"), "à*", 0);
	expect_same(furet_query_near(W("POP"), W("Valenciennes"), 5),
		"POP NEAR/5 Valenciennes", 1);
	expect_same(furet_query_near(P("POP School"), X("Valenc"), 20),
		"\"POP School\" NEAR/20 Valenc*", 1);
	/* NEAR of more than a word is AND, as in a string. */
	expect_same(furet_query_near(W("POP School"), W("numérique"), 3),
		"(POP School) NEAR/3 numérique", 1);
	expect_same(furet_query_near(W("jeunes"), W("quartiers"), 5000),
		"jeunes NEAR/5000 quartiers", 1);
}

static void test_fields(void **state)
{
	(void)state;

	expect_same(furet_query_field(W("numérique"), FURET_QF_TITLE),
		"title:numérique", 2);
	expect_same(furet_query_field(W("POP"), FURET_QF_SECTION),
		"section:POP", 1);
	expect_same(furet_query_field(W("quartiers formation"),
		FURET_QF_TITLE), "title:(quartiers formation)", 2);
	expect_same(furet_query_field(P("fabriques du"), FURET_QF_TITLE),
		"title:\"fabriques du\"", 1);
	expect_same(furet_query_field(X("numéri"), FURET_QF_TITLE),
		"title:numéri*", 2);
	/* The field given first wins. */
	expect_same(furet_query_field(furet_query_or(W("formation"),
		furet_query_field(W("POP"), FURET_QF_SECTION)), FURET_QF_TITLE),
		"title:(formation section:POP)", 2);
	expect_same(furet_query_field(furet_query_field(W("POP"),
		FURET_QF_SECTION), FURET_QF_TITLE), "section:POP", 1);
	expect_same(furet_query_field(W("POP"), FURET_QF_ANY), "POP", 1);
}

static void test_boolean(void **state)
{
	(void)state;

	expect_same(furet_query_and(W("formation"), W("quartiers")),
		"formation AND quartiers", 3);
	expect_same(furet_query_and(W("formation jeunes"),
		furet_query_not(W("quartiers"))),
		"(formation jeunes) AND NOT quartiers", 2);
	expect_same(furet_query_and(furet_query_and(W("formation"),
		W("jeunes")), W("emploi")), "formation AND jeunes AND emploi", 1);
	expect_same(furet_query_and(W("jeunes"), furet_query_near(W("formation"),
		W("quartiers"), 4)), "jeunes AND formation NEAR/4 quartiers", 1);
	expect_same(furet_query_or(W("Simplon"), W("LePoleS")),
		"Simplon LePoleS", 2);
	/* Clauses of one character. */
	expect_same(furet_query_or(furet_query_require(furet_query_or(W("a"),
		W("b"))), furet_query_or(W("x"), furet_query_not(W("y")))),
		"+(a b) x NOT y", 0);
	expect_same(furet_query_or(W("emploi"), furet_query_not(P("POP School"))),
		"emploi NOT \"POP School\"", 1);
	expect_same(furet_query_or(W("emploi"), furet_query_and(W("POP"),
		W("numérique"))), "emploi POP AND numérique", 3);
	expect_same(furet_query_not(furet_query_and(W("a"), W("b"))),
		"NOT (a AND b)", 0);
	expect_same(furet_query_not(furet_query_not(W("formation"))),
		"NOT (NOT formation)", 5);
	expect_same(furet_query_not(W("formation")), "NOT formation", 0);
}

static void test_required_excluded(void **state)
{
	furet_query *q;
	(void)state;

	expect_same(furet_query_or(W("formation"),
		furet_query_require(W("quartiers"))), "formation +quartiers", 2);
	expect_same(furet_query_or(W("formation jeunes"),
		furet_query_exclude(W("quartiers"))),
		"formation jeunes -quartiers", 2);
	expect_same(furet_query_or(W("emploi"), furet_query_require(
		furet_query_or(W("POP"), W("Simplon")))), "emploi +(POP Simplon)", 2);
	expect_same(furet_query_or(furet_query_require(furet_query_field(
		W("School"), FURET_QF_SECTION)), furet_query_and(X("numéri"),
		furet_query_exclude(W("Valenciennes")))),
		"+section:School numéri* AND -Valenciennes", 1);
	expect_same(furet_query_or(W("emploi"),
		furet_query_exclude(P("demandeurs d'emploi"))),
		"emploi -\"demandeurs d'emploi\"", 1);
	expect_same(furet_query_or(W("jeunes"), furet_query_require(
		furet_query_field(W("quartiers formation"), FURET_QF_TITLE))),
		"jeunes +title:(quartiers formation)", 2);
	/* The last mark wins. */
	expect_same(furet_query_or(W("formation"), furet_query_require(
		furet_query_exclude(W("quartiers")))), "formation +quartiers", 2);
	/* Outside a list, + changes nothing and - is NOT. */
	expect_same(furet_query_and(W("formation"),
		furet_query_exclude(W("quartiers"))), "formation AND -quartiers", 2);
	expect_same(furet_query_require(W("formation")), "+formation", 5);
	/* A list built one clause at a time is one list: the required clause
	** applies to all of it. */
	q = furet_query_require(W("formation"));
	q = furet_query_or(q, W("jeunes"));
	q = furet_query_or(q, W("Simplon POP"));
	expect_same(q, "+formation jeunes Simplon POP", 5);
	q = furet_query_or(W("jeunes"), furet_query_or(
		furet_query_require(W("formation")), W("Simplon")));
	expect_same(q, "jeunes +formation Simplon", 5);
}

/* Texts are literal: quotes, parentheses, operators, modifiers, fields and
** stars are read as the analyzer reads them in a document. */
static void test_literal(void **state)
{
	char *text, *t;
	furet_query *q;
	(void)state;

	q = W("\"écoles du web\"");
	t = built_tree(q, &text);
	assert_string_equal(t, "(OR word:\"\\\"écoles\" word:\"du\" word:\"web\\\"\")");
	free(t);
	free(text);
	assert_int_equal(matched_q(q), matched_s("écoles du web"));
	assert_true(matched_s("écoles du web") > matched_s("\"écoles du web\""));

	q = W("formation AND quartiers");
	t = built_tree(q, &text);
	assert_string_equal(t,
		"(OR word:\"formation\" word:\"AND\" word:\"quartiers\")");
	free(t);
	free(text);
	assert_int_equal(matched_q(q), matched_s("formation quartiers"));
	assert_true(matched_s("formation quartiers") >
		matched_s("formation AND quartiers"));

	q = W("(formation OR NOT -quartiers) NEAR/2 +title:jeunes* «x");
	t = built_tree(q, &text);
	assert_string_equal(t, "(OR word:\"(formation\" word:\"OR\" "
		"word:\"NOT\" word:\"-quartiers)\" word:\"NEAR/2\" "
		"word:\"+title:jeunes*\" word:\"«x\")");
	free(t);
	free(text);
	furet_query_free(q);
	assert_int_equal(matched_q(W("-quartiers formation")),
		matched_s("quartiers formation"));
	assert_int_equal(matched_q(W("formation)")), matched_s("formation"));

	/* Inside a phrase, quotes are punctuation; in a prefix, the star. */
	assert_int_equal(matched_q(P("POP \"School\"")), matched_s("\"POP School\""));
	assert_int_equal(matched_q(P("a\" OR b")), matched_s("\"a OR b\""));
	assert_int_equal(matched_q(X("numéri*")), matched_s("numéri*"));
	q = furet_query_and(P("x\" AND \"y"), W(")"));
	t = built_tree(q, &text);
	assert_string_equal(text, "\"x\" AND \"y\" AND )");
	assert_string_equal(t, "(OR (AND phrase:\"x\\\" AND \\\"y\" word:\")\"))");
	free(t);
	free(text);
	furet_query_free(q);
}

/* Empty texts add nothing; alone they find nothing. */
static void test_empty(void **state)
{
	(void)state;

	expect_same(W(""), "", 0);
	expect_same(furet_query_words(NULL, 0), "", 0);
	expect_same(P(" \t "), "", 0);
	expect_same(X(""), "", 0);
	expect_same(furet_query_and(W(""), W("formation")), "() AND formation",
		5);
	expect_same(furet_query_and(W("formation"), P("  ")),
		"formation AND ()", 5);
	expect_same(furet_query_or(furet_query_or(W(" "), W("formation")),
		W("")), "formation", 5);
	expect_same(furet_query_near(W(""), W("formation"), 3),
		"() NEAR/3 formation", 5);
	expect_same(furet_query_or(W("formation"), furet_query_not(W(""))),
		"formation NOT ()", 5);
	expect_same(furet_query_field(furet_query_require(W("")),
		FURET_QF_TITLE), "", 0);
	assert_int_equal(matched_q(furet_query_and(W(""), W("formation"))),
		matched_s("formation"));
}

static void test_invalid(void **state)
{
	furet_search_options o = opts();
	furet_results *r = NULL;
	furet_query *q;
	(void)state;

	/* Wrong arguments are reported by the search, not the builder. */
	q = furet_query_and(W("formation"), furet_query_words("\xff", 1));
	assert_non_null(q);
	r = (furet_results *)&o;
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_INVALID);
	assert_null(r);
	assert_non_null(strstr(furet_index_errmsg(ix), "UTF-8"));
	furet_query_free(q);

	q = furet_query_or(W("a"), furet_query_phrase(NULL, 3));
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_INVALID);
	assert_non_null(strstr(furet_index_errmsg(ix), "NULL"));
	furet_query_free(q);

	q = furet_query_field(W("a"), 7);
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_INVALID);
	assert_non_null(strstr(furet_index_errmsg(ix), "field"));
	furet_query_free(q);
	/* ...also when that query is a list that another list takes in. */
	q = furet_query_or(W("a"), furet_query_field(furet_query_or(W("b"),
		W("c")), 7));
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_INVALID);
	furet_query_free(q);

	assert_int_equal(furet_search_query(ix, NULL, &o, &r), FURET_INVALID);
	assert_int_equal(furet_search_query(NULL, q = W("a"), &o, &r),
		FURET_INVALID);
	assert_int_equal(furet_search_query(ix, q, &o, NULL), FURET_INVALID);
	o.b = 2;
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_INVALID);
	furet_query_free(q);

	/* A NULL argument is a failure passed on: the others are freed (the
	** sanitizers and valgrind see a leak otherwise). */
	assert_null(furet_query_and(NULL, W("a")));
	assert_null(furet_query_or(W("a"), NULL));
	assert_null(furet_query_near(W("a"), NULL, 3));
	assert_null(furet_query_not(NULL));
	assert_null(furet_query_require(NULL));
	assert_null(furet_query_exclude(NULL));
	assert_null(furet_query_field(NULL, FURET_QF_TITLE));
	assert_null(furet_query_or(furet_query_and(W("a"), NULL), W("b")));
	furet_query_free(NULL);
}

/* 32 operators deep is searched; deeper is refused, whatever the way. */
static void test_depth(void **state)
{
	furet_search_options o = opts();
	furet_results *r = NULL;
	furet_query *q;
	size_t i;
	(void)state;

	q = W("formation");
	for (i = 0; i < 32; i++)
		q = furet_query_not(q);
	assert_int_equal(matched_q(q), matched_s("formation"));

	q = W("formation");
	for (i = 0; i < 1000; i++)
		q = furet_query_not(q);
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_QUERY);
	assert_non_null(strstr(furet_index_errmsg(ix), "32"));
	/* Still refused inside something else. */
	q = furet_query_or(W("jeunes"), q);
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_QUERY);
	furet_query_free(q);

	/* AND of OR of AND...: 33 levels. */
	q = W("formation");
	for (i = 0; i < 33; i++)
		q = i % 2 ? furet_query_and(W("jeunes"), q) :
			furet_query_require(furet_query_or(W("emploi"), q));
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_QUERY);
	furet_query_free(q);

	/* Lists do not nest: a thousand clauses one at a time are one list. */
	q = W("formation");
	for (i = 0; i < 1000; i++)
		q = furet_query_and(q, W("jeunes"));
	assert_int_equal(furet_search_query(ix, q, &o, &r), FURET_OK);
	furet_results_free(r);
	furet_query_free(q);
}

/* Past 1000 clauses the rest is dropped, as for the string. */
static void test_size_limit(void **state)
{
	furet_query *q = W("formation");
	char *s = malloc(20000), w[16];
	size_t i, at;
	(void)state;

	at = (size_t)sprintf(s, "formation");
	for (i = 0; i < 1500; i++) {
		snprintf(w, sizeof w, "mot%zu", i);
		q = furet_query_or(q, W(w));
		at += (size_t)sprintf(s + at, " %s", w);
	}
	q = furet_query_or(q, W("jeunes"));
	strcpy(s + at, " jeunes");
	expect_same(q, s, 5);
	free(s);
}

/* Out of memory at every allocation: builders return NULL having freed
** what they took (leaks show under the sanitizers and valgrind), searches
** FURET_OK or FURET_NOMEM. */
static void test_oom(void **state)
{
	furet_search_options o = opts();
	size_t fail_at;
	int is_built = 0, is_searched = 0;
	(void)state;

	for (fail_at = 1; !(is_built && is_searched) && fail_at < 5000;
		fail_at++) {
		furet_results *r = NULL;
		furet_query *q;
		furet_rc rc;

		furet_alloc_fail_after(fail_at);
		q = furet_query_or(furet_query_require(furet_query_field(
			X("numéri"), FURET_QF_TITLE)), furet_query_and(W("formaton"
			" jeunes"), furet_query_not(furet_query_near(P("POP School"),
			W("Valenciennes"), 4))));
		if (!q) {
			furet_alloc_fail_after(0);
			continue;
		}
		is_built = 1;
		rc = furet_search_query(ix, q, &o, &r);
		furet_alloc_fail_after(0);
		assert_true(rc == FURET_OK || rc == FURET_NOMEM);
		if (rc == FURET_OK)
			is_searched = 1;
		furet_results_free(r);
		furet_query_free(q);
	}
	assert_true(is_built && is_searched);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_phrase_prefix_near),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_boolean),
		cmocka_unit_test(test_required_excluded),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_oom),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
