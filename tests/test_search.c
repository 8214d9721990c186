/*
** test_search.c — ranking and hits through the public API: BM25F scores on a
** tiny collection computed by hand, ordering, limit/offset, best passage per
** document, highlights, and the seed article's typical questions.
*/
#include "testutil.h"

#include <jansson.h>
#include <math.h>

#include "furet.h"

static furet_index *build(const char *dir, const furet_doc *docs, size_t n)
{
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	size_t i;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w), FURET_OK);
	for (i = 0; i < n; i++)
		{
		furet_rc rc = furet_writer_add(w, &docs[i]);
		if (rc)
			fprintf(stderr, "add: %s\n", furet_index_errmsg(ix));
		assert_int_equal(rc, FURET_OK);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	return ix;
}

/* The hand-computed scores below use plain BM25F: k1 = 1.2, b = 0.75,
** title weight 0.5, no proximity or coverage bonus, no family and no name
** weight (furet's defaults are tuned otherwise). */
static furet_search_options opts_b075(void)
{
	furet_search_options o;
	furet_search_options_init(&o);
	o.k1 = 1.2;
	o.b = 0.75;
	o.w_title = 0.5;
	o.w_prox = 0;
	o.w_cover = 0;
	o.w_derived = 0;
	o.w_name = 1;
	return o;
}

static furet_results *query(furet_index *ix, const char *q,
	const furet_search_options *o)
{
	furet_results *r = NULL;
	assert_int_equal(furet_search(ix, q, strlen(q), o, &r), FURET_OK);
	return r;
}

static furet_hit hit(furet_results *r, size_t i)
{
	furet_hit h;
	assert_int_equal(furet_results_get(r, i, &h), FURET_OK);
	return h;
}

/* Three one-passage documents: N = 3, lengths 3, 2, 3, avglen = 8/3.
**   "chat": df 1, idf = ln(1 + 2.5/1.5); d1 tf 2, len 3
**     tf' = 2 / (0.25 + 0.75 * 3 / (8/3)) = 1.828571..
**     score = idf * tf' * 2.2 / (tf' + 1.2) = 1.302837347397
**   "noir": df 2, idf = ln(1.6); d1 tf 1 len 3 -> 0.447138587823,
**     d2 tf 1 len 2 -> 0.523548346502 (shorter passage ranks first) */
static void test_bm25_exact(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[3];
	furet_index *ix;
	furet_results *r;
	(void)state;

	furet_search_options o = opts_b075();

	docs[0] = tu_doc("d1", NULL, "chat noir chat");
	docs[1] = tu_doc("d2", NULL, "chien noir");
	docs[2] = tu_doc("d3", NULL, "oiseau bleu vole");
	ix = build(dir, docs, 3);

	r = query(ix, "chat", &o);
	assert_int_equal(furet_results_count(r), 1);
	assert_string_equal(hit(r, 0).doc, "d1");
	assert_true(fabs(hit(r, 0).score - 1.302837347397) < 1e-9);
	furet_results_free(r);

	r = query(ix, "noir", &o);
	assert_int_equal(furet_results_count(r), 2);
	assert_int_equal(furet_results_matched(r), 2);
	assert_string_equal(hit(r, 0).doc, "d2");
	assert_true(fabs(hit(r, 0).score - 0.523548346502) < 1e-9);
	assert_string_equal(hit(r, 1).doc, "d1");
	assert_true(fabs(hit(r, 1).score - 0.447138587823) < 1e-9);
	assert_int_equal(hit(r, 1).rank, 2);
	furet_results_free(r);

	/* Scores add over terms; a repeated query word counts once. */
	r = query(ix, "chat noir chat", &o);
	assert_string_equal(hit(r, 0).doc, "d1");
	assert_true(fabs(hit(r, 0).score - (1.302837347397 + 0.447138587823)) <
		1e-9);
	furet_results_free(r);

	/* No match at all: zero hits, not an error. */
	r = query(ix, "girafe", &o);
	assert_int_equal(furet_results_count(r), 0);
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* Title as a weaker field: d2 has "chat" only in its title.
** N = 2, avglen 5/2, df(chat) = 2, idf = ln(1 + 0.5/2.5):
**   d1 body tf 2, len 3: 0.237341671566
**   d2 title only: tf' = 0.5 * 1 -> 0.117972772043 */
static void test_title_field(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[2];
	furet_index *ix;
	furet_results *r;
	furet_search_options o;
	(void)state;

	docs[0] = tu_doc("d1", NULL, "chat noir chat");
	docs[1] = tu_doc("d2", "chat", "chien noir");
	ix = build(dir, docs, 2);
	o = opts_b075();
	r = query(ix, "chat", &o);
	assert_int_equal(furet_results_count(r), 2);
	assert_true(fabs(hit(r, 0).score - 0.237341671566) < 1e-9);
	assert_string_equal(hit(r, 1).doc, "d2");
	assert_string_equal(hit(r, 1).title, "chat");
	assert_true(fabs(hit(r, 1).score - 0.117972772043) < 1e-9);
	/* A title match highlights nothing in the text. */
	assert_int_equal(hit(r, 1).n_highlights, 0);
	furet_results_free(r);

	/* Weight 0 switches the field off. */
	o.w_title = 0;
	r = query(ix, "chat", &o);
	assert_int_equal(furet_results_count(r), 1);
	furet_results_free(r);

	/* Bad options are refused. */
	o.b = 2;
	assert_int_equal(furet_search(ix, "chat", 4, &o, &r), FURET_INVALID);
	assert_null(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void test_limit_offset_collapse(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[2];
	furet_index *ix;
	furet_results *r;
	furet_search_options o;
	(void)state;

	docs[0] = tu_doc("a", NULL, "Le vélo rouge roule.\n\nUn vélo bleu.\n\n"
		"Encore un vélo, un vélo vert.");
	docs[1] = tu_doc("b", NULL, "Mon vélo.");
	ix = build(dir, docs, 2);

	furet_search_options_init(&o);
	r = query(ix, "vélo", &o);
	assert_int_equal(furet_results_count(r), 4);
	furet_results_free(r);

	o.limit = 2;
	o.offset = 1;
	r = query(ix, "vélo", &o);
	assert_int_equal(furet_results_count(r), 2);
	assert_int_equal(furet_results_matched(r), 4);
	assert_int_equal(hit(r, 0).rank, 2);
	furet_results_free(r);

	/* Best passage per document: a's three passages collapse to one. */
	o.limit = 10;
	o.offset = 0;
	o.flags = FURET_SEARCH_BEST_PER_DOC;
	r = query(ix, "vélo", &o);
	assert_int_equal(furet_results_count(r), 2);
	assert_int_equal(furet_results_matched(r), 2);
	assert_true(strcmp(hit(r, 0).doc, hit(r, 1).doc) != 0);
	furet_results_free(r);

	/* Passage fields: number, byte range, text, highlights. */
	furet_search_options_init(&o);
	r = query(ix, "vert", &o);
	assert_int_equal(furet_results_count(r), 1);
	{
		furet_hit h = hit(r, 0);
		const char *t = docs[0].text;
		assert_string_equal(h.doc, "a");
		assert_int_equal(h.passage, 2);
		assert_null(h.section);
		assert_int_equal(h.end - h.start, h.text_len);
		assert_memory_equal(t + h.start, h.text, h.text_len);
		assert_int_equal(h.n_highlights, 1);
		assert_memory_equal(h.text + h.highlights[0].start, "vert", 4);
		assert_int_equal(h.highlights[0].end - h.highlights[0].start, 4);
	}
	furet_results_free(r);

	o.flags = FURET_SEARCH_NO_TEXT;
	r = query(ix, "vert", &o);
	assert_null(hit(r, 0).text);
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void test_query_edges(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[1];
	furet_index *ix;
	furet_results *r;
	char big[100001];
	(void)state;

	docs[0] = tu_doc("a", NULL, "Le label de l'école du numérique.");
	ix = build(dir, docs, 1);
	/* Only stop words: they are kept rather than dropping everything. */
	r = query(ix, "de la du", NULL);
	assert_int_equal(furet_results_count(r), 1);
	furet_results_free(r);
	/* Elided query word, curly apostrophe, no accents, capitals. */
	r = query(ix, "L’ECOLE", NULL);
	assert_int_equal(furet_results_count(r), 1);
	assert_int_equal(hit(r, 0).n_highlights, 1);
	assert_memory_equal(hit(r, 0).text + hit(r, 0).highlights[0].start,
		"école", strlen("école"));
	furet_results_free(r);
	/* Empty, punctuation, unbalanced quote, 100 KB of text. */
	r = query(ix, "", NULL);
	assert_int_equal(furet_results_count(r), 0);
	furet_results_free(r);
	r = query(ix, "?!...", NULL);
	assert_int_equal(furet_results_count(r), 0);
	furet_results_free(r);
	r = query(ix, "\"label", NULL);
	assert_int_equal(furet_results_count(r), 1);
	furet_results_free(r);
	memset(big, 'a', sizeof big - 1);
	for (size_t i = 7; i < sizeof big - 1; i += 8)
		big[i] = ' ';
	big[sizeof big - 1] = '\0';
	r = query(ix, big, NULL);
	assert_int_equal(furet_results_count(r), 0);
	furet_results_free(r);
	/* Invalid UTF-8 is refused. */
	assert_int_equal(furet_search(ix, "\xff\xfe", 2, NULL, &r), FURET_INVALID);
	assert_null(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* The seed article: the questions furet exists for. */
static void test_seed_article(void **state)
{
	char *dir = tu_mkdtemp();
	size_t len = 0;
	char *text = tu_read("corpus/fabriques-du-numerique.txt", &len);
	furet_doc d;
	furet_index *ix;
	furet_results *r;
	(void)state;

	assert_non_null(text);
	d = tu_doc("fabriques", "fabriques du numérique", text);
	d.text_len = len;
	ix = build(dir, &d, 1);

	r = query(ix, "Fonds social européen", NULL);
	assert_non_null(strstr(hit(r, 0).text, "92%"));
	assert_string_equal(hit(r, 0).section, "POP School");
	furet_results_free(r);

	r = query(ix, "association loi 1901", NULL);
	assert_non_null(strstr(hit(r, 0).text, "association loi 1901"));
	assert_string_equal(hit(r, 0).section, "LePoleS");
	furet_results_free(r);

	r = query(ix, "Simplon.co", NULL);
	assert_non_null(strstr(hit(r, 0).text, "Simplon.co"));
	furet_results_free(r);
	furet_index_close(ix);
	free(text);
	tu_rmtree(dir);
	free(dir);
}

/* Issue 3's questions on the seed article: each ranks first the paragraph
** it names (identified by words only that paragraph has). */
static void test_seed_french(void **state)
{
	static const struct {
		const char *query, *expect;
	} cases[] = {
		{ "l\xe2\x80\x99\xc3\xa9" "conomie sociale et solidaire",
			"conomie sociale et solidaire" },
		{ "\xc3\x89" "COLE NUMERIQUE VALENCIENNES", "Lanc\xc3\xa9" "e en octobre 2015" },
		{ "villeneuve-la-garenne caravelle", "Caravelle de Villeneuve" },
		{ "1 002 758,20 \xe2\x82\xac", "92%" },
		{ "1002758,20", "92%" },
		{ "1.002.758,20", "92%" },
		{ "1 002 758.20", "92%" },
		{ "oeuvrent depuis plusieurs ann\xc3\xa9" "es", "plus modestes" },
		{ "Simplon", "Simplon.co" },
		{ "socio-professionnelle", "socioprofessionnelle" },
	};
	char *dir = tu_mkdtemp();
	size_t len = 0, i;
	char *text = tu_read("corpus/fabriques-du-numerique.txt", &len);
	furet_doc d;
	furet_index *ix;
	furet_results *r;
	(void)state;

	assert_non_null(text);
	d = tu_doc("fabriques", "fabriques du numérique", text);
	d.text_len = len;
	ix = build(dir, &d, 1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = query(ix, cases[i].query, NULL);
		if (furet_results_count(r) == 0 ||
			!strstr(hit(r, 0).text, cases[i].expect)) {
			fprintf(stderr, "query '%s': rank 1 is '%.80s'\n", cases[i].query,
				furet_results_count(r) ? hit(r, 0).text : "(none)");
			fail();
		}
		furet_results_free(r);
	}
	furet_index_close(ix);
	free(text);
	tu_rmtree(dir);
	free(dir);
}

/* Accents: the word's own form first, variants that differ by accents
** only after it, and a query without accents reaches accented text. */
static void test_accent_matching(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[4];
	furet_index *ix;
	furet_results *r;
	(void)state;

	docs[0] = tu_doc("chatiment", NULL, "Le ch\xc3\xa2timent fut s\xc3\xa9v\xc3\xa8re.");
	docs[1] = tu_doc("chat", NULL, "Le chat dort au soleil.");
	docs[2] = tu_doc("peche", NULL, "La p\xc3\xaa" "che est un m\xc3\xa9tier.");
	docs[3] = tu_doc("peche2", NULL, "Le p\xc3\xa9" "ch\xc3\xa9 est un tort.");
	ix = build(dir, docs, 4);

	r = query(ix, "chat", NULL);
	assert_true(furet_results_count(r) >= 1);
	assert_string_equal(hit(r, 0).doc, "chat");
	furet_results_free(r);

	/* Written with its accents, a word finds its own form first... */
	r = query(ix, "p\xc3\xaa" "che", NULL);
	assert_int_equal(furet_results_count(r), 2);
	assert_string_equal(hit(r, 0).doc, "peche");
	assert_true(hit(r, 0).score > hit(r, 1).score);
	furet_results_free(r);
	r = query(ix, "p\xc3\xa9" "ch\xc3\xa9", NULL);
	assert_int_equal(furet_results_count(r), 2);
	assert_string_equal(hit(r, 0).doc, "peche2");
	furet_results_free(r);
	/* ...without accents it reaches both. (Snowball stems "péché" to
	** "pech", the unaccented query's own term, so that one comes first.) */
	r = query(ix, "peche", NULL);
	assert_int_equal(furet_results_count(r), 2);
	furet_results_free(r);
	/* Highlights cover the accented word the unaccented query reached. */
	r = query(ix, "severe", NULL);
	assert_int_equal(furet_results_count(r), 1);
	assert_int_equal(hit(r, 0).n_highlights, 1);
	assert_memory_equal(hit(r, 0).text + hit(r, 0).highlights[0].start,
		"s\xc3\xa9v\xc3\xa8re", 8);
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void test_evenement(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[2];
	furet_index *ix;
	furet_results *r;
	(void)state;

	docs[0] = tu_doc("a", NULL, "Un \xc3\xa9v\xc3\xa9nement majeur.");
	docs[1] = tu_doc("b", NULL, "Des \xc3\xa9v\xc3\xa9nements mineurs.");
	ix = build(dir, docs, 2);
	r = query(ix, "evenement", NULL);
	assert_int_equal(furet_results_count(r), 2);
	furet_results_free(r);
	r = query(ix, "EVENEMENTS", NULL);
	assert_int_equal(furet_results_count(r), 2);
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* A small collection for the query language. */
static furet_index *lang_index(char **dir)
{
	static furet_doc docs[6];
	*dir = tu_mkdtemp();
	docs[0] = tu_doc("a", "Apprendre", "Il faut apprendre \xc3\xa0 apprendre toute la vie.");
	docs[1] = tu_doc("b", "Formation", "La formation des jeunes \xc3\xa0 Pierrefitte-sur-Seine.");
	docs[2] = tu_doc("c", NULL, "Apprendre le code, puis la formation continue.");
	docs[3] = tu_doc("d", NULL, "Une \xc3\xa9" "cole du web ouvre ses portes, l'\xc3\xa9" "cole est au "
		"centre du quartier.");
	docs[4] = tu_doc("e", NULL, "Le web change, et chaque \xc3\xa9" "cole s'adapte "
		"lentement \xc3\xa0 ce monde nouveau de grandes mutations.");
	docs[5] = tu_doc("f", NULL, "Les formateurs forment des formatrices form\xc3\xa9" "es.");
	return build(*dir, docs, 6);
}

/* The set of documents a query finds, as a string of ids ("abd"); without
** family matches ("formation" reaching "formateurs"), which test_family
** covers. */
static void found(furet_index *ix, const char *q, char *out)
{
	furet_search_options o;
	furet_results *r;

	furet_search_options_init(&o);
	o.w_derived = 0;
	r = query(ix, q, &o);
	size_t i, n = furet_results_count(r), k = 0;
	char ids[16];

	for (i = 0; i < n && i < sizeof ids - 1; i++)
		ids[k++] = hit(r, i).doc[0];
	ids[k] = 0;
	/* sort: the set, not the order */
	for (i = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++)
			if (ids[j] < ids[i]) {
				char t = ids[i];
				ids[i] = ids[j];
				ids[j] = t;
			}
	strcpy(out, ids);
	furet_results_free(r);
}

static void test_operators(void **state)
{
	static const struct {
		const char *q, *expect;
	} cases[] = {
		{ "apprendre", "ac" },
		{ "apprendre formation", "abc" },
		{ "+apprendre formation", "ac" },
		{ "formation -apprendre", "b" },
		{ "apprendre AND formation", "c" },
		{ "apprendre OR web", "acde" },
		{ "(apprendre OR web) AND NOT code", "ade" },
		{ "formation NOT apprendre", "b" },
		{ "\"apprendre \xc3\xa0 apprendre\"", "a" }, /* phrase with a stop word */
		{ "\"\xc3\xa0 apprendre\"", "a" },
		{ "\"apprendre la formation\"", "" },
		{ "\xc2\xab\xc3\xa9" "cole du web\xc2\xbb", "d" },
		{ "\xc3\xa9" "cole NEAR/2 web", "d" },
		{ "\xc3\xa9" "cole NEAR/3 web", "de" },
		{ "\xc3\xa9" "cole NEAR web", "de" },
		{ "title:formation", "b" },
		{ "title:apprendre formation", "abc" },
		{ "form*", "bcf" },
		{ "pierrefitte", "b" },
		{ "Pierrefitte-sur-Seine", "b" },
		{ "\"pierrefitte sur seine\"", "b" },
		/* malformed: a reading, never an error */
		{ "\"apprendre \xc3\xa0", "a" },
		{ "(apprendre", "ac" },
		{ "apprendre)", "ac" },
		{ "-", "" },
		{ "?!...", "" },
		{ "AND", "" },
		{ "web AND", "de" },
	};
	char *dir, got[16];
	furet_index *ix = lang_index(&dir);
	size_t i;
	int n_bad = 0;
	(void)state;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		found(ix, cases[i].q, got);
		if (strcmp(got, cases[i].expect) != 0) {
			fprintf(stderr, "query '%s': found '%s', expected '%s'\n",
				cases[i].q, got, cases[i].expect);
			n_bad++;
		}
	}
	assert_int_equal(n_bad, 0);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void test_prefix_bound(void **state)
{
	char *dir;
	furet_index *ix = lang_index(&dir);
	furet_search_options o;
	furet_results *r;
	(void)state;

	/* form* reaches formation, formateur, formatrice, former, formé...:
	** with one expansion, only the most frequent term's passages. */
	furet_search_options_init(&o);
	o.max_expansions = 1;
	r = query(ix, "form*", &o);
	assert_true(furet_results_count(r) >= 1);
	assert_true(furet_results_count(r) < 3);
	furet_results_free(r);
	o.max_expansions = 5000;
	assert_int_equal(furet_search(ix, "form*", 5, &o, &r), FURET_INVALID);
	/* A one-letter prefix is a plain word. */
	r = query(ix, "f*", NULL);
	assert_int_equal(furet_results_count(r), 0);
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void test_typos(void **state)
{
	char *dir;
	furet_index *ix = lang_index(&dir);
	furet_search_options o;
	furet_results *r;
	(void)state;

	r = query(ix, "Pierrefite", NULL);
	assert_int_equal(furet_results_count(r), 1);
	assert_string_equal(hit(r, 0).doc, "b");
	assert_non_null(furet_results_suggestion(r));
	assert_string_equal(furet_results_suggestion(r), "pierrefitte");
	furet_results_free(r);

	r = query(ix, "la formaton des jeunes", NULL);
	assert_string_equal(hit(r, 0).doc, "b");
	assert_string_equal(furet_results_suggestion(r), "la formation des jeunes");
	furet_results_free(r);
	/* A missing word without a correction keeps its spelling, wherever
	** it stands. */
	r = query(ix, "la formaton wob jeunes xyzzyq", NULL);
	assert_string_equal(furet_results_suggestion(r),
		"la formation wob jeunes xyzzyq");
	furet_results_free(r);

	/* The query is (pointer, length): the suggestion stops at its end, not
	** at a NUL (fuzz_query: a read past a query without one). */
	{
		const char *q = "la formaton des jeunes et le reste";
		r = NULL;
		assert_int_equal(furet_search(ix, q, 22, NULL, &r), FURET_OK);
		assert_string_equal(furet_results_suggestion(r),
			"la formation des jeunes");
		furet_results_free(r);
	}

	/* Accents are not typos: "ecole" finds "école" with no suggestion. */
	r = query(ix, "ecole", NULL);
	assert_int_equal(furet_results_count(r), 2);
	assert_null(furet_results_suggestion(r));
	furet_results_free(r);

	/* Short words get no typo candidates; and typos can be turned off. */
	r = query(ix, "wob", NULL);
	assert_int_equal(furet_results_count(r), 0);
	furet_results_free(r);
	furet_search_options_init(&o);
	o.flags = FURET_SEARCH_NO_TYPO;
	o.w_derived = 0; /* "pierrefit" has "pierrefitt" in its family */
	r = query(ix, "Pierrefite", &o);
	assert_int_equal(furet_results_count(r), 0);
	assert_null(furet_results_suggestion(r));
	furet_results_free(r);

	/* A typo scores below the exact word. */
	r = query(ix, "formation formaton", NULL);
	assert_true(furet_results_count(r) >= 2);
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void test_explain(void **state)
{
	char *dir;
	furet_index *ix = lang_index(&dir);
	furet_search_options o;
	furet_results *r;
	furet_hit h;
	size_t i;
	double sum = 0;
	int has_accent = 0, has_exact = 0, has_prox = 0;
	(void)state;

	furet_search_options_init(&o);
	o.flags = FURET_SEARCH_EXPLAIN;
	r = query(ix, "ecole web", &o);
	h = hit(r, 0);
	assert_string_equal(h.doc, "d");
	assert_true(h.n_explain >= 2);
	for (i = 0; i < h.n_explain; i++) {
		sum += h.explain[i].score;
		has_accent |= !strcmp(h.explain[i].how, "accent");
		has_exact |= !strcmp(h.explain[i].how, "exact");
		has_prox |= !strcmp(h.explain[i].how, "proximity");
	}
	/* The parts add up to the score. */
	assert_true(fabs(sum - h.score) < 1e-9);
	assert_true(has_accent && has_exact && has_prox);
	furet_results_free(r);

	r = query(ix, "Pierrefite", &o);
	h = hit(r, 0);
	assert_string_equal(h.explain[0].how, "typo");
	furet_results_free(r);
	r = query(ix, "form*", &o);
	h = hit(r, 0);
	assert_string_equal(h.explain[0].how, "prefix");
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* A word's family: "reconstruction" reaches "reconstruit" (stems
** "reconstruct" and "reconstruit" share "reconstru"), below the word itself,
** and explain says "family"; w_derived 0 turns it off. Short stems have no
** family. */
static void test_family(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[3];
	furet_index *ix;
	furet_search_options o;
	furet_results *r;
	furet_hit h;
	(void)state;

	docs[0] = tu_doc("verbe", NULL, "Le bureau a Ã©tÃ© reconstruit en 1790.");
	docs[1] = tu_doc("nom", NULL, "La reconstruction du pont date de 1850.");
	docs[2] = tu_doc("autre", NULL, "Un bureau de poste ouvre en 1900.");
	ix = build(dir, docs, 3);
	furet_search_options_init(&o);
	o.flags = FURET_SEARCH_EXPLAIN;
	r = query(ix, "reconstruction", &o);
	assert_int_equal(furet_results_count(r), 2);
	assert_string_equal(hit(r, 0).doc, "nom");
	h = hit(r, 1);
	assert_string_equal(h.doc, "verbe");
	assert_string_equal(h.explain[0].how, "family");
	assert_true(h.score < hit(r, 0).score);
	furet_results_free(r);
	/* With both words, the family match decides between the bureaux. */
	r = query(ix, "reconstruction du bureau", &o);
	assert_int_equal(furet_results_count(r), 3);
	assert_string_equal(hit(r, 2).doc, "autre");
	furet_results_free(r);
	o.w_derived = 0;
	r = query(ix, "reconstruction", &o);
	assert_int_equal(furet_results_count(r), 1);
	furet_results_free(r);
	o.w_derived = 1.5;
	assert_int_equal(furet_search(ix, "x", 1, &o, &r), FURET_INVALID);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* The word a "quel" asks for weighs w_asked of its idf: "Quel pays" wants a
** country's name, which the answer has rather than "pays". */
static void test_asked_word(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[3];
	furet_index *ix;
	furet_search_options o;
	furet_results *r;
	double s_asked, s_plain;
	(void)state;

	docs[0] = tu_doc("a", NULL, "Jos est une ville du Nigeria.");
	docs[1] = tu_doc("b", NULL, "Le pays compte cent villes.");
	docs[2] = tu_doc("c", NULL, "Un autre texte sans rapport.");
	ix = build(dir, docs, 3);
	r = query(ix, "Dans quel pays est la ville de Jos ?", NULL);
	assert_string_equal(hit(r, 0).doc, "a");
	furet_results_free(r);
	/* Same words, not asked for: "pays" weighs fully. */
	r = query(ix, "quel pays", NULL);
	s_asked = hit(r, 0).score;
	furet_results_free(r);
	r = query(ix, "le pays", NULL);
	s_plain = hit(r, 0).score;
	furet_results_free(r);
	assert_true(s_asked < s_plain);
	/* "Quel \xc3\xa9tait le pays", "quelles sont les ...": the same word. */
	r = query(ix, "Quel \xc3\xa9tait le pays", NULL);
	assert_true(fabs(hit(r, 0).score - s_asked) < 1e-9);
	furet_results_free(r);
	furet_search_options_init(&o);
	o.w_asked = 1;
	r = query(ix, "quel pays", &o);
	assert_true(fabs(hit(r, 0).score - s_plain) < 1e-9);
	furet_results_free(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* A capitalised word that does not start the query is most likely a name:
** its weight is w_name times its idf; a number's too. */
static void test_name_word(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[3];
	furet_index *ix;
	furet_search_options o;
	furet_results *r;
	double s_low, s_cap, s_first;
	(void)state;

	docs[0] = tu_doc("a", NULL, "Valenciennes finance une \xc3\xa9" "cole depuis 2003.");
	docs[1] = tu_doc("b", NULL, "Une \xc3\xa9" "cole ouvre ses portes.");
	docs[2] = tu_doc("c", NULL, "Un autre texte sans rapport.");
	ix = build(dir, docs, 3);
	r = query(ix, "qui finance valenciennes", NULL);
	s_low = hit(r, 0).score;
	furet_results_free(r);
	r = query(ix, "qui finance Valenciennes", NULL);
	assert_string_equal(hit(r, 0).doc, "a");
	s_cap = hit(r, 0).score;
	furet_results_free(r);
	assert_true(s_cap > s_low);
	/* The first word's capital says nothing. */
	r = query(ix, "Valenciennes finance", NULL);
	s_first = hit(r, 0).score;
	furet_results_free(r);
	r = query(ix, "valenciennes finance", NULL);
	assert_true(fabs(hit(r, 0).score - s_first) < 1e-9);
	furet_results_free(r);
	/* \xc3\x89 is a capital too; w_name 1 weighs names like other words. */
	r = query(ix, "une \xc3\x89" "cole", NULL);
	s_cap = hit(r, 0).score;
	furet_results_free(r);
	furet_search_options_init(&o);
	o.w_name = 1;
	r = query(ix, "une \xc3\x89" "cole", &o);
	assert_true(hit(r, 0).score < s_cap);
	furet_results_free(r);
	r = query(ix, "une \xc3\xa9" "cole", &o);
	s_low = hit(r, 0).score;
	furet_results_free(r);
	r = query(ix, "une \xc3\x89" "cole", &o);
	assert_true(fabs(hit(r, 0).score - s_low) < 1e-9);
	furet_results_free(r);
	/* A number counts like a name. */
	r = query(ix, "depuis 2003", &o);
	s_low = hit(r, 0).score;
	furet_results_free(r);
	r = query(ix, "depuis 2003", NULL);
	assert_true(hit(r, 0).score > s_low);
	furet_results_free(r);
	o.w_name = 11;
	assert_int_equal(furet_search(ix, "x", 1, &o, &r), FURET_INVALID);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* ---- dynamic pruning: the same hits as scoring every match ---------------- */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) & 0xffffff;
}

/* A word of a Zipf-like vocabulary: low ranks are frequent. */
static void rnd_word(char *out, size_t cap)
{
	static const char *const syl[] = { "ma", "ri", "to", "lu", "ne", "pa",
		"do", "ve", "si", "ca", "bo", "fe" };
	uint32_t r = rnd() % 4000, k = 1 + rnd() % 5;
	uint32_t rank = (r * r) / 4000; /* skewed to small */
	size_t n = 0;

	(void)k;
	do {
		n += (size_t)snprintf(out + n, cap - n, "%s", syl[rank % 12]);
		rank /= 12;
	} while (rank && n + 3 < cap);
	out[n] = 0;
}

/* Every hit of a pruned search equals the exhaustive one's: same passages,
** same order, same scores, with w_title as given (below 0: the default).
** Returns 1 when the search skipped passages. */
static int same_hits_w(furet_index *ix, const char *q, unsigned limit,
	unsigned flags, double w_title)
{
	furet_search_options o;
	furet_results *a = NULL, *b = NULL;
	size_t i;
	int is_pruned;

	furet_search_options_init(&o);
	if (w_title >= 0)
		o.w_title = w_title;
	o.limit = limit;
	o.flags = flags | FURET_SEARCH_NO_TEXT;
	assert_int_equal(furet_search(ix, q, strlen(q), &o, &a), FURET_OK);
	o.flags |= FURET_SEARCH_EXACT;
	assert_int_equal(furet_search(ix, q, strlen(q), &o, &b), FURET_OK);
	if (furet_results_count(a) != furet_results_count(b))
		fprintf(stderr, "query '%s': %zu hits pruned, %zu exact\n", q,
			furet_results_count(a), furet_results_count(b));
	assert_int_equal(furet_results_count(a), furet_results_count(b));
	for (i = 0; i < furet_results_count(a); i++) {
		furet_hit x = hit(a, i), y = hit(b, i);
		if (strcmp(x.doc, y.doc) || x.passage != y.passage || x.score != y.score)
			fprintf(stderr, "query '%s' hit %zu: %s#%u %.17g, exact %s#%u "
				"%.17g\n", q, i, x.doc, x.passage, x.score, y.doc, y.passage,
				y.score);
		assert_string_equal(x.doc, y.doc);
		assert_int_equal(x.passage, y.passage);
		assert_true(x.score == y.score);
	}
	assert_true(furet_results_matched(a) <= furet_results_matched(b));
	is_pruned = furet_results_matched(a) < furet_results_matched(b);
	furet_results_free(a);
	furet_results_free(b);
	return is_pruned;
}

static int same_hits(furet_index *ix, const char *q, unsigned limit,
	unsigned flags)
{
	return same_hits_w(ix, q, limit, flags, -1);
}

/* 600 documents of 1 to 12 paragraphs over a skewed vocabulary, titles,
** capitalised words; 300 free-text queries of 1 to 9 words (a third with a
** phrase), top 10 and 100, passages and best passage per document, titles
** weighted as by default and not at all. */
static void test_pruning_exact(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc *docs = calloc(600, sizeof *docs);
	char **texts = calloc(600, sizeof *texts), ids[600][16], titles[600][32];
	char q[256], w[32];
	furet_index *ix;
	size_t i, n_pruned = 0, n_runs = 0;
	(void)state;

	for (i = 0; i < 600; i++) {
		size_t cap = 20000, n = 0, paras = 1 + rnd() % 12, p, k;
		texts[i] = malloc(cap);
		for (p = 0; p < paras; p++) {
			size_t words = 5 + rnd() % 80;
			for (k = 0; k < words && n + 40 < cap; k++) {
				rnd_word(w, sizeof w);
				if (rnd() % 17 == 0)
					w[0] = (char)(w[0] - 'a' + 'A');
				n += (size_t)snprintf(texts[i] + n, cap - n, "%s%s", k ? " " : "", w);
			}
			n += (size_t)snprintf(texts[i] + n, cap - n, ".\n\n");
		}
		snprintf(ids[i], sizeof ids[i], "d%zu", i);
		rnd_word(w, sizeof w);
		snprintf(titles[i], sizeof titles[i], "%s", w);
		docs[i] = tu_doc(ids[i], titles[i], texts[i]);
	}
	ix = build(dir, docs, 600);
	for (i = 0; i < 300; i++) {
		size_t words = 1 + rnd() % 9, k, n = 0;
		/* every third query with a phrase of its first two words */
		int is_phrase = i % 3 == 0 && words >= 3;
		for (k = 0; k < words; k++) {
			rnd_word(w, sizeof w);
			if (rnd() % 5 == 0)
				w[0] = (char)(w[0] - 'a' + 'A');
			n += (size_t)snprintf(q + n, sizeof q - n, "%s%s%s%s",
				k ? " " : "", is_phrase && k == 0 ? "\"" : "", w,
				is_phrase && k == 1 ? "\"" : "");
		}
		n_pruned += (size_t)same_hits(ix, q, 10, 0);
		n_pruned += (size_t)same_hits(ix, q, 100, 0);
		n_pruned += (size_t)same_hits(ix, q, 10, FURET_SEARCH_BEST_PER_DOC);
		n_pruned += (size_t)same_hits(ix, q, 3, FURET_SEARCH_BEST_PER_DOC);
		/* Titles weighted 0: a word found only in a title adds nothing
		** to BM25F but still counts in the coverage bonus. */
		n_pruned += (size_t)same_hits_w(ix, q, 10,
			FURET_SEARCH_BEST_PER_DOC, 0);
		n_runs += 5;
	}
	/* The test means something only if pruning happened, often. */
	fprintf(stderr, "pruned %zu of %zu searches\n", n_pruned, n_runs);
	assert_true(n_pruned > n_runs / 4);
	/* Not pruned: operators, prefixes, fields. */
	same_hits(ix, "\"mama ri\" to", 10, 0);
	assert_int_equal(same_hits(ix, "+ma ri to", 10, 0), 0);
	assert_int_equal(same_hits(ix, "ma* ri", 10, 0), 0);
	assert_int_equal(same_hits(ix, "title:ma ri", 10, 0), 0);
	furet_index_close(ix);
	for (i = 0; i < 600; i++)
		free(texts[i]);
	free(texts);
	free(docs);
	tu_rmtree(dir);
	free(dir);
}

/* A word found only in titles, with titles weighted 0: it adds nothing to
** BM25F (its bound is 0) but counts in the coverage bonus of the passages
** that have it, so a passage reached by the other word must still be
** bounded with it. */
static void test_pruning_title_only(void **state)
{
	char *dir = tu_mkdtemp();
	furet_doc docs[400];
	char ids[400][16], texts[400][128];
	furet_index *ix;
	size_t i;
	(void)state;

	for (i = 0; i < 400; i++) {
		snprintf(ids[i], sizeof ids[i], "t%zu", i);
		/* "marine" in every body, more often in some; "zorglub" only in
		** the titles of a tenth of the documents */
		snprintf(texts[i], sizeof texts[i], "marine %s port bateau quai %zu.",
			i % 7 == 0 ? "marine marine" : "voile", i);
		docs[i] = tu_doc(ids[i], i % 10 == 3 ? "zorglub" : "autre", texts[i]);
	}
	ix = build(dir, docs, 400);
	same_hits_w(ix, "zorglub marine", 3, 0, 0);
	same_hits_w(ix, "zorglub marine", 10, FURET_SEARCH_BEST_PER_DOC, 0);
	same_hits_w(ix, "marine zorglub quai", 5, 0, 0);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* The same on PIAF's dev questions (real French questions), when the shared
** data is there. */
static void test_pruning_piaf(void **state)
{
	const char *data = tu_shared_data();
	char path[512], *dir, *qs, *line, *save = NULL;
	size_t len = 0, n = 0, n_pruned = 0;
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_rc rc;
	FILE *f;
	(void)state;

	if (!data) {
		fprintf(stderr, "SKIP test_pruning_piaf: no ../shared/data\n");
		return;
	}
	snprintf(path, sizeof path, "%s/eval/piaf/queries.dev.tsv", data);
	qs = tu_read(path, &len);
	snprintf(path, sizeof path, "%s/eval/piaf/passages.jsonl", data);
	f = fopen(path, "r");
	if (!qs || !f) {
		fprintf(stderr, "SKIP test_pruning_piaf: no PIAF set in %s\n", data);
		free(qs);
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	/* Index the passages through the CLI's reader: the library has none,
	** so read the JSONL lines here (id, title, text are plain strings). */
	dir = tu_mkdtemp();
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w), FURET_OK);
	{
		size_t plen = 0;
		char *all = tu_read(path, &plen), *l, *sv = NULL;
		assert_non_null(all);
		for (l = strtok_r(all, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
			json_error_t err;
			json_t *o = json_loads(l, 0, &err);
			furet_doc d;
			assert_non_null(o);
			memset(&d, 0, sizeof d);
			d.id = json_string_value(json_object_get(o, "id"));
			d.title = json_string_value(json_object_get(o, "title"));
			d.text = json_string_value(json_object_get(o, "text"));
			d.id_len = strlen(d.id);
			d.title_len = d.title ? strlen(d.title) : 0;
			d.text_len = strlen(d.text);
			d.format = FURET_FORMAT_TEXT;
			rc = furet_writer_add(w, &d);
			assert_int_equal(rc, FURET_OK);
			json_decref(o);
		}
		free(all);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	for (line = strtok_r(qs, "\n", &save); line && n < 1500;
		line = strtok_r(NULL, "\n", &save), n++) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		n_pruned += (size_t)same_hits(ix, tab + 1, 10, FURET_SEARCH_BEST_PER_DOC);
		n_pruned += (size_t)same_hits(ix, tab + 1, 10, 0);
	}
	fprintf(stderr, "PIAF: pruned %zu of %zu searches\n", n_pruned, 2 * n);
	assert_true(n_pruned > n / 2);
	furet_index_close(ix);
	free(qs);
	tu_rmtree(dir);
	free(dir);
}

/* Issue 4's questions on the seed article. */
static void test_seed_language(void **state)
{
	char *dir = tu_mkdtemp();
	size_t len = 0, i, n;
	char *text = tu_read("corpus/fabriques-du-numerique.txt", &len);
	furet_doc d;
	furet_index *ix;
	furet_results *r;
	(void)state;

	assert_non_null(text);
	d = tu_doc("fabriques", NULL, text);
	d.text_len = len;
	ix = build(dir, &d, 1);
	r = query(ix, "\"\xc3\xa9" "coles du web\"", NULL);
	assert_non_null(strstr(hit(r, 0).text, "coles du web"));
	furet_results_free(r);
	r = query(ix, "O\xc3\xb9 a \xc3\xa9t\xc3\xa9 implant\xc3\xa9" "e la premi\xc3\xa8re "
		"\xc3\x89" "cole du web ?", NULL);
	assert_non_null(strstr(hit(r, 0).text, "premi\xc3\xa8re \xc3\x89" "cole du web "
		"implant"));
	furet_results_free(r);
	r = query(ix, "num\xc3\xa9ri*", NULL);
	n = furet_results_count(r);
	assert_true(n >= 5);
	for (i = 0; i < n; i++)
		assert_true(strstr(hit(r, i).text, "num\xc3\xa9rique") ||
			strstr(hit(r, i).text, "Num\xc3\xa9rique"));
	furet_results_free(r);
	furet_index_close(ix);
	free(text);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bm25_exact),
		cmocka_unit_test(test_title_field),
		cmocka_unit_test(test_limit_offset_collapse),
		cmocka_unit_test(test_query_edges),
		cmocka_unit_test(test_seed_article),
		cmocka_unit_test(test_seed_french),
		cmocka_unit_test(test_accent_matching),
		cmocka_unit_test(test_evenement),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_prefix_bound),
		cmocka_unit_test(test_typos),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_asked_word),
		cmocka_unit_test(test_name_word),
		cmocka_unit_test(test_pruning_exact),
		cmocka_unit_test(test_pruning_title_only),
		cmocka_unit_test(test_pruning_piaf),
		cmocka_unit_test(test_seed_language),
	};
	return cmocka_run_group_tests_name("search", tests, NULL, NULL);
}
