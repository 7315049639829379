/* Streamed responses.  The handler writes into one end of a socketpair;
 * libmicrohttpd's content reader, in the connection thread, blocks on the
 * other end (allowed with a thread per connection) and sends each read as
 * a chunk.  The headers leave before the reader is first called, so the
 * client has them while the handler still waits for its first byte. */
#include "api/http-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#define STREAM_BLOCK (64 * 1024)

struct stream_reader {
        int fd;         /* our end of the socketpair */
        int client_fd;  /* watched for the client going away */
        int cancel_fd;  /* the request's, dup'ed: the reader outlives it */
};

struct http_stream {
        int fd;
        struct http_request *req;
};

static void reader_cancel(struct stream_reader *rd)
{
        if (rd->cancel_fd >= 0)
                http_wake(rd->cancel_fd);
}

/* A client that is gone ends the response at once, so a handler blocked
 * in a write sees EPIPE; one that only closed its sending side is a
 * cancel, like Go's, and the handler decides. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct stream_reader *rd = cls;
        struct pollfd p[2] = { { rd->fd, POLLIN, 0 }, { rd->client_fd, POLLRDHUP, 0 } };

        (void)pos;
        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                /* What the handler wrote, or its end, first. */
                if (p[0].revents) {
                        ssize_t n = recv(rd->fd, buf, max, MSG_DONTWAIT);
                        if (n > 0)
                                return n;
                        if (n == 0)
                                return MHD_CONTENT_READER_END_OF_STREAM;
                        if (errno != EAGAIN && errno != EINTR)
                                return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                if (p[1].revents) {
                        reader_cancel(rd);
                        if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))
                                return MHD_CONTENT_READER_END_WITH_ERROR;
                        p[1].fd = -1;
                }
        }
}

static void stream_reader_free(void *cls)
{
        struct stream_reader *rd = cls;

        http_close_fd(&rd->fd);
        http_close_fd(&rd->cancel_fd);
        free(rd);
}

struct MHD_Response *http_stream_response(struct http_request *req, int *fd, bool close_delimited)
{
        struct stream_reader *rd;
        struct MHD_Response *r;
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return NULL;
        /* The handler's end only writes: reading it gives EOF at once. */
        shutdown(sv[0], SHUT_RD);
        rd = xcalloc(1, sizeof(*rd));
        rd->fd = sv[1];
        rd->client_fd = req->client_fd;
        rd->cancel_fd = fcntl(req->cancel_efd, F_DUPFD_CLOEXEC, 3);
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, rd,
                                              stream_reader_free);
        if (r == NULL) {
                stream_reader_free(rd);
                close(sv[0]);
                errno = ENOMEM;
                return NULL;
        }
        /* No chunking: the body ends when the connection closes. */
        if (close_delimited)
                MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
        *fd = sv[0];
        return r;
}

int http_reply_stream(struct http_request *req, unsigned status, const char *content_type,
                      struct http_stream **out)
{
        struct http_stream *s;
        struct MHD_Response *r;
        int fd = -1, ret;

        *out = NULL;
        r = http_stream_response(req, &fd, false);
        if (r == NULL)
                return -errno;
        if (content_type)
                MHD_add_response_header(r, "Content-Type", content_type);
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
        const char *p = buf;

        if (s == NULL || s->fd < 0)
                return -EBADF;
        while (len > 0) {
                ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
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
