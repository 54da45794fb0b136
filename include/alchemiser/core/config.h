/*
 * config: the INI configuration file, read into an immutable, reference-counted
 * snapshot. One table (config_table.c) lists every key with its type, default,
 * bounds, reload rule and documentation; the parser, the defaults,
 * --print-config and the man-page test all read it. Parsing collects every
 * problem in one pass ("file:line: key 'x': reason", with the nearest valid
 * key for typos) before failing.
 * Thread:  a snapshot is immutable: any thread may read it while it holds a
 *          reference. config_ref/config_unref are atomic.
 * Memory:  config_load() returns a snapshot with one reference; strings
 *          returned by the getters are borrowed for the snapshot's lifetime.
 *
 * Keys are named "section.key". Getters assert that the key exists and has the
 * asked type: a wrong name is a programming error, not a runtime condition.
 */
#ifndef ALCHEMISER_CORE_CONFIG_H
#define ALCHEMISER_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alchemiser/core/decimal.h"

struct errctx;
struct config;
struct secret;

enum config_type {
	CONFIG_STRING,
	CONFIG_PATH,		/* string; relative paths resolve against the config file's folder */
	CONFIG_INT,		/* int64 within [min, max] */
	CONFIG_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	CONFIG_DURATION,	/* "250ms", "30s", "5m", "2h", "400d"; stored as usec */
	CONFIG_DECIMAL,		/* exact decimal within [min, max] (bounds in 10^-8 units) */
	CONFIG_ENUM,		/* one of a '|'-separated list */
	CONFIG_LIST,		/* comma-separated strings */
	CONFIG_SECRET,		/* the value names a credential file; the file is read at load */
	_CONFIG_TYPE_MAX
};

struct config_key {
	const char	*name;		/* "section.key" */
	enum config_type type;
	const char	*def;		/* default in file syntax; NULL = required, "" = empty/unset */
	int64_t		 min, max;	/* INT bounds; DURATION in usec; DECIMAL in units; 0,0 = none */
	const char	*choices;	/* ENUM: "aws|local" */
	bool		 reloadable;	/* false: a change needs a restart (logged at SIGHUP) */
	const char	*doc;		/* one line, also used for the man-page test */
};

/* The whole table, terminated by a NULL name. */
const struct config_key *config_table(void);
const struct config_key *config_table_find(const char *name);

/* Load path (NULL = built-in defaults only). On failure *ec holds the first
 * problem and, when errors != NULL, every problem is written there, one per line. */
int	config_load(const char *path, FILE *errors, struct config **ret, struct errctx *ec);
/* Load from text (tests, --explain): origin names it in messages. */
int	config_load_string(const char *text, const char *origin, const char *basedir,
	    FILE *errors, struct config **ret, struct errctx *ec);

struct config *config_ref(struct config *c);
void	config_unref(struct config *c);

const char	*config_str(const struct config *c, const char *name);	/* STRING, PATH, ENUM; "" if unset */
int64_t		 config_int(const struct config *c, const char *name);
bool		 config_bool(const struct config *c, const char *name);
int64_t		 config_usec(const struct config *c, const char *name);	/* DURATION */
struct decimal	 config_decimal(const struct config *c, const char *name);
/* LIST: number of items and the i-th item (borrowed). */
size_t		 config_list_len(const struct config *c, const char *name);
const char	*config_list_item(const struct config *c, const char *name, size_t i);
/* SECRET: NULL when unset. Borrowed for the snapshot's lifetime. */
const struct secret *config_secret(const struct config *c, const char *name);
/* The file it came from ("(defaults)" if none). */
const char	*config_origin(const struct config *c);

/* Write the effective configuration as INI; secrets masked. */
void	config_print(const struct config *c, FILE *out);
/* Endpoints that carry credentials (the Alpaca URLs, the AWS endpoint
 * overrides) must be https://, or http:// to a loopback host (test fixtures);
 * daemon.allow_plain_http = yes lets other http:// through. Those keys, as
 * "key = url" comma-separated (caller frees), or NULL when there are none:
 * the caller logs them as a warning. */
char	*config_plain_http_endpoints(const struct config *c);
/* How many keys the file set (the rest are defaults). */
size_t	config_keys_set(const struct config *c);
/* The reload guard (SIGHUP): -EINVAL, with the reason and some of the keys,
 * when next would put more than half of the keys cur's file set back to
 * their defaults, or sets no key while cur set some (a file emptied,
 * truncated or stripped of its sections by accident). A start takes any
 * valid file: restarting is how such a file is applied on purpose. */
int	config_reload_check(const struct config *cur, const struct config *next,
	    struct errctx *ec);
/* Names of non-reloadable keys whose values differ, comma-separated (caller frees), or NULL. */
char	*config_diff_restart_keys(const struct config *old_cfg, const struct config *new_cfg);

#endif
