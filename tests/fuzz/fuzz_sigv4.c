/* Fuzz target: the SigV4 canonicaliser and signer. The input is a raw HTTP
 * request as the AWS SigV4 test suite writes them:
 *     METHOD PATH[?QUERY] HTTP/1.1\n
 *     Name:value\n            (a line starting with a blank continues a value)
 *     \n
 *     body
 * It is signed with fixed credentials and time (session token and body
 * signing vary with the input length), and the canonical URI and query are
 * also computed on their own. Invariant: the canonical query is a fixed point
 * (canonicalising it again gives the same bytes), as sigv4.h promises that
 * raw and escaped forms sign the same. */
#include <errno.h>
#include <string.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/sigv4.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "fuzz.h"

#define FUZZ_SIGV4_MAX_HEADERS	64

struct parsed {
	char			*copy;		/* the input, NUL-terminated, cut in place */
	char			*method, *path, *query;
	struct sigv4_header	 h[FUZZ_SIGV4_MAX_HEADERS];
	char			*joined[FUZZ_SIGV4_MAX_HEADERS];	/* continued values (owned) */
	size_t			 nh;
	const char		*body;
	size_t			 body_len;
};

static char *
next_line(char **pos)
{
	char *s = *pos, *nl;

	if (s == NULL)
		return NULL;
	nl = strchr(s, '\n');
	if (nl != NULL) {
		*nl = '\0';
		if (nl > s && nl[-1] == '\r')
			nl[-1] = '\0';
		*pos = nl + 1;
	} else
		*pos = NULL;
	return s;
}

static void
parse_request(const uint8_t *data, size_t size, struct parsed *p)
{
	char *pos, *line, *sp, *q, *colon;
	const char *end;

	memset(p, 0, sizeof *p);
	p->copy = xmalloc(size + 1);
	memcpy(p->copy, data, size);
	p->copy[size] = '\0';
	/* The body is everything after the first empty line, NULs included. */
	end = memmem(data, size, "\n\n", 2);
	if (end != NULL) {
		p->body = end + 2;
		p->body_len = size - (size_t)(p->body - (const char *)data);
	}
	pos = p->copy;
	line = next_line(&pos);
	sp = strchr(line, ' ');
	p->method = line;
	if (sp == NULL) {
		static char root[] = "/";

		p->path = root;
		return;
	}
	*sp = '\0';
	p->path = sp + 1;
	sp = strrchr(p->path, ' ');
	if (sp != NULL && strncmp(sp, " HTTP/", 6) == 0)
		*sp = '\0';
	q = strchr(p->path, '?');
	if (q != NULL) {
		*q = '\0';
		p->query = q + 1;
	}
	while ((line = next_line(&pos)) != NULL && *line != '\0') {
		if ((*line == ' ' || *line == '\t') && p->nh > 0) {
			size_t i = p->nh - 1;
			char *v = xasprintf("%s\n%s", p->h[i].value, line);

			free(p->joined[i]);
			p->joined[i] = v;
			p->h[i].value = v;
			continue;
		}
		if (p->nh == FUZZ_SIGV4_MAX_HEADERS)
			break;
		colon = strchr(line, ':');
		if (colon != NULL)
			*colon = '\0';
		p->h[p->nh].name = line;
		p->h[p->nh].value = colon != NULL ? colon + 1 : NULL;
		p->nh++;
	}
}

static void
parsed_free(struct parsed *p)
{
	size_t i;

	for (i = 0; i < p->nh; i++)
		free(p->joined[i]);
	free(p->copy);
}

static void
check_query_fixed_point(const char *query)
{
	struct abuf once, twice;

	abuf_init(&once);
	abuf_init(&twice);
	sigv4_canonical_query(&once, query);
	sigv4_canonical_query(&twice, once.data != NULL ? once.data : "");
	if (once.len != twice.len || (once.len > 0 && memcmp(once.data, twice.data, once.len) != 0)) {
		fprintf(stderr, "canonical query is not a fixed point:\n  %s\n  %s\n",
		    once.data != NULL ? once.data : "", twice.data != NULL ? twice.data : "");
		abort();
	}
	abuf_free(&once);
	abuf_free(&twice);
}

int
fuzz_sigv4_one(const uint8_t *data, size_t size)
{
	static struct secret *secret;
	struct sigv4_signature sig;
	struct sigv4_request req;
	struct sigv4_params prm;
	struct errctx ec = { 0 };
	struct abuf b;
	struct parsed p;
	int r;

	if (secret == NULL) {
		static const char key[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

		secret = secret_new(key, sizeof key - 1);
	}
	parse_request(data, size, &p);

	abuf_init(&b);
	sigv4_canonical_uri(&b, p.path, true);
	abuf_free(&b);
	sigv4_canonical_uri(&b, p.path, false);
	abuf_free(&b);
	if (p.query != NULL)
		check_query_fixed_point(p.query);

	req = (struct sigv4_request){
		.method = p.method, .path = p.path, .query = p.query,
		.headers = p.h, .n_headers = p.nh, .body = p.body, .body_len = p.body_len,
	};
	prm = (struct sigv4_params){
		.region = "us-east-1", .service = "service",
		.access_key_id = "AKIDEXAMPLE", .secret_access_key = secret,
		.session_token = (size % 3 == 0) ? "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW  LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGd  QrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU\n" : NULL,
		.time_usec = INT64_C(1440938160000000),	/* 2015-08-30T12:36:00Z */
		.normalize_path = (size & 1) == 0,
		.omit_session_token = (size % 6) == 3,
		.sign_body = (size & 2) != 0,
	};
	r = sigv4_sign(&req, &prm, &sig, &ec);
	if (r == 0) {
		FUZZ_CHECK(sig.authorization != NULL && sig.signed_headers != NULL);
		FUZZ_CHECK(sig.canonical_request != NULL && sig.string_to_sign != NULL);
		FUZZ_CHECK(strlen(sig.signature) == AWS_SHA256_HEX_LEN);
		FUZZ_CHECK(strstr(sig.signed_headers, "host") != NULL);
		/* The secret never appears in what may be logged. */
		FUZZ_CHECK(strstr(sig.canonical_request, secret_reveal(secret)) == NULL ||
		    memmem(data, size, secret_reveal(secret), secret_len(secret)) != NULL);
		FUZZ_CHECK(strstr(sig.authorization, secret_reveal(secret)) == NULL);
		sigv4_signature_free(&sig);
	} else
		FUZZ_CHECK(r == -EINVAL && errctx_msg(&ec)[0] != '\0');
	parsed_free(&p);
	return 0;
}

FUZZ_ENTRY(fuzz_sigv4_one)
