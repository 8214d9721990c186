/*
** test_util.c — buffers (sticky error under allocation failure, fitting),
** UTF-8 validation at every kind of bad sequence, big-endian integers,
** the hash tables' key comparison against memcmp, and the sort of keys in
** LMDB's order.
*/
#include "testutil.h"

#include "util.h"

static void test_buf(void **state)
{
	furet_buf b;
	int i;
	(void)state;

	furet_buf_init(&b);
	for (i = 0; i < 1000; i++)
		furet_buf_printf(&b, "%d,", i);
	assert_false(b.has_err);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data, "0,1,2,", 6);
	furet_buf_reset(&b);
	assert_int_equal(b.len, 0);
	/* A failed allocation sticks: later appends are no-ops. */
	furet_buf_free(&b);
	furet_alloc_fail_after(1);
	furet_buf_append(&b, "abc", 3);
	assert_true(b.has_err);
	furet_alloc_fail_after(0);
	furet_buf_append(&b, "abc", 3);
	assert_true(b.has_err);
	assert_int_equal(b.len, 0);
	furet_buf_free(&b);

	/* Fitting gives back what doubling left unused, and keeps the bytes;
	** when realloc fails, the buffer is kept as it was. */
	furet_buf_init(&b);
	for (i = 0; i < 1000; i++)
		furet_buf_printf(&b, "%d,", i);
	assert_true(b.cap > b.len + 1);
	furet_alloc_fail_after(1);
	furet_buf_fit(&b);
	furet_alloc_fail_after(0);
	assert_true(b.cap > b.len + 1);
	assert_false(b.has_err);
	furet_buf_fit(&b);
	assert_int_equal(b.cap, b.len + 1);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data, "0,1,2,", 6);
	assert_memory_equal(b.data + b.len - 4, "999,", 4);
	furet_buf_append(&b, "x", 1); /* grows again */
	assert_int_equal(b.data[b.len - 1], 'x');
	furet_buf_free(&b);
	furet_buf_fit(&b); /* nothing to fit */
	assert_int_equal(b.cap, 0);
}

static void test_utf8(void **state)
{
	struct {
		const char *s;
		size_t len, bad;
	} cases[] = {
		{ "école", 6, 6 },
		{ "\xe2\x80\x99", 3, 3 },            /* ’ */
		{ "\xf0\x9f\x98\x80", 4, 4 },        /* emoji */
		{ "ab\xe9", 3, 2 },                  /* Latin-1 é */
		{ "\xc3", 1, 0 },                    /* truncated */
		{ "\xc0\xaf", 2, 0 },                /* overlong */
		{ "\xe0\x80\xaf", 3, 0 },            /* overlong */
		{ "\xed\xa0\x80", 3, 0 },            /* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0 },        /* above U+10FFFF */
		{ "x\xf8\x88\x80\x80\x80", 6, 1 },   /* 5-byte form */
		{ "ok\x80", 3, 2 },                  /* lone continuation */
		{ "a\0b", 3, 3 },                    /* NUL is valid UTF-8 */
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(furet_utf8_valid(cases[i].s, cases[i].len),
			cases[i].bad);
	/* The same after 0 to 19 ASCII bytes and before 0 to 9 more (ASCII is
	** read eight bytes at a time): the first bad byte moves with them. */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t pre, post;
		for (pre = 0; pre < 20; pre++)
			for (post = 0; post < 10; post++) {
				char s[40];
				size_t len = pre + cases[i].len + post;
				memset(s, 'a', sizeof s);
				memcpy(s + pre, cases[i].s, cases[i].len);
				assert_int_equal(furet_utf8_valid(s, len),
					cases[i].bad == cases[i].len ? len :
					pre + cases[i].bad);
			}
	}
}

/* The first bad byte as a sequence at a time finds it (furet_utf8_decode):
** what furet_utf8_valid must answer, however it reads. */
static size_t utf8_valid_ref(const unsigned char *p, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (!(n = furet_utf8_decode(p + i, len - i, &cp)))
			return i;
		i += n;
	}
	return len;
}

/* Random texts of French-like pieces (ASCII, accents, U+2019, an emoji)
** with now and then a damaged one (a lone continuation byte, a lead byte
** without its continuation, 0xc0, a truncated sequence), cut at every
** length: the same answer as the reference, sixteen-byte chunks or not;
** furet_utf8_run2 (which the command line's count uses too) stops on a
** character's start within the valid part, its two-byte sequences
** counted. */
static void test_utf8_valid_random(void **state)
{
	static const char *const good[] = { "a", "le ", "\xc3\xa9", "\xc3\xa0 ",
		"\xe2\x80\x99", "\xc5\x93", "\xf0\x9f\x98\x80", "formation ",
		"\xc2\xa0", "1 002,20" };
	static const char *const bad[] = { "\x80", "\xc3", "\xc3 ", "\xc0\xaf",
		"\xe2\x80", "\xbf\xbf", "\xed\xa0\x80", "\xff" };
	unsigned char text[200];
	uint32_t x = 7;
	size_t round, len, n, k;
	(void)state;

	for (round = 0; round < 3000; round++) {
		/* (a piece is 10 bytes at most) */
		for (n = 0; n + 10 <= sizeof text; n += k) {
			const char *piece;
			x = x * 1103515245u + 12345u;
			piece = (x >> 16) % 97 == 0 && round % 3 ? bad[(x >> 8) % 8] :
				good[(x >> 20) % 10];
			k = strlen(piece);
			memcpy(text + n, piece, k);
		}
		for (len = 0; len <= n; len++) {
			size_t valid = utf8_valid_ref(text, len), n_two = 0, two = 0;
			size_t run = furet_utf8_run2(text, 0, len, &n_two), i, k2;
			assert_int_equal(furet_utf8_valid((const char *)text, len),
				valid);
			/* the run: valid, on a character's start, its two-byte
			** sequences counted */
			assert_true(run <= valid);
			for (i = 0; i < run; i += k2) {
				uint32_t cp;
				k2 = furet_utf8_decode(text + i, len - i, &cp);
				assert_true(k2 == 1 || k2 == 2);
				two += k2 == 2;
			}
			assert_int_equal(i, run);
			assert_int_equal(n_two, two);
		}
	}
}

static void test_u32be(void **state)
{
	unsigned char p[4];
	(void)state;
	furet_put_u32be(p, 0x01020304u);
	assert_memory_equal(p, "\x01\x02\x03\x04", 4);
	assert_int_equal(furet_get_u32be(p), 0x01020304u);
}

/* furet_same answers as memcmp does, for every length around its cases
** (0, 1-3, 4-7, 8-16, more) and a difference at every byte. */
static void test_same(void **state)
{
	unsigned char a[40], b[40];
	size_t n, i;
	(void)state;

	for (i = 0; i < sizeof a; i++)
		a[i] = b[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof a; n++) {
		assert_true(furet_same(a, b, n));
		for (i = 0; i < n; i++) {
			b[i] ^= 0x40;
			assert_int_equal(furet_same(a, b, n), memcmp(a, b, n) == 0);
			b[i] ^= 0x40;
		}
	}
}

/* LMDB's key order: bytes, a shorter prefix first. */
static int key_order(const furet_key_ref *x, const furet_key_ref *y)
{
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* furet_keys_sort puts keys in that order, whatever their lengths (0 to
** 12 bytes, around the 8-byte prefix), with 0 bytes among them (a pair
** key holds one) and many sharing a prefix; each key once, the ids kept
** with their keys. Small arrays (qsort alone) and large (the radix sort). */
static void test_keys_sort(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 63, 64, 65, 1000, 20000 };
	unsigned char *bytes = malloc(20000 * 12);
	furet_key_ref *v = malloc(20000 * sizeof *v);
	unsigned *seen = malloc(20000 * sizeof *seen);
	uint32_t rnd = 12345;
	size_t si, i, n;
	(void)state;

	assert_non_null(bytes);
	assert_non_null(v);
	assert_non_null(seen);
	for (si = 0; si < sizeof sizes / sizeof *sizes; si++) {
		n = sizes[si];
		for (i = 0; i < n; i++) {
			unsigned char *p = bytes + 12 * i;
			uint32_t len, k;
			rnd = rnd * 1103515245u + 12345u;
			len = (rnd >> 16) % 13;
			for (k = 0; k < len; k++) {
				rnd = rnd * 1103515245u + 12345u;
				/* a small alphabet with 0: many shared prefixes */
				p[k] = (unsigned char)"\0ab\xff"[(rnd >> 16) & 3];
			}
			furet_key_ref_set(&v[i], p, len, (uint32_t)i);
		}
		assert_int_equal(furet_keys_sort(v, n), 0);
		memset(seen, 0, 20000 * sizeof *seen);
		for (i = 0; i < n; i++) {
			assert_true(v[i].id < n);
			assert_ptr_equal(v[i].p, bytes + 12 * v[i].id);
			seen[v[i].id]++;
			if (i)
				assert_true(key_order(&v[i - 1], &v[i]) <= 0);
		}
		for (i = 0; i < n; i++)
			assert_int_equal(seen[i], 1);
	}
	free(bytes);
	free(v);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_valid_random),
		cmocka_unit_test(test_u32be),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_keys_sort),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
