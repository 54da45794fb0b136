/* SigV4: the AWS suite (read in place from shared/testdata/sigv4/v4) and
 * self-made cases from shared/reference/aws-sigv4.md, so a plain clone still
 * tests the signer.
 *
 * Harness notes on the suite: request.txt is raw. Three cases carry bytes no
 * client puts on the wire unescaped (get-space-normalized/-unnormalized: a
 * space in the path; get-utf8: UTF-8 in the path; get-vanilla-utf8-query:
 * UTF-8 in the query). They need no pre-encoding here because the signer
 * UriEncodes the path as given (that is the double encoding for an escaped
 * path) and decodes-then-encodes query names and values; every case passes
 * as written. A continuation header line (get-header-value-multiline) is
 * joined to its value with one space, as an HTTP parser unfolds it. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/sigv4.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"

#define EX_KEY "AKIDEXAMPLE"
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

struct parsed {
	char			*method;
	char			*path;
	char			*query;
	struct sigv4_header	 headers[32];
	size_t			 n;
	char			*body;
	size_t			 body_len;
};

static void
parse_request(char *text, struct parsed *r)
{
	char *line, *next, *sp1, *sp2, *q;

	memset(r, 0, sizeof *r);
	next = strchr(text, '\n');
	ck_assert_ptr_nonnull(next);
	*next++ = '\0';
	sp1 = strchr(text, ' ');
	sp2 = strrchr(text, ' ');
	ck_assert(sp1 != NULL && sp2 != NULL && sp1 < sp2);
	r->method = xstrndup(text, (size_t)(sp1 - text));
	r->path = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	q = strchr(r->path, '?');
	if (q != NULL) {
		*q = '\0';
		r->query = xstrdup(q + 1);
	}
	for (line = next; line != NULL && *line != '\0'; line = next) {
		char *colon;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == '\0')
			break;
		if (*line == ' ' || *line == '\t') {
			char *prev;

			ck_assert_uint_gt(r->n, 0);
			prev = (char *)r->headers[r->n - 1].value;
			r->headers[r->n - 1].value = xasprintf("%s %s", prev, line);
			free(prev);
			continue;
		}
		colon = strchr(line, ':');
		ck_assert_ptr_nonnull(colon);
		ck_assert_uint_lt(r->n, 32);
		r->headers[r->n].name = xstrndup(line, (size_t)(colon - line));
		r->headers[r->n].value = xstrdup(colon + 1);
		r->n++;
	}
	r->body = xstrdup(next != NULL ? next : "");
	r->body_len = strlen(r->body);
}

static void
parsed_free(struct parsed *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->body);
}

static char *
read_case_file(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *s = test_read_file(path, NULL);
	size_t n = strlen(s);

	free(path);
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	return s;
}

static void
run_case(const char *dir, const char *name)
{
	char *path = xasprintf("%s/context.json", dir);
	json_error_t jerr;
	json_t *ctx = json_load_file(path, 0, &jerr);
	json_t *cred;
	struct parsed r;
	struct sigv4_request req;
	struct sigv4_params p = { 0 };
	struct sigv4_signature sig;
	struct secret *secret;
	struct errctx ec;
	char *text, *want;
	int64_t t;

	ck_assert_msg(ctx != NULL, "%s: %s", path, jerr.text);
	free(path);
	cred = json_object_get(ctx, "credentials");
	secret = secret_new(json_string_value(json_object_get(cred, "secret_access_key")),
	    strlen(json_string_value(json_object_get(cred, "secret_access_key"))));
	p.access_key_id = json_string_value(json_object_get(cred, "access_key_id"));
	p.secret_access_key = secret;
	p.session_token = json_string_value(json_object_get(cred, "token"));
	p.region = json_string_value(json_object_get(ctx, "region"));
	p.service = json_string_value(json_object_get(ctx, "service"));
	p.normalize_path = json_is_true(json_object_get(ctx, "normalize"));
	p.sign_body = json_is_true(json_object_get(ctx, "sign_body"));
	p.omit_session_token = json_is_true(json_object_get(ctx, "omit_session_token"));
	ck_assert_int_eq(aws_parse_iso8601(json_string_value(json_object_get(ctx, "timestamp")), &t), 0);
	p.time_usec = t;

	text = read_case_file(dir, "request.txt");
	parse_request(text, &r);
	req = (struct sigv4_request){ r.method, r.path, r.query, r.headers, r.n, r.body, r.body_len };
	ck_assert_ok(sigv4_sign(&req, &p, &sig, &ec), &ec);

	want = read_case_file(dir, "header-canonical-request.txt");
	ck_assert_msg(strcmp(sig.canonical_request, want) == 0, "%s canonical request:\n%s\n--- want:\n%s",
	    name, sig.canonical_request, want);
	free(want);
	want = read_case_file(dir, "header-string-to-sign.txt");
	ck_assert_msg(strcmp(sig.string_to_sign, want) == 0, "%s string to sign", name);
	free(want);
	want = read_case_file(dir, "header-signature.txt");
	ck_assert_msg(strcmp(sig.signature, want) == 0, "%s signature %s want %s", name,
	    sig.signature, want);
	free(want);
	ck_assert_ptr_nonnull(strstr(sig.authorization, sig.signature));

	sigv4_signature_free(&sig);
	parsed_free(&r);
	free(text);
	secret_free(secret);
	json_decref(ctx);
}

START_TEST(test_sigv4_aws_suite)
{
	char *root = test_shared_path("sigv4/v4");
	struct dirent **names;
	int n, i, ran = 0;

	if (root == NULL)
		return;
	n = scandir(root, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *dir = xasprintf("%s/%s", root, names[i]->d_name);

			run_case(dir, names[i]->d_name);
			free(dir);
			ran++;
		}
		free(names[i]);
	}
	free(names);
	free(root);
	/* Every case of the suite, not "whatever was there". */
	ck_assert_int_eq(ran, 38);
}
END_TEST

static void
sign_simple(const char *method, const char *path, const char *query,
    const struct sigv4_header *h, size_t nh, const char *body, const char *token,
    const char *service, int64_t t, struct sigv4_signature *sig)
{
	struct secret *s = secret_new(EX_SECRET, strlen(EX_SECRET));
	struct sigv4_request req = { method, path, query, h, nh, body, body != NULL ? strlen(body) : 0 };
	struct sigv4_params p = { "us-east-1", service, EX_KEY, s, token, t, true, false, false, NULL };
	struct errctx ec;

	ck_assert_ok(sigv4_sign(&req, &p, sig, &ec), &ec);
	secret_free(s);
}

#define T_2015 (INT64_C(1440938160) * 1000000)	/* 2015-08-30T12:36:00Z */

START_TEST(test_sigv4_get_vanilla)
{
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_signature sig;

	sign_simple("GET", "/", NULL, h, 1, NULL, NULL, "service", T_2015, &sig);
	ck_assert_str_eq(sig.amz_date, "20150830T123600Z");
	ck_assert_str_eq(sig.canonical_request, "GET\n/\n\nhost:example.amazonaws.com\n"
	    "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_str_eq(sig.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	ck_assert_str_eq(sig.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, "
	    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	sigv4_signature_free(&sig);
}
END_TEST

START_TEST(test_sigv4_signing_key)
{
	struct secret *s = secret_new(EX_SECRET, strlen(EX_SECRET));
	unsigned char k[AWS_SHA256_LEN];
	char hex[AWS_SHA256_HEX_LEN + 1];

	sigv4_signing_key(s, "20150830", "us-east-1", "service", k);
	aws_hex(k, sizeof k, hex);
	ck_assert_str_eq(hex, "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
	sigv4_signing_key(s, "20260102", "us-east-1", "sqs", k);
	aws_hex(k, sizeof k, hex);
	ck_assert_str_eq(hex, "2ff297a9677e4dae14c807deddfda42a648728a19457402a48e239ed0efff414");
	secret_free(s);
}
END_TEST

START_TEST(test_sigv4_query_order_and_encoding)
{
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_signature sig;
	struct abuf b;

	sign_simple("GET", "/", "Param2=value2&Param1=value1", h, 1, NULL, NULL, "service", T_2015, &sig);
	ck_assert_str_eq(sig.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	sigv4_signature_free(&sig);

	abuf_init(&b);
	sigv4_canonical_query(&b, "b=a b&a=%7E*&A=x/y&e");
	ck_assert_str_eq(b.data, "A=x%2Fy&a=~%2A&b=a%20b&e=");
	abuf_free(&b);
	sigv4_canonical_uri(&b, "/a%20b/./../c d/", true);
	ck_assert_str_eq(b.data, "/c%20d/");
	abuf_free(&b);
	sigv4_canonical_uri(&b, "/123456789012/my-queue", true);
	ck_assert_str_eq(b.data, "/123456789012/my-queue");
	abuf_free(&b);
	sigv4_canonical_uri(&b, "/a%20b", true);
	ck_assert_str_eq(b.data, "/a%2520b");
	abuf_free(&b);
}
END_TEST

START_TEST(test_sigv4_header_trim_and_token)
{
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" }, { "My-Header1", "value1" },
		{ "My-Header2", "\"a   b   c\"" }, { "User-Agent", "curl" } };
	struct sigv4_signature sig;

	sign_simple("GET", "/", NULL, h, 4, NULL, NULL, "service", T_2015, &sig);
	ck_assert_str_eq(sig.signed_headers, "host;my-header1;my-header2;x-amz-date");
	ck_assert_ptr_nonnull(strstr(sig.canonical_request, "my-header2:\"a b c\"\n"));
	ck_assert_str_eq(sig.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
	sigv4_signature_free(&sig);

	sign_simple("GET", "/", NULL, h, 1, NULL,
	    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", "service", T_2015, &sig);
	ck_assert_str_eq(sig.signed_headers, "host;x-amz-date;x-amz-security-token");
	ck_assert_str_eq(sig.signature, "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
	sigv4_signature_free(&sig);
}
END_TEST

START_TEST(test_sigv4_sqs_worked_example)
{
	const char *body = "{\"QueueUrl\":\"https://sqs.us-east-1.amazonaws.com/123456789012/alchemiser-jobs\","
	    "\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":20}";
	struct sigv4_header h[] = { { "Content-Type", "application/x-amz-json-1.0" },
		{ "Host", "sqs.us-east-1.amazonaws.com" },
		{ "X-Amz-Target", "AmazonSQS.ReceiveMessage" }, { "Expect", "" } };
	struct sigv4_signature sig;

	ck_assert_uint_eq(strlen(body), 125);
	/* 2026-01-02T03:04:05Z */
	sign_simple("POST", "/", NULL, h, 4, body, NULL, "sqs", INT64_C(1767323045) * 1000000, &sig);
	ck_assert_str_eq(sig.content_sha256, "983796257e3dd0ad860519d96966a8db0980ae529355b609c5589f246d988af9");
	ck_assert_str_eq(sig.signature, "b3996a34265bc92a7c2bce458eb2bc664d2a55709db07f876977fb6286f53f46");
	ck_assert_str_eq(sig.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/sqs/"
	    "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
	    "Signature=b3996a34265bc92a7c2bce458eb2bc664d2a55709db07f876977fb6286f53f46");
	sigv4_signature_free(&sig);
}
END_TEST

START_TEST(test_sigv4_cached_signing_key)
{
	struct secret *s = secret_new(EX_SECRET, strlen(EX_SECRET));
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_request req = { "GET", "/", NULL, h, 1, NULL, 0 };
	unsigned char key[AWS_SHA256_LEN];
	struct sigv4_params p = { "us-east-1", "service", EX_KEY, s, NULL, T_2015, true, false, false, key };
	struct sigv4_signature sig;
	struct errctx ec;

	/* A key handed in gives the same signature as one derived inside. */
	sigv4_signing_key(s, "20150830", "us-east-1", "service", key);
	ck_assert_ok(sigv4_sign(&req, &p, &sig, &ec), &ec);
	ck_assert_str_eq(sig.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	sigv4_signature_free(&sig);
	secret_free(s);
}
END_TEST

START_TEST(test_sigv4_missing_host)
{
	struct secret *s = secret_new(EX_SECRET, strlen(EX_SECRET));
	struct sigv4_header h[] = { { "X-Amz-Target", "x" } };
	struct sigv4_request req = { "POST", "/", NULL, h, 1, NULL, 0 };
	struct sigv4_params p = { "us-east-1", "sqs", EX_KEY, s, NULL, 0, true, false, false, NULL };
	struct sigv4_signature sig;
	struct errctx ec;

	ck_assert_err(sigv4_sign(&req, &p, &sig, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(strstr(ec.msg, EX_SECRET));
	secret_free(s);
}
END_TEST

START_TEST(test_sigv4_time_formats)
{
	int64_t t;
	char d[AWS_AMZ_DATE_LEN + 1];

	ck_assert_int_eq(aws_parse_http_date("Fri, 02 Jan 2026 03:04:05 GMT", &t), 0);
	ck_assert_int_eq(t, INT64_C(1767323045) * 1000000);
	ck_assert_int_eq(aws_parse_iso8601("2026-01-02T03:04:05Z", &t), 0);
	ck_assert_int_eq(t, INT64_C(1767323045) * 1000000);
	ck_assert_int_eq(aws_parse_iso8601("2026-01-02T05:04:05.5+02:00", &t), 0);
	ck_assert_int_eq(t, INT64_C(1767323045) * 1000000 + 500000);
	ck_assert_int_eq(aws_parse_iso8601("2026-01-02", &t), -EINVAL);
	ck_assert_int_eq(aws_parse_http_date("yesterday", &t), -EINVAL);
	aws_format_amz_date(INT64_C(1767323045) * 1000000, d);
	ck_assert_str_eq(d, "20260102T030405Z");
}
END_TEST

/* The digests the signer is built on (awsutil.c fetches SHA-256 and MD5
 * once and computes HMAC itself): RFC 4231 cases 1, 2 and 6 (a key longer
 * than a block), the empty SHA-256 and RFC 1321's MD5 of "abc". */
START_TEST(test_sigv4_digest_vectors)
{
	unsigned char key[131], mac[AWS_SHA256_LEN];
	char hex[AWS_SHA256_HEX_LEN + 1], md5[AWS_MD5_HEX_LEN + 1];
	const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";

	memset(key, 0x0b, 20);
	aws_hmac_sha256(key, 20, "Hi There", 8, mac);
	aws_hex(mac, sizeof mac, hex);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	aws_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	aws_hex(mac, sizeof mac, hex);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof key);
	aws_hmac_sha256(key, sizeof key, big, strlen(big), mac);
	aws_hex(mac, sizeof mac, hex);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* Output over the key, as the signing-key chain calls it. */
	memcpy(mac, "Jefe", 4);
	aws_hmac_sha256(mac, 4, "what do ya want for nothing?", 28, mac);
	aws_hex(mac, sizeof mac, hex);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	aws_sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	aws_md5_hex("abc", 3, md5);
	ck_assert_str_eq(md5, "900150983cd24fb0d6963f7d28e17f72");
}
END_TEST

static Suite *
sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc;

	tc = tcase_create("conformance");
	tcase_add_test(tc, test_sigv4_aws_suite);
	suite_add_tcase(s, tc);
	tc = tcase_create("vectors");
	tcase_add_test(tc, test_sigv4_get_vanilla);
	tcase_add_test(tc, test_sigv4_signing_key);
	tcase_add_test(tc, test_sigv4_query_order_and_encoding);
	tcase_add_test(tc, test_sigv4_header_trim_and_token);
	tcase_add_test(tc, test_sigv4_sqs_worked_example);
	tcase_add_test(tc, test_sigv4_cached_signing_key);
	tcase_add_test(tc, test_sigv4_digest_vectors);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_sigv4_missing_host);
	tcase_add_test(tc, test_sigv4_time_formats);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(sigv4_suite)
