/*
** fuzz_analyzer.c — arbitrary bytes into the analyzer. Invalid UTF-8 must be
** refused with FURET_INVALID; valid text must give tokens whose byte ranges
** lie inside the input, with starts and positions that never decrease.
*/
#include <stdint.h>
#include <stdlib.h>

#include "analyzer.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static furet_analyzer *an;
	const furet_token *toks;
	size_t n, i;
	int is_valid = furet_utf8_valid((const char *)data, size) == size;
	furet_rc rc;

	if (!an && furet_analyzer_open(&an) != FURET_OK)
		abort();
	rc = furet_analyzer_run(an, (const char *)data, size, FURET_MODE_DOCUMENT,
		&toks, &n);
	if (!is_valid) {
		if (rc != FURET_INVALID)
			abort();
		return 0;
	}
	if (rc != FURET_OK)
		abort();
	for (i = 0; i < n; i++) {
		if (toks[i].start >= toks[i].end || toks[i].end > size ||
			toks[i].term_len == 0 || toks[i].term[toks[i].term_len] != '\0')
			abort();
		/* Positions and starts never go back; a compound's whole overlaps
		** its parts, so ranges may overlap. */
		if (i && (toks[i].pos < toks[i - 1].pos ||
			toks[i].start < toks[i - 1].start))
			abort();
	}
	return 0;
}
