/*
** qbuild.h — queries built by a program (furet_query, in furet.h) turned
** into what the search reads: a query string and its tree.
**
** A built query is written out as the query string that says the same
** (qbuild.c explains how), and its texts are marked as literal leaves of
** that string, so that the parser (query.c) builds the very tree it would
** build from the string, without reading anything in those texts as
** syntax. The search then runs on the string and the tree as on a typed
** query: the plan, and so the hits and scores, are the same.
*/
#ifndef FURET_QBUILD_H
#define FURET_QBUILD_H

#include "furet.h"
#include "query.h"
#include "util.h"

/* Why q cannot be searched: FURET_OK, or FURET_INVALID or FURET_QUERY with
** *why (static) saying what is wrong. */
furet_rc furet_qbuild_check(const furet_query *q, const char **why);

/* Writes the query string of q into text (appended; NUL terminated) and
** parses it, q's texts taken literally, into *out (the caller's; release
** with furet_qtree_free). The tree's leaves point into text. FURET_OK,
** FURET_NOMEM, or the error of furet_qbuild_check. */
furet_rc furet_qbuild_tree(const furet_query *q, furet_buf *text,
	furet_qtree **out);

#endif
