/*
** furet_peer.c — furet as an external engine of the peers benchmark
** (../shared/bench/peers, "External engine protocol"), so that one run of
** peers.py measures furet and Xapian, SQLite FTS5, Lucene++ and PostgreSQL
** on the same data:
**
**   furet_peer index  PASSAGES.jsonl INDEX_DIR
**   furet_peer search INDEX_DIR QUERIES.tsv RUN.trec K LATENCIES.tsv
**
** index: reads every {"id","title","text"} line into memory first (timed as
** parse_s), then adds and commits them (index_s: analysis, inversion, the
** LMDB commit and its fsync) and prints {"index_s":..,"parse_s":..} as its
** last stdout line. Each passage is one document, as the harness wants.
**
** search: one untimed warm-up pass over the queries, then each query timed
** from the raw string to the top K (id, score) pairs, written as TREC lines
** and `qid<TAB>seconds` latencies. Single thread, like the harness.
**
** Uses only include/furet.h and jansson. Exit status 0, or 2 with a message.
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallopt */
#endif

#include "furet.h"

typedef struct doc_in {
	char *id, *title, *text;
	size_t id_len, title_len, text_len;
} doc_in;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup_json(json_t *v, size_t *len)
{
	char *s;

	if (!json_is_string(v)) {
		*len = 0;
		return NULL;
	}
	*len = json_string_length(v);
	s = malloc(*len + 1);
	if (s) {
		memcpy(s, json_string_value(v), *len);
		s[*len] = '\0';
	}
	return s;
}

static int cmd_index(const char *passages, const char *dir)
{
	FILE *f = fopen(passages, "r");
	doc_in *docs = NULL;
	size_t n = 0, cap = 0, lineno = 0, i, lcap = 0;
	char *line = NULL;
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	double t0, t1, t2;
	int status = 2;
	furet_rc rc;

	if (!f) {
		fprintf(stderr, "furet_peer: %s: cannot open\n", passages);
		return 2;
	}
	t0 = now_s();
	while (getline(&line, &lcap, f) >= 0) {
		json_error_t err;
		json_t *o;
		doc_in *d;

		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		o = json_loads(line, JSON_ALLOW_NUL, &err);
		if (!o || !json_is_string(json_object_get(o, "id")) ||
			!json_is_string(json_object_get(o, "text"))) {
			fprintf(stderr, "furet_peer: %s:%zu: not a passage; skipped\n",
				passages, lineno);
			json_decref(o);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			docs = realloc(docs, cap * sizeof *docs);
			if (!docs) {
				fprintf(stderr, "furet_peer: out of memory\n");
				json_decref(o);
				goto done;
			}
		}
		d = &docs[n++];
		d->id = dup_json(json_object_get(o, "id"), &d->id_len);
		d->title = dup_json(json_object_get(o, "title"), &d->title_len);
		d->text = dup_json(json_object_get(o, "text"), &d->text_len);
		json_decref(o);
	}
	t1 = now_s();
	if ((rc = furet_index_open(dir, FURET_OPEN_CREATE, &ix)) != FURET_OK) {
		fprintf(stderr, "furet_peer: %s\n", furet_last_errmsg());
		goto done;
	}
	if ((rc = furet_writer_begin(ix, FURET_WRITE_REBUILD, &w)) != FURET_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		furet_doc d;
		memset(&d, 0, sizeof d);
		d.id = docs[i].id;
		d.id_len = docs[i].id_len;
		d.title = docs[i].title;
		d.title_len = docs[i].title_len;
		d.text = docs[i].text;
		d.text_len = docs[i].text_len;
		rc = furet_writer_add(w, &d);
		if (rc == FURET_INVALID || rc == FURET_EXISTS) {
			fprintf(stderr, "furet_peer: passage %s: %s; skipped\n",
				docs[i].id, furet_index_errmsg(ix));
			continue;
		}
		if (rc != FURET_OK) {
			furet_writer_abort(w);
			goto fail;
		}
	}
	rc = furet_writer_commit(w);
	if (rc != FURET_OK)
		goto fail;
	t2 = now_s();
	printf("{\"index_s\": %.6f, \"parse_s\": %.6f, \"optimize_s\": 0}\n",
		t2 - t1, t1 - t0);
	status = 0;
	goto done;
fail:
	fprintf(stderr, "furet_peer: indexing failed: %s (%s)\n",
		furet_strerror(rc), furet_index_errmsg(ix));
done:
	furet_index_close(ix);
	for (i = 0; i < n; i++) {
		free(docs[i].id);
		free(docs[i].title);
		free(docs[i].text);
	}
	free(docs);
	free(line);
	fclose(f);
	return status;
}

static int cmd_search(const char *dir, const char *queries, const char *run,
	unsigned k, const char *latencies)
{
	FILE *fq = fopen(queries, "r"), *fr = NULL, *fl = NULL;
	furet_index *ix = NULL;
	furet_search_options o;
	char **qid = NULL, **qtext = NULL, *line = NULL;
	size_t n = 0, cap = 0, lcap = 0, i, pass;
	int status = 2;

	if (!fq) {
		fprintf(stderr, "furet_peer: %s: cannot open\n", queries);
		return 2;
	}
	while (getline(&line, &lcap, fq) >= 0) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		*tab = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			qid = realloc(qid, cap * sizeof *qid);
			qtext = realloc(qtext, cap * sizeof *qtext);
			if (!qid || !qtext)
				goto done;
		}
		qid[n] = strdup(line);
		qtext[n] = strdup(tab + 1);
		n++;
	}
	if (furet_index_open(dir, FURET_OPEN_READONLY, &ix) != FURET_OK) {
		fprintf(stderr, "furet_peer: %s\n", furet_last_errmsg());
		goto done;
	}
	fr = fopen(run, "w");
	fl = fopen(latencies, "w");
	if (!fr || !fl) {
		fprintf(stderr, "furet_peer: cannot write %s or %s\n", run, latencies);
		goto done;
	}
	furet_search_options_init(&o);
	o.limit = k;
	o.flags = FURET_SEARCH_BEST_PER_DOC | FURET_SEARCH_NO_TEXT;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			furet_results *res = NULL;
			double t0 = now_s(), t;
			size_t h, nh;
			furet_rc rc = furet_search(ix, qtext[i], strlen(qtext[i]), &o,
				&res);

			t = now_s() - t0;
			if (rc != FURET_OK) {
				fprintf(stderr, "furet_peer: query %s: %s\n", qid[i],
					furet_strerror(rc));
				continue;
			}
			if (pass == 1) {
				nh = furet_results_count(res);
				for (h = 0; h < nh; h++) {
					furet_hit hit;
					furet_results_get(res, h, &hit);
					fprintf(fr, "%s Q0 %s %u %.6f furet\n", qid[i], hit.doc,
						hit.rank, hit.score);
				}
				fprintf(fl, "%s\t%.9f\n", qid[i], t);
			}
			furet_results_free(res);
		}
	}
	status = 0;
done:
	if (fr)
		fclose(fr);
	if (fl)
		fclose(fl);
	furet_index_close(ix);
	for (i = 0; i < n; i++) {
		free(qid[i]);
		free(qtext[i]);
	}
	free(qid);
	free(qtext);
	free(line);
	fclose(fq);
	return status;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 1 << 20); /* as the furet command does */
#endif
	if (argc == 4 && !strcmp(argv[1], "index"))
		return cmd_index(argv[2], argv[3]);
	if (argc == 7 && !strcmp(argv[1], "search")) {
		long k = strtol(argv[5], NULL, 10);
		if (k <= 0 || k > 100000) {
			fprintf(stderr, "furet_peer: K must be between 1 and 100000\n");
			return 2;
		}
		return cmd_search(argv[2], argv[3], argv[4], (unsigned)k, argv[6]);
	}
	fprintf(stderr, "usage: furet_peer index PASSAGES.jsonl INDEX_DIR\n"
		"       furet_peer search INDEX_DIR QUERIES.tsv RUN.trec K "
		"LATENCIES.tsv\n");
	return 2;
}
