#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/log.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

/* Capture what the logger writes to stderr into a temporary file. */
static char *
capture(void (*fn)(void))
{
	char *dir = test_tmpdir(), *path = xasprintf("%s/err", dir), *out;
	FILE *f;
	int saved = dup(STDERR_FILENO);

	f = fopen(path, "w+");
	ck_assert_ptr_nonnull(f);
	dup2(fileno(f), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(f);
	out = test_read_file(path, NULL);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	return out;
}

static void
emit_levels(void)
{
	log_open(LOG_TARGET_STDERR);
	log_set_max_level(LOG_INFO);
	log_error("boom %d", 1);
	log_info("hello");
	log_debug("hidden");
}

static void
emit_fields(void)
{
	struct log_fields f = {
		.correlation_id = "c-1", .event_id = "e-1", .outcome = "done",
		.handler = "monitor", .duration_ms = 12,
	};

	log_open(LOG_TARGET_STDERR);
	log_full(LOG_NOTICE, &f, "outcome %s", "done");
}

/* out matches the extended regular expression re (anchored by the caller). */
static void
assert_matches(const char *out, const char *re)
{
	regex_t rx;

	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&rx, out, 0, NULL, 0) == 0, "'%s' does not match '%s'", out, re);
	regfree(&rx);
}

#define TS "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

/* Issue #17 B5: one body forged 15 reject lines through a raw newline. */
static void
emit_hostile(void)
{
	struct log_fields f = {
		.correlation_id = "c\n<3>reject forged OUTCOME=reject", .event_id = "e\x1b[2J",
		.source = "a b", .detail_type = "x\xc2\x9b" "31m\xe2\x80\xa8y", .duration_ms = -1,
	};

	log_open(LOG_TARGET_STDERR);
	log_full(LOG_ERR, &f, "reject: bad id '%s' \xff caf\xc3\xa9", "a\r\n<3>fake\tline\x07");
}

/* Size of what stderr (a file here) holds right now. */
static long
stderr_size(void)
{
	return lseek(STDERR_FILENO, 0, SEEK_CUR);
}

static long batch_sizes[4];

/* Issue #13: a batch's lines stay in the buffer until log_batch_end (or
 * an error line, which goes out at once after what came before it). */
static void
emit_batch(void)
{
	log_open(LOG_TARGET_STDERR);
	log_set_max_level(LOG_INFO);
	log_batch_begin();
	log_info("one");
	log_warning("two");
	batch_sizes[0] = stderr_size();
	log_error("three");
	batch_sizes[1] = stderr_size();
	log_info("four");
	batch_sizes[2] = stderr_size();
	log_batch_end();
	batch_sizes[3] = stderr_size();
	log_info("five");
}

/* More lines than the buffer holds: written whole, in order. */
static void
emit_big_batch(void)
{
	int i;

	log_open(LOG_TARGET_STDERR);
	log_set_max_level(LOG_INFO);
	log_batch_begin();
	for (i = 0; i < 100; i++)
		log_info("line %03d %0200d", i, 0);
	log_batch_end();
}

START_TEST(test_log_batch_one_write)
{
	char *out = capture(emit_batch);

	ck_assert_int_eq(batch_sizes[0], 0);
	ck_assert_int_gt(batch_sizes[1], 0);
	ck_assert_int_eq(batch_sizes[2], batch_sizes[1]);
	ck_assert_int_gt(batch_sizes[3], batch_sizes[2]);
	assert_matches(out, "^" TS " info one\n" TS " warning two\n" TS " error three\n"
	    TS " info four\n" TS " info five\n$");
	free(out);
}
END_TEST

START_TEST(test_log_batch_overflow_keeps_lines)
{
	char *out = capture(emit_big_batch), *p = out;
	char want[16];
	int i;

	for (i = 0; i < 100; i++) {
		(void)snprintf(want, sizeof want, "line %03d ", i);
		p = strstr(p, want);
		ck_assert_msg(p != NULL, "line %d missing or out of order", i);
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
	}
	ck_assert_int_eq(p[1], '\0');
	free(out);
}
END_TEST

START_TEST(test_log_stderr_prefix_and_filter)
{
	char *out = capture(emit_levels);

	assert_matches(out, "^" TS " error boom 1\n" TS " info hello\n$");
	free(out);
}
END_TEST

START_TEST(test_log_fields_on_stderr)
{
	char *out = capture(emit_fields);

	assert_matches(out, "^" TS " notice outcome done CORRELATION_ID=c-1 EVENT_ID=e-1 "
	    "HANDLER=monitor OUTCOME=done DURATION_MS=12\n$");
	free(out);
}
END_TEST

START_TEST(test_log_escapes_every_field)
{
	char *out = capture(emit_hostile);
	const char *text;

	/* One line, nothing raw: controls, C1, U+2028 and bad bytes escaped,
	 * blanks in fields escaped, valid UTF-8 text kept. */
	assert_matches(out, "^" TS " error reject: ");
	text = strstr(out, " error ") + strlen(" error ");
	ck_assert_str_eq(text, "reject: bad id 'a\\r\\n<3>fake\\tline\\x07' \\xff caf\xc3\xa9"
	    " CORRELATION_ID=c\\n<3>reject\\x20forged\\x20OUTCOME=reject EVENT_ID=e\\x1b[2J"
	    " DETAIL_TYPE=x\\xc2\\x9b31m\\xe2\\x80\\xa8y SOURCE=a\\x20b\n");
	free(out);
}
END_TEST

/* Long text (issue #13: escaped in place into the line): the message is cut
 * at 4096 bytes with "...", each field value at 1024, and the line at its
 * buffer (the message, then whole fields while they fit, the last one cut
 * without "..."): the same lines as before, one per call. */
static void
emit_long(void)
{
	char *big = xmalloc(6000), *mid = xmalloc(1500);
	struct log_fields f = { 0 };

	memset(big, 'm', 5999);
	big[5999] = '\0';
	memset(mid, 'v', 1499);
	mid[1499] = '\0';
	f.correlation_id = mid;
	f.event_id = mid;
	f.detail_type = mid;
	f.duration_ms = -1;
	log_open(LOG_TARGET_STDERR);
	log_set_max_level(LOG_INFO);
	log_full(LOG_INFO, &f, "%s", big);
	f.event_id = NULL;
	f.detail_type = NULL;
	log_full(LOG_INFO, &f, "short");
	free(big);
	free(mid);
}

START_TEST(test_log_long_text_is_cut)
{
	char *out = capture(emit_long), *l2, *p;
	size_t n;

	l2 = strchr(out, '\n');
	ck_assert_ptr_nonnull(l2);
	*l2++ = '\0';
	/* Line 1: the message 4092 'm' + "...", then the first field until
	 * the line buffer (5120 with its NUL) is full: cut there, no "...". */
	p = strstr(out, " info ") + strlen(" info ");
	for (n = 0; p[n] == 'm'; n++)
		;
	ck_assert_uint_eq(n, 4092);
	ck_assert_int_eq(strncmp(p + n, "... CORRELATION_ID=", 19), 0);
	p += n + 19;
	for (n = 0; p[n] == 'v'; n++)
		;
	ck_assert_uint_gt(n, 900);
	ck_assert_int_eq(p[n], '\0');
	ck_assert_uint_eq(strlen(out), 5119);
	/* Line 2: whole, the field cut at 1024 with "...". */
	assert_matches(l2, "^" TS " info short CORRELATION_ID=v{1020}\\.\\.\\.\n$");
	free(out);
}
END_TEST

/* The escaping reads eight bytes at a time while they are plain: a byte
 * to escape (or keep) at every offset of a word, in the message and in a
 * field, comes out as one byte at a time would have it. */
static unsigned char probe_byte;
static size_t probe_at;

static void
emit_probe(void)
{
	char text[40];
	struct log_fields f = { .event_id = text, .duration_ms = -1 };

	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	text[probe_at] = (char)probe_byte;
	log_open(LOG_TARGET_STDERR);
	log_full(LOG_NOTICE, &f, "%s", text);
}

START_TEST(test_log_escape_at_every_offset)
{
	static const unsigned char bytes[] = { 0x01, 0x1f, ' ', '!', '~', 0x7f, 0x80, 0xff };
	size_t b, at;

	for (b = 0; b < sizeof bytes; b++)
		for (at = 0; at < 39; at++) {
			char want_msg[128], want_field[128], want[300], *out, *got;
			char one[8];

			probe_byte = bytes[b];
			probe_at = at;
			if (bytes[b] >= ' ' && bytes[b] < 0x7f)
				(void)snprintf(one, sizeof one, "%c", bytes[b]);
			else
				(void)snprintf(one, sizeof one, "\\x%02x", bytes[b]);
			(void)snprintf(want_msg, sizeof want_msg, "%.*s%s%.*s", (int)at,
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", one, (int)(38 - at),
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
			(void)snprintf(want_field, sizeof want_field, "%.*s%s%.*s", (int)at,
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", bytes[b] == ' ' ? "\\x20" : one,
			    (int)(38 - at), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
			out = capture(emit_probe);
			got = strstr(out, " notice ");
			ck_assert_ptr_nonnull(got);
			got += strlen(" notice ");
			(void)snprintf(want, sizeof want, "%s EVENT_ID=%s\n", want_msg, want_field);
			ck_assert_msg(strcmp(got, want) == 0, "byte 0x%02x at %zu: got '%s', want '%s'",
			    bytes[b], at, got, want);
			free(out);
		}
}
END_TEST

/* log_parts writes what log_full writes for the same text. */
static void
emit_parts(void)
{
	const char *parts[] = { "done", " ", "completed", ": ", NULL, "workflow r-1 completed" };
	struct log_fields f = { .correlation_id = "r-1", .outcome = "done", .duration_ms = 7 };

	log_open(LOG_TARGET_STDERR);
	log_set_max_level(LOG_INFO);
	log_parts(LOG_INFO, &f, parts, sizeof parts / sizeof parts[0]);
	log_parts(LOG_DEBUG, &f, parts, sizeof parts / sizeof parts[0]);
}

START_TEST(test_log_parts)
{
	char *out = capture(emit_parts);

	assert_matches(out, "^" TS " info done completed: workflow r-1 completed CORRELATION_ID=r-1 "
	    "OUTCOME=done DURATION_MS=7\n$");
	free(out);
}
END_TEST

START_TEST(test_log_escape_untrusted)
{
	char buf[32];

	ck_assert_str_eq(log_escape("a\nb\x1b" "c\\", 6, buf, sizeof buf), "a\\nb\\x1bc\\\\");
	ck_assert_str_eq(log_escape("0123456789012345678901234567890123456789", 40, buf, sizeof buf),
	    "0123456789012345678901234567...");
}
END_TEST

START_TEST(test_log_level_names)
{
	ck_assert_int_eq(log_level_from_string("debug"), LOG_DEBUG);
	ck_assert_int_eq(log_level_from_string("warning"), LOG_WARNING);
	ck_assert_int_eq(log_level_from_string("loud"), -EINVAL);
	ck_assert_int_eq(log_full_errno(LOG_DEBUG, -EIO, NULL, "x"), -EIO);
}
END_TEST

static Suite *
suite_log(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("stderr");

	tcase_add_test(tc, test_log_stderr_prefix_and_filter);
	tcase_add_test(tc, test_log_fields_on_stderr);
	tcase_add_test(tc, test_log_escape_untrusted);
	tcase_add_test(tc, test_log_escape_at_every_offset);
	tcase_add_test(tc, test_log_parts);
	tcase_add_test(tc, test_log_long_text_is_cut);
	tcase_add_test(tc, test_log_escapes_every_field);
	tcase_add_test(tc, test_log_level_names);
	tcase_add_test(tc, test_log_batch_one_write);
	tcase_add_test(tc, test_log_batch_overflow_keeps_lines);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_log)
