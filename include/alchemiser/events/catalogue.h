/*
 * catalogue: the eight event types alchemiserd consumes or publishes, the
 * fixed EventBridge source each is published under, and the field schema of
 * each type's detail (names compatible with the Python system's).
 * Thread:  read-only tables; any thread.
 * Memory:  every returned pointer is static.
 */
#ifndef ALCHEMISER_EVENTS_CATALOGUE_H
#define ALCHEMISER_EVENTS_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

enum event_type {
	EVENT_WORKFLOW_STARTED,
	EVENT_SIGNAL_GENERATED,
	EVENT_REBALANCE_PLANNED,
	EVENT_TRADE_EXECUTED,
	EVENT_WORKFLOW_COMPLETED,
	EVENT_WORKFLOW_FAILED,
	EVENT_TRADING_NOTIFICATION_REQUESTED,
	EVENT_ERROR_NOTIFICATION_REQUESTED,
	_EVENT_TYPE_MAX,
	EVENT_TYPE_INVALID = -1
};

enum field_kind {
	FIELD_STRING,		/* non-empty string */
	FIELD_STRING_OR_NULL,
	FIELD_BOOL,
	FIELD_INT,
	FIELD_DECIMAL,		/* decimal string (a JSON number is accepted and normalised) */
	FIELD_OBJECT,
	FIELD_OBJECT_OR_NULL,
	FIELD_STRING_LIST,
	FIELD_TIMESTAMP,	/* RFC 3339; normalised to UTC "Z" */
	_FIELD_KIND_MAX
};

struct field_spec {
	const char	*name;
	enum field_kind	 kind;
	bool		 required;
	const char	*def;	/* JSON text of the default when absent (NULL: leave absent) */
};

/* "WorkflowStarted" etc. */
const char *event_type_name(enum event_type t);
/* EVENT_TYPE_INVALID if name is not in the catalogue (case-sensitive). */
enum event_type event_type_from_name(const char *name);
/* The same for the len bytes at name (not NUL-terminated). */
enum event_type event_type_from_namen(const char *name, size_t len);
/* The fixed source: "alchemiser.orchestration", ".strategy", ".portfolio",
 * ".execution" or ".notifications". */
const char *event_type_source(enum event_type t);
/* Fields of the type (base fields first), terminated by a NULL name. */
const struct field_spec *event_type_fields(enum event_type t);
/* The source_module the Python system wrote for this type (for compatibility). */
const char *event_type_source_module(enum event_type t);

#endif
