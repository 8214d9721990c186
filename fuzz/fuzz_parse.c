/*
** fuzz_parse.c — arbitrary bytes through the query parser alone: never a
** crash; invalid UTF-8 is FURET_INVALID with no tree, valid UTF-8 always
** parses; the tree keeps the shape query.h promises (leaf ranges inside the
** input, at most FURET_QUERY_MAX_NODES nodes) and formats to exactly the
** length furet_qtree_format announces, truncated or not.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Number of nodes under nd, or aborts on a broken promise. */
static size_t check(const furet_qnode *nd, const furet_qnode *parent,
	size_t size, int depth)
{
	size_t i, n = 1;

	if (depth > 500 || nd->field > FURET_QF_SECTION ||
		nd->modifier > FURET_QM_EXCLUDED ||
		(nd->modifier && parent->kind != FURET_Q_OR))
		abort();
	switch (nd->kind) {
	case FURET_Q_WORD:
	case FURET_Q_PREFIX:
	case FURET_Q_PHRASE:
		if (nd->start >= nd->end || nd->end > size || nd->n_children)
			abort();
		return 1;
	case FURET_Q_NOT:
		/* Double negations cancel. */
		if (nd->n_children != 1 ||
			nd->children[0]->kind == FURET_Q_NOT)
			abort();
		break;
	case FURET_Q_NEAR:
		if (nd->n_children < 2 || nd->distance > 1000)
			abort();
		for (i = 0; i < nd->n_children; i++)
			if (nd->children[i]->kind > FURET_Q_PHRASE)
				abort();
		break;
	case FURET_Q_AND:
	case FURET_Q_OR:
		if (parent && nd->n_children < 2)
			abort();
		break;
	default:
		abort();
	}
	for (i = 0; i < nd->n_children; i++)
		n += check(nd->children[i], nd, size, depth + 1);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *q = (const char *)data;
	furet_qtree *qy = NULL;
	const furet_qnode *root;
	char small[16], *buf;
	size_t need;
	furet_rc rc;

	rc = furet_qtree_parse(q, size, &qy);
	if (furet_utf8_valid(q, size) != size) {
		if (rc != FURET_INVALID || qy)
			abort();
		return 0;
	}
	if (rc != FURET_OK || !qy)
		abort();
	root = furet_qtree_root(qy);
	if (!root || root->kind != FURET_Q_OR || root->modifier ||
		check(root, NULL, size, 0) > FURET_QUERY_MAX_NODES)
		abort();

	need = furet_qtree_format(qy, q, NULL, 0);
	buf = malloc(need + 1);
	if (!buf)
		abort();
	if (furet_qtree_format(qy, q, buf, need + 1) != need ||
		strlen(buf) != need)
		abort();
	if (furet_qtree_format(qy, q, small, sizeof small) != need ||
		strlen(small) != (need < sizeof small ? need : sizeof small - 1) ||
		memcmp(small, buf, strlen(small)) != 0)
		abort();
	free(buf);
	furet_qtree_free(qy);
	return 0;
}
