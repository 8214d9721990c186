/*
** test_query.c — the query parser: every construct of query.h and every
** malformed input it promises a reading for, asserted as the formatted tree;
** the shape invariants of every tree; limits (100 KB, deep parentheses);
** invalid UTF-8; and allocation failure at every step.
*/
#include "testutil.h"

#include "query.h"
#include "util.h"

/* The promises of query.h about any tree: the root is an OR without
** modifier; other OR/AND nodes have 2+ children, NOT one (never a NOT),
** NEAR 2+ leaves;
** modifiers only on children of an OR; leaves are non-empty ranges of the
** query. Returns the number of nodes. */
static size_t check_node(const furet_qnode *nd, const furet_qnode *parent,
	size_t len, int depth)
{
	size_t i, n = 1;

	assert_true(depth < 1000);
	if (nd->modifier)
		assert_true(parent && parent->kind == FURET_Q_OR);
	assert_true(nd->field <= FURET_QF_SECTION);
	switch (nd->kind) {
	case FURET_Q_WORD:
	case FURET_Q_PREFIX:
	case FURET_Q_PHRASE:
		assert_true(nd->start < nd->end);
		assert_true(nd->end <= len);
		assert_int_equal(nd->n_children, 0);
		return 1;
	case FURET_Q_NOT:
		assert_int_equal(nd->n_children, 1);
		assert_int_not_equal(nd->children[0]->kind, FURET_Q_NOT);
		break;
	case FURET_Q_NEAR:
		assert_true(nd->n_children >= 2);
		assert_true(nd->distance <= 1000);
		for (i = 0; i < nd->n_children; i++)
			assert_true(nd->children[i]->kind <= FURET_Q_PHRASE);
		break;
	case FURET_Q_AND:
	case FURET_Q_OR:
		assert_true(!parent || nd->n_children >= 2);
		break;
	default:
		fail_msg("bad node kind %d", (int)nd->kind);
	}
	for (i = 0; i < nd->n_children; i++)
		n += check_node(nd->children[i], nd, len, depth + 1);
	return n;
}

static size_t check_tree(const furet_qtree *qy, size_t len)
{
	const furet_qnode *root = furet_qtree_root(qy);
	size_t n;

	assert_non_null(root);
	assert_int_equal(root->kind, FURET_Q_OR);
	assert_int_equal(root->modifier, FURET_QM_NONE);
	n = check_node(root, NULL, len, 0);
	assert_true(n <= FURET_QUERY_MAX_NODES);
	return n;
}

/* Parses q[0..len) and compares the formatted tree with want. */
static void expect_len(const char *q, size_t len, const char *want)
{
	furet_qtree *qy = NULL;
	char buf[4096];

	assert_int_equal(furet_qtree_parse(q, len, &qy), FURET_OK);
	assert_non_null(qy);
	check_tree(qy, len);
	furet_qtree_format(qy, q, buf, sizeof buf);
	if (strcmp(buf, want) != 0)
		print_error("query [%s]\n  got  %s\n  want %s\n", q, buf, want);
	assert_string_equal(buf, want);
	assert_false(furet_qtree_is_truncated(qy));
	furet_qtree_free(qy);
}

static void expect(const char *q, const char *want)
{
	expect_len(q, strlen(q), want);
}

static void test_free_text(void **state)
{
	(void)state;
	expect("", "(OR)");
	expect("   ", "(OR)");
	expect("fabrique", "(OR word:\"fabrique\")");
	expect("fabriques du numérique",
		"(OR word:\"fabriques\" word:\"du\" word:\"numérique\")");
	/* Punctuation stays in the word: the analyzer deals with it. */
	expect("l'école l’école", "(OR word:\"l'école\" word:\"l’école\")");
	expect("Simplon.co 1,20 92%",
		"(OR word:\"Simplon.co\" word:\"1,20\" word:\"92%\")");
	expect("socio-professionnelle e-mail Villeneuve-la-Garenne",
		"(OR word:\"socio-professionnelle\" word:\"e-mail\" "
		"word:\"Villeneuve-la-Garenne\")");
	expect("foo:bar", "(OR word:\"foo:bar\")");
	expect("a*b", "(OR word:\"a*b\")");
	/* Only punctuation: still words (which give no term), but lone
	** "+ - * :" go. */
	expect("? ! ...", "(OR word:\"?\" word:\"!\" word:\"...\")");
	expect(", ;", "(OR word:\",\" word:\";\")");
	expect("+ - * :", "(OR)");
	expect("a - b", "(OR word:\"a\" word:\"b\")");
	expect("-", "(OR)");
	expect("**", "(OR word:\"**\")");
	/* Whitespace: tabs, NBSP, narrow NBSP, ideographic space. */
	expect("a\tb\nc\xc2\xa0"
	       "d\xe2\x80\xaf"
	       "e\xe3\x80\x80"
	       "f",
		"(OR word:\"a\" word:\"b\" word:\"c\" word:\"d\" word:\"e\" "
		"word:\"f\")");
}

static void test_control_bytes(void **state)
{
	(void)state;
	/* NUL and control characters are whitespace. */
	expect_len("a\0b\x01" "c\x7f" "d", 7,
		"(OR word:\"a\" word:\"b\" word:\"c\" word:\"d\")");
	expect_len("\0", 1, "(OR)");
	/* Inside a phrase they stay, escaped when printed. */
	expect_len("\"a\0b\tc\"", 7, "(OR phrase:\"a\\x00b\\x09c\")");
}

static void test_phrases(void **state)
{
	(void)state;
	expect("\"exact phrase\"", "(OR phrase:\"exact phrase\")");
	expect("«phrase en français»", "(OR phrase:\"phrase en français\")");
	/* French typography: no-break spaces inside the guillemets stay in
	** the range, which is between the quotes. */
	expect("« a b »", "(OR phrase:\" a b \")");
	expect("“curly quotes”", "(OR phrase:\"curly quotes\")");
	expect("a \"b c\" d", "(OR word:\"a\" phrase:\"b c\" word:\"d\")");
	expect("\"a\"b", "(OR phrase:\"a\" word:\"b\")");
	expect("a\"b\"", "(OR word:\"a\" phrase:\"b\")");
	/* Each quote closes with its own partner. */
	expect("«a \"b\" c»", "(OR phrase:\"a \\\"b\\\" c\")");
	/* Unclosed: runs to the end. */
	expect("a \"unclosed b", "(OR word:\"a\" phrase:\"unclosed b\")");
	expect("«unclosed", "(OR phrase:\"unclosed\")");
	/* Empty or blank: dropped, modifier and all. */
	expect("\"\"", "(OR)");
	expect("a \"  \" -\"\" b", "(OR word:\"a\" word:\"b\")");
	expect("\"", "(OR)");
	/* Stray closing quotes separate like spaces. */
	expect("»a” b", "(OR word:\"a\" word:\"b\")");
	/* Operators, parentheses and fields are text inside a phrase. */
	expect("\"a AND (b) title:c\"", "(OR phrase:\"a AND (b) title:c\")");
	expect("\"back\\\\slash\"", "(OR phrase:\"back\\\\\\\\slash\")");
}

static void test_modifiers(void **state)
{
	(void)state;
	expect("+required -excluded",
		"(OR +word:\"required\" -word:\"excluded\")");
	expect("a +b -(c AND \"d e\")",
		"(OR word:\"a\" +word:\"b\" -(AND word:\"c\" phrase:\"d e\"))");
	expect("+a -title:b", "(OR +word:\"a\" -title:word:\"b\")");
	expect("-\"a b\" +cd*", "(OR -phrase:\"a b\" +prefix:\"cd\")");
	expect("-(a b)", "(OR -(OR word:\"a\" word:\"b\"))");
	expect("(+a -b)", "(OR +word:\"a\" -word:\"b\")");
	/* Only at the start of a clause; after it, part of the word. */
	expect("a-b +-a --a", "(OR word:\"a-b\" +word:\"-a\" -word:\"-a\")");
	expect("(-a)b", "(OR (NOT word:\"a\") word:\"b\")");
	expect("(a)-b", "(OR word:\"a\" word:\"-b\")");
	expect("\"a\"-b", "(OR phrase:\"a\" word:\"-b\")");
	/* A modifier makes an operator a word. */
	expect("-AND +NEAR/3", "(OR -word:\"AND\" +word:\"NEAR/3\")");
	/* Lone: dropped. */
	expect("- a + b", "(OR word:\"a\" word:\"b\")");
	expect("a -) b", "(OR word:\"a\" word:\"b\")");
	/* A group with modifiers inside keeps its own OR: "+a" is required
	** in the group, not in the whole query. */
	expect("(+a b) c", "(OR (OR +word:\"a\" word:\"b\") word:\"c\")");
	/* Inside AND and NEAR: "+" is redundant, "-x" is AND NOT x. */
	expect("a AND +b", "(OR (AND word:\"a\" word:\"b\"))");
	expect("a AND -b", "(OR (AND word:\"a\" (NOT word:\"b\")))");
	expect("-a AND b", "(OR (AND (NOT word:\"a\") word:\"b\"))");
	expect("a NEAR -b", "(OR (AND word:\"a\" (NOT word:\"b\")))");
	expect("+a NEAR b", "(OR (NEAR/10 word:\"a\" word:\"b\"))");
	/* A lone child: "(+a)" is just a; "(-a)" is "not a". */
	expect("+(a)", "(OR +word:\"a\")");
	expect("x (+a)", "(OR word:\"x\" word:\"a\")");
	expect("x (-a)", "(OR word:\"x\" (NOT word:\"a\"))");
	expect("-(-a)", "(OR -(NOT word:\"a\"))");
}

static void test_boolean(void **state)
{
	(void)state;
	expect("a AND b", "(OR (AND word:\"a\" word:\"b\"))");
	expect("a OR b", "(OR word:\"a\" word:\"b\")");
	/* AND binds tighter than OR and juxtaposition. */
	expect("a AND b OR c", "(OR (AND word:\"a\" word:\"b\") word:\"c\")");
	expect("a OR b AND c", "(OR word:\"a\" (AND word:\"b\" word:\"c\"))");
	expect("a b AND c", "(OR word:\"a\" (AND word:\"b\" word:\"c\"))");
	expect("a AND b AND c",
		"(OR (AND word:\"a\" word:\"b\" word:\"c\"))");
	expect("a AND (b AND c)",
		"(OR (AND word:\"a\" word:\"b\" word:\"c\"))");
	expect("(a OR b) AND c",
		"(OR (AND (OR word:\"a\" word:\"b\") word:\"c\"))");
	/* NOT binds tighter than AND. */
	expect("NOT a", "(OR (NOT word:\"a\"))");
	expect("a NOT b", "(OR word:\"a\" (NOT word:\"b\"))");
	expect("NOT a AND b", "(OR (AND (NOT word:\"a\") word:\"b\"))");
	expect("a AND NOT b", "(OR (AND word:\"a\" (NOT word:\"b\")))");
	expect("NOT (a b)", "(OR (NOT (OR word:\"a\" word:\"b\")))");
	/* Double negation cancels, however it is spelt. */
	expect("NOT NOT a", "(OR word:\"a\")");
	expect("NOT NOT NOT a", "(OR (NOT word:\"a\"))");
	expect("NOT -a", "(OR word:\"a\")");
	expect("NOT (NOT a)", "(OR word:\"a\")");
	/* Operators are capitals only. */
	expect("a and b", "(OR word:\"a\" word:\"and\" word:\"b\")");
	expect("a Or b not c", "(OR word:\"a\" word:\"Or\" word:\"b\" "
		"word:\"not\" word:\"c\")");
	expect("AND*", "(OR prefix:\"AND\")");
}

static void test_missing_operands(void **state)
{
	(void)state;
	expect("AND", "(OR word:\"AND\")");
	expect("OR", "(OR word:\"OR\")");
	expect("NOT", "(OR word:\"NOT\")");
	expect("NEAR", "(OR word:\"NEAR\")");
	expect("a AND", "(OR word:\"a\" word:\"AND\")");
	expect("AND a", "(OR word:\"AND\" word:\"a\")");
	expect("OR OR", "(OR word:\"OR\" word:\"OR\")");
	expect("a OR OR b", "(OR word:\"a\" word:\"b\")");
	expect("a NOT", "(OR word:\"a\" word:\"NOT\")");
	expect("NOT NOT", "(OR (NOT word:\"NOT\"))");
	expect("a NEAR", "(OR word:\"a\" word:\"NEAR\")");
	expect("NEAR a", "(OR word:\"NEAR\" word:\"a\")");
	expect("(a AND) b", "(OR word:\"a\" word:\"AND\" word:\"b\")");
	expect("(OR a)", "(OR word:\"OR\" word:\"a\")");
	expect("a AND AND b",
		"(OR (AND word:\"a\" word:\"AND\") word:\"b\")");
	/* An empty group is no operand at all. */
	expect("a AND ()", "(OR word:\"a\")");
	expect("() NEAR b", "(OR word:\"b\")");
	expect("NOT ()", "(OR)");
}

static void test_parentheses(void **state)
{
	(void)state;
	expect("(a b) c", "(OR word:\"a\" word:\"b\" word:\"c\")");
	expect("((a))", "(OR word:\"a\")");
	expect("((a b) (c d))",
		"(OR word:\"a\" word:\"b\" word:\"c\" word:\"d\")");
	expect("(a AND (b OR (c AND d)))",
		"(OR (AND word:\"a\" (OR word:\"b\" (AND word:\"c\" "
		"word:\"d\"))))");
	expect("()", "(OR)");
	expect("(()) ( )", "(OR)");
	/* Unbalanced both ways. */
	expect("(a b", "(OR word:\"a\" word:\"b\")");
	expect("(a AND (b c", "(OR (AND word:\"a\" (OR word:\"b\" "
		"word:\"c\")))");
	expect("a) b", "(OR word:\"a\" word:\"b\")");
	expect(")))a AND b)", "(OR (AND word:\"a\" word:\"b\"))");
	expect("(a))) AND b", "(OR (AND word:\"a\" word:\"b\"))");
	expect("a(b)c", "(OR word:\"a\" word:\"b\" word:\"c\")");
}

static void test_prefix(void **state)
{
	furet_qtree *qy = NULL;
	const furet_qnode *nd;
	(void)state;

	expect("prefix*", "(OR prefix:\"prefix\")");
	expect("ab*", "(OR prefix:\"ab\")");
	expect("éc*", "(OR prefix:\"éc\")");
	/* Too short: the word without its star. Characters, not bytes. */
	expect("a*", "(OR word:\"a\")");
	expect("é*", "(OR word:\"é\")");
	expect("*", "(OR)");
	expect("numéri** a*b*", "(OR prefix:\"numéri\" prefix:\"a*b\")");
	expect("(ab*)", "(OR prefix:\"ab\")");

	assert_int_equal(furet_qtree_parse("  ab*", 5, &qy), FURET_OK);
	nd = furet_qtree_root(qy)->children[0];
	assert_int_equal(nd->kind, FURET_Q_PREFIX);
	assert_int_equal(nd->start, 2);
	assert_int_equal(nd->end, 4);
	furet_qtree_free(qy);
}

static void test_near(void **state)
{
	furet_qtree *qy = NULL;
	(void)state;

	expect("a NEAR b", "(OR (NEAR/10 word:\"a\" word:\"b\"))");
	expect("a NEAR/3 b", "(OR (NEAR/3 word:\"a\" word:\"b\"))");
	expect("a NEAR/0 b", "(OR (NEAR/0 word:\"a\" word:\"b\"))");
	expect("a NEAR/1000 b", "(OR (NEAR/1000 word:\"a\" word:\"b\"))");
	expect("a NEAR/99999999999999999999 b",
		"(OR (NEAR/1000 word:\"a\" word:\"b\"))");
	expect("\"a b\" NEAR/2 cd* NEAR/5 title:d",
		"(OR (NEAR/5 phrase:\"a b\" prefix:\"cd\" title:word:\"d\"))");
	expect("x a NEAR b y",
		"(OR word:\"x\" (NEAR/10 word:\"a\" word:\"b\") word:\"y\")");
	expect("a NEAR b AND c",
		"(OR (AND (NEAR/10 word:\"a\" word:\"b\") word:\"c\"))");
	expect("(a) NEAR (b)", "(OR (NEAR/10 word:\"a\" word:\"b\"))");
	/* Not NEAR/n: plain words. */
	expect("a NEAR/ b", "(OR word:\"a\" word:\"NEAR/\" word:\"b\")");
	expect("a NEAR/x b", "(OR word:\"a\" word:\"NEAR/x\" word:\"b\")");
	expect("a near b", "(OR word:\"a\" word:\"near\" word:\"b\")");
	/* A group operand: AND of the operands. */
	expect("(a b) NEAR c",
		"(OR (AND (OR word:\"a\" word:\"b\") word:\"c\"))");
	expect("a NEAR NOT b", "(OR (AND word:\"a\" (NOT word:\"b\")))");

	assert_int_equal(furet_qtree_parse("a NEAR/7 b", 10, &qy), FURET_OK);
	assert_int_equal(furet_qtree_root(qy)->children[0]->distance, 7);
	furet_qtree_free(qy);
}

static void test_fields(void **state)
{
	furet_qtree *qy = NULL;
	const furet_qnode *nd;
	(void)state;

	expect("title:x", "(OR title:word:\"x\")");
	expect("TITLE:x Section:y",
		"(OR title:word:\"x\" section:word:\"y\")");
	expect("section:\"a b\"", "(OR section:phrase:\"a b\")");
	expect("title:«a b»", "(OR title:phrase:\"a b\")");
	expect("title:numér*", "(OR title:prefix:\"numér\")");
	expect("title:(a b)", "(OR (OR title:word:\"a\" title:word:\"b\"))");
	expect("title:(a) b", "(OR title:word:\"a\" word:\"b\")");
	expect("title:(a AND \"b c\")",
		"(OR (AND title:word:\"a\" title:phrase:\"b c\"))");
	/* The innermost field wins. */
	expect("title:(a section:b)",
		"(OR (OR title:word:\"a\" section:word:\"b\"))");
	expect("-title:(x)", "(OR -title:word:\"x\")");
	expect("+section:(a b)",
		"(OR +(OR section:word:\"a\" section:word:\"b\"))");
	expect("title:foo:bar", "(OR title:word:\"foo:bar\")");
	/* Unknown field, or nothing right after the colon: a word. */
	expect("foo:bar auteur:x", "(OR word:\"foo:bar\" word:\"auteur:x\")");
	expect("title:", "(OR word:\"title:\")");
	expect("title: x", "(OR word:\"title:\" word:\"x\")");
	expect("title:*", "(OR)");
	expect("titles:x", "(OR word:\"titles:x\")");

	assert_int_equal(furet_qtree_parse("title:x", 7, &qy), FURET_OK);
	nd = furet_qtree_root(qy)->children[0];
	assert_int_equal(nd->field, FURET_QF_TITLE);
	assert_int_equal(nd->start, 6);
	assert_int_equal(nd->end, 7);
	furet_qtree_free(qy);
	assert_int_equal(furet_qtree_parse("«ab»", 6, &qy), FURET_OK);
	nd = furet_qtree_root(qy)->children[0];
	assert_int_equal(nd->start, 2);
	assert_int_equal(nd->end, 4);
	furet_qtree_free(qy);
}

static void test_invalid(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		{ "ab\xe9", 3 },           /* Latin-1 é */
		{ "\xc3", 1 },             /* truncated */
		{ "a \xc0\xaf", 4 },       /* overlong */
		{ "\xed\xa0\x80", 3 },     /* surrogate */
		{ "\"a \x80\"", 5 },       /* inside a phrase */
		{ "\xf4\x90\x80\x80", 4 }, /* above U+10FFFF */
	};
	furet_qtree *qy = NULL;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		qy = (furet_qtree *)&qy;
		assert_int_equal(furet_qtree_parse(bad[i].s, bad[i].len, &qy),
			FURET_INVALID);
		assert_null(qy);
	}
	assert_int_equal(furet_qtree_parse("a", 1, NULL), FURET_INVALID);
	assert_int_equal(furet_qtree_parse(NULL, 1, &qy), FURET_INVALID);
	assert_null(qy);
	assert_int_equal(furet_qtree_parse(NULL, 0, &qy), FURET_OK);
	assert_int_equal(furet_qtree_root(qy)->n_children, 0);
	furet_qtree_free(qy);
	furet_qtree_free(NULL);
	assert_null(furet_qtree_root(NULL));
	assert_int_equal(furet_qtree_format(NULL, "", NULL, 0), 0);
}

static void test_format(void **state)
{
	furet_qtree *qy = NULL;
	const char *full = "(OR word:\"a\" word:\"b\")";
	char buf[64];
	size_t need;
	(void)state;

	/* No escape character in queries: the quote after the backslash
	** closes the phrase, and the printed text escapes the backslash. */
	expect("a \"b\\\"c\"", "(OR word:\"a\" phrase:\"b\\\\\" word:\"c\")");
	expect("q\"\\\"", "(OR word:\"q\" phrase:\"\\\\\")");

	assert_int_equal(furet_qtree_parse("a b", 3, &qy), FURET_OK);
	need = furet_qtree_format(qy, "a b", buf, sizeof buf);
	assert_int_equal(need, strlen(full));
	assert_string_equal(buf, full);
	/* Truncated at cap, NUL terminated, same length needed. */
	memset(buf, 'x', sizeof buf);
	assert_int_equal(furet_qtree_format(qy, "a b", buf, 5), need);
	assert_string_equal(buf, "(OR ");
	assert_int_equal(furet_qtree_format(qy, "a b", buf, 1), need);
	assert_string_equal(buf, "");
	assert_int_equal(furet_qtree_format(qy, "a b", NULL, 0), need);
	furet_qtree_free(qy);
}

/* 100 KB of text: cut at the node limit, after a bounded amount of work
** (counted in allocations: the parser stops reading early). */
static void test_long(void **state)
{
	static const struct {
		const char *unit;
		int is_truncated;
	} units[] = {
		{ "mot ", 1 },
		{ "«a» ", 1 },
		{ "-a AND -b ", 1 }, /* 5 nodes for 2 leaves */
		{ "a AND ", 1 },
		{ "a NEAR ", 1 },
		{ "NOT ", 1 },       /* no leaf: cut by the token limit */
		{ "+(-a) ", 1 },
		{ "title:(a ", 1 },
		{ "(", 0 },
		{ ")", 0 },
		{ "\"", 0 },
		{ "« ", 0 },
		{ "x", 0 },
	};
	size_t len = 100 * 1024, i, k, n;
	char *q = malloc(len + 1);
	furet_qtree *qy = NULL;
	(void)state;

	assert_non_null(q);
	for (k = 0; k < sizeof units / sizeof units[0]; k++) {
		/* Whole units only, so as not to cut a character. */
		n = strlen(units[k].unit);
		for (i = 0; i + n <= len; i += n)
			memcpy(q + i, units[k].unit, n);
		memset(q + i, ' ', len - i);
		furet_alloc_fail_after(0);
		assert_int_equal(furet_qtree_parse(q, len, &qy), FURET_OK);
		assert_true(furet_alloc_fail_after(0) < 64);
		n = check_tree(qy, len);
		assert_int_equal(furet_qtree_is_truncated(qy),
			units[k].is_truncated);
		if (k == 0) {
			assert_int_equal(furet_qtree_root(qy)->n_children,
				FURET_QUERY_MAX_NODES - 1);
			assert_int_equal(n, FURET_QUERY_MAX_NODES);
		}
		furet_qtree_free(qy);
	}
	/* Exactly at the limit is not truncated. */
	for (i = 0; i < 2 * (FURET_QUERY_MAX_NODES - 1); i += 2) {
		q[i] = 'a';
		q[i + 1] = ' ';
	}
	assert_int_equal(furet_qtree_parse(q, i, &qy), FURET_OK);
	assert_false(furet_qtree_is_truncated(qy));
	assert_int_equal(furet_qtree_root(qy)->n_children,
		FURET_QUERY_MAX_NODES - 1);
	furet_qtree_free(qy);
	free(q);
}

static void test_deep(void **state)
{
	size_t depth = 10000, i, len = 2 * depth + 4;
	char *q = malloc(len);
	char buf[256];
	furet_qtree *qy = NULL;
	(void)state;

	assert_non_null(q);
	for (i = 0; i < depth; i++) {
		q[i] = '(';
		q[depth + 1 + i] = ')';
	}
	q[depth] = 'a';
	memcpy(q + 2 * depth + 1, " b", 2);
	assert_int_equal(furet_qtree_parse(q, 2 * depth + 3, &qy), FURET_OK);
	check_tree(qy, len);
	furet_qtree_format(qy, q, buf, sizeof buf);
	assert_string_equal(buf, "(OR word:\"a\" word:\"b\")");
	furet_qtree_free(qy);
	/* Unclosed, with content at every level. */
	for (i = 0; i + 3 <= len; i += 3)
		memcpy(q + i, "(-a", 3);
	assert_int_equal(furet_qtree_parse(q, i, &qy), FURET_OK);
	check_tree(qy, len);
	furet_qtree_free(qy);
	/* The ")" of a dropped "(" is dropped with it: after 32 ")" the
	** outermost group is still open and takes "+b". */
	memset(q, '(', FURET_QUERY_MAX_DEPTH + 1);
	i = FURET_QUERY_MAX_DEPTH + 1;
	q[i++] = 'a';
	memset(q + i, ')', FURET_QUERY_MAX_DEPTH);
	i += FURET_QUERY_MAX_DEPTH;
	memcpy(q + i, " +b) c", 6);
	i += 6;
	assert_int_equal(furet_qtree_parse(q, i, &qy), FURET_OK);
	furet_qtree_format(qy, q, buf, sizeof buf);
	assert_string_equal(buf,
		"(OR (OR word:\"a\" +word:\"b\") word:\"c\")");
	furet_qtree_free(qy);
	free(q);
}

/* Every allocation in turn fails: NOMEM and nothing to free, or the same
** tree as without failures. ASan and valgrind see the leaks. */
/* Parses q with literal leaves and compares the formatted tree. */
static void expect_lit(const char *q, const furet_qliteral *lits, size_t n,
	const char *want)
{
	furet_qtree *qy = NULL;
	char buf[4096];

	assert_int_equal(furet_qtree_parse_literal(q, strlen(q), lits, n, &qy),
		FURET_OK);
	check_tree(qy, strlen(q));
	furet_qtree_format(qy, q, buf, sizeof buf);
	if (strcmp(buf, want) != 0)
		print_error("query [%s]\n  got  %s\n  want %s\n", q, buf, want);
	assert_string_equal(buf, want);
	furet_qtree_free(qy);
}

/* Literal leaves (the query builder's texts): nothing inside is syntax;
** a modifier or field just before applies; the rules of leaves hold. */
static void test_literal_leaves(void **state)
{
	/* 0 +, 1 title:, 7 a(b, 10 *, 12 -, 13 NOT, 17 "x" y"z", 26 ) */
	const char *q = "+title:a(b* -NOT \"x\" y\"z\" ) ";
	furet_qliteral lits[3] = {
		{ FURET_Q_PREFIX, 7, 11, 7, 10 },   /* a(b, then the star */
		{ FURET_Q_WORD, 13, 16, 13, 16 },   /* NOT */
		{ FURET_Q_PHRASE, 17, 25, 18, 24 }, /* x" y"z between quotes */
	};
	furet_qliteral one[1] = { { FURET_Q_PREFIX, 0, 3, 0, 2 } };
	furet_qtree *qy = NULL;
	(void)state;

	expect_lit(q, lits, 3, "(OR +title:prefix:\"a(b\" -word:\"NOT\" "
		"phrase:\"x\\\" y\\\"z\")");
	/* The same text without them. */
	expect(q, "(OR +title:word:\"a\" (OR word:\"b\" -word:\"NOT\" "
		"phrase:\"x\" word:\"y\" phrase:\"z\"))");
	/* A prefix of one character is a word; a blank phrase, nothing. */
	expect_lit("é* x", one, 1, "(OR word:\"é\" word:\"x\")");
	lits[0] = (furet_qliteral){ FURET_Q_PHRASE, 0, 4, 1, 3 };
	/* ...which leaves an operator without its operand, read as a word:
	** the builder writes "()" for an empty operand. */
	expect_lit("\"  \" AND x", lits, 1, "(OR word:\"AND\" word:\"x\")");
	lits[0] = (furet_qliteral){ FURET_Q_WORD, 0, 1, 1, 1 };
	expect_lit("( x", lits, 1, "(OR word:\"x\")");
	/* Operators around literals. */
	lits[0] = (furet_qliteral){ FURET_Q_WORD, 0, 2, 0, 2 };
	lits[1] = (furet_qliteral){ FURET_Q_WORD, 8, 11, 8, 11 };
	expect_lit("OR NOT (AND)", lits, 2,
		"(OR word:\"OR\" (NOT word:\"AND\"))");

	/* Literals out of order, overlapping, empty or out of the text. */
	lits[0] = (furet_qliteral){ FURET_Q_WORD, 2, 3, 2, 3 };
	lits[1] = (furet_qliteral){ FURET_Q_WORD, 0, 1, 0, 1 };
	assert_int_equal(furet_qtree_parse_literal("a b", 3, lits, 2, &qy),
		FURET_INVALID);
	lits[1] = (furet_qliteral){ FURET_Q_WORD, 2, 2, 2, 2 };
	assert_int_equal(furet_qtree_parse_literal("a b", 3, lits + 1, 1, &qy),
		FURET_INVALID);
	lits[1] = (furet_qliteral){ FURET_Q_WORD, 2, 4, 2, 4 };
	assert_int_equal(furet_qtree_parse_literal("a b", 3, lits + 1, 1, &qy),
		FURET_INVALID);
	lits[1] = (furet_qliteral){ FURET_Q_AND, 0, 1, 0, 1 };
	assert_int_equal(furet_qtree_parse_literal("a b", 3, lits + 1, 1, &qy),
		FURET_INVALID);
	assert_int_equal(furet_qtree_parse_literal("a b", 3, NULL, 1, &qy),
		FURET_INVALID);
	assert_null(qy);
}

static void test_nomem(void **state)
{
	static const char *const queries[] = {
		"a +b -(c AND \"d e\") title:(f NEAR/3 g*) NOT h",
		"(a (b (c -(d AND -e)))) x NEAR y NEAR \"z w\"",
	};
	char want[1024], got[1024];
	furet_qtree *qy;
	furet_rc rc;
	size_t k, n;
	(void)state;

	for (k = 0; k < sizeof queries / sizeof queries[0]; k++) {
		const char *q = queries[k];
		assert_int_equal(furet_qtree_parse(q, strlen(q), &qy), FURET_OK);
		furet_qtree_format(qy, q, want, sizeof want);
		furet_qtree_free(qy);
		for (n = 1;; n++) {
			qy = NULL;
			furet_alloc_fail_after(n);
			rc = furet_qtree_parse(q, strlen(q), &qy);
			furet_alloc_fail_after(0);
			if (rc == FURET_NOMEM) {
				assert_null(qy);
				continue;
			}
			assert_int_equal(rc, FURET_OK);
			furet_qtree_format(qy, q, got, sizeof got);
			assert_string_equal(got, want);
			furet_qtree_free(qy);
			break;
		}
		assert_true(n > 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_text),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_phrases),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_boolean),
		cmocka_unit_test(test_missing_operands),
		cmocka_unit_test(test_parentheses),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_near),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_literal_leaves),
		cmocka_unit_test(test_nomem),
	};
	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
