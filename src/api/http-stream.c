/* Streamed responses.  The handler writes into one end of a socketpair;
 * the connection thread reads the other end and sends each read as a
 * chunk (http-conn.c relay_stream).  The headers leave first, so the
 * client has them while the handler still waits for its first byte. */
#include "api/http-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <sys/socket.h>

struct http_stream {
        int fd;
        struct http_request *req;
};

struct http_response *http_stream_response(struct http_request *req, int *fd, bool close_delimited)
{
        struct http_response *r;
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return NULL;
        /* The handler's end only writes: reading it gives EOF at once. */
        shutdown(sv[0], SHUT_RD);
        r = http_response_new();
        r->stream_fd = sv[1];
        /* the relay outlives the request's own fds */
        r->cancel_fd = fcntl(req->cancel_efd, F_DUPFD_CLOEXEC, 3);
        /* No chunking: the body ends when the connection closes. */
        r->close_delimited = close_delimited;
        *fd = sv[0];
        return r;
}

int http_reply_stream(struct http_request *req, unsigned status, const char *content_type,
                      struct http_stream **out)
{
        struct http_stream *s;
        struct http_response *r;
        int fd = -1, ret;

        *out = NULL;
        r = http_stream_response(req, &fd, false);
        if (r == NULL)
                return -errno;
        if (content_type)
                http_response_add(r, "Content-Type", content_type);
        http_response_headers(req, r, status);
        ret = http_reply_response(req, status, r);
        if (ret < 0) {
                close(fd);
                return ret;
        }
        s = xcalloc(1, sizeof(*s));
        s->fd = fd;
        s->req = req;
        req->stream = s;
        *out = s;
        return 0;
}

int http_stream_write(struct http_stream *s, const void *buf, size_t len)
{
        if (s == NULL || s->fd < 0)
                return -EBADF;
        return send_all(s->fd, buf, len);
}

static int stream_json(struct http_stream *s, json_t *j, const char *eol)
{
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        _cleanup_free_ char *line = NULL;

        json_decref(j);
        if (text == NULL)
                return -EINVAL;
        line = xasprintf("%s%s", text, eol);
        return http_stream_write(s, line, strlen(line));
}

int http_stream_json(struct http_stream *s, json_t *j)
{
        return stream_json(s, j, "\r\n");
}

int http_stream_json_lf(struct http_stream *s, json_t *j)
{
        return stream_json(s, j, "\n");
}

void http_stream_close(struct http_stream *s)
{
        if (s == NULL)
                return;
        if (s->req && s->req->stream == s)
                s->req->stream = NULL;
        http_close_fd(&s->fd);
        free(s);
}
