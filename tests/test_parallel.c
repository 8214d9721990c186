/*
** test_parallel.c — the writer's threads and memory budget change how a
** batch is built, never what is built: every table of the index (meta
** without the commit time) is the same, byte for byte, with 1 or several
** analysis threads, and with a budget small enough that runs are spilled to
** temporary files and merged. Also: the temporary files leave nothing
** behind, and a place where they cannot be written fails the batch cleanly,
** the index as it was.
**
** The corpus is synthetic and deterministic (about 1 MB): plain and
** markdown documents, titles given, empty or taken from a heading,
** sections, accents, elisions, compounds, numbers, names; a second,
** incremental batch changes, repeats, keeps and removes documents.
**
** A rebuild written in parts (each committed beside the index, the next
** ones appended to it as incremental batches are) builds the same index,
** but not byte for byte: the dictionaries of the stored texts and names
** are trained on the first part, and the docids table has the buckets an
** incremental batch leaves (up to 128 ids, not 32 on average). Texts and
** documents are compared decompressed, and every id looked up.
*/
#include "testutil.h"

#include <dirent.h>

#include "furet.h"
#include "index.h"
#include "store.h"
#include "textcodec.h"

#define N_DOCS 400

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33) % n;
}

static const char *const syll[] = {
	"ba", "ré", "tion", "cou", "lé", "mon", "pê", "ar", "chi", "è", "for",
	"ma", "ju", "œu", "vre", "ça", "in", "té", "con",
};
static const char *const glue[] = {
	" ", " ", " ", " ", " ", ", ", " l'", " d'", " qu'", " - ", " 1 234,50 ",
	" S.A.S. ", " www.exemple.fr ", " a-t-elle ", " Villeneuve-la-Garenne ",
	". ", " et ", " de ", " le ", " la ", " ÉCOLE ", " 2015 ", " 92% ",
};

/* Appends a random word or separator run to b. */
static void add_words(char *b, size_t cap, size_t *len, int n)
{
	int i, k;

	for (i = 0; i < n && *len + 64 < cap; i++) {
		int ns = 1 + (int)rnd(3);
		for (k = 0; k < ns; k++)
			*len += (size_t)snprintf(b + *len, cap - *len, "%s",
				syll[rnd(sizeof syll / sizeof syll[0])]);
		if (rnd(9) == 0)
			*len += (size_t)snprintf(b + *len, cap - *len, "-%s",
				syll[rnd(sizeof syll / sizeof syll[0])]);
		*len += (size_t)snprintf(b + *len, cap - *len, "%s",
			glue[rnd(sizeof glue / sizeof glue[0])]);
	}
}

/* Document i of version v: text in buf, title in tbuf (or NULL). */
static furet_doc gen_doc(int i, int v, char *id, char *buf, size_t cap,
	char *tbuf, size_t tcap)
{
	furet_doc d;
	size_t len = 0, tl = 0;
	int p, np;

	rng_state = (uint64_t)i * 7919u + (uint64_t)v * 104729u + 1;
	memset(&d, 0, sizeof d);
	snprintf(id, 32, "doc%05d", i);
	d.id = id;
	d.id_len = strlen(id);
	d.format = i % 3 == 0 ? FURET_FORMAT_MARKDOWN : FURET_FORMAT_TEXT;
	if (d.format == FURET_FORMAT_MARKDOWN && i % 2 == 0) {
		len += (size_t)snprintf(buf + len, cap - len, "# ");
		add_words(buf, cap, &len, 4);
		len += (size_t)snprintf(buf + len, cap - len, "\n\n");
	}
	np = 1 + (int)rnd(5);
	for (p = 0; p < np; p++) {
		if (rnd(3) == 0) {
			len += (size_t)snprintf(buf + len, cap - len,
				d.format == FURET_FORMAT_MARKDOWN ? "## " : "");
			add_words(buf, cap, &len, 3);
			len += (size_t)snprintf(buf + len, cap - len, "\n\n");
		}
		add_words(buf, cap, &len, 20 + (int)rnd(i % 50 == 0 ? 600 : 120));
		len += (size_t)snprintf(buf + len, cap - len, ".\n\n");
	}
	d.text = buf;
	d.text_len = len;
	if (i % 4 == 1) {
		add_words(tbuf, tcap, &tl, 6);
		d.title = tbuf;
		d.title_len = tl;
	} else if (i % 4 == 2) {
		d.title = "";
		d.title_len = 0;
	}
	return d;
}

/* FNV-1a 64 over every (key, value) of every table, meta without "stats"
** (which holds the commit time; its other figures are compared through
** furet_index_stats). */
typedef struct print {
	uint64_t h[FURET_T_COUNT];
	uint64_t n[FURET_T_COUNT];
	furet_stats st;
} print;

/* With it set, fingerprint hashes the stored texts and documents
** decompressed, looks each document's id up instead of hashing the docids
** table, and skips meta's dictionaries and docid_bits. */
static int is_text_decoded;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	while (n--)
		h = (h ^ *s++) * 1099511628211ull;
	return h;
}

/* The documents, each decoded (records are stored in groups, their names
** compressed), hashed into h; each id is looked up. */
static uint64_t docs_print(furet_txn *t, uint64_t h, furet_buf *all,
	uint64_t *n)
{
	furet_doc_iter di;
	uint32_t dn;
	furet_val v;
	furet_rc rc;

	assert_int_equal(furet_doc_iter_open(t, &di), FURET_OK);
	while ((rc = furet_doc_iter_next(&di, &dn, &v)) == FURET_OK) {
		furet_doc_rec d;
		uint32_t num, n4[5];
		assert_int_equal(furet_doc_rec_decode(v, &d), FURET_OK);
		assert_int_equal(furet_doc_rec_names(t, &d), FURET_OK);
		furet_buf_reset(all);
		furet_buf_append(all, d.id, d.id_len);
		furet_buf_append(all, d.title, d.title_len);
		furet_buf_append(all, d.sections, d.sections_len);
		furet_buf_append(all, d.meta, d.meta_len);
		furet_buf_append(all, d.hash, sizeof d.hash);
		furet_buf_append(all, d.pass, d.pass_len);
		n4[0] = dn;
		n4[1] = d.first_passage;
		n4[2] = d.n_passages;
		n4[3] = d.source;
		n4[4] = (uint32_t)d.id_len;
		furet_buf_append(all, n4, sizeof n4);
		assert_false(all->has_err);
		h = fnv(h, all->data, all->len);
		(*n)++;
		assert_int_equal(furet_docid_get(t, d.id, d.id_len, &num, NULL),
			FURET_OK);
		assert_int_equal(num, dn);
	}
	assert_int_equal(rc, FURET_DONE);
	furet_doc_iter_close(&di);
	return h;
}

static void fingerprint(furet_index *ix, print *out)
{
	furet_txn *t = NULL;
	int tab;

	furet_text_dec *dec = NULL;
	furet_buf all;

	memset(out, 0, sizeof *out);
	furet_buf_init(&all);
	assert_int_equal(furet_store_begin(ix->store, 0, &t), FURET_OK);
	if (is_text_decoded) {
		furet_val d;
		assert_int_equal(furet_txn_get(t, FURET_T_META, "zdict", 5, &d),
			FURET_OK);
		assert_int_equal(furet_text_dec_open(d.data, d.len, &dec), FURET_OK);
	}
	for (tab = 0; tab < FURET_T_COUNT; tab++) {
		furet_cursor *c = NULL;
		furet_val k, v;
		furet_rc rc;
		uint64_t h = 1469598103934665603ull;

		assert_int_equal(furet_cursor_open(t, (furet_table)tab, &c), FURET_OK);
		for (rc = furet_cursor_seek(c, "", 0, &k, &v); rc == FURET_OK;
			rc = furet_cursor_next(c, &k, &v)) {
			uint64_t kl = k.len, vl = v.len;
			if (tab == FURET_T_META && k.len == 5 &&
				memcmp(k.data, "stats", 5) == 0)
				continue;
			if (is_text_decoded && ((tab == FURET_T_META && ((k.len >= 5 &&
				memcmp(k.data, "zdict", 5) == 0) || (k.len == 10 &&
				memcmp(k.data, "docid_bits", 10) == 0))) ||
				tab == FURET_T_DOCIDS || tab == FURET_T_DOCS))
				continue;
			if (is_text_decoded && tab == FURET_T_TEXT) {
				size_t off, len;
				assert_int_equal(furet_text_group_decode(dec, v.data, v.len,
					0, &all, &off, &len), FURET_OK);
				v.data = all.data;
				v.len = all.len;
				vl = v.len;
			}
			h = fnv(h, &kl, sizeof kl);
			h = fnv(h, k.data, k.len);
			h = fnv(h, &vl, sizeof vl);
			h = fnv(h, v.data, v.len);
			out->n[tab]++;
		}
		assert_int_equal(rc, FURET_DONE);
		furet_cursor_close(c);
		if (is_text_decoded && tab == FURET_T_DOCS)
			h = docs_print(t, h, &all, &out->n[tab]);
		out->h[tab] = h;
	}
	furet_txn_abort(t);
	furet_text_dec_close(dec);
	furet_buf_free(&all);
	assert_int_equal(furet_index_stats(ix, &out->st), FURET_OK);
	out->st.last_update = 0;
	out->st.file_bytes = 0;
}

static void assert_same(const print *a, const print *b)
{
	int tab;

	for (tab = 0; tab < FURET_T_COUNT; tab++) {
		if (a->h[tab] != b->h[tab] || a->n[tab] != b->n[tab])
			fail_msg("table %d differs: %llu entries vs %llu", tab,
				(unsigned long long)a->n[tab], (unsigned long long)b->n[tab]);
	}
	assert_memory_equal(&a->st, &b->st, sizeof a->st);
}

static char *big_buf, *title_buf;
static size_t last_parts; /* of build's rebuild */
static int is_plain; /* build's rebuild puts no document twice, removes none */
#define BIG (256 * 1024)

/* Adds documents 0 to N_DOCS - 1 of version v, from source (NULL: none). */
static void add_docs(furet_writer *w, int v, const char *source)
{
	char id[32];
	int i;

	for (i = 0; i < N_DOCS; i++) {
		furet_doc d = gen_doc(i, v, id, big_buf, BIG, title_buf, 4096);
		d.source = source;
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	}
}

/* Builds the index in dir with options o: a rebuild of N_DOCS documents
** (with a document put twice and one removed within the batch), then an
** incremental batch. *runs gets the runs spilled before the first commit.
** Returns the rc of the last commit. */
static furet_rc build(const char *dir, const furet_writer_options *o,
	size_t *runs, print *after_first)
{
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_writer_options o2 = *o;
	char id[32];
	int i, outcome;
	size_t n_removed;
	const char *paths[] = { "src-a" };
	furet_rc rc;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	o2.flags = FURET_WRITE_REBUILD;
	assert_int_equal(furet_writer_begin_v2(ix, &o2, &w), FURET_OK);
	for (i = 0; i < N_DOCS; i++) {
		furet_doc d = gen_doc(i, 0, id, big_buf, BIG, title_buf, 4096);
		d.source = i % 2 ? "src-a/x.jsonl" : "src-b/y.jsonl";
		if (i % 3) { /* metadata travels with the spool too */
			d.meta = id;
			d.meta_len = strlen(id);
		}
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
		if (i == 100 && !is_plain) {
			/* put again in the batch: the last one wins */
			d = gen_doc(7, 1, id, big_buf, BIG, title_buf, 4096);
			assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
			assert_int_equal(outcome, FURET_PUT_REPLACED_IN_BATCH);
		}
		if (i == 200 && !is_plain)
			assert_int_equal(furet_writer_remove(w, "doc00011", 8), FURET_OK);
	}
	*runs = furet_writer_runs(w);
	last_parts = furet_writer_parts(w);
	assert_int_equal(furet_writer_passages(w) > (size_t)N_DOCS, 1);
	{
		/* doc00007 put again, doc00011 removed: in the batch or in an
		** earlier part, the same. */
		furet_batch_summary sum;
		assert_int_equal(furet_writer_summary(w, &sum), FURET_OK);
		assert_int_equal(sum.added, N_DOCS - !is_plain);
		assert_int_equal(sum.repeated, !is_plain);
		assert_int_equal(sum.updated + sum.removed + sum.unchanged, 0);
	}
	rc = furet_writer_commit(w);
	if (rc) {
		furet_index_close(ix);
		return rc;
	}
	if (after_first)
		fingerprint(ix, after_first);

	o2.flags = 0;
	assert_int_equal(furet_writer_begin_v2(ix, &o2, &w), FURET_OK);
	for (i = 0; i < N_DOCS + 300; i += 3) {
		/* changed, unchanged, new; some twice */
		furet_doc d = gen_doc(i, i % 2 ? 2 : 0, id, big_buf, BIG, title_buf,
			4096);
		d.source = "src-a/x.jsonl";
		if (i % 4) { /* some changed by their metadata alone */
			d.meta = id;
			d.meta_len = strlen(id);
		}
		assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
		if (i % 51 == 0) {
			d = gen_doc(i, 3, id, big_buf, BIG, title_buf, 4096);
			d.source = "src-a/x.jsonl";
			assert_int_equal(furet_writer_put(w, &d, &outcome), FURET_OK);
		}
	}
	assert_int_equal(furet_writer_remove(w, "doc00010", 8), FURET_OK);
	assert_int_equal(furet_writer_remove_unseen(w, paths, 1, &n_removed),
		FURET_OK);
	assert_true(n_removed > 0);
	rc = furet_writer_commit(w);
	furet_index_close(ix);
	return rc;
}

static void build_print(const furet_writer_options *o, size_t *runs,
	print *first, print *last)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;

	assert_int_equal(build(dir, o, runs, first), FURET_OK);
	assert_int_equal(furet_index_open(dir, 0, &ix), FURET_OK);
	fingerprint(ix, last);
	assert_int_equal(furet_index_check(ix), FURET_OK);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static print ref_first, ref_last;
static int has_ref;

static void reference(void)
{
	furet_writer_options o;
	size_t runs;

	if (has_ref)
		return;
	furet_writer_options_init(&o);
	o.threads = 1;
	build_print(&o, &runs, &ref_first, &ref_last);
	assert_int_equal(runs, 0);
	assert_int_equal(ref_first.st.n_docs, N_DOCS - 1);
	has_ref = 1;
}

/* Builds with threads and memory (0: the defaults), checks that the tables
** are the reference's after each batch, and returns the runs spilled. */
static size_t same_as_reference(unsigned threads, uint64_t memory)
{
	furet_writer_options o;
	print first, last;
	size_t runs;

	reference();
	furet_writer_options_init(&o);
	o.threads = threads;
	o.memory = memory;
	build_print(&o, &runs, &first, &last);
	assert_same(&first, &ref_first);
	assert_same(&last, &ref_last);
	return runs;
}

static void test_threads_same_index(void **state)
{
	(void)state;
	assert_int_equal(same_as_reference(3, 0), 0);
	assert_int_equal(same_as_reference(0, 0), 0);
}

static void test_budget_same_index(void **state)
{
	(void)state;
	/* The budget is small enough for runs to be spilled and merged. */
	assert_true(same_as_reference(1, 1u << 20) >= 2);
	assert_true(same_as_reference(3, 1u << 20) >= 2);
}

/* A rebuild that commits every hundred kilobytes or so (checkpoints, as a
** big one does every eighth of its budget) writes the same index. The
** corpus's index takes 9 checkpoints of 96 KiB (an eighth of the 1 MiB
** budget less its mapped reserve); it took 4 or 5 of 256 KiB. */
static void test_checkpoints_same_index(void **state)
{
	uint64_t saved = furet_writer_ckpt_min;
	size_t before = furet_writer_checkpoints();
	(void)state;

	furet_writer_ckpt_min = 4096;
	same_as_reference(2, 1u << 20);
	furet_writer_ckpt_min = saved;
	print_message("%zu checkpoints\n", furet_writer_checkpoints() - before);
	assert_true(furet_writer_checkpoints() - before >= 3);
}

/* Builds with options o (a rebuild, then an incremental batch), the
** prints of is_text_decoded after each; returns the rebuild's parts. */
static size_t build_parts(unsigned threads, uint64_t part_max, print *first,
	print *last)
{
	furet_writer_options o;
	size_t runs;

	furet_writer_part_max = part_max;
	furet_writer_options_init(&o);
	o.threads = threads;
	build_print(&o, &runs, first, last);
	furet_writer_part_max = 0;
	return last_parts;
}

/* A rebuild of more documents than a part holds, written in parts, builds
** the same index as in one batch (see the top), with one thread or three:
** the parts end at the same documents. */
static void test_parts_same_index(void **state)
{
	print rf, rl, first, last;
	unsigned threads;
	size_t parts = 0;
	(void)state;

	is_text_decoded = 1;
	is_plain = 1;
	assert_int_equal(build_parts(1, 0, &rf, &rl), 0);
	for (threads = 1; threads <= 3; threads += 2) {
		size_t n = build_parts(threads, 8 << 10, &first, &last);
		print_message("%u threads: %zu parts\n", threads, n);
		assert_true(n >= 3);
		if (threads == 1)
			parts = n;
		assert_int_equal(n, parts);
		assert_same(&first, &rf);
		assert_same(&last, &rl);
	}
	is_plain = 0;
	is_text_decoded = 0;
}

/* A document put again, or removed, in a later part than its first
** version: removed from the parts as an incremental batch removes it (its
** passages dead, their postings there until a compaction), where a batch
** would have left it out. The documents, their ids and sources, and the
** live figures are the same as one batch's; the summary too (build). */
static void test_parts_replace(void **state)
{
	static const int same[] = { FURET_T_DOCS, FURET_T_SOURCES,
		FURET_T_FOLDS, FURET_T_WORDS };
	print rf, rl, first, last, nf, nl;
	size_t i;
	(void)state;

	is_text_decoded = 1;
	assert_int_equal(build_parts(2, 0, &rf, &rl), 0);
	assert_true(build_parts(2, 8 << 10, &first, &last) >= 3);
	/* The parts' ids not kept (too many for the budget): each looked up
	** in the parts, the same index. */
	furet_writer_part_ids_max = 1;
	assert_true(build_parts(2, 8 << 10, &nf, &nl) >= 3);
	furet_writer_part_ids_max = 0;
	assert_same(&nf, &first);
	assert_same(&nl, &last);
	for (i = 0; i < sizeof same / sizeof *same; i++) {
		assert_int_equal(first.n[same[i]], rf.n[same[i]]);
		assert_true(first.h[same[i]] == rf.h[same[i]]);
		assert_int_equal(last.n[same[i]], rl.n[same[i]]);
		assert_true(last.h[same[i]] == rl.h[same[i]]);
	}
	assert_int_equal(first.st.n_docs, rf.st.n_docs);
	assert_int_equal(first.st.n_passages, rf.st.n_passages);
	assert_int_equal(first.st.n_postings, rf.st.n_postings);
	assert_int_equal(first.st.total_length, rf.st.total_length);
	assert_true(first.st.n_dead > 0);
	assert_int_equal(rf.st.n_dead, 0);
	assert_int_equal(last.st.n_docs, rl.st.n_docs);
	assert_int_equal(last.st.n_passages, rl.st.n_passages);
	is_text_decoded = 0;
}

/* A rebuild in parts that does not commit (aborted here; killed, in
** tests/cli.sh) leaves the index as it was, and nothing beside it. */
static void test_parts_abort(void **state)
{
	char *dir = tu_mkdtemp(), side[4200], id[32];
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_writer_options o;
	print before, after;
	int i;
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w),
		FURET_OK);
	for (i = 0; i < 50; i++) {
		furet_doc d = gen_doc(i, 0, id, big_buf, BIG, title_buf, 4096);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	fingerprint(ix, &before);

	furet_writer_part_max = 8 << 10;
	furet_writer_options_init(&o);
	o.flags = FURET_WRITE_REBUILD;
	assert_int_equal(furet_writer_begin_v2(ix, &o, &w), FURET_OK);
	add_docs(w, 1, NULL);
	assert_true(furet_writer_parts(w) >= 3);
	snprintf(side, sizeof side, "%s.rebuild", dir);
	assert_int_equal(access(side, F_OK), 0);
	furet_writer_abort(w);
	furet_writer_part_max = 0;
	assert_int_equal(access(side, F_OK), -1);
	fingerprint(ix, &after);
	assert_same(&before, &after);
	assert_int_equal(furet_index_check(ix), FURET_OK);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* The first batch of an index that never held a document is written as
** a rebuild, in parts: the index that a rebuild of the same documents
** makes. The next batch adds to it in one transaction. */
static void test_first_batch_parts(void **state)
{
	char *d1 = tu_mkdtemp(), *d2 = tu_mkdtemp(), id[32];
	furet_index *ix1 = NULL, *ix2 = NULL;
	furet_writer *w = NULL;
	furet_stats st;
	print p1, p2;
	int i;
	(void)state;

	is_text_decoded = 1;
	furet_writer_part_max = 8 << 10;
	assert_int_equal(furet_index_open(d1, FURET_OPEN_CREATE, &ix1), FURET_OK);
	assert_int_equal(furet_index_open(d2, FURET_OPEN_CREATE, &ix2), FURET_OK);
	assert_int_equal(furet_writer_begin(ix1, 0, &w), FURET_OK);
	add_docs(w, 0, NULL);
	assert_true(furet_writer_parts(w) >= 3);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	assert_int_equal(furet_writer_begin(ix2, FURET_WRITE_REBUILD, &w),
		FURET_OK);
	add_docs(w, 0, NULL);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	fingerprint(ix1, &p1);
	fingerprint(ix2, &p2);
	assert_same(&p1, &p2);

	/* (an incremental batch that large goes in parts too: see
	** test_incremental_parts) */
	furet_writer_part_max = 0;
	assert_int_equal(furet_writer_begin(ix1, 0, &w), FURET_OK);
	for (i = N_DOCS; i < N_DOCS + 50; i++) {
		furet_doc d = gen_doc(i, 0, id, big_buf, BIG, title_buf, 4096);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	}
	assert_int_equal(furet_writer_parts(w), 0);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	assert_int_equal(furet_index_stats(ix1, &st), FURET_OK);
	assert_int_equal(st.n_docs, N_DOCS + 50);
	assert_int_equal(furet_index_check(ix1), FURET_OK);
	is_text_decoded = 0;
	furet_index_close(ix1);
	furet_index_close(ix2);
	tu_rmtree(d1);
	tu_rmtree(d2);
	free(d1);
	free(d2);
}

/* Puts in w batch r of test_incremental_parts against an index of
** documents 0..N_DOCS-1 (r 0) or what batch 0 left (r 1), and returns its
** summary: every fourth indexed document left out (remove_unseen removes
** it), the others put unchanged, changed, or removed; N_DOCS / 2 new ones;
** with r 1, a new document put at the start and again at the end, and a
** changed one put again at the end (in a later part). */
static furet_batch_summary inc_batch(furet_writer *w, int r)
{
	furet_batch_summary sum;
	const char *paths[] = { "corpus" };
	char id[32];
	size_t n_removed = 0;
	int i;

	for (i = -r; i < N_DOCS + N_DOCS / 2 + 2 * r; i++) {
		int k = i < 0 ? 2 * N_DOCS : i >= N_DOCS + N_DOCS / 2 ?
			(i % 2 ? 2 * N_DOCS : 6) : i;
		int v = i < 0 || k >= N_DOCS || k % 4 != 2 ? 0 : r + 1;
		furet_doc d;
		if (i >= N_DOCS + N_DOCS / 2)
			v = 3;
		d = gen_doc(k, v, id, big_buf, BIG, title_buf, 4096);
		d.source = "corpus/a.jsonl";
		if (k < N_DOCS && k % 4 == 0)
			continue;
		if (k < N_DOCS && k % 8 == 3) {
			/* (gone since batch 0) */
			assert_int_equal(furet_writer_remove(w, d.id, d.id_len),
				r ? FURET_DONE : FURET_OK);
			continue;
		}
		assert_int_equal(furet_writer_put(w, &d, NULL), FURET_OK);
	}
	assert_int_equal(furet_writer_remove_unseen(w, paths, 1, &n_removed),
		FURET_OK);
	assert_int_equal(n_removed, r ? 0 : N_DOCS / 4);
	assert_int_equal(furet_writer_summary(w, &sum), FURET_OK);
	return sum;
}

/* An incremental batch larger than its budget allows in one transaction
** is written in parts, into a copy of the index beside it, and swapped in:
** the index, and the summary, of the same batch in one transaction. With
** documents put again in a later part, the same documents and summary. */
static void test_incremental_parts(void **state)
{
	char *d1 = tu_mkdtemp(), *d2 = tu_mkdtemp(), side[4200];
	furet_index *ix[2] = { NULL, NULL };
	furet_batch_summary sum[2];
	furet_writer *w = NULL;
	print p[2];
	int k, r;
	(void)state;

	is_text_decoded = 1;
	snprintf(side, sizeof side, "%s.rebuild", d1);
	for (k = 0; k < 2; k++) {
		assert_int_equal(furet_index_open(k ? d2 : d1, FURET_OPEN_CREATE,
			&ix[k]), FURET_OK);
		assert_int_equal(furet_writer_begin(ix[k], FURET_WRITE_REBUILD, &w),
			FURET_OK);
		add_docs(w, 0, "corpus/a.jsonl");
		assert_int_equal(furet_writer_commit(w), FURET_OK);
	}
	for (r = 0; r < 2; r++) {
		for (k = 0; k < 2; k++) {
			furet_writer_part_max = k ? 0 : 8 << 10;
			assert_int_equal(furet_writer_begin(ix[k], 0, &w), FURET_OK);
			sum[k] = inc_batch(w, r);
			if (k) {
				assert_int_equal(furet_writer_parts(w), 0);
			} else {
				assert_true(furet_writer_parts(w) >= (r ? 1u : 3u));
				assert_int_equal(access(side, F_OK), 0);
			}
			assert_int_equal(furet_writer_commit(w), FURET_OK);
			furet_writer_part_max = 0;
			fingerprint(ix[k], &p[k]);
			assert_int_equal(furet_index_check(ix[k]), FURET_OK);
		}
		assert_int_equal(access(side, F_OK), -1);
		assert_memory_equal(&sum[0], &sum[1], sizeof sum[0]);
		assert_int_equal(sum[0].added, r ? 1 : N_DOCS / 2);
		assert_int_equal(sum[0].updated, N_DOCS / 4);
		assert_int_equal(sum[0].removed, r ? 0 : N_DOCS / 4 + N_DOCS / 8);
		assert_int_equal(sum[0].unchanged, N_DOCS / 4 + N_DOCS / 8 +
			(r ? N_DOCS / 2 : 0));
		assert_int_equal(sum[0].repeated, r ? 2 : 0);
		if (r == 0) {
			assert_same(&p[0], &p[1]);
		} else {
			/* (the first versions of the documents put again were
			** written in a part, then removed: their postings stay) */
			assert_int_equal(p[0].st.n_docs, p[1].st.n_docs);
			assert_int_equal(p[0].n[FURET_T_DOCS], p[1].n[FURET_T_DOCS]);
			assert_true(p[0].h[FURET_T_DOCS] == p[1].h[FURET_T_DOCS]);
			assert_true(p[0].h[FURET_T_TEXT] == p[1].h[FURET_T_TEXT]);
		}
	}
	is_text_decoded = 0;
	for (k = 0; k < 2; k++)
		furet_index_close(ix[k]);
	tu_rmtree(d1);
	tu_rmtree(d2);
	free(d1);
	free(d2);
}

/* A small incremental batch whose one transaction would not fit in its
** budget (its terms' records and last blocks: a page each, and as many
** pages of the index) is written into a copy of the index, committing as
** it goes, which is swapped in (a new data file): the index of the same
** batch in one transaction (the same data file). */
static void test_incremental_copy(void **state)
{
	char *dir[2] = { tu_mkdtemp(), tu_mkdtemp() }, id[32];
	furet_index *ix[2] = { NULL, NULL };
	furet_writer_options o;
	furet_writer *w = NULL;
	char data[4200];
	struct stat st;
	ino_t ino[2];
	print p[2];
	int i, k;
	(void)state;

	is_text_decoded = 1;
	for (k = 0; k < 2; k++) {
		assert_int_equal(furet_index_open(dir[k], FURET_OPEN_CREATE, &ix[k]),
			FURET_OK);
		assert_int_equal(furet_writer_begin(ix[k], FURET_WRITE_REBUILD, &w),
			FURET_OK);
		add_docs(w, 0, NULL);
		assert_int_equal(furet_writer_commit(w), FURET_OK);
	}
	for (k = 0; k < 2; k++) {
		furet_writer_options_init(&o);
		if (k == 0)
			o.memory = 1u << 20;
		snprintf(data, sizeof data, "%s/data.mdb", dir[k]);
		assert_int_equal(stat(data, &st), 0);
		ino[k] = st.st_ino;
		assert_int_equal(furet_writer_begin_v2(ix[k], &o, &w), FURET_OK);
		for (i = N_DOCS; i < N_DOCS + 20; i++) {
			furet_doc d = gen_doc(i, 0, id, big_buf, BIG, title_buf, 4096);
			assert_int_equal(furet_writer_add(w, &d), FURET_OK);
		}
		assert_int_equal(furet_writer_parts(w), 0);
		assert_int_equal(furet_writer_commit(w), FURET_OK);
		assert_int_equal(stat(data, &st), 0);
		if (k == 0)
			assert_true(st.st_ino != ino[k]);
		else
			assert_true(st.st_ino == ino[k]);
		fingerprint(ix[k], &p[k]);
		assert_int_equal(furet_index_check(ix[k]), FURET_OK);
	}
	assert_same(&p[0], &p[1]);
	is_text_decoded = 0;
	for (k = 0; k < 2; k++) {
		furet_index_close(ix[k]);
		tu_rmtree(dir[k]);
		free(dir[k]);
	}
}

/* Entries of dir other than "." and ".."; names joined in *names. */
static int list_dir(const char *dir, char *names, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	names[0] = '\0';
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (strlen(names) + strlen(e->d_name) + 2 < cap) {
			strcat(names, e->d_name);
			strcat(names, " ");
		}
	}
	closedir(d);
	return n;
}

/* The dense arrays of a and b read back whole: the same entries. */
static void assert_same_dense(furet_index *a, furet_index *b)
{
	static const char *const names[] = { "plen", "pdoc", "dlen" };
	furet_txn *t[2] = { NULL, NULL };
	furet_collection c[2];
	uint32_t *x[2];
	size_t i, k;

	for (k = 0; k < 2; k++) {
		assert_int_equal(furet_store_begin((k ? b : a)->store, 0, &t[k]),
			FURET_OK);
		assert_int_equal(furet_store_get_collection(t[k], &c[k]), FURET_OK);
	}
	assert_int_equal(c[0].n_passages, c[1].n_passages);
	assert_int_equal(c[0].next_doc, c[1].next_doc);
	for (i = 0; i < 3; i++) {
		uint64_t n = i == 2 ? c[0].next_doc : c[0].n_passages;
		for (k = 0; k < 2; k++) {
			x[k] = malloc((size_t)(n + 1) * sizeof *x[k]);
			assert_non_null(x[k]);
			assert_int_equal(furet_dense_decode(t[k], names[i], n, x[k]),
				FURET_OK);
		}
		assert_memory_equal(x[0], x[1], n * sizeof *x[0]);
		free(x[0]);
		free(x[1]);
	}
	furet_txn_abort(t[0]);
	furet_txn_abort(t[1]);
}

/* The same hits, documents and scores, from a and b. */
static void assert_same_hits(furet_index *a, furet_index *b, const char *q,
	unsigned flags)
{
	furet_search_options o;
	furet_results *r[2] = { NULL, NULL };
	size_t i, k;

	furet_search_options_init(&o);
	o.limit = 60;
	o.flags = flags;
	for (k = 0; k < 2; k++)
		assert_int_equal(furet_search(k ? b : a, q, strlen(q), &o, &r[k]),
			FURET_OK);
	assert_true(furet_results_count(r[0]) > 0);
	assert_int_equal(furet_results_count(r[0]), furet_results_count(r[1]));
	for (i = 0; i < furet_results_count(r[0]); i++) {
		furet_hit h[2];
		for (k = 0; k < 2; k++)
			assert_int_equal(furet_results_get(r[k], i, &h[k]), FURET_OK);
		assert_string_equal(h[0].doc, h[1].doc);
		assert_true(h[0].score == h[1].score);
		assert_string_equal(h[0].text, h[1].text);
	}
	furet_results_free(r[0]);
	furet_results_free(r[1]);
}

/* The dense arrays in chunks of 64 entries (FURET_TEST_DENSE_BITS=6): a
** rebuild in parts, an incremental batch in parts (removals across the
** chunks), then one in a transaction give the index of chunks of 2^16
** (one chunk here) but for meta, the same arrays read back whole, the
** same hits with and without a document's best passage only (the first
** and last passages of a document across chunks), and pass check. */
static void test_dense_chunks(void **state)
{
	static const char *const qs[] = { "école", "exemple villeneuve",
		"formation con", "\"pê ar\" ba" };
	char *dir[2] = { tu_mkdtemp(), tu_mkdtemp() };
	furet_index *ix[2] = { NULL, NULL };
	furet_writer *w = NULL;
	furet_txn *t = NULL;
	furet_collection c;
	unsigned bits;
	print p[2];
	int k, r, tab;
	size_t q;
	(void)state;

	is_text_decoded = 1;
	for (k = 0; k < 2; k++) {
		if (k == 0)
			assert_int_equal(setenv("FURET_TEST_DENSE_BITS", "6", 1), 0);
		assert_int_equal(furet_index_open(dir[k], FURET_OPEN_CREATE, &ix[k]),
			FURET_OK);
		furet_writer_part_max = 8 << 10;
		assert_int_equal(furet_writer_begin(ix[k], FURET_WRITE_REBUILD, &w),
			FURET_OK);
		add_docs(w, 0, "corpus/a.jsonl");
		assert_true(furet_writer_parts(w) >= 2);
		assert_int_equal(furet_writer_commit(w), FURET_OK);
		furet_writer_part_max = 0;
		assert_int_equal(unsetenv("FURET_TEST_DENSE_BITS"), 0);
		assert_int_equal(furet_store_begin(ix[k]->store, 0, &t), FURET_OK);
		assert_int_equal(furet_dense_bits(t, &bits), FURET_OK);
		assert_int_equal(bits, k ? FURET_DENSE_BITS : 6);
		assert_int_equal(furet_store_get_collection(t, &c), FURET_OK);
		assert_true(c.n_passages > 20 * 64);
		furet_txn_abort(t);
	}
	for (r = 0; r <= 2; r++) {
		for (k = 0; r > 0 && k < 2; k++) {
			furet_writer_part_max = r == 1 ? 8 << 10 : 0;
			assert_int_equal(furet_writer_begin(ix[k], 0, &w), FURET_OK);
			(void)inc_batch(w, r - 1);
			assert_true(r == 2 || furet_writer_parts(w) >= 2);
			assert_int_equal(furet_writer_commit(w), FURET_OK);
			furet_writer_part_max = 0;
		}
		for (k = 0; k < 2; k++) {
			fingerprint(ix[k], &p[k]);
			assert_int_equal(furet_index_check(ix[k]), FURET_OK);
		}
		for (tab = 0; tab < FURET_T_COUNT; tab++)
			if (tab != FURET_T_META && (p[0].h[tab] != p[1].h[tab] ||
				p[0].n[tab] != p[1].n[tab]))
				fail_msg("round %d: table %d differs", r, tab);
		assert_memory_equal(&p[0].st, &p[1].st, sizeof p[0].st);
		assert_same_dense(ix[0], ix[1]);
		for (q = 0; q < sizeof qs / sizeof *qs; q++) {
			assert_same_hits(ix[0], ix[1], qs[q], 0);
			assert_same_hits(ix[0], ix[1], qs[q], FURET_SEARCH_BEST_PER_DOC);
		}
	}
	is_text_decoded = 0;
	for (k = 0; k < 2; k++) {
		furet_index_close(ix[k]);
		tu_rmtree(dir[k]);
		free(dir[k]);
	}
}

/* Spilled files live in tmp_dir without a name: nothing is left there
** after a commit or an abort, and a tmp_dir that cannot be written fails
** the batch with FURET_IO, the index as it was. */
static void test_temporary_files(void **state)
{
	char *dir = tu_mkdtemp(), *tmp = tu_mkdtemp();
	char names[512], id[32], bad[4200];
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_writer_options o;
	print before, after;
	furet_rc rc = FURET_OK;
	int i;
	(void)state;

	furet_writer_options_init(&o);
	o.memory = 1u << 20;
	o.threads = 2;
	o.tmp_dir = tmp;
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	/* Committed. */
	o.flags = FURET_WRITE_REBUILD;
	assert_int_equal(furet_writer_begin_v2(ix, &o, &w), FURET_OK);
	add_docs(w, 0, NULL);
	assert_true(furet_writer_runs(w) > 0);
	assert_int_equal(list_dir(tmp, names, sizeof names), 0);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	assert_int_equal(list_dir(tmp, names, sizeof names), 0);
	fingerprint(ix, &before);

	/* Aborted. */
	o.flags = 0;
	assert_int_equal(furet_writer_begin_v2(ix, &o, &w), FURET_OK);
	for (i = 0; i < N_DOCS; i++) {
		furet_doc d = gen_doc(i, 5, id, big_buf, BIG, title_buf, 4096);
		assert_int_equal(furet_writer_put(w, &d, NULL), FURET_OK);
	}
	assert_true(furet_writer_runs(w) > 0);
	furet_writer_abort(w);
	assert_int_equal(list_dir(tmp, names, sizeof names), 0);

	/* Cannot be written: the error comes from add or from commit. */
	snprintf(bad, sizeof bad, "%s/missing/dir", tmp);
	o.tmp_dir = bad;
	assert_int_equal(furet_writer_begin_v2(ix, &o, &w), FURET_OK);
	for (i = 0; i < N_DOCS && rc == FURET_OK; i++) {
		furet_doc d = gen_doc(i, 6, id, big_buf, BIG, title_buf, 4096);
		rc = furet_writer_put(w, &d, NULL);
	}
	if (rc == FURET_OK)
		rc = furet_writer_commit(w);
	else
		furet_writer_abort(w);
	assert_int_equal(rc, FURET_IO);
	assert_non_null(strstr(furet_index_errmsg(ix), "temporary file"));
	fingerprint(ix, &after);
	assert_same(&before, &after);

	furet_index_close(ix);
	/* The index directory holds furet's files only. */
	assert_int_equal(list_dir(dir, names, sizeof names), 3);
	assert_non_null(strstr(names, "data.mdb"));
	assert_non_null(strstr(names, "lock.mdb"));
	assert_non_null(strstr(names, "writer.lock"));
	tu_rmtree(dir);
	tu_rmtree(tmp);
	free(dir);
	free(tmp);
}

/* The analysis threads give their analyzers back to the index when the
** analysis ends; the commit keeps one for later searches, none under a
** 512 MiB budget, whose commit needs their megabytes. */
static size_t pooled_after(unsigned threads, uint64_t memory)
{
	char *dir = tu_mkdtemp(), id[32];
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_writer_options o;
	size_t i, n;

	furet_writer_options_init(&o);
	o.threads = threads;
	o.memory = memory;
	o.flags = FURET_WRITE_REBUILD;
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin_v2(ix, &o, &w), FURET_OK);
	for (i = 0; i < 50; i++) {
		furet_doc d = gen_doc(i, 0, id, big_buf, BIG, title_buf, 4096);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	n = ix->n_pool;
	assert_int_equal(furet_index_check(ix), FURET_OK);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
	return n;
}

static void test_analyzers_after_commit(void **state)
{
	(void)state;
	assert_int_equal(pooled_after(3, 0), 1);
	assert_int_equal(pooled_after(3, (uint64_t)1 << 30), 1);
	assert_int_equal(pooled_after(3, (uint64_t)128 << 20), 0);
	assert_int_equal(pooled_after(1, 1u << 20), 0);
}

static void test_options(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_writer_options o;
	(void)state;

	furet_writer_options_init(&o);
	assert_int_equal(o.threads, 0);
	assert_int_equal(o.memory, 0);
	assert_null(o.tmp_dir);
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin_v2(ix, NULL, &w), FURET_INVALID);
	assert_null(w);
	assert_int_equal(furet_writer_begin_v2(NULL, &o, &w), FURET_INVALID);
	o.threads = 100000;
	assert_int_equal(furet_writer_begin_v2(ix, &o, &w), FURET_INVALID);
	/* An abort right after begin stops the threads. */
	o.threads = 4;
	assert_int_equal(furet_writer_begin_v2(ix, &o, &w), FURET_OK);
	furet_writer_abort(w);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_threads_same_index),
		cmocka_unit_test(test_budget_same_index),
		cmocka_unit_test(test_checkpoints_same_index),
		cmocka_unit_test(test_parts_same_index),
		cmocka_unit_test(test_parts_replace),
		cmocka_unit_test(test_parts_abort),
		cmocka_unit_test(test_first_batch_parts),
		cmocka_unit_test(test_incremental_parts),
		cmocka_unit_test(test_incremental_copy),
		cmocka_unit_test(test_dense_chunks),
		cmocka_unit_test(test_temporary_files),
		cmocka_unit_test(test_analyzers_after_commit),
	};
	int rc;

	big_buf = malloc(BIG);
	title_buf = malloc(4096);
	if (!big_buf || !title_buf)
		return 1;
	rc = cmocka_run_group_tests_name("parallel", tests, NULL, NULL);
	free(big_buf);
	free(title_buf);
	return rc;
}
