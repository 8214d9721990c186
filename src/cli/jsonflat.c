/*
** jsonflat.c — see jsonflat.h. One pass over the line; a string without
** an escape is a pointer into the line, one with escapes is decoded into
** j->buf. Where a span lives is only known at the end (the buffer may move
** while it grows), so strings are kept as offsets until then.
*/
#include "jsonflat.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct span {
	int in_buf;    /* decoded into j->buf (else in the line) */
	size_t off, len;
	int has_nul;
	int is_set;    /* a string was given (not absent, not null) */
} span;

static size_t skip_ws(const char *l, size_t n, size_t i)
{
	while (i < n && (l[i] == ' ' || l[i] == '\t' || l[i] == '\n' ||
		l[i] == '\r'))
		i++;
	return i;
}

static int hex4(const char *p, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t k;

	if (n < 4)
		return 0;
	for (k = 0; k < 4; k++) {
		char c = p[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

static void put_utf8(furet_buf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	furet_buf_append(b, u, n);
}

/* The first k >= i where l[k] ends a run of plain string bytes: a quote,
** a backslash, a control character (or n). Eight bytes at a time: most of
** a text is plain, and this is the one pass over it before the analysis. */
static size_t plain_end(const char *l, size_t n, size_t i)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

#ifdef __SSE2__
	/* Sixteen at a time where the processor has SSE2 (every x86-64). */
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);

	while (i + 16 <= n) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(l + i));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
			_mm_cmpeq_epi8(x, bslash)),
			_mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl)); /* x <= 0x1f */
		int bits = _mm_movemask_epi8(m);
		if (bits)
			return i + (size_t)__builtin_ctz((unsigned)bits);
		i += 16;
	}
#endif
	while (i + 8 <= n) {
		uint64_t x, q, b;
		memcpy(&x, l + i, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		/* a byte < 0x20, a zero byte in q or in b (exact for "any") */
		if (((x - ones * 0x20) & ~x & highs) | ((q - ones) & ~q & highs) |
			((b - ones) & ~b & highs))
			break;
		i += 8;
	}
	while (i < n && l[i] != '"' && l[i] != '\\' && (unsigned char)l[i] >= 0x20)
		i++;
	return i;
}

/* Reads the string whose opening quote is at l[*pos]; *pos ends past its
** closing quote. 1, 0 (not for us), -1 out of memory. */
static int read_string(jflat *j, const char *l, size_t n, size_t *pos,
	span *s)
{
	size_t i = plain_end(l, n, *pos + 1), start = *pos + 1;

	if (i >= n || (unsigned char)l[i] < 0x20)
		return 0;
	s->has_nul = 0;
	s->is_set = 1;
	if (l[i] == '"') {
		s->in_buf = 0;
		s->off = start;
		s->len = i - start;
		*pos = i + 1;
		return 1;
	}
	/* Escapes: the string is decoded into the buffer. */
	s->in_buf = 1;
	s->off = j->buf.len;
	furet_buf_append(&j->buf, l + start, i - start);
	while (i < n) {
		unsigned char c = (unsigned char)l[i];
		uint32_t cp, lo;
		size_t k;

		if (c == '"') {
			s->len = j->buf.len - s->off;
			*pos = i + 1;
			return j->buf.has_err ? -1 : 1;
		}
		if (c < 0x20)
			return 0;
		if (c != '\\') {
			k = plain_end(l, n, i);
			furet_buf_append(&j->buf, l + i, k - i);
			i = k;
			continue;
		}
		if (i + 1 >= n)
			return 0;
		switch (l[i + 1]) {
		case '"': furet_buf_putc(&j->buf, '"'); break;
		case '\\': furet_buf_putc(&j->buf, '\\'); break;
		case '/': furet_buf_putc(&j->buf, '/'); break;
		case 'b': furet_buf_putc(&j->buf, '\b'); break;
		case 'f': furet_buf_putc(&j->buf, '\f'); break;
		case 'n': furet_buf_putc(&j->buf, '\n'); break;
		case 'r': furet_buf_putc(&j->buf, '\r'); break;
		case 't': furet_buf_putc(&j->buf, '\t'); break;
		case 'u':
			if (!hex4(l + i + 2, n - (i + 2), &cp))
				return 0;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return 0; /* a lone low surrogate: jansson's error */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 12 > n || l[i + 6] != '\\' || l[i + 7] != 'u' ||
					!hex4(l + i + 8, n - (i + 8), &lo) ||
					lo < 0xdc00 || lo > 0xdfff)
					return 0;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			s->has_nul |= cp == 0;
			put_utf8(&j->buf, cp);
			i += 4;
			break;
		default:
			return 0;
		}
		i += 2;
	}
	return 0; /* no closing quote */
}

void jflat_init(jflat *j)
{
	memset(j, 0, sizeof *j);
	furet_buf_init(&j->buf);
}

void jflat_free(jflat *j)
{
	furet_buf_free(&j->buf);
}

/* The decoded key s is name. */
static int key_is(const jflat *j, const char *l, const span *s,
	const char *name)
{
	const char *p = s->in_buf ? (const char *)j->buf.data + s->off : l + s->off;
	return s->len == strlen(name) && memcmp(p, name, s->len) == 0;
}

static void resolve(const jflat *j, const char *l, const span *s,
	jflat_str *out)
{
	out->p = !s->is_set ? NULL : s->in_buf ?
		(const char *)j->buf.data + s->off : l + s->off;
	out->len = s->is_set ? s->len : 0;
	out->has_nul = s->has_nul;
}

int jflat_parse(jflat *j, const char *l, size_t n)
{
	span id, title, text, key, val;
	size_t i = skip_ws(l, n, 0);
	int r;

	memset(&id, 0, sizeof id);
	memset(&title, 0, sizeof title);
	memset(&text, 0, sizeof text);
	furet_buf_reset(&j->buf);
	if (i >= n || l[i] != '{')
		return 0;
	i = skip_ws(l, n, i + 1);
	for (;;) {
		if (i >= n || l[i] != '"')
			return 0; /* also {} : no "id", jansson says so */
		if ((r = read_string(j, l, n, &i, &key)) != 1)
			return r;
		i = skip_ws(l, n, i);
		if (i >= n || l[i] != ':')
			return 0;
		i = skip_ws(l, n, i + 1);
		memset(&val, 0, sizeof val);
		if (i < n && l[i] == '"') {
			if ((r = read_string(j, l, n, &i, &val)) != 1)
				return r;
		} else if (n - i >= 4 && memcmp(l + i, "null", 4) == 0) {
			i += 4; /* val stays unset */
		} else {
			return 0;
		}
		if (key_is(j, l, &key, "id"))
			id = val;
		else if (key_is(j, l, &key, "text"))
			text = val;
		else if (key_is(j, l, &key, "title"))
			title = val;
		else if (key_is(j, l, &key, "meta") && val.is_set)
			return 0; /* a string meta is re-encoded as JSON: jansson's */
		i = skip_ws(l, n, i);
		if (i < n && l[i] == ',') {
			i = skip_ws(l, n, i + 1);
			continue;
		}
		if (i < n && l[i] == '}')
			break;
		return 0;
	}
	if (skip_ws(l, n, i + 1) != n || !id.is_set || !text.is_set)
		return 0;
	resolve(j, l, &id, &j->id);
	resolve(j, l, &title, &j->title);
	resolve(j, l, &text, &j->text);
	return 1;
}
