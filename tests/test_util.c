/*
** test_util.c — buffers (sticky error under allocation failure), UTF-8
** validation at every kind of bad sequence, big-endian integers, and the
** hash tables' key comparison against memcmp.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_u32be),
		cmocka_unit_test(test_same),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
