/*
** index.c — the public handle: open and close an index, errors, versions,
** statistics, and the analysis API (furet analyze). Writing lives in
** writer.c, searching in search.c.
*/
#include "index.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static _Thread_local char last_errmsg[512];

_Static_assert(FURET_TERM_STOP == FURET_TOK_STOP &&
	FURET_TERM_PART == FURET_TOK_PART && FURET_TERM_WHOLE == FURET_TOK_WHOLE &&
	FURET_TERM_NUMBER == FURET_TOK_NUMBER &&
	FURET_TERM_ACRONYM == FURET_TOK_ACRONYM &&
	FURET_TERM_ACCENTED == FURET_TOK_ACCENTED,
	"furet_term flags are the analyzer's token flags");

FURET_API const char *furet_strerror(furet_rc rc)
{
	switch (rc) {
	case FURET_OK: return "success";
	case FURET_ERROR: return "error";
	case FURET_NOMEM: return "out of memory";
	case FURET_IO: return "input/output error";
	case FURET_CORRUPT: return "the index is damaged or is not a furet index";
	case FURET_VERSION: return "the index was built by another version of furet";
	case FURET_INVALID: return "invalid argument";
	case FURET_NOINDEX: return "no index there";
	case FURET_EXISTS: return "a document with that id already exists";
	case FURET_BUSY: return "another writer is using the index";
	case FURET_DONE: return "no more items";
	case FURET_QUERY: return "the query cannot be read";
	}
	return "unknown error code";
}

FURET_API const char *furet_version(void)
{
	return FURET_VERSION_STRING;
}

FURET_API int furet_version_number(void)
{
	return FURET_VERSION_NUMBER;
}

FURET_API const char *furet_analyzer_name(void)
{
	return furet_analyzer_signature();
}

FURET_API const char *furet_last_errmsg(void)
{
	return last_errmsg;
}

FURET_API furet_rc furet_index_open(const char *dir, unsigned flags,
	furet_index **out)
{
	furet_index *ix;
	unsigned sflags = 0;
	furet_rc rc;

	last_errmsg[0] = '\0';
	if (!out)
		return FURET_INVALID;
	*out = NULL;
	if (!dir || !*dir) {
		snprintf(last_errmsg, sizeof last_errmsg, "no index directory given");
		return FURET_INVALID;
	}
	ix = furet_malloc(sizeof *ix);
	if (!ix)
		return FURET_NOMEM;
	memset(ix, 0, sizeof *ix);
	if (pthread_mutex_init(&ix->mu, NULL) != 0) {
		furet_free(ix);
		return FURET_ERROR;
	}
	if (flags & FURET_OPEN_CREATE)
		sflags |= FURET_STORE_CREATE;
	if (flags & FURET_OPEN_READONLY)
		sflags |= FURET_STORE_READONLY;
	if (flags & FURET_OPEN_REBUILD)
		sflags |= FURET_STORE_REPLACE;
	rc = furet_store_open(dir, sflags, &ix->store, last_errmsg,
		sizeof last_errmsg);
	if (rc) {
		if (!last_errmsg[0])
			snprintf(last_errmsg, sizeof last_errmsg, "%s: %s", dir,
				furet_strerror(rc));
		pthread_mutex_destroy(&ix->mu);
		furet_free(ix);
		return rc;
	}
	*out = ix;
	return FURET_OK;
}

FURET_API void furet_index_close(furet_index *ix)
{
	size_t i;

	if (!ix)
		return;
	for (i = 0; i < ix->n_pool; i++)
		furet_analyzer_close(ix->pool[i]);
	furet_free(ix->pool);
	furet_store_close(ix->store);
	pthread_mutex_destroy(&ix->mu);
	furet_free(ix);
}

FURET_API const char *furet_index_errmsg(const furet_index *ix)
{
	return ix ? ix->errmsg : "";
}

furet_rc furet_index_fail(furet_index *ix, furet_rc rc, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ix->mu);
	va_start(ap, fmt);
	vsnprintf(ix->errmsg, sizeof ix->errmsg, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&ix->mu);
	return rc;
}

furet_rc furet_index_begin_write(furet_index *ix, int is_wait)
{
	char err[300];
	furet_rc rc;

	pthread_mutex_lock(&ix->mu);
	if (ix->has_writer) {
		pthread_mutex_unlock(&ix->mu);
		return FURET_BUSY;
	}
	ix->has_writer = 1;
	pthread_mutex_unlock(&ix->mu);
	rc = furet_store_lock_writer(ix->store, is_wait, err, sizeof err);
	if (rc) {
		pthread_mutex_lock(&ix->mu);
		ix->has_writer = 0;
		pthread_mutex_unlock(&ix->mu);
		return furet_index_fail(ix, rc, "%s", err);
	}
	return FURET_OK;
}

void furet_index_end_write(furet_index *ix)
{
	furet_store_unlock_writer(ix->store);
	pthread_mutex_lock(&ix->mu);
	ix->has_writer = 0;
	pthread_mutex_unlock(&ix->mu);
}

furet_rc furet_index_take_analyzer(furet_index *ix, furet_analyzer **out)
{
	furet_analyzer *a = NULL;

	pthread_mutex_lock(&ix->mu);
	if (ix->n_pool)
		a = ix->pool[--ix->n_pool];
	pthread_mutex_unlock(&ix->mu);
	if (a) {
		*out = a;
		return FURET_OK;
	}
	return furet_analyzer_open(out);
}

void furet_index_give_analyzer(furet_index *ix, furet_analyzer *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&ix->mu);
	if (ix->n_pool == ix->cap_pool) {
		size_t cap = ix->cap_pool ? ix->cap_pool * 2 : 4;
		furet_analyzer **p = furet_realloc(ix->pool, cap * sizeof *p);
		if (!p) {
			pthread_mutex_unlock(&ix->mu);
			furet_analyzer_close(a);
			return;
		}
		ix->pool = p;
		ix->cap_pool = cap;
	}
	ix->pool[ix->n_pool++] = a;
	pthread_mutex_unlock(&ix->mu);
}

void furet_index_trim_analyzers(furet_index *ix, size_t keep)
{
	furet_analyzer *a;

	for (;;) {
		pthread_mutex_lock(&ix->mu);
		a = ix->n_pool > keep ? ix->pool[--ix->n_pool] : NULL;
		pthread_mutex_unlock(&ix->mu);
		if (!a)
			return;
		furet_analyzer_close(a);
	}
}

/* ---- analysis API ------------------------------------------------------ */

struct furet_analysis {
	furet_term *terms;
	size_t n;
	char *arena;
};

FURET_API furet_rc furet_analyze(const char *text, size_t len,
	furet_analysis **out)
{
	furet_analyzer *an = NULL;
	furet_analysis *a = NULL;
	const furet_token *toks;
	size_t n = 0, i, bytes = 0, off = 0;
	furet_rc rc;

	if (!out)
		return FURET_INVALID;
	*out = NULL;
	if (!text && len)
		return FURET_INVALID;
	if ((rc = furet_analyzer_open(&an)) != FURET_OK)
		return rc;
	rc = furet_analyzer_run(an, text ? text : "", len, FURET_MODE_DOCUMENT,
		&toks, &n);
	if (rc)
		goto done;
	for (i = 0; i < n; i++)
		bytes += toks[i].term_len + toks[i].fold_len + toks[i].word_len + 3;
	a = furet_malloc(sizeof *a);
	if (!a) {
		rc = FURET_NOMEM;
		goto done;
	}
	a->n = n;
	a->terms = furet_malloc(n * sizeof *a->terms);
	a->arena = furet_malloc(bytes);
	if (!a->terms || !a->arena) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		furet_term *t = &a->terms[i];
		memcpy(a->arena + off, toks[i].term, toks[i].term_len + 1);
		t->term = a->arena + off;
		off += toks[i].term_len + 1;
		memcpy(a->arena + off, toks[i].fold, toks[i].fold_len + 1);
		t->fold = a->arena + off;
		off += toks[i].fold_len + 1;
		memcpy(a->arena + off, toks[i].word, toks[i].word_len + 1);
		t->word = a->arena + off;
		off += toks[i].word_len + 1;
		t->term_len = toks[i].term_len;
		t->position = toks[i].pos;
		t->start = toks[i].start;
		t->end = toks[i].end;
		t->elision_len = toks[i].elision_len;
		t->is_stop = (toks[i].flags & FURET_TOK_STOP) != 0;
		/* The public flags are the analyzer's, pinned by these checks. */
		t->flags = toks[i].flags;
	}
	*out = a;
	a = NULL;
done:
	furet_analysis_free(a);
	furet_analyzer_close(an);
	return rc;
}

FURET_API size_t furet_analysis_count(const furet_analysis *a)
{
	return a ? a->n : 0;
}

FURET_API furet_rc furet_analysis_get(const furet_analysis *a, size_t i,
	furet_term *out)
{
	if (!a || !out || i >= a->n)
		return FURET_INVALID;
	*out = a->terms[i];
	return FURET_OK;
}

FURET_API void furet_analysis_free(furet_analysis *a)
{
	if (!a)
		return;
	furet_free(a->terms);
	furet_free(a->arena);
	furet_free(a);
}
