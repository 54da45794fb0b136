#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/mime.h"
#include "alchemiser/mail/textbuf.h"
#include "helpers.h"

static char	*qp_decode(const char *s);
static char	*b64_decode(const char *s, size_t n);
static char	*decode_header(const char *v);
static char	*header_value(const char *msg, const char *name);
static void	 assert_crlf_and_line_limit(const char *msg, size_t len, size_t limit);

static const char *const two_to[] = { "Ops Team <ops@example.test>", "cto@example.test" };

/* Minimal decoders, independent of the code under test. */
static char *
qp_decode(const char *s)
{
	struct textbuf b = { 0 };

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=') {
			unsigned v;

			ck_assert_msg(sscanf(s + 1, "%2X", &v) == 1, "bad QP escape at '%.8s'", s);
			textbuf_append_char(&b, (char)v);
			s += 3;
		} else
			textbuf_append_char(&b, *s++);
	}
	return textbuf_take(&b, NULL);
}

static char *
b64_decode(const char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct textbuf b = { 0 };
	uint32_t acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(tab, s[i]);

		ck_assert_ptr_nonnull(p);
		acc = acc << 6 | (uint32_t)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			textbuf_append_char(&b, (char)((acc >> bits) & 0xff));
		}
	}
	return textbuf_take(&b, NULL);
}

/* Unfold, then decode =?UTF-8?B?...?= words (RFC 2047 §6.2). */
static char *
decode_header(const char *folded)
{
	struct textbuf b = { 0 }, u = { 0 };
	const char *v;

	for (v = folded; *v != '\0'; v++) {
		if (v[0] == '\r' && v[1] == '\n')
			v++;
		else
			textbuf_append_char(&u, *v);
	}
	v = u.data;

	while (*v != '\0') {
		if (strncmp(v, "=?UTF-8?B?", 10) == 0) {
			const char *end = strstr(v + 10, "?=");
			char *d;

			ck_assert_ptr_nonnull(end);
			ck_assert_int_le(end + 2 - v, 75);
			d = b64_decode(v + 10, (size_t)(end - v - 10));
			textbuf_append(&b, d);
			free(d);
			v = end + 2;
			/* Only whitespace between two encoded words disappears. */
			if (strncmp(v + strspn(v, " "), "=?UTF-8?B?", 10) == 0)
				v += strspn(v, " ");
		} else
			textbuf_append_char(&b, *v++);
	}
	textbuf_clear(&u);
	return textbuf_take(&b, NULL);
}

/* The raw (folded) value of a header in the message's header block. */
static char *
header_value(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = msg, *end;

	while (*p != '\0' && strncmp(p, "\r\n", 2) != 0) {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			p += nlen + 1;
			while (*p == ' ')
				p++;
			for (end = p; !(end[0] == '\r' && end[1] == '\n' && end[2] != ' '); end++)
				;
			return xstrndup(p, (size_t)(end - p));
		}
		p = strstr(p, "\r\n") + 2;
	}
	return NULL;
}

static void
assert_crlf_and_line_limit(const char *msg, size_t len, size_t limit)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		if (msg[i] == '\n')
			ck_abort_msg("bare LF at offset %zu", i);
		if (msg[i] == '\r') {
			ck_assert_msg(msg[i + 1] == '\n', "bare CR at offset %zu", i);
			i++;
			col = 0;
			continue;
		}
		col++;
		ck_assert_msg(col <= limit, "line longer than %zu at offset %zu", limit, i);
	}
}

START_TEST(test_mime_builds_multipart_alternative)
{
	struct errctx ec = { 0 };
	struct mail_message m = {
		.from = "Alchemiser <alerts@example.test>", .to = two_to, .n_to = 2,
		.subject = "Rebalance done", .text = "3 orders filled.\n",
		.html = "<p>3 orders filled.</p>", .id = "trading-notification-1234",
		.date_usec = INT64_C(1767364200) * 1000000,
	};
	char *out = NULL, *v, *txt, *html;
	size_t len;

	ck_assert_ok(mime_build(&m, &out, &len, &ec), &ec);
	ck_assert_uint_eq(strlen(out), len);
	assert_crlf_and_line_limit(out, len, 78);
	ck_assert_ptr_nonnull(v = header_value(out, "Date"));
	ck_assert_str_eq(v, "Fri, 02 Jan 2026 14:30:00 +0000");
	free(v);
	ck_assert_ptr_nonnull(v = header_value(out, "From"));
	ck_assert_str_eq(v, "Alchemiser <alerts@example.test>");
	free(v);
	ck_assert_ptr_nonnull(v = header_value(out, "To"));
	ck_assert_str_eq(v, "Ops Team <ops@example.test>,\r\n cto@example.test");
	free(v);
	ck_assert_ptr_nonnull(v = header_value(out, "Subject"));
	ck_assert_str_eq(v, "Rebalance done");
	free(v);
	ck_assert_ptr_nonnull(v = header_value(out, "Message-ID"));
	ck_assert_str_eq(v, "<trading-notification-1234@example.test>");
	free(v);
	ck_assert_ptr_nonnull(v = header_value(out, "MIME-Version"));
	ck_assert_str_eq(v, "1.0");
	free(v);
	ck_assert_ptr_nonnull(v = header_value(out, "Content-Type"));
	ck_assert_ptr_nonnull(strstr(v, "multipart/alternative;\r\n boundary=\"=_alch_"));
	free(v);
	/* Text first, HTML last, both quoted-printable UTF-8, one closing delimiter. */
	txt = strstr(out, "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n3 orders filled.\r\n\r\n--=_alch_");
	html = strstr(out, "Content-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>3 orders filled.</p>\r\n--=_alch_");
	ck_assert_ptr_nonnull(txt);
	ck_assert_ptr_nonnull(html);
	ck_assert_msg(txt < html, "text part must come first");
	ck_assert_ptr_nonnull(strstr(html, "--\r\n"));
	free(out);
}
END_TEST

START_TEST(test_mime_message_id_token_is_made_safe)
{
	struct errctx ec = { 0 };
	struct mail_message m = {
		.from = "alerts@example.test", .to = two_to, .n_to = 1,
		.subject = "x", .text = "t", .id = ".cmd:pnl weekly@<2026>..x.",
	};
	char *out = NULL, *v;
	size_t len;

	ck_assert_ok(mime_build(&m, &out, &len, &ec), &ec);
	v = header_value(out, "Message-ID");
	ck_assert_str_eq(v, "<_cmd_pnl_weekly__2026_._x_@example.test>");
	free(v);
	free(out);
}
END_TEST

START_TEST(test_mime_text_only_and_random_message_id)
{
	struct errctx ec = { 0 };
	struct mail_message m = {
		.from = "alerts@example.test", .to = two_to, .n_to = 1,
		.subject = "x", .text = "hello",
	};
	char *out = NULL, *a = NULL, *b = NULL, *v;
	size_t len;

	ck_assert_ok(mime_build(&m, &out, &len, &ec), &ec);
	ck_assert_ptr_nonnull(v = header_value(out, "Content-Type"));
	ck_assert_str_eq(v, "text/plain; charset=UTF-8");
	free(v);
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nhello\r\n"));
	a = header_value(out, "Message-ID");
	free(out);
	ck_assert_ok(mime_build(&m, &out, &len, &ec), &ec);
	b = header_value(out, "Message-ID");
	ck_assert_ptr_nonnull(strstr(a, "@example.test>"));
	ck_assert_str_ne(a, b);
	ck_assert_ptr_null(strchr(a, ' '));
	free(a);
	free(b);
	free(out);
}
END_TEST

START_TEST(test_mime_encodes_utf8_subject_and_names)
{
	struct errctx ec = { 0 };
	const char *subj = "[SUCCESS] Rééquilibrage terminé ✔ — portefeuille mis à jour "
	    "avec succès pour tous les comptes 📈 (rapport complet)";
	const char *const to[] = { "Jürgen Ops <ops@example.test>", "\"Ops, Night\" <n@example.test>",
		("Jürgen Müller of the Operations Team at Ünïcorn Trading Desk "
		"<a.very.long.mailbox.name@subdomain.example.test>"),
		"Ünïcödé Nämé Thät Ïs Rëällÿ Lông Fôr Ä Dïsplåy Nämé <long@example.test>" };
	struct mail_message m = {
		.from = "Alchemiser <alerts@example.test>", .to = to, .n_to = 4,
		.subject = subj, .text = "t", .html = "h",
	};
	char *out = NULL, *v, *d;
	size_t len;

	ck_assert_ok(mime_build(&m, &out, &len, &ec), &ec);
	assert_crlf_and_line_limit(out, len, 76);
	v = header_value(out, "Subject");
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(strstr(v, "\r\n "));	/* long enough to need folding */
	d = decode_header(v);
	ck_assert_str_eq(d, subj);
	free(d);
	free(v);
	v = header_value(out, "To");
	ck_assert_ptr_nonnull(strstr(v, "=?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(v, "\"Ops, Night\" <n@example.test>"));
	d = decode_header(v);
	ck_assert_ptr_nonnull(strstr(d, "Jürgen Ops <ops@example.test>"));
	ck_assert_ptr_nonnull(strstr(d, "Jürgen Müller of the Operations Team at Ünïcorn Trading "
	    "Desk <a.very.long.mailbox.name@subdomain.example.test>"));
	ck_assert_ptr_nonnull(strstr(d, "Ünïcödé Nämé Thät Ïs Rëällÿ Lông Fôr Ä Dïsplåy Nämé "
	    "<long@example.test>"));
	free(d);
	free(v);
	free(out);
}
END_TEST

START_TEST(test_mime_refuses_header_injection)
{
	struct errctx ec = { 0 };
	const char *const bad_to[] = { "ops@example.test\r\nBcc: evil@example.test" };
	struct mail_message m = {
		.from = "alerts@example.test", .to = two_to, .n_to = 1,
		.subject = "hi\r\nBcc: evil@example.test", .text = "t",
	};
	char *out = NULL;
	size_t len;

	ck_assert_err(mime_build(&m, &out, &len, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "subject"));
	ck_assert_ptr_null(out);
	m.subject = "hi\nthere";
	ck_assert_err(mime_build(&m, &out, &len, &ec), -EINVAL, &ec);
	m.subject = "ok";
	m.from = "Evil\r\nX: y <alerts@example.test>";
	ck_assert_err(mime_build(&m, &out, &len, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "from"));
	m.from = "alerts@example.test";
	m.to = bad_to;
	ck_assert_err(mime_build(&m, &out, &len, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "to[0]"));
	m.to = two_to;
	m.id = "abc\r\nX-Evil: 1";
	ck_assert_err(mime_build(&m, &out, &len, &ec), -EINVAL, &ec);
	m.id = NULL;
	m.subject = "bad \xc3\x28 utf8";
	ck_assert_err(mime_build(&m, &out, &len, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_mime_refuses_bad_addresses)
{
	struct errctx ec = { 0 };
	static const char *const bad[] = { "", "nobody", "a@", "@b", "a@b@c", "a b@c.d",
		"<a@b", "x <a@b> y", "a..b@c.d", "a@c..d", "a@-c.d;", "a@c.d>" };
	char *name = NULL, *addr = NULL;
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(mime_parse_address(bad[i], "to", &name, &addr, &ec) == -EINVAL,
		    "accepted '%s'", bad[i]);
	ck_assert_ok(mime_parse_address("  \"Ops \\\"A\\\"\"  <o.p+s@mail.example.test> ", "to",
	    &name, &addr, &ec), &ec);
	ck_assert_str_eq(addr, "o.p+s@mail.example.test");
	ck_assert_str_eq(name, "Ops \"A\"");
	free(name);
	free(addr);
	ck_assert_ok(mime_parse_address("a@b.c", "to", &name, &addr, &ec), &ec);
	ck_assert_ptr_null(name);
	free(addr);
}
END_TEST

START_TEST(test_mime_qp_line_lengths_and_round_trip)
{
	struct textbuf in = { 0 };
	char *qp, *back, *line;
	size_t len, i;

	/* Long lines of ASCII, UTF-8, '=' and a trailing space; a dot line; CR/LF mix. */
	for (i = 0; i < 40; i++)
		textbuf_append(&in, "é=x ");
	textbuf_append(&in, "\n.hidden dot line\r\ntrailing space \nend\ttab\t\nFrom here on\n");
	for (i = 0; i < 300; i++)
		textbuf_append_char(&in, (char)('a' + i % 26));
	qp = mime_qp_encode(in.data, in.len, &len);
	assert_crlf_and_line_limit(qp, len, 76);
	ck_assert_ptr_null(strstr(qp, " \r\n"));	/* no whitespace before a line end */
	ck_assert_ptr_null(strstr(qp, "\t\r\n"));
	ck_assert_ptr_null(strstr(qp, "\r\n."));	/* no line starts with a dot */
	ck_assert_ptr_nonnull(strstr(qp, "=3D"));
	ck_assert_ptr_nonnull(strstr(qp, "\r\n=46rom here on\r\n"));
	back = qp_decode(qp);
	/* Decoding gives back the input with every line end as CRLF. */
	line = in.data;
	{
		struct textbuf want = { 0 };
		const char *p;

		for (p = line; *p != '\0'; p++) {
			if (*p == '\r')
				continue;
			if (*p == '\n')
				textbuf_append(&want, "\r\n");
			else
				textbuf_append_char(&want, *p);
		}
		ck_assert_str_eq(back, want.data);
		textbuf_clear(&want);
	}
	free(back);
	free(qp);
	textbuf_clear(&in);
}
END_TEST

START_TEST(test_mime_qp_soft_break_never_opens_with_dot_or_from)
{
	struct textbuf in = { 0 };
	char *qp;
	size_t len, i;

	for (i = 0; i < 75; i++)
		textbuf_append_char(&in, 'a');
	textbuf_append(&in, ".b\n");
	for (i = 0; i < 75; i++)
		textbuf_append_char(&in, 'a');
	textbuf_append(&in, "From x\n");
	qp = mime_qp_encode(in.data, in.len, &len);
	assert_crlf_and_line_limit(qp, len, 76);
	ck_assert_ptr_nonnull(strstr(qp, "=\r\n=2Eb\r\n"));
	ck_assert_ptr_nonnull(strstr(qp, "=\r\n=46rom x\r\n"));
	free(qp);
	textbuf_clear(&in);
}
END_TEST

START_TEST(test_mime_html_escape)
{
	char *e = textbuf_html_escape("<script>alert('x') & \"y\"</script> é");
	struct textbuf b = { 0 };

	ck_assert_str_eq(e, "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt; é");
	free(e);
	e = textbuf_html_escape(NULL);
	ck_assert_str_eq(e, "");
	free(e);
	textbuf_append(&b, "<td>");
	textbuf_append_html(&b, "A&B");
	textbuf_printf(&b, "</td>%d", 7);
	ck_assert_str_eq(b.data, "<td>A&amp;B</td>7");
	textbuf_clear(&b);
}
END_TEST

START_TEST(test_mime_date_format)
{
	char buf[MIME_DATE_STRLEN];

	ck_assert_str_eq(mime_format_date(0, buf), "Thu, 01 Jan 1970 00:00:00 +0000");
	/* 2024-02-29 23:59:59 UTC, a leap day. */
	ck_assert_str_eq(mime_format_date(INT64_C(1709251199) * 1000000, buf),
	    "Thu, 29 Feb 2024 23:59:59 +0000");
}
END_TEST

static Suite *
suite_mime(void)
{
	Suite *s = suite_create("mime");
	TCase *tc;

	tc = tcase_create("build");
	tcase_add_test(tc, test_mime_builds_multipart_alternative);
	tcase_add_test(tc, test_mime_text_only_and_random_message_id);
	tcase_add_test(tc, test_mime_message_id_token_is_made_safe);
	tcase_add_test(tc, test_mime_encodes_utf8_subject_and_names);
	tcase_add_test(tc, test_mime_date_format);
	suite_add_tcase(s, tc);
	tc = tcase_create("refuse");
	tcase_add_test(tc, test_mime_refuses_header_injection);
	tcase_add_test(tc, test_mime_refuses_bad_addresses);
	suite_add_tcase(s, tc);
	tc = tcase_create("encode");
	tcase_add_test(tc, test_mime_qp_line_lengths_and_round_trip);
	tcase_add_test(tc, test_mime_qp_soft_break_never_opens_with_dot_or_from);
	tcase_add_test(tc, test_mime_html_escape);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_mime)
