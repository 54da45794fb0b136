/*
 * queue_message: the destructor transport.h declares for every transport, in
 * core so that the SQS and the SQLite transports share one definition.
 */
#include <stdlib.h>

#include "alchemiser/seams/transport.h"

void
queue_message_free(struct queue_message *m)
{
	if (m == NULL)
		return;
	free(m->message_id);
	free(m->receipt);
	free(m->body);
	json_decref(m->attributes);
	free(m);
}
