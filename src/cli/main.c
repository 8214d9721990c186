/*
** main.c — the furet command: index, search, batch, eval, analyze, stats.
**
** A thin client of include/furet.h (it never includes the library's
** internals), like LMDB's mdb_* tools. Conventions: results on stdout and
** nothing else, messages on stderr as one line starting with "furet: ",
** exit status 0 when something was found or done, 1 when a search found
** nothing, 2 on error. Text from documents, and every message, is made safe
** before it reaches a terminal (safe.c: control characters become spaces)
** and JSON output escapes every
** control character, so a document can never rewrite the screen or break a
** JSON consumer.
*/
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallopt */
#endif

#include "eval.h"
#include "furet.h"
#include "ingest.h"
#include "progress.h"
#include "safe.h"

#define EXIT_HITS 0
#define EXIT_NONE 1
#define EXIT_ERROR 2

static int is_quiet;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;
	progress_interrupt();
	va_start(ap, fmt);
	cli_vsay(NULL, 0, fmt, ap);
	va_end(ap);
}

static const char *default_index(void)
{
	const char *e = getenv("FURET_INDEX");
	return e && *e ? e : "index";
}

/* furet with no arguments: what furet is for, in a few lines. */
static const char short_usage[] =
	"usage: furet COMMAND [OPTIONS] [ARGS]\n"
	"  furet index [PATH...]    index .txt, .md and .jsonl files (default: corpus/)\n"
	"  furet search QUERY...    find the passages that answer QUERY\n"
	"commands: index, search, batch, eval, analyze, stats, check, compact\n"
	"furet --help lists them; furet COMMAND --help explains one; man furet.\n";

static const char usage_text[] =
	"usage: furet COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"commands:\n"
	"  index   [-i DIR] [-q] [--json] [--rebuild] [--no-wait] [--threads N]\n"
	"          [--memory SIZE] [PATH...]\n"
	"                 add, update and remove documents from .txt, .md and\n"
	"                 .jsonl files (default: corpus/)\n"
	"  search  [-i DIR] [-n N] [--offset N] [--json] [--explain]\n"
	"          [RANKING OPTIONS] QUERY...\n"
	"                 rank passages for QUERY\n"
	"  batch   [-i DIR] [-n N] [RANKING OPTIONS] FILE\n"
	"                 run qid<TAB>query lines, print a TREC run\n"
	"  eval    [--json] QRELS RUN\n"
	"                 MRR@10, nDCG@10, Recall@10 and Recall@100 of a run\n"
	"  analyze [--explain] [--json] TEXT...\n"
	"                 print the index terms of TEXT\n"
	"  stats   [-i DIR] [--json]\n"
	"                 counts of the index\n"
	"  check   [-i DIR] [--json]\n"
	"                 verify the whole index\n"
	"  compact [-i DIR] [--json]\n"
	"                 rewrite the index compactly\n"
	"\n"
	"The index directory is -i DIR, else $FURET_INDEX, else ./index.\n"
	"Results go to stdout, messages to stderr; --json prints JSON Lines.\n"
	"Colours only on a terminal, never when NO_COLOR is set.\n"
	"Exit status: 0 found or done, 1 nothing found, 2 error.\n"
	"furet COMMAND --help for more; man furet; furet --version.\n";

/* ---- option parsing ------------------------------------------------------ */

/* The ranking options of search and batch, as furet_search_options fields. */
typedef struct rank_def {
	const char *name;
	double min, max, dflt;
} rank_def;

static const rank_def rank_defs[] = {
	{ "--k1", 0, 100, 1.3 },
	{ "--b", 0, 1, 0.45 },
	{ "--w-title", 0, 100, 2.0 },
	{ "--w-section", 0, 100, 0.5 },
	{ "--w-fold", 0, 1, 0.9 },
	{ "--w-typo", 0, 1, 0.5 },
	{ "--w-prox", 0, 100, 0.8 },
	{ "--w-phrase", 0, 100, 1.0 },
	{ "--w-doc", 0, 1, 0.7 },
	{ "--b-doc", 0, 1, 1.0 },
	{ "--w-cover", 0, 100, 0.6 },
	{ "--w-derived", 0, 1, 0.3 },
	{ "--w-asked", 0, 1, 0.6 },
	{ "--w-name", 0, 10, 1.6 },
};
#define N_RANK (sizeof rank_defs / sizeof rank_defs[0])

static int rank_opt(const char *a)
{
	size_t i;
	for (i = 0; i < N_RANK; i++)
		if (!strcmp(a, rank_defs[i].name))
			return (int)i;
	return -1;
}

typedef struct opts {
	const char *index;
	unsigned limit;
	unsigned offset;
	int is_json;
	int is_rebuild;
	int is_no_wait;
	unsigned threads;     /* furet index --threads; 0: the default */
	uint64_t memory;      /* furet index --memory in bytes; 0: the default */
	int is_explain;
	int is_exact;
	double rank[N_RANK];
	int has_rank[N_RANK];
	char **args;
	int n_args;
} opts;

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* A size in bytes: digits, then an optional K, M or G (powers of 1024),
** an optional B ("512M", "1G", "16MB"). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return errno || *end ? -1 : 0;
}

/* Parses argv[1..] of a command; accepts names the options allowed. Returns
** -1 to go on (the caller frees o->args), or the exit status the command
** must return now: 0 after --help, EXIT_ERROR after a message. */
static int parse_opts(int argc, char **argv, const char *accepts,
	const char *help, opts *o)
{
	int i, is_end = 0;

	memset(o, 0, sizeof *o);
	o->index = default_index();
	o->limit = 10;
	o->args = calloc((size_t)argc + 1, sizeof *o->args);
	if (!o->args) {
		msg("out of memory");
		return EXIT_ERROR;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (is_end || a[0] != '-' || a[1] == '\0') {
			o->args[o->n_args++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			is_end = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(help, stdout);
			free(o->args);
			return 0;
		} else if (!strcmp(a, "-i") && strchr(accepts, 'i')) {
			if (!val) {
				msg("-i needs a directory");
				goto bad;
			}
			o->index = val;
			i++;
		} else if (!strcmp(a, "-n") && strchr(accepts, 'n')) {
			if (parse_uint(val, 100000, &o->limit)) {
				msg("-n needs a number of hits between 0 and 100000");
				goto bad;
			}
			i++;
		} else if (!strcmp(a, "--offset") && strchr(accepts, 'n')) {
			if (parse_uint(val, 100000, &o->offset)) {
				msg("--offset needs a number between 0 and 100000");
				goto bad;
			}
			i++;
		} else if (!strcmp(a, "--json") && strchr(accepts, 'j')) {
			o->is_json = 1;
		} else if (strchr(accepts, 'k') && rank_opt(a) >= 0) {
			const rank_def *d = &rank_defs[rank_opt(a)];
			double x;
			if (parse_double(val, &x) || x < d->min || x > d->max) {
				msg("%s needs a number between %g and %g (default %g)",
					a, d->min, d->max, d->dflt);
				goto bad;
			}
			o->rank[rank_opt(a)] = x;
			o->has_rank[rank_opt(a)] = 1;
			i++;
		} else if (!strcmp(a, "--exact") && strchr(accepts, 'k')) {
			o->is_exact = 1;
		} else if (!strcmp(a, "--explain") && strchr(accepts, 'x')) {
			o->is_explain = 1;
		} else if (!strcmp(a, "-q") && strchr(accepts, 'q')) {
			is_quiet = 1;
		} else if (!strcmp(a, "--rebuild") && strchr(accepts, 'r')) {
			o->is_rebuild = 1;
		} else if (!strcmp(a, "--no-wait") && strchr(accepts, 'w')) {
			o->is_no_wait = 1;
		} else if (!strcmp(a, "--threads") && strchr(accepts, 't')) {
			if (parse_uint(val, 1024, &o->threads) || o->threads == 0) {
				msg("--threads needs a number between 1 and 1024");
				goto bad;
			}
			i++;
		} else if (!strcmp(a, "--memory") && strchr(accepts, 'm')) {
			if (parse_size(val, &o->memory) || o->memory < ((uint64_t)1 << 20)) {
				msg("--memory needs a size of at least 1M (e.g. 512M, 2G)");
				goto bad;
			}
			i++;
		} else {
			msg("unknown option %s (see: furet %s --help)", a, argv[0]);
			goto bad;
		}
	}
	return -1;
bad:
	free(o->args);
	return EXIT_ERROR;
}

/* What to do next after an index failed with rc and the message detail,
** when detail does not say it already (the library's messages often name
** the furet command to run). */
static const char *next_step(furet_rc rc, const char *detail)
{
	if (strstr(detail, ": furet "))
		return "";
	switch (rc) {
	case FURET_NOINDEX:
	case FURET_IO:
	case FURET_INVALID:
	case FURET_ERROR:
		return "; give the index directory with -i DIR or $FURET_INDEX";
	case FURET_CORRUPT:
		/* "not a furet index": furet never writes over it. */
		return "; check -i DIR (to build an index there, remove that file "
			"first)";
	case FURET_VERSION:
		return "; rebuild the index with: furet index --rebuild -i DIR PATH...";
	case FURET_BUSY:
		return "; try again when the other process is done";
	default:
		return "";
	}
}

/* Opens the index in dir, or says why it cannot and returns NULL. */
static furet_index *open_index(const char *dir, unsigned flags)
{
	furet_index *ix = NULL;
	furet_rc rc = furet_index_open(dir, flags, &ix);

	if (rc) {
		const char *detail = furet_last_errmsg();
		if (!*detail)
			detail = furet_strerror(rc);
		msg("%s%s", detail, next_step(rc, detail));
		return NULL;
	}
	return ix;
}

/* ---- output helpers ------------------------------------------------------ */

/* ---- JSON output ---------------------------------------------------------
** Every --json output is JSON Lines on stdout, written with jansson: one
** compact object per line (per hit, per term, or one for the whole command),
** keys in snake_case, byte offsets and counts as integers, a value that does
** not exist as null. Strings are UTF-8: the library only returns valid
** UTF-8, and anything else (a path from the command line) has its bad bytes
** replaced with U+FFFD, so every line parses.
*/

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, k;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing beyond U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* A JSON string of s[0..len); NULL only when out of memory. */
static json_t *jstr(const char *s, size_t len)
{
	json_t *v = json_stringn(s, len);
	const unsigned char *p = (const unsigned char *)s;
	char *fixed;
	size_t i = 0, at = 0;

	if (v || !s)
		return v;
	fixed = malloc(len * 3 + 1);
	if (!fixed)
		return NULL;
	while (i < len) {
		size_t n = utf8_len(p + i, len - i);
		if (n) {
			memcpy(fixed + at, s + i, n);
			at += n;
			i += n;
		} else {
			memcpy(fixed + at, "\xef\xbf\xbd", 3);
			at += 3;
			i++;
		}
	}
	v = json_stringn(fixed, at);
	free(fixed);
	return v;
}

static json_t *jcstr(const char *s)
{
	return s ? jstr(s, strlen(s)) : json_null();
}

/* Writes o as one line on stdout and releases it. Returns 0, or -1 (with a
** message) when o is NULL: building it ran out of memory. Reals get up to
** ten significant digits. */
static int put_json(json_t *o)
{
	int rc;

	if (!o) {
		msg("out of memory while writing JSON");
		return -1;
	}
	rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (rc == 0)
		putchar('\n');
	return rc;
}

static int use_color(void)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(nc && *nc);
}

/* The explain list of a hit; NULL when out of memory. */
static json_t *explain_json(const furet_hit *h)
{
	json_t *ex = json_array();
	size_t i;

	for (i = 0; ex && i < h->n_explain; i++) {
		const furet_explain *e = &h->explain[i];
		if (json_array_append_new(ex, json_pack("{s:o,s:o,s:s,s:s,s:f,s:f}",
			"word", jcstr(e->word), "term", jcstr(e->term), "how", e->how,
			"field", e->field, "tf", e->tf, "score", e->score))) {
			json_decref(ex);
			return NULL;
		}
	}
	return ex;
}

/* A hit's metadata as JSON text: what the JSONL gave (stored as JSON
** text), or, stored by another program, the bytes as a string when they
** are not JSON; "null" when none. malloc'd; NULL when out of memory. */
static char *meta_json(const furet_hit *h)
{
	json_t *v;
	char *text;

	if (!h->meta)
		return strdup("null");
	v = json_loadb(h->meta, h->meta_len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
		NULL);
	if (!v)
		v = jstr(h->meta, h->meta_len);
	if (!v)
		return NULL;
	text = ingest_json_text(v);
	json_decref(v);
	return text;
}

/* Writes o as one line on stdout with "meta" added last, as its own text
** (reals keep their digits there, where put_json keeps ten), and releases
** o. Returns as put_json. */
static int put_json_meta(json_t *o, const furet_hit *h)
{
	char *line = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) :
		NULL;
	char *meta = line ? meta_json(h) : NULL;
	size_t n = line ? strlen(line) : 0;
	int rc = -1;

	json_decref(o);
	if (meta && n > 1 && line[n - 1] == '}') {
		line[n - 1] = '\0';
		rc = printf("%s,\"meta\":%s}\n", line, meta) < 0 ? -1 : 0;
	} else {
		msg("out of memory while writing JSON");
	}
	free(meta);
	free(line);
	return rc;
}

/* One search hit: the keys furet search --help lists. */
static int print_hit_json(const furet_hit *h, const char *suggestion,
	int is_explain)
{
	json_t *o, *hl;
	size_t i;

	hl = json_array();
	for (i = 0; hl && i < h->n_highlights; i++)
		if (json_array_append_new(hl, json_pack("[I,I]",
			(json_int_t)h->highlights[i].start,
			(json_int_t)h->highlights[i].end)))
			goto oom;
	o = json_pack("{s:I,s:f,s:o,s:o,s:o,s:I,s:I,s:I,s:o,s:o}",
		"rank", (json_int_t)h->rank, "score", h->score,
		"doc", jcstr(h->doc), "title", jcstr(h->title),
		"section", jcstr(h->section), "passage", (json_int_t)h->passage,
		"start", (json_int_t)h->start, "end", (json_int_t)h->end,
		"text", jstr(h->text, h->text_len), "highlights", hl);
	hl = NULL;
	if (o && is_explain && json_object_set_new(o, "explain",
		explain_json(h)))
		goto oom_o;
	if (o && suggestion &&
		json_object_set_new(o, "did_you_mean", jcstr(suggestion)))
		goto oom_o;
	return put_json_meta(o, h);
oom_o:
	json_decref(o);
oom:
	json_decref(hl);
	return put_json(NULL);
}

static void print_explain_human(const furet_hit *h)
{
	size_t i;

	for (i = 0; i < h->n_explain; i++) {
		const furet_explain *e = &h->explain[i];
		fputs("     ", stdout);
		printf("%+.3f  ", e->score);
		cli_put_safe(stdout, e->word, strlen(e->word));
		if (*e->term) {
			fputs(" -> ", stdout);
			cli_put_safe(stdout, e->term, strlen(e->term));
		}
		printf("  (%s%s%s", e->how, *e->field ? ", " : "", e->field);
		if (*e->term)
			printf(", tf %.3g", e->tf);
		else if (!strcmp(e->how, "proximity"))
			printf(", %.0f words apart", e->tf);
		else if (!strcmp(e->how, "coverage"))
			printf(", %.0f%% of the query's weight", 100 * e->tf);
		fputs(")\n", stdout);
	}
}

static void print_hit_human(const furet_hit *h, int is_color)
{
	size_t at, i;
	const char *bold = is_color ? "\033[1m" : "[";
	const char *unbold = is_color ? "\033[0m" : "]";

	printf("%u. %.3f  ", h->rank, h->score);
	cli_put_safe(stdout, h->doc, strlen(h->doc));
	printf(" #%u", (unsigned)h->passage);
	if (h->section) {
		fputs("  § ", stdout);
		cli_put_safe(stdout, h->section, strlen(h->section));
	}
	fputs("\n   ", stdout);
	if (h->snippet.start > 0)
		fputs("… ", stdout);
	at = h->snippet.start;
	for (i = 0; i < h->n_highlights; i++) {
		const furet_span *s = &h->highlights[i];
		if (s->start < at || s->end > h->snippet.end)
			continue;
		cli_put_safe(stdout, h->text + at, s->start - at);
		fputs(bold, stdout);
		cli_put_safe(stdout, h->text + s->start, s->end - s->start);
		fputs(unbold, stdout);
		at = s->end;
	}
	cli_put_safe(stdout, h->text + at, h->snippet.end - at);
	if (h->snippet.end < h->text_len)
		fputs(" …", stdout);
	fputs("\n", stdout);
}

/* Applies the ranking options given on the command line (rank_defs order). */
static void apply_ranking(const opts *o, furet_search_options *so)
{
	double *field[N_RANK];
	size_t i;

	field[0] = &so->k1;
	field[1] = &so->b;
	field[2] = &so->w_title;
	field[3] = &so->w_section;
	field[4] = &so->w_fold;
	field[5] = &so->w_typo;
	field[6] = &so->w_prox;
	field[7] = &so->w_phrase;
	field[8] = &so->w_doc;
	field[9] = &so->b_doc;
	field[10] = &so->w_cover;
	field[11] = &so->w_derived;
	field[12] = &so->w_asked;
	field[13] = &so->w_name;
	for (i = 0; i < N_RANK; i++)
		if (o->has_rank[i])
			*field[i] = o->rank[i];
}

/* Joins args with spaces into one malloc'd query. */
static char *join_args(char **args, int n)
{
	size_t len = 1, at = 0;
	char *q;
	int i;

	for (i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	q = malloc(len);
	if (!q)
		return NULL;
	for (i = 0; i < n; i++) {
		size_t l = strlen(args[i]);
		if (i)
			q[at++] = ' ';
		memcpy(q + at, args[i], l);
		at += l;
	}
	q[at] = '\0';
	return q;
}

/* ---- furet search ---------------------------------------------------------- */

static const char search_help[] =
	"usage: furet search [-i DIR] [-n N] [--offset N] [--json] [--explain]\n"
	"                    [RANKING OPTIONS] QUERY...\n"
	"\n"
	"Ranks the passages of the index for QUERY (BM25F over passage text, with\n"
	"the document title and the passage section as weaker fields, plus\n"
	"bonuses for matched phrases and for query words close together). Query\n"
	"words are analysed like the documents (elisions, case, accents, stems).\n"
	"\n"
	"Query language:\n"
	"  words           any may match; French stop words are dropped unless\n"
	"                  nothing else is left\n"
	"  \"a phrase\"      these words in this order (stop words count); also «»\n"
	"  +word  -word    required, excluded\n"
	"  a AND b, a OR b, NOT a, (...)   in capitals\n"
	"  prefix*         words starting so (the 64 most frequent)\n"
	"  a NEAR/n b      within n words of each other (NEAR alone: 10)\n"
	"  title:x  section:x   only in the document title / passage section\n"
	"A word of 5+ letters that the index lacks is also looked for with one\n"
	"typo (two from 9 letters); furet then says \"did you mean\" on stderr.\n"
	"A word of 5+ letters also reaches its family at a lower weight\n"
	"(\"reconstruction\" finds \"reconstruit\"; see --w-derived).\n"
	"An unclosed quote or parenthesis is read as closed at the end.\n"
	"\n"
	"  -i DIR      index directory (default $FURET_INDEX, else ./index)\n"
	"  -n N        number of hits (default 10)\n"
	"  --offset N  skip the first N hits\n"
	"  --json      JSON Lines: rank, score, doc, title, section, passage,\n"
	"              start, end (byte range in the document), text, highlights\n"
	"              (byte ranges in text); with --explain an explain list, and\n"
	"              did_you_mean when a typo was corrected; last, meta: the\n"
	"              document's \"meta\" from its JSONL line, or null\n"
	"  --explain   how each query word matched and what it added to the score\n"
	"              (exact, stem, accent, compound, prefix, typo, family,\n"
	"              phrase, proximity, coverage)\n"
	"  --k1 X      BM25 term saturation (default 1.3)\n"
	"  --b X       BM25 length normalisation, 0..1 (default 0.45)\n"
	"  --w-title X, --w-section X\n"
	"              weight of a match in the document title (default 2) or the\n"
	"              passage section (default 0.5), against 1 for the text\n"
	"  --w-fold X  weight of a match that differs by accents only, 0..1\n"
	"              (default 0.9)\n"
	"  --w-typo X  weight of a typo correction, 0..1 (default 0.5)\n"
	"  --w-derived X  weight of a word of the same family as a query word\n"
	"              (\"reconstruction\" reaching \"reconstruit\"), 0..1 (default 0.3)\n"
	"  --w-asked X factor on the weight of the word an interrogative asks\n"
	"              for (\"quel pays\"), 0..1 (default 0.6)\n"
	"  --w-name X  factor on the weight of a number and of a capitalised word\n"
	"              that is not the query's first (a name: \"Qui finance POP\n"
	"              School ?\"), 0..10 (default 1.6)\n"
	"  --w-prox X  weight of the bonus for query words close together\n"
	"              (default 0.8)\n"
	"  --w-phrase X  weight of the bonus of a matched \"phrase\" (default 1)\n"
	"  --w-cover X weight of the bonus for holding more of the query's words\n"
	"              (default 0.6)\n"
	"  --w-doc X   (furet batch: one passage per document) share of the\n"
	"              document-level score, against the best passage's, for a\n"
	"              document of several passages, 0..1 (default 0.7)\n"
	"  --b-doc X   length normalisation of the document-level score, 0..1\n"
	"              (default 1)\n"
	"  --exact     score every matching passage; by default a free-text\n"
	"              query skips those that cannot reach the hits (the same\n"
	"              hits, faster; the count of matches is then a minimum)\n"
	"\n"
	"Exit status: 0 hits, 1 no hit, 2 error.\n";

static int cmd_search(int argc, char **argv)
{
	opts o;
	furet_index *ix = NULL;
	furet_results *res = NULL;
	furet_search_options so;
	char *q = NULL;
	const char *suggestion;
	size_t i, n;
	int status = EXIT_ERROR, is_color, p;
	furet_rc rc;

	if ((p = parse_opts(argc, argv, "injkx", search_help, &o)) >= 0)
		return p;
	if (o.n_args == 0) {
		msg("search needs a query, e.g.: furet search 'Qui finance POP School ?'");
		goto done;
	}
	q = join_args(o.args, o.n_args);
	if (!q) {
		msg("out of memory");
		goto done;
	}
	if (!(ix = open_index(o.index, FURET_OPEN_READONLY)))
		goto done;
	furet_search_options_init(&so);
	so.limit = o.limit;
	so.offset = o.offset;
	if (o.is_explain)
		so.flags |= FURET_SEARCH_EXPLAIN;
	if (o.is_exact)
		so.flags |= FURET_SEARCH_EXACT;
	apply_ranking(&o, &so);
	rc = furet_search(ix, q, strlen(q), &so, &res);
	if (rc) {
		const char *d = furet_index_errmsg(ix);
		if (rc == FURET_INVALID && !*d)
			d = "the query is not valid UTF-8 (convert it, e.g. with iconv "
				"-t UTF-8)";
		msg("search failed: %s", *d ? d : furet_strerror(rc));
		goto done;
	}
	n = furet_results_count(res);
	is_color = use_color();
	suggestion = furet_results_suggestion(res);
	if (suggestion && !is_quiet) {
		fputs("furet: did you mean: ", stderr);
		cli_put_safe(stderr, suggestion, strlen(suggestion));
		fputs("\n", stderr);
	}
	for (i = 0; i < n; i++) {
		furet_hit h;
		if (furet_results_get(res, i, &h))
			break;
		if (o.is_json) {
			if (print_hit_json(&h, suggestion, o.is_explain))
				goto done;
		} else {
			print_hit_human(&h, is_color);
			if (o.is_explain)
				print_explain_human(&h);
			fputs("\n", stdout);
		}
	}
	if (fflush(stdout) != 0 && errno != EPIPE) {
		msg("cannot write the results: %s", strerror(errno));
		goto done;
	}
	status = n ? EXIT_HITS : EXIT_NONE;
done:
	furet_results_free(res);
	furet_index_close(ix);
	free(q);
	free(o.args);
	return status;
}

/* ---- furet index ------------------------------------------------------------ */

static const char index_help[] =
	"usage: furet index [-i DIR] [-q] [--json] [--rebuild] [--no-wait]\n"
	"                   [--threads N] [--memory SIZE] [PATH...]\n"
	"\n"
	"Brings the index directory (default $FURET_INDEX, else ./index; created\n"
	"when missing) up to date with the documents under each PATH (default:\n"
	"corpus/). Directories are walked recursively; .txt and .md files are\n"
	"documents whose id is their path; .jsonl files hold one\n"
	"{\"id\",\"title\",\"text\",\"meta\"} object per line (\"meta\": optional\n"
	"metadata of any JSON type, up to 64 KiB, shown by search --json).\n"
	"Hidden files and README files inside directories are skipped.\n"
	"Documents are cut into passages.\n"
	"\n"
	"New documents are added; changed ones (by content) are indexed again;\n"
	"unchanged ones are skipped without analysis; documents indexed from\n"
	"these paths before that are gone now (deleted files, ids no longer in a\n"
	"JSONL file) are removed. An id repeated in one run: the last one wins.\n"
	"A summary goes to stderr. When removed passages make a fifth of the\n"
	"index, it is compacted. On a terminal, a run that lasts more than a\n"
	"second shows its progress on stderr (percent, documents/s, MB/s, ETA).\n"
	"\n"
	"  -i DIR      index directory (default $FURET_INDEX, else ./index)\n"
	"  --rebuild   start from scratch: the new index replaces the old one\n"
	"              (also rebuilds an index of another format version)\n"
	"  --no-wait   if another furet process is writing the index, fail at\n"
	"              once (naming it) instead of waiting for it\n"
	"  --json      the summary as one object on stdout: index, added,\n"
	"              updated, removed, unchanged, repeated, passages (indexed\n"
	"              in this run), skipped (files and lines), seconds,\n"
	"              compacted (true or false)\n"
	"  --threads N analyse documents in N threads (default: one per\n"
	"              processor, at most 8); the index is the same\n"
	"  --memory SIZE  memory budget (default 1G; K, M, G suffixes): beyond\n"
	"              it, sorted runs go to temporary files in the index\n"
	"              directory and are merged at the end\n"
	"  -q          no summary on stderr, no progress\n"
	"\n"
	"The run is committed at once: if anything fatal happens (a PATH is\n"
	"missing, the disk is full, the process is killed), the index stays as it\n"
	"was, and searches meanwhile see it as it was.\n"
	"\n"
	"Bad input is named on stderr, one line each (furet: FILE[:LINE]: ...),\n"
	"and the rest is indexed. Skipped, with exit status 2: binary files (a NUL\n"
	"byte in the first 8 KiB), unreadable or vanished files, links to\n"
	"themselves, ids over 511 bytes, .jsonl lines that are not JSON objects\n"
	"with a non-empty string \"id\" and a string \"text\". Indexed with a\n"
	"warning, exit status 0: invalid UTF-8 (bad bytes become U+FFFD), files\n"
	"in Windows-1252/Latin-1 (converted), empty files, directory loops\n"
	"(walked once), repeated ids (the last one wins).\n";

typedef struct index_ctx {
	furet_writer *w;
	furet_index *ix;
	size_t n_docs, n_rejected;
	int is_fatal;
	const ingest_stats *st; /* bytes read so far, for the progress line */
	progress bar;
} index_ctx;

static int index_one(void *ctx, const furet_doc *doc, const char *path,
	size_t line)
{
	index_ctx *c = ctx;
	furet_doc d = *doc;
	int outcome = 0;
	furet_rc rc;

	d.source = path;
	rc = furet_writer_put(c->w, &d, &outcome);
	if (rc == FURET_OK) {
		c->n_docs++;
		progress_update(&c->bar, c->n_docs, c->st->n_bytes);
		if (outcome == FURET_PUT_REPLACED_IN_BATCH) {
			if (line)
				msg("%s:%zu: id %.*s was already in this batch; the last one "
					"wins", path, line, (int)(doc->id_len > 200 ? 200 :
					doc->id_len), doc->id);
		}
		return 0;
	}
	if (rc == FURET_INVALID || rc == FURET_EXISTS) {
		const char *why = furet_index_errmsg(c->ix);
		if (!*why)
			why = furet_strerror(rc);
		if (line)
			msg("%s:%zu: %s; skipped", path, line, why);
		else
			msg("%s: %s; skipped", path, why);
		c->n_rejected++;
		return 0;
	}
	msg("%s: %s", path, furet_strerror(rc));
	c->is_fatal = 1;
	return -1;
}

/* Removed passages keep their postings until compaction; when they are a
** fifth of the index, compact it now, as the index's growth bound says.
** Returns 1 when it compacted. */
static int maybe_compact(furet_index *ix, const char *dir, int is_json)
{
	furet_stats st;
	uint64_t before, after;

	if (furet_index_stats(ix, &st) != FURET_OK ||
		st.n_dead * 5 <= st.n_passages + st.n_dead)
		return 0;
	if (furet_index_compact(ix, &before, &after) != FURET_OK) {
		msg("%s: compaction failed (%s); run: furet compact -i %s", dir,
			furet_index_errmsg(ix), dir);
		return 0;
	}
	if (!is_quiet && !is_json)
		msg("compacted %s: %llu -> %llu bytes", dir,
			(unsigned long long)before, (unsigned long long)after);
	return 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_index(int argc, char **argv)
{
	static char *default_paths[] = { "corpus" };
	opts o;
	index_ctx c;
	ingest_stats st;
	furet_batch_summary sum;
	furet_writer_options wo;
	char **paths;
	size_t n_removed = 0, n_passages;
	uint64_t n_files = 0, n_bytes = 0;
	int n_paths, i, p, is_compacted, status = EXIT_ERROR;
	double t0 = now_s(), seconds;
	furet_rc rc;

	memset(&c, 0, sizeof c);
	memset(&st, 0, sizeof st);
	c.st = &st;
	if ((p = parse_opts(argc, argv, "iqrwjtm", index_help, &o)) >= 0)
		return p;
	paths = o.n_args ? o.args : default_paths;
	n_paths = o.n_args ? o.n_args : 1;
	/* A path that is not there: say so before an index is created. */
	for (i = 0; i < n_paths; i++) {
		if (access(paths[i], F_OK) == 0)
			continue;
		if (o.n_args)
			msg("%s: %s; the index was left unchanged (check the path)",
				paths[i], strerror(errno));
		else
			msg("nothing to index: without PATH furet reads ./corpus, which "
				"is missing; give the files or directories, e.g.: furet "
				"index ~/docs");
		goto done;
	}
	if (!(c.ix = open_index(o.index, FURET_OPEN_CREATE |
		(o.is_rebuild ? FURET_OPEN_REBUILD : 0))))
		goto done;
	furet_writer_options_init(&wo);
	wo.flags = (o.is_rebuild ? FURET_WRITE_REBUILD : 0) |
		(o.is_no_wait ? FURET_WRITE_NO_WAIT : 0);
	wo.threads = o.threads;
	wo.memory = o.memory;
	rc = furet_writer_begin_v2(c.ix, &wo, &c.w);
	if (rc) {
		const char *d = furet_index_errmsg(c.ix);
		msg("cannot start indexing: %s", *d ? d : furet_strerror(rc));
		goto done;
	}
	/* The progress line: on a terminal, unless -q. Its total is the size of
	** the files to read, measured first (a stat per file). */
	if (!is_quiet && isatty(STDERR_FILENO)) {
		for (i = 0; i < n_paths; i++)
			if (ingest_measure(paths[i], &n_files, &n_bytes) != 0)
				break;
		progress_start(&c.bar, 1, i == n_paths ? n_bytes : 0);
	}
	for (i = 0; i < n_paths; i++) {
		if (ingest_path(paths[i], index_one, &c, &st) != 0) {
			if (!c.is_fatal)
				msg("%s: cannot be indexed; the index was left unchanged",
					paths[i]);
			else
				msg("the index was left unchanged");
			furet_writer_abort(c.w);
			goto done;
		}
	}
	/* What was indexed from these paths before and is gone now. */
	if (!o.is_rebuild && (rc = furet_writer_remove_unseen(c.w,
		(const char *const *)paths, (size_t)n_paths, &n_removed))) {
		msg("%s; the index was left unchanged", furet_strerror(rc));
		furet_writer_abort(c.w);
		goto done;
	}
	if (c.n_docs == 0 && n_removed == 0) {
		msg("no document found in %s%s (furet reads .txt, .md and .jsonl "
			"files); the index was left unchanged", paths[0],
			n_paths > 1 ? " and the other paths" : "");
		furet_writer_abort(c.w);
		goto done;
	}
	if ((rc = furet_writer_summary(c.w, &sum))) {
		msg("%s; the index was left unchanged", furet_strerror(rc));
		furet_writer_abort(c.w);
		goto done;
	}
	n_passages = furet_writer_passages(c.w);
	progress_phase(&c.bar, "writing the index...");
	rc = furet_writer_commit(c.w);
	progress_clear(&c.bar);
	if (rc) {
		const char *d = furet_index_errmsg(c.ix);
		msg("%s; the index was left unchanged", *d ? d : furet_strerror(rc));
		goto done;
	}
	seconds = now_s() - t0;
	if (!is_quiet && !o.is_json) {
		msg("%zu added, %zu updated, %zu removed, %zu unchanged in %.2f s "
			"(%s)%s%s", sum.added, sum.updated, sum.removed, sum.unchanged,
			seconds, o.index, sum.repeated ?
			"; some ids were repeated, the last one won" : "",
			st.n_skipped + c.n_rejected ?
			"; some inputs were skipped, see above" : "");
	}
	is_compacted = maybe_compact(c.ix, o.index, o.is_json);
	status = (st.n_errors || c.n_rejected) ? EXIT_ERROR : 0;
	if (o.is_json && put_json(json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		"s:f,s:b}", "index", jcstr(o.index), "added", (json_int_t)sum.added,
		"updated", (json_int_t)sum.updated, "removed", (json_int_t)sum.removed,
		"unchanged", (json_int_t)sum.unchanged, "repeated",
		(json_int_t)sum.repeated, "passages", (json_int_t)n_passages,
		"skipped", (json_int_t)(st.n_skipped + c.n_rejected), "seconds",
		seconds, "compacted", is_compacted)))
		status = EXIT_ERROR;
done:
	progress_clear(&c.bar);
	furet_index_close(c.ix);
	free(o.args);
	return status;
}

/* ---- furet batch --------------------------------------------------------------- */

static const char batch_help[] =
	"usage: furet batch [-i DIR] [-n N] [RANKING OPTIONS] FILE\n"
	"\n"
	"Runs every qid<TAB>query line of FILE (- for stdin) and prints a TREC\n"
	"run on stdout: qid Q0 docid rank score furet, keeping the best passage\n"
	"of each document, N documents per query (default 100). Lines without\n"
	"a tab are reported on stderr and skipped.\n"
	"\n"
	"  -i DIR      index directory (default $FURET_INDEX, else ./index)\n"
	"  -n N        documents per query (default 100)\n"
	"  RANKING OPTIONS  those of furet search (--k1, --b, --w-title...)\n";

static int cmd_batch(int argc, char **argv)
{
	opts o;
	furet_index *ix = NULL;
	furet_search_options so;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int status = EXIT_ERROR, p, has_limit = 0, i;
	furet_rc rc;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-n"))
			has_limit = 1;
	if ((p = parse_opts(argc, argv, "ink", batch_help, &o)) >= 0)
		return p;
	if (o.n_args != 1) {
		msg("batch needs one file of qid<TAB>query lines, e.g.: furet batch "
			"-i DIR queries.tsv (- for stdin)");
		goto done;
	}
	f = strcmp(o.args[0], "-") ? fopen(o.args[0], "r") : stdin;
	if (!f) {
		msg("%s: cannot open: %s", o.args[0], strerror(errno));
		goto done;
	}
	if (!(ix = open_index(o.index, FURET_OPEN_READONLY)))
		goto done;
	furet_search_options_init(&so);
	so.limit = has_limit ? o.limit : 100;
	apply_ranking(&o, &so);
	so.flags = FURET_SEARCH_BEST_PER_DOC | FURET_SEARCH_NO_TEXT;
	if (o.is_exact)
		so.flags |= FURET_SEARCH_EXACT;
	while (getline(&line, &cap, f) >= 0) {
		furet_results *res = NULL;
		char *tab, *q;
		size_t n, k;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		tab = strchr(line, '\t');
		if (!tab) {
			if (*line)
				msg("%s:%zu: no tab between qid and query; skipped",
					o.args[0], lineno);
			continue;
		}
		*tab = '\0';
		q = tab + 1;
		rc = furet_search(ix, q, strlen(q), &so, &res);
		if (rc == FURET_INVALID) {
			msg("%s:%zu: %s; skipped", o.args[0], lineno,
				furet_index_errmsg(ix));
			continue;
		}
		if (rc) {
			msg("%s:%zu: search failed: %s", o.args[0], lineno,
				*furet_index_errmsg(ix) ? furet_index_errmsg(ix) :
				furet_strerror(rc));
			goto done;
		}
		n = furet_results_count(res);
		for (k = 0; k < n; k++) {
			furet_hit h;
			furet_results_get(res, k, &h);
			printf("%s Q0 %s %u %.6f furet\n", line, h.doc, h.rank, h.score);
		}
		furet_results_free(res);
	}
	status = 0;
done:
	free(line);
	if (f && f != stdin)
		fclose(f);
	furet_index_close(ix);
	free(o.args);
	return status;
}

/* ---- furet eval ------------------------------------------------------------------ */

static const char eval_help[] =
	"usage: furet eval [--json] QRELS RUN\n"
	"\n"
	"Scores a TREC run (qid Q0 docid rank score tag) against qrels\n"
	"(qid<TAB>docid<TAB>rel) and prints name<TAB>value lines: MRR@10, nDCG@10,\n"
	"Recall@10, Recall@100, averaged over the queries that have a relevant\n"
	"document (the conventions of the peers benchmark), and the number of\n"
	"those queries.\n"
	"\n"
	"  --json      one object: mrr10, ndcg10, recall10, recall100, queries,\n"
	"              no_results (queries of the qrels without a line in RUN)\n";

static int cmd_eval(int argc, char **argv)
{
	opts o;
	eval_result r;
	char err[512];
	int p, status = EXIT_ERROR;

	if ((p = parse_opts(argc, argv, "j", eval_help, &o)) >= 0)
		return p;
	if (o.n_args != 2) {
		msg("eval needs two files, e.g.: furet eval qrels.tsv run.txt "
			"(see furet eval --help)");
		goto done;
	}
	if (eval_files(o.args[0], o.args[1], &r, err, sizeof err)) {
		msg("%s", err);
		goto done;
	}
	if (o.is_json) {
		if (put_json(json_pack("{s:f,s:f,s:f,s:f,s:I,s:I}", "mrr10", r.mrr10,
			"ndcg10", r.ndcg10, "recall10", r.recall10, "recall100",
			r.recall100, "queries", (json_int_t)r.n_queries, "no_results",
			(json_int_t)r.n_no_results)))
			goto done;
	} else {
		printf("MRR@10\t%.4f\nnDCG@10\t%.4f\nRecall@10\t%.4f\n"
			"Recall@100\t%.4f\nqueries\t%zu\n", r.mrr10, r.ndcg10,
			r.recall10, r.recall100, r.n_queries);
	}
	status = 0;
done:
	free(o.args);
	return status;
}

/* ---- furet analyze ------------------------------------------------------------------ */

static const char analyze_help[] =
	"usage: furet analyze [--explain] [--json] TEXT...\n"
	"\n"
	"Prints the terms furet indexes for TEXT, one per line:\n"
	"term<TAB>position<TAB>start<TAB>end (byte offsets in TEXT; the words\n"
	"of several arguments are joined by spaces). Stop words are marked\n"
	"with a fifth column \"stop\".\n"
	"\n"
	"  --explain   one block per term with each step of the chain: the text,\n"
	"              the elided article, the normalised word, its kind\n"
	"              (compound part or whole, number, acronym), stop word or\n"
	"              not, the stem (the index term) and the accent-free key\n"
	"  --json      one object per term: term, position, start, end, stop\n"
	"              (true or false), word (normalised), fold (accent-free\n"
	"              key), elision (the elided article, or null), kind (a list\n"
	"              of part, whole, number, acronym; empty for a plain word)\n"
	"\n"
	"Exit status: 0 terms printed, 1 no term (only punctuation), 2 error.\n";

static const char *const term_kinds[] = { "part", "whole", "number", "acronym" };

static int print_term_json(const char *text, const furet_term *t)
{
	json_t *kind = json_array();
	unsigned bit;

	for (bit = 0; kind && bit < 4; bit++)
		if ((t->flags & (FURET_TERM_PART << bit)) &&
			json_array_append_new(kind, json_string(term_kinds[bit]))) {
			json_decref(kind);
			kind = NULL;
		}
	return put_json(json_pack("{s:o,s:I,s:I,s:I,s:b,s:o,s:o,s:o,s:o}",
		"term", jstr(t->term, t->term_len), "position", (json_int_t)t->position,
		"start", (json_int_t)t->start, "end", (json_int_t)t->end,
		"stop", t->is_stop, "word", jcstr(t->word), "fold", jcstr(t->fold),
		"elision", t->elision_len ? jstr(text + t->start - t->elision_len,
		t->elision_len) : json_null(), "kind", kind));
}

static void print_explain(const char *text, const furet_term *t)
{
	unsigned bit;
	int is_first = 1;

	printf("%u\t", (unsigned)t->position);
	cli_put_safe(stdout, text + t->start - t->elision_len,
		t->end - t->start + t->elision_len);
	printf("\t[%zu,%zu)\n", t->start, t->end);
	if (t->elision_len) {
		fputs("  elision\t", stdout);
		cli_put_safe(stdout, text + t->start - t->elision_len, t->elision_len);
		fputs("\n", stdout);
	}
	fputs("  normalised\t", stdout);
	cli_put_safe(stdout, t->word, strlen(t->word));
	fputs("\n  kind\t", stdout);
	for (bit = 0; bit < 4; bit++) {
		if (t->flags & (FURET_TERM_PART << bit)) {
			printf("%s%s", is_first ? "" : ",", term_kinds[bit]);
			is_first = 0;
		}
	}
	printf("%s\n  stop word\t%s\n  stem\t", is_first ? "word" : "",
		t->is_stop ? "yes" : "no");
	cli_put_safe(stdout, t->term, t->term_len);
	fputs("\n  folded\t", stdout);
	cli_put_safe(stdout, t->fold, strlen(t->fold));
	fputs("\n", stdout);
}

static int cmd_analyze(int argc, char **argv)
{
	opts o;
	furet_analysis *a = NULL;
	char *text = NULL;
	size_t i, n;
	int p, status = EXIT_ERROR;
	furet_rc rc;

	if ((p = parse_opts(argc, argv, "xj", analyze_help, &o)) >= 0)
		return p;
	if (o.n_args == 0) {
		msg("analyze needs a text, e.g.: furet analyze \"l'école du numérique\"");
		goto done;
	}
	if (!(text = join_args(o.args, o.n_args))) {
		msg("out of memory");
		goto done;
	}
	rc = furet_analyze(text, strlen(text), &a);
	if (rc) {
		msg("cannot analyse the text: %s", rc == FURET_INVALID ?
			"it is not valid UTF-8 (convert it, e.g. with iconv -t UTF-8)" :
			furet_strerror(rc));
		goto done;
	}
	n = furet_analysis_count(a);
	for (i = 0; i < n; i++) {
		furet_term t;
		furet_analysis_get(a, i, &t);
		if (o.is_json) {
			if (print_term_json(text, &t))
				goto done;
			continue;
		}
		if (o.is_explain) {
			print_explain(text, &t);
			continue;
		}
		cli_put_safe(stdout, t.term, t.term_len);
		printf("\t%u\t%zu\t%zu%s\n", (unsigned)t.position, t.start, t.end,
			t.is_stop ? "\tstop" : "");
	}
	status = n ? EXIT_HITS : EXIT_NONE;
done:
	furet_analysis_free(a);
	free(text);
	free(o.args);
	return status;
}

/* ---- furet stats ---------------------------------------------------------------------- */

static const char stats_help[] =
	"usage: furet stats [-i DIR] [--json]\n"
	"\n"
	"Prints the counts of the index: documents, passages, distinct terms,\n"
	"postings, indexed words, stored text bytes, removed passages waiting\n"
	"for compaction, file size, last update, format version and analyzer.\n"
	"\n"
	"  -i DIR      index directory (default $FURET_INDEX, else ./index)\n"
	"  --json      one object: documents, passages, terms, postings, words,\n"
	"              text_bytes, dead_passages, file_bytes, last_update (Unix\n"
	"              time), format, analyzer\n";

static const char check_help[] =
	"usage: furet check [-i DIR] [--json]\n"
	"\n"
	"Reads the whole index and checks it: every posting points to a passage,\n"
	"document frequencies and the collection statistics match the postings,\n"
	"every record decodes. Exit status 0 when it is sound, 2 (with what is\n"
	"wrong) otherwise.\n"
	"\n"
	"  -i DIR      index directory (default $FURET_INDEX, else ./index)\n"
	"  --json      one object: index (the directory), ok (true or false),\n"
	"              problem (what is wrong, or null)\n";

static const char compact_help[] =
	"usage: furet compact [-i DIR] [--json]\n"
	"\n"
	"Rewrites the index compactly: drops the postings of removed passages,\n"
	"rewrites every table densely beside the index (DIR.compact) and swaps\n"
	"the two directories in one step.\n"
	"Prints the size before and after. A search in progress finishes on the\n"
	"old copy; programs that have the index open read the new one from their\n"
	"next search on.\n"
	"\n"
	"  -i DIR      index directory (default $FURET_INDEX, else ./index)\n"
	"  --json      one object: index, bytes_before, bytes_after\n";

static int cmd_check(int argc, char **argv)
{
	opts o;
	furet_index *ix = NULL;
	const char *problem = NULL;
	int p, status = EXIT_ERROR;
	furet_rc rc;

	if ((p = parse_opts(argc, argv, "ij", check_help, &o)) >= 0)
		return p;
	if (o.n_args) {
		msg("check takes no argument (use -i DIR)");
		goto done;
	}
	/* A file that does not even open as a furet index is a finding of the
	** check too; a missing index is only an error. */
	rc = furet_index_open(o.index, FURET_OPEN_READONLY, &ix);
	if (rc == FURET_CORRUPT || rc == FURET_VERSION)
		problem = furet_last_errmsg();
	else if (rc == FURET_OK && (rc = furet_index_check(ix)) != FURET_OK)
		problem = furet_index_errmsg(ix);
	if (problem && !*problem)
		problem = furet_strerror(rc);
	if (rc && !problem) {
		const char *d = *furet_last_errmsg() ? furet_last_errmsg() :
			furet_strerror(rc);
		msg("%s%s", d, next_step(rc, d));
		goto done;
	}
	if (problem)
		msg("%s: %s%s", o.index, problem, ix && !strstr(problem, ": furet ") ?
			"; rebuild it with: furet index --rebuild -i DIR PATH..." :
			next_step(rc, problem));
	if (o.is_json) {
		if (put_json(json_pack("{s:o,s:b,s:o}", "index", jcstr(o.index),
			"ok", !problem, "problem", jcstr(problem))))
			goto done;
	} else if (!problem) {
		printf("%s: ok\n", o.index);
	}
	status = problem ? EXIT_ERROR : 0;
done:
	furet_index_close(ix);
	free(o.args);
	return status;
}

static int cmd_compact(int argc, char **argv)
{
	opts o;
	furet_index *ix = NULL;
	uint64_t before, after;
	int p, status = EXIT_ERROR;
	furet_rc rc;

	if ((p = parse_opts(argc, argv, "ij", compact_help, &o)) >= 0)
		return p;
	if (o.n_args) {
		msg("compact takes no argument (use -i DIR)");
		goto done;
	}
	if (!(ix = open_index(o.index, 0)))
		goto done;
	rc = furet_index_compact(ix, &before, &after);
	if (rc) {
		const char *d = furet_index_errmsg(ix);
		msg("compaction failed: %s; the index was left as it was",
			*d ? d : furet_strerror(rc));
		goto done;
	}
	if (o.is_json) {
		if (put_json(json_pack("{s:o,s:I,s:I}", "index", jcstr(o.index),
			"bytes_before", (json_int_t)before, "bytes_after",
			(json_int_t)after)))
			goto done;
	} else {
		printf("%s: %llu bytes before, %llu bytes after\n", o.index,
			(unsigned long long)before, (unsigned long long)after);
	}
	status = 0;
done:
	furet_index_close(ix);
	free(o.args);
	return status;
}

static int cmd_stats(int argc, char **argv)
{
	opts o;
	furet_index *ix = NULL;
	furet_stats s;
	int p, status = EXIT_ERROR;
	furet_rc rc;

	if ((p = parse_opts(argc, argv, "ij", stats_help, &o)) >= 0)
		return p;
	if (o.n_args) {
		msg("stats takes no argument (use -i DIR)");
		goto done;
	}
	if (!(ix = open_index(o.index, FURET_OPEN_READONLY)))
		goto done;
	if ((rc = furet_index_stats(ix, &s)) != FURET_OK) {
		const char *d = furet_index_errmsg(ix);
		if (!*d)
			d = furet_strerror(rc);
		msg("%s: %s%s", o.index, d, next_step(rc, d));
		goto done;
	}
	if (o.is_json) {
		if (put_json(json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
			"s:o}", "documents", (json_int_t)s.n_docs,
			"passages", (json_int_t)s.n_passages,
			"terms", (json_int_t)s.n_terms,
			"postings", (json_int_t)s.n_postings,
			"words", (json_int_t)s.total_length,
			"text_bytes", (json_int_t)s.text_bytes,
			"dead_passages", (json_int_t)s.n_dead,
			"file_bytes", (json_int_t)s.file_bytes,
			"last_update", (json_int_t)s.last_update,
			"format", (json_int_t)s.format_version,
			"analyzer", jcstr(s.analyzer))))
			goto done;
	} else {
		char when[64] = "never";
		time_t tt = (time_t)s.last_update;
		struct tm tmv;
		if (s.last_update && gmtime_r(&tt, &tmv))
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tmv);
		printf("documents\t%llu\npassages\t%llu\nterms\t%llu\npostings\t%llu\n"
			"words\t%llu\ntext bytes\t%llu\ndead passages\t%llu\n"
			"file bytes\t%llu\nlast update\t%s\nformat\t%u\nanalyzer\t%s\n",
			(unsigned long long)s.n_docs, (unsigned long long)s.n_passages,
			(unsigned long long)s.n_terms, (unsigned long long)s.n_postings,
			(unsigned long long)s.total_length,
			(unsigned long long)s.text_bytes, (unsigned long long)s.n_dead,
			(unsigned long long)s.file_bytes, when,
			(unsigned)s.format_version, s.analyzer);
		if (s.n_dead)
			printf("advice\t%llu removed passages still take room: furet "
				"compact reclaims it\n", (unsigned long long)s.n_dead);
	}
	status = 0;
done:
	furet_index_close(ix);
	free(o.args);
	return status;
}

/* LMDB reads the index through a memory map and trusts the page numbers
** it finds: a damaged file can make it touch memory past the end of the
** file. The library checks the meta pages on every open and walks every
** page of an index up to 64 MiB first (store.c); for a larger one damaged
** past what that sees, rather than die with a bus error, say what happened.
** (Not under AddressSanitizer, whose own handler reports our bugs.) */
#if !defined(__SANITIZE_ADDRESS__)
static void on_fault(int sig)
{
	static const char text[] = "furet: the index file is damaged (a read "
		"went outside it); rebuild it with: furet index --rebuild\n";
	ssize_t n = write(STDERR_FILENO, text, sizeof text - 1);
	(void)n;
	(void)sig;
	_exit(EXIT_ERROR);
}
#endif

static void catch_faults(void)
{
#if !defined(__SANITIZE_ADDRESS__)
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
#endif
}

int main(int argc, char **argv)
{
	const char *cmd;

	catch_faults();
#ifdef __GLIBC__
	/* A fixed threshold: blocks of 1 MiB or more get their own mapping,
	** given back when freed. glibc's own rises with the largest block
	** freed, to 32 MiB, and the writer's arrays that double below it
	** freed into the heap stayed resident: a rebuild of 848 MB at
	** --memory 128M peaked at 126-146 MiB, 106-109 MiB with this, and
	** no slower at the default budget (see furet.h, memory). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif

	if (argc < 2) {
		fputs(short_usage, stderr);
		return EXIT_ERROR;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help"))
		return fputs(usage_text, stdout) < 0 ? EXIT_ERROR : 0;
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("furet %s (analyzer %s)\n", furet_version(),
			furet_analyzer_name());
		return 0;
	}
	if (!strcmp(cmd, "search"))
		return cmd_search(argc - 1, argv + 1);
	if (!strcmp(cmd, "index"))
		return cmd_index(argc - 1, argv + 1);
	if (!strcmp(cmd, "batch"))
		return cmd_batch(argc - 1, argv + 1);
	if (!strcmp(cmd, "eval"))
		return cmd_eval(argc - 1, argv + 1);
	if (!strcmp(cmd, "analyze"))
		return cmd_analyze(argc - 1, argv + 1);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "compact"))
		return cmd_compact(argc - 1, argv + 1);
	msg("unknown command '%s' (commands: index, search, batch, eval, "
		"analyze, stats, check, compact; see furet --help)", cmd);
	return EXIT_ERROR;
}
