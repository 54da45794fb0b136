/*
 * mime: turns a struct mail_message (seams/mailer.h) into the bytes of an RFC 5322
 * message: multipart/alternative (text first, then HTML) or a single text/plain
 * part, UTF-8 throughout, quoted-printable bodies (lines <= 76 octets), RFC 2047
 * encoded-word subjects and display names when they are not plain ASCII, CRLF
 * line ends. Headers: Date, From, To, Subject, Message-ID, MIME-Version,
 * Auto-Submitted, Content-Type.
 * Header values are never cleaned up silently: a CR or LF in the subject, an
 * address or the id is refused with -EINVAL (no header injection).
 * Thread:  any; reentrant (boundaries and random ids come from getrandom).
 * Memory:  returned strings belong to the caller (free()).
 */
#ifndef ALCHEMISER_MAIL_MIME_H
#define ALCHEMISER_MAIL_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "alchemiser/seams/mailer.h"

struct errctx;
struct textbuf;

/* "Mon, 02 Jan 2026 14:30:00 +0000" plus NUL. */
#define MIME_DATE_STRLEN 32
#define MIME_ADDR_MAX 254

/* Build the message; msg->from and msg->to (n_to >= 1) must be set. *ret is
 * NUL-terminated, *ret_len excludes the NUL. -EINVAL names the bad field. */
int	mime_build(const struct mail_message *msg, char **ret, size_t *ret_len,
	    struct errctx *ec);

/* Split "Display Name <local@domain>", "\"Ops, Team\" <a@b>" or "local@domain"
 * into the display name (NULL when none) and the validated addr-spec. what
 * names the field in errors ("from", "to[1]"). */
/* The configured sender and recipients of a mailer: from and every to[i]
 * must be addresses, n_to >= 1. -EINVAL names the bad one ("to[1]"). */
int	mime_check_envelope(const char *from, const char *const *to, size_t n_to,
	    struct errctx *ec);
/* Copies of n addresses; free with mime_free_addresses() (NULL-safe). */
char	**mime_copy_addresses(const char *const *to, size_t n);
void	mime_free_addresses(char **to, size_t n);

int	mime_parse_address(const char *in, const char *what, char **ret_name,
	    char **ret_addr, struct errctx *ec);

/* -EINVAL when s contains CR or LF (or is not valid UTF-8). */
int	mime_check_header_value(const char *what, const char *s, struct errctx *ec);

/* Append s as a header value starting at column col: unchanged when it is short
 * printable ASCII, else as "=?UTF-8?B?...?=" words of <= 75 characters folded
 * onto continuation lines of <= 76. */
void	mime_append_header_text(struct textbuf *out, const char *s, size_t col);

/* Quoted-printable encoding of len bytes; any of CRLF, LF or CR in the input is
 * a hard line break (written CRLF); encoded lines are at most 76 octets. */
char	*mime_qp_encode(const char *s, size_t len, size_t *ret_len);

/* RFC 5322 date in UTC with English names (no locale involved). */
char	*mime_format_date(int64_t usec, char buf[MIME_DATE_STRLEN]);

#endif
