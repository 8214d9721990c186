/*
** test_writer.c — batches: atomic commit and abort, duplicate ids, appending
** to an existing index across postings blocks (same answers as a rebuild),
** invalid documents, one writer at a time, and map growth when a batch does
** not fit.
*/
#include "testutil.h"

#include <math.h>

#include "furet.h"
#include "store.h"

static furet_doc mkdoc(const char *id, const char *text)
{
	return tu_doc(id, NULL, text);
}

static size_t count_hits(furet_index *ix, const char *q, uint64_t *matched)
{
	furet_results *r = NULL;
	furet_search_options o;
	size_t n;

	furet_search_options_init(&o);
	o.limit = 1000;
	assert_int_equal(furet_search(ix, q, strlen(q), &o, &r), FURET_OK);
	n = furet_results_count(r);
	if (matched)
		*matched = furet_results_matched(r);
	furet_results_free(r);
	return n;
}

static void test_commit_abort_duplicates(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_writer *w = NULL, *w2 = NULL;
	furet_doc d;
	furet_stats st;
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w), FURET_OK);
	/* One writer at a time. */
	assert_int_equal(furet_writer_begin(ix, 0, &w2), FURET_BUSY);
	assert_null(w2);
	d = mkdoc("a", "Les abeilles font du miel.");
	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	assert_int_equal(furet_writer_add(w, &d), FURET_EXISTS);
	d = mkdoc("bad", "caf\xe9");
	assert_int_equal(furet_writer_add(w, &d), FURET_INVALID);
	d = mkdoc("", "sans id");
	assert_int_equal(furet_writer_add(w, &d), FURET_INVALID);
	d = mkdoc("b", "Le miel des abeilles.\n\nLes frelons mangent les abeilles.");
	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	assert_int_equal(furet_writer_passages(w), 3);
	/* Nothing is visible before the commit. */
	assert_int_equal(count_hits(ix, "miel", NULL), 0);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	assert_int_equal(count_hits(ix, "miel", NULL), 2);
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.n_docs, 2);
	assert_int_equal(st.n_passages, 3);

	/* An aborted batch changes nothing. */
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w), FURET_OK);
	d = mkdoc("c", "Tout autre chose.");
	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	furet_writer_abort(w);
	assert_int_equal(count_hits(ix, "miel", NULL), 2);
	assert_int_equal(count_hits(ix, "chose", NULL), 0);

	/* Adding an id that is already indexed fails at commit, atomically. */
	assert_int_equal(furet_writer_begin(ix, 0, &w), FURET_OK);
	d = mkdoc("c", "Une chose nouvelle.");
	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	d = mkdoc("a", "Un doublon.");
	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	assert_int_equal(furet_writer_commit(w), FURET_EXISTS);
	assert_non_null(strstr(furet_index_errmsg(ix), "already in the index"));
	assert_int_equal(count_hits(ix, "chose", NULL), 0);
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.n_docs, 2);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* 300 documents share "commun": three batches appended one after the other
** fill several 128-posting blocks; the answers equal a one-batch rebuild. */
static void test_append_matches_rebuild(void **state)
{
	char *d1 = tu_mkdtemp(), *d2 = tu_mkdtemp();
	furet_index *inc = NULL, *full = NULL;
	furet_writer *w = NULL;
	char id[32], text[128];
	int i, batch;
	uint64_t m1, m2;
	furet_results *r1 = NULL, *r2 = NULL;
	furet_search_options o;
	(void)state;

	assert_int_equal(furet_index_open(d1, FURET_OPEN_CREATE, &inc), FURET_OK);
	assert_int_equal(furet_index_open(d2, FURET_OPEN_CREATE, &full), FURET_OK);
	for (batch = 0; batch < 3; batch++) {
		assert_int_equal(furet_writer_begin(inc, 0, &w), FURET_OK);
		for (i = batch * 100; i < batch * 100 + 100; i++) {
			furet_doc d;
			snprintf(id, sizeof id, "doc%03d", i);
			snprintf(text, sizeof text, "mot commun %s et rare%d%s", id, i,
				i % 7 ? "" : " commun");
			d = mkdoc(id, text);
			assert_int_equal(furet_writer_add(w, &d), FURET_OK);
		}
		assert_int_equal(furet_writer_commit(w), FURET_OK);
	}
	assert_int_equal(furet_writer_begin(full, FURET_WRITE_REBUILD, &w),
		FURET_OK);
	for (i = 0; i < 300; i++) {
		furet_doc d;
		snprintf(id, sizeof id, "doc%03d", i);
		snprintf(text, sizeof text, "mot commun %s et rare%d%s", id, i,
			i % 7 ? "" : " commun");
		d = mkdoc(id, text);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);

	assert_int_equal(count_hits(inc, "commun", &m1), 300);
	assert_int_equal(count_hits(full, "commun", &m2), 300);
	assert_int_equal(m1, 300);
	furet_search_options_init(&o);
	o.limit = 300;
	assert_int_equal(furet_search(inc, "commun rare250", 14, &o, &r1), 0);
	assert_int_equal(furet_search(full, "commun rare250", 14, &o, &r2), 0);
	assert_int_equal(furet_results_count(r1), furet_results_count(r2));
	for (i = 0; i < (int)furet_results_count(r1); i++) {
		furet_hit a, b;
		furet_results_get(r1, (size_t)i, &a);
		furet_results_get(r2, (size_t)i, &b);
		assert_string_equal(a.doc, b.doc);
		assert_true(fabs(a.score - b.score) < 1e-12);
	}
	{
		furet_hit a;
		furet_results_get(r1, 0, &a);
		assert_string_equal(a.doc, "doc250");
	}
	furet_results_free(r1);
	furet_results_free(r2);
	furet_index_close(inc);
	furet_index_close(full);
	tu_rmtree(d1);
	tu_rmtree(d2);
	free(d1);
	free(d2);
}

/* With a tiny initial map, a batch meets MDB_MAP_FULL: the writer grows the
** map and writes the batch again. */
static void test_map_growth(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	size_t saved = furet_store_map_min;
	char id[32], text[256];
	int i;
	uint64_t m;
	(void)state;

	furet_store_map_min = 64 * 1024;
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w), FURET_OK);
	for (i = 0; i < 3000; i++) {
		furet_doc d;
		snprintf(id, sizeof id, "g%d", i);
		snprintf(text, sizeof text, "Passage numéro %d sur la croissance de "
			"la carte mémoire, mot%d et terme%d.", i, i, i * 7);
		d = mkdoc(id, text);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	assert_int_equal(count_hits(ix, "croissance", &m), 1000);
	assert_int_equal(m, 3000);
	assert_int_equal(count_hits(ix, "mot2999", NULL), 1);
	furet_index_close(ix);
	furet_store_map_min = saved;
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_abort_duplicates),
		cmocka_unit_test(test_append_matches_rebuild),
		cmocka_unit_test(test_map_growth),
	};
	return cmocka_run_group_tests_name("writer", tests, NULL, NULL);
}
