/* Option setup and response capture shared by the easy and multi paths. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "http_internal.h"

#define HTTP_MAX_HEADERS 128

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init_once(void)
{
	/* Not thread-safe in libcurl itself, hence the once: the daemon may
	 * build its first handles from several threads. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
}

void
http_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_capture *cap = arg;
	size_t n = size * nmemb;

	if (cap->body.len + n > HTTP_MAX_BODY) {
		cap->too_big = true;
		return 0;	/* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
	}
	abuf_add(&cap->body, ptr, n);
	return n;
}

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_capture *cap = arg;
	size_t n = size * nmemb, len = n;
	size_t i;

	while (len > 0 && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	/* A status line starts a new response (redirects, 100-continue):
	 * keep only the headers of the last one. */
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		for (i = 0; i < cap->n_headers; i++)
			free(cap->headers[i]);
		cap->n_headers = 0;
		return n;
	}
	if (len == 0 || memchr(ptr, ':', len) == NULL || cap->n_headers >= HTTP_MAX_HEADERS)
		return n;
	cap->headers = xreallocarray(cap->headers, cap->n_headers + 1, sizeof *cap->headers);
	cap->headers[cap->n_headers++] = xstrndup(ptr, len);
	return n;
}

int
http_setup(CURL *h, const struct http_options *o, const struct http_request *req,
    struct http_capture *cap, struct errctx *ec)
{
	int64_t cto = o->connect_timeout_usec > 0 ? o->connect_timeout_usec : 3000000;
	int64_t to = req->timeout_usec > 0 ? req->timeout_usec :
	    o->timeout_usec > 0 ? o->timeout_usec : 10000000;
	size_t i;

	memset(cap, 0, sizeof *cap);
	abuf_init(&cap->body);
	/* Suppress "Expect: 100-continue": it costs a round trip and libcurl would
	 * add it after we signed. */
	cap->slist = curl_slist_append(NULL, "Expect:");
	for (i = 0; i < req->n_headers; i++) {
		if (strpbrk(req->headers[i], "\r\n") != NULL) {
			http_capture_free(cap);
			return errctx_set(ec, -EINVAL, "http: header %zu contains CR or LF", i);
		}
		cap->slist = curl_slist_append(cap->slist, req->headers[i]);
	}
	if (cap->slist == NULL)
		abort();

	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, cap->slist);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, cap);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, cap);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cap->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(cto / 1000));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(to / 1000));
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	/* TLS verification is not an option. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	if (o->ca_path != NULL)
		curl_easy_setopt(h, CURLOPT_CAPATH, o->ca_path);
	curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent != NULL ? o->user_agent : "alchemiserd");
	if (req->no_proxy)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		/* POSTFIELDS with an explicit size: libcurl sends exactly the
		 * signed bytes, never chunked. */
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	}
	return 0;
}

void
http_capture_take(CURL *h, struct http_capture *cap, struct http_response *resp)
{
	long status = 0;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	resp->body_len = cap->body.len;
	resp->body = abuf_steal(&cap->body);
	resp->headers = cap->headers;
	resp->n_headers = cap->n_headers;
	cap->headers = NULL;
	cap->n_headers = 0;
}

void
http_capture_free(struct http_capture *cap)
{
	size_t i;

	abuf_free(&cap->body);
	for (i = 0; i < cap->n_headers; i++)
		free(cap->headers[i]);
	free(cap->headers);
	cap->headers = NULL;
	cap->n_headers = 0;
	curl_slist_free_all(cap->slist);
	cap->slist = NULL;
}

int
http_curl_error(CURLcode code, const struct http_capture *cap, const char *url, struct errctx *ec)
{
	const char *why = cap->errbuf[0] != '\0' ? cap->errbuf : curl_easy_strerror(code);
	char where[128];
	const char *q;
	int r;

	/* The URL names the endpoint; cut any query so nothing sensitive leaks. */
	q = strchr(url, '?');
	(void)snprintf(where, sizeof where, "%.*s", q != NULL ? (int)(q - url) : 120, url);
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		r = -ETIMEDOUT;
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		r = -ECONNRESET;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		r = -EACCES;
		break;
	case CURLE_WRITE_ERROR:
		if (cap->too_big)
			return errctx_set(ec, -E2BIG, "%s: response body over %d bytes", where,
			    HTTP_MAX_BODY);
		r = -EIO;
		break;
	default:
		r = -EIO;
		break;
	}
	return errctx_set(ec, r, "%s: %s", where, why);
}

const char *
http_response_header(const struct http_response *r, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->n_headers; i++) {
		const char *h = r->headers[i];

		if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
			h += n + 1;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
	}
	return NULL;
}

void
http_response_free(struct http_response *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->body);
	for (i = 0; i < r->n_headers; i++)
		free(r->headers[i]);
	free(r->headers);
	memset(r, 0, sizeof *r);
}
