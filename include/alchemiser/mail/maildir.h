/*
 * maildir: the mailer seam for the embedded default: each email becomes one file
 * in a maildir (tmp/ -> fsync -> rename into new/ -> fsync new/), so a reader
 * never sees half a message and a crash leaves at most a stray file in tmp/.
 * Names follow the maildir convention "<sec>.M<usec>P<pid>Q<n>.<host>", unique
 * per process and call. The file holds the message with LF line ends (the local
 * mailbox convention; mutt, Dovecot and Python's mailbox read it as is).
 * Thread:  send may be called from several threads at once.
 * Memory:  options are copied; free with ops->free (NULL-safe).
 * Errors:  -EINVAL for a bad message or option, else the file system's -errno
 *          with the path in the reason.
 */
#ifndef ALCHEMISER_MAIL_MAILDIR_H
#define ALCHEMISER_MAIL_MAILDIR_H

#include <stddef.h>

#include "alchemiser/seams/mailer.h"

struct errctx;

struct maildir_mailer_options {
	const char		*path;		/* the maildir; it and cur/ new/ tmp/ are made (0700) */
	const char		*from;		/* default sender */
	const char *const	*to;		/* default recipients (n_to >= 1) */
	size_t			 n_to;
};

int	maildir_mailer_new(const struct maildir_mailer_options *o, struct mailer **ret,
	    struct errctx *ec);

#endif
