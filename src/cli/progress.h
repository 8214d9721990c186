/*
** progress.h — the progress line of furet index on a terminal.
**
** One line on stderr, redrawn in place with a carriage return:
**
**     indexing  42% [#######.........]  1234 docs  310 docs/s  2.1 MB/s  ETA 0:07
**
** It appears only once the run has lasted a second (a short run prints
** nothing), is redrawn at most ten times a second, fits the terminal's
** width, and is erased before any other message (progress_interrupt) and
** before the summary.
** Percent and ETA need the total size of the input (ingest_measure); without
** it the line shows the counts and rates only. The caller decides whether
** there is a terminal and no -q: a progress that is not enabled does
** nothing. No escape sequence is written, only '\r' and spaces, so it works
** on any terminal.
**
** Uses libc/POSIX only.
*/
#ifndef FURET_CLI_PROGRESS_H
#define FURET_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct progress {
	int is_enabled;
	int is_shown;         /* a line is on the screen */
	double t0;            /* start, monotonic seconds */
	double t_drawn;       /* last redraw */
	uint64_t total_bytes; /* 0: unknown */
	size_t width;         /* characters of the line on screen */
} progress;

/* Starts the clock. total_bytes may be 0 (unknown). */
void progress_start(progress *p, int is_enabled, uint64_t total_bytes);

/* The run has read n_bytes and handed n_docs documents to the index;
** redraws when it is time. */
void progress_update(progress *p, uint64_t n_docs, uint64_t n_bytes);

/* Replaces the counts with a phase ("writing the index"), drawn at once
** when a line is already shown or the run has lasted a second. */
void progress_phase(progress *p, const char *what);

/* Erases the line, so that the next message starts on a clean line. */
void progress_clear(progress *p);

/* Erases whatever progress line is on the screen; every message to stderr
** calls it first. The line comes back at the next update. */
void progress_interrupt(void);

#endif
