/*
** test_snippet.c — highlights are the analyzer's word ranges (an elided
** article is not highlighted), and snippet windows hold the densest run of
** highlights and cut between words.
*/
#include "testutil.h"

#include "snippet.h"

static void test_highlights(void **state)
{
	furet_analyzer *an = NULL;
	const char *text = "L'école et l’École numérique, ECOLE des écoliers.";
	const char *terms[] = { "\xc3\xa9" "col", "ecol" };
	furet_buf spans;
	size_t n = 0, i;
	const furet_span *s;
	(void)state;

	assert_int_equal(furet_analyzer_open(&an), FURET_OK);
	furet_buf_init(&spans);
	assert_int_equal(furet_snippet_highlights(an, text, strlen(text), terms, 2,
		&spans, &n), FURET_OK);
	s = (const furet_span *)spans.data;
	assert_true(n >= 3);
	for (i = 0; i < n; i++) {
		/* Each range is a whole word, never the article. */
		assert_true(strncmp(text + s[i].start, "L'", 2) != 0);
		assert_true(strncmp(text + s[i].start, "l\xe2\x80\x99", 4) != 0);
		assert_true(s[i].end == strlen(text) - 1 ||
			strchr(" ,.", text[s[i].end]) != NULL);
	}
	assert_memory_equal(text + s[0].start, "école", s[0].end - s[0].start);
	furet_buf_free(&spans);
	furet_analyzer_close(an);
}

static void test_window(void **state)
{
	char text[2000];
	furet_span hl[3], w;
	size_t i;
	(void)state;

	/* Short text: the whole of it. */
	w = furet_snippet_window("court", 5, NULL, 0, 240);
	assert_int_equal(w.start, 0);
	assert_int_equal(w.end, 5);

	/* 2000 bytes of "mot " with three highlights close together near 1500. */
	for (i = 0; i < sizeof text; i++)
		text[i] = (i % 4 == 3) ? ' ' : 'm';
	hl[0].start = 100; hl[0].end = 103;
	hl[1].start = 1500; hl[1].end = 1503;
	hl[2].start = 1520; hl[2].end = 1523;
	w = furet_snippet_window(text, sizeof text, hl, 3, 240);
	assert_true(w.start <= 1500 && w.end >= 1523);
	assert_true(w.end - w.start <= 250);
	assert_true(w.start == 0 || text[w.start - 1] == ' ');
	assert_true(w.end == sizeof text || text[w.end] == ' ');
	/* No highlight: the beginning. */
	w = furet_snippet_window(text, sizeof text, NULL, 0, 240);
	assert_int_equal(w.start, 0);
	assert_true(w.end <= 244);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_highlights),
		cmocka_unit_test(test_window),
	};
	return cmocka_run_group_tests_name("snippet", tests, NULL, NULL);
}
