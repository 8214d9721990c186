/*
** test_index.c — the public handle: opening errors with their messages,
** error strings, versions, the analysis API, and sharing one index between
** threads that search while a writer commits.
*/
#include "testutil.h"

#include <pthread.h>
#include <sched.h>

#include "furet.h"

static void test_errors_and_versions(void **state)
{
	furet_index *ix = (furet_index *)1;
	int rc;
	(void)state;

	assert_int_equal(furet_index_open("/nonexistent/furet/x", 0, &ix),
		FURET_NOINDEX);
	assert_null(ix);
	assert_non_null(strstr(furet_last_errmsg(), "furet index"));
	assert_int_equal(furet_index_open(NULL, 0, &ix), FURET_INVALID);
	assert_int_equal(furet_index_open("x", 0, NULL), FURET_INVALID);
	for (rc = 0; rc <= FURET_QUERY; rc++)
		assert_true(strlen(furet_strerror((furet_rc)rc)) > 0);
	assert_string_equal(furet_strerror((furet_rc)999), "unknown error code");
	assert_string_equal(furet_version(), FURET_VERSION_STRING);
	assert_int_equal(furet_version_number(), FURET_VERSION_NUMBER);
	assert_non_null(strstr(furet_analyzer_name(), "furet-fr/"));
	furet_index_close(NULL);
	furet_results_free(NULL);
	furet_writer_abort(NULL);
	furet_analysis_free(NULL);
}

static void test_analysis_api(void **state)
{
	furet_analysis *a = NULL;
	furet_term t;
	const char *s = "Jusqu’à l'école";
	(void)state;

	assert_int_equal(furet_analyze(s, strlen(s), &a), FURET_OK);
	assert_int_equal(furet_analysis_count(a), 2);
	assert_int_equal(furet_analysis_get(a, 0, &t), FURET_OK);
	assert_true(t.is_stop); /* à */
	assert_int_equal(furet_analysis_get(a, 1, &t), FURET_OK);
	assert_string_equal(t.term, "\xc3\xa9" "col");
	assert_string_equal(t.fold, "ecol");
	assert_int_equal(t.elision_len, 2);
	assert_true(t.flags & FURET_TERM_ACCENTED);
	assert_int_equal(t.position, 1);
	assert_memory_equal(s + t.start, "école", t.end - t.start);
	assert_int_equal(furet_analysis_get(a, 2, &t), FURET_INVALID);
	furet_analysis_free(a);
	assert_int_equal(furet_analyze("\xff", 1, &a), FURET_INVALID);
	assert_null(a);
}

/* An index created and never written to is empty and sound: stats say
** zero, a search finds nothing, check passes (it once reported the missing
** passage arrays as damage). */
static void test_empty_index(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_results *r = NULL;
	furet_stats st;
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	furet_index_close(ix);
	assert_int_equal(furet_index_open(dir, FURET_OPEN_READONLY, &ix), FURET_OK);
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.n_docs + st.n_passages + st.n_terms, 0);
	assert_int_equal(furet_search(ix, "abeilles", 8, NULL, &r), FURET_OK);
	assert_int_equal(furet_results_count(r), 0);
	furet_results_free(r);
	assert_int_equal(furet_index_check(ix), FURET_OK);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

typedef struct shared {
	furet_index *ix;
	int is_stop;        /* set by the main thread: searchers end */
	int n_bad;          /* a search failed or returned a wrong hit */
	int n_searches;     /* searches done, all threads */
} shared;

/* Searches one shared handle until told to stop, each search with its own
** furet_results. Documents are only ever added, so the number of matching
** passages a thread sees never goes down (each search is a whole snapshot),
** and every hit is a passage about bees. */
static void *searcher(void *arg)
{
	shared *sh = arg;
	uint64_t last = 0;

	while (!__atomic_load_n(&sh->is_stop, __ATOMIC_ACQUIRE)) {
		furet_results *r = NULL;
		furet_hit h;
		int is_bad = furet_search(sh->ix, "abeilles miel", 13, NULL, &r) !=
			FURET_OK || furet_results_count(r) == 0 ||
			furet_results_matched(r) < last ||
			furet_results_get(r, 0, &h) != FURET_OK ||
			!strstr(h.text, "abeilles") || h.n_highlights != 2 ||
			h.highlights[1].end > h.text_len;
		if (!is_bad)
			last = furet_results_matched(r);
		furet_results_free(r);
		__atomic_add_fetch(&sh->n_bad, is_bad, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->n_searches, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Statistics read from another thread never go back either. */
static void *stats_reader(void *arg)
{
	shared *sh = arg;
	uint64_t last = 0;

	while (!__atomic_load_n(&sh->is_stop, __ATOMIC_ACQUIRE)) {
		furet_stats st;
		if (furet_index_stats(sh->ix, &st) != FURET_OK || st.n_docs < last)
			__atomic_add_fetch(&sh->n_bad, 1, __ATOMIC_RELAXED);
		last = st.n_docs;
		usleep(1000);
	}
	return NULL;
}

static void wait_searches(shared *sh, int n)
{
	int target = __atomic_load_n(&sh->n_searches, __ATOMIC_RELAXED) + n;
	while (__atomic_load_n(&sh->n_searches, __ATOMIC_RELAXED) < target)
		sched_yield();
}

/* Four threads search one handle and a fifth reads its statistics while the
** main thread commits batches through it, then compacts it: each search
** sees a whole index, before or after a batch, and the handle goes on
** working after the compaction swapped its files. */
static void test_threads(void **state)
{
	char *dir = tu_mkdtemp();
	shared sh;
	pthread_t th[5];
	furet_writer *w = NULL;
	furet_results *r = NULL;
	furet_doc d;
	char id[32];
	int i;
	(void)state;

	memset(&sh, 0, sizeof sh);
	memset(&d, 0, sizeof d);
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &sh.ix), 0);
	assert_int_equal(furet_writer_begin(sh.ix, FURET_WRITE_REBUILD, &w), 0);
	d.id = "base";
	d.id_len = 4;
	d.text = "Les abeilles font du miel.";
	d.text_len = strlen(d.text);
	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, searcher, &sh), 0);
	assert_int_equal(pthread_create(&th[4], NULL, stats_reader, &sh), 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(furet_writer_begin(sh.ix, 0, &w), FURET_OK);
		snprintf(id, sizeof id, "more%d", i);
		d.id = id;
		d.id_len = strlen(id);
		d.text = "Encore du miel et des abeilles.";
		d.text_len = strlen(d.text);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
		/* One writer per handle, even while searches run. */
		assert_int_equal(furet_index_compact(sh.ix, NULL, NULL), FURET_BUSY);
		assert_int_equal(furet_writer_commit(w), FURET_OK);
		if (i % 5 == 0)
			wait_searches(&sh, 8);
	}
	assert_int_equal(furet_index_compact(sh.ix, NULL, NULL), FURET_OK);
	wait_searches(&sh, 40);
	__atomic_store_n(&sh.is_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(sh.n_bad, 0);
	assert_true(sh.n_searches >= 40 + 4 * 8);
	assert_int_equal(furet_search(sh.ix, "abeilles", 8, NULL, &r), FURET_OK);
	assert_int_equal(furet_results_matched(r), 21);
	furet_index_close(sh.ix);
	/* Results are snapshots: they outlive the handle. */
	assert_int_equal(furet_results_count(r), 10);
	furet_results_free(r);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_and_versions),
		cmocka_unit_test(test_analysis_api),
		cmocka_unit_test(test_empty_index),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
