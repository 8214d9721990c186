/*
** progress.c — the progress line of furet index; see progress.h.
**
** Rates are averages over the whole run (documents and bytes divided by the
** time since the start), so the ETA does not jump with each file; the ETA
** is the bytes left at that rate. The line is built whole in a buffer and
** written with one call, so a terminal never shows half of it. The line on
** screen is remembered (one at a time: the command is single-threaded) so
** that any message can erase it first (progress_interrupt).
*/
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SHOW_AFTER 1.0   /* seconds before the line appears */
#define REDRAW_EVERY 0.1 /* seconds between redraws */
#define BAR_MAX 24       /* characters of the bar, brackets excluded */

static progress *on_screen;

/* SHOW_AFTER, or what FURET_TEST_PROGRESS_AFTER says (tests: a line that
** shows at once whatever the machine's speed). */
static double show_after(void)
{
	const char *e = getenv("FURET_TEST_PROGRESS_AFTER");
	return e && *e ? atof(e) : SHOW_AFTER;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The terminal's width, or 80 when it does not say. */
static size_t columns(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* Draws text over the current line, padding with spaces where the previous
** line was longer; never wider than the terminal minus one column (a full
** line would wrap and break the carriage return). */
static void draw(progress *p, const char *text)
{
	char line[512];
	size_t len = strlen(text), cols = columns() - 1, at = 0;

	if (cols > sizeof line - 2)
		cols = sizeof line - 2;
	if (len > cols)
		len = cols;
	line[at++] = '\r';
	memcpy(line + at, text, len);
	at += len;
	while (at - 1 < p->width && at < sizeof line)
		line[at++] = ' ';
	fwrite(line, 1, at, stderr);
	fflush(stderr);
	p->width = len;
	p->is_shown = 1;
	p->t_drawn = now();
	on_screen = p;
}

void progress_start(progress *p, int is_enabled, uint64_t total_bytes)
{
	memset(p, 0, sizeof *p);
	p->is_enabled = is_enabled;
	p->total_bytes = total_bytes;
	p->t0 = now();
}

static void format_eta(char *buf, size_t cap, double s)
{
	unsigned long t = (unsigned long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, cap, "%lu:%02lu", t / 60, t % 60);
}

void progress_update(progress *p, uint64_t n_docs, uint64_t n_bytes)
{
	char text[400], eta[32], bar[BAR_MAX + 1];
	double t, elapsed, doc_rate, byte_rate;
	size_t cols, room, n_bar, k;
	int len;

	if (!p->is_enabled)
		return;
	t = now();
	elapsed = t - p->t0;
	if (elapsed < show_after() || t - p->t_drawn < REDRAW_EVERY)
		return;
	doc_rate = (double)n_docs / elapsed;
	byte_rate = (double)n_bytes / elapsed;
	if (!p->total_bytes) {
		snprintf(text, sizeof text, "indexing  %llu docs  %.0f docs/s  "
			"%.1f MB/s", (unsigned long long)n_docs, doc_rate, byte_rate / 1e6);
		draw(p, text);
		return;
	}
	if (n_bytes > p->total_bytes)
		n_bytes = p->total_bytes; /* the files grew since they were measured */
	if (byte_rate > 0)
		format_eta(eta, sizeof eta, (double)(p->total_bytes - n_bytes) /
			byte_rate);
	else
		snprintf(eta, sizeof eta, "?");
	/* The bar takes the room the figures leave. */
	len = snprintf(text, sizeof text, "indexing 100%% []  %llu docs  %.0f "
		"docs/s  %.1f MB/s  ETA %s", (unsigned long long)n_docs, doc_rate,
		byte_rate / 1e6, eta);
	cols = columns() - 1;
	room = len > 0 && (size_t)len < cols ? cols - (size_t)len : 0;
	n_bar = room > BAR_MAX ? BAR_MAX : room;
	k = (size_t)((double)n_bar * (double)n_bytes / (double)p->total_bytes);
	memset(bar, '#', k);
	memset(bar + k, '.', n_bar - k);
	bar[n_bar] = '\0';
	snprintf(text, sizeof text, "indexing %3u%% %s%s%s  %llu docs  %.0f "
		"docs/s  %.1f MB/s  ETA %s",
		(unsigned)(100.0 * (double)n_bytes / (double)p->total_bytes),
		n_bar >= 5 ? "[" : "", n_bar >= 5 ? bar : "", n_bar >= 5 ? "]" : "",
		(unsigned long long)n_docs, doc_rate, byte_rate / 1e6, eta);
	draw(p, text);
}

void progress_phase(progress *p, const char *what)
{
	if (p->is_enabled && (p->is_shown || now() - p->t0 >= show_after()))
		draw(p, what);
}

void progress_clear(progress *p)
{
	char line[512];
	size_t n = p->width + 2 < sizeof line ? p->width + 2 : sizeof line;

	if (!p->is_shown)
		return;
	memset(line, ' ', n);
	line[0] = '\r';
	line[n - 1] = '\r';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
	p->is_shown = 0;
	p->width = 0;
	on_screen = NULL;
}

void progress_interrupt(void)
{
	if (on_screen)
		progress_clear(on_screen);
}
