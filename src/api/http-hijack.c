/* Hijacked connections for attach and exec: "101" and then the raw
 * socket, or for a client that asked for no upgrade a 200 whose body is
 * raw output until the connection closes (dockerd's old behaviour).
 *
 * libmicrohttpd hands the socket over in the connection thread, after the
 * 101 left.  That thread parks there while the handler's thread runs the
 * hijack fn, then closes the connection: the handler keeps its stack and
 * its locals, and stopping the server has one place to cut it. */
#include "api/http-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <sys/socket.h>

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
                       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
        struct http_request *req = cls;
        struct http_server *s = req->srv;
        int app_fd;
        /* over TLS this thread relays rather than parks (http-internal.h) */
        struct http_tls_relay *tls = http_tls_relay_new(c, &app_fd);

        (void)con_cls;
        if (tls && app_fd < 0)
                shutdown(sock, SHUT_RDWR);
        pthread_mutex_lock(&s->lock);
        req->hj_fd = app_fd >= 0 ? app_fd : sock;
        req->hj_extra = extra;
        req->hj_extra_len = extra_len;
        req->hj = HTTP_HJ_READY;
        if (s->stopping)
                shutdown(req->hj_fd, SHUT_RDWR);
        pthread_cond_broadcast(&s->cond);
        if (tls) {
                pthread_mutex_unlock(&s->lock);
                http_tls_relay_run(tls, req);
                pthread_mutex_lock(&s->lock);
        }
        while (req->hj == HTTP_HJ_READY)
                pthread_cond_wait(&s->cond, &s->lock);
        req->hj_fd = -1;
        pthread_mutex_unlock(&s->lock);
        http_tls_relay_free(tls);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* dockerd upgrades whenever the request has an Upgrade header. */
static bool wants_upgrade(const struct http_request *req)
{
        return req->http11 && http_header(req, "Upgrade") != NULL;
}

static bool wait_upgraded(struct http_request *req)
{
        struct http_server *s = req->srv;
        bool ok;

        pthread_mutex_lock(&s->lock);
        while (req->hj == HTTP_HJ_WAITING && !req->conn_done)
                pthread_cond_wait(&s->cond, &s->lock);
        ok = req->hj == HTTP_HJ_READY;
        if (!ok)
                req->hj = HTTP_HJ_FAILED;
        pthread_mutex_unlock(&s->lock);
        return ok;
}

static void set_hj_state(struct http_request *req, enum http_hijack_state st)
{
        pthread_mutex_lock(&req->srv->lock);
        req->hj = st;
        pthread_cond_broadcast(&req->srv->cond);
        /* a TLS relay polls for this */
        http_wake(req->wake_efd);
        pthread_mutex_unlock(&req->srv->lock);
}

/* libmicrohttpd's sockets are non-blocking; the hijack fn gets a plain
 * blocking one. */
static void set_blocking(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        if (fl >= 0 && (fl & O_NONBLOCK))
                (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static int hijack_upgrade(struct http_request *req, const char *content_type, http_hijack_fn fn, void *data)
{
        struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, req);
        struct http_hijack h = { .upgraded = true, .req = req };
        int ret;

        if (r == NULL)
                return -ENOMEM;
        /* libmicrohttpd adds "Connection: Upgrade" itself. */
        MHD_add_response_header(r, "Content-Type", content_type);
        MHD_add_response_header(r, "Upgrade", "tcp");
        set_hj_state(req, HTTP_HJ_WAITING);
        ret = http_reply_response(req, 101, r);
        if (ret < 0 || !wait_upgraded(req))
                return ret < 0 ? ret : -ECONNRESET;
        h.fd = req->hj_fd;
        h.extra = req->hj_extra;
        h.extra_len = req->hj_extra_len;
        set_blocking(h.fd);
        ret = fn(&h, data);
        set_hj_state(req, HTTP_HJ_DONE);
        return ret;
}

static int hijack_plain(struct http_request *req, const char *content_type, http_hijack_fn fn, void *data)
{
        struct http_hijack h = { .upgraded = false, .req = req };
        struct MHD_Response *r;
        int ret;

        r = http_stream_response(req, &h.fd, true);
        if (r == NULL)
                return -errno;
        MHD_add_response_header(r, "Content-Type", content_type);
        http_response_headers(req, r, 200);
        ret = http_reply_response(req, 200, r);
        if (ret == 0)
                ret = fn(&h, data);
        close(h.fd);
        return ret;
}

int http_reply_hijack(struct http_request *req, const char *content_type, http_hijack_fn fn, void *data)
{
        if (wants_upgrade(req))
                return hijack_upgrade(req, content_type, fn, data);
        return hijack_plain(req, content_type, fn, data);
}

ssize_t http_hijack_read(struct http_hijack *h, void *buf, size_t len)
{
        if (h->extra_len > 0) {
                size_t n = h->extra_len < len ? h->extra_len : len;
                memcpy(buf, h->extra, n);
                h->extra += n;
                h->extra_len -= n;
                return (ssize_t)n;
        }
        for (;;) {
                ssize_t n = read(h->fd, buf, len);
                if (n >= 0)
                        return n;
                if (errno != EINTR)
                        return -errno;
        }
}

int http_hijack_write(struct http_hijack *h, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = send(h->fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int http_hijack_close_write(struct http_hijack *h)
{
        return shutdown(h->fd, SHUT_WR) < 0 ? -errno : 0;
}
