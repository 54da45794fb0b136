/*
 * log: the one logging API. Under journald (JOURNAL_STREAM names our stderr)
 * lines go to the journal natively (core/sdproto) with structured fields; otherwise to
 * stderr as "2026-12-06T14:05:09.123Z info message FIELD=value ..." (UTC,
 * RFC 3339 with milliseconds, then the level word) for a terminal or a file.
 * Who logs: main, runtime/, router/dispatch, stages/. Lower layers return an
 * errctx instead and never log above debug.
 * Thread:  any; each call writes one line atomically (or, batched, at
 *          log_batch_end: see there).
 * Memory:  nothing retained; strings are copied or written immediately.
 * Safety:  every message and field is escaped on both paths (control and C1
 *          characters, invalid UTF-8, line separators; blanks in fields), so
 *          no text a message carried can forge a line or a field; a struct
 *          secret cannot be formatted (there is no conversion for it).
 */
#ifndef ALCHEMISER_CORE_LOG_H
#define ALCHEMISER_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>	/* LOG_ERR ... LOG_DEBUG */

/* Structured fields about one message; any member may be NULL / negative. */
struct log_fields {
	const char	*message_id;	/* catalogue id of the log event (journalctl MESSAGE_ID=) */
	const char	*event_id;
	const char	*correlation_id;
	const char	*detail_type;
	const char	*source;
	const char	*handler;
	const char	*outcome;
	const char	*sqs_message_id;
	int64_t		 duration_ms;	/* < 0 = absent */
};

enum log_target {
	LOG_TARGET_AUTO,	/* journald if stderr is the journal, else stderr */
	LOG_TARGET_STDERR,
	LOG_TARGET_JOURNAL,
	_LOG_TARGET_MAX
};

void	log_open(enum log_target target);
void	log_set_max_level(int level);		/* LOG_ERR..LOG_DEBUG */
int	log_get_max_level(void);
/* "error", "warning", "notice", "info", "debug" -> LOG_*; -EINVAL otherwise. */
int	log_level_from_string(const char *s);

void	log_full(int level, const struct log_fields *f, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* As log_full with the message the concatenation of parts[0..n) (NULL
 * parts are skipped), no format: for the line of every message (issue #13). */
void	log_parts(int level, const struct log_fields *f, const char *const *parts, size_t n);
/* As log_full, returns err (a negative errno) so callers can "return log_..." */
int	log_full_errno(int level, int err, const struct log_fields *f, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#define log_error(...)   log_full(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)   log_full(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_error_errno(r, ...) log_full_errno(LOG_ERR, (r), NULL, __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_WARNING, (r), NULL, __VA_ARGS__)

/* Batching (issue #13): between log_batch_begin and log_batch_end, the
 * stderr lines of the calling thread are kept in a buffer of PIPE_BUF bytes
 * and written together, each line whole and in order (a line that does not
 * fit writes the buffer out first), so one write(2) carries a batch of
 * outcome lines and a pipe still never interleaves another thread's line
 * into one. The journald path stays one journal datagram per line. Lines
 * at LOG_ERR or worse are written at once (with what the buffer holds
 * before them). Not nested; log_batch_end writes what is left. A kill -9
 * between a line and log_batch_end loses that batch's lines. */
void	log_batch_begin(void);
void	log_batch_end(void);

/* Copy untrusted text into buf (size bytes) with control characters and
 * non-UTF-8 bytes escaped (\n, \x1b) and truncated with "..." if longer. */
char	*log_escape(const char *in, size_t in_len, char *buf, size_t size);

/* Message ids (journalctl MESSAGE_ID=...) of the key log events. */
#define LOG_MID_RECEIVED  "6a0c1e3f2b7d4c58a1f0e9d8c7b6a501"
#define LOG_MID_OUTCOME   "6a0c1e3f2b7d4c58a1f0e9d8c7b6a502"
#define LOG_MID_PUBLISHED "6a0c1e3f2b7d4c58a1f0e9d8c7b6a503"
#define LOG_MID_PARKED    "6a0c1e3f2b7d4c58a1f0e9d8c7b6a504"
#define LOG_MID_RELOAD    "6a0c1e3f2b7d4c58a1f0e9d8c7b6a505"
#define LOG_MID_STARTED   "6a0c1e3f2b7d4c58a1f0e9d8c7b6a506"
#define LOG_MID_STOPPED   "6a0c1e3f2b7d4c58a1f0e9d8c7b6a507"

#endif
