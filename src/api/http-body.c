/* Request bodies: buffered whole for most routes, streamed through a
 * socketpair to the running handler for HTTP_ROUTE_STREAM_BODY ones. */
#include "api/http-internal.h"
#include "util/util.h"
#include <sys/socket.h>

/* Connection thread: one piece of a buffered body.  Beyond the limit the
 * rest is read and dropped, and the answer is 413 without a handler. */
static void body_append(struct http_request *req, const char *data, size_t n)
{
        if (n > req->srv->max_body - req->body_len) {
                free(steal_pointer(&req->body));
                req->body_len = req->body_cap = 0;
                req->body_mode = HTTP_BODY_DISCARD;
                req->pre_status = 413;
                req->pre_msg = xasprintf("request body larger than %zu bytes", req->srv->max_body);
                return;
        }
        if (req->body_len + n + 1 > req->body_cap) {
                req->body_cap = (req->body_len + n + 1) * 2;
                req->body = xrealloc(req->body, req->body_cap);
        }
        memcpy(req->body + req->body_len, data, n);
        req->body_len += n;
        req->body[req->body_len] = '\0';
}

/* Connection thread: one piece of a streamed body.  Blocking is the back
 * pressure; a handler done with the body makes the send fail, and the
 * rest is dropped. */
static void body_forward(struct http_request *req, const char *data, size_t n)
{
        if (send_all(req->body_wfd, data, n) == 0)
                return;
        pthread_mutex_lock(&req->srv->lock);
        http_close_fd(&req->body_wfd);
        pthread_mutex_unlock(&req->srv->lock);
        req->body_mode = HTTP_BODY_DISCARD;
}

void http_body_take(struct http_request *req, const char *data, size_t n)
{
        if (req->body_mode == HTTP_BODY_BUFFER)
                body_append(req, data, n);
        else if (req->body_mode == HTTP_BODY_STREAM)
                body_forward(req, data, n);
}

/* Connection thread: the whole body arrived; a streaming handler reads
 * EOF and knows it got everything. */
void http_body_done(struct http_request *req)
{
        pthread_mutex_lock(&req->srv->lock);
        req->upload_complete = true;
        http_close_fd(&req->body_wfd);
        pthread_mutex_unlock(&req->srv->lock);
}

const char *http_body(const struct http_request *req, size_t *len)
{
        if (len)
                *len = req->body ? req->body_len : 0;
        return req->body ? req->body : "";
}

int http_body_json(const struct http_request *req, json_t **out, berth_error_t **err)
{
        json_error_t je;

        *out = NULL;
        if (req->body_len == 0)
                return 0;
        *out = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &je);
        if (*out == NULL)
                return http_errorf(err, EINVAL, "invalid JSON: %s", je.text);
        return 0;
}

bool http_body_complete(const struct http_request *req)
{
        bool complete;

        if (!(req->route->flags & HTTP_ROUTE_STREAM_BODY))
                return true;
        pthread_mutex_lock(&req->srv->lock);
        complete = req->upload_complete;
        pthread_mutex_unlock(&req->srv->lock);
        return complete;
}

int http_body_fd(const struct http_request *req)
{
        return req->route->flags & HTTP_ROUTE_STREAM_BODY ? req->body_rfd : -1;
}

static ssize_t body_read_stream(struct http_request *req, void *buf, size_t len)
{
        for (;;) {
                ssize_t n = read(req->body_rfd, buf, len);
                if (n > 0)
                        return n;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                return http_body_complete(req) ? 0 : -ECONNRESET;
        }
}

ssize_t http_body_read(struct http_request *req, void *buf, size_t len)
{
        size_t n;

        if (req->route->flags & HTTP_ROUTE_STREAM_BODY)
                return req->body_rfd >= 0 ? body_read_stream(req, buf, len) : -EBADF;
        n = req->body_len - req->body_off;
        if (n > len)
                n = len;
        if (n > 0)
                memcpy(buf, req->body + req->body_off, n);
        req->body_off += n;
        return (ssize_t)n;
}
