/* bench_aws: SigV4 signing time per request and JSON encode/decode time per
 * typical event, as this machine measures them. Prints a table; asserts
 * nothing (speed is reported, never tested). Usage: bench_aws [iterations]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/sigv4.h"
#include "alchemiser/core/secret.h"

static double
cpu_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void
row(const char *what, long n, double usec)
{
	printf("%-46s %10ld %12.3f\n", what, n, usec / (double)n);
}

static const char *event_detail =
    "{\"event_id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\",\"correlation_id\":\"c0ffee00-1234-4abc-8def-000000000001\","
    "\"causation_id\":\"11710aed-0000-4000-8000-000000000000\",\"timestamp\":\"2026-01-02T14:30:00Z\","
    "\"strategy\":\"core\",\"signals\":[{\"symbol\":\"AAPL\",\"action\":\"BUY\",\"weight\":0.25},"
    "{\"symbol\":\"MSFT\",\"action\":\"BUY\",\"weight\":0.25},{\"symbol\":\"TLT\",\"action\":\"SELL\",\"weight\":0.0}],"
    "\"portfolio_value\":\"100000.00\",\"dry_run\":false}";

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000, i;
	const char *secret_text = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	struct secret *secret = secret_new(secret_text, strlen(secret_text));
	const char *body = "{\"QueueUrl\":\"https://sqs.us-east-1.amazonaws.com/123456789012/alchemiser-jobs\","
	    "\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":20}";
	struct sigv4_header h[] = { { "Host", "sqs.us-east-1.amazonaws.com" },
		{ "Content-Type", "application/x-amz-json-1.0" }, { "X-Amz-Target", "AmazonSQS.ReceiveMessage" } };
	struct sigv4_request req = { "POST", "/", NULL, h, 3, body, strlen(body) };
	struct sigv4_params p = { "us-east-1", "sqs", "AKIDEXAMPLE", secret, NULL, aws_now_usec(), true,
		false, false, NULL };
	double t0;
	size_t sink = 0;
	json_t *detail;
	char *text;

	if (n <= 0)
		n = 1;
	printf("%-46s %10s %12s\n", "operation", "iterations", "cpu us/op");

	t0 = cpu_usec();
	for (i = 0; i < n; i++) {
		struct sigv4_signature sig;

		if (sigv4_sign(&req, &p, &sig, NULL) < 0)
			return 1;
		sink += strlen(sig.authorization);
		sigv4_signature_free(&sig);
	}
	row("sigv4: sign SQS ReceiveMessage (125 B body)", n, cpu_usec() - t0);

	p.session_token = "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ";
	t0 = cpu_usec();
	for (i = 0; i < n; i++) {
		struct sigv4_signature sig;

		if (sigv4_sign(&req, &p, &sig, NULL) < 0)
			return 1;
		sink += strlen(sig.authorization);
		sigv4_signature_free(&sig);
	}
	row("sigv4: same with a session token", n, cpu_usec() - t0);

	{
		unsigned char key[AWS_SHA256_LEN];
		char date[AWS_AMZ_DATE_LEN + 1], day[9];

		aws_format_amz_date(p.time_usec, date);
		memcpy(day, date, 8);
		day[8] = '\0';
		sigv4_signing_key(secret, day, "us-east-1", "sqs", key);
		p.signing_key = key;
		t0 = cpu_usec();
		for (i = 0; i < n; i++) {
			struct sigv4_signature sig;

			if (sigv4_sign(&req, &p, &sig, NULL) < 0)
				return 1;
			sink += strlen(sig.authorization);
			sigv4_signature_free(&sig);
		}
		row("sigv4: same, signing key cached (the client)", n, cpu_usec() - t0);
		p.signing_key = NULL;
	}

	t0 = cpu_usec();
	for (i = 0; i < n; i++) {
		unsigned char k[AWS_SHA256_LEN];

		sigv4_signing_key(secret, "20260102", "us-east-1", "sqs", k);
		sink += k[0];
	}
	row("sigv4: signing key derivation alone", n, cpu_usec() - t0);

	detail = json_loads(event_detail, 0, NULL);
	t0 = cpu_usec();
	for (i = 0; i < n; i++) {
		json_t *v = json_loads(event_detail, 0, NULL);

		sink += json_object_size(v);
		json_decref(v);
	}
	row("json: decode a SignalGenerated detail (~500 B)", n, cpu_usec() - t0);

	t0 = cpu_usec();
	for (i = 0; i < n; i++) {
		char *s = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);

		sink += strlen(s);
		free(s);
	}
	row("json: encode it (compact, sorted keys)", n, cpu_usec() - t0);

	/* The PutEvents request for one entry: the detail is a string inside JSON. */
	text = json_dumps(detail, JSON_COMPACT);
	t0 = cpu_usec();
	for (i = 0; i < n; i++) {
		json_t *r = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "Entries", "Source", "alchemiser.strategy",
		    "DetailType", "SignalGenerated", "Detail", text, "EventBusName", "alchemiser");
		char *s = json_dumps(r, JSON_COMPACT);

		sink += strlen(s);
		free(s);
		json_decref(r);
	}
	row("json: build + encode a PutEvents request", n, cpu_usec() - t0);

	/* A ReceiveMessage answer carrying the event envelope as Body. */
	{
		json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:O}", "version", "0",
		    "id", "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type", "SignalGenerated",
		    "source", "alchemiser.strategy", "time", "2026-01-02T14:30:00Z", "region", "us-east-1",
		    "resources", "detail", detail);
		char *envtext = json_dumps(env, JSON_COMPACT);
		char md5[AWS_MD5_HEX_LEN + 1];
		json_t *resp;
		char *resptext;

		aws_md5_hex(envtext, strlen(envtext), md5);
		resp = json_pack("{s:[{s:s, s:s, s:s, s:s, s:{s:s, s:s}}]}", "Messages", "MessageId", "m-1",
		    "ReceiptHandle", "AQEBexampleexampleexampleexample", "MD5OfBody", md5, "Body", envtext,
		    "Attributes", "ApproximateReceiveCount", "1", "SentTimestamp", "1767364200000");
		resptext = json_dumps(resp, JSON_COMPACT);
		t0 = cpu_usec();
		for (i = 0; i < n; i++) {
			json_t *r = json_loads(resptext, 0, NULL);
			const char *b = json_string_value(json_object_get(json_array_get(json_object_get(r,
			    "Messages"), 0), "Body"));
			json_t *ev = json_loads(b, 0, NULL);
			char got[AWS_MD5_HEX_LEN + 1];

			aws_md5_hex(b, strlen(b), got);
			sink += json_object_size(ev) + (size_t)got[0];
			json_decref(ev);
			json_decref(r);
		}
		row("json: decode ReceiveMessage + body + MD5 check", n, cpu_usec() - t0);
		free(resptext);
		free(envtext);
		json_decref(resp);
		json_decref(env);
	}
	free(text);
	json_decref(detail);
	secret_free(secret);
	fprintf(stderr, "(checksum %zu)\n", sink);
	return 0;
}
