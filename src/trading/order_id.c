/*
 * order_id: client_order_id derivation (see the header). SHA-256 truncated to
 * 48 bits per order key: with a handful of orders per plan a collision is not
 * a practical concern, and the run prefix separates plans.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "alchemiser/trading/order_id.h"

static void sha_hex(const void *data, size_t len, char *out, size_t hex_chars);

static void
sha_hex(const void *data, size_t len, char *out, size_t hex_chars)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (size_t i = 0; i < hex_chars / 2 && i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
order_id_run_prefix(const char *plan_event_id, char out[ORDER_ID_PREFIX_MAX])
{
	char hex[11] = "";

	sha_hex(plan_event_id, strlen(plan_event_id), hex, 10);
	snprintf(out, ORDER_ID_PREFIX_MAX, "alc-%s-", hex);
}

void
order_id_make(const char *plan_event_id, const char *symbol, enum broker_side side, int attempt,
    char out[BROKER_CLIENT_ID_MAX])
{
	char prefix[ORDER_ID_PREFIX_MAX], key[512], hex[13] = "";
	int len;

	order_id_run_prefix(plan_event_id, prefix);
	/* NUL-separated fields: no two different tuples share a key text. */
	len = snprintf(key, sizeof key, "%s%c%s%c%s%c%d", plan_event_id, 0, symbol, 0,
	    broker_side_to_string(side), 0, attempt);
	if (len < 0 || (size_t)len >= sizeof key)
		len = (int)sizeof key - 1;
	sha_hex(key, (size_t)len, hex, 12);
	snprintf(out, BROKER_CLIENT_ID_MAX, "%s%s-%d", prefix, hex, attempt);
}

bool
order_id_is_run(const char *plan_event_id, const char *cid)
{
	char prefix[ORDER_ID_PREFIX_MAX];

	order_id_run_prefix(plan_event_id, prefix);
	return cid != NULL && strncmp(cid, prefix, strlen(prefix)) == 0;
}

bool
order_id_is_daemon(const char *cid)
{
	return cid != NULL && strncmp(cid, "alc-", 4) == 0;
}
