/*
** eval.h — relevance metrics of a TREC run against qrels (furet eval).
**
** Conventions are those of the peers harness (../shared/bench/peers/evalir.py)
** so that the figures compare: run lines "qid Q0 docid rank score tag" ordered
** by the rank column, a repeated (qid, docid) keeps its first occurrence;
** qrels "qid<TAB>docid<TAB>rel" (or the 4-column TREC form), rel > 0 is
** relevant; nDCG@10 with linear gain and log2(rank + 1) discount, the ideal
** from all qrels of the query; averages over the queries that have a relevant
** document, a query without results scoring 0.
*/
#ifndef FURET_CLI_EVAL_H
#define FURET_CLI_EVAL_H

#include <stddef.h>

typedef struct eval_result {
	double mrr10, ndcg10, recall10, recall100;
	size_t n_queries;     /* evaluated: with at least one relevant document */
	size_t n_no_results;  /* of those, how many had no line in the run */
} eval_result;

/* Reads both files and computes the metrics. Returns 0, or -1 with a
** one-line reason in err. */
int eval_files(const char *qrels_path, const char *run_path, eval_result *out,
	char *err, size_t err_cap);

#endif
