/*
** analyze_bench.c — throughput of the analysis chain alone (src/analyzer.c):
** tokenizer, elision, normalisation, compounds, numbers, stop list, stems.
**
**   zstd -dc ../shared/data/corpus/legi_codes.jsonl.zst |
**     analyze_bench [ROUNDS [FIELDS]]
**
** Reads JSON lines from stdin and keeps the string fields FIELDS of each
** (comma-separated, default "title,text": what furet index analyses of a
** document, its title and its text) in memory (not timed), then runs
** furet_analyzer_run over every one, ROUNDS times (default 1; the word
** cache is warm after the first), and prints
**
**   bytes <total> tokens <total> seconds <analysis only> MB/s <..> Mtok/s <..>
**   text_bytes <those of the "text" fields>
**
** for the last round (MB = 10^6 bytes). One analyzer, one thread. Internal:
** it links the analyzer directly, not through include/furet.h. Build:
**
**   cc -O2 -Iinclude -Isrc -o analyze_bench bench/analyze_bench.c \
**     src/analyzer.c src/tokenizer.c src/util.c -ljansson \
**     -licui18n -licuuc -licudata -lstemmer
**
** Exit status 0, or 2 with a message.
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicode/uclean.h>

#include "analyzer.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct text_in {
	char *p;
	size_t len;
} text_in;

int main(int argc, char **argv)
{
	text_in *texts = NULL;
	size_t n_texts = 0, cap = 0, i, bytes = 0, tokens = 0;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t got;
	furet_analyzer *an = NULL;
	int rounds = argc > 1 ? atoi(argv[1]) : 1, r, status = 2;
	const char *fields = argc > 2 ? argv[2] : "title,text";
	char names[8][32];
	size_t n_names = 0, text_bytes = 0, k;
	double secs = 0;

	if (rounds < 1 || argc > 3) {
		fprintf(stderr, "usage: analyze_bench [ROUNDS [FIELDS]] < FILE.jsonl\n");
		return 2;
	}
	for (;;) {
		size_t len = strcspn(fields, ",");
		if (len == 0 || len >= sizeof names[0] ||
			n_names == sizeof names / sizeof names[0]) {
			fprintf(stderr, "analyze_bench: bad field list\n");
			return 2;
		}
		memcpy(names[n_names], fields, len);
		names[n_names++][len] = '\0';
		if (!fields[len])
			break;
		fields += len + 1;
	}
	while ((got = getline(&line, &line_cap, stdin)) > 0) {
		json_error_t jerr;
		json_t *doc = json_loadb(line, (size_t)got, 0, &jerr);

		if (!doc) {
			fprintf(stderr, "analyze_bench: input: %s\n", jerr.text);
			goto done;
		}
		for (k = 0; k < n_names; k++) {
			json_t *text = json_object_get(doc, names[k]);
			if (!json_is_string(text))
				continue;
			if (n_texts == cap) {
				text_in *t;
				cap = cap ? cap * 2 : 1024;
				t = realloc(texts, cap * sizeof *t);
				if (!t)
					goto nomem;
				texts = t;
			}
			texts[n_texts].len = json_string_length(text);
			texts[n_texts].p = malloc(texts[n_texts].len + 1);
			if (!texts[n_texts].p)
				goto nomem;
			memcpy(texts[n_texts].p, json_string_value(text),
				texts[n_texts].len + 1);
			if (strcmp(names[k], "text") == 0)
				text_bytes += texts[n_texts].len;
			n_texts++;
		}
		json_decref(doc);
	}
	if (furet_analyzer_open(&an) != FURET_OK) {
		fprintf(stderr, "analyze_bench: cannot open the analyzer\n");
		goto done;
	}
	for (r = 0; r < rounds; r++) {
		double t0 = now_s();

		bytes = tokens = 0;
		for (i = 0; i < n_texts; i++) {
			const furet_token *toks;
			size_t n;
			furet_rc rc = furet_analyzer_run(an, texts[i].p, texts[i].len,
				FURET_MODE_DOCUMENT, &toks, &n);

			if (rc != FURET_OK) {
				fprintf(stderr, "analyze_bench: text %zu: error %d\n", i,
					(int)rc);
				goto done;
			}
			bytes += texts[i].len;
			tokens += n;
		}
		secs = now_s() - t0;
	}
	printf("bytes %zu tokens %zu seconds %.3f MB/s %.2f Mtok/s %.3f "
		"text_bytes %zu\n", bytes, tokens, secs, (double)bytes / 1e6 / secs,
		(double)tokens / 1e6 / secs, text_bytes);
	status = 0;
	goto done;
nomem:
	fprintf(stderr, "analyze_bench: out of memory\n");
done:
	furet_analyzer_close(an);
	for (i = 0; i < n_texts; i++)
		free(texts[i].p);
	free(texts);
	free(line);
	u_cleanup();
	return status;
}
