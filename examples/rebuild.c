/*
** rebuild.c — keep an index in step with a directory of .txt and .md files,
** as a nightly job would. Every file under DIR is put in one batch: added
** when new, indexed again when its content changed, left alone (not even
** analysed) when it did not; the documents of files deleted since the last
** run are removed (furet_writer_remove_unseen); then the batch commits at
** once, so searches see the old index or the new one, never half of it.
**
**   rebuild INDEX_DIR DIR        bring INDEX_DIR up to date with DIR
**   rebuild -n INDEX_DIR DIR     dry run: say what would change, commit
**                                nothing
**
** Prints one line on stdout, "N added, N updated, N removed, N unchanged"
** (with "(dry run)" after -n). Document ids are the file paths (DIR as
** given, then the path below it); titles are the file names without their
** extension; .md files are Markdown ("# " lines are headings). Hidden files
** and directories are skipped, symbolic links are not followed, and a file
** that is not UTF-8 is named on stderr and skipped. Exit status: 0, 1 when files were skipped (the rest is
** committed), 2 on error (nothing is committed).
**
** Uses nothing but the public header (and POSIX to walk the directory).
*/
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <furet.h>

typedef struct run {
	furet_index *ix;
	furet_writer *w;
	size_t n_skipped;
	furet_rc rc; /* the first fatal error, FURET_OK until then */
} run;

/* The whole file in a malloc'd buffer; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *more;
	size_t cap = 0, got;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (!(more = realloc(buf, cap)))
				break;
			buf = more;
		}
		got = fread(buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0) {
			if (ferror(f))
				break;
			fclose(f);
			return buf ? buf : malloc(1);
		}
	}
	fclose(f);
	free(buf);
	return NULL;
}

static int has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e && strcmp(name + n - e, ext) == 0;
}

static void put_file(run *r, const char *path, const char *name)
{
	furet_doc doc;
	size_t len;
	char *text = read_file(path, &len);
	const char *dot = strrchr(name, '.');
	furet_rc rc;

	if (!text) {
		fprintf(stderr, "rebuild: %s: %s; skipped\n", path, strerror(errno));
		r->n_skipped++;
		return;
	}
	memset(&doc, 0, sizeof doc);
	doc.id = path;
	doc.id_len = strlen(path);
	doc.title = name;
	doc.title_len = (size_t)(dot - name);
	doc.text = text;
	doc.text_len = len;
	doc.format = has_ext(name, ".md") ? FURET_FORMAT_MARKDOWN :
		FURET_FORMAT_TEXT;
	/* Where the document comes from: remove_unseen matches it with DIR. */
	doc.source = path;
	rc = furet_writer_put(r->w, &doc, NULL);
	if (rc == FURET_INVALID) {
		fprintf(stderr, "rebuild: %s; skipped\n", furet_index_errmsg(r->ix));
		r->n_skipped++;
	} else if (rc != FURET_OK) {
		r->rc = rc;
	}
	free(text); /* the writer keeps its own copy */
}

/* Puts every .txt and .md file under dir, recursively. */
static void walk(run *r, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		fprintf(stderr, "rebuild: %s: %s; skipped\n", dir, strerror(errno));
		r->n_skipped++;
		return;
	}
	while (r->rc == FURET_OK && (de = readdir(d)) != NULL) {
		struct stat st;
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (!path) {
			r->rc = FURET_NOMEM;
			break;
		}
		sprintf(path, "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0) {
			fprintf(stderr, "rebuild: %s: %s; skipped\n", path,
				strerror(errno));
			r->n_skipped++;
		} else if (S_ISDIR(st.st_mode)) {
			walk(r, path);
		} else if (S_ISREG(st.st_mode) && (has_ext(de->d_name, ".txt") ||
			has_ext(de->d_name, ".md"))) {
			put_file(r, path, de->d_name);
		}
		free(path);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	run r;
	furet_batch_summary sum;
	int is_dry = argc == 4 && strcmp(argv[1], "-n") == 0;
	char *dir;
	const char *paths[1];
	size_t n_removed, len;
	int status = 2;

	if (argc != 3 + is_dry) {
		fprintf(stderr, "usage: %s [-n] INDEX_DIR DIR\n", argv[0]);
		return 2;
	}
	memset(&r, 0, sizeof r);
	/* "docs/" and "docs" must give the same ids from one run to the next. */
	dir = argv[argc - 1];
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	r.rc = furet_index_open(argv[argc - 2], FURET_OPEN_CREATE, &r.ix);
	if (r.rc != FURET_OK) {
		fprintf(stderr, "rebuild: %s\n", furet_last_errmsg());
		return 2;
	}
	if ((r.rc = furet_writer_begin(r.ix, 0, &r.w)) != FURET_OK)
		goto fail;
	walk(&r, dir);
	if (r.rc != FURET_OK)
		goto fail;
	paths[0] = dir;
	if ((r.rc = furet_writer_remove_unseen(r.w, paths, 1, &n_removed)) ||
		(r.rc = furet_writer_summary(r.w, &sum)))
		goto fail;
	if (is_dry) {
		furet_writer_abort(r.w);
	} else {
		r.rc = furet_writer_commit(r.w); /* releases w, whatever the result */
		if (r.rc != FURET_OK) {
			r.w = NULL;
			goto fail;
		}
	}
	r.w = NULL;
	printf("%zu added, %zu updated, %zu removed, %zu unchanged%s\n",
		sum.added, sum.updated, sum.removed, sum.unchanged,
		is_dry ? " (dry run)" : "");
	status = r.n_skipped ? 1 : 0;
	goto done;

fail:
	fprintf(stderr, "rebuild: %s (%s); nothing committed\n",
		furet_strerror(r.rc), furet_index_errmsg(r.ix));
done:
	furet_writer_abort(r.w);
	furet_index_close(r.ix);
	return status;
}
