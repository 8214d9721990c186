/*
** test_oom.c — out of memory at every allocation: for each N, allocation N
** and all later ones fail through an index build and a search on a small
** corpus. Every call must return FURET_OK or FURET_NOMEM (never crash,
** never another code), and the index must stay as it was before the
** failed batch (checked, and the same search answers). Leaks are caught
** by the sanitizer and valgrind runs of make check.
*/
#include "testutil.h"

#include "furet.h"
#include "util.h"

static const char *const texts[] = {
	"L'école du numérique à Valenciennes forme des développeurs.\n\n"
	"POP School est financée par le Fonds social européen.",
	"Le PoleS est une association loi 1901 à Villeneuve-la-Garenne.",
	"Simplon.co propose des formations gratuites, courtes et intensives.",
};

static furet_rc add_all(furet_index *ix, unsigned flags)
{
	furet_writer *w = NULL;
	furet_rc rc;
	size_t i;
	char id[16];

	if ((rc = furet_writer_begin(ix, flags, &w)))
		return rc;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		furet_doc d;
		memset(&d, 0, sizeof d);
		snprintf(id, sizeof id, "doc%zu", i);
		d.id = id;
		d.id_len = strlen(id);
		d.text = texts[i];
		d.text_len = strlen(texts[i]);
		if ((rc = furet_writer_add(w, &d))) {
			furet_writer_abort(w);
			return rc;
		}
	}
	return furet_writer_commit(w);
}

static furet_rc search_count(furet_index *ix, const char *q, size_t *n)
{
	furet_results *r = NULL;
	furet_search_options o;
	furet_rc rc;

	furet_search_options_init(&o);
	o.flags = FURET_SEARCH_EXPLAIN;
	*n = 0;
	rc = furet_search(ix, q, strlen(q), &o, &r);
	if (!rc)
		*n = furet_results_count(r);
	furet_results_free(r);
	return rc;
}

static void test_build_and_search(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	size_t n_ok, n, fail_at;
	int is_done = 0;
	(void)state;

	/* The reference: an index with the corpus, and what a query finds. */
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(add_all(ix, FURET_WRITE_REBUILD), FURET_OK);
	assert_int_equal(search_count(ix, "formations financées NEAR école", &n_ok),
		FURET_OK);
	assert_true(n_ok > 0);

	for (fail_at = 1; !is_done && fail_at < 20000; fail_at++) {
		furet_rc rb, rs;
		furet_alloc_fail_after(fail_at);
		rb = add_all(ix, FURET_WRITE_REBUILD);
		rs = search_count(ix, "formations financées NEAR école", &n);
		furet_alloc_fail_after(0);
		if (rb != FURET_OK && rb != FURET_NOMEM)
			fail_msg("allocation %zu: the rebuild returned %d", fail_at, rb);
		if (rs != FURET_OK && rs != FURET_NOMEM)
			fail_msg("allocation %zu: the search returned %d", fail_at, rs);
		/* Whatever failed, the index is whole and answers as before. */
		assert_int_equal(furet_index_check(ix), FURET_OK);
		assert_int_equal(search_count(ix, "formations financées NEAR école",
			&n), FURET_OK);
		assert_int_equal(n, n_ok);
		is_done = rb == FURET_OK && rs == FURET_OK;
	}
	assert_true(is_done);
	printf("oom: build and search tried with allocation 1 to %zu failing\n",
		fail_at - 1);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* An incremental batch (a changed document, a removed one, a new one) and a
** compaction, with allocation N failing: the index is then either as
** before the batch or as after it, and always passes check. */
static void test_update_and_compact(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	size_t n_before, n_after, n, fail_at;
	int is_done = 0;
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(add_all(ix, FURET_WRITE_REBUILD), FURET_OK);
	assert_int_equal(search_count(ix, "association OR nouvelle", &n_before),
		FURET_OK);
	for (fail_at = 1; !is_done && fail_at < 20000; fail_at++) {
		furet_writer *w = NULL;
		furet_doc d;
		furet_rc rc, rcc = FURET_NOMEM;
		uint64_t before, after;

		furet_alloc_fail_after(fail_at);
		rc = furet_writer_begin(ix, 0, &w);
		if (!rc) {
			memset(&d, 0, sizeof d);
			d.id = "doc0";
			d.id_len = 4;
			d.text = "Une nouvelle version du premier document.";
			d.text_len = strlen(d.text);
			rc = furet_writer_put(w, &d, NULL);
			if (!rc) {
				rc = furet_writer_remove(w, "doc1", 4);
				rc = rc == FURET_DONE ? FURET_OK : rc;
			}
			if (!rc) {
				d.id = "doc9";
				d.text = "Un document tout neuf sur une association nouvelle.";
				d.text_len = strlen(d.text);
				rc = furet_writer_put(w, &d, NULL);
			}
			if (!rc)
				rc = furet_writer_commit(w);
			else
				furet_writer_abort(w);
		}
		if (rc == FURET_OK)
			rcc = furet_index_compact(ix, &before, &after);
		furet_alloc_fail_after(0);
		if (rc != FURET_OK && rc != FURET_NOMEM)
			fail_msg("allocation %zu: the batch returned %d", fail_at, rc);
		if (rcc != FURET_OK && rcc != FURET_NOMEM)
			fail_msg("allocation %zu: compact returned %d", fail_at, rcc);
		assert_int_equal(furet_index_check(ix), FURET_OK);
		assert_int_equal(search_count(ix, "association OR nouvelle", &n),
			FURET_OK);
		if (rc == FURET_OK) {
			is_done = rcc == FURET_OK;
			n_after = n;
			/* Back to the state before, for the next N. */
			assert_int_equal(add_all(ix, FURET_WRITE_REBUILD), FURET_OK);
		} else {
			assert_int_equal(n, n_before);
		}
	}
	assert_true(is_done);
	assert_true(n_after != n_before);
	printf("oom: batch and compaction tried with allocation 1 to %zu failing\n",
		fail_at - 1);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_search),
		cmocka_unit_test(test_update_and_compact),
	};
	return cmocka_run_group_tests_name("oom", tests, NULL, NULL);
}
