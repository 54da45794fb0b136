/*
 * run_key: see include/alchemiser/stages/run_key.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/uuid.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/trading/calendar.h"

#define FAILED_PREFIX "run-failed:"

static void
session_date(int64_t usec, char out[16])
{
	int y;
	unsigned m, d;

	calendar_civil_from_days(calendar_new_york_days(usec), &y, &m, &d);
	(void)snprintf(out, 16, "%04d-%02u-%02u", y, m, d);
}

int
run_key_account(struct broker *b, char *out, size_t size, struct errctx *ec)
{
	struct broker_account a;
	int r;

	if (b == NULL) {
		(void)snprintf(out, size, "no-broker");
		return 0;
	}
	r = b->ops->get_account(b, &a, ec);
	if (r < 0)
		return errctx_prefix(ec, "the broker account (for the run key)");
	if (a.id[0] != '\0')
		(void)snprintf(out, size, "%s", a.id);
	else
		(void)snprintf(out, size, "%s:default", b->ops->name);
	return 0;
}

char *
run_key_base(const char *account, enum command_action a, int64_t session_usec)
{
	char date[16];

	session_date(session_usec, date);
	return xasprintf("run:%s/%s/%s", account, command_action_to_string(a), date);
}

static int
failed(struct idem_store *s, const char *key, int64_t now_usec, bool *ret, struct errctx *ec)
{
	char corr[UUID_STRLEN], *fk;
	struct idem_record rec;
	int r;

	r = uuid_v5(UUID_NAMESPACE_ALCHEMISER, key, strlen(key), corr);
	if (r < 0)
		return errctx_set(ec, r, "run key '%s': no correlation id", key);
	fk = xasprintf(FAILED_PREFIX "%s", corr);
	r = s->ops->lookup(s, fk, now_usec, &rec, ec);
	free(fk);
	*ret = r == 0;
	if (r == -ENOENT) {
		errctx_clear(ec);
		r = 0;
	}
	return r;
}

int
run_key_resolve(struct idem_store *s, const char *base, int64_t now_usec, char **ret,
    struct errctx *ec)
{
	struct idem_record rec;
	char *key = NULL;
	bool f;
	int r;

	for (int n = 1; n <= RUN_KEY_MAX_RUNS; n++) {
		free(key);
		key = n == 1 ? xstrdup(base) : xasprintf("%s#%d", base, n);
		r = s->ops->lookup(s, key, now_usec, &rec, ec);
		if (r == -ENOENT) {
			errctx_clear(ec);
			break;		/* never run: this one */
		}
		if (r < 0)
			goto fail;
		if (strcmp(rec.status, "COMPLETED") != 0)
			break;		/* starting right now: the claim decides */
		r = failed(s, key, now_usec, &f, ec);
		if (r < 0)
			goto fail;
		if (!f)
			break;		/* started and not failed: the claim says duplicate */
	}
	/* Past RUN_KEY_MAX_RUNS failures the last key stands: a duplicate. */
	*ret = key;
	return 0;
fail:
	free(key);
	return errctx_prefix(ec, "run key '%s'", base);
}

int
run_key_for_command(struct idem_store *s, struct broker *b, const struct command *cmd,
    int64_t sent_usec, int64_t now_usec, char **ret, struct errctx *ec)
{
	char account[128];
	char *base;
	int r;

	r = run_key_account(b, account, sizeof account, ec);
	if (r < 0)
		return r;
	base = run_key_base(account, cmd->action, sent_usec > 0 ? sent_usec : now_usec);
	r = run_key_resolve(s, base, now_usec, ret, ec);
	free(base);
	return r;
}

static int
mark(struct idem_store *s, const char *prefix, const char *detail_type, const char *correlation_id,
    const char *owner, int64_t now_usec, int64_t retention_usec, struct errctx *ec)
{
	_cleanup_free_ char *key = xasprintf("%s%s", prefix, correlation_id);
	struct idem_claim c = {
		.key = key, .owner = owner, .detail_type = detail_type,
		.correlation_id = correlation_id, .now_usec = now_usec, .lease_usec = 60 * INT64_C(1000000),
		.retention_usec = retention_usec,
	};
	enum idem_claim_result res;
	int r;

	r = s->ops->claim(s, &c, &res, NULL, ec);
	if (r < 0)
		return r;
	if (res == IDEM_COMPLETED || res == IDEM_BUSY)
		return 0;	/* marked already (or being marked) */
	return s->ops->complete(s, key, owner, now_usec, ec);
}

int
run_key_mark_failed(struct idem_store *s, const char *correlation_id, const char *owner,
    int64_t now_usec, int64_t retention_usec, struct errctx *ec)
{
	return mark(s, FAILED_PREFIX, "RunFailed", correlation_id, owner, now_usec, retention_usec, ec);
}

int
run_key_mark_superseded(struct idem_store *s, const char *correlation_id, const char *owner,
    int64_t now_usec, int64_t retention_usec, struct errctx *ec)
{
	return mark(s, "run-superseded:", "RunSuperseded", correlation_id, owner, now_usec,
	    retention_usec, ec);
}

void
run_key_duplicate_reason(const char *key, char *buf, size_t size)
{
	char corr[UUID_STRLEN];

	if (uuid_v5(UUID_NAMESPACE_ALCHEMISER, key, strlen(key), corr) < 0)
		(void)snprintf(corr, sizeof corr, "?");
	(void)snprintf(buf, size, "duplicate of run %s (run key %s): one run per account, mode and "
	    "session; send \"force\": true or a new \"correlation_id\" to start another", corr, key);
}

void
run_key_explain(json_t *explain, const struct command *cmd, int64_t now_usec)
{
	char date[16];

	session_date(now_usec, date);
	json_object_set_new(explain, "run_key", json_pack("s+++", "run:<account>/",
	    command_action_to_string(cmd->action), "/", date));
	json_object_set_new(explain, "run_key_parts", json_pack("{s:s, s:s, s:s}",
	    "account", "the broker's account id, read when the message is handled",
	    "mode", command_action_to_string(cmd->action),
	    "session", "New York date the message was sent (shown: today's)"));
}
