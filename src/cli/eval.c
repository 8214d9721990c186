/*
** eval.c — TREC-style evaluation for `furet eval` (see eval.h for the
** conventions). Both files are read into arrays of rows, sorted by query,
** then walked together: no hash tables, O(n log n).
*/
#include "eval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
	char *qid;
	char *doc;
	long rank; /* run: rank column; qrels: relevance */
	size_t seq; /* input order, to keep sorting stable */
} row;

typedef struct rows {
	row *v;
	size_t n, cap;
} rows;

static void rows_free(rows *r)
{
	size_t i;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].qid);
		free(r->v[i].doc);
	}
	free(r->v);
}

static int rows_push(rows *r, const char *qid, const char *doc, long rank)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		row *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].qid = strdup(qid);
	r->v[r->n].doc = strdup(doc);
	r->v[r->n].rank = rank;
	r->v[r->n].seq = r->n;
	if (!r->v[r->n].qid || !r->v[r->n].doc) {
		free(r->v[r->n].qid);
		free(r->v[r->n].doc);
		return -1;
	}
	r->n++;
	return 0;
}

/* Splits line in place on tabs (when it has one) or runs of whitespace. */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	int has_tab = strchr(line, '\t') != NULL;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (*p && n < max) {
		if (!has_tab)
			while (*p == ' ')
				p++;
		if (!*p)
			break;
		f[n++] = p;
		p += strcspn(p, has_tab ? "\t" : " \t");
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int read_rows(const char *path, int is_run, rows *out, char *err,
	size_t err_cap)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *fld[8], *end;
	size_t cap = 0, lineno = 0, n;
	int rc = 0;

	if (!f) {
		snprintf(err, err_cap, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		long v;
		lineno++;
		n = split(line, fld, 8);
		if (n == 0)
			continue;
		if (is_run) {
			if (n < 6)
				continue; /* as evalir.py: short lines are ignored */
			v = strtol(fld[3], &end, 10);
			if (*end) {
				snprintf(err, err_cap, "%s:%zu: rank is not a number",
					path, lineno);
				rc = -1;
				break;
			}
			rc = rows_push(out, fld[0], fld[2], v);
		} else {
			double rel;
			if (n != 3 && n != 4) {
				snprintf(err, err_cap, "%s:%zu: qrels lines have 3 or 4 "
					"fields (qid, [iter,] docid, rel)", path, lineno);
				rc = -1;
				break;
			}
			rel = strtod(fld[n - 1], &end);
			if (*end || end == fld[n - 1])
				continue; /* a header line */
			if (rel > 0)
				rc = rows_push(out, fld[0], fld[n == 4 ? 2 : 1], (long)rel);
		}
		if (rc) {
			snprintf(err, err_cap, "out of memory");
			break;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

static int by_query(const void *a, const void *b)
{
	const row *x = a, *y = b;
	int c = strcmp(x->qid, y->qid);
	if (c)
		return c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_rel_desc(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x > y ? -1 : x < y;
}

/* The relevance of doc among the qrels rows q[0..n), 0 when not relevant. */
static long rel_of(const row *q, size_t n, const char *doc)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(q[i].doc, doc) == 0)
			return q[i].rank;
	return 0;
}

int eval_files(const char *qrels_path, const char *run_path, eval_result *out,
	char *err, size_t err_cap)
{
	rows qr = { 0 }, run = { 0 };
	size_t i = 0, j = 0, k;
	long *ideal = NULL;
	const char **seen = NULL;
	double s_mrr = 0, s_ndcg = 0, s_r10 = 0, s_r100 = 0;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (read_rows(qrels_path, 0, &qr, err, err_cap) ||
		read_rows(run_path, 1, &run, err, err_cap))
		goto done;
	qsort(qr.v, qr.n, sizeof *qr.v, by_query);
	qsort(run.v, run.n, sizeof *run.v, by_query);
	ideal = malloc((qr.n ? qr.n : 1) * sizeof *ideal);
	seen = malloc((run.n ? run.n : 1) * sizeof *seen);
	if (!ideal || !seen) {
		snprintf(err, err_cap, "out of memory");
		goto done;
	}
	while (i < qr.n) {
		size_t qn = i, rn, n_docs = 0, n_rel;
		double rr = 0, dcg = 0, idcg = 0, hit10 = 0, hit100 = 0;
		int c = 1;

		while (qn < qr.n && strcmp(qr.v[qn].qid, qr.v[i].qid) == 0)
			qn++;
		n_rel = qn - i;
		while (j < run.n && (c = strcmp(run.v[j].qid, qr.v[i].qid)) < 0)
			j++;
		rn = j;
		while (rn < run.n && strcmp(run.v[rn].qid, qr.v[i].qid) == 0)
			rn++;
		/* Distinct documents of the run in rank order. */
		for (k = j; k < rn && n_docs < 100; k++) {
			size_t m;
			for (m = 0; m < n_docs; m++)
				if (strcmp(seen[m], run.v[k].doc) == 0)
					break;
			if (m < n_docs)
				continue;
			seen[n_docs++] = run.v[k].doc;
		}
		for (k = 0; k < n_docs; k++) {
			long rel = rel_of(qr.v + i, n_rel, seen[k]);
			if (!rel)
				continue;
			if (k < 10) {
				if (rr == 0)
					rr = 1.0 / (double)(k + 1);
				dcg += (double)rel / log2((double)k + 2);
				hit10++;
			}
			hit100++;
		}
		for (k = 0; k < n_rel; k++)
			ideal[k] = qr.v[i + k].rank;
		qsort(ideal, n_rel, sizeof *ideal, by_rel_desc);
		for (k = 0; k < n_rel && k < 10; k++)
			idcg += (double)ideal[k] / log2((double)k + 2);
		s_mrr += rr;
		s_ndcg += idcg > 0 ? dcg / idcg : 0;
		s_r10 += hit10 / (double)n_rel;
		s_r100 += hit100 / (double)n_rel;
		out->n_queries++;
		if (n_docs == 0)
			out->n_no_results++;
		i = qn;
		j = rn;
	}
	if (out->n_queries) {
		out->mrr10 = s_mrr / (double)out->n_queries;
		out->ndcg10 = s_ndcg / (double)out->n_queries;
		out->recall10 = s_r10 / (double)out->n_queries;
		out->recall100 = s_r100 / (double)out->n_queries;
	}
	rc = 0;
done:
	free(ideal);
	free(seen);
	rows_free(&qr);
	rows_free(&run);
	return rc;
}
