/*
** test_index.c — the public handle: opening errors with their messages,
** error strings, versions, the analysis API, and sharing one index between
** threads that search while a writer commits.
*/
#include "testutil.h"

#include <pthread.h>

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

typedef struct shared {
	furet_index *ix;
	int n_bad;
} shared;

static void *searcher(void *arg)
{
	shared *sh = arg;
	int i;
	for (i = 0; i < 200; i++) {
		furet_results *r = NULL;
		if (furet_search(sh->ix, "abeilles miel", 13, NULL, &r) != FURET_OK ||
			furet_results_count(r) == 0)
			__atomic_add_fetch(&sh->n_bad, 1, __ATOMIC_RELAXED);
		furet_results_free(r);
	}
	return NULL;
}

/* Four threads search one handle while the main thread commits batches:
** each search sees a whole index, before or after a batch. */
static void test_threads(void **state)
{
	char *dir = tu_mkdtemp();
	shared sh = { NULL, 0 };
	pthread_t th[4];
	furet_writer *w = NULL;
	furet_doc d;
	char id[32];
	int i;
	(void)state;

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
	for (i = 0; i < 20; i++) {
		assert_int_equal(furet_writer_begin(sh.ix, 0, &w), FURET_OK);
		snprintf(id, sizeof id, "more%d", i);
		d.id = id;
		d.id_len = strlen(id);
		d.text = "Encore du miel et des abeilles.";
		d.text_len = strlen(d.text);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
		assert_int_equal(furet_writer_commit(w), FURET_OK);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(sh.n_bad, 0);
	furet_index_close(sh.ix);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_and_versions),
		cmocka_unit_test(test_analysis_api),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
