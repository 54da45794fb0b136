/* Shared by http_easy.c and http_multi.c: option setup and response capture. */
#ifndef ALCHEMISER_AWS_HTTP_INTERNAL_H
#define ALCHEMISER_AWS_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/http.h"

struct http_capture {
	struct abuf		 body;
	char			**headers;
	size_t			 n_headers;
	bool			 too_big;
	struct curl_slist	*slist;
	char			 errbuf[CURL_ERROR_SIZE];
};

/* Set every option of one request on h (after curl_easy_reset). The request's
 * body pointer must stay valid until the transfer ends. */
int	http_setup(CURL *h, const struct http_options *o, const struct http_request *req,
	    struct http_capture *cap, struct errctx *ec);
/* Move the captured response into resp (status from h) and reset cap. */
void	http_capture_take(CURL *h, struct http_capture *cap, struct http_response *resp);
void	http_capture_free(struct http_capture *cap);
/* Map a failed transfer to a negative errno with the reason in ec. */
int	http_curl_error(CURLcode code, const struct http_capture *cap, const char *url,
	    struct errctx *ec);

#endif
