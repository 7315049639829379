/* Replies: built in the handler's thread, handed to the connection thread
 * that writes them out, with the headers dockerd puts on every response. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <stdarg.h>

struct http_response *http_response_new(void)
{
        struct http_response *r = xcalloc(1, sizeof(*r));

        r->stream_fd = r->cancel_fd = -1;
        return r;
}

void http_response_free(struct http_response *r)
{
        if (r == NULL)
                return;
        http_kvs_clear(&r->headers);
        free(r->body);
        http_close_fd(&r->stream_fd);
        http_close_fd(&r->cancel_fd);
        free(r);
}

/* Header values come from handlers, some from client input (container
 * paths in X-Docker-Container-Path-Stat): a CR or LF would split the
 * response, so they are dropped. */
void http_response_add(struct http_response *r, const char *name, const char *value)
{
        _cleanup_free_ char *clean = xstrdup(value);
        size_t o = 0;

        for (const char *p = value; *p; p++)
                if (*p != '\r' && *p != '\n')
                        clean[o++] = *p;
        clean[o] = '\0';
        http_kvs_add(&r->headers, name, strlen(name), clean, o);
}

static void common_headers(struct http_server *s, struct http_response *r)
{
        http_response_add(r, "Api-Version", s->vmax_str);
        http_response_add(r, "Docker-Experimental", "false");
        http_response_add(r, "Ostype", "linux");
        http_response_add(r, "Server", s->server_header);
}

void http_response_headers(struct http_request *req, struct http_response *r, unsigned status)
{
        if (status != 101)
                common_headers(req->srv, r);
        for (size_t i = 0; i < req->reply_headers.n; i++)
                http_response_add(r, req->reply_headers.v[i].key, req->reply_headers.v[i].value);
}

const char *http_reason(unsigned status)
{
        switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Request Entity Too Large";
        case 415: return "Unsupported Media Type";
        case 416: return "Requested Range Not Satisfiable";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        default: return "Unknown";
        }
}

void http_reply_header(struct http_request *req, const char *name, const char *value)
{
        http_kvs_add(&req->reply_headers, name, strlen(name), value, strlen(value));
}

int http_reply_response(struct http_request *req, unsigned status, struct http_response *r)
{
        struct http_server *s = req->srv;

        pthread_mutex_lock(&s->lock);
        if (req->replied) {
                pthread_mutex_unlock(&s->lock);
                http_response_free(r);
                berth_warn("api: %s %s: second reply %u ignored", req->method, req->log_url, status);
                return -EALREADY;
        }
        req->replied = true;
        /* Nobody will send it: drop it now, so that a stream's writes
         * fail instead of filling a socket nobody reads. */
        if (req->conn_done || s->stopping) {
                pthread_mutex_unlock(&s->lock);
                http_response_free(r);
                return -ECONNRESET;
        }
        req->response = r;
        req->status = status;
        pthread_mutex_unlock(&s->lock);
        http_wake(req->wake_efd);
        return 0;
}

/* body is malloc'ed and becomes the response's. */
static struct http_response *body_response(char *body, size_t len, const char *content_type)
{
        struct http_response *r = http_response_new();

        r->body = body;
        r->len = len;
        if (content_type)
                http_response_add(r, "Content-Type", content_type);
        return r;
}

/* JSON text + "\n", as Go's json.Encoder ends what dockerd sends. */
static char *json_text(json_t *j, size_t *len)
{
        _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char *text;

        if (s == NULL)
                return NULL;
        text = xasprintf("%s\n", s);
        *len = strlen(text);
        return text;
}

/* Messages may quote client input that is not UTF-8, which jansson
 * refuses; such bytes become '?'. */
static json_t *message_json(const char *msg)
{
        json_t *j = json_pack("{s:s}", "message", msg);
        _cleanup_free_ char *clean = NULL;

        if (j)
                return j;
        clean = xstrdup(msg);
        for (char *p = clean; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        return json_pack("{s:s}", "message", clean);
}

/* {"message":"..."}\n */
static char *error_text(const char *msg, size_t *len)
{
        json_t *j = message_json(msg);
        char *text = json_text(j, len);

        json_decref(j);
        if (text == NULL) {
                text = xstrdup("{\"message\":\"internal error\"}\n");
                *len = strlen(text);
        }
        return text;
}

struct http_response *http_error_response(struct http_server *s, const char *msg)
{
        size_t len = 0;
        char *text = error_text(msg, &len);
        struct http_response *r = body_response(text, len, "application/json");

        common_headers(s, r);
        return r;
}

static int reply_body(struct http_request *req, unsigned status, const char *content_type,
                      char *body, size_t len)
{
        struct http_response *r = body_response(body, len, content_type);

        http_response_headers(req, r, status);
        return http_reply_response(req, status, r);
}

int http_reply_json(struct http_request *req, unsigned status, json_t *j)
{
        size_t len = 0;
        char *text = json_text(j, &len);

        json_decref(j);
        if (text == NULL)
                return http_reply_error(req, 500, "internal error: cannot encode the response");
        return reply_body(req, status, "application/json", text, len);
}

int http_reply_error(struct http_request *req, unsigned status, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        size_t len = 0;
        char *text;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        text = error_text(msg, &len);
        return reply_body(req, status, "application/json", text, len);
}

int http_reply_berror(struct http_request *req, const berth_error_t *err)
{
        if (err == NULL)
                return http_reply_error(req, 500, "internal error");
        return http_reply_error(req, http_status_for_errno(err->status), "%s", err->msg);
}

int http_reply_empty(struct http_request *req, unsigned status)
{
        return reply_body(req, status, NULL, NULL, 0);
}

int http_reply_raw(struct http_request *req, unsigned status, const char *content_type,
                   const void *buf, size_t len)
{
        char *copy = xmalloc(len);

        if (len > 0)
                memcpy(copy, buf, len);
        return reply_body(req, status, content_type, copy, len);
}

int http_errorf(berth_error_t **err, int e, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        /* Made with status 0 so berth_error adds no strerror text, then
         * given the errno that picks the HTTP status. */
        berth_error(err, 0, "%s", msg);
        free(msg);
        if (err && *err)
                (*err)->status = e;
        return e > 0 ? -e : -1;
}

unsigned http_status_for_errno(int e)
{
        switch (e) {
        case ENOENT:
        case ESRCH:
                return 404;
        case EEXIST:
        case EBUSY:
                return 409;
        case EINVAL:
        case ERANGE:
                return 400;
        case EPERM:
        case EACCES:
                return 403;
        case ENOSYS:
        case EOPNOTSUPP:
                return 501;
        default:
                return 500;
        }
}
