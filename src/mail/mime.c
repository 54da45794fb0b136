#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/mime.h"
#include "alchemiser/mail/textbuf.h"

/* RFC 2047: an encoded word is at most 75 characters; a line holding one at most 76. */
#define WORD_MAX	75
#define LINE_MAX_EW	76
/* RFC 2045: quoted-printable lines are at most 76 characters including the soft "=". */
#define QP_LINE_MAX	76
#define SUBJECT_MAX	(16 * 1024)
#define MESSAGE_ID_TOKEN_MAX 200

static bool	utf8_valid(const char *s);
static bool	is_atext(unsigned char c);
static bool	addr_spec_valid(const char *a);
static size_t	utf8_boundary(const char *s, size_t len, size_t max);
static void	append_base64(struct textbuf *out, const unsigned char *p, size_t n);
static size_t	current_col(const struct textbuf *out, size_t start, size_t col);
static void	append_encoded_words(struct textbuf *out, const char *s, size_t len, size_t col);
static bool	word_is_plain(const char *w, size_t n);
static void	append_display_name(struct textbuf *out, const char *name, size_t col);
static void	append_address(struct textbuf *out, const char *in, size_t col);
static int	random_hex(char *out, size_t nbytes, struct errctx *ec);
static char	*message_id_token(const char *in);
static void	append_part(struct textbuf *out, const char *boundary, const char *type,
		    const char *body);

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Jansson only ever hands us valid UTF-8, but the seam also takes text from
 * configuration; a broken sequence would make an undecodable encoded word. */
static bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned n, i;
		uint32_t cp;

		if (*p < 0x80) {
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			n = 1; cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2; cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3; cp = *p & 0x07;
		} else
			return false;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Conservative on purpose: the address also becomes an SMTP command argument
 * (MAIL FROM / RCPT TO), so only dot-atom local parts and host names pass. */
static bool
addr_spec_valid(const char *a)
{
	const char *at = strchr(a, '@'), *p;

	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL ||
	    strlen(a) > MIME_ADDR_MAX)
		return false;
	for (p = a; p < at; p++)
		if (!is_atext((unsigned char)*p) && !(*p == '.' && p != a && p[-1] != '.' &&
		    p + 1 != at))
			return false;
	for (p = at + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-')
			continue;
		if (c == '.' && p != at + 1 && p[-1] != '.' && p[1] != '\0')
			continue;
		return false;
	}
	return true;
}

int
mime_check_header_value(const char *what, const char *s, struct errctx *ec)
{
	if (s == NULL)
		return errctx_set(ec, -EINVAL, "%s: missing", what);
	if (strpbrk(s, "\r\n") != NULL)
		return errctx_set(ec, -EINVAL, "%s: contains CR or LF (refused: header injection)",
		    what);
	if (!utf8_valid(s))
		return errctx_set(ec, -EINVAL, "%s: not valid UTF-8", what);
	return 0;
}

int
mime_parse_address(const char *in, const char *what, char **ret_name, char **ret_addr,
    struct errctx *ec)
{
	const char *lt, *gt, *b, *e;
	char *name = NULL, *addr;
	int r;

	r = mime_check_header_value(what, in, ec);
	if (r < 0)
		return r;
	lt = strrchr(in, '<');
	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1 + strspn(gt + 1, " \t")] != '\0')
			return errctx_set(ec, -EINVAL, "%s: '<' without a final '>'", what);
		addr = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		for (b = in; *b == ' ' || *b == '\t'; b++)
			;
		for (e = lt; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		/* A quoted display name loses its quotes here and gets them back (with
		 * escaping) when written, so both spellings end up identical. */
		if (e - b >= 2 && *b == '"' && e[-1] == '"') {
			struct textbuf q = { 0 };

			for (b++, e--; b < e; b++) {
				if (*b == '\\' && b + 1 < e)
					b++;
				textbuf_append_char(&q, *b);
			}
			name = textbuf_take(&q, NULL);
		} else if (e > b)
			name = xstrndup(b, (size_t)(e - b));
	} else {
		for (b = in; *b == ' ' || *b == '\t'; b++)
			;
		for (e = b + strlen(b); e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		addr = xstrndup(b, (size_t)(e - b));
	}
	if (!addr_spec_valid(addr)) {
		r = errctx_set(ec, -EINVAL, "%s: '%s' is not a plain address (local@domain)",
		    what, addr);
		free(addr);
		free(name);
		return r;
	}
	if (ret_name != NULL)
		*ret_name = name;
	else
		free(name);
	*ret_addr = addr;
	return 0;
}

/* Largest prefix of s (len bytes) no longer than max that ends on a character
 * boundary: an encoded word must hold whole characters (RFC 2047 §5). */
static size_t
utf8_boundary(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	if (n == len)
		return n;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static void
append_base64(struct textbuf *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		textbuf_append_char(out, b64[v >> 18]);
		textbuf_append_char(out, b64[(v >> 12) & 63]);
		textbuf_append_char(out, b64[(v >> 6) & 63]);
		textbuf_append_char(out, b64[v & 63]);
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		textbuf_append_char(out, b64[v >> 18]);
		textbuf_append_char(out, b64[(v >> 12) & 63]);
		textbuf_append_char(out, i + 1 < n ? b64[(v >> 6) & 63] : '=');
		textbuf_append_char(out, '=');
	}
}

/* Column after appending to out from byte start, when out was at column col there. */
static size_t
current_col(const struct textbuf *out, size_t start, size_t col)
{
	const char *nl = out->len > start ? memrchr(out->data + start, '\n', out->len - start) :
	    NULL;

	return nl != NULL ? out->len - (size_t)(nl + 1 - out->data) : col + (out->len - start);
}

/* len bytes of s as "=?UTF-8?B?...?=" words of <= 75 characters, each on a line of
 * <= 76; moves to a continuation line first when col leaves no room. */
static void
append_encoded_words(struct textbuf *out, const char *s, size_t len, size_t col)
{
	size_t off = 0, width;

	if (col + 24 > LINE_MAX_EW) {
		textbuf_append(out, "\r\n ");
		col = 1;
	}
	width = LINE_MAX_EW - col < WORD_MAX ? LINE_MAX_EW - col : WORD_MAX;
	while (off < len) {
		/* "=?UTF-8?B?" + "?=" is 12 characters; 4 base64 characters per 3 bytes. */
		size_t max = (width - 12) / 4 * 3;
		size_t n = utf8_boundary(s + off, len - off, max);

		if (n == 0)	/* cannot happen with width >= 24, kept for safety */
			n = len - off < max ? len - off : max;
		if (off != 0)
			textbuf_append(out, "\r\n ");
		textbuf_append(out, "=?UTF-8?B?");
		append_base64(out, (const unsigned char *)s + off, n);
		textbuf_append(out, "?=");
		off += n;
		width = WORD_MAX;
	}
}

void
mime_append_header_text(struct textbuf *out, const char *s, size_t col)
{
	const unsigned char *p;
	size_t len = strlen(s);
	bool plain = col + len <= 78 && strstr(s, "=?") == NULL;

	for (p = (const unsigned char *)s; plain && *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			plain = false;
	if (plain)
		textbuf_append(out, s);
	else
		append_encoded_words(out, s, len, col);
}

char *
mime_qp_encode(const char *s, size_t len, size_t *ret_len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct textbuf out = { 0 };
	size_t i, col = 0;

	textbuf_append_len(&out, "", 0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char tok[4];
		size_t tlen;
		bool eol_next = i + 1 == len || s[i + 1] == '\n' || s[i + 1] == '\r';
		bool from_line;

		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
				i++;
			textbuf_append(&out, "\r\n");
			col = 0;
			continue;
		}
		/* Whitespace at the end of a line would be stripped in transit, a '.'
		 * opening a line is SMTP's end marker, "From " opening a line becomes
		 * ">From " in mbox deliveries: all three are encoded. */
		from_line = c == 'F' && col == 0 && len - i >= 5 && memcmp(s + i, "From ", 5) == 0;
		if ((c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0) && !from_line) ||
		    ((c == ' ' || c == '\t') && !eol_next)) {
			tok[0] = (char)c;
			tlen = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[c >> 4];
			tok[2] = hex[c & 15];
			tlen = 3;
		}
		/* Keep one column for the soft break '='. */
		if (col + tlen > QP_LINE_MAX - 1) {
			textbuf_append(&out, "=\r\n");
			col = 0;
			/* The new physical line needs the same care as a real one. */
			if (tlen == 1 && (tok[0] == '.' ||
			    (len - i >= 5 && memcmp(s + i, "From ", 5) == 0))) {
				snprintf(tok, sizeof(tok), "=%02X", c);
				tlen = 3;
			}
		}
		textbuf_append_len(&out, tok, tlen);
		col += tlen;
	}
	return textbuf_take(&out, ret_len);
}

char *
mime_format_date(int64_t usec, char buf[MIME_DATE_STRLEN])
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	/* Names from our own tables: strftime's %a/%b follow LC_TIME. */
	gmtime_r(&t, &tm);
	/* The modulos only tell the compiler the widths are bounded. */
	snprintf(buf, MIME_DATE_STRLEN, "%s, %02u %s %04u %02u:%02u:%02u +0000",
	    days[(unsigned)tm.tm_wday % 7], (unsigned)tm.tm_mday % 100u,
	    months[(unsigned)tm.tm_mon % 12], (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
	return buf;
}

/* Only atext words may stand unencoded in a non-ASCII display name. */
static bool
word_is_plain(const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_atext((unsigned char)w[i]))
			return false;
	return n < 2 || memmem(w, n, "=?", 2) == NULL;
}

/*
 * A non-ASCII name is written as plain atoms and encoded runs: consecutive words
 * needing encoding share one encoded word (spaces inside it), so no two encoded
 * words stand side by side unless a run exceeds one word. That matters because
 * decoders disagree on the space between adjacent encoded words in a phrase
 * (RFC 2047 drops it, Python's email package keeps it).
 */
static void
append_display_name(struct textbuf *out, const char *name, size_t col)
{
	const unsigned char *p;
	const char *w;
	size_t start = out->len;
	bool ascii = true, special = false, first = true;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			ascii = false;
		else if (!is_atext(*p) && *p != ' ')
			special = true;
	}
	if (ascii && strstr(name, "=?") == NULL) {
		if (!special) {
			textbuf_append(out, name);
			return;
		}
		/* RFC 5322 quoted-string: only '"' and '\\' need a backslash. */
		textbuf_append_char(out, '"');
		for (p = (const unsigned char *)name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				textbuf_append_char(out, '\\');
			textbuf_append_char(out, (char)*p);
		}
		textbuf_append_char(out, '"');
		return;
	}
	for (w = name; *w != '\0'; ) {
		size_t n, now, need;
		const char *end;

		w += strspn(w, " \t");
		if (*w == '\0')
			break;
		n = strcspn(w, " \t");
		end = w + n;
		if (!word_is_plain(w, n)) {
			/* Extend the run over the following words that need encoding. */
			while (*end != '\0') {
				const char *nx = end + strspn(end, " \t");
				size_t nn = strcspn(nx, " \t");

				if (nn == 0 || word_is_plain(nx, nn))
					break;
				end = nx + nn;
			}
		}
		/* Plain: its length. Encoded: one word's length when the run fits in one,
		 * so it moves whole to the next line rather than being split. */
		need = word_is_plain(w, n) ? n : 12 + 4 * (((size_t)(end - w) + 2) / 3);
		if (need > WORD_MAX)
			need = 24;
		now = current_col(out, start, col);
		if (!first) {
			if (now + 1 + need > LINE_MAX_EW) {
				textbuf_append(out, "\r\n ");
				now = 1;
			} else {
				textbuf_append_char(out, ' ');
				now++;
			}
		}
		if (word_is_plain(w, n))
			textbuf_append_len(out, w, n);
		else
			append_encoded_words(out, w, (size_t)(end - w), now);
		first = false;
		w = end;
	}
}

/* in was validated by mime_parse_address() already. */
static void
append_address(struct textbuf *out, const char *in, size_t col)
{
	char *name = NULL, *addr = NULL;

	if (mime_parse_address(in, "address", &name, &addr, NULL) < 0)
		return;
	if (name != NULL) {
		const char *nl;
		size_t now;

		append_display_name(out, name, col);
		/* A long (encoded) name may leave no room: fold before the address. */
		nl = memrchr(out->data, '\n', out->len);
		now = nl != NULL ? out->len - (size_t)(nl + 1 - out->data) : out->len;
		textbuf_printf(out, "%s<%s>", now + strlen(addr) + 3 > 78 ? "\r\n " : " ", addr);
	} else
		textbuf_append(out, addr);
	free(name);
	free(addr);
}

static int
random_hex(char *out, size_t nbytes, struct errctx *ec)
{
	unsigned char raw[32];
	size_t i;
	ssize_t n;

	if (nbytes > sizeof(raw))
		return errctx_set(ec, -EINVAL, "random_hex: %zu bytes is too many", nbytes);
	n = getrandom(raw, nbytes, 0);
	if (n < 0 || (size_t)n != nbytes)
		return errctx_set(ec, n < 0 ? -errno : -EIO, "getrandom failed");
	for (i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
	return 0;
}

/* The id becomes the left part of the Message-ID, a dot-atom: any other byte
 * (from a command key, say) turns into '_' rather than failing the email. */
static char *
message_id_token(const char *in)
{
	size_t n = strlen(in) < MESSAGE_ID_TOKEN_MAX ? strlen(in) : MESSAGE_ID_TOKEN_MAX, i;
	char *t = xstrndup(in, n);

	for (i = 0; i < n; i++) {
		bool dot_ok = t[i] == '.' && i != 0 && i + 1 != n && t[i - 1] != '.';

		if (!is_atext((unsigned char)t[i]) && !dot_ok)
			t[i] = '_';
	}
	return t;
}

static void
append_part(struct textbuf *out, const char *boundary, const char *type, const char *body)
{
	char *qp;
	size_t qlen;

	qp = mime_qp_encode(body, strlen(body), &qlen);
	if (boundary != NULL)
		textbuf_printf(out, "--%s\r\n", boundary);
	textbuf_printf(out, "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
	textbuf_append_len(out, qp, qlen);
	/* This CRLF belongs to the next delimiter (RFC 2046 §5.1.1), so a body that
	 * ended without a newline decodes without one. */
	textbuf_append(out, "\r\n");
	free(qp);
}

int
mime_build(const struct mail_message *msg, char **ret, size_t *ret_len, struct errctx *ec)
{
	struct textbuf out = { 0 };
	char date[MIME_DATE_STRLEN], what[32], boundary[64], rnd[33];
	char *from_addr = NULL, *id = NULL;
	const char *domain;
	int64_t when;
	size_t i;
	int r;

	if (msg->to == NULL || msg->n_to == 0)
		return errctx_set(ec, -EINVAL, "to: no recipient");
	r = mime_parse_address(msg->from, "from", NULL, &from_addr, ec);
	if (r < 0)
		return r;
	for (i = 0; i < msg->n_to; i++) {
		char *a = NULL;

		snprintf(what, sizeof(what), "to[%zu]", i);
		r = mime_parse_address(msg->to[i], what, NULL, &a, ec);
		free(a);
		if (r < 0)
			goto out;
	}
	r = mime_check_header_value("subject", msg->subject, ec);
	if (r < 0)
		goto out;
	if (strlen(msg->subject) > SUBJECT_MAX) {
		r = errctx_set(ec, -E2BIG, "subject: longer than %d bytes", SUBJECT_MAX);
		goto out;
	}
	if (msg->text == NULL || !utf8_valid(msg->text) ||
	    (msg->html != NULL && !utf8_valid(msg->html))) {
		r = errctx_set(ec, -EINVAL, "body: %s", msg->text == NULL ? "text part missing" :
		    "not valid UTF-8");
		goto out;
	}
	if (msg->id != NULL && *msg->id != '\0') {
		r = mime_check_header_value("id", msg->id, ec);
		if (r < 0)
			goto out;
		id = message_id_token(msg->id);
	}
	r = random_hex(rnd, 16, ec);
	if (r < 0)
		goto out;
	domain = strchr(from_addr, '@') + 1;

	if (msg->date_usec != 0)
		when = msg->date_usec;
	else {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		when = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	}
	mime_format_date(when, date);
	textbuf_printf(&out, "Date: %s\r\nFrom: ", date);
	append_address(&out, msg->from, 6);
	textbuf_append(&out, "\r\nTo: ");
	for (i = 0; i < msg->n_to; i++) {
		if (i != 0)
			textbuf_append(&out, ",\r\n ");	/* one recipient per line keeps lines short */
		append_address(&out, msg->to[i], i == 0 ? 4 : 1);
	}
	textbuf_append(&out, "\r\nSubject: ");
	mime_append_header_text(&out, msg->subject, 9);
	if (id != NULL)
		textbuf_printf(&out, "\r\nMessage-ID: <%s@%s>", id, domain);
	else
		textbuf_printf(&out, "\r\nMessage-ID: <%" PRId64 ".%s@%s>", when / 1000000, rnd,
		    domain);
	/* RFC 3834: tells auto-responders not to answer a robot. */
	textbuf_append(&out, "\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
	if (msg->html == NULL) {
		append_part(&out, NULL, "text/plain", msg->text);
	} else {
		/* "=_" cannot occur in quoted-printable output ('=' is followed by hex
		 * or a line end), so the boundary never appears inside a part. */
		snprintf(boundary, sizeof(boundary), "=_alch_%s", rnd);
		textbuf_printf(&out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n"
		    "This is a multi-part message in MIME format.\r\n\r\n", boundary);
		append_part(&out, boundary, "text/plain", msg->text);
		append_part(&out, boundary, "text/html", msg->html);
		textbuf_printf(&out, "--%s--\r\n", boundary);
	}
	*ret = textbuf_take(&out, ret_len);
	r = 0;
out:
	textbuf_clear(&out);
	free(from_addr);
	free(id);
	return r;
}

int
mime_check_envelope(const char *from, const char *const *to, size_t n_to, struct errctx *ec)
{
	char what[32], *a = NULL;
	size_t i;
	int r;

	r = mime_parse_address(from, "from", NULL, &a, ec);
	free(a);
	if (r < 0)
		return r;
	if (to == NULL || n_to == 0)
		return errctx_set(ec, -EINVAL, "to: at least one recipient is needed");
	for (i = 0; i < n_to; i++) {
		(void)snprintf(what, sizeof what, "to[%zu]", i);
		a = NULL;
		r = mime_parse_address(to[i], what, NULL, &a, ec);
		free(a);
		if (r < 0)
			return r;
	}
	return 0;
}

char **
mime_copy_addresses(const char *const *to, size_t n)
{
	char **copy = xcalloc(n, sizeof *copy);
	size_t i;

	for (i = 0; i < n; i++)
		copy[i] = xstrdup(to[i]);
	return copy;
}

void
mime_free_addresses(char **to, size_t n)
{
	size_t i;

	if (to == NULL)
		return;
	for (i = 0; i < n; i++)
		free(to[i]);
	free(to);
}
