/*
** query_bench.c — query latency and throughput of one index, with one or
** more threads sharing one furet_index handle (what a server does):
**
**   query_bench INDEX QUERIES.tsv [K [THREADS [RUN.trec]]]
**
** QUERIES.tsv holds `qid<TAB>text` lines. Each query is searched for its
** top K (default 100, as ../shared/bench/peers asks), one passage per
** document, without the text (the peers harness's settings). One untimed
** warm-up pass over all the queries comes first, so the index pages are in
** the page cache and every figure is about search, not disk. Then THREADS
** threads (default 1) take the queries in turn from a shared counter; each
** query is timed from the raw string to its results.
**
** Prints one line of JSON: n, threads, k, p50_ms, p95_ms, p99_ms, max_ms,
** mean_ms, qps (queries / wall time of the timed pass, so with two threads
** it counts both). Percentiles are nearest-rank over all queries, as the
** peers harness computes them. With RUN.trec, the hits are also written as
** TREC lines (the order of the queries is kept), so relevance can be
** checked on the same run.
**
** Uses only include/furet.h. Exit status 0, or 2 with a message.
*/
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "furet.h"

typedef struct bench {
	furet_index *ix;
	furet_search_options o;
	char **qid, **qtext;
	size_t n;
	double *lat;              /* seconds, one per query */
	furet_results **res;      /* kept for RUN.trec, else NULL */
	atomic_size_t next;
	atomic_int failed;
} bench;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One thread: takes queries from the shared counter until none is left. */
static void *run_queries(void *arg)
{
	bench *b = arg;
	size_t i;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
		furet_results *res = NULL;
		double t0 = now_s();
		furet_rc rc = furet_search(b->ix, b->qtext[i], strlen(b->qtext[i]),
			&b->o, &res);

		b->lat[i] = now_s() - t0;
		if (rc != FURET_OK) {
			fprintf(stderr, "query_bench: query %s: %s\n", b->qid[i],
				furet_strerror(rc));
			atomic_store(&b->failed, 1);
			continue;
		}
		if (b->res)
			b->res[i] = res;
		else
			furet_results_free(res);
	}
	return NULL;
}

/* Runs every query once with `threads` threads; returns the wall time. */
static double run_pass(bench *b, unsigned threads)
{
	pthread_t th[64];
	unsigned t, started = 0;
	double t0 = now_s();

	atomic_store(&b->next, 0);
	for (t = 1; t < threads; t++) {
		if (pthread_create(&th[t], NULL, run_queries, b) != 0)
			break;
		started++;
	}
	run_queries(b);
	for (t = 1; t <= started; t++)
		pthread_join(th[t], NULL);
	return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values (peers.py's pct). */
static double pct(const double *s, size_t n, double p)
{
	size_t i = (size_t)ceil(p / 100.0 * (double)n);
	return s[i ? i - 1 : 0];
}

static int read_queries(bench *b, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "query_bench: %s: cannot open\n", path);
		return -1;
	}
	while (getline(&line, &lcap, f) >= 0) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		*tab = '\0';
		if (b->n == cap) {
			char **a, **c;
			cap = cap ? cap * 2 : 256;
			a = realloc(b->qid, cap * sizeof *a);
			if (a)
				b->qid = a;
			c = realloc(b->qtext, cap * sizeof *c);
			if (c)
				b->qtext = c;
			if (!a || !c)
				break;
		}
		b->qid[b->n] = strdup(line);
		b->qtext[b->n] = strdup(tab + 1);
		if (!b->qid[b->n] || !b->qtext[b->n]) {
			free(b->qid[b->n]);
			free(b->qtext[b->n]);
			break;
		}
		b->n++;
	}
	free(line);
	fclose(f);
	if (b->n == 0)
		fprintf(stderr, "query_bench: %s: no `qid<TAB>text` line\n", path);
	return b->n ? 0 : -1;
}

int main(int argc, char **argv)
{
	bench b;
	long k = argc > 3 ? strtol(argv[3], NULL, 10) : 100;
	long threads = argc > 4 ? strtol(argv[4], NULL, 10) : 1;
	const char *trec = argc > 5 ? argv[5] : NULL;
	double wall, *sorted = NULL, sum = 0;
	size_t i, h;
	int status = 2;

	if (argc < 3 || argc > 6 || k <= 0 || k > 100000 || threads <= 0 ||
		threads > 64) {
		fprintf(stderr, "usage: query_bench INDEX QUERIES.tsv [K [THREADS "
			"[RUN.trec]]]  (K 1..100000, THREADS 1..64)\n");
		return 2;
	}
	memset(&b, 0, sizeof b);
	if (read_queries(&b, argv[2]))
		goto done;
	if (furet_index_open(argv[1], FURET_OPEN_READONLY, &b.ix) != FURET_OK) {
		fprintf(stderr, "query_bench: %s\n", furet_last_errmsg());
		goto done;
	}
	furet_search_options_init(&b.o);
	b.o.limit = (unsigned)k;
	b.o.flags = FURET_SEARCH_BEST_PER_DOC | FURET_SEARCH_NO_TEXT;
	b.lat = calloc(b.n, sizeof *b.lat);
	sorted = calloc(b.n, sizeof *sorted);
	if (!b.lat || !sorted) {
		fprintf(stderr, "query_bench: out of memory\n");
		goto done;
	}
	run_pass(&b, 1); /* warm-up, untimed */
	if (trec && !(b.res = calloc(b.n, sizeof *b.res))) {
		fprintf(stderr, "query_bench: out of memory\n");
		goto done;
	}
	wall = run_pass(&b, (unsigned)threads);
	if (atomic_load(&b.failed))
		goto done;
	memcpy(sorted, b.lat, b.n * sizeof *sorted);
	qsort(sorted, b.n, sizeof *sorted, cmp_double);
	for (i = 0; i < b.n; i++)
		sum += sorted[i];
	printf("{\"n\": %zu, \"threads\": %ld, \"k\": %ld, \"p50_ms\": %.3f, "
		"\"p95_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
		"\"mean_ms\": %.3f, \"qps\": %.1f}\n", b.n, threads, k,
		1000 * pct(sorted, b.n, 50), 1000 * pct(sorted, b.n, 95),
		1000 * pct(sorted, b.n, 99), 1000 * sorted[b.n - 1],
		1000 * sum / (double)b.n, (double)b.n / wall);
	if (trec) {
		FILE *f = fopen(trec, "w");
		if (!f) {
			fprintf(stderr, "query_bench: %s: cannot write\n", trec);
			goto done;
		}
		for (i = 0; i < b.n; i++) {
			size_t nh = furet_results_count(b.res[i]);
			for (h = 0; h < nh; h++) {
				furet_hit hit;
				furet_results_get(b.res[i], h, &hit);
				fprintf(f, "%s Q0 %s %u %.6f furet\n", b.qid[i], hit.doc,
					hit.rank, hit.score);
			}
		}
		if (fclose(f)) {
			fprintf(stderr, "query_bench: %s: write failed\n", trec);
			goto done;
		}
	}
	status = 0;
done:
	if (b.res)
		for (i = 0; i < b.n; i++)
			furet_results_free(b.res[i]);
	free(b.res);
	furet_index_close(b.ix);
	for (i = 0; i < b.n; i++) {
		free(b.qid[i]);
		free(b.qtext[i]);
	}
	free(b.qid);
	free(b.qtext);
	free(b.lat);
	free(sorted);
	return status;
}
