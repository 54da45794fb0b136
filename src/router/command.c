#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/strlist.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/router/command.h"

enum ckind { C_STR, C_BOOL, C_INT, C_STR_LIST };

/* Every key the command schema knows (seed-router-spec §1.2, plus
 * ignore_market_hours). Anything else is rejected, naming the key. */
static const struct {
	const char	*name;
	enum ckind	 kind;
	const char	*choices;	/* C_STR: '|'-list of allowed values, NULL = any */
} keys[] = {
	{ "schema_version", C_STR, "1.0" },
	{ "mode", C_STR, "trade|bot" },
	{ "trading_mode", C_STR, "paper|live" },
	{ "arguments", C_STR_LIST, NULL },
	{ "action", C_STR, "pnl_analysis" },
	{ "month", C_STR, NULL },
	{ "account_id", C_STR, NULL },
	{ "pnl_type", C_STR, "weekly|monthly" },
	{ "pnl_periods", C_INT, NULL },
	{ "pnl_period", C_STR, NULL },
	{ "pnl_detailed", C_BOOL, NULL },
	{ "to", C_STR, NULL },
	{ "subject", C_STR, NULL },
	{ "dry_run", C_BOOL, NULL },
	{ "correlation_id", C_STR, NULL },
	{ "causation_id", C_STR, NULL },
	{ "ignore_market_hours", C_BOOL, NULL },
	{ "force", C_BOOL, NULL },
};

/* Python's str_strip_whitespace: values are compared without surrounding blanks. */
static char *
stripped(const char *s)
{
	const char *e = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

static bool
matches_month(const char *s)
{
	return strlen(s) == 7 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-' &&
	    isdigit((unsigned char)s[5]) && isdigit((unsigned char)s[6]);
}

static bool
matches_period(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 2 || strchr("WMA", s[n - 1]) == NULL)
		return false;
	for (i = 0; i < n - 1; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int
check_key(const char *key, json_t *v, struct errctx *ec)
{
	size_t i, j;
	json_t *item;

	for (i = 0; i < ELEMENTSOF(keys); i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (json_is_null(v))
			return 0;
		switch (keys[i].kind) {
		case C_STR:
			if (!json_is_string(v))
				return errctx_set(ec, -EBADMSG, "command field '%s': expected string, got %s",
				    key, json_type_name(v));
			if (keys[i].choices != NULL) {
				_cleanup_free_ char *s = stripped(json_string_value(v));

				if (!strlist_has(keys[i].choices, s))
					return errctx_set(ec, -EBADMSG,
					    "command field '%s': '%s' is not one of %s", key, s, keys[i].choices);
			}
			return 0;
		case C_BOOL:
			if (!json_is_boolean(v))
				return errctx_set(ec, -EBADMSG, "command field '%s': expected boolean, got %s",
				    key, json_type_name(v));
			return 0;
		case C_INT:
			if (!json_is_integer(v))
				return errctx_set(ec, -EBADMSG, "command field '%s': expected integer, got %s",
				    key, json_type_name(v));
			return 0;
		case C_STR_LIST:
			if (!json_is_array(v))
				return errctx_set(ec, -EBADMSG, "command field '%s': expected list of strings, got %s",
				    key, json_type_name(v));
			json_array_foreach(v, j, item)
				if (!json_is_string(item))
					return errctx_set(ec, -EBADMSG, "command field '%s[%zu]': expected string, got %s",
					    key, j, json_type_name(item));
			return 0;
		}
	}
	return errctx_set(ec, -EBADMSG, "command has unknown key '%s'", key);
}

static char *
opt_stripped(const json_t *obj, const char *key)
{
	const char *s = json_get_str(obj, key);

	return s != NULL ? stripped(s) : NULL;
}

int
command_parse(const json_t *obj, struct command **ret, struct errctx *ec)
{
	struct command *c;
	const char *key;
	json_t *v;
	char *mode, *action;
	int r;

	if (!json_is_object(obj))
		return errctx_set(ec, -EBADMSG, "command: expected object, got %s", json_type_name(obj));
	json_object_foreach((json_t *)obj, key, v) {
		r = check_key(key, v, ec);
		if (r < 0)
			return r;
	}
	c = xcalloc(1, sizeof *c);
	c->body = json_deep_copy(obj);
	c->correlation_id = opt_stripped(obj, "correlation_id");
	c->causation_id = opt_stripped(obj, "causation_id");
	c->trading_mode = opt_stripped(obj, "trading_mode");
	c->pnl_type = opt_stripped(obj, "pnl_type");
	c->pnl_period = opt_stripped(obj, "pnl_period");
	c->month = opt_stripped(obj, "month");
	c->account_id = opt_stripped(obj, "account_id");
	c->to = opt_stripped(obj, "to");
	c->subject = opt_stripped(obj, "subject");
	c->pnl_detailed = json_is_true(json_object_get(obj, "pnl_detailed"));
	c->dry_run = json_is_true(json_object_get(obj, "dry_run"));
	c->ignore_market_hours = json_is_true(json_object_get(obj, "ignore_market_hours"));
	c->force = json_is_true(json_object_get(obj, "force"));
	v = json_object_get(obj, "pnl_periods");
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 1) {
			command_free(c);
			return errctx_set(ec, -EBADMSG, "command field 'pnl_periods': must be >= 1, got %lld",
			    (long long)json_integer_value(v));
		}
		c->pnl_periods = json_integer_value(v);
	}
	if (c->month != NULL && !matches_month(c->month)) {
		r = errctx_set(ec, -EBADMSG, "command field 'month': '%s' is not YYYY-MM", c->month);
		command_free(c);
		return r;
	}
	if (c->pnl_period != NULL && !matches_period(c->pnl_period)) {
		r = errctx_set(ec, -EBADMSG, "command field 'pnl_period': '%s' is not like 1W, 3M or 1A",
		    c->pnl_period);
		command_free(c);
		return r;
	}
	if (c->correlation_id != NULL && c->correlation_id[0] == '\0') {
		command_free(c);
		return errctx_set(ec, -EBADMSG, "command field 'correlation_id': must not be empty");
	}
	mode = opt_stripped(obj, "mode");
	action = opt_stripped(obj, "action");
	if (action != NULL) {
		c->action = COMMAND_PNL;
		if (c->pnl_type == NULL && c->pnl_period == NULL) {
			free(mode);
			free(action);
			command_free(c);
			return errctx_set(ec, -EBADMSG,
			    "P&L analysis requires either 'pnl_type' or 'pnl_period' to be specified");
		}
	} else if ((mode != NULL && strcmp(mode, "bot") == 0) || c->dry_run)
		/* dry_run was ignored by the seed (it traded); here it never places orders. */
		c->action = COMMAND_SIGNAL_ONLY;
	else
		c->action = COMMAND_TRADE;
	free(mode);
	free(action);
	*ret = c;
	return 0;
}

const char *
command_action_to_string(enum command_action a)
{
	switch (a) {
	case COMMAND_TRADE:		return "trade";
	case COMMAND_SIGNAL_ONLY:	return "signal-only";
	case COMMAND_PNL:		return "pnl";
	default:			return "invalid";
	}
}

void
command_free(struct command *c)
{
	if (c == NULL)
		return;
	free(c->correlation_id);
	free(c->causation_id);
	free(c->trading_mode);
	free(c->pnl_type);
	free(c->pnl_period);
	free(c->month);
	free(c->account_id);
	free(c->to);
	free(c->subject);
	json_decref(c->body);
	free(c);
}
