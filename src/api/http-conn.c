/* libmicrohttpd's side of a request, in its connection thread: route it
 * when the headers arrive, feed the body, wait for the handler's reply
 * and queue it. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
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

/* libmicrohttpd asks a TLS client for its certificate but leaves the check
 * to us.  As dockerd's --tlsverify: a certificate that chains to the CA
 * and is fit for client authentication, or nothing is served.  Returns
 * why the client is refused, NULL when it is not (unix sockets have no
 * TLS session). */
static char *tls_client_refusal(struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
                                          .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
        gnutls_datum_t text = { NULL, 0 };
        unsigned status = 0;
        char *why;
        int r;

        if (ci == NULL || ci->tls_session == NULL)
                return NULL;
        r = gnutls_certificate_verify_peers(ci->tls_session, &purpose, 1, &status);
        if (r == GNUTLS_E_NO_CERTIFICATE_FOUND)
                return xstrdup("no client certificate");
        if (r < 0)
                return xstrdup(gnutls_strerror(r));
        if (status == 0)
                return NULL;
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
        why = xstrdup(text.data ? (const char *)text.data : "the client certificate is not trusted");
        gnutls_free(text.data);
        for (size_t n = strlen(why); n > 0 && why[n - 1] == ' '; n--)
                why[n - 1] = '\0';
        return why;
}

/* Before routing, so a refused client learns nothing about the API. */
static bool request_allowed(struct http_request *req, struct MHD_Connection *c)
{
        _cleanup_free_ char *why = tls_client_refusal(c);

        if (why == NULL)
                return true;
        berth_warn("api: refused a TLS client: %s", why);
        req->path = xstrdup(req->url);
        pre_error(req, 403, xstrdup("berthd serves TCP only to clients with a TLS certificate signed by its CA "
                                    "(--tlsverify)"));
        return false;
}

static enum MHD_Result request_begin(struct http_server *s, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version, void **con_cls)
{
        struct http_request *req = http_request_new(s, c, url, method, version);

        if (req == NULL)
                return MHD_NO;
        *con_cls = req;
        berth_debug("api: %s %s", req->method, req->log_url);
        if (!request_allowed(req, c))
                return MHD_YES;
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

/* ---- upgraded connections over TLS (http-internal.h says why) ---------- */

#define RELAY_CHUNK (16 * 1024)

struct http_tls_relay {
        gnutls_session_t session;
        int net;                /* the client's socket (libmicrohttpd's, non-blocking) */
        int app, ours;          /* the socketpair: the hijack fn's end, the relay's */
        bool client_eof, app_eof;
};

struct http_tls_relay *http_tls_relay_new(struct MHD_Connection *c, int *app_fd)
{
        const union MHD_ConnectionInfo *tls = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct http_tls_relay *t;
        int sv[2];

        *app_fd = -1;
        if (tls == NULL || tls->tls_session == NULL || fd == NULL)
                return NULL;
        t = xcalloc(1, sizeof(*t));
        t->session = tls->tls_session;
        t->net = fd->connect_fd;
        t->app = t->ours = -1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
                *app_fd = t->app = sv[0];
                t->ours = sv[1];
        }
        return t;
}

void http_tls_relay_free(struct http_tls_relay *t)
{
        if (t == NULL)
                return;
        http_close_fd(&t->app);
        http_close_fd(&t->ours);
        free(t);
}

/* All of buf to the client; the socket is non-blocking.  A client that
 * reads nothing holds this up until the app's end is shut down (server
 * stop: http_request_abort_locked), which hangs ours up. */
static bool tls_send_all(struct http_tls_relay *t, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = gnutls_record_send(t->session, buf, len);
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                        struct pollfd p[2] = { { t->net, POLLOUT, 0 }, { t->ours, 0, 0 } };
                        if (poll(p, 2, -1) > 0 && (p[1].revents & POLLHUP))
                                return false;
                        continue;
                }
                if (n < 0)
                        return false;
                buf += n;
                len -= (size_t)n;
        }
        return true;
}

/* Client to app: a client's close_notify (or its going away) becomes EOF
 * on the app's end. */
static void relay_from_client(struct http_tls_relay *t)
{
        char buf[RELAY_CHUNK];
        ssize_t n = gnutls_record_recv(t->session, buf, sizeof(buf));

        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                return;
        if (n > 0 && write_all(t->ours, buf, (size_t)n) == 0)
                return;
        t->client_eof = true;
        shutdown(t->ours, SHUT_WR);
}

/* App to client: the app's EOF (shutdown of its write side) becomes a
 * close_notify, which Go's client reads as EOF.  True when bytes moved. */
static bool relay_from_app(struct http_tls_relay *t)
{
        char buf[RELAY_CHUNK];
        ssize_t n = recv(t->ours, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return false;
        if (n > 0 && tls_send_all(t, buf, (size_t)n))
                return true;
        t->app_eof = true;
        gnutls_bye(t->session, GNUTLS_SHUT_WR);
        return false;
}

static bool handler_done(struct http_request *req)
{
        bool done;

        pthread_mutex_lock(&req->srv->lock);
        done = req->hj != HTTP_HJ_READY;
        pthread_mutex_unlock(&req->srv->lock);
        return done;
}

void http_tls_relay_run(struct http_tls_relay *t, struct http_request *req)
{
        for (;;) {
                struct pollfd p[3] = { { t->client_eof ? -1 : t->net, POLLIN, 0 },
                                       { t->app_eof ? -1 : t->ours, POLLIN, 0 },
                                       { req->wake_efd, POLLIN, 0 } };
                if ((t->client_eof && t->app_eof) || t->ours < 0)
                        return;
                /* decrypted bytes gnutls holds make no poll event */
                if (!t->client_eof && gnutls_record_check_pending(t->session) > 0) {
                        relay_from_client(t);
                        continue;
                }
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        return;
                if (p[0].revents)
                        relay_from_client(t);
                if (p[1].revents)
                        relay_from_app(t);
                if (p[2].revents) {
                        drain(req->wake_efd);
                        if (handler_done(req)) {
                                /* what the handler wrote last still goes out */
                                while (!t->app_eof && relay_from_app(t))
                                        ;
                                if (!t->app_eof)
                                        gnutls_bye(t->session, GNUTLS_SHUT_WR);
                                return;
                        }
                }
        }
}
