/* A request's life: created by the connection thread when its headers
 * arrive, handed to a handler thread, freed when both are done with it;
 * and what handlers read from it. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

static void request_free(struct http_request *req)
{
        http_response_free(req->response);
        http_close_fd(&req->body_rfd);
        http_close_fd(&req->body_wfd);
        http_close_fd(&req->wake_efd);
        http_close_fd(&req->cancel_efd);
        http_kvs_clear(&req->params);
        http_kvs_clear(&req->query);
        http_kvs_clear(&req->headers);
        http_kvs_clear(&req->reply_headers);
        free(req->method);
        free(req->url);
        free(req->log_url);
        free(req->path);
        free(req->pre_msg);
        free(req->body);
        free(req);
}

static bool request_link(struct http_request *req)
{
        struct http_server *s = req->srv;
        bool ok;

        pthread_mutex_lock(&s->lock);
        ok = !s->stopping;
        if (ok) {
                req->next = s->live;
                if (s->live)
                        s->live->prev = req;
                s->live = req;
                s->nlive++;
        }
        pthread_mutex_unlock(&s->lock);
        return ok;
}

struct http_request *http_request_new(struct http_conn *c, struct http_head *h, bool *bad)
{
        struct http_request *req = xcalloc(1, sizeof(*req));

        req->srv = c->srv;
        req->conn = c;
        req->client_fd = c->fd;
        req->refs = 1;
        req->body_rfd = req->body_wfd = req->hj_fd = -1;
        req->method = steal_pointer(&h->method);
        req->url = steal_pointer(&h->target);
        req->log_url = quote(req->url);
        req->http11 = h->minor == 1;
        req->headers = h->headers;
        h->headers = (struct http_kvs){ 0 };
        req->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        req->cancel_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (http_decode_target(req->url, &req->path, &req->query) < 0) {
                *bad = true;
                request_free(req);
                return NULL;
        }
        if (req->wake_efd < 0 || req->cancel_efd < 0 || !request_link(req)) {
                request_free(req);
                return NULL;
        }
        return req;
}

void http_request_unref(struct http_request *req)
{
        struct http_server *s = req->srv;

        pthread_mutex_lock(&s->lock);
        if (--req->refs > 0) {
                pthread_mutex_unlock(&s->lock);
                return;
        }
        if (req->prev)
                req->prev->next = req->next;
        else
                s->live = req->next;
        if (req->next)
                req->next->prev = req->prev;
        pthread_mutex_unlock(&s->lock);
        /* Freed before it stops counting, so that once the server sees no
         * live request, nothing of one is left for a leak checker. */
        request_free(req);
        pthread_mutex_lock(&s->lock);
        s->nlive--;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

void http_wake(int efd)
{
        (void)eventfd_write(efd, 1);
}

void http_request_cancel_locked(struct http_request *req)
{
        if (req->cancelled)
                return;
        req->cancelled = true;
        http_wake(req->cancel_efd);
}

void http_request_abort_locked(struct http_request *req)
{
        http_request_cancel_locked(req);
        http_wake(req->wake_efd);
        if (req->body_rfd >= 0)
                shutdown(req->body_rfd, SHUT_RDWR);
        if (req->body_wfd >= 0)
                shutdown(req->body_wfd, SHUT_RDWR);
        if (req->hj == HTTP_HJ_READY && req->hj_fd >= 0)
                shutdown(req->hj_fd, SHUT_RDWR);
}

int http_request_cancel_fd(const struct http_request *req)
{
        return req->cancel_efd;
}

/* The fd, not the flag: a stream's reader signals it without the request
 * at hand. */
bool http_request_cancelled(const struct http_request *req)
{
        struct pollfd p = { req->cancel_efd, POLLIN, 0 };

        return poll(&p, 1, 0) == 1;
}

const char *http_method(const struct http_request *req) { return req->method; }
const char *http_path(const struct http_request *req) { return req->path; }

void http_version(const struct http_request *req, unsigned *major, unsigned *minor)
{
        *major = req->version.major;
        *minor = req->version.minor;
}

int http_version_cmp(const struct http_request *req, unsigned major, unsigned minor)
{
        struct http_api_version v = { major, minor };

        return http_version_compare(&req->version, &v);
}

const char *http_param(const struct http_request *req, const char *name)
{
        return http_kvs_get(&req->params, name, false);
}

const char *http_query(const struct http_request *req, const char *name)
{
        return http_kvs_get(&req->query, name, false);
}

size_t http_query_all(const struct http_request *req, const char *name, const char **out, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < req->query.n && n < max; i++)
                if (strcmp(req->query.v[i].key, name) == 0)
                        out[n++] = req->query.v[i].value;
        return n;
}

bool http_query_bool(const struct http_request *req, const char *name)
{
        return http_parse_bool(http_query(req, name));
}

const char *http_header(const struct http_request *req, const char *name)
{
        return http_kvs_get(&req->headers, name, true);
}
