/*
 * outreq: one bounded outbound HTTP request (see outreq.h).
 */
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "outreq.h"

#define MAX_REDIRS	3
#define CONNECT_MS	5000

struct sink {
	struct hl_buf	*out;
	size_t		 got;
	size_t		 max;
	int		 over;
	int		 nomem;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (n > s->max - s->got) {
		s->over = 1;
		return 0;		/* aborts the transfer */
	}
	s->got += n;
	if (s->out != NULL && hl_buf_put(s->out, p, n) != 0) {
		s->nomem = 1;
		return 0;
	}
	return n;
}

int
hl_outreq_send(long *status, struct hl_buf *out, const struct hl_outreq *r,
    struct hl_err *err)
{
	CURL *h = NULL;
	struct curl_slist *hdr = NULL, *tmp;
	struct sink s = { out, 0, r->max_body, 0, 0 };
	CURLcode cc;
	size_t i;
	int rc = 0;

	*status = 0;
	if (strncasecmp(r->url, "http://", 7) != 0 &&
	    strncasecmp(r->url, "https://", 8) != 0)
		return hl_err_set(err, HL_EINVAL, "not an http(s) URL");
	if ((h = curl_easy_init()) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; r->headers != NULL && r->headers[i] != NULL; i++) {
		if ((tmp = curl_slist_append(hdr, r->headers[i])) == NULL) {
			rc = hl_err_set(err, HL_ENOMEM, "out of memory");
			goto out;
		}
		hdr = tmp;
	}
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_USERAGENT, "helios-monitor/1");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (strcmp(r->method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->body_len);
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (s.over)
		rc = hl_err_set(err, HL_ETOOBIG, "answer over %zu bytes",
		    r->max_body);
	else if (s.nomem)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	else if (cc != CURLE_OK)
		rc = hl_err_set(err, HL_EIO, "%s", curl_easy_strerror(cc));
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc;
}
