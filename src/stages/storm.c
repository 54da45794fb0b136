/*
 * storm: the error-mail storm guard (see stages/storm.h for the rules).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/stages/storm.h"

#define USEC_PER_MINUTE		(60 * INT64_C(1000000))
/* Runs remembered as mailed (oldest forgotten first): far more than fail in
 * the dedup window of a sane deployment. */
#define STORM_MAILED_MAX	1024
/* Suppressed runs listed by name in one summary; the rest are counted. */
#define STORM_LISTED_MAX	200

struct storm_guard {
	pthread_mutex_t	 lock;
	int64_t		 minute;		/* current window (epoch minutes) */
	int64_t		 count;			/* distinct runs mailed in it */
	char		*mailed[STORM_MAILED_MAX];	/* ring of runs mailed or summarised */
	bool		 summarised[STORM_MAILED_MAX];
	size_t		 mailed_next;
	/* The suppressed runs of one window, waiting for its summary. */
	int64_t		 sup_minute;
	char		*bearer;		/* run whose handler sends the summary */
	char		*lines[STORM_LISTED_MAX];
	size_t		 n_lines, n_suppressed;
};

struct storm_guard *
storm_guard_new(void)
{
	struct storm_guard *g = xcalloc(1, sizeof *g);

	pthread_mutex_init(&g->lock, NULL);
	g->minute = -1;
	g->sup_minute = -1;
	return g;
}

/* 0 not reported yet, 1 mailed on its own, 2 listed in a summary. */
static int
was_mailed_locked(const struct storm_guard *g, const char *run)
{
	size_t i;

	for (i = 0; i < STORM_MAILED_MAX; i++)
		if (g->mailed[i] != NULL && strcmp(g->mailed[i], run) == 0)
			return g->summarised[i] ? 2 : 1;
	return 0;
}

static void
remember_mailed_locked(struct storm_guard *g, const char *run, size_t len, bool summarised)
{
	free(g->mailed[g->mailed_next]);
	g->mailed[g->mailed_next] = xstrndup(run, len);
	g->summarised[g->mailed_next] = summarised;
	g->mailed_next = (g->mailed_next + 1) % STORM_MAILED_MAX;
}

static bool
is_listed_locked(const struct storm_guard *g, const char *run)
{
	size_t i, len = strlen(run);

	/* Lines start with the run and a space. */
	for (i = 0; i < g->n_lines; i++)
		if (strncmp(g->lines[i], run, len) == 0 && g->lines[i][len] == ' ')
			return true;
	return false;
}

static void
clear_suppressed_locked(struct storm_guard *g)
{
	size_t i;

	for (i = 0; i < g->n_lines; i++)
		free(g->lines[i]);
	g->n_lines = g->n_suppressed = 0;
	free(g->bearer);
	g->bearer = NULL;
	g->sup_minute = -1;
}

enum storm_verdict
storm_guard_run(struct storm_guard *g, const char *run, const char *line, int64_t now_usec,
    int64_t limit_per_minute, int64_t *wait_usec, int64_t *sup_minute)
{
	int64_t minute = now_usec / USEC_PER_MINUTE;
	enum storm_verdict v;
	int mailed;

	pthread_mutex_lock(&g->lock);
	if (minute != g->minute) {
		g->minute = minute;
		g->count = 0;
	}
	if (g->bearer != NULL && strcmp(g->bearer, run) == 0) {
		/* The bearer is back: its minute over, the summary is due. */
		if (minute > g->sup_minute)
			v = STORM_SUMMARY_DUE;
		else {
			*wait_usec = (g->sup_minute + 1) * USEC_PER_MINUTE - now_usec;
			v = STORM_BEARER;
		}
	} else if ((mailed = was_mailed_locked(g, run)) != 0)
		v = mailed == 1 ? STORM_REPEAT : STORM_LISTED;
	else if (g->count < limit_per_minute) {
		g->count++;
		remember_mailed_locked(g, run, strlen(run), false);
		v = STORM_SEND;
	} else if (g->bearer != NULL && is_listed_locked(g, run))
		v = STORM_SUPPRESSED;	/* another failure of a run already listed */
	else {
		if (g->bearer == NULL) {
			/* A new storm: this run carries its summary, sent once its
			 * minute is over; later suppressions join it until then. */
			clear_suppressed_locked(g);
			g->sup_minute = minute;
			g->bearer = xstrdup(run);
			*wait_usec = (minute + 1) * USEC_PER_MINUTE - now_usec;
			v = STORM_BEARER;
		} else
			v = STORM_SUPPRESSED;
		if (g->n_lines < STORM_LISTED_MAX)
			g->lines[g->n_lines++] = xasprintf("%s %s", run, line);
		g->n_suppressed++;
	}
	if (v == STORM_SUPPRESSED || v == STORM_BEARER || v == STORM_SUMMARY_DUE)
		*sup_minute = g->sup_minute;
	pthread_mutex_unlock(&g->lock);
	return v;
}

char *
storm_guard_take_summary(struct storm_guard *g, const char *run, size_t *n_runs, int64_t *minute)
{
	char *out = NULL;
	size_t i, len = 1;

	pthread_mutex_lock(&g->lock);
	if (g->bearer != NULL && strcmp(g->bearer, run) == 0 && g->n_suppressed > 0) {
		for (i = 0; i < g->n_lines; i++)
			len += strlen(g->lines[i]) + 1;
		out = xmalloc(len);
		out[0] = '\0';
		for (i = 0; i < g->n_lines; i++) {
			strcat(out, g->lines[i]);
			strcat(out, "\n");
			/* Reported now: a later failure of the run sends nothing more. */
			remember_mailed_locked(g, g->lines[i], strcspn(g->lines[i], " "), true);
		}
		*n_runs = g->n_suppressed;
		*minute = g->sup_minute;
		clear_suppressed_locked(g);
	}
	pthread_mutex_unlock(&g->lock);
	return out;
}

void
storm_guard_free(struct storm_guard *g)
{
	size_t i;

	if (g == NULL)
		return;
	clear_suppressed_locked(g);
	for (i = 0; i < STORM_MAILED_MAX; i++)
		free(g->mailed[i]);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
