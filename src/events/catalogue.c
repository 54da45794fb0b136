#include <string.h>

#include "alchemiser/events/catalogue.h"

/* Base fields of every event (seed-router-spec §3.1), then each type's own. */
#define BASE_FIELDS \
	{ "event_id", FIELD_STRING, true, NULL }, \
	{ "correlation_id", FIELD_STRING, true, NULL }, \
	{ "causation_id", FIELD_STRING, true, NULL }, \
	{ "event_type", FIELD_STRING, true, NULL }, \
	{ "timestamp", FIELD_TIMESTAMP, true, NULL }, \
	{ "source_module", FIELD_STRING, true, NULL }, \
	{ "source_component", FIELD_STRING_OR_NULL, false, NULL }, \
	{ "schema_version", FIELD_STRING, false, "\"1.0\"" }

static const struct field_spec workflow_started[] = {
	BASE_FIELDS,
	{ "metadata", FIELD_OBJECT_OR_NULL, false, NULL },
	{ "workflow_type", FIELD_STRING, true, NULL },
	{ "requested_by", FIELD_STRING, true, NULL },
	{ "configuration", FIELD_OBJECT, false, "{}" },
	{ NULL, 0, false, NULL }
};

static const struct field_spec signal_generated[] = {
	BASE_FIELDS,
	/* The Python model redefines metadata as a non-null object; we still accept null. */
	{ "metadata", FIELD_OBJECT_OR_NULL, false, "{}" },
	{ "signals_data", FIELD_OBJECT, true, NULL },
	{ "consolidated_portfolio", FIELD_OBJECT, true, NULL },
	{ "signal_count", FIELD_INT, true, NULL },
	{ NULL, 0, false, NULL }
};

static const struct field_spec rebalance_planned[] = {
	BASE_FIELDS,
	{ "metadata", FIELD_OBJECT_OR_NULL, false, "{}" },
	{ "rebalance_plan", FIELD_OBJECT, true, NULL },
	{ "allocation_comparison", FIELD_OBJECT, true, NULL },
	{ "trades_required", FIELD_BOOL, true, NULL },
	{ NULL, 0, false, NULL }
};

static const struct field_spec trade_executed[] = {
	BASE_FIELDS,
	{ "metadata", FIELD_OBJECT_OR_NULL, false, "{}" },
	{ "execution_data", FIELD_OBJECT, true, NULL },
	{ "success", FIELD_BOOL, true, NULL },
	{ "orders_placed", FIELD_INT, true, NULL },
	{ "orders_succeeded", FIELD_INT, true, NULL },
	{ "failure_reason", FIELD_STRING_OR_NULL, false, "null" },
	{ "failed_symbols", FIELD_STRING_LIST, false, "[]" },
	{ NULL, 0, false, NULL }
};

static const struct field_spec workflow_completed[] = {
	BASE_FIELDS,
	{ "metadata", FIELD_OBJECT_OR_NULL, false, NULL },
	{ "workflow_type", FIELD_STRING, true, NULL },
	{ "workflow_duration_ms", FIELD_INT, true, NULL },
	{ "success", FIELD_BOOL, true, NULL },
	{ "summary", FIELD_OBJECT, false, "{}" },
	{ NULL, 0, false, NULL }
};

static const struct field_spec workflow_failed[] = {
	BASE_FIELDS,
	{ "metadata", FIELD_OBJECT_OR_NULL, false, NULL },
	{ "workflow_type", FIELD_STRING, true, NULL },
	{ "failure_reason", FIELD_STRING, true, NULL },
	{ "failure_step", FIELD_STRING, true, NULL },
	{ "error_details", FIELD_OBJECT, false, "{}" },
	{ NULL, 0, false, NULL }
};

static const struct field_spec trading_notification[] = {
	BASE_FIELDS,
	{ "metadata", FIELD_OBJECT_OR_NULL, false, NULL },
	{ "trading_success", FIELD_BOOL, true, NULL },
	{ "trading_mode", FIELD_STRING, true, NULL },
	{ "orders_placed", FIELD_INT, true, NULL },
	{ "orders_succeeded", FIELD_INT, true, NULL },
	{ "total_trade_value", FIELD_DECIMAL, true, NULL },
	{ "execution_data", FIELD_OBJECT, true, NULL },
	{ "error_message", FIELD_STRING_OR_NULL, false, "null" },
	{ "error_code", FIELD_STRING_OR_NULL, false, "null" },
	{ "recipient_override", FIELD_STRING_OR_NULL, false, "null" },
	{ NULL, 0, false, NULL }
};

static const struct field_spec error_notification[] = {
	BASE_FIELDS,
	{ "metadata", FIELD_OBJECT_OR_NULL, false, NULL },
	{ "error_severity", FIELD_STRING, true, NULL },
	{ "error_priority", FIELD_STRING, true, NULL },
	{ "error_title", FIELD_STRING, true, NULL },
	{ "error_report", FIELD_STRING, true, NULL },
	{ "error_code", FIELD_STRING_OR_NULL, false, "null" },
	{ "recipient_override", FIELD_STRING_OR_NULL, false, "null" },
	{ NULL, 0, false, NULL }
};

static const struct {
	const char		*name;
	const char		*source;
	const char		*source_module;
	const struct field_spec	*fields;
} types[_EVENT_TYPE_MAX] = {
	[EVENT_WORKFLOW_STARTED] = { "WorkflowStarted", "alchemiser.orchestration",
	    "orchestration.event_driven_orchestrator", workflow_started },
	[EVENT_SIGNAL_GENERATED] = { "SignalGenerated", "alchemiser.strategy",
	    "strategy_v2.handlers", signal_generated },
	[EVENT_REBALANCE_PLANNED] = { "RebalancePlanned", "alchemiser.portfolio",
	    "portfolio_v2.handlers", rebalance_planned },
	[EVENT_TRADE_EXECUTED] = { "TradeExecuted", "alchemiser.execution",
	    "execution_v2.handlers", trade_executed },
	[EVENT_WORKFLOW_COMPLETED] = { "WorkflowCompleted", "alchemiser.execution",
	    "execution_v2.handlers", workflow_completed },
	[EVENT_WORKFLOW_FAILED] = { "WorkflowFailed", "alchemiser.execution",
	    "execution_v2.handlers", workflow_failed },
	[EVENT_TRADING_NOTIFICATION_REQUESTED] = { "TradingNotificationRequested",
	    "alchemiser.notifications", "orchestration.event_driven_orchestrator", trading_notification },
	[EVENT_ERROR_NOTIFICATION_REQUESTED] = { "ErrorNotificationRequested",
	    "alchemiser.notifications", "shared.errors.error_handler", error_notification },
};

const char *
event_type_name(enum event_type t)
{
	return t >= 0 && t < _EVENT_TYPE_MAX ? types[t].name : "invalid";
}

enum event_type
event_type_from_name(const char *name)
{
	int t;

	if (name == NULL)
		return EVENT_TYPE_INVALID;
	for (t = 0; t < _EVENT_TYPE_MAX; t++)
		if (strcmp(types[t].name, name) == 0)
			return (enum event_type)t;
	return EVENT_TYPE_INVALID;
}

enum event_type
event_type_from_namen(const char *name, size_t len)
{
	int t;

	for (t = 0; t < _EVENT_TYPE_MAX; t++)
		if (strlen(types[t].name) == len && memcmp(types[t].name, name, len) == 0)
			return (enum event_type)t;
	return EVENT_TYPE_INVALID;
}

const char *
event_type_source(enum event_type t)
{
	return t >= 0 && t < _EVENT_TYPE_MAX ? types[t].source : NULL;
}

const char *
event_type_source_module(enum event_type t)
{
	return t >= 0 && t < _EVENT_TYPE_MAX ? types[t].source_module : NULL;
}

const struct field_spec *
event_type_fields(enum event_type t)
{
	return t >= 0 && t < _EVENT_TYPE_MAX ? types[t].fields : NULL;
}
