/*
** test_meta.c — document metadata (furet_doc.meta, furet_hit.meta): stored
** with a document and returned with each of its hits, byte for byte (NUL
** bytes included, a NUL after); a change of the metadata alone is an
** update; kept by put of the same content, dropped with the document, kept
** by compaction and by reopening; the size bound; an index of the format
** before metadata is refused with the way to rebuild it, and rebuilt.
*/
#include "testutil.h"

#include <lmdb.h>

#include "furet.h"
#include "store.h"
#include "util.h"

static furet_doc mkdoc(const char *id, const char *text, const void *meta,
	size_t meta_len)
{
	furet_doc d = tu_doc(id, NULL, text);

	d.meta = meta;
	d.meta_len = meta_len;
	return d;
}

static int put(furet_writer *w, const char *id, const char *text,
	const void *meta, size_t meta_len)
{
	furet_doc d = mkdoc(id, text, meta, meta_len);
	int outcome = -1;

	assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
	return outcome;
}

static furet_writer *begin(furet_index *ix)
{
	furet_writer *w = NULL;

	assert_int_equal(furet_writer_begin(ix, 0, &w), FURET_OK);
	return w;
}

/* The metadata of document id's first hit for q: its length in *len, NULL
** when the hit has none; fails when id is not found. Copied (free it). */
static char *meta_of(furet_index *ix, const char *q, const char *id,
	size_t *len)
{
	furet_results *r = NULL;
	furet_search_options o;
	char *out = NULL;
	size_t i;
	int is_found = 0;

	furet_search_options_init(&o);
	o.limit = 100;
	o.flags = FURET_SEARCH_NO_TEXT; /* metadata comes with or without */
	assert_int_equal(furet_search(ix, q, strlen(q), &o, &r), FURET_OK);
	for (i = 0; i < furet_results_count(r) && !is_found; i++) {
		furet_hit h;
		assert_int_equal(furet_results_get(r, i, &h), FURET_OK);
		if (strcmp(h.doc, id) != 0)
			continue;
		is_found = 1;
		*len = h.meta_len;
		assert_true((h.meta == NULL) == (h.meta_len == 0));
		if (h.meta) {
			/* A NUL follows, not counted. */
			assert_int_equal(((const char *)h.meta)[h.meta_len], '\0');
			out = malloc(h.meta_len + 1);
			memcpy(out, h.meta, h.meta_len + 1);
		}
	}
	furet_results_free(r);
	if (!is_found)
		fail_msg("%s: no hit of %s", q, id);
	return out;
}

static void expect_meta(furet_index *ix, const char *q, const char *id,
	const void *want, size_t want_len)
{
	size_t len = 0;
	char *m = meta_of(ix, q, id, &len);

	assert_int_equal(len, want_len);
	if (want_len)
		assert_memory_equal(m, want, want_len);
	else
		assert_null(m);
	free(m);
}

static int has_doc(furet_index *ix, const char *q, const char *id)
{
	furet_results *r = NULL;
	size_t i;
	int is_found = 0;

	assert_int_equal(furet_search(ix, q, strlen(q), NULL, &r), FURET_OK);
	for (i = 0; i < furet_results_count(r); i++) {
		furet_hit h;
		furet_results_get(r, i, &h);
		is_found |= strcmp(h.doc, id) == 0;
	}
	furet_results_free(r);
	return is_found;
}

static void test_lifecycle(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_writer *w;
	furet_stats st;
	furet_batch_summary sum;
	static const char bin[] = "\x00\x01{\"a\":\x00}\xff";
	uint64_t before, after;
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	w = begin(ix);
	assert_int_equal(put(w, "a", "Les abeilles font du miel.\n\nLa ruche "
		"des abeilles.", "{\"url\":\"https://a\"}", 19), FURET_PUT_ADDED);
	assert_int_equal(put(w, "b", "Les abeilles du voisin.", NULL, 0),
		FURET_PUT_ADDED);
	assert_int_equal(put(w, "c", "Le miel des abeilles noires.", bin,
		sizeof bin - 1), FURET_PUT_ADDED);
	assert_int_equal(furet_writer_commit(w), FURET_OK);

	/* Every hit of a document carries its metadata, byte for byte. */
	expect_meta(ix, "ruche", "a", "{\"url\":\"https://a\"}", 19);
	expect_meta(ix, "abeilles font", "a", "{\"url\":\"https://a\"}", 19);
	expect_meta(ix, "abeilles", "b", NULL, 0);
	expect_meta(ix, "noires", "c", bin, sizeof bin - 1);

	/* The same content and metadata: unchanged. The metadata alone
	** changed: an update, and searches see the new one. */
	w = begin(ix);
	assert_int_equal(put(w, "a", "Les abeilles font du miel.\n\nLa ruche "
		"des abeilles.", "{\"url\":\"https://a\"}", 19),
		FURET_PUT_UNCHANGED);
	assert_int_equal(put(w, "b", "Les abeilles du voisin.", "7", 1),
		FURET_PUT_UPDATED);
	assert_int_equal(put(w, "c", "Le miel des abeilles noires.", bin,
		sizeof bin - 2), FURET_PUT_UPDATED);
	assert_int_equal(furet_writer_summary(w, &sum), FURET_OK);
	assert_int_equal(sum.updated, 2);
	assert_int_equal(sum.unchanged, 1);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	expect_meta(ix, "voisin", "b", "7", 1);
	expect_meta(ix, "noires", "c", bin, sizeof bin - 2);
	expect_meta(ix, "ruche", "a", "{\"url\":\"https://a\"}", 19);

	/* Metadata removed is a change too. */
	w = begin(ix);
	assert_int_equal(put(w, "b", "Les abeilles du voisin.", NULL, 0),
		FURET_PUT_UPDATED);
	assert_int_equal(put(w, "b", "Les abeilles du voisin.", "x", 0),
		FURET_PUT_REPLACED_IN_BATCH);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	expect_meta(ix, "voisin", "b", NULL, 0);

	/* Removed with its document. */
	w = begin(ix);
	assert_int_equal(furet_writer_remove(w, "a", 1), FURET_OK);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	assert_false(has_doc(ix, "abeilles", "a"));
	expect_meta(ix, "noires", "c", bin, sizeof bin - 2);

	/* Compaction keeps it, and so does reopening. */
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_true(st.n_dead > 0);
	assert_int_equal(furet_index_compact(ix, &before, &after), FURET_OK);
	assert_int_equal(furet_index_check(ix), FURET_OK);
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.n_dead, 0);
	expect_meta(ix, "noires", "c", bin, sizeof bin - 2);
	expect_meta(ix, "voisin", "b", NULL, 0);
	furet_index_close(ix);
	ix = NULL;
	assert_int_equal(furet_index_open(dir, FURET_OPEN_READONLY, &ix),
		FURET_OK);
	expect_meta(ix, "noires", "c", bin, sizeof bin - 2);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* At most FURET_META_MAX bytes; a length needs bytes. A refused document
** leaves the batch going. */
static void test_bounds(void **state)
{
	char *dir = tu_mkdtemp();
	char *big = malloc(FURET_META_MAX + 1);
	furet_index *ix = NULL;
	furet_writer *w;
	furet_doc d;
	(void)state;

	memset(big, 'm', FURET_META_MAX + 1);
	big[0] = '[';
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	w = begin(ix);
	d = mkdoc("over", "Un document trop lourd.", big, FURET_META_MAX + 1);
	assert_int_equal(furet_writer_put(w, &d, NULL), FURET_INVALID);
	assert_non_null(strstr(furet_index_errmsg(ix), "metadata"));
	assert_int_equal(furet_writer_add(w, &d), FURET_INVALID);
	d = mkdoc("null", "Un document sans octets.", NULL, 3);
	assert_int_equal(furet_writer_put(w, &d, NULL), FURET_INVALID);
	d = mkdoc("max", "Un document au maximum.", big, FURET_META_MAX);
	assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	expect_meta(ix, "maximum", "max", big, FURET_META_MAX);
	assert_false(has_doc(ix, "lourd", "over"));
	furet_index_close(ix);
	free(big);
	tu_rmtree(dir);
	free(dir);
}

/* Puts a record in the named database name of the index in dir (raw
** LMDB, creating it): a table of an older version. Returns whether
** the index has that table now, with create 0. */
static int old_table(const char *dir, const char *name, int create)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 4, "\0\0\0\0" }, v = { 3, "old" };
	int mrc;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0666), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	mrc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, &dbi);
	if (create) {
		assert_int_equal(mrc, 0);
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	return mrc == 0;
}

/* An index of format 6 (before metadata) is refused, saying to rebuild;
** FURET_OPEN_REBUILD and a rebuilding batch make it current, without the
** tables of the older version ("passages", gone in version 9). */
static void test_older_format(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512];
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_store *s = NULL;
	furet_txn *t = NULL;
	unsigned char ver[4];
	furet_stats st;
	(void)state;

	assert_true(FURET_FORMAT_VERSION >= 7);
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	w = begin(ix);
	put(w, "a", "Les abeilles.", NULL, 0);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	furet_index_close(ix);
	ix = NULL;
	assert_int_equal(furet_store_open(dir, 0, &s, err, sizeof err),
		FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	furet_put_u32be(ver, 6);
	assert_int_equal(furet_txn_put(t, FURET_T_META, "format", 6, ver, 4, 0),
		FURET_OK);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);
	assert_true(old_table(dir, "passages", 1));

	assert_int_equal(furet_index_open(dir, 0, &ix), FURET_VERSION);
	assert_null(ix);
	assert_non_null(strstr(furet_last_errmsg(), "version 6"));
	assert_non_null(strstr(furet_last_errmsg(), "--rebuild"));
	assert_int_equal(furet_index_open(dir, FURET_OPEN_REBUILD, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, 0, &w), FURET_VERSION);
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w),
		FURET_OK);
	put(w, "a", "Les abeilles.", "{}", 2);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	expect_meta(ix, "abeilles", "a", "{}", 2);
	assert_int_equal(furet_index_stats(ix, &st), FURET_OK);
	assert_int_equal(st.format_version, FURET_FORMAT_VERSION);
	furet_index_close(ix);
	assert_false(old_table(dir, "passages", 0));
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_older_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
