#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alchemiser/core/sdproto.h"
#include "alchemiser/runtime/notify.h"

void
notify_ready(const char *status)
{
	(void)sdproto_notifyf("READY=1\nSTATUS=%s", status);
}

void
notify_status(const char *status)
{
	(void)sdproto_notifyf("STATUS=%s", status);
}

void
notify_watchdog(void)
{
	(void)sdproto_notify("WATCHDOG=1");
}

/* Why MONOTONIC_USEC: systemd >= 253 (Type=notify-reload) matches the reload by it. */
void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sdproto_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading configuration",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
notify_stopping(const char *status)
{
	(void)sdproto_notifyf("STOPPING=1\nSTATUS=%s", status);
}

int64_t
notify_watchdog_usec(void)
{
	return sdproto_watchdog_usec();
}
