/*
** test_threads.c — one index handle shared by four searching threads while
** another process commits batch after batch to the same index. Every
** search must succeed and see a whole index (each committed batch replaces
** all the "live" documents at once, so a search sees all of one batch's
** documents and none of another's); the writer's batches all commit; the
** index checks at the end. `make tsan` (and so `make check`) runs this
** suite under ThreadSanitizer; `make test` runs it plainly.
*/
#include "testutil.h"

#include <pthread.h>
#include <sys/wait.h>

#include "furet.h"

#define N_THREADS 4
#define N_BATCHES 25
#define N_LIVE 20 /* documents each batch rewrites */

typedef struct shared {
	furet_index *ix;
	int is_done;   /* the writer process has ended */
	int n_bad;     /* failed or inconsistent searches */
	int n_searches;
	int n_mid;     /* searches that saw a batch the writer process made */
} shared;

/* The writer process: N_BATCHES batches, each putting N_LIVE documents
** whose text names the batch ("lotN"), with its own handle. Exit 0 when all
** committed. */
static int write_batches(const char *dir)
{
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	char id[32], text[200];
	furet_doc d;
	int b, i;

	if (furet_index_open(dir, 0, &ix) != FURET_OK)
		return 1;
	memset(&d, 0, sizeof d);
	for (b = 1; b <= N_BATCHES; b++) {
		if (furet_writer_begin(ix, 0, &w) != FURET_OK)
			return 2;
		for (i = 0; i < N_LIVE; i++) {
			snprintf(id, sizeof id, "live%d", i);
			snprintf(text, sizeof text, "Les abeilles du rucher font du "
				"miel, lot%d, ruche %d.", b, i);
			d.id = id;
			d.id_len = strlen(id);
			d.text = text;
			d.text_len = strlen(text);
			d.source = "threads";
			if (furet_writer_put(w, &d, NULL) != FURET_OK) {
				furet_writer_abort(w);
				return 3;
			}
		}
		if (furet_writer_commit(w) != FURET_OK)
			return 4;
	}
	furet_index_close(ix);
	return 0;
}

/* Which batch a hit's text comes from (the number after "lot"). */
static int batch_of(const char *text)
{
	const char *p = strstr(text, "lot");
	return p ? atoi(p + 3) : -1;
}

static void *searcher(void *arg)
{
	shared *sh = arg;
	furet_search_options o;
	int round = 0;

	furet_search_options_init(&o);
	o.limit = N_LIVE + 5;
	while (!__atomic_load_n(&sh->is_done, __ATOMIC_ACQUIRE) || round < 5) {
		furet_results *r = NULL;
		const char *q = round % 2 ? "abeilles miel" : "ruche rucher";
		size_t i, n;
		int first = -2;

		round++;
		if (furet_search(sh->ix, q, strlen(q), &o, &r) != FURET_OK) {
			__atomic_add_fetch(&sh->n_bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		n = furet_results_count(r);
		/* A whole batch: N_LIVE hits, all from one batch. */
		if (n != N_LIVE)
			__atomic_add_fetch(&sh->n_bad, 1, __ATOMIC_RELAXED);
		for (i = 0; i < n; i++) {
			furet_hit h;
			int b;
			if (furet_results_get(r, i, &h) != FURET_OK) {
				__atomic_add_fetch(&sh->n_bad, 1, __ATOMIC_RELAXED);
				break;
			}
			b = batch_of(h.text);
			if (first == -2)
				first = b;
			if (b != first || b < 0 || b > N_BATCHES)
				__atomic_add_fetch(&sh->n_bad, 1, __ATOMIC_RELAXED);
		}
		furet_results_free(r);
		__atomic_add_fetch(&sh->n_searches, 1, __ATOMIC_RELAXED);
		if (first > 0 && first < N_BATCHES)
			__atomic_add_fetch(&sh->n_mid, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_threads_and_a_writer_process(void **state)
{
	char *dir = tu_mkdtemp();
	shared sh;
	pthread_t th[N_THREADS];
	furet_writer *w = NULL;
	furet_doc d;
	char id[32], text[200];
	pid_t pid;
	int i, status = -1;
	(void)state;

	memset(&sh, 0, sizeof sh);
	memset(&d, 0, sizeof d);
	/* Batch 0, before anything runs. */
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &sh.ix), 0);
	assert_int_equal(furet_writer_begin(sh.ix, FURET_WRITE_REBUILD, &w), 0);
	for (i = 0; i < N_LIVE; i++) {
		snprintf(id, sizeof id, "live%d", i);
		snprintf(text, sizeof text, "Les abeilles du rucher font du miel, "
			"lot0, ruche %d.", i);
		d.id = id;
		d.id_len = strlen(id);
		d.text = text;
		d.text_len = strlen(text);
		d.source = "threads";
		assert_int_equal(furet_writer_put(w, &d, NULL), FURET_OK);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);

	/* The writer is forked before any thread exists. */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(write_batches(dir));
	for (i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, searcher, &sh), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	__atomic_store_n(&sh.is_done, 1, __ATOMIC_RELEASE);
	for (i = 0; i < N_THREADS; i++)
		pthread_join(th[i], NULL);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(sh.n_bad, 0);
	assert_true(sh.n_searches >= N_THREADS * 5);
	printf("threads: %d searches, %d of them during the writer's batches\n",
		sh.n_searches, sh.n_mid);

	/* The shared handle sees the last batch, and the index is whole. */
	{
		furet_results *r = NULL;
		furet_hit h;
		assert_int_equal(furet_search(sh.ix, "ruche", 5, NULL, &r),
			FURET_OK);
		assert_true(furet_results_count(r) > 0);
		assert_int_equal(furet_results_get(r, 0, &h), FURET_OK);
		assert_int_equal(batch_of(h.text), N_BATCHES);
		furet_results_free(r);
	}
	assert_int_equal(furet_index_check(sh.ix), FURET_OK);
	furet_index_close(sh.ix);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_and_a_writer_process),
	};
	return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
