/*
** util.h — the small pieces every module shares: the allocator hooks (so tests
** can fail the Nth allocation), a growable byte buffer with a sticky error,
** LEB128 varints and big-endian fixed-width integers for LMDB keys.
**
** Depends on nothing but libc. Invariants: a furet_buf's data is always NUL
** terminated when cap > 0 (so it can be handed to C string functions), and once
** an append fails the buffer stays failed (has_err) so that a run of appends
** needs one check at the end, as in SQLite's sqlite3Fts5Buffer*.
*/
#ifndef FURET_UTIL_H
#define FURET_UTIL_H

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "furet.h"

#define FURET_INTERNAL __attribute__((visibility("hidden")))

/* Allocation. Everything in libfuret allocates through these three, so the
** out-of-memory tests can make the Nth call fail. */
void *furet_malloc(size_t n);
void *furet_realloc(void *p, size_t n);
void furet_free(void *p);
char *furet_strndup(const char *s, size_t len);

/* Test hook: make allocation number n (counting from 1 after the call) and
** every later one fail; 0 disables. Returns the number of allocations made
** since the previous call. */
size_t furet_alloc_fail_after(size_t n);

typedef struct furet_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
	int has_err; /* sticky: set on the first failed allocation */
} furet_buf;

void furet_buf_init(furet_buf *b);
void furet_buf_free(furet_buf *b);
/* len = 0, keeps memory, clears has_err. Inline: the analyzer resets its
** word buffers for each word. */
static inline void furet_buf_reset(furet_buf *b)
{
	b->len = 0;
	b->has_err = 0;
	if (b->cap)
		b->data[0] = '\0';
}
/* Gives back the capacity past the bytes and their NUL (doubling leaves up
** to half of it unused); kept as it is when realloc fails. */
void furet_buf_fit(furet_buf *b);
/* Makes room for extra more bytes and a NUL: 0, or -1 (has_err set). */
int furet_buf_reserve_grow(furet_buf *b, size_t extra);
static inline int furet_buf_reserve(furet_buf *b, size_t extra)
{
	if (extra < b->cap - b->len && !b->has_err)
		return 0;
	return furet_buf_reserve_grow(b, extra);
}
/* Appends (and the varint writers below) are inline when the bytes and the
** closing NUL fit: the analysis appends a few bytes at a time, millions of
** times, and the call was a tenth of its time. The _grow versions take the
** rest: they grow the buffer, or do nothing once has_err is set. */
void furet_buf_append_grow(furet_buf *b, const void *p, size_t n);
static inline void furet_buf_append(furet_buf *b, const void *p, size_t n)
{
	if (n && n < b->cap - b->len && !b->has_err) { /* cap > len if cap */
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
	} else {
		furet_buf_append_grow(b, p, n);
	}
}
static inline void furet_buf_putc(furet_buf *b, int c)
{
	if (1 < b->cap - b->len && !b->has_err) {
		b->data[b->len++] = (unsigned char)c;
		b->data[b->len] = '\0';
	} else {
		unsigned char ch = (unsigned char)c;
		furet_buf_append_grow(b, &ch, 1);
	}
}
void furet_buf_puts(furet_buf *b, const char *s);
void furet_buf_printf(furet_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes v as a varint at p (10 bytes at most); returns its length. */
static inline size_t furet_put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}
static inline void furet_buf_put_varint(furet_buf *b, uint64_t v)
{
	if (10 < b->cap - b->len && !b->has_err) {
		b->len += furet_put_varint(b->data + b->len, v);
		b->data[b->len] = '\0';
	} else {
		unsigned char tmp[10];
		furet_buf_append_grow(b, tmp, furet_put_varint(tmp, v));
	}
}
void furet_buf_put_u32be(furet_buf *b, uint32_t v);

/* Varint decoding from untrusted bytes: returns the number of bytes read, or
** 0 when the input ends early or the value overflows 64 bits. */
size_t furet_get_varint(const unsigned char *p, const unsigned char *end,
	uint64_t *out);
uint32_t furet_get_u32be(const unsigned char *p);
/* Little-endian: the dense per-passage arrays in meta. */
void furet_buf_put_u32le(furet_buf *b, uint32_t v);
static inline uint32_t furet_get_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}
static inline void furet_put_u32le(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}
void furet_put_u32be(unsigned char *p, uint32_t v);

/* The hash of the tables in memory (the writer's terms, pairs and ids,
** the workers' pairs): 8 bytes at a time, the last 1-8 in two
** overlapping loads (or three bytes), each step a multiply, then
** MurmurHash3's 64-bit finaliser, so that the low bits (a table's slot)
** depend on every byte. Nothing stored depends on it. It was FNV-1a, a
** multiply per byte, one after the other: 0.4 % of indexing's CPU went to
** hashing the words of new lookup pairs alone (perf, 212 MB corpus).
** furet_hash32 is its low half. */
static inline uint64_t furet_hash64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ull * (n + 1), v;
	uint32_t a, b;

	while (n > 8) {
		memcpy(&v, s, 8);
		h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		v = (uint64_t)a << 32 | b;
	} else if (n) {
		v = (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1];
	} else {
		v = 0;
	}
	h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static inline uint32_t furet_hash32(const void *p, size_t n)
{
	return (uint32_t)furet_hash64(p, n);
}

/* Whether a[0..n) and b[0..n) are the same bytes: the keys of those tables
** are mostly words of a few bytes, which two overlapping loads from each
** compare for less than a call to memcmp costs. */
static inline int furet_same(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	uint64_t u, v, w, z;
	uint32_t c, d, e, f;

	if (n > 16)
		return memcmp(a, b, n) == 0;
	if (n >= 8) {
		memcpy(&u, x, 8);
		memcpy(&v, y, 8);
		memcpy(&w, x + n - 8, 8);
		memcpy(&z, y + n - 8, 8);
		return ((u ^ v) | (w ^ z)) == 0;
	}
	if (n >= 4) {
		memcpy(&c, x, 4);
		memcpy(&d, y, 4);
		memcpy(&e, x + n - 4, 4);
		memcpy(&f, y + n - 4, 4);
		return ((c ^ d) | (e ^ f)) == 0;
	}
	return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] &&
		x[n - 1] == y[n - 1]);
}

/* Grows the array *p of elements of elem bytes so that it holds need of
** them (capacity doubling from 16); 0, or -1 when out of memory (*p kept). */
int furet_grow(void **p, size_t *cap, size_t need, size_t elem);

/* The offset of the first byte of p[i..n) that is not ASCII, n if none:
** eight bytes at a time (ASCII is most of a French text). */
static inline size_t furet_ascii_end(const unsigned char *p, size_t i,
	size_t n)
{
	while (i + 8 <= n) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		x &= 0x8080808080808080ull;
		if (x) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + ((size_t)__builtin_ctzll(x) >> 3);
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

/* How far from p[i] the text is ASCII and two-byte sequences (the accents
** of French), sixteen bytes at a time where SSE2 is (i itself without it);
** *n_two counts those sequences (n_two NULL: not counted). A chunk's lead
** bytes (0xc2..0xdf) must be exactly the bytes before its continuation
** bytes (0x80..0xbf), a lead byte in a chunk's last place carried to the
** next one's first. Stops at
** the first chunk holding anything else (three- and four-byte sequences,
** bad bytes), which the caller reads a sequence at a time. i is at a
** character's start, and so is what it returns (before a carried lead
** byte). Each chunk starts 16 bytes after the last, whatever it held: the
** loads do not wait for the compares: 4.5 GB/s against 1.9 a sequence at
** a time on the corpus's 270 MB of lines, and 2.5 when a chunk ending with
** a lead byte moved the next one on by 17. */
static inline size_t furet_utf8_run2(const unsigned char *p, size_t i,
	size_t len, size_t *n_two)
{
#if defined(__SSE2__) && defined(__GNUC__)
	const __m128i below_c0 = _mm_set1_epi8(-64);
	const __m128i above_c1 = _mm_set1_epi8(-63);
	const __m128i below_e0 = _mm_set1_epi8(-32);
	unsigned carry = 0;

	while (len - i >= 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned hi = (unsigned)_mm_movemask_epi8(b), cont, lead;

		/* as signed bytes: 0x80..0xbf are -128..-65, 0xc2..0xdf -62..-33 */
		cont = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(b, below_c0));
		lead = (unsigned)_mm_movemask_epi8(_mm_and_si128(
			_mm_cmpgt_epi8(b, above_c1), _mm_cmplt_epi8(b, below_e0)));
		if ((cont | lead) != hi || (((lead << 1) | carry) & 0xffff) != cont)
			break;
		if (n_two)
			*n_two += (size_t)__builtin_popcount(lead);
		carry = lead >> 15;
		i += 16;
	}
	if (n_two)
		*n_two -= carry; /* (counted again by the caller) */
	return i - carry;
#else
	(void)p;
	(void)len;
	(void)n_two;
	return i;
#endif
}

/* UTF-8. furet_utf8_valid returns the offset of the first invalid byte, or
** len when the whole text is valid. */
size_t furet_utf8_valid(const char *s, size_t len);

/* Decodes the sequence at p (n > 0 bytes available) into *cp and returns its
** length, or 0 when it is not well-formed UTF-8 (RFC 3629: no overlong
** forms, no surrogates, nothing above U+10FFFF). */
size_t furet_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* Appends s[0..len) to out with the accents of Latin letters removed and
** the ligatures œ, æ expanded ("Élève" -> "Eleve", "cœur" -> "coeur"); other
** characters are copied. Used for typo candidates, where accent differences
** are free; the analyzer's own folding (ICU) decides the index terms. */
void furet_unaccent(const char *s, size_t len, furet_buf *out);

/* LMDB's key order: bytes, a shorter prefix first. */
static inline int furet_key_cmp(const unsigned char *a, size_t a_len,
	const unsigned char *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (c)
		return c;
	return a_len < b_len ? -1 : a_len > b_len;
}

/* Byte strings to sort in LMDB's key order (bytes, a shorter prefix
** first): furet_key_ref_set fills pre with the first 8 bytes, big-endian
** and padded with 0 bytes; id is the caller's. */
typedef struct furet_key_ref {
	uint64_t pre;
	const unsigned char *p;
	uint32_t len;
	uint32_t id;
} furet_key_ref;

static inline void furet_key_ref_set(furet_key_ref *r,
	const unsigned char *p, uint32_t len, uint32_t id)
{
	uint64_t x = 0;
	uint32_t i;

	for (i = 0; i < 8; i++)
		x = x << 8 | (i < len ? p[i] : 0);
	r->pre = x;
	r->p = p;
	r->len = len;
	r->id = id;
}

/* Sorts v[0..n) by key (ties in any order); -1 when out of memory. */
int furet_keys_sort(furet_key_ref *v, size_t n);

#endif
