/*
** index_stdin.c — index the documents another program writes, one per line
** on standard input:
**
**     id<TAB>title<TAB>text        or        id<TAB>text
**
** In the title and text, \n stands for a line break, \t for a tab and \\
** for a backslash, so that a document of several paragraphs fits on one line
** ("Premier paragraphe.\n\nSecond paragraphe."); a blank line between
** paragraphs makes them separate passages. Each document is added, or
** replaces the indexed document of the same id when its content changed
** (furet_writer_put); an unchanged one is not analysed again. The whole
** input is one batch, committed at the end: searches see all of it or none.
**
**   psql -At -F "$(printf '\t')" -c 'select id, titre, corps from articles' |
**       index_stdin /var/lib/articles.idx
**   index_stdin -r INDEX_DIR < dump.tsv     (the input replaces the index)
**
** Prints "N added, N updated, N unchanged, N passages" on stdout. A line
** without a tab, with an empty id or that is not UTF-8 is reported on stderr
** with its number and skipped. Exit status: 0, 1 when lines were skipped
** (the others are committed), 2 on error (nothing is committed).
**
** Uses nothing but the public header.
*/
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <furet.h>

/* Decodes \n, \t and \\ in s[0..len) in place; returns the new length. A
** backslash before anything else stays as it is. */
static size_t unescape(char *s, size_t len)
{
	size_t i, at = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len &&
			(s[i + 1] == 'n' || s[i + 1] == 't' || s[i + 1] == '\\')) {
			i++;
			s[at++] = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : '\\';
		} else {
			s[at++] = s[i];
		}
	}
	return at;
}

int main(int argc, char **argv)
{
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_batch_summary sum;
	char *line = NULL;
	size_t cap = 0, lineno = 0, n_skipped = 0, n_passages;
	ssize_t n;
	int is_rebuild = argc == 3 && strcmp(argv[1], "-r") == 0;
	const char *dir = argv[argc - 1];
	furet_rc rc;
	int status = 2;

	if (argc != 2 + is_rebuild) {
		fprintf(stderr, "usage: %s [-r] INDEX_DIR < id<TAB>title<TAB>text lines\n",
			argv[0]);
		return 2;
	}
	rc = furet_index_open(dir, FURET_OPEN_CREATE |
		(is_rebuild ? FURET_OPEN_REBUILD : 0), &ix);
	if (rc != FURET_OK) {
		fprintf(stderr, "index_stdin: %s\n", furet_last_errmsg());
		return 2;
	}
	/* Waits while another process writes this index. */
	rc = furet_writer_begin(ix, is_rebuild ? FURET_WRITE_REBUILD : 0, &w);
	if (rc != FURET_OK)
		goto fail;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		furet_doc doc;
		char *tab, *text;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		memset(&doc, 0, sizeof doc);
		tab = memchr(line, '\t', (size_t)n);
		if (!tab || tab == line) {
			fprintf(stderr, "index_stdin: line %zu: %s; skipped\n", lineno,
				tab ? "empty id" : "no tab after the id");
			n_skipped++;
			continue;
		}
		doc.id = line;
		doc.id_len = (size_t)(tab - line);
		text = tab + 1;
		tab = memchr(text, '\t', (size_t)(line + n - text));
		if (tab) {
			doc.title = text;
			doc.title_len = unescape(text, (size_t)(tab - text));
			text = tab + 1;
		}
		doc.text = text;
		doc.text_len = unescape(text, (size_t)(line + n - text));
		doc.format = FURET_FORMAT_TEXT;
		/* The writer copies what it keeps: line can be reused at once. */
		rc = furet_writer_put(w, &doc, NULL);
		if (rc == FURET_INVALID) {
			fprintf(stderr, "index_stdin: line %zu: %s; skipped\n", lineno,
				furet_index_errmsg(ix));
			n_skipped++;
			continue;
		}
		if (rc != FURET_OK)
			goto fail;
	}
	if (ferror(stdin)) {
		fprintf(stderr, "index_stdin: cannot read the input; nothing "
			"committed\n");
		goto done;
	}
	if ((rc = furet_writer_summary(w, &sum)) != FURET_OK)
		goto fail;
	n_passages = furet_writer_passages(w);
	rc = furet_writer_commit(w); /* releases w, whatever the result */
	w = NULL;
	if (rc != FURET_OK)
		goto fail;
	printf("%zu added, %zu updated, %zu unchanged, %zu passages\n",
		sum.added, sum.updated, sum.unchanged, n_passages);
	status = n_skipped ? 1 : 0;
	goto done;

fail:
	fprintf(stderr, "index_stdin: %s (%s); nothing committed\n",
		furet_strerror(rc), furet_index_errmsg(ix));
done:
	furet_writer_abort(w);
	furet_index_close(ix);
	free(line);
	return status;
}
