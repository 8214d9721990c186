/*
** test_eval.c — `furet eval` metrics on hand-computed runs, with the peers
** harness's conventions (rank order, first occurrence of a repeated
** document, queries without results score 0).
*/
#include "testutil.h"

#include <math.h>

#include "eval.h"

static void test_metrics(void **state)
{
	char *dir = tu_mkdtemp();
	char q[4200], r[4200], err[256];
	eval_result res;
	(void)state;

	/* q1: relevant d1 (1), d2 (2); run c b d2 d1, listed out of rank order
	** and with c repeated. q2: no relevant document retrieved. q3: no run. */
	assert_int_equal(tu_write(dir, "qrels",
		"q1\td1\t1\nq1\td2\t2\nq1\tdx\t0\nq2\tz\t1\nq3\tx\t1\n", 38), 0);
	assert_int_equal(tu_write(dir, "run",
		"q1 Q0 d1 4 1 t\nq1 Q0 c 1 3 t\nq1 Q0 d2 3 1.5 t\nq1 Q0 b 2 2 t\n"
		"q1 Q0 c 5 0.5 t\nq2 Q0 y 1 1 t\n", 90), 0);
	snprintf(q, sizeof q, "%s/qrels", dir);
	snprintf(r, sizeof r, "%s/run", dir);
	assert_int_equal(eval_files(q, r, &res, err, sizeof err), 0);
	assert_int_equal(res.n_queries, 3);
	assert_int_equal(res.n_no_results, 1);
	assert_true(fabs(res.mrr10 - (1.0 / 3) / 3) < 1e-12);
	assert_true(fabs(res.ndcg10 - ((2 / log2(4) + 1 / log2(5)) /
		(2 + 1 / log2(3))) / 3) < 1e-12);
	assert_true(fabs(res.recall10 - 1.0 / 3) < 1e-12);

	snprintf(r, sizeof r, "%s/missing", dir);
	assert_int_equal(eval_files(q, r, &res, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot open"));
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics),
	};
	return cmocka_run_group_tests_name("eval", tests, NULL, NULL);
}
