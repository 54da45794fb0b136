/* ReceiveMessage responses read without jansson: see
 * include/alchemiser/aws/sqs_receive.h for what is read and when it declines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/aws/sqs_receive.h"
#include "alchemiser/core/xalloc.h"

struct rx {
	const char	*p, *end;
};

static void
ws(struct rx *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
		x->p++;
}

/* The next byte (after white space) is c: consume it. */
static bool
lit(struct rx *x, char c)
{
	ws(x);
	if (x->p < x->end && *x->p == c) {
		x->p++;
		return true;
	}
	return false;
}

static bool
word(struct rx *x, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(x->end - x->p) < n || memcmp(x->p, w, n) != 0)
		return false;
	x->p += n;
	return true;
}

static int
hex4(const char *s, const char *e, unsigned *cp)
{
	unsigned v = 0;
	int i;

	if (e - s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*cp = v;
	return 0;
}

static size_t
put_utf8(char *d, unsigned cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | (cp >> 6));
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | (cp >> 12));
		d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | (cp >> 18));
	d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the string content [s, e) (its escapes already known to be
 * complete pairs) into d (room for e - s bytes: decoding never grows);
 * d NULL only checks. Returns the decoded length, or -1 to decline. */
static long
decode(const char *s, const char *e, char *d)
{
	char scratch[4];
	size_t o = 0, k;

	while (s < e) {
		char c = *s++;
		unsigned cp, lo;

		if (c != '\\') {
			if (d != NULL)
				d[o] = c;
			o++;
			continue;
		}
		c = *s++;
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (hex4(s, e, &cp) < 0)
				return -1;
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (e - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, e, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
				return -1;	/* a lone low surrogate; NUL (jansson refuses it) */
			}
			k = put_utf8(d != NULL ? d + o : scratch, cp);
			o += k;
			continue;
		default:
			return -1;
		}
		if (d != NULL)
			d[o] = c;
		o++;
	}
	return (long)o;
}

/* A string; with out, decoded into a malloc'd copy (*olen its length). */
static bool
str(struct rx *x, char **out, size_t *olen)
{
	const char *s;
	bool esc = false;
	long n;

	ws(x);
	if (x->p >= x->end || *x->p != '"')
		return false;
	s = ++x->p;
	for (;;) {
		unsigned char c;

		if (x->p >= x->end)
			return false;
		c = (unsigned char)*x->p;
		if (c == '"')
			break;
		if (c < 0x20 || c >= 0x80)
			return false;	/* invalid, or UTF-8 for jansson to check */
		if (c == '\\') {
			esc = true;
			if (++x->p >= x->end)
				return false;
			if ((unsigned char)*x->p < 0x20 || (unsigned char)*x->p >= 0x80)
				return false;
		}
		x->p++;
	}
	if (!esc) {
		n = x->p - s;
	} else if (out == NULL) {
		n = decode(s, x->p, NULL);
	} else {
		char *d = xmalloc((size_t)(x->p - s) + 1);

		n = decode(s, x->p, d);
		if (n < 0) {
			free(d);
			return false;
		}
		d[n] = '\0';
		*out = d;
		*olen = (size_t)n;
		x->p++;
		return true;
	}
	if (n < 0)
		return false;
	if (out != NULL) {
		*out = xmalloc((size_t)n + 1);
		memcpy(*out, s, (size_t)n);
		(*out)[n] = '\0';
		*olen = (size_t)n;
	}
	x->p++;
	return true;
}

/* A key without escapes (else decline), then the colon: its bytes in
 * [*k, *k + *kn). */
static bool
key(struct rx *x, const char **k, size_t *kn)
{
	const char *s;

	ws(x);
	if (x->p >= x->end || *x->p != '"')
		return false;
	s = ++x->p;
	while (x->p < x->end && *x->p != '"') {
		unsigned char c = (unsigned char)*x->p;

		if (c < 0x20 || c >= 0x80 || c == '\\')
			return false;
		x->p++;
	}
	if (x->p >= x->end)
		return false;
	*k = s;
	*kn = (size_t)(x->p - s);
	x->p++;
	return lit(x, ':');
}

static bool
key_is(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

/* Check one value and step over it (no numbers: SQS sends none). */
static bool
skip(struct rx *x, int depth)
{
	const char *k;
	size_t kn;

	ws(x);
	if (x->p >= x->end)
		return false;
	switch (*x->p) {
	case '"':
		return str(x, NULL, NULL);
	case '{':
		if (depth >= SQS_RX_MAX_DEPTH)
			return false;
		x->p++;
		if (lit(x, '}'))
			return true;
		do {
			if (!key(x, &k, &kn) || !skip(x, depth + 1))
				return false;
		} while (lit(x, ','));
		return lit(x, '}');
	case '[':
		if (depth >= SQS_RX_MAX_DEPTH)
			return false;
		x->p++;
		if (lit(x, ']'))
			return true;
		do {
			if (!skip(x, depth + 1))
				return false;
		} while (lit(x, ','));
		return lit(x, ']');
	case 't':
		return word(x, "true");
	case 'f':
		return word(x, "false");
	case 'n':
		return word(x, "null");
	default:
		return false;
	}
}

/* A field read once: a repeat declines (jansson keeps the last). */
static bool
field(struct rx *x, char **f, size_t *len)
{
	size_t scratch;

	if (*f != NULL)
		return false;
	return str(x, f, len != NULL ? len : &scratch);
}

static bool
attributes(struct rx *x, struct sqs_rx_message *m, int depth, bool *seen)
{
	const char *k;
	size_t kn;

	if (*seen || !lit(x, '{'))
		return false;
	*seen = true;
	if (lit(x, '}'))
		return true;
	do {
		bool ok;

		if (!key(x, &k, &kn))
			return false;
		if (key_is(k, kn, "ApproximateReceiveCount"))
			ok = field(x, &m->receive_count, NULL);
		else if (key_is(k, kn, "SentTimestamp"))
			ok = field(x, &m->sent, NULL);
		else if (key_is(k, kn, "ApproximateFirstReceiveTimestamp"))
			ok = field(x, &m->first_receive, NULL);
		else
			ok = skip(x, depth + 1);
		if (!ok)
			return false;
	} while (lit(x, ','));
	return lit(x, '}');
}

/* One element of Messages; keep: fill m, else only check it. */
static bool
message(struct rx *x, struct sqs_rx_message *m, bool keep, int depth)
{
	bool attrs_seen = false, mattrs_seen = false;
	const char *k;
	size_t kn;

	if (!keep)
		return skip(x, depth);
	if (!lit(x, '{'))
		return false;
	if (lit(x, '}'))
		return false;	/* no MessageId: jansson's path says so */
	do {
		bool ok;

		if (!key(x, &k, &kn))
			return false;
		if (key_is(k, kn, "MessageId"))
			ok = field(x, &m->message_id, NULL);
		else if (key_is(k, kn, "ReceiptHandle"))
			ok = field(x, &m->receipt, NULL);
		else if (key_is(k, kn, "Body"))
			ok = field(x, &m->body, &m->body_len);
		else if (key_is(k, kn, "MD5OfBody"))
			ok = field(x, &m->md5, NULL);
		else if (key_is(k, kn, "Attributes"))
			ok = attributes(x, m, depth + 1, &attrs_seen);
		else if (key_is(k, kn, "MessageAttributes")) {
			/* Only none: a tree of them is jansson's to build. */
			ok = !mattrs_seen && lit(x, '{') && lit(x, '}');
			mattrs_seen = true;
		} else
			ok = skip(x, depth + 1);
		if (!ok)
			return false;
	} while (lit(x, ','));
	return lit(x, '}') && m->message_id != NULL && m->receipt != NULL && m->body != NULL;
}

static bool
scan(struct rx *x, size_t max, struct sqs_rx_message *out, size_t *n)
{
	bool seen_messages = false;
	const char *k;
	size_t kn;

	if (!lit(x, '{'))
		return false;
	if (lit(x, '}'))
		goto end;
	do {
		if (!key(x, &k, &kn))
			return false;
		if (!key_is(k, kn, "Messages")) {
			if (!skip(x, 1))
				return false;
			continue;
		}
		if (seen_messages || !lit(x, '['))
			return false;
		seen_messages = true;
		if (lit(x, ']'))
			continue;
		do {
			bool keep = *n < max;

			if (!message(x, keep ? &out[*n] : NULL, keep, 2))
				return false;
			if (keep)
				(*n)++;
		} while (lit(x, ','));
		if (!lit(x, ']'))
			return false;
	} while (lit(x, ','));
	if (!lit(x, '}'))
		return false;
end:
	ws(x);
	return x->p == x->end;
}

bool
sqs_rx_scan(const char *text, size_t len, size_t max, struct sqs_rx_message *out, size_t *n)
{
	struct rx x = { text, text + len };
	size_t i;

	*n = 0;
	memset(out, 0, max * sizeof *out);
	if (len == 0)
		return true;	/* local-aws-sqs answers an empty receive so */
	if (scan(&x, max, out, n))
		return true;
	for (i = 0; i < max; i++)
		sqs_rx_clear(&out[i]);
	*n = 0;
	return false;
}

void
sqs_rx_clear(struct sqs_rx_message *m)
{
	free(m->message_id);
	free(m->receipt);
	free(m->body);
	free(m->md5);
	free(m->receive_count);
	free(m->sent);
	free(m->first_receive);
	memset(m, 0, sizeof *m);
}
