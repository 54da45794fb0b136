/*
 * smtp_live: the client half of tests/integration/mail/smtp.sh. Sends through
 * the real aiosmtpd sinks the script started and checks every error class; for
 * each message that must arrive it appends one JSON line to $SMTP_EXPECT, which
 * verify.py then checks against what the sinks stored, with Python's email package.
 * Environment: SMTP_TLS_PORT (STARTTLS + AUTH sink), SMTP_SMTPS_PORT (implicit TLS
 * + AUTH), SMTP_PLAIN_PORT (no TLS),
 * SMTP_CA (the sink's certificate), SMTP_PASSWORD_FILE (mode 600), SMTP_EXPECT.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/report_error.h"
#include "alchemiser/mail/report_trading.h"
#include "alchemiser/mail/smtp.h"
#include "helpers.h"

#define THREADS 4

static const char *const recipients[] = {
	"Ops Team <ops@example.test>",
	"Jürgen Müller <juergen@example.test>",
	"\"Night, Shift\" <night@example.test>",
};

static const char	*env(const char *name);
static struct mailer	*new_mailer(const char *port_var, const char *user, bool with_ca,
			    bool optional_tls, const char *password_file);
static void		 expect(const char *dir, const struct mail_message *m, const char *subject,
			    const char *const *text_has, const char *const *html_has);
static void		*concurrent_send(void *arg);

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v != NULL && *v != '\0', "%s is not set (run through smtp.sh)", name);
	return v;
}

static struct mailer *
new_mailer(const char *port_var, const char *user, bool with_ca, bool optional_tls,
    const char *password_file)
{
	struct errctx ec = { 0 };
	struct secret *pw = NULL;
	bool smtps = strcmp(port_var, "SMTP_SMTPS_PORT") == 0;
	char *url = xasprintf("%s://127.0.0.1:%s/alchemiser.test", smtps ? "smtps" : "smtp",
	    env(port_var));
	struct smtp_mailer_options o = {
		.url = url, .from = "Alchemiser <alerts@example.test>",
		.to = recipients, .n_to = ELEMENTSOF(recipients), .user = user,
		.connect_timeout_usec = 5 * 1000000, .timeout_usec = 20 * 1000000,
		.ca_file = with_ca ? env("SMTP_CA") : NULL, .starttls_optional = optional_tls,
	};
	struct mailer *m = NULL;

	if (user != NULL) {
		ck_assert_ok(secret_from_file(password_file, &pw, &ec), &ec);
		o.password = pw;
	}
	ck_assert_ok(smtp_mailer_new(&o, &m, &ec), &ec);
	secret_free(pw);
	free(url);
	return m;
}

/* One line of JSON per message that must arrive. */
static void
expect(const char *dir, const struct mail_message *m, const char *subject,
    const char *const *text_has, const char *const *html_has)
{
	json_t *j = json_object(), *to = json_array(), *th = json_array(), *hh = json_array();
	const char *const *to_list = m->to != NULL ? m->to : recipients;
	size_t i, n = m->to != NULL ? m->n_to : ELEMENTSOF(recipients);
	char *line;
	FILE *f;

	for (i = 0; i < n; i++)
		json_array_append_new(to, json_string(to_list[i]));
	for (; text_has != NULL && *text_has != NULL; text_has++)
		json_array_append_new(th, json_string(*text_has));
	for (; html_has != NULL && *html_has != NULL; html_has++)
		json_array_append_new(hh, json_string(*html_has));
	json_object_set_new(j, "dir", json_string(dir));
	json_object_set_new(j, "message_id", json_string(m->id));
	json_object_set_new(j, "subject", json_string(subject));
	json_object_set_new(j, "to", to);
	json_object_set_new(j, "text_contains", th);
	json_object_set_new(j, "html_contains", hh);
	line = json_dumps(j, JSON_COMPACT);
	f = fopen(env("SMTP_EXPECT"), "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", line);
	fclose(f);
	free(line);
	json_decref(j);
}

START_TEST(test_smtp_live_trading_report_arrives)
{
	static const char *const text_has[] = { "PAPER Multi-Strategy Execution Report",
		"corr-7f3a2b10-success", "$12,345.68", "45.0%", "21.5", "$71.23", "Partial Fill",
		"RSI(10) of QQQ at 28.4 < 30", NULL };
	static const char *const html_has[] = { "corr-7f3a2b10-success", "$12,345.68", "45.0%",
		"21.5", "$71.23", "Partial Fill", "RSI(10) of QQQ at 28.4 &lt; 30", NULL };
	struct errctx ec = { 0 };
	char *path = test_data_path("mail/trading_success.json");
	json_t *detail = json_load_file(path, 0, NULL);
	struct report r = { 0 };
	struct mail_message msg;
	struct mailer *m = new_mailer("SMTP_TLS_PORT", "bot", true, false,
	    env("SMTP_PASSWORD_FILE"));

	ck_assert_ptr_nonnull(detail);
	ck_assert_ok(report_trading_render(detail, &r, &ec), &ec);
	msg = (struct mail_message){ .subject = r.subject, .text = r.text, .html = r.html,
		.id = json_string_value(json_object_get(detail, "event_id")) };
	ck_assert_ok(m->ops->send(m, &msg, &ec), &ec);
	expect("tls", &msg, r.subject, text_has, html_has);
	mailer_free(m);
	report_clear(&r);
	json_decref(detail);
	free(path);
}
END_TEST

START_TEST(test_smtp_live_utf8_subject_and_override_recipients)
{
	static const char *const to[] = { "Élodie <elodie@example.test>", "cto@example.test",
		("Jürgen Müller of the Operations Team at Ünïcorn Trading Desk "
		"<a.very.long.mailbox.name@subdomain.example.test>") };
	static const char *const text_has[] = { "Grüße, ✔ done", "\n.a line starting with a dot\n",
		NULL };
	static const char *const html_has[] = { "<b>Grüße</b>", NULL };
	const char *subject = "[SUCCESS] Rééquilibrage terminé ✔ — portefeuille mis à jour 📈 "
	    "pour tous les comptes (rapport complet du jour)";
	struct errctx ec = { 0 };
	struct mail_message msg = { .subject = subject, .to = to, .n_to = ELEMENTSOF(to),
		.text = "Grüße, ✔ done\n.a line starting with a dot\n",
		.html = "<p><b>Grüße</b></p>", .id = "utf8-subject-1" };
	struct mailer *m = new_mailer("SMTP_TLS_PORT", "bot", true, false,
	    env("SMTP_PASSWORD_FILE"));

	ck_assert_ok(m->ops->send(m, &msg, &ec), &ec);
	expect("tls", &msg, subject, text_has, html_has);
	mailer_free(m);
}
END_TEST

START_TEST(test_smtp_live_smtps_error_report_arrives)
{
	static const char *const text_has[] = { "BROKER_AUTH", "err-corr-3c4d",
		"401 Unauthorized for <account> & key", NULL };
	static const char *const html_has[] = { "BROKER_AUTH",
		"401 Unauthorized for &lt;account&gt; &amp; key", NULL };
	struct errctx ec = { 0 };
	char *path = test_data_path("mail/error_notification.json");
	json_t *detail = json_load_file(path, 0, NULL);
	struct report r = { 0 };
	struct mail_message msg;
	struct mailer *m = new_mailer("SMTP_SMTPS_PORT", "bot", true, false,
	    env("SMTP_PASSWORD_FILE"));

	ck_assert_ptr_nonnull(detail);
	ck_assert_ok(report_error_render(detail, &r, &ec), &ec);
	msg = (struct mail_message){ .subject = r.subject, .text = r.text, .html = r.html,
		.id = json_string_value(json_object_get(detail, "event_id")) };
	ck_assert_ok(m->ops->send(m, &msg, &ec), &ec);
	expect("implicit", &msg, r.subject, text_has, html_has);
	mailer_free(m);
	report_clear(&r);
	json_decref(detail);
	free(path);
}
END_TEST

START_TEST(test_smtp_live_wrong_password_is_eacces)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *pwf = xasprintf("%s/pw", dir);
	struct mail_message msg = { .subject = "never", .text = "never", .id = "wrong-pw" };
	struct mailer *m;
	FILE *f = fopen(pwf, "w");

	ck_assert_ptr_nonnull(f);
	fputs("not-the-password\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(pwf, 0600), 0);
	m = new_mailer("SMTP_TLS_PORT", "bot", true, false, pwf);
	ck_assert_err(m->ops->send(m, &msg, &ec), -EACCES, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "authentication as 'bot' refused"));
	ck_assert_ptr_null(strstr(ec.msg, "not-the-password"));
	/* A retry is just another call: same answer, no crash. */
	ck_assert_err(m->ops->send(m, &msg, &ec), -EACCES, &ec);
	mailer_free(m);
	unlink(pwf);
	rmdir(dir);
	free(pwf);
	free(dir);
}
END_TEST

START_TEST(test_smtp_live_no_credentials_is_eacces)
{
	struct errctx ec = { 0 };
	struct mail_message msg = { .subject = "never", .text = "never", .id = "no-auth" };
	struct mailer *m = new_mailer("SMTP_TLS_PORT", NULL, true, false, NULL);

	ck_assert_err(m->ops->send(m, &msg, &ec), -EACCES, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "530"));
	mailer_free(m);
}
END_TEST

START_TEST(test_smtp_live_plain_server_refused_when_starttls_required)
{
	struct errctx ec = { 0 };
	struct mail_message msg = { .subject = "never", .text = "never", .id = "plain-refused" };
	struct mailer *m = new_mailer("SMTP_PLAIN_PORT", NULL, true, false, NULL);

	ck_assert_err(m->ops->send(m, &msg, &ec), -EPROTO, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "STARTTLS"));
	mailer_free(m);
}
END_TEST

START_TEST(test_smtp_live_starttls_optional_sends_to_plain_relay)
{
	struct errctx ec = { 0 };
	struct mail_message msg = { .subject = "relay", .text = "via a loopback relay",
		.id = "plain-relay-1" };
	struct mailer *m = new_mailer("SMTP_PLAIN_PORT", NULL, true, true, NULL);

	ck_assert_ok(m->ops->send(m, &msg, &ec), &ec);
	expect("plain", &msg, "relay", NULL, NULL);
	mailer_free(m);
}
END_TEST

START_TEST(test_smtp_live_untrusted_certificate_is_eproto)
{
	struct errctx ec = { 0 };
	struct mail_message msg = { .subject = "never", .text = "never", .id = "untrusted" };
	struct mailer *m = new_mailer("SMTP_TLS_PORT", "bot", false, false,
	    env("SMTP_PASSWORD_FILE"));

	ck_assert_err(m->ops->send(m, &msg, &ec), -EPROTO, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "certificate"));
	mailer_free(m);
}
END_TEST

START_TEST(test_smtp_live_refused_recipient_is_permanent)
{
	static const char *const to[] = { "ops@example.test", "refuse-me@example.test" };
	struct errctx ec = { 0 };
	struct mail_message msg = { .subject = "never", .text = "never", .to = to, .n_to = 2,
		.id = "refused-rcpt" };
	struct mailer *m = new_mailer("SMTP_TLS_PORT", "bot", true, false,
	    env("SMTP_PASSWORD_FILE"));

	ck_assert_err(m->ops->send(m, &msg, &ec), -EBADMSG, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "550"));
	/* The server's own words, not only curl's. */
	ck_assert_msg(strstr(ec.msg, "server said: 550 5.1.1 mailbox unavailable") != NULL, "%s", ec.msg);
	mailer_free(m);
}
END_TEST

START_TEST(test_smtp_live_temporary_refusal_is_eagain)
{
	static const char *const to[] = { "tempfail@example.test" };
	struct errctx ec = { 0 };
	struct mail_message msg = { .subject = "never", .text = "never", .to = to, .n_to = 1,
		.id = "tempfail-rcpt" };
	struct mailer *m = new_mailer("SMTP_TLS_PORT", "bot", true, false,
	    env("SMTP_PASSWORD_FILE"));

	ck_assert_err(m->ops->send(m, &msg, &ec), -EAGAIN, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "451"));
	mailer_free(m);
}
END_TEST

static void *
concurrent_send(void *arg)
{
	struct mailer *m = ((void **)arg)[0];
	const char *id = ((void **)arg)[1];
	struct mail_message msg = { .subject = id, .text = id, .html = id, .id = id };
	struct errctx ec = { 0 };

	return m->ops->send(m, &msg, &ec) == 0 ? NULL : xstrdup(ec.msg);
}

START_TEST(test_smtp_live_concurrent_sends)
{
	struct mailer *m = new_mailer("SMTP_TLS_PORT", "bot", true, false,
	    env("SMTP_PASSWORD_FILE"));
	pthread_t t[THREADS];
	void *args[THREADS][2];
	char ids[THREADS][32];
	void *res;
	int i;

	for (i = 0; i < THREADS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "concurrent-%d", i);
		args[i][0] = m;
		args[i][1] = ids[i];
		ck_assert_int_eq(pthread_create(&t[i], NULL, concurrent_send, args[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		struct mail_message msg = { .id = ids[i] };

		ck_assert_int_eq(pthread_join(t[i], &res), 0);
		ck_assert_msg(res == NULL, "thread %d: %s", i, (char *)res);
		expect("tls", &msg, ids[i], NULL, NULL);
	}
	mailer_free(m);
}
END_TEST

static Suite *
suite_smtp_live(void)
{
	Suite *s = suite_create("smtp_live");
	TCase *tc;

	tc = tcase_create("deliver");
	tcase_add_test(tc, test_smtp_live_trading_report_arrives);
	tcase_add_test(tc, test_smtp_live_utf8_subject_and_override_recipients);
	tcase_add_test(tc, test_smtp_live_smtps_error_report_arrives);
	tcase_add_test(tc, test_smtp_live_starttls_optional_sends_to_plain_relay);
	tcase_add_test(tc, test_smtp_live_concurrent_sends);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("refuse");
	tcase_add_test(tc, test_smtp_live_wrong_password_is_eacces);
	tcase_add_test(tc, test_smtp_live_no_credentials_is_eacces);
	tcase_add_test(tc, test_smtp_live_plain_server_refused_when_starttls_required);
	tcase_add_test(tc, test_smtp_live_untrusted_certificate_is_eproto);
	tcase_add_test(tc, test_smtp_live_refused_recipient_is_permanent);
	tcase_add_test(tc, test_smtp_live_temporary_refusal_is_eagain);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_smtp_live)
