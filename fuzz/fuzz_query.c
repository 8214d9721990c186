/*
** fuzz_query.c — arbitrary bytes as a query against an index of the seed
** article: never a crash; valid UTF-8 always answers FURET_OK, with hits in
** decreasing score order and highlights inside their text.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "furet.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/furet-fuzz-query-XXXXXX";
static furet_index *seed_ix;

/* The seed index goes with the process (make check replays this target
** on every run). */
static void cleanup(void)
{
	static const char *const names[] = { "data.mdb", "lock.mdb",
		"writer.lock" };
	char path[64];
	size_t i;

	furet_index_close(seed_ix);
	seed_ix = NULL;
	for (i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static furet_index *open_seed(void)
{
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_doc d;
	FILE *f = fopen("corpus/fabriques-du-numerique.txt", "rb");
	static char text[1 << 16];
	size_t len;

	if (!f || !mkdtemp(dir))
		abort();
	atexit(cleanup);
	len = fread(text, 1, sizeof text, f);
	fclose(f);
	memset(&d, 0, sizeof d);
	d.id = "seed";
	d.id_len = 4;
	d.text = text;
	d.text_len = len;
	if (furet_index_open(dir, FURET_OPEN_CREATE, &ix) ||
		furet_writer_begin(ix, FURET_WRITE_REBUILD, &w) ||
		furet_writer_add(w, &d) || furet_writer_commit(w))
		abort();
	seed_ix = ix;
	return ix;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static furet_index *ix;
	furet_results *r = NULL;
	size_t i, k;
	double prev = 1e300;
	furet_rc rc;

	if (!ix)
		ix = open_seed();
	rc = furet_search(ix, (const char *)data, size, NULL, &r);
	if (furet_utf8_valid((const char *)data, size) != size) {
		if (rc != FURET_INVALID || r)
			abort();
		return 0;
	}
	if (rc != FURET_OK)
		abort();
	for (i = 0; i < furet_results_count(r); i++) {
		furet_hit h;
		if (furet_results_get(r, i, &h) || h.score > prev)
			abort();
		prev = h.score;
		for (k = 0; k < h.n_highlights; k++)
			if (h.highlights[k].end > h.text_len)
				abort();
	}
	furet_results_free(r);
	return 0;
}
