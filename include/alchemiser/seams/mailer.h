/*
 * mailer: the mail delivery seam (SMTP through libcurl in production, a maildir
 * for the embedded default). Constructors: smtp_mailer_new() (mail/smtp.h),
 * maildir_mailer_new() (mail/maildir.h).
 * Thread:  send may be called from any worker thread concurrently; an
 *          implementation keeps no shared connection (SMTP uses one curl easy
 *          handle per call, maildir names are unique per call).
 * Memory:  the message and everything it points to belong to the caller and are
 *          only read during send; free releases the mailer (NULL-safe).
 * Errors:  send returns 0 once the message is accepted (SMTP: final 250 after
 *          DATA; maildir: renamed into new/ and synced), else a negative errno:
 *            -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET, -EAGAIN  transient: retry later
 *            -EACCES   authentication refused (wrong user or password)
 *            -EPROTO   TLS unavailable or failed (STARTTLS not offered, handshake,
 *                      untrusted certificate), or a reply we do not understand
 *            -EBADMSG  the server refused the message or a recipient permanently (5xx)
 *            -EINVAL   the message itself is invalid (CR/LF in a header, bad address)
 *            -EIO      any other libcurl failure (the reason names it)
 *            other -errno from the file system (maildir: -ENOSPC, -EACCES, ...)
 *          Message-ID is <id@sender-domain>: give the notification's event id as
 *          msg->id so a redelivered duplicate is recognisable downstream.
 */
#ifndef ALCHEMISER_SEAMS_MAILER_H
#define ALCHEMISER_SEAMS_MAILER_H

#include <stddef.h>
#include <stdint.h>

struct errctx;
struct mailer;

/* One email. from/to default to the mailer's configured sender and recipients. */
struct mail_message {
	const char		*from;		/* "Name <addr@host>" or "addr@host"; NULL: configured */
	const char *const	*to;		/* n_to addresses, same forms; NULL: configured */
	size_t			 n_to;
	const char		*subject;	/* UTF-8, required, no CR/LF */
	const char		*text;		/* UTF-8 plain text, required */
	const char		*html;		/* UTF-8 HTML, NULL for a text-only message */
	/* Stable token for the Message-ID (e.g. the notification's event id), so a
	 * resent duplicate can be recognised: <id@sender-domain>. Bytes other than
	 * letters, digits and "!#$%&'*+-/=?^_`{|}~." become '_' (CR/LF: -EINVAL);
	 * cut at 200 bytes. NULL or "": random. */
	const char		*id;
	int64_t			 date_usec;	/* Date header; 0: now */
};

struct mailer_ops {
	const char *name;
	/* Deliver one message to every recipient (all or nothing for SMTP). */
	int	(*send)(struct mailer *m, const struct mail_message *msg, struct errctx *ec);
	void	(*free)(struct mailer *m);
};

struct mailer {
	const struct mailer_ops *ops;
};

/* NULL-safe. */
static inline void
mailer_free(struct mailer *m)
{
	if (m != NULL)
		m->ops->free(m);
}

#endif
