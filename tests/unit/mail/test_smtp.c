#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/smtp.h"
#include "helpers.h"

static const char *const to[] = { "ops@example.test" };

static int	closed_port(void);
static int	silent_listener(int *ret_port);

/* A loopback port nobody listens on: bind, read it back, close. */
static int
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A loopback listener that never accepts: connect succeeds (the kernel does the
 * handshake) but no greeting ever comes, so only the timeout can end the call. */
static int
silent_listener(int *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*ret_port = ntohs(a.sin_port);
	return fd;
}

START_TEST(test_smtp_options_validated)
{
	struct errctx ec = { 0 };
	struct secret *pw = secret_new("hunter2", 7);
	struct smtp_mailer_options o = { .url = "smtp://127.0.0.1:587", .from = "bot@example.test",
		.to = to, .n_to = 1, .user = "bot", .password = pw };
	struct mailer *m = NULL;

	ck_assert_ok(smtp_mailer_new(&o, &m, &ec), &ec);
	ck_assert_str_eq(m->ops->name, "smtp");
	mailer_free(m);
	m = NULL;
	o.url = "http://127.0.0.1/";
	ck_assert_err(smtp_mailer_new(&o, &m, &ec), -EINVAL, &ec);
	o.url = "smtp://bot:hunter2@127.0.0.1:587";
	ck_assert_err(smtp_mailer_new(&o, &m, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(strstr(ec.msg, "hunter2"));
	o.url = "smtp://127.0.0.1:587/ehlo\r\nRSET";
	ck_assert_err(smtp_mailer_new(&o, &m, &ec), -EINVAL, &ec);
	o.url = "smtp://127.0.0.1:587";
	o.password = NULL;
	ck_assert_err(smtp_mailer_new(&o, &m, &ec), -EINVAL, &ec);
	o.password = pw;
	o.starttls_optional = true;
	ck_assert_err(smtp_mailer_new(&o, &m, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "clear"));
	o.url = "smtps://127.0.0.1:465";	/* implicit TLS: fine */
	ck_assert_ok(smtp_mailer_new(&o, &m, &ec), &ec);
	mailer_free(m);
	m = NULL;
	o.to = NULL;
	ck_assert_err(smtp_mailer_new(&o, &m, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(m);
	secret_free(pw);
}
END_TEST

START_TEST(test_smtp_error_classes)
{
	static const struct {
		int curl;
		long reply;
		int want;
	} v[] = {
		{ CURLE_OK, 250, 0 },
		{ CURLE_COULDNT_CONNECT, 0, -ECONNREFUSED },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, -EAGAIN },
		{ CURLE_OPERATION_TIMEDOUT, 0, -ETIMEDOUT },
		{ CURLE_USE_SSL_FAILED, 250, -EPROTO },
		{ CURLE_SSL_CONNECT_ERROR, 0, -EPROTO },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, -EPROTO },
		{ CURLE_LOGIN_DENIED, 535, -EACCES },
		{ CURLE_SEND_ERROR, 530, -EACCES },
		{ CURLE_SEND_ERROR, 550, -EBADMSG },
		{ CURLE_SEND_ERROR, 451, -EAGAIN },
		{ CURLE_WEIRD_SERVER_REPLY, 554, -EBADMSG },
		{ CURLE_WEIRD_SERVER_REPLY, 452, -EAGAIN },
		{ CURLE_SEND_ERROR, 0, -ECONNRESET },
		{ CURLE_WEIRD_SERVER_REPLY, 0, -EPROTO },
	};
	struct errctx ec = { 0 };
	size_t i;

	for (i = 0; i < ELEMENTSOF(v); i++) {
		int r = smtp_error_from_curl(v[i].curl, v[i].reply, "detail", "smtp://h:587", "bot",
		    &ec);

		ck_assert_msg(r == v[i].want, "curl %d reply %ld: got %s want %s", v[i].curl,
		    v[i].reply, errno_name(r), errno_name(v[i].want));
		if (r < 0)
			ck_assert_ptr_nonnull(strstr(ec.msg, "smtp://h:587"));
	}
	smtp_error_from_curl(CURLE_SEND_ERROR, 550, "RCPT failed: 550", "smtp://h", NULL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "RCPT failed: 550"));
	smtp_error_from_curl(CURLE_LOGIN_DENIED, 535, "", "smtp://h", "bot", &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "'bot'"));
}
END_TEST

START_TEST(test_smtp_connect_refused_is_transient)
{
	struct errctx ec = { 0 };
	struct secret *pw = secret_new("hunter2", 7);
	char *url = xasprintf("smtp://127.0.0.1:%d", closed_port());
	struct smtp_mailer_options o = { .url = url, .from = "bot@example.test", .to = to,
		.n_to = 1, .user = "bot", .password = pw, .connect_timeout_usec = 5000000,
		.timeout_usec = 10000000 };
	struct mail_message msg = { .subject = "s", .text = "t" };
	struct mailer *m = NULL;

	ck_assert_ok(smtp_mailer_new(&o, &m, &ec), &ec);
	ck_assert_err(m->ops->send(m, &msg, &ec), -ECONNREFUSED, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, url));
	ck_assert_ptr_null(strstr(ec.msg, "hunter2"));
	/* A bad message fails before any connection. */
	msg.subject = "a\r\nBcc: x@example.test";
	ck_assert_err(m->ops->send(m, &msg, &ec), -EINVAL, &ec);
	mailer_free(m);
	secret_free(pw);
	free(url);
}
END_TEST

START_TEST(test_smtp_silent_server_times_out)
{
	struct errctx ec = { 0 };
	int port, fd = silent_listener(&port);
	char *url = xasprintf("smtp://127.0.0.1:%d", port);
	struct smtp_mailer_options o = { .url = url, .from = "bot@example.test", .to = to,
		.n_to = 1, .connect_timeout_usec = 1000000, .timeout_usec = 1000000 };
	struct mail_message msg = { .subject = "s", .text = "t" };
	struct mailer *m = NULL;

	ck_assert_ok(smtp_mailer_new(&o, &m, &ec), &ec);
	ck_assert_err(m->ops->send(m, &msg, &ec), -ETIMEDOUT, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "timed out"));
	mailer_free(m);
	close(fd);
	free(url);
}
END_TEST

static Suite *
suite_smtp(void)
{
	Suite *s = suite_create("smtp");
	TCase *tc;

	tc = tcase_create("options");
	tcase_add_test(tc, test_smtp_options_validated);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_smtp_error_classes);
	tcase_add_test(tc, test_smtp_connect_refused_is_transient);
	tcase_add_test(tc, test_smtp_silent_server_times_out);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_smtp)
