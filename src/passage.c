/*
** passage.c — cutting a document into passages, sections and a title.
**
** Passes over the text, both linear and both never reading past len:
**
**   1. Is there a blank line (only whitespace) with text both before and after
**      it? If so paragraphs are runs of non-blank lines; otherwise every
**      non-blank line is a paragraph. Leading or trailing blank lines do not
**      count: "a\nb\n\n" is a one-paragraph-per-line text that ends in a
**      stray empty line, not one paragraph "a b".
**   2. Paragraphs come out of a cursor one at a time, with one paragraph of
**      look-ahead, which is all the heading rule needs: a short heading-like
**      paragraph is a heading only when the next one is not heading-like
**      (two short lines in a row, like a signature, stay passages) and the
**      last paragraph is never a heading. Nothing proportional to the number
**      of lines is kept, so a 50 MB file of newlines costs no memory.
**
** Markdown adds ATX headings ("#" to "######" then a space, a tab or the end
** of the line, after at most three spaces): always headings, and a heading
** line inside a paragraph block cuts it. Lines inside ``` or ~~~ fences are
** text, so a shell comment in a code block is not a heading.
**
** Paragraphs longer than window_words words are cut greedily into windows of
** whole sentences; a sentence longer than a window is cut every window_words
** words. Words are runs of non-whitespace bytes, and whitespace includes the
** no-break spaces of French typography (U+00A0, U+202F, U+2000..U+200A), so
** "Quoi ?" behaves the same whatever space the author typed.
**
** Everything is a byte range into the caller's text. Depends on util only.
*/
#include "passage.h"

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <string.h>

#include "util.h"

/* Headings are short: the limits of the heading-like shape. */
#define HEADING_MAX_WORDS 8
#define HEADING_MAX_BYTES 80

typedef struct para {
	size_t start, end; /* trimmed; for a markdown heading, its text */
	int level;         /* markdown heading level 1..6, or 0 */
	int is_headlike;
} para;

typedef struct cursor {
	const unsigned char *p;
	size_t len;
	size_t pos;        /* start of the next line to read */
	int by_blank;      /* paragraphs are separated by blank lines */
	int is_markdown;
	int fence;         /* '`' or '~' inside a fenced code block, else 0 */
	int has_held;
	para held;         /* a markdown heading that ended the previous paragraph */
} cursor;

/* Bytes that may start a whitespace character (space_len), and bytes
** that may end a closing quote or bracket, a whitespace character, a
** sentence or heading mark or "…" (ends_with_mark): the scans below look
** at every byte of the text, and most bytes are neither. */
#define B_SPACE 1
#define B_TAIL 2
static const unsigned char byte_kind[256] = {
	['\t'] = B_SPACE | B_TAIL, ['\n'] = B_SPACE | B_TAIL,
	['\v'] = B_SPACE | B_TAIL, ['\f'] = B_SPACE | B_TAIL,
	['\r'] = B_SPACE | B_TAIL, [' '] = B_SPACE | B_TAIL,
	[0xc2] = B_SPACE, [0xe2] = B_SPACE,
	['"'] = B_TAIL, ['\''] = B_TAIL, [')'] = B_TAIL, [']'] = B_TAIL,
	['}'] = B_TAIL, ['.'] = B_TAIL, ['!'] = B_TAIL, ['?'] = B_TAIL,
	[':'] = B_TAIL, [';'] = B_TAIL, [','] = B_TAIL,
	[0x80] = B_TAIL, [0x81] = B_TAIL, [0x82] = B_TAIL, [0x83] = B_TAIL,
	[0x84] = B_TAIL, [0x85] = B_TAIL, [0x86] = B_TAIL, [0x87] = B_TAIL,
	[0x88] = B_TAIL, [0x89] = B_TAIL, [0x8a] = B_TAIL, [0xaf] = B_TAIL,
	[0xa0] = B_TAIL, [0xbb] = B_TAIL, [0x99] = B_TAIL, [0x9d] = B_TAIL,
	[0xba] = B_TAIL, [0xa6] = B_TAIL,
};

/* Byte length of the whitespace character at p[i] (i < end), or 0. */
static size_t space_len(const unsigned char *p, size_t i, size_t end)
{
	unsigned c = p[i];

	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (c == 0xc2 && i + 1 < end && p[i + 1] == 0xa0)
		return 2;
	if (c == 0xe2 && i + 2 < end && p[i + 1] == 0x80 &&
		(p[i + 2] <= 0x8a || p[i + 2] == 0xaf))
		return 3;
	return 0;
}

/* The end of the word at p[i]: the first whitespace character (space_len)
** at or after i, or end. Sixteen bytes at a time where SSE2 is: the bytes
** that may start one (B_SPACE) are found together, and only those are
** looked at (the lead byte of a "\u2019" is one). Cutting paragraphs into
** windows a byte at a time was 2.8 % of a rebuild's time (perf); with
** word_end, the whole split is about 1.5 %. */
static size_t word_end(const unsigned char *p, size_t i, size_t end)
{
#if defined(__SSE2__) && defined(__GNUC__)
	const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
	const __m128i four = _mm_set1_epi8(4), c2 = _mm_set1_epi8((char)0xc2);
	const __m128i e2 = _mm_set1_epi8((char)0xe2);

	while (end - i >= 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i d = _mm_sub_epi8(b, tab); /* \t..\r: 0..4 */
		__m128i m = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(b, sp),
			_mm_cmpeq_epi8(_mm_min_epu8(d, four), d)),
			_mm_or_si128(_mm_cmpeq_epi8(b, c2), _mm_cmpeq_epi8(b, e2)));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		for (; bits; bits &= bits - 1) {
			size_t j = i + (size_t)__builtin_ctz(bits);
			if (space_len(p, j, end))
				return j;
		}
		i += 16;
	}
#endif
	while (i < end && !((byte_kind[p[i]] & B_SPACE) &&
		space_len(p, i, end)))
		i++;
	return i;
}

/* Byte length of the whitespace character that ends p[start..end), or 0.
** A lead byte is never a continuation byte, so looking back is unambiguous. */
static size_t space_len_before(const unsigned char *p, size_t start,
	size_t end)
{
	unsigned c;

	if (end <= start)
		return 0;
	c = p[end - 1];
	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (end - start >= 2 && p[end - 2] == 0xc2 && c == 0xa0)
		return 2;
	if (end - start >= 3 && p[end - 3] == 0xe2 && p[end - 2] == 0x80 &&
		(c <= 0x8a || c == 0xaf))
		return 3;
	return 0;
}

/* Byte length of the closing quote or bracket that ends p[start..end), or 0:
** " ' ) ] } » ’ ” ›. */
static size_t closer_len_before(const unsigned char *p, size_t start,
	size_t end)
{
	unsigned c;

	if (end <= start)
		return 0;
	c = p[end - 1];
	if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '}')
		return 1;
	if (end - start >= 2 && p[end - 2] == 0xc2 && c == 0xbb)
		return 2;
	if (end - start >= 3 && p[end - 3] == 0xe2 && p[end - 2] == 0x80 &&
		(c == 0x99 || c == 0x9d || c == 0xba))
		return 3;
	return 0;
}

static void trim(const unsigned char *p, size_t *start, size_t *end)
{
	size_t s = *start, e = *end, n;

	while (s < e && (n = space_len(p, s, e)) != 0)
		s += n;
	while (e > s && (n = space_len_before(p, s, e)) != 0)
		e -= n;
	*start = s;
	*end = e;
}

static int is_blank(const unsigned char *p, size_t start, size_t end)
{
	trim(p, &start, &end);
	return start == end;
}

/* Does p[start..end) end with one of the ASCII marks in set, or with "…",
** once closing quotes, brackets and spaces are set aside ("fin. »")? */
static int ends_with_mark(const unsigned char *p, size_t start, size_t end,
	const char *set)
{
	/* Most words end with a letter: none of the cases below. */
	if (end > start && !(byte_kind[p[end - 1]] & B_TAIL))
		return 0;
	for (;;) {
		size_t n = closer_len_before(p, start, end);

		if (!n)
			n = space_len_before(p, start, end);
		if (!n)
			break;
		end -= n;
	}
	if (end == start)
		return 0;
	if (p[end - 1] != 0 && strchr(set, p[end - 1]))
		return 1;
	return end - start >= 3 && p[end - 3] == 0xe2 && p[end - 2] == 0x80 &&
		p[end - 1] == 0xa6;
}

/* Only closing quotes and brackets, like the "»" of "fin. »". */
static int is_all_closers(const unsigned char *p, size_t start, size_t end)
{
	size_t n;

	while (end > start && (n = closer_len_before(p, start, end)) != 0)
		end -= n;
	return end == start;
}

/* A heading names something: it has a letter or a digit. This keeps rules
** such as "* * *" or "---" from becoming sections. Lead bytes C2 (Latin-1
** punctuation) and E2 (general punctuation, symbols) are not letters. */
static int has_letter(const unsigned char *p, size_t start, size_t end)
{
	size_t i;

	for (i = start; i < end; i++) {
		unsigned c = p[i];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			(c >= 'A' && c <= 'Z') ||
			(c >= 0xc3 && c <= 0xf4 && c != 0xe2))
			return 1;
	}
	return 0;
}

/* Number of words in p[start..end), counting no further than limit + 1. */
static size_t count_words(const unsigned char *p, size_t start, size_t end,
	size_t limit)
{
	size_t i = start, n_words = 0;

	while (i < end && n_words <= limit) {
		size_t n;

		while (i < end && (byte_kind[p[i]] & B_SPACE) &&
			(n = space_len(p, i, end)) != 0)
			i += n;
		if (i >= end)
			break;
		n_words++;
		i = word_end(p, i, end);
	}
	return n_words;
}

/* The shape of a heading, for a one-line trimmed paragraph. */
static int is_headlike(const unsigned char *p, size_t start, size_t end)
{
	size_t n_words;

	if (end - start > HEADING_MAX_BYTES || !has_letter(p, start, end))
		return 0;
	n_words = count_words(p, start, end, HEADING_MAX_WORDS);
	if (n_words == 0 || n_words > HEADING_MAX_WORDS)
		return 0;
	return !ends_with_mark(p, start, end, ".!?:;,");
}

/* Position after at most three spaces of indentation (markdown's limit). */
static size_t md_indent(const unsigned char *p, size_t ls, size_t le)
{
	size_t i = ls;

	while (i < le && i - ls < 3 && p[i] == ' ')
		i++;
	return i;
}

/* If line p[ls..le) is an ATX heading, returns its level and sets h to its
** text without the opening and closing "#" runs; else returns 0. */
static int md_heading(const unsigned char *p, size_t ls, size_t le, para *h)
{
	size_t i = md_indent(p, ls, le), s, e, q;
	int level = 0;

	while (i < le && p[i] == '#' && level < 7) {
		i++;
		level++;
	}
	if (level == 0 || level > 6)
		return 0;
	if (i < le && p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
		return 0;
	s = i;
	e = le;
	trim(p, &s, &e);
	/* "## Title ##": a closing run of "#" goes if a space precedes it. */
	q = e;
	while (q > s && p[q - 1] == '#')
		q--;
	if (q < e && (q == s || p[q - 1] == ' ' || p[q - 1] == '\t')) {
		e = q;
		trim(p, &s, &e);
	}
	h->start = s;
	h->end = e;
	h->level = level;
	h->is_headlike = 1;
	return level;
}

/* Tracks ``` and ~~~ fences; returns 1 for a heading outside any fence. */
static int md_line(cursor *c, size_t ls, size_t le, para *h)
{
	const unsigned char *p = c->p;
	size_t i = md_indent(p, ls, le);

	if (i + 3 <= le && (p[i] == '`' || p[i] == '~') && p[i + 1] == p[i] &&
		p[i + 2] == p[i]) {
		if (!c->fence)
			c->fence = p[i];
		else if (c->fence == p[i])
			c->fence = 0;
		return 0;
	}
	if (c->fence)
		return 0;
	return md_heading(p, ls, le, h) != 0;
}

/* Pass 1: is there a blank line between two non-blank ones? */
static int has_separating_blank(const unsigned char *p, size_t len)
{
	size_t pos = 0;
	int seen_text = 0, seen_blank = 0;

	while (pos < len) {
		const unsigned char *nl = memchr(p + pos, '\n', len - pos);
		size_t le = nl ? (size_t)(nl - p) : len;

		if (is_blank(p, pos, le)) {
			seen_blank = seen_text;
		} else {
			if (seen_blank)
				return 1;
			seen_text = 1;
		}
		pos = nl ? le + 1 : len;
	}
	return 0;
}

/* Pass 2: the next paragraph, or 0 at the end of the text. */
static int next_para(cursor *c, para *out)
{
	size_t n_lines = 0;

	if (c->has_held) {
		*out = c->held;
		c->has_held = 0;
		return 1;
	}
	while (c->pos < c->len) {
		size_t ls = c->pos, le;
		const unsigned char *nl = memchr(c->p + ls, '\n', c->len - ls);

		le = nl ? (size_t)(nl - c->p) : c->len;
		c->pos = nl ? le + 1 : c->len;
		if (is_blank(c->p, ls, le)) {
			if (n_lines)
				break;
			continue;
		}
		if (c->is_markdown) {
			para h;
			if (md_line(c, ls, le, &h)) {
				if (!n_lines) {
					*out = h;
					return 1;
				}
				c->held = h;
				c->has_held = 1;
				break;
			}
		}
		if (!n_lines)
			out->start = ls;
		out->end = le;
		n_lines++;
		if (!c->by_blank)
			break;
	}
	if (!n_lines)
		return 0;
	trim(c->p, &out->start, &out->end);
	out->level = 0;
	out->is_headlike = n_lines == 1 &&
		is_headlike(c->p, out->start, out->end);
	return 1;
}

static furet_rc push_span(furet_split *out, size_t *cap,
	const furet_passage_span *sec, size_t start, size_t end)
{
	furet_passage_span *sp;

	if (out->n_spans == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof *sp)
			return FURET_NOMEM;
		sp = furet_realloc(out->spans, ncap * sizeof *sp);
		if (!sp)
			return FURET_NOMEM;
		out->spans = sp;
		*cap = ncap;
	}
	sp = &out->spans[out->n_spans++];
	*sp = *sec;
	sp->start = start;
	sp->end = end;
	return FURET_OK;
}

/* Emits paragraph p[start..end) as one or more windows. A window is closed
** only when the next word would not fit, at the last sentence end inside it,
** or, when there is none, right there (a sentence longer than a window). */
static furet_rc emit_windows(const unsigned char *p, size_t start, size_t end,
	size_t window_words, const furet_passage_span *sec, furet_split *out,
	size_t *cap)
{
	size_t i = start;
	size_t win_start = start, n_win = 0, prev_end = start;
	size_t n_at_stop = 0;   /* words of the window up to its last sentence end */
	size_t stop_end = 0;    /* byte after that sentence end */
	size_t after_stop = 0;  /* start of the word that follows it */
	int prev_stops = 0;
	furet_rc rc;

	/* n words take at least 2n - 1 bytes: a shorter paragraph (most of
	** them) is one window, from its start to the end of its last word,
	** which is its end when it ends with no space. */
	if (end - start < 2 * window_words && start < end &&
		!space_len_before(p, start, end))
		return push_span(out, cap, sec, start, end);
	for (;;) {
		size_t ws, we, n;
		int stops;

		while (i < end && (byte_kind[p[i]] & B_SPACE) &&
			(n = space_len(p, i, end)) != 0)
			i += n;
		if (i >= end)
			break;
		ws = i;
		we = i = word_end(p, i, end);

		if (prev_stops)
			after_stop = ws;
		if (n_win == window_words) {
			if (n_at_stop) {
				rc = push_span(out, cap, sec, win_start, stop_end);
				n_win -= n_at_stop;
				win_start = after_stop;
			} else {
				rc = push_span(out, cap, sec, win_start, prev_end);
				n_win = 0;
				win_start = ws;
			}
			if (rc != FURET_OK)
				return rc;
			n_at_stop = 0;
		}
		n_win++;
		prev_end = we;
		/* A lone "»" after "fin." still belongs to that sentence. */
		stops = ((byte_kind[p[we - 1]] & B_TAIL) &&
			ends_with_mark(p, ws, we, ".!?")) ||
			(prev_stops && is_all_closers(p, ws, we));
		if (stops) {
			n_at_stop = n_win;
			stop_end = we;
		}
		prev_stops = stops;
	}
	if (n_win == 0)
		return FURET_OK;
	return push_span(out, cap, sec, win_start, prev_end);
}

furet_rc furet_passage_split(const char *text, size_t len, unsigned format,
	size_t window_words, furet_split *out)
{
	cursor c;
	para cur, next;
	furet_passage_span sec;
	size_t cap = 0;
	int has_cur, has_next;
	furet_rc rc = FURET_OK;

	if (!out)
		return FURET_INVALID;
	memset(out, 0, sizeof *out);
	if ((!text && len) ||
		(format != FURET_FORMAT_TEXT && format != FURET_FORMAT_MARKDOWN))
		return FURET_INVALID;
	if (len == 0)
		return FURET_OK;
	/* 0 means "never cut": the caller wants whole paragraphs. */
	if (window_words == 0)
		window_words = SIZE_MAX;

	memset(&c, 0, sizeof c);
	c.p = (const unsigned char *)text;
	c.len = len;
	c.is_markdown = format == FURET_FORMAT_MARKDOWN;
	c.by_blank = has_separating_blank(c.p, len);
	memset(&sec, 0, sizeof sec);
	memset(&next, 0, sizeof next);

	has_cur = next_para(&c, &cur);
	while (has_cur) {
		has_next = next_para(&c, &next);
		if (cur.level) {
			sec.has_section = cur.start < cur.end;
			sec.sec_start = sec.has_section ? cur.start : 0;
			sec.sec_end = sec.has_section ? cur.end : 0;
			if (cur.level == 1 && !out->has_title && sec.has_section) {
				out->has_title = 1;
				out->title_start = cur.start;
				out->title_end = cur.end;
			}
		} else if (has_next && cur.is_headlike && !next.is_headlike) {
			sec.has_section = 1;
			sec.sec_start = cur.start;
			sec.sec_end = cur.end;
		} else {
			rc = emit_windows(c.p, cur.start, cur.end, window_words,
				&sec, out, &cap);
			if (rc != FURET_OK)
				goto done;
		}
		cur = next;
		has_cur = has_next;
	}

done:
	if (rc != FURET_OK)
		furet_split_free(out);
	return rc;
}

void furet_split_free(furet_split *s)
{
	if (!s)
		return;
	furet_free(s->spans);
	memset(s, 0, sizeof *s);
}
