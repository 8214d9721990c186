/*
** ingest.h — turning files and directories into furet_doc values.
**
** The CLI's reader of corpora: it walks a path (a file, or a directory
** recursively in sorted order), reads .txt, .md and .jsonl files, repairs or
** skips what cannot be indexed, and hands every document to a callback. It
** knows nothing of the index: the callback decides what to do with each
** document (furet_writer_add, printing, counting).
**
** Rules, in the order they apply while walking a directory: names starting
** with "." are skipped; README, README.md and README.txt (any case) are
** skipped, since they document a corpus (naming one explicitly indexes it);
** files with another extension than .txt, .md, .jsonl (any case) are ignored
** silently (named explicitly, they are an error). Symbolic links are
** followed; a directory already on the current path (a loop) is skipped with
** a message.
**
** Document ids: for .txt and .md, the path as given joined with the path
** inside the walked directories ("corpus" + "a/x.txt" -> "corpus/a/x.txt");
** for .jsonl, the "id" of each line. Titles: the file name without directory
** and extension for .txt; for .md, none when the text has a level-1 "# "
** heading (the library takes it), else the file name likewise; for .jsonl,
** "title" when it is a string.
**
** Metadata (furet_doc.meta): for .jsonl, the "meta" member of any JSON
** type but null, as compact JSON text (ingest_json_text); a line whose
** "meta" is over FURET_META_MAX bytes so written is skipped.
**
** Messages go to stderr, one line each:
**     furet: PATH[:LINE]: what happened; what furet did
**
** Uses include/furet.h, libc/POSIX and jansson only (not the library's
** internals); allocates with plain malloc.
*/
#ifndef FURET_CLI_INGEST_H
#define FURET_CLI_INGEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "furet.h"

typedef struct ingest_stats {
	size_t n_files;    /* files read (including skipped binary/empty ones) */
	size_t n_docs;     /* documents handed to the callback */
	size_t n_skipped;  /* files or .jsonl lines not indexed */
	size_t n_errors;   /* of those, the ones that are errors (not "empty") */
	size_t n_warnings; /* indexed anyway: invalid UTF-8 replaced, bad title */
	uint64_t n_bytes;  /* bytes read so far, counted before the documents
	                      they hold reach the callback (for progress) */
} ingest_stats;

/* Called once per document; return 0 to go on, non-zero to stop the whole
** walk (fatal: ingest_path then returns -1 without a message of its own, so
** the callback says why). doc and its strings are borrowed until the callback
** returns. path is the file the document comes from; line is its line number
** (from 1) in a .jsonl file, 0 otherwise. */
typedef int (*ingest_fn)(void *ctx, const furet_doc *doc, const char *path,
	size_t line);

/* Walks path (file or directory) and calls fn for each document. The counts
** are added to *st (zero it before the first call; several calls accumulate;
** st may be NULL). Returns 0 when the walk went through, even if some files
** were skipped (counted in st), and -1 on a fatal error: path missing or
** unreadable as named, out of memory, or fn returned non-zero. */
int ingest_path(const char *path, ingest_fn fn, void *ctx, ingest_stats *st);

/* Walks path as ingest_path would, without reading any file or saying
** anything, and adds to *n_files and *n_bytes the number and size of the
** files ingest_path would read: the total of a progress bar. Cheap (one
** stat per entry). Returns 0, or -1 when path cannot be walked. */
int ingest_measure(const char *path, uint64_t *n_files, uint64_t *n_bytes);

/* v as compact JSON text (no space, no newline) whose numbers read back as
** the same values with as few digits as that takes: 15 significant digits,
** or 16 or 17 for all of them when one needs more (jansson's default, 17,
** writes 0.1 as 0.10000000000000001). How "meta" is stored, and how furet search --json
** writes it back. malloc'd, NUL terminated; NULL when out of memory. */
char *ingest_json_text(const json_t *v);

#endif
