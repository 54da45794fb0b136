#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "alchemiser/core/uuid.h"

static int	hexval(char c);
static bool	uuid_parse(const char *s, uint8_t out[16]);
static void	uuid_format(uint8_t b[16], unsigned version, char out[UUID_STRLEN]);

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

/* 8-4-4-4-12 hex, either case, nothing before or after. */
static bool
uuid_parse(const char *s, uint8_t out[16])
{
	int n = 0;

	if (s == NULL)
		return false;
	for (int i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		/* A NUL here fails hexval, so we never read past the string. */
		if ((hi = hexval(s[i])) < 0 || (lo = hexval(s[i + 1])) < 0)
			return false;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return s[36] == '\0';
}

/* Stamp version and the RFC 4122 variant (10xx), then print lower case. */
static void
uuid_format(uint8_t b[16], unsigned version, char out[UUID_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	b[6] = (uint8_t)((b[6] & 0x0f) | (version << 4));
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 0x0f];
	}
	*p = '\0';
}

int
uuid_v4(char out[UUID_STRLEN])
{
	uint8_t b[16];
	size_t got = 0;

	/* Why a loop: getrandom may return short or be interrupted by a signal. */
	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	uuid_format(b, 4, out);
	return 0;
}

/* RFC 4122 section 4.3: SHA-1 over namespace bytes then name, first 16 bytes. */
int
uuid_v5(const char *ns, const void *name, size_t len, char out[UUID_STRLEN])
{
	uint8_t nsb[16], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (!uuid_parse(ns, nsb))
		return -EINVAL;
	if (name == NULL && len > 0)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, nsb, sizeof nsb) == 1 &&
	    (len == 0 || EVP_DigestUpdate(ctx, name, len) == 1) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	uuid_format(md, 5, out);
	return 0;
}

bool
uuid_is_valid(const char *s)
{
	uint8_t b[16];

	return uuid_parse(s, b);
}
