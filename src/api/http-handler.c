/* Handler threads: a handler may block for as long as a container runs,
 * and must keep running while the connection thread sends what it
 * streams, so each request's handler gets a thread of its own. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"

/* Whatever the handler left undone: a reply, an open stream, a body it
 * did not read (closing it lets the connection thread drop the rest). */
static void handler_finish(struct http_request *req, int r, berth_error_t *err)
{
        if (!req->replied) {
                if (r >= 0) {
                        berth_warn("api: %s %s: handler sent no reply", req->method, req->log_url);
                        http_reply_error(req, 500, "internal error: no reply");
                } else {
                        http_reply_berror(req, err);
                }
        } else if (r < 0 && err) {
                berth_debug("api: %s %s: after the reply: %s", req->method, req->log_url, err->msg);
        }
        if (req->stream)
                http_stream_close(req->stream);
        pthread_mutex_lock(&req->srv->lock);
        http_close_fd(&req->body_rfd);
        pthread_mutex_unlock(&req->srv->lock);
}

static void *handler_main(void *arg)
{
        struct http_request *req = arg;
        _cleanup_error_ berth_error_t *err = NULL;
        int r = req->route->fn(req, req->route->data, &err);

        handler_finish(req, r, err);
        http_request_unref(req);
        return NULL;
}

int http_request_start_handler(struct http_request *req)
{
        pthread_attr_t attr;
        pthread_t t;
        int r;

        pthread_mutex_lock(&req->srv->lock);
        req->refs++;
        req->handler_started = true;
        pthread_mutex_unlock(&req->srv->lock);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&t, &attr, handler_main, req);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                pthread_mutex_lock(&req->srv->lock);
                req->refs--;
                req->handler_started = false;
                pthread_mutex_unlock(&req->srv->lock);
                return -r;
        }
        return 0;
}
