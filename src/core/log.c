#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "alchemiser/core/log.h"
#include "alchemiser/core/sdproto.h"
#include "alchemiser/core/fixbuf.h"

#define LOG_LINE_MAX 4096
#define LOG_MAX_FIELDS 16

static int log_max_level = LOG_INFO;
static enum log_target log_target = LOG_TARGET_STDERR;

/* The calling thread's batch (log_batch_begin): PIPE_BUF bytes, so one
 * write of it is atomic on a pipe too. */
static __thread bool batch_on;
static __thread size_t batch_len;
static __thread char batch_buf[PIPE_BUF];
/* The second line_prefix formatted last (gmtime_r and strftime once a
 * second, not once a line). */
static __thread time_t prefix_sec = -1;
static __thread char prefix_when[32];

static int stderr_is_journal(void);
static size_t line_prefix(int level, char *buf, size_t size);
static size_t utf8_seq_len(const unsigned char *s, size_t n);
static size_t escape_text(const char *in, char *buf, size_t size, bool field);
static void log_emit(int level, const struct log_fields *f, const char *fmt, va_list ap);

/* Why: systemd sets JOURNAL_STREAM to "dev:ino" of the stream it connected;
 * if stderr is that stream, native journal fields beat parsed text. */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_open(enum log_target target)
{
	if (target == LOG_TARGET_AUTO)
		target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	log_target = target;
}

void
log_set_max_level(int level)
{
	log_max_level = level;
}

int
log_get_max_level(void)
{
	return log_max_level;
}

int
log_level_from_string(const char *s)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcmp(s, levels[i].name) == 0)
			return levels[i].level;
	return -EINVAL;
}

/* Why a timestamp and a word, not "<6>": on a terminal or in a file nothing
 * reads the priority prefix, and a reader wants to know when and how bad.
 * UTC with milliseconds, so lines of several daemons sort together. */
static size_t
line_prefix(int level, char *buf, size_t size)
{
	static const char *const words[] = {
		[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "error",
		[LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info",
		[LOG_DEBUG] = "debug",
	};
	const char *word = level >= LOG_EMERG && level <= LOG_DEBUG ? words[level] : "info";
	size_t wl = strlen(word), ml;
	struct timespec ts;
	struct tm tm;
	long ms;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != prefix_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		if (strftime(prefix_when, sizeof prefix_when, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			prefix_when[0] = '\0';
		prefix_sec = ts.tv_sec;
	}
	ml = strlen(prefix_when);
	/* "<when>.mmmZ <word> ", as snprintf would write it, without its parsing. */
	if (ml + 6 + wl + 1 >= size) {
		n = snprintf(buf, size, "%s.%03ldZ %s ", prefix_when, ts.tv_nsec / 1000000L, word);
		return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
	}
	ms = ts.tv_nsec / 1000000L;
	memcpy(buf, prefix_when, ml);
	buf[ml] = '.';
	buf[ml + 1] = (char)('0' + ms / 100);
	buf[ml + 2] = (char)('0' + ms / 10 % 10);
	buf[ml + 3] = (char)('0' + ms % 10);
	buf[ml + 4] = 'Z';
	buf[ml + 5] = ' ';
	memcpy(buf + ml + 6, word, wl);
	buf[ml + 6 + wl] = ' ';
	buf[ml + 7 + wl] = '\0';
	return ml + 7 + wl;
}

static void
batch_flush(void)
{
	if (batch_len > 0)
		(void)!write(STDERR_FILENO, batch_buf, batch_len);
	batch_len = 0;
}

void
log_batch_begin(void)
{
	batch_on = true;
}

void
log_batch_end(void)
{
	int saved_errno = errno;

	batch_flush();
	batch_on = false;
	errno = saved_errno;
}

struct field_ref {
	const char	*key;
	const char	*value;
};

static size_t
collect_fields(const struct log_fields *f, struct field_ref *out, char *dur, size_t dursz,
    bool journal)
{
	size_t n = 0;

	if (f == NULL)
		return 0;
#define ADD(k, v) do { if ((v) != NULL && *(v) != '\0') { out[n].key = (k); out[n].value = (v); n++; } } while (0)
	ADD("CORRELATION_ID", f->correlation_id);
	ADD("EVENT_ID", f->event_id);
	ADD("DETAIL_TYPE", f->detail_type);
	ADD("SOURCE", f->source);
	ADD("HANDLER", f->handler);
	ADD("OUTCOME", f->outcome);
	ADD("SQS_MESSAGE_ID", f->sqs_message_id);
	if (f->duration_ms >= 0) {
		struct fixbuf tb;

		/* Not snprintf: it was an eighth of every outcome line. */
		fixbuf_init(&tb, dur, dursz);
		fixbuf_i64(&tb, f->duration_ms);
		ADD("DURATION_MS", dur);
	}
#undef ADD
	/* MESSAGE_ID is for journalctl matching; it only clutters a terminal. */
	if (journal && f->message_id != NULL) {
		out[n].key = "MESSAGE_ID";
		out[n].value = f->message_id;
		n++;
	}
	return n;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not text. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls (an 8-bit CSI is an escape sequence too), the line and
	 * paragraph separators and the bidirectional overrides can forge or
	 * disguise a line in a terminal or a log viewer: escaped like controls. */
	if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

/* The end of the run of bytes in [lo, 0x7e] from i (n bytes in all): eight
 * at a time while it lasts (each byte's top bit set, in the two tests, by a
 * byte below lo or above 0x7e; lo <= 0x80), then one at a time. */
static size_t
plain_run(const unsigned char *p, size_t i, size_t n, unsigned char lo)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), tops = ones * 0x80;
	uint64_t w;

	while (n - i >= 8) {
		memcpy(&w, p + i, 8);
		if ((((w - ones * lo) & ~w) | ((w + ones * (0x7f - 0x7e)) | w)) & tops)
			break;
		i += 8;
	}
	while (i < n && p[i] >= lo && p[i] < 0x7f)
		i++;
	return i;
}

/* Copy in to buf with every control character, invalid UTF-8 byte and the
 * characters above escaped (\n, \t, \x1b), so no text from a message body,
 * an id or an error can start a line of its own or send a terminal escape
 * code. In a field (stderr "KEY=value") a blank is escaped too (\x20): a
 * value cannot pose as another field. Valid UTF-8 text stays readable. Cut
 * with "..." at a character boundary when buf is full. Returns the length
 * written (without the NUL). */
static size_t
escape_text(const char *in, char *buf, size_t size, bool field)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), i = 0, o = 0;
	unsigned char lo = field ? 0x21 : 0x20;	/* a field's value escapes spaces */

	while (i < n) {
		char tmp[8];
		size_t tn, k, run = i;

		/* Why a fast path: the outcome line of every message goes through
		 * here (issue #13); plain printable ASCII is copied as a run. */
		run = plain_run(p, i, n, lo);
		if (run > i) {
			tn = run - i;
			if (o + tn + 4 > size)
				tn = size > o + 4 ? size - o - 4 : 0;
			memcpy(buf + o, p + i, tn);
			o += tn;
			i += tn;
			if (i < run) {
				memcpy(buf + o, "...", 3);
				o += 3;
				break;
			}
			continue;
		}
		k = utf8_seq_len(p + i, n - i);

		if (p[i] == '\n' || p[i] == '\t' || p[i] == '\r') {
			tmp[0] = '\\';
			tmp[1] = p[i] == '\n' ? 'n' : p[i] == '\t' ? 't' : 'r';
			tn = 2;
			k = 1;
		} else if (k == 0 || p[i] < 0x20 || p[i] == 0x7f || (field && p[i] == ' ')) {
			/* One byte at a time: a bad sequence shows as its bytes. */
			tmp[0] = '\\'; tmp[1] = 'x'; tmp[2] = hex[p[i] >> 4]; tmp[3] = hex[p[i] & 15];
			tn = 4;
			k = 1;
		} else {
			memcpy(tmp, p + i, k);
			tn = k;
		}
		if (o + tn + 4 > size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, tn);
		o += tn;
		i += k;
	}
	buf[o] = '\0';
	return o;
}

/* Append s at buf + len, cut to what fits with its NUL; the new length. */
static size_t
append(char *buf, size_t len, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (len >= size - 1)
		return len;
	if (n > size - 1 - len)
		n = size - 1 - len;
	memcpy(buf + len, s, n);
	buf[len + n] = '\0';
	return len + n;
}

/* Append in escaped (escape_text, cut at cap) at buf + len, cut to what
 * fits as append would; the new length. Escaped in place when cap fits:
 * the outcome line of every message comes through here (issue #13). */
static size_t
append_escaped(char *buf, size_t len, size_t size, const char *in, size_t cap, bool field)
{
	char tmp[LOG_LINE_MAX];

	if (cap > sizeof tmp)
		cap = sizeof tmp;
	if (size - len >= cap)
		return len + escape_text(in, buf + len, cap, field);
	(void)escape_text(in, tmp, cap, field);
	return append(buf, len, size, tmp);
}

/* The native journal: one field a buffer; false if the socket is gone. */
static bool
emit_journal(int level, const struct field_ref *fields, size_t nf, const char *raw)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 1024], vbuf[LOG_LINE_MAX / 4];
	char jbuf[LOG_MAX_FIELDS][LOG_LINE_MAX / 4];
	struct iovec iov[LOG_MAX_FIELDS + 4];
	size_t i, k = 0;
	int n;

	/* Escaped as on stderr: neither can be forged by what a message carried. */
	(void)escape_text(raw, msg, sizeof msg, false);
	n = snprintf(jbuf[k], sizeof jbuf[k], "PRIORITY=%d", level);
	iov[k].iov_base = jbuf[k];
	iov[k].iov_len = (size_t)n;
	k++;
	for (i = 0; i < nf && k < LOG_MAX_FIELDS; i++, k++) {
		(void)escape_text(fields[i].value, vbuf, sizeof vbuf, true);
		n = snprintf(jbuf[k], sizeof jbuf[k], "%s=%s", fields[i].key, vbuf);
		iov[k].iov_base = jbuf[k];
		iov[k].iov_len = n < 0 ? 0 : (size_t)n >= sizeof jbuf[k] ? sizeof jbuf[k] - 1 : (size_t)n;
	}
	iov[k].iov_base = (void *)"SYSLOG_IDENTIFIER=alchemiserd";
	iov[k].iov_len = strlen("SYSLOG_IDENTIFIER=alchemiserd");
	k++;
	n = snprintf(line, sizeof line, "MESSAGE=%s", msg);
	iov[k].iov_base = line;
	iov[k].iov_len = (size_t)n >= sizeof line ? sizeof line - 1 : (size_t)n;
	k++;
	return sdproto_journal_sendv(iov, k) >= 0;
}

/* The line of message raw (not yet escaped) and the fields f, to the
 * journal or stderr. errno is kept. */
static void
emit_raw(int level, const struct log_fields *f, const char *raw)
{
	char line[LOG_LINE_MAX + 1024], dur[24];
	struct field_ref fields[LOG_MAX_FIELDS];
	bool journal = log_target == LOG_TARGET_JOURNAL;
	size_t nf, i, len;
	int saved_errno = errno;

	nf = collect_fields(f, fields, dur, sizeof dur, journal);
	/* Fall through to stderr if the journal socket is gone. */
	if (journal && emit_journal(level, fields, nf, raw)) {
		errno = saved_errno;
		return;
	}

	len = line_prefix(level, line, sizeof line);
	/* Escaped as it is appended (the message cut at LOG_LINE_MAX, each
	 * field at a quarter of it), the line cut as snprintf would. */
	len = append_escaped(line, len, sizeof line, raw, LOG_LINE_MAX, false);
	for (i = 0; i < nf && len < sizeof line - 1; i++) {
		len = append(line, len, sizeof line, " ");
		len = append(line, len, sizeof line, fields[i].key);
		len = append(line, len, sizeof line, "=");
		len = append_escaped(line, len, sizeof line, fields[i].value, LOG_LINE_MAX / 4, true);
	}
	line[len++] = '\n';
	/* Batched: appended whole (the buffer written first when it would not
	 * fit); an error line goes out at once, after what came before it. */
	if (batch_on && len <= sizeof batch_buf && level > LOG_ERR) {
		if (batch_len + len > sizeof batch_buf)
			batch_flush();
		memcpy(batch_buf + batch_len, line, len);
		batch_len += len;
		errno = saved_errno;
		return;
	}
	if (batch_on)
		batch_flush();
	/* One write(2) per line keeps concurrent workers' lines whole. */
	(void)!write(STDERR_FILENO, line, len);
	errno = saved_errno;
}

static void
log_emit(int level, const struct log_fields *f, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX];
	int saved_errno = errno;

	(void)vsnprintf(raw, sizeof raw, fmt, ap);
	errno = saved_errno;
	emit_raw(level, f, raw);
}

void
log_parts(int level, const struct log_fields *f, const char *const *parts, size_t n)
{
	char raw[LOG_LINE_MAX];
	struct fixbuf tb;
	size_t i;

	if (level > log_max_level)
		return;
	fixbuf_init(&tb, raw, sizeof raw);
	for (i = 0; i < n; i++)
		fixbuf_cat(&tb, parts[i]);
	emit_raw(level, f, raw);
}

void
log_full(int level, const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	log_emit(level, f, fmt, ap);
	va_end(ap);
}

int
log_full_errno(int level, int err, const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	if (level <= log_max_level) {
		va_start(ap, fmt);
		log_emit(level, f, fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -err;
}

char *
log_escape(const char *in, size_t in_len, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	for (i = 0; i < in_len; i++) {
		unsigned char c = (unsigned char)in[i];
		char tmp[4];
		size_t tn;

		if (c == '\n') {
			tmp[0] = '\\'; tmp[1] = 'n'; tn = 2;
		} else if (c == '\\') {
			tmp[0] = '\\'; tmp[1] = '\\'; tn = 2;
		} else if (c < 0x20 || c == 0x7f || c >= 0x80) {
			/* Bytes >= 0x80 are escaped too: simpler than validating UTF-8 here. */
			tmp[0] = '\\'; tmp[1] = 'x'; tmp[2] = hex[c >> 4]; tmp[3] = hex[c & 15]; tn = 4;
		} else {
			tmp[0] = (char)c; tn = 1;
		}
		if (o + tn + 4 > size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, tn);
		o += tn;
	}
	buf[o] = '\0';
	return buf;
}
