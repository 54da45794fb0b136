/*
 * dispatch: event type -> stage name, command -> stage name, error -> outcome.
 * Thread: any. Memory: static strings.
 */
#ifndef ALCHEMISER_ROUTER_DISPATCH_H
#define ALCHEMISER_ROUTER_DISPATCH_H

#include "alchemiser/events/catalogue.h"
#include "alchemiser/router/command.h"
#include "alchemiser/router/outcome.h"

const char *dispatch_stage_for_event(enum event_type t);
const char *dispatch_stage_for_command(enum command_action a);

#endif
