/*
 * curl_lazy: libcurl, loaded when it is first used (issue #13: start-up).
 * The embedded default (SQLite queue, maildir, paper broker) never speaks
 * HTTP or SMTP, yet linking libcurl made every start map and relocate it
 * and its ~30 dependencies (TLS, SSH, LDAP, Kerberos, RTMP, IDN): about
 * 4 of the 8 ms from exec to READY. alchemiserd is linked without -lcurl:
 * these definitions of the libcurl functions the program calls open
 * libcurl.so.4 on the first call (from any thread, once) and forward to it.
 * Test programs that also link libcurl get these too; the dlopen then finds
 * the library already loaded.
 *
 * A library that cannot be loaded: curl_global_init, which every user calls
 * first (the AWS backend, the SMTP mailer, the Alpaca broker and market
 * data, all at start-up), returns CURLE_FAILED_INIT and its caller reports
 * it; any other call aborts with the reason on stderr.
 * Adding a call to another libcurl function: add it here, or the daemon
 * does not link (undefined reference), never a silent dependency.
 * Thread: any. Memory: the library stays loaded for the process's life.
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ABI of every libcurl 7.x and 8.x. */
#define CURL_LAZY_SONAME "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	curl_version_info_data *(*version_info)(CURLversion);
	void (*free_)(void *);
	time_t (*getdate)(const char *, const time_t *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_reset)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	const char *(*multi_strerror)(CURLMcode);
} fn;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[512];

/* memcpy: ISO C has no cast from void * to a function pointer; POSIX
 * guarantees the representation (dlsym). */
static void
resolve(void *h, void *slot, const char *name)
{
	void *p;

	if (load_error[0] != '\0')
		return;
	p = dlsym(h, name);
	if (p == NULL)
		(void)snprintf(load_error, sizeof load_error, "%s: no %s", CURL_LAZY_SONAME, name);
	else
		memcpy(slot, &p, sizeof p);
}

static void
load(void)
{
	void *h = dlopen(CURL_LAZY_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		const char *e = dlerror();

		(void)snprintf(load_error, sizeof load_error, "%s", e != NULL ? e : CURL_LAZY_SONAME);
		return;
	}
	resolve(h, &fn.global_init, "curl_global_init");
	resolve(h, &fn.global_cleanup, "curl_global_cleanup");
	resolve(h, &fn.version_info, "curl_version_info");
	resolve(h, &fn.free_, "curl_free");
	resolve(h, &fn.getdate, "curl_getdate");
	resolve(h, &fn.slist_append, "curl_slist_append");
	resolve(h, &fn.slist_free_all, "curl_slist_free_all");
	resolve(h, &fn.easy_init, "curl_easy_init");
	resolve(h, &fn.easy_setopt, "curl_easy_setopt");
	resolve(h, &fn.easy_perform, "curl_easy_perform");
	resolve(h, &fn.easy_cleanup, "curl_easy_cleanup");
	resolve(h, &fn.easy_getinfo, "curl_easy_getinfo");
	resolve(h, &fn.easy_reset, "curl_easy_reset");
	resolve(h, &fn.easy_strerror, "curl_easy_strerror");
	resolve(h, &fn.easy_escape, "curl_easy_escape");
	resolve(h, &fn.url, "curl_url");
	resolve(h, &fn.url_cleanup, "curl_url_cleanup");
	resolve(h, &fn.url_get, "curl_url_get");
	resolve(h, &fn.url_set, "curl_url_set");
	resolve(h, &fn.multi_init, "curl_multi_init");
	resolve(h, &fn.multi_cleanup, "curl_multi_cleanup");
	resolve(h, &fn.multi_setopt, "curl_multi_setopt");
	resolve(h, &fn.multi_add_handle, "curl_multi_add_handle");
	resolve(h, &fn.multi_remove_handle, "curl_multi_remove_handle");
	resolve(h, &fn.multi_assign, "curl_multi_assign");
	resolve(h, &fn.multi_socket_action, "curl_multi_socket_action");
	resolve(h, &fn.multi_info_read, "curl_multi_info_read");
	resolve(h, &fn.multi_strerror, "curl_multi_strerror");
}

static bool
loaded(void)
{
	(void)pthread_once(&load_once, load);
	return load_error[0] == '\0';
}

static void
need(void)
{
	if (loaded())
		return;
	fprintf(stderr, "alchemiserd: cannot load libcurl: %s\n", load_error);
	abort();
}

CURLcode
curl_global_init(long flags)
{
	if (!loaded()) {
		fprintf(stderr, "alchemiserd: cannot load libcurl: %s\n", load_error);
		return CURLE_FAILED_INIT;
	}
	return fn.global_init(flags);
}

void
curl_global_cleanup(void)
{
	need();
	fn.global_cleanup();
}

curl_version_info_data *
curl_version_info(CURLversion v)
{
	need();
	return fn.version_info(v);
}

void
curl_free(void *p)
{
	need();
	fn.free_(p);
}

time_t
curl_getdate(const char *p, const time_t *unused)
{
	need();
	return fn.getdate(p, unused);
}

struct curl_slist *
curl_slist_append(struct curl_slist *list, const char *data)
{
	need();
	return fn.slist_append(list, data);
}

void
curl_slist_free_all(struct curl_slist *list)
{
	need();
	fn.slist_free_all(list);
}

CURL *
curl_easy_init(void)
{
	need();
	return fn.easy_init();
}

/* The option's number says the type of its one argument (curl.h CURLOPTTYPE_*):
 * long, a pointer (object or function), curl_off_t, or a blob pointer. The
 * same numbering holds for the multi options. */
CURLcode
curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode r;

	need();
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		r = fn.easy_setopt(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_OFF_T || option >= CURLOPTTYPE_BLOB)
		r = fn.easy_setopt(curl, option, va_arg(ap, void *));
	else
		r = fn.easy_setopt(curl, option, va_arg(ap, curl_off_t));
	va_end(ap);
	return r;
}

CURLcode
curl_easy_perform(CURL *curl)
{
	need();
	return fn.easy_perform(curl);
}

void
curl_easy_cleanup(CURL *curl)
{
	need();
	fn.easy_cleanup(curl);
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	CURLcode r;

	need();
	va_start(ap, info);
	r = fn.easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

void
curl_easy_reset(CURL *curl)
{
	need();
	fn.easy_reset(curl);
}

const char *
curl_easy_strerror(CURLcode c)
{
	need();
	return fn.easy_strerror(c);
}

char *
curl_easy_escape(CURL *handle, const char *string, int length)
{
	need();
	return fn.easy_escape(handle, string, length);
}

CURLU *
curl_url(void)
{
	need();
	return fn.url();
}

void
curl_url_cleanup(CURLU *handle)
{
	need();
	fn.url_cleanup(handle);
}

CURLUcode
curl_url_get(CURLU *handle, CURLUPart what, char **part, unsigned int flags)
{
	need();
	return fn.url_get(handle, what, part, flags);
}

CURLUcode
curl_url_set(CURLU *handle, CURLUPart what, const char *part, unsigned int flags)
{
	need();
	return fn.url_set(handle, what, part, flags);
}

CURLM *
curl_multi_init(void)
{
	need();
	return fn.multi_init();
}

CURLMcode
curl_multi_cleanup(CURLM *m)
{
	need();
	return fn.multi_cleanup(m);
}

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption option, ...)
{
	va_list ap;
	CURLMcode r;

	need();
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		r = fn.multi_setopt(m, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_OFF_T || option >= CURLOPTTYPE_BLOB)
		r = fn.multi_setopt(m, option, va_arg(ap, void *));
	else
		r = fn.multi_setopt(m, option, va_arg(ap, curl_off_t));
	va_end(ap);
	return r;
}

CURLMcode
curl_multi_add_handle(CURLM *m, CURL *curl)
{
	need();
	return fn.multi_add_handle(m, curl);
}

CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *curl)
{
	need();
	return fn.multi_remove_handle(m, curl);
}

CURLMcode
curl_multi_assign(CURLM *m, curl_socket_t sockfd, void *sockp)
{
	need();
	return fn.multi_assign(m, sockfd, sockp);
}

CURLMcode
curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev_bitmask, int *running)
{
	need();
	return fn.multi_socket_action(m, s, ev_bitmask, running);
}

CURLMsg *
curl_multi_info_read(CURLM *m, int *msgs_in_queue)
{
	need();
	return fn.multi_info_read(m, msgs_in_queue);
}

const char *
curl_multi_strerror(CURLMcode c)
{
	need();
	return fn.multi_strerror(c);
}
