/* libmicrohttpd's side of a request, in its connection thread: route it
 * when the headers arrive, feed the body, wait for the handler's reply
 * and queue it. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

static void pre_error(struct http_request *req, unsigned status, char *msg)
{
        req->pre_status = status;
        req->pre_msg = msg;
        req->body_mode = HTTP_BODY_DISCARD;
}

/* As dockerd: an unknown route is 404 whatever its version; a known one
 * with a version outside [min, max] is 400. */
static void request_route(struct http_request *req)
{
        struct http_server *s = req->srv;
        char vstr[32];
        const char *rest;
        bool versioned = http_split_version(req->url, &req->version, &rest, vstr, sizeof(vstr));

        req->path = xstrdup(rest);
        if (!versioned)
                req->version = s->vmax;
        req->route = http_route_find(s, req->method, req->path, &req->params);
        if (req->route == NULL)
                pre_error(req, 404, xstrdup("page not found"));
        else if (versioned && http_version_compare(&req->version, &s->vmin) < 0)
                pre_error(req, 400, xasprintf("client version %s is too old. Minimum supported API version is %s, "
                                              "please upgrade your client to a newer version", vstr, s->vmin_str));
        else if (versioned && http_version_compare(&req->version, &s->vmax) > 0)
                pre_error(req, 400, xasprintf("client version %s is too new. Maximum supported API version is %s",
                                              vstr, s->vmax_str));
}

/* Streamed bodies go to a handler that runs from the start. */
static void request_stream_body(struct http_request *req)
{
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                pre_error(req, 500, xasprintf("socketpair: %s", strerror(errno)));
                return;
        }
        req->body_rfd = sv[0];
        req->body_wfd = sv[1];
        req->body_mode = HTTP_BODY_STREAM;
        if (http_request_start_handler(req) < 0) {
                http_close_fd(&req->body_rfd);
                http_close_fd(&req->body_wfd);
                pre_error(req, 500, xstrdup("cannot start a handler thread"));
        }
}

static enum MHD_Result request_begin(struct http_server *s, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version, void **con_cls)
{
        struct http_request *req = http_request_new(s, c, url, method, version);

        if (req == NULL)
                return MHD_NO;
        *con_cls = req;
        berth_debug("api: %s %s", req->method, req->log_url);
        request_route(req);
        if (req->pre_status == 0 && (req->route->flags & HTTP_ROUTE_STREAM_BODY))
                request_stream_body(req);
        return MHD_YES;
}

static void drain(int efd)
{
        eventfd_t v;

        (void)eventfd_read(efd, &v);
}

/* Wait for the handler's reply, watching the client meanwhile: a client
 * that closes its sending side cancels the request (as Go's server does)
 * but still gets the reply; one that is gone entirely gets nothing. */
static struct MHD_Response *wait_for_reply(struct http_request *req, unsigned *status)
{
        struct http_server *s = req->srv;
        struct pollfd p[2] = { { req->wake_efd, POLLIN, 0 }, { req->client_fd, POLLRDHUP, 0 } };

        for (;;) {
                struct MHD_Response *r = NULL;
                bool stop;
                pthread_mutex_lock(&s->lock);
                if (req->response) {
                        r = steal_pointer(&req->response);
                        *status = req->status;
                }
                stop = s->stopping;
                pthread_mutex_unlock(&s->lock);
                if (r || stop)
                        return r;
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return NULL;
                if (p[0].revents)
                        drain(req->wake_efd);
                if (p[1].revents) {
                        pthread_mutex_lock(&s->lock);
                        http_request_cancel_locked(req);
                        pthread_mutex_unlock(&s->lock);
                        if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))
                                return NULL;
                        p[1].fd = -1;
                }
        }
}

static enum MHD_Result queue(struct http_request *req, unsigned status, struct MHD_Response *r)
{
        enum MHD_Result ret;

        if (r == NULL)
                return MHD_NO;
        ret = MHD_queue_response(req->conn, status, r);
        MHD_destroy_response(r);
        berth_debug("api: %s %s: %u%s", req->method, req->log_url, status, ret == MHD_YES ? "" : " (not sent)");
        return ret;
}

static enum MHD_Result request_respond(struct http_request *req)
{
        struct MHD_Response *r;
        unsigned status = 500;

        if (req->pre_status)
                return queue(req, req->pre_status, http_error_response(req->srv, req->pre_msg));
        if (req->handler_started)
                http_body_done(req);
        else if (http_request_start_handler(req) < 0)
                return queue(req, 500, http_error_response(req->srv, "cannot start a handler thread"));
        r = wait_for_reply(req, &status);
        if (r == NULL)
                return MHD_NO;
        return queue(req, status, r);
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
        struct http_request *req = *con_cls;

        if (req == NULL)
                return request_begin(cls, c, url, method, version, con_cls);
        if (*upload_size > 0) {
                http_body_take(req, upload, *upload_size);
                *upload_size = 0;
                return MHD_YES;
        }
        return request_respond(req);
}

void http_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
        struct http_request *req = *con_cls;
        struct http_server *s = cls;
        struct MHD_Response *unsent;

        (void)c;
        if (req == NULL)
                return;
        *con_cls = NULL;
        pthread_mutex_lock(&s->lock);
        req->conn_done = true;
        unsent = steal_pointer(&req->response);
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
                http_request_cancel_locked(req);
        if (req->hj == HTTP_HJ_WAITING)
                req->hj = HTTP_HJ_FAILED;
        http_close_fd(&req->body_wfd);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        /* A reply that came too late: its stream's writer gets EPIPE. */
        if (unsent)
                MHD_destroy_response(unsent);
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
                berth_debug("api: %s %s: connection ended (%d)", req->method, req->log_url, (int)toe);
        http_request_unref(req);
}
