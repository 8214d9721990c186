/*
** util.c — allocator hooks, growable buffers, varints, UTF-8 validation.
** See util.h for the invariants.
*/
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Atomics (relaxed): threads that share an index allocate concurrently,
** and the count must stay exact for the tests that set a failure point. */
static size_t alloc_count;
static size_t alloc_fail_at; /* 0: never fail */

size_t furet_alloc_fail_after(size_t n)
{
	size_t made = __atomic_exchange_n(&alloc_count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_fail_at, n, __ATOMIC_RELAXED);
	return made;
}

static int alloc_should_fail(void)
{
	size_t count = __atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED);
	size_t at = __atomic_load_n(&alloc_fail_at, __ATOMIC_RELAXED);
	return at && count >= at;
}

void *furet_malloc(size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *furet_realloc(void *p, size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void furet_free(void *p)
{
	free(p);
}

char *furet_strndup(const char *s, size_t len)
{
	char *d = furet_malloc(len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

int furet_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c;
	void *q;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap : 16;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			return -1;
		c *= 2;
	}
	q = furet_realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

void furet_buf_init(furet_buf *b)
{
	memset(b, 0, sizeof *b);
}

void furet_buf_free(furet_buf *b)
{
	furet_free(b->data);
	furet_buf_init(b);
}

int furet_buf_reserve_grow(furet_buf *b, size_t extra)
{
	size_t need, cap;
	unsigned char *p;

	if (b->has_err)
		return -1;
	if (extra > SIZE_MAX - b->len - 1) {
		b->has_err = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = furet_realloc(b->data, cap);
	if (!p) {
		b->has_err = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void furet_buf_append_grow(furet_buf *b, const void *p, size_t n)
{
	if (furet_buf_reserve_grow(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void furet_buf_puts(furet_buf *b, const char *s)
{
	furet_buf_append(b, s, strlen(s));
}

void furet_buf_printf(furet_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->has_err = 1;
		return;
	}
	if (furet_buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void furet_buf_put_u32be(furet_buf *b, uint32_t v)
{
	unsigned char tmp[4];
	furet_put_u32be(tmp, v);
	furet_buf_append(b, tmp, 4);
}

size_t furet_get_varint(const unsigned char *p, const unsigned char *end,
	uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 10 && p + i < end; i++) {
		uint64_t byte = p[i] & 0x7f;
		if (i == 9 && byte > 1)
			return 0;
		v |= byte << (7 * i);
		if (!(p[i] & 0x80)) {
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

uint32_t furet_get_u32be(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void furet_buf_put_u32le(furet_buf *b, uint32_t v)
{
	unsigned char tmp[4] = { (unsigned char)v, (unsigned char)(v >> 8),
		(unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	furet_buf_append(b, tmp, 4);
}

void furet_put_u32be(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

size_t furet_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned c = p[0];
	size_t extra, k;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		extra = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		extra = 2;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		extra = 3;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (extra >= n)
		return 0;
	for (k = 1; k <= extra; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[k] & 0x3f);
	}
	if ((extra == 2 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
		(extra == 3 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	*cp = v;
	return extra + 1;
}

size_t furet_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i = furet_ascii_end(p, i + 1, len);
			continue;
		}
		/* Two bytes, the accented letters of French. */
		if (p[i] >= 0xc2 && p[i] <= 0xdf && i + 1 < len &&
			(p[i + 1] & 0xc0) == 0x80) {
			i += 2;
			continue;
		}
		n = furet_utf8_decode(p + i, len - i, &cp);
		if (!n)
			return i;
		i += n;
	}
	return len;
}

/* Base letters of U+00C0..U+017F; 0 keeps the character (× ÷ Æ Œ etc. are
** handled apart or have no base letter). */
static const char latin_base[] =
	/* C0 */ "AAAAAA\0CEEEEIIII" "DNOOOOO\0OUUUUYTs"
	/* E0 */ "aaaaaa\0ceeeeiiii" "dnooooo\0ouuuuyty"
	/* 100 */ "AaAaAaCcCcCcCcDd" "DdEeEeEeEeEeGgGg"
	/* 120 */ "GgGgHhHhIiIiIiIi" "Ii\0\0JjKkkLlLlLlL"
	/* 140 */ "lLlNnNnNnnNnOoOo" "Oo\0\0RrRrRrSsSsSs"
	/* 160 */ "SsTtTtTtUuUuUuUu" "UuUuWwYyYZzZzZzs";

void furet_unaccent(const char *s, size_t len, furet_buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (p[i] < 0x80) {
			furet_buf_putc(out, p[i++]);
			continue;
		}
		n = furet_utf8_decode(p + i, len - i, &cp);
		if (!n) {
			furet_buf_putc(out, p[i++]);
			continue;
		}
		if (cp == 0xc6 || cp == 0xe6) {
			furet_buf_append(out, cp == 0xc6 ? "AE" : "ae", 2);
		} else if (cp == 0x152 || cp == 0x153) {
			furet_buf_append(out, cp == 0x152 ? "OE" : "oe", 2);
		} else if (cp == 0xdf) {
			furet_buf_append(out, "ss", 2);
		} else if (cp >= 0xc0 && cp <= 0x17f && latin_base[cp - 0xc0]) {
			furet_buf_putc(out, latin_base[cp - 0xc0]);
		} else {
			furet_buf_append(out, p + i, n);
		}
		i += n;
	}
}
