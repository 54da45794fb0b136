#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	abuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
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

void
aws_sha256(const void *data, size_t len, unsigned char out[AWS_SHA256_LEN])
{
	unsigned int n = 0;

	/* EVP_Digest with the built-in method table: no provider fetch per call. */
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != AWS_SHA256_LEN)
		abort();
}

void
aws_sha256_hex(const void *data, size_t len, char out[AWS_SHA256_HEX_LEN + 1])
{
	unsigned char md[AWS_SHA256_LEN];

	aws_sha256(data, len, md);
	aws_hex(md, sizeof md, out);
}

/* Why a template: in OpenSSL 3 both HMAC() and a fresh EVP_MAC_CTX fetch the
 * algorithm and parse the digest name on every call, which costs more than
 * the hash (bench: most of the signing time under load). The template is set
 * up once; each call duplicates it, which copies state and looks nothing up. */
static EVP_MAC_CTX *hmac_template;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void
hmac_template_init(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	if (mac == NULL)
		abort();
	hmac_template = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);	/* the context keeps its own reference */
	if (hmac_template == NULL || EVP_MAC_CTX_set_params(hmac_template, params) != 1)
		abort();
}

void
aws_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
    unsigned char out[AWS_SHA256_LEN])
{
	EVP_MAC_CTX *ctx;
	size_t n = 0;

	pthread_once(&hmac_once, hmac_template_init);
	ctx = EVP_MAC_CTX_dup(hmac_template);
	if (ctx == NULL || EVP_MAC_init(ctx, key, key_len, NULL) != 1 ||
	    EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, out, &n, AWS_SHA256_LEN) != 1 || n != AWS_SHA256_LEN)
		abort();
	EVP_MAC_CTX_free(ctx);
}

void
aws_md5_hex(const void *data, size_t len, char out[AWS_MD5_HEX_LEN + 1])
{
	unsigned char md[16];
	unsigned int n = 0;

	/* MD5 only because SQS reports MD5OfBody; never for security. */
	if (EVP_Digest(data, len, md, &n, EVP_md5(), NULL) != 1 || n != 16)
		abort();
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
