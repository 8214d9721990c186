/*
** test_update.c — incremental updates (issue 5): what furet_writer_put says
** it did (added, updated, unchanged, replaced in the batch) and what searches
** see afterwards; removal by id and of the documents of files no longer seen;
** dead passages in the statistics; compaction (same answers, a file no
** larger, within 1.3x a fresh build after many update rounds); the writer
** lock between two handles with FURET_WRITE_NO_WAIT; searches in threads
** while batches commit; and real documents put on top of the corpus.
*/
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unicode/uclean.h>

#include "furet.h"
#include "index.h" /* furet_purge_commits */
#include "store.h" /* furet_store_compact_ckpt */

static furet_doc mkdoc(const char *id, const char *title, const char *text,
	const char *source)
{
	furet_doc d = tu_doc(id, title, text);
	d.source = source;
	return d;
}

/* Puts a document that must be accepted; returns the outcome. */
static int put(furet_writer *w, const char *id, const char *title,
	const char *text, const char *source)
{
	furet_doc d = mkdoc(id, title, text, source);
	int outcome = -1;
	assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
	return outcome;
}

static furet_index *open_ix(const char *dir)
{
	furet_index *ix = NULL;
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	return ix;
}

static furet_writer *begin(furet_index *ix, unsigned flags)
{
	furet_writer *w = NULL;
	assert_int_equal(furet_writer_begin(ix, flags, &w), FURET_OK);
	assert_non_null(w);
	return w;
}

static void commit(furet_index *ix, furet_writer *w)
{
	furet_rc rc = furet_writer_commit(w);
	if (rc != FURET_OK)
		fail_msg("commit: %s (%s)", furet_strerror(rc), furet_index_errmsg(ix));
}

static void check_ok(furet_index *ix)
{
	furet_rc rc = furet_index_check(ix);
	if (rc != FURET_OK)
		fail_msg("furet_index_check: %s (%s)", furet_strerror(rc),
			furet_index_errmsg(ix));
}

/* Passages that match q, all of them. */
static uint64_t n_matched(furet_index *ix, const char *q)
{
	furet_results *r = NULL;
	furet_search_options o;
	uint64_t m;

	furet_search_options_init(&o);
	o.flags = FURET_SEARCH_NO_TEXT;
	assert_int_equal(furet_search(ix, q, strlen(q), &o, &r), FURET_OK);
	m = furet_results_matched(r);
	furet_results_free(r);
	return m;
}

/* ---- a copy of every hit of a query, to compare two moments or two indexes */

typedef struct snap_hit {
	char *doc, *title, *text;
	uint32_t passage;
	size_t start, end;
	double score;
} snap_hit;

typedef struct snap {
	size_t n;
	snap_hit *h;
} snap;

static void snap_take(furet_index *ix, const char *q, snap *s)
{
	furet_results *r = NULL;
	furet_search_options o;
	size_t i;

	furet_search_options_init(&o);
	o.limit = 2000;
	assert_int_equal(furet_search(ix, q, strlen(q), &o, &r), FURET_OK);
	/* Every match is held, so two snapshots compare as sets. */
	assert_true(furet_results_matched(r) <= o.limit);
	s->n = furet_results_count(r);
	s->h = calloc(s->n ? s->n : 1, sizeof *s->h);
	assert_non_null(s->h);
	for (i = 0; i < s->n; i++) {
		furet_hit h;
		assert_int_equal(furet_results_get(r, i, &h), FURET_OK);
		s->h[i].doc = strdup(h.doc);
		s->h[i].title = strdup(h.title);
		s->h[i].text = strndup(h.text, h.text_len);
		s->h[i].passage = h.passage;
		s->h[i].start = h.start;
		s->h[i].end = h.end;
		s->h[i].score = h.score;
	}
	furet_results_free(r);
}

static void snap_free(snap *s)
{
	size_t i;
	for (i = 0; i < s->n; i++) {
		free(s->h[i].doc);
		free(s->h[i].title);
		free(s->h[i].text);
	}
	free(s->h);
	s->n = 0;
	s->h = NULL;
}

/* Same hits in the same order, every field and the score bit for bit. */
static void snap_assert_identical(const snap *a, const snap *b)
{
	size_t i;
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->h[i].doc, b->h[i].doc);
		assert_string_equal(a->h[i].title, b->h[i].title);
		assert_string_equal(a->h[i].text, b->h[i].text);
		assert_int_equal(a->h[i].passage, b->h[i].passage);
		assert_int_equal(a->h[i].start, b->h[i].start);
		assert_int_equal(a->h[i].end, b->h[i].end);
		assert_true(a->h[i].score == b->h[i].score);
	}
}

/* The same passages (document id, passage number) with scores within eps;
** the order of equal scores may differ. */
static void snap_assert_same_set(const snap *a, const snap *b, double eps)
{
	size_t i, j;
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++)
			if (!strcmp(a->h[i].doc, b->h[j].doc) &&
				a->h[i].passage == b->h[j].passage)
				break;
		if (j == b->n)
			fail_msg("hit %s #%u missing", a->h[i].doc, a->h[i].passage);
		if (fabs(a->h[i].score - b->h[j].score) > eps)
			fail_msg("hit %s #%u: score %.12g then %.12g", a->h[i].doc,
				a->h[i].passage, a->h[i].score, b->h[j].score);
	}
}

/* ---- put ----------------------------------------------------------------- */

static void test_put_outcomes(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = open_ix(dir);
	furet_writer *w;
	furet_stats s1, s2;
	snap before, after;
	furet_doc d;
	int outcome;
	(void)state;

	w = begin(ix, 0);
	assert_int_equal(put(w, "a", "Les abeilles",
		"Les abeilles butinent le pangolin.\n\nLe miel de la ruche.", NULL),
		FURET_PUT_ADDED);
	assert_int_equal(put(w, "b", "Potager", "Le jardin potager du quartier.",
		NULL), FURET_PUT_ADDED);
	assert_int_equal(put(w, "m", NULL, "# Titre du carnet\n\nUne note sur le "
		"tamanoir.", NULL), FURET_PUT_ADDED);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "pangolin"), 1);
	assert_int_equal(n_matched(ix, "potager"), 1);

	/* The same content again: unchanged, and searches see the same index. */
	snap_take(ix, "abeilles miel jardin potager tamanoir", &before);
	assert_int_equal(furet_index_stats(ix, &s1), FURET_OK);
	w = begin(ix, 0);
	assert_int_equal(put(w, "a", "Les abeilles",
		"Les abeilles butinent le pangolin.\n\nLe miel de la ruche.", NULL),
		FURET_PUT_UNCHANGED);
	assert_int_equal(put(w, "b", "Potager", "Le jardin potager du quartier.",
		NULL), FURET_PUT_UNCHANGED);
	assert_int_equal(put(w, "m", NULL, "# Titre du carnet\n\nUne note sur le "
		"tamanoir.", NULL), FURET_PUT_UNCHANGED);
	commit(ix, w);
	snap_take(ix, "abeilles miel jardin potager tamanoir", &after);
	snap_assert_identical(&before, &after);
	snap_free(&before);
	snap_free(&after);
	assert_int_equal(furet_index_stats(ix, &s2), FURET_OK);
	assert_int_equal(s2.n_docs, s1.n_docs);
	assert_int_equal(s2.n_passages, s1.n_passages);
	assert_int_equal(s2.n_terms, s1.n_terms);
	assert_int_equal(s2.n_postings, s1.n_postings);
	assert_int_equal(s2.total_length, s1.total_length);
	assert_int_equal(s2.n_dead, 0);

	/* Changed text: the old wording is gone once committed, not before. */
	w = begin(ix, 0);
	assert_int_equal(put(w, "a", "Les abeilles",
		"Les abeilles butinent le fennec.\n\nLe miel de la ruche.", NULL),
		FURET_PUT_UPDATED);
	assert_int_equal(n_matched(ix, "pangolin"), 1);
	assert_int_equal(n_matched(ix, "fennec"), 0);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "pangolin"), 0);
	assert_int_equal(n_matched(ix, "fennec"), 1);
	assert_int_equal(n_matched(ix, "miel"), 1);

	/* Twice in one batch: the last one wins, for a new id and an old one. */
	w = begin(ix, 0);
	assert_int_equal(put(w, "c", NULL, "Le capybara nage.", NULL),
		FURET_PUT_ADDED);
	assert_int_equal(put(w, "c", NULL, "Le wombat creuse.", NULL),
		FURET_PUT_REPLACED_IN_BATCH);
	assert_int_equal(put(w, "a", NULL, "Le koala dort.", NULL),
		FURET_PUT_UPDATED);
	assert_int_equal(put(w, "a", NULL, "Le lamantin broute.", NULL),
		FURET_PUT_REPLACED_IN_BATCH);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "capybara"), 0);
	assert_int_equal(n_matched(ix, "wombat"), 1);
	assert_int_equal(n_matched(ix, "koala"), 0);
	assert_int_equal(n_matched(ix, "fennec"), 0);
	assert_int_equal(n_matched(ix, "miel"), 0);
	assert_int_equal(n_matched(ix, "lamantin"), 1);
	assert_int_equal(furet_index_stats(ix, &s1), FURET_OK);
	assert_int_equal(s1.n_docs, 4);
	assert_int_equal(s1.n_passages, 4);

	/* A new title alone is a change; so is a new format. */
	w = begin(ix, 0);
	assert_int_equal(put(w, "b", "Verger", "Le jardin potager du quartier.",
		NULL), FURET_PUT_UPDATED);
	d = mkdoc("m", NULL, "# Titre du carnet\n\nUne note sur le tamanoir.",
		NULL);
	d.format = FURET_FORMAT_MARKDOWN;
	outcome = -1;
	assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
	assert_int_equal(outcome, FURET_PUT_UPDATED);
	commit(ix, w);
	{
		furet_results *r = NULL;
		furet_hit h;
		assert_int_equal(furet_search(ix, "potager", 7, NULL, &r), FURET_OK);
		assert_int_equal(furet_results_count(r), 1);
		assert_int_equal(furet_results_get(r, 0, &h), FURET_OK);
		assert_string_equal(h.title, "Verger");
		furet_results_free(r);
	}
	assert_int_equal(n_matched(ix, "title:verger"), 1);
	assert_int_equal(n_matched(ix, "title:potager"), 0);

	/* Rejected documents, as furet_writer_add. */
	w = begin(ix, 0);
	d = mkdoc("bad", NULL, "caf\xe9", NULL);
	assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_INVALID);
	d = mkdoc("", NULL, "sans id", NULL);
	assert_int_equal(furet_writer_put(w, &d, NULL), FURET_INVALID);
	assert_int_equal(put(w, "e", NULL, "Le narval plonge.", NULL),
		FURET_PUT_ADDED);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "narval"), 1);
	check_ok(ix);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* ---- remove ------------------------------------------------------------ */

static void test_remove(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = open_ix(dir);
	furet_writer *w;
	furet_stats s0, s1;
	(void)state;

	w = begin(ix, 0);
	put(w, "a", NULL, "Les abeilles font du miel.\n\nLes frelons asiatiques "
		"attaquent.\n\nLa ruche bourdonnante.", NULL);
	put(w, "b", NULL, "Le jardin potager du quartier.", NULL);
	commit(ix, w);
	assert_int_equal(furet_index_stats(ix, &s0), FURET_OK);
	assert_int_equal(s0.n_docs, 2);
	assert_int_equal(s0.n_passages, 4);
	assert_int_equal(s0.n_dead, 0);

	w = begin(ix, 0);
	assert_int_equal(furet_writer_remove(w, "a", 1), FURET_OK);
	assert_int_equal(furet_writer_remove(w, "inconnu", 7), FURET_DONE);
	assert_int_equal(n_matched(ix, "abeilles"), 1); /* not committed yet */
	commit(ix, w);
	assert_int_equal(n_matched(ix, "abeilles"), 0);
	assert_int_equal(n_matched(ix, "frelons"), 0);
	assert_int_equal(n_matched(ix, "bourdonnante"), 0);
	assert_int_equal(n_matched(ix, "potager"), 1);
	check_ok(ix);
	assert_int_equal(furet_index_stats(ix, &s1), FURET_OK);
	assert_int_equal(s1.n_docs, 1);
	assert_int_equal(s1.n_passages, 1);
	assert_int_equal(s1.n_dead, 3);
	assert_true(s1.n_postings < s0.n_postings);
	assert_true(s1.total_length < s0.total_length);

	/* Gone means gone: removing it again finds nothing, putting it adds. */
	w = begin(ix, 0);
	assert_int_equal(furet_writer_remove(w, "a", 1), FURET_DONE);
	assert_int_equal(put(w, "a", NULL, "Les abeilles reviennent.", NULL),
		FURET_PUT_ADDED);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "abeilles"), 1);
	assert_int_equal(n_matched(ix, "frelons"), 0);
	check_ok(ix);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* A word of its own for each number: "zq" and its digits as letters. */
static void word_of(unsigned i, char *out, size_t cap)
{
	size_t n = 0;

	out[n++] = 'z';
	out[n++] = 'q';
	do {
		out[n++] = (char)('a' + i % 10);
		i /= 10;
	} while (i && n + 1 < cap);
	out[n] = '\0';
}

/* Thousands of removals in one batch, a third of them called off by the
** same documents put unchanged (the set of removals moves entries as it
** drops one): the others go, those stay, and the summary counts them. */
static void test_many_removals(void **state)
{
	char *dir = tu_mkdtemp(), id[32], text[64], word[32];
	furet_index *ix = open_ix(dir);
	furet_batch_summary sum;
	furet_writer *w;
	furet_stats st;
	unsigned i;
	(void)state;

	w = begin(ix, 0);
	for (i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "d%u", i);
		word_of(i, word, sizeof word);
		snprintf(text, sizeof text, "%s commun", word);
		put(w, id, NULL, text, NULL);
	}
	commit(ix, w);
	w = begin(ix, 0);
	for (i = 0; i < 3000; i++) {
		if (i % 3 == 0)
			continue;
		snprintf(id, sizeof id, "d%u", i);
		assert_int_equal(furet_writer_remove(w, id, strlen(id)), FURET_OK);
	}
	/* (in the order they were scheduled: those that moved past a slot
	** are then found after its entry was dropped) */
	for (i = 0; i < 3000; i++) {
		if (i % 3 != 1)
			continue;
		snprintf(id, sizeof id, "d%u", i);
		word_of(i, word, sizeof word);
		snprintf(text, sizeof text, "%s commun", word);
		assert_int_equal(put(w, id, NULL, text, NULL), FURET_PUT_UNCHANGED);
	}
	assert_int_equal(furet_writer_summary(w, &sum), FURET_OK);
	assert_int_equal(sum.removed, 1000);
	assert_int_equal(sum.unchanged, 1000);
	commit(ix, w);
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.n_docs, 2000);
	/* (each put again: unchanged when it stayed, added when it went) */
	w = begin(ix, 0);
	for (i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "d%u", i);
		word_of(i, word, sizeof word);
		snprintf(text, sizeof text, "%s commun", word);
		assert_int_equal(put(w, id, NULL, text, NULL), i % 3 == 2 ?
			FURET_PUT_ADDED : FURET_PUT_UNCHANGED);
	}
	furet_writer_abort(w);
	check_ok(ix);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void test_remove_unseen(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = open_ix(dir);
	furet_writer *w;
	furet_stats st;
	size_t n_removed = 99;
	const char *dirs[] = { "dir" };
	const char *files[] = { "other/f.jsonl" };
	(void)state;

	w = begin(ix, 0);
	put(w, "dir/a.txt", NULL, "Le pangolin.", "dir/a.txt");
	put(w, "dir/b.txt", NULL, "Le tamanoir.", "dir/b.txt");
	put(w, "dir/sub/c.txt", NULL, "Le fennec.", "dir/sub/c.txt");
	put(w, "other/d.txt", NULL, "Le capybara.", "other/d.txt");
	put(w, "dirx/e.txt", NULL, "Le wombat.", "dirx/e.txt"); /* not under dir */
	put(w, "sans-source", NULL, "Le koala.", NULL);
	put(w, "x", NULL, "Le lamantin.", "other/f.jsonl");
	put(w, "y", NULL, "Le narval.", "other/f.jsonl");
	put(w, "z", NULL, "Le morse.", "other/f.jsonl");
	commit(ix, w);

	w = begin(ix, 0);
	assert_int_equal(put(w, "dir/a.txt", NULL, "Le pangolin.", "dir/a.txt"),
		FURET_PUT_UNCHANGED);
	assert_int_equal(furet_writer_remove_unseen(w, dirs, 1, &n_removed),
		FURET_OK);
	assert_int_equal(n_removed, 2);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "pangolin"), 1);
	assert_int_equal(n_matched(ix, "tamanoir"), 0);
	assert_int_equal(n_matched(ix, "fennec"), 0);
	assert_int_equal(n_matched(ix, "capybara"), 1);
	assert_int_equal(n_matched(ix, "wombat"), 1);
	assert_int_equal(n_matched(ix, "koala"), 1);

	/* A source equal to a path given (a JSONL file) counts too. */
	w = begin(ix, 0);
	assert_int_equal(put(w, "x", NULL, "Le lamantin.", "other/f.jsonl"),
		FURET_PUT_UNCHANGED);
	n_removed = 99;
	assert_int_equal(furet_writer_remove_unseen(w, files, 1, &n_removed),
		FURET_OK);
	assert_int_equal(n_removed, 2);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "lamantin"), 1);
	assert_int_equal(n_matched(ix, "narval"), 0);
	assert_int_equal(n_matched(ix, "morse"), 0);
	assert_int_equal(n_matched(ix, "capybara"), 1);
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.n_docs, 5);
	check_ok(ix);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* ---- generated French documents ------------------------------------------ */

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static const char *const subjects[] = { "Le conseil municipal", "La commune",
	"L'association du quartier", "Le département", "La région",
	"Un habitant", "Les élèves du collège", "La bibliothèque",
	"Le centre social", "Une entreprise locale", "La préfecture",
	"Le comité des fêtes" };
static const char *const verbs[] = { "finance", "organise", "soutient",
	"présente", "accompagne", "prépare", "ouvre", "développe", "propose",
	"évalue", "rénove", "annonce" };
static const char *const objects[] = { "un atelier de lecture",
	"la fête du quartier", "des cours de cuisine", "le marché du samedi",
	"une exposition de photographies", "la rénovation de l'école",
	"un jardin partagé", "des formations au numérique", "la piste cyclable",
	"un concert en plein air", "le nouveau gymnase", "une aide aux devoirs" };
static const char *const complements[] = { "pendant les vacances d'été",
	"avec le soutien de l'État", "dans le centre-ville", "pour les familles",
	"chaque premier mardi du mois", "grâce aux bénévoles", "malgré la pluie",
	"depuis le printemps dernier", "auprès des personnes âgées",
	"en partenariat avec la mairie" };

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Version v of document i: one to three paragraphs of two to four
** sentences; every version of a document reads differently. */
static void gen_text(char *buf, size_t cap, unsigned i, unsigned v)
{
	uint32_t s = i * 7919u + v * 104729u + 1;
	size_t len = 0;
	unsigned p, k, n_par, n_sent;

	buf[0] = '\0';
	n_par = 1 + lcg(&s) % 3;
	for (p = 0; p < n_par; p++) {
		n_sent = 2 + lcg(&s) % 3;
		for (k = 0; k < n_sent && len < cap; k++) {
			len += (size_t)snprintf(buf + len, cap - len,
				"%s%s %s %s %s, pour %u euros. ", k ? "" : (p ? "\n\n" : ""),
				subjects[lcg(&s) % N_OF(subjects)],
				verbs[lcg(&s) % N_OF(verbs)],
				objects[lcg(&s) % N_OF(objects)],
				complements[lcg(&s) % N_OF(complements)],
				i * 1000u + v * 17u + k);
		}
	}
	assert_true(len < cap);
}

/* ---- stats and compaction ------------------------------------------------------ */

static const char *const queries[] = { "atelier de lecture", "fête quartier",
	"gymnase bénévoles", "numérique mairie", "piste cyclable pluie" };

static void test_stats_compact(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = open_ix(dir), *again = NULL;
	furet_writer *w, *w2 = NULL;
	furet_stats s0, s1, s2, s3;
	snap before[N_OF(queries)], after;
	uint64_t b = 0, a = 0;
	char id[32], text[4096];
	unsigned i, q;
	(void)state;

	w = begin(ix, 0);
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof id, "doc%u", i);
		gen_text(text, sizeof text, i, 0);
		assert_int_equal(put(w, id, NULL, text, NULL), FURET_PUT_ADDED);
	}
	commit(ix, w);
	assert_int_equal(furet_index_stats(ix, &s0), FURET_OK);
	assert_int_equal(s0.n_docs, 50);
	assert_int_equal(s0.n_dead, 0);
	assert_true(s0.file_bytes > 0);
	assert_true(s0.last_update > 0);
	assert_true(s0.format_version > 0);
	assert_string_equal(s0.analyzer, furet_analyzer_name());

	/* Ten removed, ten updated. */
	w = begin(ix, 0);
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "doc%u", i);
		assert_int_equal(furet_writer_remove(w, id, strlen(id)), FURET_OK);
	}
	for (i = 10; i < 20; i++) {
		snprintf(id, sizeof id, "doc%u", i);
		gen_text(text, sizeof text, i, 1);
		assert_int_equal(put(w, id, NULL, text, NULL), FURET_PUT_UPDATED);
	}
	commit(ix, w);
	assert_int_equal(furet_index_stats(ix, &s1), FURET_OK);
	assert_int_equal(s1.n_docs, 40);
	assert_true(s1.n_passages < s0.n_passages + 10 * 3);
	assert_true(s1.n_dead > 0);
	check_ok(ix);

	for (q = 0; q < N_OF(queries); q++)
		snap_take(ix, queries[q], &before[q]);

	/* Compaction takes the writer lock: not while this handle writes. */
	w2 = begin(ix, 0);
	assert_int_equal(furet_index_compact(ix, &b, &a), FURET_BUSY);
	furet_writer_abort(w2);

	assert_int_equal(furet_index_compact(ix, &b, &a), FURET_OK);
	assert_true(b > 0);
	assert_true(a > 0);
	assert_true(a <= b);
	assert_int_equal(furet_index_stats(ix, &s2), FURET_OK);
	assert_int_equal(s2.n_dead, 0);
	assert_int_equal(s2.n_docs, s1.n_docs);
	assert_int_equal(s2.n_passages, s1.n_passages);
	assert_int_equal(s2.n_postings, s1.n_postings);
	assert_int_equal(s2.total_length, s1.total_length);
	assert_int_equal(s2.file_bytes, a);
	check_ok(ix);
	for (q = 0; q < N_OF(queries); q++) {
		snap_take(ix, queries[q], &after);
		snap_assert_same_set(&before[q], &after, 1e-9);
		snap_free(&after);
	}

	/* A new handle sees the compacted file too, and writing goes on. */
	assert_int_equal(furet_index_open(dir, 0, &again), FURET_OK);
	assert_int_equal(furet_index_stats(again, &s3), FURET_OK);
	assert_int_equal(s3.n_dead, 0);
	assert_int_equal(s3.n_docs, 40);
	for (q = 0; q < N_OF(queries); q++) {
		snap_take(again, queries[q], &after);
		snap_assert_same_set(&before[q], &after, 1e-9);
		snap_free(&after);
	}
	furet_index_close(again);
	w = begin(ix, 0);
	assert_int_equal(put(w, "doc0", NULL, "Le pangolin revient.", NULL),
		FURET_PUT_ADDED);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "pangolin"), 1);
	assert_int_equal(furet_index_compact(ix, NULL, NULL), FURET_OK);
	check_ok(ix);
	assert_int_equal(n_matched(ix, "pangolin"), 1);

	for (q = 0; q < N_OF(queries); q++)
		snap_free(&before[q]);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* a and b answer every query of queries[] with the same hits. */
static void assert_same_answers(furet_index *a, furet_index *b)
{
	size_t q;

	for (q = 0; q < N_OF(queries); q++) {
		snap s1, s2;
		snap_take(a, queries[q], &s1);
		snap_take(b, queries[q], &s2);
		snap_assert_same_set(&s1, &s2, 1e-9);
		snap_free(&s1);
		snap_free(&s2);
	}
}

/* After ten rounds that each rewrite a tenth of 200 documents, the
** compacted index is within 1.3x a fresh build of the same documents, and
** answers as it does. */
#define SB_N 200

static void build_fresh(const char *dir, const unsigned *version,
	furet_stats *st)
{
	furet_index *ix = open_ix(dir);
	furet_writer *w = begin(ix, FURET_WRITE_REBUILD);
	char id[32], text[4096];
	unsigned i;

	for (i = 0; i < SB_N; i++) {
		snprintf(id, sizeof id, "doc%u", i);
		gen_text(text, sizeof text, i, version[i]);
		assert_int_equal(put(w, id, NULL, text, NULL), FURET_PUT_ADDED);
	}
	commit(ix, w);
	assert_int_equal(furet_index_stats(ix, st), FURET_OK);
	furet_index_close(ix);
}

/* Puts documents lo..hi-1 of a set whose every passage has "abeille"
** (and a word of its own); a batch of its own. */
static void put_bees(furet_index *ix, unsigned flags, unsigned lo,
	unsigned hi)
{
	furet_writer *w = begin(ix, flags);
	char id[32], text[128];
	unsigned i;

	for (i = lo; i < hi; i++) {
		snprintf(id, sizeof id, "bee%u", i);
		snprintf(text, sizeof text, "L'abeille numéro x%uy butine.", i);
		put(w, id, NULL, text, NULL);
	}
	commit(ix, w);
}

/* A term of one block keeps it in its terms record, one of several has
** them all in the postings table: a term going from one block to two (a
** batch that fills block 0, then one that starts block 1) and back (a
** compaction after removals) answers as a fresh build of the same
** documents does, and furet_index_check (which counts the postings
** records against the terms' blocks) finds nothing amiss. */
static void test_one_block_terms(void **state)
{
	char *dir = tu_mkdtemp(), *fresh_dir = tu_mkdtemp();
	furet_index *ix = open_ix(dir), *fresh;
	furet_writer *w;
	snap a, b;
	char id[32];
	unsigned i;
	(void)state;

	put_bees(ix, FURET_WRITE_REBUILD, 0, 127);
	check_ok(ix);
	assert_int_equal(n_matched(ix, "abeille"), 127);
	put_bees(ix, 0, 127, 128); /* block 0 full, still the only one */
	check_ok(ix);
	assert_int_equal(n_matched(ix, "abeille"), 128);
	put_bees(ix, 0, 128, 131); /* block 1 begins */
	check_ok(ix);
	assert_int_equal(n_matched(ix, "abeille"), 131);
	fresh = open_ix(fresh_dir);
	put_bees(fresh, FURET_WRITE_REBUILD, 0, 131);
	snap_take(ix, "abeille", &a);
	snap_take(fresh, "abeille", &b);
	snap_assert_same_set(&a, &b, 1e-9);
	snap_free(&a);
	snap_free(&b);
	furet_index_close(fresh);

	w = begin(ix, 0);
	for (i = 0; i < 100; i++) {
		snprintf(id, sizeof id, "bee%u", i);
		assert_int_equal(furet_writer_remove(w, id, strlen(id)), FURET_OK);
	}
	commit(ix, w);
	check_ok(ix);
	assert_int_equal(furet_index_compact(ix, NULL, NULL), FURET_OK);
	check_ok(ix); /* one block again: none left in the postings table */
	assert_int_equal(n_matched(ix, "abeille"), 31);
	assert_int_equal(n_matched(ix, "x120y"), 1);
	assert_int_equal(n_matched(ix, "x20y"), 0);
	put_bees(ix, 0, 131, 140); /* and it grows again from its record */
	check_ok(ix);
	assert_int_equal(n_matched(ix, "abeille"), 40);
	furet_index_close(ix);
	tu_rmtree(dir);
	tu_rmtree(fresh_dir);
	free(dir);
	free(fresh_dir);
}

static void test_size_bound(void **state)
{
	char *dir = tu_mkdtemp(), *fresh_dir = tu_mkdtemp(), *first_dir = tu_mkdtemp();
	furet_index *ix, *fresh;
	furet_writer *w;
	furet_stats st, st2, st_first, st_fresh;
	unsigned version[SB_N] = { 0 };
	char id[32], text[4096];
	unsigned i, round;
	uint64_t b = 0, a = 0;
	size_t n_commits;
	(void)state;

	build_fresh(first_dir, version, &st_first);
	ix = open_ix(dir);
	w = begin(ix, 0);
	for (i = 0; i < SB_N; i++) {
		snprintf(id, sizeof id, "doc%u", i);
		gen_text(text, sizeof text, i, 0);
		assert_int_equal(put(w, id, NULL, text, NULL), FURET_PUT_ADDED);
	}
	commit(ix, w);
	for (round = 1; round <= 10; round++) {
		w = begin(ix, 0);
		for (i = (round * 37) % 10; i < SB_N; i += 10) {
			snprintf(id, sizeof id, "doc%u", i);
			version[i]++;
			gen_text(text, sizeof text, i, version[i]);
			assert_int_equal(put(w, id, NULL, text, NULL), FURET_PUT_UPDATED);
		}
		commit(ix, w);
	}
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_true(st.n_dead > 0);
	build_fresh(fresh_dir, version, &st_fresh);
	fresh = open_ix(fresh_dir);
	/* A purge that fails after its second transaction leaves some terms
	** purged and others not: the same answers, check passes, and the
	** passages still count as removed, for the next compaction. */
	furet_store_compact_ckpt = 4096;
	furet_purge_fail_after = 2;
	assert_int_equal(furet_index_compact(ix, &b, &a), FURET_IO);
	furet_purge_fail_after = 0;
	check_ok(ix);
	assert_same_answers(ix, fresh);
	assert_int_equal(furet_index_stats(ix, &st2), FURET_OK);
	assert_int_equal(st2.n_dead, st.n_dead);
	/* (the purge, then the new environment, committed every 4 KB
	** written) */
	n_commits = furet_purge_commits;
	assert_int_equal(furet_index_compact(ix, &b, &a), FURET_OK);
	assert_true(furet_purge_commits - n_commits >= 3);
	furet_store_compact_ckpt = (size_t)32 << 20;
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.n_dead, 0);
	check_ok(ix);

	if ((double)st.file_bytes > 1.3 * (double)st_fresh.file_bytes)
		fail_msg("after 10 update rounds and compaction: %llu bytes, a "
			"fresh build %llu (first build %llu, before compaction %llu)",
			(unsigned long long)st.file_bytes,
			(unsigned long long)st_fresh.file_bytes,
			(unsigned long long)st_first.file_bytes, (unsigned long long)b);
	assert_int_equal(st.n_docs, st_fresh.n_docs);
	assert_int_equal(st.n_passages, st_fresh.n_passages);
	assert_int_equal(st.n_postings, st_fresh.n_postings);
	assert_int_equal(st.total_length, st_fresh.total_length);

	assert_same_answers(ix, fresh);
	furet_index_close(fresh);
	furet_index_close(ix);
	tu_rmtree(dir);
	tu_rmtree(fresh_dir);
	tu_rmtree(first_dir);
	free(dir);
	free(fresh_dir);
	free(first_dir);
}

/* Rebuilding in place three times keeps the size of a fresh build (each
** rebuild is written in DIR.rebuild and swapped in), and an empty .gitkeep
** stays. Where no DIR.rebuild can be made, and with a file of the caller's
** in the directory (a swap would carry it away), the rebuild is one
** transaction over the index and still commits whole (only larger). */
static void test_rebuild_in_place_size(void **state)
{
	char *dir = tu_mkdtemp(), *fresh_dir = tu_mkdtemp(), path[4200];
	unsigned version[SB_N] = { 0 };
	furet_stats st, st_fresh;
	furet_index *ix, *fresh;
	unsigned round;
	FILE *f;
	(void)state;

	build_fresh(fresh_dir, version, &st_fresh);
	/* The repository's index/ holds an empty .gitkeep: it stays. */
	assert_int_equal(tu_write(dir, ".gitkeep", "", 0), 0);
	snprintf(path, sizeof path, "%s/.gitkeep", dir);
	for (round = 0; round < 3; round++) {
		build_fresh(dir, version, &st);
		if ((double)st.file_bytes > 1.1 * (double)st_fresh.file_bytes)
			fail_msg("rebuild %u in place: %llu bytes, a fresh build %llu",
				round + 1, (unsigned long long)st.file_bytes,
				(unsigned long long)st_fresh.file_bytes);
	}
	ix = open_ix(dir);
	check_ok(ix);
	fresh = open_ix(fresh_dir);
	assert_same_answers(ix, fresh);
	furet_index_close(ix);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);

	/* No sibling directory can be made (a file has its name): the rebuild
	** goes on in place. */
	{
		char sib[4200];
		snprintf(sib, sizeof sib, "%s.rebuild", dir);
		f = fopen(sib, "w");
		assert_non_null(f);
		fputs("not a directory\n", f);
		fclose(f);
		build_fresh(dir, version, &st);
		assert_int_equal(st.n_docs, st_fresh.n_docs);
		ix = open_ix(dir);
		check_ok(ix);
		assert_same_answers(ix, fresh);
		furet_index_close(ix);
		assert_int_equal(unlink(sib), 0); /* still a file */
	}

	assert_int_equal(tu_write(dir, "notes.txt", "mine\n", 5), 0);
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	build_fresh(dir, version, &st);
	assert_int_equal(st.n_docs, st_fresh.n_docs);
	assert_true(st.file_bytes > st_fresh.file_bytes); /* not swapped */
	assert_int_equal(access(path, F_OK), 0);
	ix = open_ix(dir);
	check_ok(ix);
	furet_index_close(ix);
	furet_index_close(fresh);
	unlink(path);
	tu_rmtree(dir);
	tu_rmtree(fresh_dir);
	free(dir);
	free(fresh_dir);
}

/* ---- the writer lock and atomicity ---------------------------------------------- */

static void test_no_wait_and_atomicity(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix1 = open_ix(dir), *ix2 = NULL;
	furet_writer *w1, *w2 = (furet_writer *)&w1;
	(void)state;

	assert_int_equal(furet_index_open(dir, 0, &ix2), FURET_OK);
	w1 = begin(ix1, 0);
	/* flock is per open file description: two handles conflict as two
	** processes would. */
	assert_int_equal(furet_writer_begin(ix2, FURET_WRITE_NO_WAIT, &w2),
		FURET_BUSY);
	assert_null(w2);
	assert_non_null(strstr(furet_index_errmsg(ix2), "pid"));
	assert_int_equal(furet_writer_begin(ix1, FURET_WRITE_NO_WAIT, &w2),
		FURET_BUSY);
	assert_null(w2);

	/* A batch not committed is invisible, then aborted leaves nothing. */
	assert_int_equal(put(w1, "a", NULL, "Le pangolin dort.", NULL),
		FURET_PUT_ADDED);
	assert_int_equal(n_matched(ix1, "pangolin"), 0);
	assert_int_equal(n_matched(ix2, "pangolin"), 0);
	furet_writer_abort(w1);
	assert_int_equal(n_matched(ix1, "pangolin"), 0);

	/* The lock is free again: the other handle writes, both see it. */
	w2 = begin(ix2, FURET_WRITE_NO_WAIT);
	assert_int_equal(put(w2, "b", NULL, "Le tamanoir mange.", NULL),
		FURET_PUT_ADDED);
	assert_int_equal(n_matched(ix1, "tamanoir"), 0);
	commit(ix2, w2);
	assert_int_equal(n_matched(ix1, "tamanoir"), 1);
	assert_int_equal(n_matched(ix2, "tamanoir"), 1);
	w1 = begin(ix1, FURET_WRITE_NO_WAIT);
	furet_writer_abort(w1);
	furet_index_close(ix2);
	furet_index_close(ix1);
	tu_rmtree(dir);
	free(dir);
}

/* A rebuild or a compaction through one handle swaps the files in: a
** handle opened before reads the new ones from its next search on, and
** its next batch goes into them, not into the files swapped out. */
static void test_other_handle_follows_swap(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix1 = open_ix(dir), *ix2 = open_ix(dir);
	furet_writer *w;
	(void)state;

	w = begin(ix1, 0);
	assert_int_equal(put(w, "a", NULL, "Le pangolin dort.", NULL),
		FURET_PUT_ADDED);
	commit(ix1, w);
	assert_int_equal(n_matched(ix2, "pangolin"), 1);

	w = begin(ix1, FURET_WRITE_REBUILD);
	assert_int_equal(put(w, "b", NULL, "Le tamanoir mange.", NULL),
		FURET_PUT_ADDED);
	commit(ix1, w);
	assert_int_equal(n_matched(ix2, "tamanoir"), 1);
	assert_int_equal(n_matched(ix2, "pangolin"), 0);

	w = begin(ix2, 0);
	assert_int_equal(put(w, "c", NULL, "Le fourmilier court.", NULL),
		FURET_PUT_ADDED);
	commit(ix2, w);
	assert_int_equal(n_matched(ix1, "fourmilier"), 1);
	assert_int_equal(n_matched(ix1, "tamanoir"), 1);

	assert_int_equal(furet_index_compact(ix2, NULL, NULL), FURET_OK);
	assert_int_equal(n_matched(ix1, "fourmilier"), 1);
	assert_int_equal(n_matched(ix1, "tamanoir"), 1);
	assert_int_equal(n_matched(ix1, "pangolin"), 0);
	check_ok(ix1);
	check_ok(ix2);
	furet_index_close(ix2);
	furet_index_close(ix1);
	tu_rmtree(dir);
	free(dir);
}

/* Files of another format version swapped in (a newer furet's rebuild)
** are not read as this furet's: the handle's next search says so. */
static void test_swap_of_other_version(void **state)
{
	char *dir = tu_mkdtemp(), *other = tu_mkdtemp(), err[300];
	char from[4200], to[4200];
	furet_index *ix = open_ix(dir), *ox = open_ix(other);
	furet_results *r = NULL;
	furet_search_options o;
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_writer *w;
	unsigned char ver[4];
	(void)state;

	w = begin(ix, 0);
	assert_int_equal(put(w, "a", NULL, "Le pangolin dort.", NULL),
		FURET_PUT_ADDED);
	commit(ix, w);
	assert_int_equal(n_matched(ix, "pangolin"), 1);
	w = begin(ox, 0);
	assert_int_equal(put(w, "b", NULL, "Le tamanoir mange.", NULL),
		FURET_PUT_ADDED);
	commit(ox, w);
	furet_index_close(ox);
	assert_int_equal(furet_store_open(other, 0, &s, err, sizeof err),
		FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	furet_put_u32be(ver, 9999);
	assert_int_equal(furet_txn_put(t, FURET_T_META, "format", 6, ver, 4, 0),
		FURET_OK);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);
	snprintf(from, sizeof from, "%s/lock.mdb", other);
	snprintf(to, sizeof to, "%s/lock.mdb", dir);
	assert_int_equal(rename(from, to), 0);
	snprintf(from, sizeof from, "%s/data.mdb", other);
	snprintf(to, sizeof to, "%s/data.mdb", dir);
	assert_int_equal(rename(from, to), 0);

	furet_search_options_init(&o);
	assert_int_equal(furet_search(ix, "tamanoir", 8, &o, &r), FURET_VERSION);
	assert_null(r);
	furet_index_close(ix);
	tu_rmtree(dir);
	tu_rmtree(other);
	free(dir);
	free(other);
}

/* Searching threads see whole batches only, never fewer than before. */
typedef struct reader_arg {
	furet_index *ix;
	atomic_int *stop;
	unsigned n_runs;
	int is_bad;
	char why[128];
} reader_arg;

#define TH_BATCHES 8
#define TH_PER_BATCH 5

static void *reader_main(void *p)
{
	reader_arg *ra = p;
	uint64_t last = 0;
	furet_search_options o;

	furet_search_options_init(&o);
	o.flags = FURET_SEARCH_NO_TEXT;
	while (!ra->is_bad) {
		int is_last = atomic_load(ra->stop);
		furet_results *r = NULL;
		furet_rc rc = furet_search(ra->ix, "hippocampe", 10, &o, &r);
		uint64_t m;
		if (rc != FURET_OK) {
			snprintf(ra->why, sizeof ra->why, "search: %s",
				furet_strerror(rc));
			ra->is_bad = 1;
			break;
		}
		m = furet_results_matched(r);
		furet_results_free(r);
		if (m % TH_PER_BATCH || m < last || m > TH_BATCHES * TH_PER_BATCH) {
			snprintf(ra->why, sizeof ra->why, "%llu hits after %llu",
				(unsigned long long)m, (unsigned long long)last);
			ra->is_bad = 1;
		}
		last = m;
		ra->n_runs++;
		if (is_last)
			break;
	}
	return NULL;
}

static void test_threads_see_whole_batches(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = open_ix(dir);
	furet_writer *w;
	atomic_int stop;
	reader_arg ra[2];
	pthread_t th[2];
	char id[32], text[4096];
	unsigned b, k, t;
	(void)state;

	atomic_init(&stop, 0);
	memset(ra, 0, sizeof ra);
	for (t = 0; t < 2; t++) {
		ra[t].ix = ix;
		ra[t].stop = &stop;
		assert_int_equal(pthread_create(&th[t], NULL, reader_main, &ra[t]), 0);
	}
	for (b = 0; b < TH_BATCHES; b++) {
		w = begin(ix, 0);
		for (k = 0; k < TH_PER_BATCH; k++) {
			size_t len;
			snprintf(id, sizeof id, "b%u-%u", b, k);
			gen_text(text, sizeof text, b * 10 + k, 0);
			len = strlen(text);
			snprintf(text + len, sizeof text - len, " Un hippocampe %u.", b);
			put(w, id, NULL, text, NULL);
		}
		commit(ix, w);
	}
	atomic_store(&stop, 1);
	for (t = 0; t < 2; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		if (ra[t].is_bad)
			fail_msg("reader %u: %s", t, ra[t].why);
		assert_true(ra[t].n_runs > 0);
	}
	assert_int_equal(n_matched(ix, "hippocampe"), TH_BATCHES * TH_PER_BATCH);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* ---- real documents ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_real_data(void **state)
{
	const char *data = tu_shared_data();
	const char *corpus_file = "corpus/fabriques-du-numerique.txt";
	char related[4200];
	char *names[512];
	size_t n_names = 0, i, len = 0;
	char *dir, *text;
	furet_index *ix;
	furet_writer *w;
	furet_results *r = NULL;
	size_t n_removed = 99;
	const char *paths[1];
	const char *q = "Fonds social européen subvention";
	int is_found = 0;
	DIR *dp;
	struct dirent *de;
	(void)state;

	if (!data) {
		print_message("no shared data (../shared/data or $FURET_DATA): "
			"skipping the real-document update test\n");
		skip();
	}
	snprintf(related, sizeof related, "%s/related", data);
	dp = opendir(related);
	if (!dp) {
		print_message("%s absent: skipping\n", related);
		skip();
	}
	while ((de = readdir(dp)) && n_names < 512) {
		size_t nl = strlen(de->d_name);
		if (nl > 4 && !strcmp(de->d_name + nl - 4, ".txt")) {
			names[n_names] = malloc(strlen(related) + nl + 2);
			sprintf(names[n_names], "%s/%s", related, de->d_name);
			n_names++;
		}
	}
	closedir(dp);
	qsort(names, n_names, sizeof names[0], cmp_str);
	assert_true(n_names > 0);

	dir = tu_mkdtemp();
	ix = open_ix(dir);
	text = tu_read(corpus_file, &len);
	assert_non_null(text);
	w = begin(ix, 0);
	{
		furet_doc d = mkdoc(corpus_file, NULL, text, corpus_file);
		int outcome = -1;
		d.text_len = len;
		assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
		assert_int_equal(outcome, FURET_PUT_ADDED);
	}
	commit(ix, w);
	free(text);

	/* Twice: added the first time, unchanged the second. */
	for (int pass = 0; pass < 2; pass++) {
		w = begin(ix, 0);
		for (i = 0; i < n_names; i++) {
			furet_doc d;
			int outcome = -1;
			text = tu_read(names[i], &len);
			assert_non_null(text);
			d = mkdoc(names[i], NULL, text, names[i]);
			d.text_len = len;
			assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
			assert_int_equal(outcome,
				pass ? FURET_PUT_UNCHANGED : FURET_PUT_ADDED);
			free(text);
		}
		if (pass) {
			paths[0] = related;
			assert_int_equal(furet_writer_remove_unseen(w, paths, 1,
				&n_removed), FURET_OK);
			assert_int_equal(n_removed, 0);
		}
		commit(ix, w);
	}
	check_ok(ix);

	assert_int_equal(furet_search(ix, q, strlen(q), NULL, &r), FURET_OK);
	for (i = 0; i < 3 && i < furet_results_count(r); i++) {
		furet_hit h;
		size_t dl;
		assert_int_equal(furet_results_get(r, i, &h), FURET_OK);
		dl = strlen(h.doc);
		if (dl >= 10 && !strcmp(h.doc + dl - 10, "F31677.txt"))
			is_found = 1;
	}
	if (!is_found) {
		furet_hit h;
		for (i = 0; i < furet_results_count(r) && i < 5; i++) {
			furet_results_get(r, i, &h);
			print_message("  %zu. %s %.4f\n", i + 1, h.doc, h.score);
		}
		furet_results_free(r);
		fail_msg("'%s': no passage of F31677.txt in the top 3", q);
	}
	furet_results_free(r);
	for (i = 0; i < n_names; i++)
		free(names[i]);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_outcomes),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_many_removals),
		cmocka_unit_test(test_remove_unseen),
		cmocka_unit_test(test_stats_compact),
		cmocka_unit_test(test_one_block_terms),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_rebuild_in_place_size),
		cmocka_unit_test(test_no_wait_and_atomicity),
		cmocka_unit_test(test_other_handle_follows_swap),
		cmocka_unit_test(test_swap_of_other_version),
		cmocka_unit_test(test_threads_see_whole_batches),
		cmocka_unit_test(test_real_data),
	};
	int failed = cmocka_run_group_tests_name("update", tests, NULL, NULL);

	u_cleanup(); /* ICU's caches would show as still reachable */
	return failed ? 1 : 0;
}
