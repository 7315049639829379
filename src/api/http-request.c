/* A request's life: created by the connection thread when its headers
 * arrive, handed to a handler thread, freed when both are done with it;
 * and what handlers read from it. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
        (void)kind;
        http_kvs_add(cls, key, strlen(key), value, value ? strlen(value) : 0);
        return MHD_YES;
}

/* Copies of headers and query: libmicrohttpd appends trailers to the same
 * list while a streamed body arrives, so the handler must not walk it. */
static void request_copy_values(struct http_request *req, struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

        req->client_fd = ci ? ci->connect_fd : -1;
        MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &req->headers);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &req->query);
}

static void request_free(struct http_request *req)
{
        if (req->response)
                MHD_destroy_response(req->response);
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

struct http_request *http_request_new(struct http_server *srv, struct MHD_Connection *c,
                                      const char *url, const char *method, const char *version)
{
        struct http_request *req = xcalloc(1, sizeof(*req));

        req->srv = srv;
        req->conn = c;
        req->refs = 1;
        req->body_rfd = req->body_wfd = req->hj_fd = -1;
        req->method = xstrdup(method);
        req->url = xstrdup(url);
        req->log_url = quote(url);
        req->http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
        req->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        req->cancel_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        request_copy_values(req, c);
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
