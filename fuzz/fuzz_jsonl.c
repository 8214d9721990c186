/*
** fuzz_jsonl.c — arbitrary bytes as the content of a corpus file, read by the
** command line's reader (src/cli/ingest.c) through its real entry point,
** ingest_path: once as a .jsonl file, once as a .txt file. Never a crash;
** the walk always goes through (the file exists); every document handed on
** has a non-empty id without a NUL byte and UTF-8 text, title and id (what
** furet_writer_put accepts); each .jsonl document names its line. And each
** line that the flat reader (src/cli/jsonflat.c) accepts must be read by
** jansson alike: same id, title and text, no meta.
**
** Messages about bad lines go to stderr: run with -close_fd_mask=2 (make
** fuzz does), and replay.sh keeps them in a file.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ingest.h"
#include "jsonflat.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
	size_t n_docs;
	int is_jsonl;
} seen;

static int on_doc(void *ctx, const furet_doc *doc, const char *path,
	size_t line)
{
	seen *s = ctx;

	if (!doc->id || doc->id_len == 0 || memchr(doc->id, '\0', doc->id_len) ||
		furet_utf8_valid(doc->id, doc->id_len) != doc->id_len ||
		!doc->text ||
		furet_utf8_valid(doc->text, doc->text_len) != doc->text_len ||
		(doc->title && furet_utf8_valid(doc->title, doc->title_len) !=
			doc->title_len) ||
		!path || (s->is_jsonl ? line == 0 : line != 0))
		abort();
	s->n_docs++;
	return 0;
}

static void run(const char *path, const uint8_t *data, size_t size,
	int is_jsonl)
{
	ingest_stats st;
	seen s = { 0, is_jsonl };
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	memset(&st, 0, sizeof st);
	if (ingest_path(path, on_doc, &s, &st) != 0 || st.n_docs != s.n_docs ||
		st.n_errors > st.n_skipped)
		abort();
}

/* s (the flat reader's) is v (jansson's): both absent or null, or the
** same string. */
static int same_str(const jflat_str *s, json_t *v)
{
	if (!s->p)
		return !v || json_is_null(v);
	return json_is_string(v) && json_string_length(v) == s->len &&
		memcmp(json_string_value(v), s->p, s->len) == 0 &&
		(memchr(s->p, '\0', s->len) != NULL) == (s->has_nul != 0);
}

/* Every line the flat reader accepts, jansson reads alike. */
static void compare_flat(const uint8_t *data, size_t size)
{
	static jflat jf;
	static int is_init;
	size_t at = 0;

	if (!is_init) {
		jflat_init(&jf);
		is_init = 1;
	}
	while (at < size) {
		const char *l = (const char *)data + at;
		const char *nl = memchr(l, '\n', size - at);
		size_t n = nl ? (size_t)(nl - l) + 1 : size - at;
		json_t *o;
		int r;

		at += n;
		if (furet_utf8_valid(l, n) != n)
			continue; /* ingest.c repairs such a line first */
		r = jflat_parse(&jf, l, n);
		if (r < 0)
			abort();
		if (r == 0)
			continue;
		o = json_loadb(l, n, JSON_ALLOW_NUL, NULL);
		if (!o || !json_is_object(o) ||
			!json_is_string(json_object_get(o, "id")) ||
			!json_is_string(json_object_get(o, "text")) ||
			!same_str(&jf.id, json_object_get(o, "id")) ||
			!same_str(&jf.text, json_object_get(o, "text")) ||
			!same_str(&jf.title, json_object_get(o, "title")) ||
			(json_object_get(o, "meta") &&
				!json_is_null(json_object_get(o, "meta"))))
			abort();
		json_decref(o);
	}
}

static char dir[] = "/tmp/furet-fuzz-jsonl-XXXXXX";
static char jsonl[64], txt[64];

static void cleanup(void)
{
	unlink(jsonl);
	unlink(txt);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!jsonl[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(jsonl, sizeof jsonl, "%s/in.jsonl", dir);
		snprintf(txt, sizeof txt, "%s/in.txt", dir);
		atexit(cleanup);
	}
	compare_flat(data, size);
	run(jsonl, data, size, 1);
	run(txt, data, size, 0);
	return 0;
}
