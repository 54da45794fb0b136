/* Blocking transfers on one reused curl easy handle (keep-alive). */
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "http_internal.h"

struct http_easy {
	CURL			*curl;
	struct http_options	 o;
	char			*ca_file;
	char			*ca_path;
	char			*user_agent;
};

struct http_easy *
http_easy_new(const struct http_options *o)
{
	struct http_easy *h = xcalloc(1, sizeof *h);

	http_global_init();
	h->curl = curl_easy_init();
	if (h->curl == NULL)
		abort();
	h->o = *o;
	h->o.ca_file = h->ca_file = xstrdup_or_null(o->ca_file);
	h->o.ca_path = h->ca_path = xstrdup_or_null(o->ca_path);
	h->o.user_agent = h->user_agent = xstrdup_or_null(o->user_agent);
	return h;
}

int
http_easy_perform(struct http_easy *h, const struct http_request *req,
    struct http_response *resp, struct errctx *ec)
{
	struct http_capture cap;
	CURLcode code;
	int r;

	memset(resp, 0, sizeof *resp);
	/* reset keeps the connection cache: that is the keep-alive. */
	curl_easy_reset(h->curl);
	r = http_setup(h->curl, &h->o, req, &cap, ec);
	if (r < 0)
		return r;
	code = curl_easy_perform(h->curl);
	if (code != CURLE_OK) {
		r = http_curl_error(code, &cap, req->url, ec);
		http_capture_free(&cap);
		return r;
	}
	http_capture_take(h->curl, &cap, resp);
	http_capture_free(&cap);
	return 0;
}

void
http_easy_free(struct http_easy *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h->ca_path);
	free(h->user_agent);
	free(h);
}
