#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/core/xalloc.h"

static int64_t days_from_civil(int y, unsigned m, unsigned d);

void
abuf_init(struct abuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

static void
abuf_reserve(struct abuf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xreallocarray(b->data, b->cap, 1);
}

void
abuf_add(struct abuf *b, const void *p, size_t n)
{
	abuf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
abuf_puts(struct abuf *b, const char *s)
{
	abuf_add(b, s, strlen(s));
}

void
abuf_putc(struct abuf *b, char c)
{
	abuf_add(b, &c, 1);
}

void
abuf_printf(struct abuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	/* One formatting pass when it fits the room left (it mostly does: the
	 * signer's lines are short); measuring first cost a second pass. */
	abuf_reserve(b, 64);
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		abuf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

char *
abuf_steal(struct abuf *b)
{
	char *s;

	if (b->data == NULL)
		return xstrdup("");
	s = b->data;
	abuf_init(b);
	return s;
}

void
abuf_free(struct abuf *b)
{
	free(b->data);
	abuf_init(b);
}

void
aws_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Why fetched once: EVP_sha256() and EVP_md5() are legacy method tables, and
 * OpenSSL 3 looks the provider's implementation up again on every
 * EVP_DigestInit with one of them (name lookup, method store, locks): more
 * than hashing a SigV4 canonical request costs on a CPU with SHA
 * instructions (issue #13 profile). An explicitly fetched EVP_MD is used
 * directly. They are never freed: process lifetime, like OpenSSL's own
 * method store. */
static EVP_MD *md_sha256, *md_md5;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void
md_init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	if (md_sha256 == NULL || md_md5 == NULL)
		abort();
}

static void
digest(const EVP_MD *md, const void *data, size_t len, unsigned char *out, unsigned want)
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != want)
		abort();
}

void
aws_sha256(const void *data, size_t len, unsigned char out[AWS_SHA256_LEN])
{
	pthread_once(&md_once, md_init);
	digest(md_sha256, data, len, out, AWS_SHA256_LEN);
}

void
aws_sha256_hex(const void *data, size_t len, char out[AWS_SHA256_HEX_LEN + 1])
{
	unsigned char md[AWS_SHA256_LEN];

	aws_sha256(data, len, md);
	aws_hex(md, sizeof md, out);
}

#define HMAC_BLOCK 64	/* SHA-256's block size */

/* HMAC (RFC 2104) over the fetched SHA-256, with one digest context: the
 * EVP_MAC "HMAC" path copies three digest contexts per call and a fresh one
 * fetches by name. RFC 4231's vectors are in tests/unit/aws/test_sigv4.c. */
void
aws_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
    unsigned char out[AWS_SHA256_LEN])
{
	unsigned char k[HMAC_BLOCK] = { 0 }, pad[HMAC_BLOCK], inner[AWS_SHA256_LEN];
	unsigned int n = 0, m = 0;
	EVP_MD_CTX *ctx;
	size_t i;

	pthread_once(&md_once, md_init);
	if (key_len > HMAC_BLOCK)
		digest(md_sha256, key, key_len, k, AWS_SHA256_LEN);
	else if (key_len > 0)
		memcpy(k, key, key_len);
	ctx = EVP_MD_CTX_new();
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	if (ctx == NULL || EVP_DigestInit_ex2(ctx, md_sha256, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, pad, HMAC_BLOCK) != 1 || EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, inner, &n) != 1 || n != AWS_SHA256_LEN)
		abort();
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	/* out may alias key or data: both are consumed by now. */
	if (EVP_DigestInit_ex2(ctx, md_sha256, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, pad, HMAC_BLOCK) != 1 ||
	    EVP_DigestUpdate(ctx, inner, sizeof inner) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &m) != 1 || m != AWS_SHA256_LEN)
		abort();
	EVP_MD_CTX_free(ctx);
	explicit_bzero(k, sizeof k);
	explicit_bzero(pad, sizeof pad);
	explicit_bzero(inner, sizeof inner);
}

void
aws_md5_hex(const void *data, size_t len, char out[AWS_MD5_HEX_LEN + 1])
{
	unsigned char md[16];

	/* MD5 only because SQS reports MD5OfBody; never for security. */
	pthread_once(&md_once, md_init);
	digest(md_md5, data, len, md, 16);
	aws_hex(md, 16, out);
}

void
aws_uri_encode(struct abuf *b, const char *s, size_t n, bool keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
			abuf_putc(b, (char)c);
		} else {
			char esc[3] = { '%', digits[c >> 4], digits[c & 0xf] };

			abuf_add(b, esc, 3);
		}
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
aws_uri_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

void
aws_format_amz_date(int64_t usec, char out[AWS_AMZ_DATE_LEN + 1])
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	(void)strftime(out, AWS_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

static int64_t
days_from_civil(int y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: exact for the proleptic Gregorian calendar. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t
civil_usec(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	return ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s) * INT64_C(1000000);
}

int
aws_parse_http_date(const char *s, int64_t *ret_usec)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char wday[4], mon[4], zone[4];
	int y, d, h, mi, sec, n = 0;
	unsigned m;

	if (s == NULL || sscanf(s, "%3s, %d %3s %d %d:%d:%d %3s%n", wday, &d, mon, &y, &h, &mi,
	    &sec, zone, &n) != 8 || strcmp(zone, "GMT") != 0)
		return -EINVAL;
	for (m = 0; m < 12; m++)
		if (strcmp(mon, months[m]) == 0)
			break;
	if (m == 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
	    sec > 60 || y < 1970)
		return -EINVAL;
	*ret_usec = civil_usec(y, m + 1, (unsigned)d, (unsigned)h, (unsigned)mi, (unsigned)sec);
	return 0;
}

int
aws_parse_iso8601(const char *s, int64_t *ret_usec)
{
	int y, mo, d, h, mi, sec, n = 0;
	int64_t usec, frac = 0, scale = 100000;
	const char *p;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
	    &n) != 6 || n == 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return -EINVAL;
	p = s + n;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	usec = civil_usec(y, (unsigned)mo, (unsigned)d, (unsigned)h, (unsigned)mi, (unsigned)sec) + frac;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, k = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
			return -EINVAL;
		usec -= (*p == '+' ? 1 : -1) * ((int64_t)oh * 3600 + om * 60) * INT64_C(1000000);
		p += 6;
	} else if (*p != '\0') {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	*ret_usec = usec;
	return 0;
}

int64_t
aws_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
aws_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double
aws_random01(void)
{
	uint64_t v;

	/* Jitter needs no crypto strength, but getrandom is thread-safe and never
	 * blocks once the pool is up (it is by the time a daemon runs). */
	if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
		v = (uint64_t)aws_monotonic_usec() * UINT64_C(6364136223846793005);
	return (double)(v >> 11) / (double)(UINT64_C(1) << 53);
}

void
aws_error_code_short(const char *type, char *out, size_t size)
{
	const char *p, *end;
	size_t n;

	if (size == 0)
		return;
	out[0] = '\0';
	if (type == NULL)
		return;
	p = strrchr(type, '#');
	p = p != NULL ? p + 1 : type;
	end = strchr(p, ':');
	n = end != NULL ? (size_t)(end - p) : strlen(p);
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}
