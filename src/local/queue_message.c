/*
 * queue_message: the destructor transport.h declares for every transport.
 * It lives here, alone, until the seams get a shared home (libaws needs it
 * too; two definitions would clash when the daemon links both layers).
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
