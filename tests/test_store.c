/*
** test_store.c — the LMDB layer and the on-disk format: record codecs round
** trip and refuse damaged bytes, postings blocks, opening errors (no index, a
** foreign LMDB file, a file that is not LMDB, another format version,
** another analyzer), and map growth.
*/
#include "testutil.h"

#include <lmdb.h>

#include "analyzer.h"
#include "store.h"
#include "util.h"

static void test_doc_passage_term_codecs(void **state)
{
	furet_doc_rec d = { "corpus/a.txt", 12, "Titre", 5, 7, 3, "corpus",
		6, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
		"{\"n\":1}\0x", 9 }, d2;
	furet_passage_rec p, p2;
	furet_term_rec t = { 1234567, 9876543210ull, 77 }, t2;
	furet_buf b;
	furet_val v;
	size_t cut;
	(void)state;

	furet_buf_init(&b);
	furet_doc_rec_encode(&d, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
	assert_int_equal(d2.id_len, 12);
	assert_memory_equal(d2.id, "corpus/a.txt", 12);
	assert_memory_equal(d2.title, "Titre", 5);
	assert_int_equal(d2.first_passage, 7);
	assert_int_equal(d2.n_passages, 3);
	assert_int_equal(d2.source_len, 6);
	assert_memory_equal(d2.source, "corpus", 6);
	assert_memory_equal(d2.hash, d.hash, 16);
	assert_int_equal(d2.meta_len, 9);
	assert_memory_equal(d2.meta, "{\"n\":1}\0x", 9);
	/* Every truncation is detected, and so is a byte too many. */
	for (cut = 0; cut < b.len; cut++) {
		v.len = cut;
		assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_CORRUPT);
	}
	furet_buf_putc(&b, 0);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_CORRUPT);
	/* No metadata; metadata over FURET_META_MAX is damage. */
	d.meta = NULL;
	d.meta_len = 0;
	furet_buf_reset(&b);
	furet_doc_rec_encode(&d, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
	assert_int_equal(d2.meta_len, 0);
	furet_buf_reset(&b);
	furet_doc_rec_encode(&d, &b);
	b.len--; /* the zero length of the metadata */
	furet_buf_put_varint(&b, FURET_META_MAX + 1);
	{
		size_t i;
		for (i = 0; i <= FURET_META_MAX; i++)
			furet_buf_putc(&b, 'x');
	}
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_CORRUPT);

	memset(&p, 0, sizeof p);
	p.doc = 4;
	p.number = 2;
	p.start = 100;
	p.end = 250;
	p.section = "POP School";
	p.section_len = 10;
	p.length = 31;
	furet_buf_reset(&b);
	furet_passage_rec_encode(&p, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_passage_rec_decode(v, &p2), FURET_OK);
	assert_int_equal(p2.end, 250);
	assert_int_equal(p2.section_len, 10);
	assert_memory_equal(p2.section, "POP School", 10);
	assert_int_equal(p2.length, 31);
	p.section = NULL;
	p.section_len = 0;
	furet_buf_reset(&b);
	furet_passage_rec_encode(&p, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_passage_rec_decode(v, &p2), FURET_OK);
	assert_null(p2.section);
	/* end before start is damage, not a passage. */
	p.start = 300;
	furet_buf_reset(&b);
	furet_passage_rec_encode(&p, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_passage_rec_decode(v, &p2), FURET_CORRUPT);

	furet_buf_reset(&b);
	furet_term_rec_encode(&t, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_term_rec_decode(v, &t2), FURET_OK);
	assert_int_equal(t2.df, 1234567);
	assert_true(t2.cf == 9876543210ull);
	assert_int_equal(t2.n_blocks, 77);
	furet_buf_free(&b);
}

static void test_block_codec(void **state)
{
	furet_block *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
	furet_buf buf;
	furet_val v;
	uint32_t i;
	(void)state;

	b->n = FURET_BLOCK_SIZE;
	for (i = 0; i < b->n; i++) {
		b->pid[i] = 1000 + i * i * 37;
		b->tf[i] = i % 5;
		b->tf_title[i] = (uint8_t)(i % 2);
		b->tf_section[i] = (uint8_t)(i % 3 == 0);
	}
	furet_buf_init(&buf);
	furet_block_encode(b, &buf);
	v.data = buf.data;
	v.len = buf.len;
	assert_int_equal(furet_block_decode(v, c), FURET_OK);
	assert_int_equal(c->n, b->n);
	assert_memory_equal(c->pid, b->pid, sizeof b->pid);
	assert_memory_equal(c->tf, b->tf, sizeof b->tf);
	assert_memory_equal(c->tf_title, b->tf_title, sizeof b->tf_title);
	assert_memory_equal(c->tf_section, b->tf_section, sizeof b->tf_section);
	/* Truncated, and a count above the block size, are corrupt. */
	v.len = buf.len - 1;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	buf.data[0] = 0xff;
	buf.data[1] = 0x01;
	v.len = buf.len;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	v.len = 0;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	furet_buf_free(&buf);
	free(b);
	free(c);
}

static void test_varint_edges(void **state)
{
	furet_buf b;
	uint64_t v = 0, vals[] = { 0, 1, 127, 128, 16383, 16384, UINT32_MAX,
		UINT64_MAX };
	const unsigned char over[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0x7f };
	size_t i, at = 0, n;
	(void)state;

	furet_buf_init(&b);
	for (i = 0; i < sizeof vals / sizeof vals[0]; i++)
		furet_buf_put_varint(&b, vals[i]);
	for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		n = furet_get_varint(b.data + at, b.data + b.len, &v);
		assert_true(n > 0);
		assert_true(v == vals[i]);
		at += n;
	}
	assert_int_equal(at, b.len);
	assert_int_equal(furet_get_varint(over, over + sizeof over, &v), 0);
	assert_int_equal(furet_get_varint(over, over + 3, &v), 0);
	furet_buf_free(&b);
}

static void test_open_errors(void **state)
{
	char *dir = tu_mkdtemp();
	char path[4200], err[512];
	furet_store *s = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	(void)state;

	/* No index there, and creation not asked. */
	snprintf(path, sizeof path, "%s/none", dir);
	assert_int_equal(furet_store_open(path, 0, &s, err, sizeof err),
		FURET_NOINDEX);
	assert_null(s);
	assert_non_null(strstr(err, "furet index"));

	/* A file that is not LMDB. */
	snprintf(path, sizeof path, "%s/junk", dir);
	mkdir(path, 0777);
	assert_int_equal(tu_write(path, "data.mdb", "hello, not a database\n", 22),
		0);
	assert_int_equal(furet_store_open(path, 0, &s, err, sizeof err),
		FURET_CORRUPT);
	assert_null(s);

	/* Another program's LMDB environment. */
	snprintf(path, sizeof path, "%s/foreign", dir);
	mkdir(path, 0777);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0666), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	k.mv_data = "user:1";
	k.mv_size = 6;
	v.mv_data = "alice";
	v.mv_size = 5;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(furet_store_open(path, 0, &s, err, sizeof err),
		FURET_CORRUPT);
	assert_non_null(strstr(err, "not a furet index"));
	assert_null(s);

	tu_rmtree(dir);
	free(dir);
}

static void test_version_and_analyzer_checks(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	unsigned char ver[4];
	(void)state;

	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	furet_put_u32be(ver, FURET_FORMAT_VERSION + 1);
	assert_int_equal(furet_txn_put(t, FURET_T_META, "format", 6, ver, 4, 0),
		FURET_OK);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);
	s = NULL;
	assert_int_equal(furet_store_open(dir, 0, &s, err, sizeof err),
		FURET_VERSION);
	assert_non_null(strstr(err, "--rebuild"));
	assert_null(s);

	/* Right version, other analyzer. */
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_VERSION);
	tu_rmtree(dir);
	mkdir(dir, 0777);
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	assert_int_equal(furet_txn_put(t, FURET_T_META, "analyzer", 8, "other/9",
		7, 0), FURET_OK);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);
	s = NULL;
	assert_int_equal(furet_store_open(dir, FURET_STORE_READONLY, &s, err,
		sizeof err), FURET_VERSION);
	assert_non_null(strstr(err, "other/9"));
	tu_rmtree(dir);
	free(dir);
}

/* Values round trip through a transaction; an aborted one leaves nothing;
** cursors walk keys in order from a seek point. */
static void test_txn_and_cursor(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_cursor *c = NULL;
	furet_val k, v;
	(void)state;

	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "ecol", 4, "1", 1, 0), 0);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "ecolo", 5, "2", 1, 0), 0);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "form", 4, "3", 1, 0), 0);
	assert_int_equal(furet_txn_commit(t), FURET_OK);

	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "zzz", 3, "4", 1, 0), 0);
	furet_txn_abort(t);

	assert_int_equal(furet_store_begin(s, 0, &t), FURET_OK);
	assert_int_equal(furet_txn_get(t, FURET_T_TERMS, "zzz", 3, &v), FURET_DONE);
	assert_int_equal(furet_txn_get(t, FURET_T_TERMS, "ecolo", 5, &v), FURET_OK);
	assert_memory_equal(v.data, "2", 1);
	assert_int_equal(furet_cursor_open(t, FURET_T_TERMS, &c), FURET_OK);
	assert_int_equal(furet_cursor_seek(c, "eco", 3, &k, &v), FURET_OK);
	assert_int_equal(k.len, 4);
	assert_memory_equal(k.data, "ecol", 4);
	assert_int_equal(furet_cursor_next(c, &k, &v), FURET_OK);
	assert_memory_equal(k.data, "ecolo", 5);
	assert_int_equal(furet_cursor_next(c, &k, &v), FURET_OK);
	assert_memory_equal(k.data, "form", 4);
	assert_int_equal(furet_cursor_next(c, &k, &v), FURET_DONE);
	furet_cursor_close(c);
	furet_txn_abort(t);
	/* Growing the map keeps the data. */
	assert_int_equal(furet_store_grow(s), FURET_OK);
	assert_int_equal(furet_store_begin(s, 0, &t), FURET_OK);
	assert_int_equal(furet_txn_get(t, FURET_T_TERMS, "form", 4, &v), FURET_OK);
	furet_txn_abort(t);
	furet_store_close(s);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_passage_term_codecs),
		cmocka_unit_test(test_block_codec),
		cmocka_unit_test(test_varint_edges),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_version_and_analyzer_checks),
		cmocka_unit_test(test_txn_and_cursor),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
