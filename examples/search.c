/*
** search.c — the smallest complete libfuret program: open an index, run a
** query, print each hit's rank, score, document, section and passage text
** with the matched words in [brackets].
**
**   build/examples/search INDEX_DIR 'Qui finance POP School ?'
**
** Uses nothing but the public header. Exit status: 0 hits, 1 none, 2 error.
*/
#include <stdio.h>
#include <string.h>

#include <furet.h>

int main(int argc, char **argv)
{
	furet_index *ix = NULL;
	furet_results *res = NULL;
	furet_search_options opt;
	size_t i, k, n;
	furet_rc rc;
	int status = 2;

	if (argc != 3) {
		fprintf(stderr, "usage: %s INDEX_DIR QUERY\n", argv[0]);
		return 2;
	}
	rc = furet_index_open(argv[1], FURET_OPEN_READONLY, &ix);
	if (rc != FURET_OK) {
		fprintf(stderr, "search: %s\n", furet_last_errmsg());
		return 2;
	}
	furet_search_options_init(&opt);
	opt.limit = 3;
	rc = furet_search(ix, argv[2], strlen(argv[2]), &opt, &res);
	if (rc != FURET_OK) {
		fprintf(stderr, "search: %s (%s)\n", furet_strerror(rc),
			furet_index_errmsg(ix));
		goto done;
	}
	n = furet_results_count(res);
	for (i = 0; i < n; i++) {
		furet_hit h;
		size_t at = 0;

		furet_results_get(res, i, &h);
		printf("%u\t%.4f\t%s\t%s\t", h.rank, h.score, h.doc,
			h.section ? h.section : "-");
		for (k = 0; k < h.n_highlights; k++) {
			const furet_span *s = &h.highlights[k];
			printf("%.*s[%.*s]", (int)(s->start - at), h.text + at,
				(int)(s->end - s->start), h.text + s->start);
			at = s->end;
		}
		printf("%.*s\n", (int)(h.text_len - at), h.text + at);
	}
	status = n ? 0 : 1;
done:
	furet_results_free(res);
	furet_index_close(ix);
	return status;
}
