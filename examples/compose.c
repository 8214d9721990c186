/*
** compose.c — a search composed from parts, as a program gets them from a
** form: free text, a phrase the passage must hold, words to leave out, words
** the document title must have. Built with furet_query_*: nothing the user
** typed needs escaping, quotes, "AND" or "-" included.
**
**   build/examples/compose INDEX_DIR [-p PHRASE] [-x WORDS] [-t WORDS] [-c] TEXT
**
**   -p PHRASE  the passage must hold this phrase
**   -x WORDS   passages holding any of these words are left out
**   -t WORDS   the document's title must have one of these words
**   -c         TEXT is being typed: its last word is a prefix
**
** Prints the five best passages (rank, score, document, passage number,
** text); "did you mean" on stderr. Uses nothing but the public header.
** Exit status: 0 hits, 1 none, 2 error.
*/
#include <stdio.h>
#include <string.h>

#include <furet.h>

int main(int argc, char **argv)
{
	const char *phrase = NULL, *excluded = NULL, *title = NULL, *text;
	furet_index *ix = NULL;
	furet_results *res = NULL;
	furet_query *q;
	furet_search_options opt;
	int i, is_typing = 0, status = 2;
	size_t k, n;
	furet_rc rc;

	for (i = 2; i < argc - 1; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < argc - 1)
			phrase = argv[++i];
		else if (!strcmp(argv[i], "-x") && i + 1 < argc - 1)
			excluded = argv[++i];
		else if (!strcmp(argv[i], "-t") && i + 1 < argc - 1)
			title = argv[++i];
		else if (!strcmp(argv[i], "-c"))
			is_typing = 1;
		else
			break;
	}
	if (argc < 3 || i != argc - 1) {
		fprintf(stderr, "usage: %s INDEX_DIR [-p PHRASE] [-x WORDS] "
			"[-t WORDS] [-c] TEXT\n", argv[0]);
		return 2;
	}
	text = argv[argc - 1];

	/* TEXT -p P -x X -t T is the query string
	**   TEXT +"P" -(X) +title:(T)
	** with no character of TEXT, P, X or T read as syntax. A builder that
	** runs out of memory returns NULL, and the next one passes it on:
	** one check at the end. */
	q = is_typing ? furet_query_prefix(text, strlen(text)) :
		furet_query_words(text, strlen(text));
	if (phrase)
		q = furet_query_or(q, furet_query_require(
			furet_query_phrase(phrase, strlen(phrase))));
	if (excluded)
		q = furet_query_or(q, furet_query_exclude(
			furet_query_words(excluded, strlen(excluded))));
	if (title)
		q = furet_query_or(q, furet_query_require(furet_query_field(
			furet_query_words(title, strlen(title)), FURET_QF_TITLE)));
	if (!q) {
		fprintf(stderr, "compose: out of memory\n");
		return 2;
	}

	rc = furet_index_open(argv[1], FURET_OPEN_READONLY, &ix);
	if (rc != FURET_OK) {
		fprintf(stderr, "compose: %s\n", furet_last_errmsg());
		goto done;
	}
	furet_search_options_init(&opt);
	opt.limit = 5;
	rc = furet_search_query(ix, q, &opt, &res);
	if (rc != FURET_OK) {
		fprintf(stderr, "compose: %s (%s)\n", furet_strerror(rc),
			furet_index_errmsg(ix));
		goto done;
	}
	if (furet_results_suggestion(res))
		fprintf(stderr, "did you mean: %s\n", furet_results_suggestion(res));
	n = furet_results_count(res);
	for (k = 0; k < n; k++) {
		furet_hit h;

		furet_results_get(res, k, &h);
		printf("%u\t%.4f\t%s\t#%u\t%.*s\n", h.rank, h.score, h.doc,
			(unsigned)h.passage, (int)h.text_len, h.text);
	}
	status = n ? 0 : 1;
done:
	furet_results_free(res);
	furet_query_free(q);
	furet_index_close(ix);
	return status;
}
