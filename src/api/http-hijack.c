/* Hijacked connections for attach and exec: "101" and then the raw
 * socket, or for a client that asked for no upgrade a 200 whose body is
 * raw output until the connection closes (dockerd's old behaviour).
 *
 * The connection thread writes the 101 and hands the socket over
 * (http-conn.c hand_over); it parks there while the handler's thread runs
 * the hijack fn, then closes the connection: the handler keeps its stack
 * and its locals, and stopping the server has one place to cut it. */
#include "api/http-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <sys/socket.h>

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

/* The hijack fn gets a plain blocking socket, whatever the relay or the
 * client did with its flags. */
static void set_blocking(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        if (fl >= 0 && (fl & O_NONBLOCK))
                (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static int hijack_upgrade(struct http_request *req, const char *content_type, http_hijack_fn fn, void *data)
{
        struct http_response *r = http_response_new();
        struct http_hijack h = { .upgraded = true, .req = req };
        int ret;

        /* the connection thread adds "Connection: Upgrade" */
        r->upgrade = true;
        http_response_add(r, "Content-Type", content_type);
        http_response_add(r, "Upgrade", "tcp");
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
        struct http_response *r;
        int ret;

        r = http_stream_response(req, &h.fd, true);
        if (r == NULL)
                return -errno;
        http_response_add(r, "Content-Type", content_type);
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
        return send_all(h->fd, buf, len);
}

int http_hijack_close_write(struct http_hijack *h)
{
        return shutdown(h->fd, SHUT_WR) < 0 ? -errno : 0;
}
