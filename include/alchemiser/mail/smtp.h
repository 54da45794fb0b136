/*
 * smtp: the mailer seam over libcurl's SMTP client. smtp:// must upgrade with
 * STARTTLS (CURLUSESSL_ALL) unless starttls_optional is set; smtps:// is TLS from
 * the first byte. Certificate and host name verification are always on. AUTH
 * (libcurl picks PLAIN/LOGIN/... from what the server offers) only happens over
 * TLS: a user with starttls_optional is refused at construction.
 * Thread:  send may run on several worker threads at once: each call uses its own
 *          curl easy handle (one connection per email; emails are rare).
 *          smtp_mailer_new() calls curl_global_init(), so construct on the main
 *          thread at start-up.
 * Memory:  the options are copied (the password with secret_dup()); the caller
 *          keeps its own. The mailer is freed with its ops->free (NULL-safe).
 * Errors:  the classes of seams/mailer.h; the reason names the server URL and
 *          the SMTP reply code, never the password.
 */
#ifndef ALCHEMISER_MAIL_SMTP_H
#define ALCHEMISER_MAIL_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/seams/mailer.h"

struct errctx;
struct secret;

#define SMTP_DEFAULT_CONNECT_TIMEOUT_USEC	(INT64_C(10) * 1000000)
#define SMTP_DEFAULT_TIMEOUT_USEC		(INT64_C(60) * 1000000)

struct smtp_mailer_options {
	/* "smtp://host:587" or "smtps://host:465"; an optional path is the EHLO
	 * name ("smtp://host:587/alchemiser.example.com"). No user@ in the URL. */
	const char		*url;
	const char		*from;		/* default sender: "Name <addr>" or "addr" */
	const char *const	*to;		/* default recipients (n_to >= 1) */
	size_t			 n_to;
	const char		*user;		/* NULL: no AUTH */
	const struct secret	*password;	/* required with user */
	int64_t			 connect_timeout_usec;	/* 0: 10 s */
	int64_t			 timeout_usec;		/* whole exchange; 0: 60 s */
	const char		*ca_file;	/* PEM bundle; NULL: the system store */
	/* false (the default): an smtp:// server that does not offer STARTTLS is
	 * refused (-EPROTO). true: upgrade if offered, else send in clear (only
	 * for a relay on loopback; never with AUTH). */
	bool			 starttls_optional;
};

/* Validate the options (URL scheme, addresses, password present) and build the
 * mailer; nothing is sent or connected yet. */
int	smtp_mailer_new(const struct smtp_mailer_options *o, struct mailer **ret,
	    struct errctx *ec);

/* The errno and reason for a libcurl result (curl_code is a CURLcode, reply the
 * last SMTP reply code or 0, detail libcurl's error buffer or ""). Exposed for
 * tests; send uses it. */
int	smtp_error_from_curl(int curl_code, long reply, const char *detail, const char *url,
	    const char *user, struct errctx *ec);

#endif
