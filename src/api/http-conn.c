/* One thread per connection: read a request head, route it, feed its body
 * to the handler (buffered, or streamed through a socketpair), wait for
 * the handler's reply while watching the client, write the reply out
 * (fixed, chunked from a stream, or the socket handed over after a 101),
 * and go on with the next request while the connection stays open.
 *
 * The handler runs in a thread of its own (http-handler.c), so that this
 * one can watch the client meanwhile: a client that goes away cancels its
 * request, as Go's server does for dockerd. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <malloc.h>
#include <poll.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

/* Enough for large headers (X-Registry-Auth carries base64 JSON). */
#define HEAD_MAX (256u * 1024)
#define BODY_CHUNK (64 * 1024)
#define STREAM_BLOCK (64 * 1024)

static ssize_t conn_fill(void *ctx, void *buf, size_t len)
{
        struct http_conn *c = ctx;
        ssize_t n;

        if (c->tls)
                return http_tls_recv(c->tls, buf, len);
        n = recv(c->fd, buf, len, 0);
        return n < 0 ? -errno : n;
}

static int conn_send(struct http_conn *c, const void *buf, size_t len)
{
        return c->tls ? http_tls_send_all(c->tls, buf, len) : send_all(c->fd, buf, len);
}

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
        _cleanup_free_ char *path = steal_pointer(&req->path);
        bool versioned = http_split_version(path, &req->version, &rest, vstr, sizeof(vstr));

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

/* Before routing, so a refused client learns nothing about the API. */
static bool request_allowed(struct http_request *req)
{
        _cleanup_free_ char *why = req->conn->tls ? http_tls_client_refusal(req->conn->tls) : NULL;

        if (why == NULL)
                return true;
        berth_warn("api: refused a TLS client: %s", why);
        pre_error(req, 403, xstrdup("berthd serves TCP only to clients with a TLS certificate signed by its CA "
                                    "(--tlsverify)"));
        return false;
}

/* The whole body, into the handler or the buffer: 0, or -EPROTO for a
 * broken body, -errno when the client went away (either way the
 * connection cannot go on). */
static int read_body(struct http_request *req, struct http_body_in *b)
{
        _cleanup_free_ char *buf = NULL;

        if (b->done)
                return 0;
        buf = xmalloc(BODY_CHUNK);
        for (;;) {
                ssize_t n = http_read_body(&req->conn->in, b, buf, BODY_CHUNK);
                if (n == 0)
                        return 0;
                if (n < 0) {
                        berth_debug("api: %s %s: body: %s", req->method, req->log_url, strerror((int)-n));
                        return (int)n;
                }
                http_body_take(req, buf, (size_t)n);
        }
}

static void drain(int efd)
{
        eventfd_t v;

        (void)eventfd_read(efd, &v);
}

/* Wait for the handler's reply, watching the client meanwhile: a client
 * that closes its sending side cancels the request (as Go's server does)
 * but still gets the reply; one that is gone entirely gets nothing. */
static struct http_response *wait_for_reply(struct http_request *req, unsigned *status)
{
        struct http_server *s = req->srv;
        struct pollfd p[2] = { { req->wake_efd, POLLIN, 0 }, { req->client_fd, POLLRDHUP, 0 } };

        for (;;) {
                struct http_response *r = NULL;
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

/* "Sun, 29 Nov 2026 11:36:23 GMT", whatever the locale. */
static void http_date(char *buf, size_t size)
{
        static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool no_body_status(unsigned status)
{
        return status < 200 || status == 204 || status == 304;
}

/* Status line and headers, in the order dockerd's clients have seen from
 * us: Date, Connection, the response's own, then the framing. */
static char *response_head(struct http_request *req, unsigned status, const struct http_response *r,
                           bool keep_alive)
{
        char date[64];
        char *head = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&head, &len);

        if (f == NULL)
                abort();
        http_date(date, sizeof(date));
        fprintf(f, "HTTP/1.1 %u %s\r\nDate: %s\r\n", status, http_reason(status), date);
        if (r->upgrade)
                fputs("Connection: Upgrade\r\n", f);
        else if (!keep_alive)
                fputs("Connection: close\r\n", f);
        for (size_t i = 0; i < r->headers.n; i++)
                fprintf(f, "%s: %s\r\n", r->headers.v[i].key, r->headers.v[i].value);
        if (r->stream_fd >= 0 && !r->close_delimited && req->http11)
                fputs("Transfer-Encoding: chunked\r\n", f);
        else if (r->stream_fd < 0 && !no_body_status(status))
                fprintf(f, "Content-Length: %zu\r\n", r->len);
        fputs("\r\n", f);
        if (fclose(f) != 0)
                abort();
        return head;
}

/* One write per chunk: a chunk in three writes would be three TLS
 * records, or three segments on TCP. */
static int send_chunk(struct http_conn *c, const char *data, size_t n, char *frame)
{
        int k = snprintf(frame, 32, "%zx\r\n", n);

        memmove(frame + k, data, n);
        memcpy(frame + k + n, "\r\n", 2);
        return conn_send(c, frame, (size_t)k + n + 2);
}

/* What the handler writes into the stream, to the client as it comes.  A
 * client that is gone ends the response at once, so a handler blocked in
 * a write sees EPIPE; one that only closed its sending side is a cancel,
 * like Go's, and the handler decides.  True when the body ended well. */
static bool relay_stream(struct http_request *req, struct http_response *r, bool chunked)
{
        struct http_conn *c = req->conn;
        struct pollfd p[2] = { { r->stream_fd, POLLIN, 0 }, { c->fd, POLLRDHUP, 0 } };
        /* room for the chunk's size line before the data and CRLF after */
        _cleanup_free_ char *frame = xmalloc(32 + STREAM_BLOCK + 2);
        char *buf = frame + 32;

        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return false;
                }
                /* What the handler wrote, or its end, first. */
                if (p[0].revents) {
                        ssize_t n = recv(r->stream_fd, buf, STREAM_BLOCK, MSG_DONTWAIT);
                        if (n > 0) {
                                if ((chunked ? send_chunk(c, buf, (size_t)n, frame) : conn_send(c, buf, (size_t)n)) < 0)
                                        return false;
                                continue;
                        }
                        if (n == 0)
                                return !chunked || conn_send(c, "0\r\n\r\n", 5) == 0;
                        if (errno != EAGAIN && errno != EINTR)
                                return false;
                }
                if (p[1].revents) {
                        if (r->cancel_fd >= 0)
                                http_wake(r->cancel_fd);
                        if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))
                                return false;
                        p[1].fd = -1;
                }
        }
}

/* After a 101 the socket is the handler's (or, over TLS, one end of a
 * relay) until its hijack fn is done; then the connection closes. */
static void hand_over(struct http_request *req)
{
        struct http_server *s = req->srv;
        struct http_conn *c = req->conn;
        int sv[2] = { -1, -1 };

        if (c->tls && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                shutdown(c->fd, SHUT_RDWR);
        pthread_mutex_lock(&s->lock);
        req->hj_fd = c->tls ? sv[0] : c->fd;
        req->hj_extra = c->in.buf + c->in.start;
        req->hj_extra_len = c->in.end - c->in.start;
        req->hj = HTTP_HJ_READY;
        if (s->stopping && req->hj_fd >= 0)
                shutdown(req->hj_fd, SHUT_RDWR);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        if (c->tls && sv[1] >= 0)
                http_tls_relay(c->tls, req, sv[1]);
        pthread_mutex_lock(&s->lock);
        while (req->hj == HTTP_HJ_READY)
                pthread_cond_wait(&s->cond, &s->lock);
        req->hj_fd = -1;
        pthread_mutex_unlock(&s->lock);
        if (sv[0] >= 0)
                close(sv[0]);
        if (sv[1] >= 0)
                close(sv[1]);
}

/* Write the reply; true when the connection may serve another request. */
static bool send_response(struct http_request *req, unsigned status, struct http_response *r, bool keep_alive)
{
        struct http_conn *c = req->conn;
        bool head_only = strcmp(req->method, "HEAD") == 0;
        bool chunked = r->stream_fd >= 0 && !r->close_delimited && req->http11;
        _cleanup_free_ char *head = NULL;
        bool ok;

        if (r->upgrade || (r->stream_fd >= 0 && !chunked))
                keep_alive = false;
        head = response_head(req, status, r, keep_alive);
        berth_debug("api: %s %s: %u", req->method, req->log_url, status);
        /* a fixed body leaves with its head, in one write */
        if (r->stream_fd < 0 && !r->upgrade && !head_only && !no_body_status(status) && r->len > 0) {
                size_t hlen = strlen(head);
                head = xrealloc(head, hlen + r->len);
                memcpy(head + hlen, r->body, r->len);
                return conn_send(c, head, hlen + r->len) == 0 && keep_alive;
        }
        if (conn_send(c, head, strlen(head)) < 0)
                return false;
        if (r->upgrade) {
                hand_over(req);
                return false;
        }
        ok = r->stream_fd < 0 || head_only || no_body_status(status) || relay_stream(req, r, chunked);
        return ok && keep_alive;
}

static bool wants_keep_alive(const struct http_request *req)
{
        const char *conn = http_header(req, "Connection");

        if (!req->http11)
                return false;
        return conn == NULL || strcasecmp(conn, "close") != 0;
}

/* The connection side is done with the request: a reply that came too
 * late gets its stream's writer EPIPE. */
static void request_done(struct http_request *req, bool completed)
{
        struct http_server *s = req->srv;
        struct http_response *unsent;

        pthread_mutex_lock(&s->lock);
        req->conn_done = true;
        unsent = steal_pointer(&req->response);
        if (!completed)
                http_request_cancel_locked(req);
        if (req->hj == HTTP_HJ_WAITING)
                req->hj = HTTP_HJ_FAILED;
        http_close_fd(&req->body_wfd);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        http_response_free(unsent);
}

/* A head we cannot parse gets Go's plain 400, and the connection ends. */
static void bad_request(struct http_conn *c, int why)
{
        static const char msg[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                  "Connection: close\r\n\r\n400 Bad Request";
        static const char big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; "
                                  "charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large";

        if (why == -EPROTO)
                (void)conn_send(c, msg, sizeof(msg) - 1);
        else if (why == -E2BIG)
                (void)conn_send(c, big, sizeof(big) - 1);
}

/* One request, start to end; true when the connection goes on. */
static bool serve(struct http_request *req, struct http_body_in *body)
{
        struct http_response *r = NULL;
        unsigned status = 500;
        bool keep_alive = wants_keep_alive(req), ok;
        const char *expect = http_header(req, "Expect");
        int ret;

        berth_debug("api: %s %s", req->method, req->log_url);
        if (request_allowed(req))
                request_route(req);
        if (req->pre_status == 0 && (req->route->flags & HTTP_ROUTE_STREAM_BODY))
                request_stream_body(req);
        if (expect && strcasecmp(expect, "100-continue") == 0 && req->pre_status == 0 && !body->done &&
            conn_send(req->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
                return false;
        if ((ret = read_body(req, body)) < 0) {
                if (ret == -EPROTO)
                        bad_request(req->conn, ret);
                return false;
        }
        if (req->pre_status) {
                r = http_error_response(req->srv, req->pre_msg);
                status = req->pre_status;
                /* a refused body may not have been read to its end */
                if (status == 413)
                        keep_alive = false;
        } else {
                if (req->handler_started)
                        http_body_done(req);
                else if (http_request_start_handler(req) < 0)
                        pre_error(req, 500, xstrdup("cannot start a handler thread"));
                if (req->pre_status) {
                        r = http_error_response(req->srv, req->pre_msg);
                        status = 500;
                } else if ((r = wait_for_reply(req, &status)) == NULL) {
                        return false;
                }
        }
        ok = send_response(req, status, r, keep_alive);
        http_response_free(r);
        return ok;
}

/* The server's stop waits until no connection is counted, and may return
 * then: everything of this one is released first, and its fd is taken
 * out of the list's reach (stop shuts the listed fds down) before it is
 * closed, so a reused number is never shut down. */
static void conn_end(struct http_conn *c)
{
        struct http_server *s = c->srv;
        bool idle;
        int fd;

        http_tls_session_free(steal_pointer(&c->tls));
        http_in_free(&c->in);
        pthread_mutex_lock(&s->lock);
        fd = c->fd;
        c->fd = -1;
        pthread_mutex_unlock(&s->lock);
        close(fd);
        pthread_mutex_lock(&s->lock);
        http_conn_unlink_locked(s, c);
        free(c);
        idle = s->nconns == 0 && s->nlive == 0;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        /* nobody connected: what the requests freed goes back to the
         * kernel, so an idle daemon stays small (the client already has
         * its answer; this delays nobody) */
        if (idle)
                malloc_trim(0);
}

void *http_conn_main(void *arg)
{
        struct http_conn *c = arg;
        bool more = true;

        http_in_init(&c->in, conn_fill, c);
        if (c->tls_ctx && (c->tls = http_tls_accept(c->tls_ctx, c->fd)) == NULL)
                more = false;
        while (more) {
                struct http_head head;
                struct http_body_in body;
                struct http_request *req;
                bool bad = false;
                int r = http_read_head(&c->in, &head, HEAD_MAX);
                if (r <= 0) {
                        bad_request(c, r);
                        break;
                }
                if (http_body_framing(&head, &body) < 0) {
                        http_head_clear(&head);
                        bad_request(c, -EPROTO);
                        break;
                }
                req = http_request_new(c, &head, &bad);
                http_head_clear(&head);
                if (req == NULL) {
                        if (bad)
                                bad_request(c, -EPROTO);
                        break;
                }
                more = serve(req, &body);
                request_done(req, more);
                http_request_unref(req);
        }
        conn_end(c);
        return NULL;
}
