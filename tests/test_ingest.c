/*
** test_ingest.c — cli/ingest.c: the walk (order, skipped names, extensions,
** symlink loops), ids and titles, .jsonl lines good and bad, their "meta",
** binary, empty
** and invalid UTF-8 files, and the counts; measuring a walk for the
** progress line; the flat .jsonl reader (cli/jsonflat.c) against jansson.
*/
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>

#include <jansson.h>

#include "cli/ingest.h"
#include "cli/jsonflat.h"

typedef struct rec_doc {
	char *id, *title, *text, *path, *meta;
	size_t id_len, text_len, line;
	int has_title;
	unsigned format;
} rec_doc;

typedef struct recorder {
	rec_doc docs[64];
	size_t n;
	size_t stop_after; /* 0: never stop */
} recorder;

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	assert_non_null(d);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int record(void *ctx, const furet_doc *doc, const char *path,
	size_t line)
{
	recorder *r = ctx;
	rec_doc *d;

	assert_true(r->n < 64);
	d = &r->docs[r->n++];
	d->id = dup_n(doc->id, doc->id_len);
	d->id_len = doc->id_len;
	d->has_title = doc->title != NULL;
	d->title = doc->title ? dup_n(doc->title, doc->title_len) : NULL;
	d->text = dup_n(doc->text, doc->text_len);
	d->text_len = doc->text_len;
	d->path = dup_n(path, strlen(path));
	d->line = line;
	d->format = doc->format;
	d->meta = doc->meta_len ? dup_n(doc->meta, doc->meta_len) : NULL;
	return r->stop_after && r->n >= r->stop_after;
}

static void rec_free(recorder *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->docs[i].id);
		free(r->docs[i].title);
		free(r->docs[i].text);
		free(r->docs[i].path);
		free(r->docs[i].meta);
	}
	memset(r, 0, sizeof *r);
}

/* A temporary directory, or the end of the run (abort is known not to
** return, so the compiler does not see a NULL path flow on). */
static char *tmpdir(void)
{
	char *d = tu_mkdtemp();

	if (!d) {
		fprintf(stderr, "cannot create a temporary directory\n");
		abort();
	}
	return d;
}

static char *pjoin(const char *a, const char *b)
{
	char *s = malloc(strlen(a) + strlen(b) + 2);
	assert_non_null(s);
	sprintf(s, "%s/%s", a, b);
	return s;
}

#define W(dir, name, lit) \
	assert_int_equal(tu_write(dir, name, lit, sizeof lit - 1), 0)

static void test_walk_order_and_skips(void **state)
{
	char *dir = tmpdir(), *root;
	recorder r;
	ingest_stats st;
	char want[256];

	(void)state;
	root = pjoin(dir, "corpus");
	assert_int_equal(mkdir(root, 0777), 0);
	W(root, "b.txt", "Texte b.");
	W(root, "a.md", "Intro\n\n# Le titre\n\nCorps.\n");
	W(root, "C.TXT", "Majuscules.");
	W(root, "sub/z.txt", "Z.");
	W(root, "sub/deep/y.md", "Pas de titre ici.\n#hashtag\n");
	W(root, "README.md", "Ce corpus...");
	W(root, "sub/readme", "ignored");
	W(root, "sub/ReadMe.TXT", "ignored");
	W(root, ".hidden.txt", "ignored");
	W(root, ".git/x.txt", "ignored");
	W(root, "image.png", "ignored");
	W(root, "notes.text", "ignored");
	W(root, "Makefile", "ignored");

	memset(&r, 0, sizeof r);
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(root, record, &r, &st), 0);
	assert_int_equal(r.n, 5);
	/* strcmp order: "C.TXT" < "a.md" < "b.txt" < "sub". */
	snprintf(want, sizeof want, "%s/C.TXT", root);
	assert_string_equal(r.docs[0].id, want);
	assert_string_equal(r.docs[0].title, "C");
	snprintf(want, sizeof want, "%s/a.md", root);
	assert_string_equal(r.docs[1].id, want);
	assert_false(r.docs[1].has_title);
	assert_int_equal(r.docs[1].format, FURET_FORMAT_MARKDOWN);
	assert_string_equal(r.docs[1].text, "Intro\n\n# Le titre\n\nCorps.\n");
	snprintf(want, sizeof want, "%s/b.txt", root);
	assert_string_equal(r.docs[2].id, want);
	assert_string_equal(r.docs[2].path, want);
	assert_int_equal(r.docs[2].line, 0);
	assert_string_equal(r.docs[2].title, "b");
	assert_int_equal(r.docs[2].format, FURET_FORMAT_TEXT);
	assert_string_equal(r.docs[2].text, "Texte b.");
	snprintf(want, sizeof want, "%s/sub/deep/y.md", root);
	assert_string_equal(r.docs[3].id, want);
	assert_string_equal(r.docs[3].title, "y");
	snprintf(want, sizeof want, "%s/sub/z.txt", root);
	assert_string_equal(r.docs[4].id, want);
	assert_int_equal(st.n_files, 5);
	assert_int_equal(st.n_docs, 5);
	assert_int_equal(st.n_skipped, 0);
	assert_int_equal(st.n_errors, 0);
	rec_free(&r);

	/* A trailing slash does not double in the ids. */
	snprintf(want, sizeof want, "%s/", root);
	assert_int_equal(ingest_path(want, record, &r, NULL), 0);
	snprintf(want, sizeof want, "%s/C.TXT", root);
	assert_string_equal(r.docs[0].id, want);
	rec_free(&r);

	/* Named explicitly, a README is indexed; an unknown extension is an
	** error that does not stop anything. */
	memset(&st, 0, sizeof st);
	snprintf(want, sizeof want, "%s/README.md", root);
	assert_int_equal(ingest_path(want, record, &r, &st), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.docs[0].id, want);
	assert_string_equal(r.docs[0].title, "README");
	snprintf(want, sizeof want, "%s/image.png", root);
	assert_int_equal(ingest_path(want, record, &r, &st), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(st.n_errors, 1);
	assert_int_equal(st.n_skipped, 1);
	assert_int_equal(st.n_files, 1);
	rec_free(&r);

	/* Relative path as given: "corpus" + "b.txt" -> "corpus/b.txt". */
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(ingest_path("corpus", record, &r, NULL), 0);
	assert_string_equal(r.docs[2].id, "corpus/b.txt");
	assert_string_equal(r.docs[4].id, "corpus/sub/z.txt");
	rec_free(&r);
	assert_int_equal(ingest_path("./corpus/", record, &r, NULL), 0);
	assert_string_equal(r.docs[2].id, "./corpus/b.txt");
	rec_free(&r);
	assert_int_equal(chdir(getenv("FURET_TEST_CWD")), 0);

	free(root);
	tu_rmtree(dir);
	free(dir);
}

static void test_jsonl(void **state)
{
	char *dir = tmpdir(), *path;
	recorder r;
	ingest_stats st;

	(void)state;
	W(dir, "d.jsonl",
		"{\"id\": \"d1\", \"text\": \"Premier.\", \"title\": \"Un\"}\n"
		"\n"
		"{\"id\": \"d2\", \"text\": \"Deuxi\\u00e8me\"\n"          /* 3: broken */
		"{\"id\": \"d3\", \"title\": \"sans texte\"}\n"            /* 4: no text */
		"{\"id\": 4, \"text\": \"id num\\u00e9rique\"}\n"          /* 5: numeric id */
		"{\"id\": \"d6\", \"text\": \"Sans titre.\", \"x\": [1]}\r\n" /* 6: ok */
		"   \t\n"
		"[1, 2]\n"                                                /* 8: array */
		"{\"id\": \"d9\", \"text\": \"a\\u0000b\", \"title\": null}\n" /* 9: ok */
		"{\"id\": \"d10\", \"text\": \"t\", \"title\": 3}"        /* 10: ok, warned */
		);
	path = pjoin(dir, "d.jsonl");
	memset(&r, 0, sizeof r);
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(path, record, &r, &st), 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.docs[0].id, "d1");
	assert_string_equal(r.docs[0].title, "Un");
	assert_string_equal(r.docs[0].text, "Premier.");
	assert_int_equal(r.docs[0].line, 1);
	assert_int_equal(r.docs[0].format, FURET_FORMAT_TEXT);
	assert_string_equal(r.docs[0].path, path);
	assert_string_equal(r.docs[1].id, "d6");
	assert_false(r.docs[1].has_title);
	assert_int_equal(r.docs[1].line, 6);
	assert_string_equal(r.docs[2].id, "d9");
	assert_false(r.docs[2].has_title);
	assert_int_equal(r.docs[2].line, 9);
	assert_int_equal(r.docs[2].text_len, 3);
	assert_memory_equal(r.docs[2].text, "a\0b", 3);
	assert_string_equal(r.docs[3].id, "d10");
	assert_false(r.docs[3].has_title);
	assert_int_equal(r.docs[3].line, 10);
	assert_int_equal(st.n_files, 1);
	assert_int_equal(st.n_docs, 4);
	assert_int_equal(st.n_skipped, 4);
	assert_int_equal(st.n_errors, 4);
	assert_int_equal(st.n_warnings, 1);
	rec_free(&r);

	/* The callback stops the walk: fatal. */
	r.stop_after = 2;
	assert_int_equal(ingest_path(path, record, &r, NULL), -1);
	assert_int_equal(r.n, 2);
	rec_free(&r);
	free(path);

	/* A line that is not UTF-8 (JSON must be) is read as a file is: as
	** Windows-1252 without any UTF-8 character, else repaired with U+FFFD;
	** a warning each, not an error. */
	W(dir, "u.jsonl", "{\"id\": \"a\", \"text\": \"caf\xe9 \x9cuvre\"}\n"
		"{\"id\": \"b\", \"text\": \"ok\"}\n"
		"{\"id\": \"c\", \"text\": \"\xc3\xa9t\xc3\xa9 \xff\"}\n");
	path = pjoin(dir, "u.jsonl");
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(path, record, &r, &st), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.docs[0].id, "a");
	assert_string_equal(r.docs[0].text, "caf\xc3\xa9 \xc5\x93uvre");
	assert_string_equal(r.docs[1].id, "b");
	assert_string_equal(r.docs[2].text, "\xc3\xa9t\xc3\xa9 \xef\xbf\xbd");
	assert_int_equal(r.docs[2].line, 3);
	assert_int_equal(st.n_errors, 0);
	assert_int_equal(st.n_warnings, 2);
	rec_free(&r);
	free(path);

	/* A byte order mark before the first line. */
	W(dir, "bom.jsonl", "\xef\xbb\xbf{\"id\": \"b\", \"text\": \"t\"}\n");
	path = pjoin(dir, "bom.jsonl");
	assert_int_equal(ingest_path(path, record, &r, NULL), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.docs[0].id, "b");
	rec_free(&r);
	free(path);

	/* Empty .jsonl. */
	W(dir, "e.jsonl", "\n\n  \n");
	path = pjoin(dir, "e.jsonl");
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(path, record, &r, &st), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(st.n_files, 1);
	assert_int_equal(st.n_skipped, 1);
	assert_int_equal(st.n_errors, 0);
	free(path);

	tu_rmtree(dir);
	free(dir);
}

/* "meta" of any JSON type but null is handed on as compact JSON text, its
** numbers with the digits they need; over FURET_META_MAX the line is
** skipped. */
static void test_jsonl_meta(void **state)
{
	char *dir = tmpdir(), *path, *big, *t;
	recorder r;
	ingest_stats st;
	json_t *v;
	size_t n;

	(void)state;
	W(dir, "m.jsonl",
		"{\"id\": \"a\", \"text\": \"A.\", \"meta\": { \"url\" : \"u\", "
		"\"n\": [1, 2.5, 0.1] } }\n"
		"{\"id\": \"b\", \"text\": \"B.\", \"meta\": 7}\n"
		"{\"id\": \"c\", \"text\": \"C.\", \"meta\": null}\n"
		"{\"id\": \"d\", \"text\": \"D.\"}\n"
		"{\"id\": \"e\", \"text\": \"E.\", \"meta\": \"\\u00e9\\\"\"}\n"
		"{\"id\": \"f\", \"text\": \"F.\", \"meta\": [true, 1e300, "
		"0.30000000000000004]}\n");
	path = pjoin(dir, "m.jsonl");
	memset(&r, 0, sizeof r);
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(path, record, &r, &st), 0);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.docs[0].meta, "{\"url\":\"u\",\"n\":[1,2.5,0.1]}");
	assert_string_equal(r.docs[1].meta, "7");
	assert_null(r.docs[2].meta);
	assert_null(r.docs[3].meta);
	assert_string_equal(r.docs[4].meta, "\"\xc3\xa9\\\"\"");
	/* A number that needs 17 digits gets them, and so do the others of
	** the value: the same values either way. */
	v = json_loads(r.docs[5].meta, 0, NULL);
	{
		json_t *want = json_pack("[b,f,f]", 1, 1e300, 0.30000000000000004);
		assert_true(json_equal(v, want));
		json_decref(want);
	}
	json_decref(v);
	assert_int_equal(st.n_errors, 0);
	rec_free(&r);
	free(path);

	/* The text reads back as the same value. */
	v = json_real(2.0 / 3.0);
	t = ingest_json_text(v);
	assert_true(strtod(t, NULL) == 2.0 / 3.0);
	free(t);
	json_decref(v);

	/* 65536 bytes of JSON pass, one more does not. */
	n = FURET_META_MAX - 2;
	big = malloc(n + 64);
	assert_non_null(big);
	for (int extra = 0; extra < 2; extra++) {
		size_t at = (size_t)sprintf(big, "{\"id\":\"g\",\"text\":\"G.\","
			"\"meta\":\"");
		memset(big + at, 'x', n + (size_t)extra);
		at += n + (size_t)extra;
		memcpy(big + at, "\"}\n", 3);
		assert_int_equal(tu_write(dir, "g.jsonl", big, at + 3), 0);
		path = pjoin(dir, "g.jsonl");
		memset(&r, 0, sizeof r);
		memset(&st, 0, sizeof st);
		assert_int_equal(ingest_path(path, record, &r, &st), 0);
		assert_int_equal(r.n, extra ? 0 : 1);
		assert_int_equal(st.n_errors, extra ? 1 : 0);
		if (!extra)
			assert_int_equal(strlen(r.docs[0].meta), FURET_META_MAX);
		rec_free(&r);
		free(path);
	}
	free(big);
	tu_rmtree(dir);
	free(dir);
}

/* A .jsonl line longer than any fixed buffer. */
static void test_jsonl_long_line(void **state)
{
	char *dir = tmpdir(), *path;
	size_t n = 3u << 20, i;
	char *buf = malloc(n + 64);
	recorder r;
	int len;

	(void)state;
	assert_non_null(buf);
	len = sprintf(buf, "{\"id\": \"long\", \"text\": \"");
	for (i = 0; i < n; i++)
		buf[len + i] = (i % 6 == 5) ? ' ' : 'x';
	memcpy(buf + len + n, "\"}\n", 3);
	assert_int_equal(tu_write(dir, "l.jsonl", buf, len + n + 3), 0);
	path = pjoin(dir, "l.jsonl");
	memset(&r, 0, sizeof r);
	assert_int_equal(ingest_path(path, record, &r, NULL), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.docs[0].text_len, n);
	rec_free(&r);
	free(path);
	free(buf);
	tu_rmtree(dir);
	free(dir);
}

static void test_binary_empty_utf8(void **state)
{
	char *dir = tmpdir();
	recorder r;
	ingest_stats st;

	(void)state;
	assert_int_equal(tu_write(dir, "a-bin.txt", "abc\0def", 7), 0);
	W(dir, "b-empty.txt", "");
	W(dir, "c-blank.md", " \n\t\r\n");
	/* Latin-1 "é", a lone continuation byte, a truncated 3-byte sequence at
	** the very end. */
	W(dir, "d-latin1.txt", "caf\xe9 ok\x80 \xc3\xa9t\xc3\xa9 \xe2\x82");
	W(dir, "e-bom.md", "\xef\xbb\xbf# Titre\n\nTexte.\n");

	memset(&r, 0, sizeof r);
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(dir, record, &r, &st), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.docs[0].text,
		"caf\xef\xbf\xbd ok\xef\xbf\xbd \xc3\xa9t\xc3\xa9 "
		"\xef\xbf\xbd\xef\xbf\xbd");
	assert_int_equal(r.docs[0].text_len, 25);
	assert_string_equal(r.docs[0].title, "d-latin1");
	/* The byte order mark is dropped, and the "# " title is the library's. */
	assert_string_equal(r.docs[1].text, "# Titre\n\nTexte.\n");
	assert_false(r.docs[1].has_title);
	assert_int_equal(st.n_files, 5);
	assert_int_equal(st.n_docs, 2);
	assert_int_equal(st.n_skipped, 3);
	assert_int_equal(st.n_errors, 1);
	assert_int_equal(st.n_warnings, 1);
	rec_free(&r);
	tu_rmtree(dir);
	free(dir);
}

/* A NUL after the first 8 KiB is not "binary". */
static void test_late_nul(void **state)
{
	char *dir = tmpdir(), *path;
	char buf[9000];
	recorder r;

	(void)state;
	memset(buf, 'a', sizeof buf);
	buf[8500] = '\0';
	assert_int_equal(tu_write(dir, "late.txt", buf, sizeof buf), 0);
	path = pjoin(dir, "late.txt");
	memset(&r, 0, sizeof r);
	assert_int_equal(ingest_path(path, record, &r, NULL), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.docs[0].text_len, sizeof buf);
	rec_free(&r);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void test_missing_and_unreadable(void **state)
{
	char *dir = tmpdir(), *path;
	recorder r;
	ingest_stats st;

	(void)state;
	memset(&r, 0, sizeof r);
	memset(&st, 0, sizeof st);
	path = pjoin(dir, "nope");
	assert_int_equal(ingest_path(path, record, &r, &st), -1);
	free(path);
	path = pjoin(dir, "nope.txt");
	assert_int_equal(ingest_path(path, record, &r, &st), -1);
	free(path);
	assert_int_equal(r.n, 0);

	/* A dangling link inside a walked directory: skipped, counted. */
	W(dir, "ok.txt", "Oui.");
	path = pjoin(dir, "dangling.txt");
	assert_int_equal(symlink("/nonexistent/furet/x.txt", path), 0);
	free(path);
	assert_int_equal(ingest_path(dir, record, &r, &st), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(st.n_skipped, 1);
	assert_int_equal(st.n_errors, 1);
	rec_free(&r);

	/* Permissions mean nothing to root. */
	if (geteuid() != 0) {
		path = pjoin(dir, "ok.txt");
		assert_int_equal(chmod(path, 0), 0);
		memset(&st, 0, sizeof st);
		assert_int_equal(ingest_path(dir, record, &r, &st), 0);
		assert_int_equal(r.n, 0);
		assert_int_equal(st.n_skipped, 2);
		assert_int_equal(ingest_path(path, record, &r, &st), -1);
		free(path);
	}
	tu_rmtree(dir);
	free(dir);
}

static void test_symlink_loop(void **state)
{
	char *dir = tmpdir(), *link, *target;
	recorder r;
	ingest_stats st;
	char want[256];

	(void)state;
	W(dir, "a/x.txt", "X.");
	W(dir, "b/y.txt", "Y.");
	/* a/up -> .. (loop to the root), a/self -> . (loop to a), b/to-a -> ../a
	** (not a loop: a is walked twice, under two names). */
	link = pjoin(dir, "a/up");
	assert_int_equal(symlink("..", link), 0);
	free(link);
	link = pjoin(dir, "a/self");
	assert_int_equal(symlink(".", link), 0);
	free(link);
	link = pjoin(dir, "b/to-a");
	assert_int_equal(symlink("../a", link), 0);
	free(link);

	memset(&r, 0, sizeof r);
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(dir, record, &r, &st), 0);
	assert_int_equal(r.n, 3);
	snprintf(want, sizeof want, "%s/a/x.txt", dir);
	assert_string_equal(r.docs[0].id, want);
	snprintf(want, sizeof want, "%s/b/to-a/x.txt", dir);
	assert_string_equal(r.docs[1].id, want);
	snprintf(want, sizeof want, "%s/b/y.txt", dir);
	assert_string_equal(r.docs[2].id, want);
	/* a/self, a/up, b/to-a/self, b/to-a/up. */
	assert_int_equal(st.n_skipped, 4);
	assert_int_equal(st.n_errors, 0);
	rec_free(&r);

	/* Naming a link to a directory walks it; from there, "up" is the
	** root, which is not on the path yet, and "a" inside it is. */
	target = pjoin(dir, "b/to-a");
	assert_int_equal(ingest_path(target, record, &r, NULL), 0);
	assert_int_equal(r.n, 2);
	snprintf(want, sizeof want, "%s/b/to-a/up/b/y.txt", dir);
	assert_string_equal(r.docs[0].id, want);
	snprintf(want, sizeof want, "%s/b/to-a/x.txt", dir);
	assert_string_equal(r.docs[1].id, want);
	free(target);
	rec_free(&r);
	tu_rmtree(dir);
	free(dir);
}

/* A 50 MB text file is read whole. */
/* The messages: one line each, "furet: PATH[:LINE]: what; what was done". */
static void test_messages(void **state)
{
	char *dir = tmpdir(), *path, *log, *out, want[512];
	recorder r;
	int saved, fd;

	(void)state;
	W(dir, "m.jsonl", "{\"id\": \"ok\", \"text\": \"t\"}\n"
		"{\"id\": \"x\", \"text\": \n"
		"{\"id\": \"a\\u0000b\", \"text\": \"t\"}\n");
	path = pjoin(dir, "m.jsonl");
	log = pjoin(dir, "stderr.log");
	memset(&r, 0, sizeof r);
	fflush(stderr);
	saved = dup(2);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	assert_int_equal(ingest_path(path, record, &r, NULL), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(r.n, 1);
	out = tu_read(log, NULL);
	assert_non_null(out);
	snprintf(want, sizeof want, "furet: %s:2: invalid JSON: ", path);
	assert_memory_equal(out, want, strlen(want));
	assert_non_null(strstr(out, "; line skipped\n"));
	snprintf(want, sizeof want, "\nfuret: %s:3: \"id\" is not text "
		"(has a NUL); line skipped\n", path);
	assert_non_null(strstr(out, want));
	free(out);
	rec_free(&r);
	free(log);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void test_big_file(void **state)
{
	char *dir = tmpdir(), *path;
	size_t n = 50u << 20;
	char *buf = malloc(n);
	recorder r;

	(void)state;
	assert_non_null(buf);
	memset(buf, 'a', n);
	buf[n - 1] = '\n';
	assert_int_equal(tu_write(dir, "big.txt", buf, n), 0);
	free(buf);
	path = pjoin(dir, "big.txt");
	memset(&r, 0, sizeof r);
	assert_int_equal(ingest_path(path, record, &r, NULL), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.docs[0].text_len, n);
	rec_free(&r);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static int setup(void **state)
{
	static char cwd[4096];

	(void)state;
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	return setenv("FURET_TEST_CWD", cwd, 1);
}

/* ingest_measure finds the files ingest_path reads, by the same rules, and
** their size is the bytes ingest_path counts when it has read them all. */
static void test_measure(void **state)
{
	char *dir = tmpdir(), *root, *named;
	recorder r;
	ingest_stats st;
	uint64_t n_files = 0, n_bytes = 0, seen_bytes = 0;

	(void)state;
	root = pjoin(dir, "corpus");
	assert_int_equal(mkdir(root, 0777), 0);
	W(root, "a.txt", "Texte a.");                          /* 8 */
	W(root, "sub/b.md", "# B\n\nCorps.\n");               /* 12 */
	W(root, "c.jsonl", "{\"id\":\"c\",\"text\":\"C.\"}\n\n"); /* 24 */
	W(root, "README.md", "ignored");
	W(root, ".hidden.txt", "ignored");
	W(root, "notes.csv", "ignored");

	assert_int_equal(ingest_measure(root, &n_files, &n_bytes), 0);
	assert_int_equal(n_files, 3);
	assert_int_equal(n_bytes, 8 + 12 + 24);
	memset(&r, 0, sizeof r);
	memset(&st, 0, sizeof st);
	assert_int_equal(ingest_path(root, record, &r, &st), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(st.n_bytes, n_bytes);
	rec_free(&r);

	/* A file named alone counts; measures add up; a missing path fails. */
	named = pjoin(root, "a.txt");
	assert_int_equal(ingest_measure(named, &n_files, &seen_bytes), 0);
	assert_int_equal(n_files, 4);
	assert_int_equal(seen_bytes, 8);
	assert_int_equal(ingest_measure(dir, &n_files, &seen_bytes), 0);
	assert_int_equal(seen_bytes, 8 + 8 + 12 + 24);
	assert_int_equal(ingest_measure("/nonexistent/furet", &n_files,
		&n_bytes), -1);
	free(named);
	free(root);
	tu_rmtree(dir);
	free(dir);
}

/* What jansson reads of member name in o, as the flat reader gives it. */
static int same_member(const jflat_str *s, json_t *v)
{
	if (!s->p)
		return !v || json_is_null(v);
	return json_is_string(v) && json_string_length(v) == s->len &&
		memcmp(json_string_value(v), s->p, s->len) == 0;
}

/* 1 when the flat reader takes line, 0 when it leaves it to jansson; when
** it takes it, jansson must read the same id, title and text. */
static int flat_or_jansson(jflat *jf, const char *line)
{
	size_t n = strlen(line);
	int r = jflat_parse(jf, line, n);
	json_t *o;

	assert_true(r >= 0);
	if (r == 0)
		return 0;
	o = json_loadb(line, n, JSON_ALLOW_NUL, NULL);
	if (!o || !same_member(&jf->id, json_object_get(o, "id")) ||
		!same_member(&jf->text, json_object_get(o, "text")) ||
		!same_member(&jf->title, json_object_get(o, "title")) ||
		(json_object_get(o, "meta") && !json_is_null(json_object_get(o,
			"meta"))))
		fail_msg("the flat reader took %s, jansson reads it otherwise", line);
	json_decref(o);
	return 1;
}

/* The flat reader takes the usual lines, leaves every other one to jansson,
** and reads what it takes as jansson does: a table of cases, then random
** changes of them. */
static void test_jsonflat(void **state)
{
	static const struct {
		const char *line;
		int is_flat;
	} cases[] = {
		{ "{\"id\":\"a\",\"title\":\"T\",\"text\":\"x y\"}\n", 1 },
		{ " { \"id\" : \"a\" , \"text\" : \"\" } \r\n", 1 },
		{ "{\"text\":\"b\",\"id\":\"a\",\"title\":null,\"meta\":null}", 1 },
		{ "{\"id\":\"a\",\"text\":\"l\\u2019\\u00e9t\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}", 1 },
		{ "{\"\\u0069d\":\"a\",\"text\":\"b\"}", 1 },          /* escaped key */
		{ "{\"id\":\"a\",\"id\":\"b\",\"text\":\"c\"}", 1 },     /* last wins */
		{ "{\"id\":\"a\",\"text\":\"nul \\u0000 inside\"}", 1 },
		{ "{\"id\":\"a\",\"text\":\"b\",\"other\":\"x\",\"n\":null}", 1 },
		{ "{\"id\":\"a\",\"text\":\"b\",\"meta\":{\"k\":1}}", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\",\"meta\":\"s\"}", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\",\"n\":1}", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\",\"t\":true}", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\",\"l\":[]}", 0 },
		{ "{\"id\":null,\"text\":\"b\"}", 0 },
		{ "{\"id\":\"a\",\"text\":null}", 0 },
		{ "{\"id\":\"a\"}", 0 },
		{ "{}", 0 },
		{ "[]", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\"} x", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\",}", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\"", 0 },
		{ "{\"id\":\"a\",\"text\":\"tab\there\"}", 0 },      /* raw control */
		{ "{\"id\":\"a\",\"text\":\"\\ud800\"}", 0 },        /* lone surrogate */
		{ "{\"id\":\"a\",\"text\":\"\\udc00\"}", 0 },
		{ "{\"id\":\"a\",\"text\":\"\\ud800\\u0041\"}", 0 },
		{ "{\"id\":\"a\",\"text\":\"\\x\"}", 0 },
		{ "{\"id\":\"a\",\"text\":\"\\u12\"}", 0 },
		{ "{\"id\":\"a\",\"text\":\"b\"}}", 0 },
		{ "{\"id\" \"a\",\"text\":\"b\"}", 0 },
	};
	static const char alphabet[] = "{}[]\":,\\u0d8Aa nul\t\n";
	jflat jf;
	char line[256];
	unsigned seed = 7, r, k, n_flat = 0;
	size_t i;
	(void)state;

	jflat_init(&jf);
	for (i = 0; i < sizeof cases / sizeof *cases; i++)
		if (flat_or_jansson(&jf, cases[i].line) != cases[i].is_flat)
			fail_msg("%s: the flat reader says %d", cases[i].line,
				!cases[i].is_flat);
	/* The escaped key is the id; the repeated one the last. */
	assert_int_equal(jflat_parse(&jf, cases[4].line, strlen(cases[4].line)), 1);
	assert_int_equal(jf.id.len, 1);
	assert_int_equal(jflat_parse(&jf, cases[5].line, strlen(cases[5].line)), 1);
	assert_memory_equal(jf.id.p, "b", 1);
	assert_int_equal(jflat_parse(&jf, cases[6].line, strlen(cases[6].line)), 1);
	assert_true(jf.text.has_nul);
	assert_int_equal(jf.text.len, 12);

	for (r = 0; r < 50000; r++) {
		const char *base = cases[r % 8].line;
		size_t n = strlen(base);
		unsigned n_changes = 1 + (seed = seed * 1103515245 + 12345) % 3;

		memcpy(line, base, n + 1);
		for (k = 0; k < n_changes; k++) {
			size_t at = ((seed = seed * 1103515245 + 12345) >> 8) % n;
			line[at] = alphabet[((seed = seed * 1103515245 + 12345) >> 8) %
				(sizeof alphabet - 1)];
		}
		n_flat += (unsigned)flat_or_jansson(&jf, line);
	}
	assert_true(n_flat > 1000); /* changes that keep a flat line happen */

	/* Texts read eight bytes at a time: each byte next to those that end
	** a plain run (quote, backslash, control) or not, at every offset of
	** texts of 0 to 24 bytes. */
	{
		static const char *const marks[] = {
			"\\\"", "\\\\", "\\n", "\x01", "\x1f", " ", "!", "#", "[",
			"]", "\x7f", "\xc3\xa9", "\\u00e9",
		};
		size_t len, at, m, n_marks = sizeof marks / sizeof *marks;
		for (len = 0; len <= 24; len++)
			for (at = 0; at <= len; at++)
				for (m = 0; m < n_marks; m++) {
					int is_flat;
					size_t o = (size_t)sprintf(line,
						"{\"id\":\"a\",\"text\":\"");
					for (k = 0; k < at; k++)
						line[o++] = (char)('a' + k % 26);
					o += (size_t)sprintf(line + o, "%s", marks[m]);
					for (k = (unsigned)at; k < len; k++)
						line[o++] = (char)('a' + k % 26);
					strcpy(line + o, "\"}");
					is_flat = flat_or_jansson(&jf, line);
					/* a raw control character is jansson's error */
					assert_int_equal(is_flat, (unsigned char)marks[m][0] >=
						0x20);
					if (is_flat)
						assert_int_equal(jf.text.len, len + (marks[m][0] ==
							'\\' ? (marks[m][1] == 'u' ? 2 : 1) :
							strlen(marks[m])));
				}
	}
	jflat_free(&jf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_order_and_skips),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test(test_jsonflat),
		cmocka_unit_test(test_jsonl_long_line),
		cmocka_unit_test(test_jsonl_meta),
		cmocka_unit_test(test_binary_empty_utf8),
		cmocka_unit_test(test_late_nul),
		cmocka_unit_test(test_missing_and_unreadable),
		cmocka_unit_test(test_symlink_loop),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_big_file),
		cmocka_unit_test(test_measure),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
