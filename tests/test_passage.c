/*
** test_passage.c — passage.c: paragraphs, heading detection, sections,
** markdown titles, sentence windows, and byte ranges that slice the text.
*/
#include "testutil.h"

#include "passage.h"
#include "util.h"

/* The text of span i, for comparisons (static buffer, one at a time). */
static const char *slice(const char *t, size_t start, size_t end)
{
	static char buf[8192];
	size_t n = end - start;

	assert_true(start <= end);
	assert_true(n < sizeof buf);
	memcpy(buf, t + start, n);
	buf[n] = '\0';
	return buf;
}

static void split_ok(const char *t, size_t len, unsigned format, size_t w,
	furet_split *s)
{
	assert_int_equal(furet_passage_split(t, len, format, w, s), FURET_OK);
}

static size_t words_in(const char *t, size_t start, size_t end)
{
	size_t n = 0, i = start;

	while (i < end) {
		while (i < end && (t[i] == ' ' || t[i] == '\n'))
			i++;
		if (i >= end)
			break;
		n++;
		while (i < end && t[i] != ' ' && t[i] != '\n')
			i++;
	}
	return n;
}

static void test_seed_article(void **state)
{
	size_t len = 0, i, line, n_lines = 0;
	char *t = tu_read("corpus/fabriques-du-numerique.txt", &len);
	size_t ls[32], le[32];
	const furet_passage_span *sp;
	furet_split s;

	(void)state;
	assert_non_null(t);
	/* The lines of the file, as byte ranges. */
	for (i = 0; i < len && n_lines < 32; n_lines++) {
		const char *nl = memchr(t + i, '\n', len - i);
		ls[n_lines] = i;
		le[n_lines] = nl ? (size_t)(nl - t) : len;
		i = le[n_lines] + 1;
	}
	assert_int_equal(n_lines, 19);

	split_ok(t, len, FURET_FORMAT_TEXT, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 17);
	assert_false(s.has_title);
	sp = s.spans;
	/* Line numbers from 1; 5 and 10 are the headings. */
	for (i = 0, line = 1; line <= 19; line++) {
		if (line == 5 || line == 10)
			continue;
		assert_int_equal(sp[i].start, ls[line - 1]);
		assert_int_equal(sp[i].end, le[line - 1]);
		if (line < 5) {
			assert_false(sp[i].has_section);
		} else if (line < 10) {
			assert_true(sp[i].has_section);
			assert_string_equal(slice(t, sp[i].sec_start, sp[i].sec_end),
				"POP School");
		} else {
			assert_true(sp[i].has_section);
			assert_string_equal(slice(t, sp[i].sec_start, sp[i].sec_end),
				"LePoleS");
		}
		i++;
	}
	assert_string_equal(slice(t, sp[3].start, sp[3].end),
		"C'est le cas de POP School et de LePoleS");
	assert_string_equal(slice(t, sp[15].start, sp[15].end), "Claude TRAN");
	assert_string_equal(slice(t, sp[16].start, sp[16].end),
		"Vice Pr\xc3\xa9sident de l'An@\xc3\xa9");
	furet_split_free(&s);
	free(t);
}

static void test_blank_lines_crlf(void **state)
{
	const char *t =
		"  Premier paragraphe,\r\nsur deux lignes.\r\n"
		"\r\n"
		" \t \r\n"
		"Introduction\r\n"
		"\r\n"
		"Second paragraphe qui suit le titre.\r\n"
		"\r\n"
		"\xc2\xa0Troisi\xc3\xa8me avec espace ins\xc3\xa9""cable.\xc2\xa0\r\n";
	furet_split s;

	(void)state;
	split_ok(t, strlen(t), FURET_FORMAT_TEXT, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 3);
	assert_string_equal(slice(t, s.spans[0].start, s.spans[0].end),
		"Premier paragraphe,\r\nsur deux lignes.");
	assert_false(s.spans[0].has_section);
	assert_string_equal(slice(t, s.spans[1].start, s.spans[1].end),
		"Second paragraphe qui suit le titre.");
	assert_true(s.spans[1].has_section);
	assert_string_equal(slice(t, s.spans[1].sec_start, s.spans[1].sec_end),
		"Introduction");
	assert_string_equal(slice(t, s.spans[2].start, s.spans[2].end),
		"Troisi\xc3\xa8me avec espace ins\xc3\xa9""cable.");
	assert_true(s.spans[2].has_section);
	furet_split_free(&s);
}

/* Leading and trailing blank lines do not make a blank-line text. */
static void test_stray_blank_lines(void **state)
{
	const char *t = "\n\nune ligne.\nune autre.\n\n\n";
	furet_split s;

	(void)state;
	split_ok(t, strlen(t), FURET_FORMAT_TEXT, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 2);
	assert_string_equal(slice(t, s.spans[0].start, s.spans[0].end),
		"une ligne.");
	assert_string_equal(slice(t, s.spans[1].start, s.spans[1].end),
		"une autre.");
	furet_split_free(&s);
}

static void test_heading_shapes(void **state)
{
	const char *t =
		"Une question ?\n"          /* ends with ? : passage */
		"Texte.\n"
		"* * *\n"                   /* no letter: passage */
		"Texte.\n"
		"\xc2\xab Vive la France ! \xc2\xbb\n" /* ! then a quote: passage */
		"Texte.\n"
		"Un deux trois quatre cinq six sept huit\n" /* 8 words: heading */
		"Texte apr\xc3\xa8s.\n"
		"Un deux trois quatre cinq six sept huit neuf\n" /* 9: passage */
		"Fin.\n"
		"Dernier titre\n";          /* last paragraph: passage */
	furet_split s;

	(void)state;
	split_ok(t, strlen(t), FURET_FORMAT_TEXT, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 10);
	assert_string_equal(slice(t, s.spans[0].start, s.spans[0].end),
		"Une question ?");
	assert_string_equal(slice(t, s.spans[2].start, s.spans[2].end), "* * *");
	assert_string_equal(slice(t, s.spans[6].start, s.spans[6].end),
		"Texte apr\xc3\xa8s.");
	assert_string_equal(slice(t, s.spans[6].sec_start, s.spans[6].sec_end),
		"Un deux trois quatre cinq six sept huit");
	assert_false(s.spans[5].has_section);
	assert_string_equal(slice(t, s.spans[9].start, s.spans[9].end),
		"Dernier titre");
	assert_true(s.spans[9].has_section);
	furet_split_free(&s);
}

/* 50 sentences of 10 words: windows of 200, 200, 100 words, each ending
** with a period. */
static void test_windows_sentences(void **state)
{
	furet_buf b;
	furet_split s;
	size_t i;

	(void)state;
	furet_buf_init(&b);
	for (i = 0; i < 50; i++)
		furet_buf_printf(&b, "%sun deux trois quatre cinq six sept huit neuf dix%zu.",
			i ? " " : "", i);
	assert_false(b.has_err);
	split_ok((char *)b.data, b.len, FURET_FORMAT_TEXT, 200, &s);
	assert_int_equal(s.n_spans, 3);
	assert_int_equal(s.spans[0].start, 0);
	assert_int_equal(words_in((char *)b.data, s.spans[0].start, s.spans[0].end), 200);
	assert_int_equal(words_in((char *)b.data, s.spans[1].start, s.spans[1].end), 200);
	assert_int_equal(words_in((char *)b.data, s.spans[2].start, s.spans[2].end), 100);
	for (i = 0; i < 3; i++)
		assert_int_equal(b.data[s.spans[i].end - 1], '.');
	assert_int_equal(s.spans[1].start, s.spans[0].end + 1);
	assert_int_equal(s.spans[2].start, s.spans[1].end + 1);
	assert_int_equal(s.spans[2].end, b.len);
	assert_string_equal(slice((char *)b.data, s.spans[1].start,
		s.spans[1].start + 6), "un deu");

	/* A window takes whole sentences only: 16-word sentences, 12 per
	** window (192 words). */
	furet_split_free(&s);
	furet_buf_reset(&b);
	for (i = 0; i < 30; i++)
		furet_buf_printf(&b, "%sa b c d e f g h i j k l m n fin !",
			i ? " " : "");
	split_ok((char *)b.data, b.len, FURET_FORMAT_TEXT, 200, &s);
	assert_int_equal(s.n_spans, 3);
	assert_int_equal(words_in((char *)b.data, s.spans[0].start, s.spans[0].end), 192);
	assert_int_equal(words_in((char *)b.data, s.spans[1].start, s.spans[1].end), 192);
	assert_int_equal(words_in((char *)b.data, s.spans[2].start, s.spans[2].end), 96);
	assert_int_equal(b.data[s.spans[0].end - 1], '!');
	furet_split_free(&s);
	furet_buf_free(&b);
}

/* Paragraphs of one-letter words around the window's size, the spaces
** between them one byte or NBSP: up to the window's words, one span from
** the paragraph's start to its last word's end; one more word, two spans
** (without a sentence end, the first has the window's words). */
static void test_windows_edges(void **state)
{
	static const char *const seps[] = { " ", "\xc2\xa0", "  " };
	furet_buf b;
	furet_split s;
	size_t w, k, j, n, sep;

	(void)state;
	furet_buf_init(&b);
	for (w = 1; w <= 6; w++)
		for (k = 1; k <= 2 * w + 1; k++)
			for (sep = 0; sep < 3; sep++) {
				furet_buf_reset(&b);
				for (j = 0; j < k; j++)
					furet_buf_printf(&b, "%s%c", j ? seps[sep] : "",
						(int)('a' + j % 26));
				assert_false(b.has_err);
				split_ok((char *)b.data, b.len, FURET_FORMAT_TEXT, w, &s);
				assert_int_equal(s.n_spans, (k + w - 1) / w);
				assert_int_equal(s.spans[0].start, 0);
				for (j = s.spans[0].start, n = 0; j < s.spans[0].end; j++)
					n += b.data[j] >= 'a' && b.data[j] <= 'z';
				assert_int_equal(n, k < w ? k : w);
				assert_int_equal(s.spans[s.n_spans - 1].end, b.len);
				furet_split_free(&s);
			}
	furet_buf_free(&b);
}

/* Whitespace as passage.c counts it: ASCII spaces and controls \t..\r,
** U+00A0, U+2000..U+200A and U+202F; its byte length at t[i], or 0. */
static size_t ws_len(const unsigned char *t, size_t i, size_t end)
{
	if (t[i] == ' ' || (t[i] >= '\t' && t[i] <= '\r'))
		return 1;
	if (t[i] == 0xc2 && i + 1 < end && t[i + 1] == 0xa0)
		return 2;
	if (t[i] == 0xe2 && i + 2 < end && t[i + 1] == 0x80 &&
		(t[i + 2] <= 0x8a || t[i + 2] == 0xaf))
		return 3;
	return 0;
}

/* Long paragraphs of random words (letters, "\u2019", guillemets, "\u2026",
** the bytes 0xc2 and 0xe2 that start other characters) between random
** whitespace of one to three bytes, at every alignment: the windows hold
** at most w words each and all the words, in order, each cut between two
** words, the first at the first word and the last at the last word's end. */
static void test_windows_random(void **state)
{
	static const char *const parts[] = { "a", "le", "\xc3\xa9" "cole",
		"l\xe2\x80\x99", "\xc2\xab", "\xc2\xbb", "fin.", "\xe2\x80\xa6",
		"num\xc3\xa9rique", "1", "Quoi", "?", "\xe2\x80\x94", "x\xc2\xb0" };
	static const char *const seps[] = { " ", "  ", "\t", "\xc2\xa0",
		"\xe2\x80\xaf", "\xe2\x80\x89", " \xc2\xa0 " };
	furet_buf b;
	furet_split s;
	uint32_t x = 2024;
	size_t round, i, j, k, n_words, w;

	(void)state;
	furet_buf_init(&b);
	for (round = 0; round < 200; round++) {
		size_t want = 50 + round * 7 % 400, seen = 0, lead = round % 17;
		furet_buf_reset(&b);
		for (i = 0; i < lead; i++)
			furet_buf_putc(&b, 'z');
		for (i = 0; i < want; i++) {
			size_t n_parts;
			x = x * 1103515245u + 12345u;
			if (i)
				furet_buf_append(&b, seps[(x >> 8) % 7],
					strlen(seps[(x >> 8) % 7]));
			for (n_parts = 1 + (x >> 20) % 3, k = 0; k < n_parts; k++) {
				x = x * 1103515245u + 12345u;
				furet_buf_append(&b, parts[(x >> 16) % 14],
					strlen(parts[(x >> 16) % 14]));
			}
		}
		assert_false(b.has_err);
		w = 3 + round % 40;
		split_ok((char *)b.data, b.len, FURET_FORMAT_TEXT, w, &s);
		assert_true(s.n_spans >= 1);
		assert_int_equal(s.spans[0].start, 0);
		assert_int_equal(s.spans[s.n_spans - 1].end, b.len);
		for (k = 0; k < s.n_spans; k++) {
			size_t st = s.spans[k].start, en = s.spans[k].end;
			assert_true(st < en && en <= b.len);
			/* on word boundaries: whitespace around, none at the edges */
			assert_int_equal(ws_len(b.data, st, b.len), 0);
			assert_true(k == 0 || ws_len(b.data, st - 1, b.len) == 1 ||
				(st >= 2 && ws_len(b.data, st - 2, b.len) == 2) ||
				(st >= 3 && ws_len(b.data, st - 3, b.len) == 3));
			assert_true(en == b.len || ws_len(b.data, en, b.len));
			for (j = st, n_words = 0; j < en; ) {
				size_t n = ws_len(b.data, j, en);
				if (n) {
					j += n;
					continue;
				}
				n_words++;
				while (j < en && !ws_len(b.data, j, en))
					j++;
			}
			assert_true(n_words >= 1 && n_words <= w);
			seen += n_words;
			/* nothing but whitespace between two windows */
			for (j = en; k + 1 < s.n_spans && j < s.spans[k + 1].start; ) {
				size_t n = ws_len(b.data, j, b.len);
				assert_true(n > 0);
				j += n;
			}
		}
		assert_int_equal(seen, want);
		furet_split_free(&s);
	}
	furet_buf_free(&b);
}

/* One 450-word sentence without a period: cut every 200 words; windows keep
** the paragraph's section. */
static void test_windows_long_sentence(void **state)
{
	furet_buf b;
	furet_split s;
	size_t i, total = 0;

	(void)state;
	furet_buf_init(&b);
	furet_buf_puts(&b, "Chapitre un\n");
	for (i = 0; i < 450; i++)
		furet_buf_printf(&b, "%smot%zu", i ? " " : "", i);
	furet_buf_puts(&b, "\n");
	assert_false(b.has_err);
	split_ok((char *)b.data, b.len, FURET_FORMAT_TEXT, 200, &s);
	assert_int_equal(s.n_spans, 3);
	for (i = 0; i < 3; i++) {
		size_t n = words_in((char *)b.data, s.spans[i].start, s.spans[i].end);
		assert_int_equal(n, i < 2 ? 200 : 50);
		assert_true(s.spans[i].has_section);
		assert_string_equal(slice((char *)b.data, s.spans[i].sec_start,
			s.spans[i].sec_end), "Chapitre un");
		total += n;
	}
	assert_int_equal(total, 450);
	assert_string_equal(slice((char *)b.data, s.spans[1].start,
		s.spans[1].start + 6), "mot200");
	assert_string_equal(slice((char *)b.data, s.spans[2].start,
		s.spans[2].start + 6), "mot400");
	assert_string_equal(slice((char *)b.data, s.spans[2].end - 6,
		s.spans[2].end), "mot449");
	/* 0: paragraphs are never cut. */
	furet_split_free(&s);
	split_ok((char *)b.data, b.len, FURET_FORMAT_TEXT, 0, &s);
	assert_int_equal(s.n_spans, 1);
	furet_split_free(&s);
	furet_buf_free(&b);
}

static void test_markdown(void **state)
{
	const char *t =
		"# Les fabriques du num\xc3\xa9rique\n"
		"\n"
		"Un chapeau d'introduction.\n"
		"Qui continue ici.\n"
		"## POP School ##\n"
		"Lanc\xc3\xa9""e en octobre 2015.\n"
		"\n"
		"```\n"
		"# pas un titre\n"
		"```\n"
		"\n"
		"#hashtag n'est pas un titre.\n"
		"\n"
		"# Second titre de niveau 1\n"
		"\n"
		"Fin du texte.\n";
	furet_split s;

	(void)state;
	split_ok(t, strlen(t), FURET_FORMAT_MARKDOWN, FURET_WINDOW_WORDS, &s);
	assert_true(s.has_title);
	assert_string_equal(slice(t, s.title_start, s.title_end),
		"Les fabriques du num\xc3\xa9rique");
	assert_int_equal(s.n_spans, 5);
	assert_string_equal(slice(t, s.spans[0].start, s.spans[0].end),
		"Un chapeau d'introduction.\nQui continue ici.");
	assert_string_equal(slice(t, s.spans[0].sec_start, s.spans[0].sec_end),
		"Les fabriques du num\xc3\xa9rique");
	assert_string_equal(slice(t, s.spans[1].start, s.spans[1].end),
		"Lanc\xc3\xa9""e en octobre 2015.");
	assert_string_equal(slice(t, s.spans[1].sec_start, s.spans[1].sec_end),
		"POP School");
	assert_string_equal(slice(t, s.spans[2].start, s.spans[2].end),
		"```\n# pas un titre\n```");
	assert_string_equal(slice(t, s.spans[3].start, s.spans[3].end),
		"#hashtag n'est pas un titre.");
	assert_string_equal(slice(t, s.spans[3].sec_start, s.spans[3].sec_end),
		"POP School");
	assert_string_equal(slice(t, s.spans[4].sec_start, s.spans[4].sec_end),
		"Second titre de niveau 1");
	furet_split_free(&s);

	/* As plain text, "#" lines are ordinary. */
	split_ok(t, strlen(t), FURET_FORMAT_TEXT, FURET_WINDOW_WORDS, &s);
	assert_false(s.has_title);
	furet_split_free(&s);
}

static void test_empty(void **state)
{
	furet_split s;
	char *nl;

	(void)state;
	split_ok("", 0, FURET_FORMAT_TEXT, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 0);
	assert_null(s.spans);
	furet_split_free(&s);
	split_ok(NULL, 0, FURET_FORMAT_MARKDOWN, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 0);
	split_ok(" \n\t\r\n \xc2\xa0 \n", 10, FURET_FORMAT_TEXT,
		FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 0);
	furet_split_free(&s);
	/* Only headings: no passage. */
	split_ok("# Titre\n## Sous-titre\n", 22, FURET_FORMAT_MARKDOWN,
		FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 0);
	assert_true(s.has_title);
	furet_split_free(&s);
	/* 8 MB of newlines: linear, nothing kept. */
	nl = malloc(8u << 20);
	assert_non_null(nl);
	memset(nl, '\n', 8u << 20);
	split_ok(nl, 8u << 20, FURET_FORMAT_MARKDOWN, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, 0);
	furet_split_free(&s);
	free(nl);
	assert_int_equal(furet_passage_split("x", 1, 7, 200, &s), FURET_INVALID);
}

/* Never reads past len: the text is a copy with no terminator, and the cut
** falls inside a no-break space and a "…". */
static void test_bounds(void **state)
{
	const char *src = "Titre\nMot\xc2\xa0\xe2\x80\xa6";
	size_t len = strlen(src), cut;
	furet_split s;

	(void)state;
	for (cut = 0; cut <= len; cut++) {
		char *t = malloc(cut ? cut : 1);
		memcpy(t, src, cut);
		split_ok(t, cut, FURET_FORMAT_MARKDOWN, 1, &s);
		furet_split_free(&s);
		free(t);
	}
}

static void test_long_line(void **state)
{
	size_t len = 12u << 20, i;
	char *t = malloc(len);
	furet_split s;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < len; i++)
		t[i] = (i % 8 == 7) ? ' ' : 'a';
	split_ok(t, len, FURET_FORMAT_TEXT, FURET_WINDOW_WORDS, &s);
	assert_int_equal(s.n_spans, (len / 8 + FURET_WINDOW_WORDS - 1) /
		FURET_WINDOW_WORDS);
	furet_split_free(&s);
	free(t);
}

static void test_nomem(void **state)
{
	size_t len = 0, n;
	char *t = tu_read("corpus/fabriques-du-numerique.txt", &len);
	furet_split s;

	(void)state;
	assert_non_null(t);
	for (n = 1;; n++) {
		furet_rc rc;

		furet_alloc_fail_after(n);
		rc = furet_passage_split(t, len, FURET_FORMAT_TEXT, 20, &s);
		furet_alloc_fail_after(0);
		if (rc == FURET_OK)
			break;
		assert_int_equal(rc, FURET_NOMEM);
		assert_null(s.spans);
		assert_int_equal(s.n_spans, 0);
	}
	assert_true(n > 1);
	furet_split_free(&s);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_article),
		cmocka_unit_test(test_blank_lines_crlf),
		cmocka_unit_test(test_stray_blank_lines),
		cmocka_unit_test(test_heading_shapes),
		cmocka_unit_test(test_windows_sentences),
		cmocka_unit_test(test_windows_edges),
		cmocka_unit_test(test_windows_long_sentence),
		cmocka_unit_test(test_windows_random),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_nomem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
