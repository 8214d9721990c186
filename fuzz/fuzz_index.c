/*
** fuzz_index.c — opening and searching an index whose data.mdb was damaged.
**
** Once, at start: a small index is built in a temporary directory (a few
** documents with titles, sections, accents, a compound, a removed document
** so that dead passages exist), and the byte ranges of every key and value
** of every table are listed (through LMDB's own API: they are what furet
** decodes). Then each input is a list of 4-byte edits applied to a fresh
** copy of data.mdb:
**
**     byte 0   bits 7-6: 00 set, 01 xor a byte anywhere in the file
**                        10 set, 11 xor a byte of a key or a value
**              bits 5-0 and bytes 1-2: a 22-bit offset (modulo the file
**                        size, or the total bytes of keys and values)
**     byte 3   the byte to set, or to xor with
**
** The copy is opened read-only through the public API; furet_index_check,
** furet_index_stats and a few searches run on it; every hit is read whole.
** furet must never crash nor hang, whatever the result codes.
**
** LMDB trusts the structure of its pages (0.9 has no checksums): a page
** number, a node offset or a length in a branch or leaf page is followed as
** it is. furet checks it before LMDB reads a page (store.c: the file must
** hold every page its meta page counts, and an index of at most 64 MiB, as
** this one, is walked whole on open), and its own records are all
** bounds-checked; so no edit anywhere may crash or hang.
*/
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "furet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct range {
	size_t off, len;
} range;

static char base[] = "/tmp/furet-fuzz-index-XXXXXX";
static char seed_dir[80], work_dir[80], work_file[96], work_lock[96];
static unsigned char *seed;
static size_t seed_len;
static range *ranges;
static size_t n_ranges, range_bytes;

static const char *const docs[][3] = {
	{ "a", "L'école du numérique",
		"Formation\n\nL'école forme des développeurs web à Villeneuve-la-"
		"Garenne.\n\nFinancement\n\nLe Fonds social européen finance 92% du "
		"programme, soit 1 002 758,20 €." },
	{ "b", "Pêche et péché",
		"La pêche en rivière est un loisir.\n\nLe péché de gourmandise "
		"n'est pas un crime." },
	{ "c", NULL, "Un document sans titre sur la formation professionnelle "
		"et l'emploi des jeunes dans les quartiers." },
	{ "d", "Supprimé", "Ce document sera retiré du corpus." },
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_index: %s\n", what);
	abort();
}

static void put(furet_writer *w, size_t i)
{
	furet_doc d;

	memset(&d, 0, sizeof d);
	d.id = docs[i][0];
	d.id_len = strlen(d.id);
	d.title = docs[i][1];
	d.title_len = d.title ? strlen(d.title) : 0;
	d.text = docs[i][2];
	d.text_len = strlen(d.text);
	d.source = "fuzz";
	if (furet_writer_put(w, &d, NULL) != FURET_OK)
		die("cannot add a seed document");
}

static void build_seed(void)
{
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	size_t i;

	if (furet_index_open(seed_dir, FURET_OPEN_CREATE, &ix) ||
		furet_writer_begin(ix, FURET_WRITE_REBUILD, &w))
		die("cannot create the seed index");
	for (i = 0; i < 4; i++)
		put(w, i);
	if (furet_writer_commit(w) || furet_writer_begin(ix, 0, &w) ||
		furet_writer_remove(w, "d", 1) || furet_writer_commit(w))
		die("cannot update the seed index");
	furet_index_close(ix);
}

/* The file offset of a key or value LMDB handed back: LMDB does not say
** where its map starts, but each page begins with its own number. */
static size_t file_offset(const void *p, size_t psize)
{
	uintptr_t a = (uintptr_t)p, page = a & ~(uintptr_t)(psize - 1);
	uint64_t pgno;

	memcpy(&pgno, (const void *)page, 8);
	return (size_t)(pgno * psize + (a - page));
}

static void add_range(size_t off, size_t len)
{
	range *r;

	if (!len)
		return;
	r = realloc(ranges, (n_ranges + 1) * sizeof *r);
	if (!r)
		die("out of memory");
	ranges = r;
	ranges[n_ranges].off = off;
	ranges[n_ranges].len = len;
	n_ranges++;
	range_bytes += len;
}

/* Lists where every key and value of every table lies in data.mdb. */
static void list_ranges(void)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *top = NULL, *cur = NULL;
	MDB_dbi main_dbi, dbi;
	MDB_stat st;
	MDB_val k, v, tk, tv;
	char name[64];
	int rc;

	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 32) ||
		mdb_env_set_mapsize(env, (size_t)1 << 30) ||
		mdb_env_open(env, seed_dir, MDB_RDONLY | MDB_NOTLS, 0644) ||
		mdb_env_stat(env, &st) ||
		mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) ||
		mdb_dbi_open(txn, NULL, 0, &main_dbi) ||
		mdb_cursor_open(txn, main_dbi, &top))
		die("cannot read the seed index with LMDB");
	for (rc = mdb_cursor_get(top, &tk, &tv, MDB_FIRST); !rc;
		rc = mdb_cursor_get(top, &tk, &tv, MDB_NEXT)) {
		if (tk.mv_size >= sizeof name)
			die("unexpected table name");
		memcpy(name, tk.mv_data, tk.mv_size);
		name[tk.mv_size] = '\0';
		if (mdb_dbi_open(txn, name, 0, &dbi) ||
			mdb_cursor_open(txn, dbi, &cur))
			die("cannot open a table");
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			add_range(file_offset(k.mv_data, st.ms_psize), k.mv_size);
			add_range(file_offset(v.mv_data, st.ms_psize), v.mv_size);
		}
		mdb_cursor_close(cur);
	}
	mdb_cursor_close(top);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	if (!range_bytes)
		die("the seed index has no data");
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	unsigned char *p;

	if (!f || fstat(fileno(f), &st) || st.st_size <= 0)
		die("cannot read the seed data.mdb");
	p = malloc((size_t)st.st_size);
	if (!p || fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		die("cannot read the seed data.mdb");
	fclose(f);
	*len = (size_t)st.st_size;
	return p;
}

static void cleanup(void)
{
	char cmd[200];

	free(seed);
	free(ranges);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_index: cannot remove %s\n", base);
}

static void setup(void)
{
	char path[120];
	size_t i;

	if (!mkdtemp(base))
		die("cannot make a temporary directory");
	snprintf(seed_dir, sizeof seed_dir, "%s/seed", base);
	snprintf(work_dir, sizeof work_dir, "%s/work", base);
	snprintf(work_file, sizeof work_file, "%s/data.mdb", work_dir);
	snprintf(work_lock, sizeof work_lock, "%s/lock.mdb", work_dir);
	if (mkdir(work_dir, 0777))
		die("cannot make the work directory");
	build_seed();
	list_ranges();
	snprintf(path, sizeof path, "%s/data.mdb", seed_dir);
	seed = slurp(path, &seed_len);
	for (i = 0; i < n_ranges; i++)
		if (ranges[i].off + ranges[i].len > seed_len)
			die("a key or value lies outside the seed file");
	atexit(cleanup);
}

/* The file offset of the i-th byte of all keys and values. */
static size_t data_offset(size_t i)
{
	size_t k;

	for (k = 0; k < n_ranges; k++) {
		if (i < ranges[k].len)
			return ranges[k].off + i;
		i -= ranges[k].len;
	}
	return 0;
}

static void read_hits(const furet_results *r)
{
	size_t i, k, n = furet_results_count(r);
	volatile size_t sum = 0;

	for (i = 0; i < n; i++) {
		furet_hit h;
		if (furet_results_get(r, i, &h) != FURET_OK)
			abort();
		sum += strlen(h.doc) + strlen(h.title);
		if (h.section)
			sum += strlen(h.section);
		if (h.text) {
			if (h.snippet.start > h.snippet.end ||
				h.snippet.end > h.text_len)
				abort();
			for (k = 0; k < h.text_len; k++)
				sum += (unsigned char)h.text[k];
			for (k = 0; k < h.n_highlights; k++)
				if (h.highlights[k].start > h.highlights[k].end ||
					h.highlights[k].end > h.text_len)
					abort();
		}
		for (k = 0; k < h.n_explain; k++)
			sum += strlen(h.explain[k].word) + strlen(h.explain[k].term);
	}
	if (furet_results_suggestion(r))
		sum += strlen(furet_results_suggestion(r));
	(void)sum;
}

static void search(furet_index *ix, const char *q, unsigned flags)
{
	furet_search_options o;
	furet_results *r = NULL;
	furet_rc rc;

	furet_search_options_init(&o);
	o.flags = flags;
	rc = furet_search(ix, q, strlen(q), &o, &r);
	if (rc == FURET_OK)
		read_hits(r);
	else if (r)
		abort();
	furet_results_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;
	furet_index *ix = NULL;
	furet_stats st;
	size_t i;
	FILE *f;

	if (!seed)
		setup();
	copy = malloc(seed_len);
	if (!copy)
		abort();
	memcpy(copy, seed, seed_len);
	for (i = 0; i + 4 <= size; i += 4) {
		unsigned mode = data[i] >> 6;
		size_t off = ((size_t)(data[i] & 0x3f) << 16) |
			((size_t)data[i + 1] << 8) | data[i + 2];
		off = mode & 2 ? data_offset(off % range_bytes) : off % seed_len;
		if (mode & 1)
			copy[off] ^= data[i + 3];
		else
			copy[off] = data[i + 3];
	}
	unlink(work_lock);
	f = fopen(work_file, "wb");
	if (!f || fwrite(copy, 1, seed_len, f) != seed_len || fclose(f))
		abort();
	free(copy);

	if (furet_index_open(work_dir, FURET_OPEN_READONLY, &ix) != FURET_OK)
		return 0;
	(void)furet_index_check(ix);
	(void)furet_index_stats(ix, &st);
	search(ix, "école numérique", 0);
	search(ix, "\"fonds social\" financement", FURET_SEARCH_EXPLAIN);
	search(ix, "peche OR formaton", FURET_SEARCH_BEST_PER_DOC);
	search(ix, "form* -crime title:école", 0);
	furet_index_close(ix);
	return 0;
}
