#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/mime.h"
#include "alchemiser/mail/smtp.h"

struct smtp_mailer {
	struct mailer	 base;		/* first: the seam pointer is this struct */
	char		*url;
	char		*from;
	char		**to;
	size_t		 n_to;
	char		*user;
	struct secret	*password;
	long		 connect_timeout_ms;
	long		 timeout_ms;
	char		*ca_file;
	bool		 starttls_optional;
};

struct upload {
	const char	*data;
	size_t		 len;
	size_t		 off;
};

static int	smtp_send(struct mailer *m, const struct mail_message *msg, struct errctx *ec);
static void	smtp_free(struct mailer *m);
static size_t	smtp_read_cb(char *buf, size_t size, size_t nitems, void *userp);
static int	smtp_check_url(const char *url, struct errctx *ec);
static int	smtp_envelope(const struct mail_message *msg, char **ret_from,
		    struct curl_slist **ret_rcpt, struct errctx *ec);
static int	smtp_debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userp);
static int	smtp_perform(struct smtp_mailer *s, const char *from, struct curl_slist *rcpt,
		    const char *data, size_t len, struct errctx *ec);

static const struct mailer_ops smtp_ops = {
	.name = "smtp",
	.send = smtp_send,
	.free = smtp_free,
};

/* Only the two mail schemes; credentials in the URL would end up in every log
 * line that names the server, so they must come from the secret. */
static int
smtp_check_url(const char *url, struct errctx *ec)
{
	const char *host, *end;

	if (url == NULL || *url == '\0')
		return errctx_set(ec, -EINVAL, "url: missing");
	if (strpbrk(url, "\r\n \t") != NULL)
		return errctx_set(ec, -EINVAL, "url: contains whitespace, CR or LF");
	if (strncmp(url, "smtp://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "smtps://", 8) == 0)
		host = url + 8;
	else
		return errctx_set(ec, -EINVAL, "url '%s': scheme must be smtp:// or smtps://", url);
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) != NULL)
		return errctx_set(ec, -EINVAL, "url: put the user in the options, not the URL");
	if (end == host)
		return errctx_set(ec, -EINVAL, "url '%s': no host", url);
	return 0;
}

int
smtp_mailer_new(const struct smtp_mailer_options *o, struct mailer **ret, struct errctx *ec)
{
	struct smtp_mailer *s;
	int r;

	r = smtp_check_url(o->url, ec);
	if (r < 0)
		return r;
	r = mime_check_envelope(o->from, o->to, o->n_to, ec);
	if (r < 0)
		return r;
	if (o->user != NULL) {
		r = mime_check_header_value("user", o->user, ec);
		if (r < 0)
			return r;
		if (o->password == NULL)
			return errctx_set(ec, -EINVAL, "user '%s' set but no password", o->user);
		if (o->starttls_optional && strncmp(o->url, "smtps://", 8) != 0)
			return errctx_set(ec, -EINVAL, "refusing AUTH with starttls_optional: the "
			    "password could be sent in clear");
	}
	if (o->connect_timeout_usec < 0 || o->timeout_usec < 0)
		return errctx_set(ec, -EINVAL, "timeouts must not be negative");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errctx_set(ec, -EIO, "curl_global_init failed");

	s = xcalloc(1, sizeof(*s));
	s->base.ops = &smtp_ops;
	s->url = xstrdup(o->url);
	s->from = xstrdup(o->from);
	s->to = mime_copy_addresses(o->to, o->n_to);
	s->n_to = o->n_to;
	s->user = xstrdup_or_null(o->user);
	s->password = o->password != NULL ? secret_dup(o->password) : NULL;
	s->connect_timeout_ms = (long)((o->connect_timeout_usec != 0 ? o->connect_timeout_usec :
	    SMTP_DEFAULT_CONNECT_TIMEOUT_USEC) / 1000);
	s->timeout_ms = (long)((o->timeout_usec != 0 ? o->timeout_usec :
	    SMTP_DEFAULT_TIMEOUT_USEC) / 1000);
	s->ca_file = xstrdup_or_null(o->ca_file);
	s->starttls_optional = o->starttls_optional;
	*ret = &s->base;
	return 0;
}

static void
smtp_free(struct mailer *m)
{
	struct smtp_mailer *s = (struct smtp_mailer *)m;

	if (s == NULL)
		return;
	mime_free_addresses(s->to, s->n_to);
	free(s->url);
	free(s->from);
	free(s->user);
	secret_free(s->password);
	free(s->ca_file);
	free(s);
	curl_global_cleanup();
}

static size_t
smtp_read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct upload *u = userp;
	size_t room = size * nitems, left = u->len - u->off;
	size_t n = left < room ? left : room;

	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* MAIL FROM and RCPT TO take bare addresses; every recipient of the headers
 * must also be in the envelope or it never gets a copy. */
static int
smtp_envelope(const struct mail_message *msg, char **ret_from, struct curl_slist **ret_rcpt,
    struct errctx *ec)
{
	struct curl_slist *rcpt = NULL;
	char *a = NULL;
	size_t i;
	int r;

	r = mime_parse_address(msg->from, "from", NULL, &a, ec);
	if (r < 0)
		return r;
	*ret_from = xasprintf("<%s>", a);
	free(a);
	for (i = 0; i < msg->n_to; i++) {
		struct curl_slist *n;
		char *b;

		r = mime_parse_address(msg->to[i], "to", NULL, &a, ec);
		if (r < 0) {
			curl_slist_free_all(rcpt);
			free(*ret_from);
			return r;
		}
		b = xasprintf("<%s>", a);
		free(a);
		n = curl_slist_append(rcpt, b);
		free(b);
		if (n == NULL) {
			fprintf(stderr, "out of memory in curl_slist_append\n");
			abort();
		}
		rcpt = n;
	}
	*ret_rcpt = rcpt;
	return 0;
}

int
smtp_error_from_curl(int curl_code, long reply, const char *detail, const char *url,
    const char *user, struct errctx *ec)
{
	CURLcode rc = (CURLcode)curl_code;
	const char *d = detail != NULL && *detail != '\0' ? detail : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_CONNECT:
		return errctx_set(ec, -ECONNREFUSED, "SMTP %s: connection refused or unreachable "
		    "(%s)", url, d);
	case CURLE_COULDNT_RESOLVE_HOST:
		return errctx_set(ec, -EAGAIN, "SMTP %s: cannot resolve the host (%s)", url, d);
	case CURLE_OPERATION_TIMEDOUT:
		return errctx_set(ec, -ETIMEDOUT, "SMTP %s: timed out (%s)", url, d);
	case CURLE_USE_SSL_FAILED:
		return errctx_set(ec, -EPROTO, "SMTP %s: server does not offer STARTTLS and TLS is "
		    "required: nothing sent (%s)", url, d);
	case CURLE_SSL_CONNECT_ERROR:
		return errctx_set(ec, -EPROTO, "SMTP %s: TLS handshake failed (%s)", url, d);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return errctx_set(ec, -EPROTO, "SMTP %s: server certificate not trusted (check "
		    "ca_file and the host name) (%s)", url, d);
	case CURLE_LOGIN_DENIED:
		return errctx_set(ec, -EACCES, "SMTP %s: authentication as '%s' refused: wrong "
		    "user or password? (%s)", url, user != NULL ? user : "(none)", d);
	default:
		break;
	}
	/* Refusals of MAIL, RCPT or DATA arrive as send errors or odd replies;
	 * the reply code says whether trying later can help. */
	if (reply == 530 || reply == 534 || reply == 535 || reply == 538)
		return errctx_set(ec, -EACCES, "SMTP %s: server requires authentication: %ld (%s)",
		    url, reply, d);
	if (reply >= 400 && reply < 500)
		return errctx_set(ec, -EAGAIN, "SMTP %s: temporary refusal %ld, will retry (%s)",
		    url, reply, d);
	if (reply >= 500 && reply < 600)
		return errctx_set(ec, -EBADMSG, "SMTP %s: permanent refusal %ld (%s)", url, reply, d);
	switch (rc) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return errctx_set(ec, -ECONNRESET, "SMTP %s: connection lost (%s)", url, d);
	case CURLE_WEIRD_SERVER_REPLY:
		return errctx_set(ec, -EPROTO, "SMTP %s: unexpected reply (%s)", url, d);
	default:
		return errctx_set(ec, -EIO, "SMTP %s: %s (%s)", url, curl_easy_strerror(rc), d);
	}
}

/* The server's last refusal line ("550 5.1.1 mailbox unavailable"). */
struct smtp_reply {
	char	text[200];
};

/* Why a debug callback: libcurl keeps only the reply code, and the operator
 * needs the server's words. Only server lines (HEADER_IN) are looked at, so
 * the client's AUTH exchange is never copied; control bytes become spaces. */
static int
smtp_debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
	struct smtp_reply *rep = userp;
	size_t i, n = 0;

	(void)h;
	if (type != CURLINFO_HEADER_IN || size < 3 || (data[0] != '4' && data[0] != '5'))
		return 0;
	for (i = 0; i < size && n < sizeof rep->text - 1; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r' || c == '\n')
			break;
		rep->text[n++] = c < 0x20 || c >= 0x7f ? ' ' : (char)c;
	}
	rep->text[n] = '\0';
	return 0;
}

static int
smtp_perform(struct smtp_mailer *s, const char *from, struct curl_slist *rcpt,
    const char *data, size_t len, struct errctx *ec)
{
	char errbuf[CURL_ERROR_SIZE] = "", detail[CURL_ERROR_SIZE + 240];
	struct smtp_reply rep = { .text = "" };
	struct upload up = { .data = data, .len = len };
	CURL *h;
	CURLcode rc;
	long reply = 0;
	int r;

	h = curl_easy_init();
	if (h == NULL)
		return errctx_set(ec, -EIO, "curl_easy_init failed");
	(void) curl_easy_setopt(h, CURLOPT_URL, s->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	(void) curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
	/* Worker threads: no SIGALRM for timeouts. */
	(void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void) curl_easy_setopt(h, CURLOPT_USE_SSL,
	    (long)(s->starttls_optional ? CURLUSESSL_TRY : CURLUSESSL_ALL));
	(void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	(void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_file != NULL)
		(void) curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
	if (s->user != NULL) {
		(void) curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		(void) curl_easy_setopt(h, CURLOPT_PASSWORD, secret_reveal(s->password));
		(void) curl_easy_setopt(h, CURLOPT_SASL_IR, 1L);
	}
	(void) curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	(void) curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	(void) curl_easy_setopt(h, CURLOPT_READFUNCTION, smtp_read_cb);
	(void) curl_easy_setopt(h, CURLOPT_READDATA, &up);
	(void) curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	(void) curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	(void) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
	(void) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	(void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	/* VERBOSE only with our callback: libcurl's own printer would show the
	 * AUTH exchange (base64 = readable); the callback reads server lines only. */
	(void) curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
	(void) curl_easy_setopt(h, CURLOPT_DEBUGDATA, &rep);
	(void) curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	rc = curl_easy_perform(h);
	(void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
	if (rep.text[0] != '\0')
		(void)snprintf(detail, sizeof detail, "%s; server said: %s",
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc), rep.text);
	else
		(void)snprintf(detail, sizeof detail, "%s", errbuf);
	r = smtp_error_from_curl((int)rc, reply, detail, s->url, s->user, ec);
	curl_easy_cleanup(h);
	return r;
}

static int
smtp_send(struct mailer *m, const struct mail_message *msg, struct errctx *ec)
{
	struct smtp_mailer *s = (struct smtp_mailer *)m;
	struct mail_message full = *msg;
	struct curl_slist *rcpt = NULL;
	char *data = NULL, *from = NULL;
	size_t len;
	int r;

	if (full.from == NULL)
		full.from = s->from;
	if (full.to == NULL || full.n_to == 0) {
		full.to = (const char *const *)s->to;
		full.n_to = s->n_to;
	}
	r = mime_build(&full, &data, &len, ec);
	if (r < 0)
		return r;
	r = smtp_envelope(&full, &from, &rcpt, ec);
	if (r == 0)
		r = smtp_perform(s, from, rcpt, data, len, ec);
	curl_slist_free_all(rcpt);
	free(from);
	free(data);
	return r;
}
