/* The CLI's HTTP transport: HTTP/1.1 over the daemon's unix socket (the
 * wire format is cli-http.c's), one keep-alive connection for the calls
 * made one after the other, the /_ping version negotiation docker does on
 * every invocation, and the translation of error responses into docker's
 * wording.
 *
 * Every exchange runs one poll loop: the request goes out (a JSON body,
 * or a file streamed with Content-Length or chunked) while the response is
 * read as it comes, so a daemon that answers early (an error before the
 * upload is all in) is heard instead of deadlocking on a full socket.
 * Writes use MSG_NOSIGNAL: a daemon that goes away is an error, never a
 * SIGPIPE.  A kept connection the daemon closed in between is noticed
 * before it is used, and a request it dropped without a byte of answer is
 * sent once more on a new connection when it can be replayed. */
#include "cli/cli.h"
#include "cli/cli-http.h"
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

#define CLI_HTTP_HOST "api.moby.localhost"
#define CLI_USER_AGENT "Berth-Client/" BERTH_VERSION " (linux)"
/* The read buffer, and the blocks an upload is sent in. */
#define CLI_IO_BLOCK 65536
/* Extra fds cli_async_poll watches besides the connection. */
#define CLI_POLL_EXTRA_MAX 15

int cli_init(struct cli *c, const char *host, berth_error_t **err)
{
        memset(c, 0, sizeof(*c));
        c->fd = -1;
        if (host == NULL || *host == '\0')
                host = getenv("BERTH_HOST");
        if (host == NULL || *host == '\0')
                host = getenv("DOCKER_HOST");
        if (host == NULL || *host == '\0')
                host = CLI_DEFAULT_HOST;
        c->host = xstrdup(host);
        if (str_has_prefix(host, "unix://")) {
                c->socket_path = xstrdup(host + strlen("unix://"));
                if (c->socket_path[0] == '\0')
                        return berth_error(err, 0, "invalid host %s: no socket path", host);
        } else if (str_has_prefix(host, "tcp://") || str_has_prefix(host, "ssh://") ||
                   str_has_prefix(host, "npipe://") || str_has_prefix(host, "fd://")) {
                /* TCP needs TLS to be safe; until it has it, refuse
                 * rather than talk to a daemon in the clear. */
                return berth_error(err, 0, "host %s: only unix:// sockets are supported", host);
        } else {
                return berth_error(err, 0, "invalid host %s: expected unix:///path", host);
        }
        return 0;
}

void cli_fini(struct cli *c)
{
        if (c->fd >= 0)
                close(c->fd);
        free(c->host);
        free(c->socket_path);
        memset(c, 0, sizeof(*c));
        c->fd = -1;
}

char *cli_versioned(struct cli *c, const char *path)
{
        if (c->api_version[0] == '\0')
                return xstrdup(path);
        return xasprintf("/v%s%s", c->api_version, path);
}

static bool unreserved(unsigned char ch)
{
        return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

char *cli_escape_path(const char *s)
{
        struct strbuf b = { 0 };
        char hex[4];

        strbuf_add(&b, "", 0);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (unreserved(*p) || *p == ':' || *p == '/' || *p == '@' || *p == '+' ||
                    *p == '=' || *p == ',' || *p == '$' || *p == '&' || *p == '!') {
                        strbuf_add(&b, (const char *)p, 1);
                } else {
                        snprintf(hex, sizeof(hex), "%%%02X", *p);
                        strbuf_add(&b, hex, 3);
                }
        }
        return b.data;
}

char *cli_escape_query(const char *s)
{
        struct strbuf b = { 0 };
        char hex[4];

        strbuf_add(&b, "", 0);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (unreserved(*p)) {
                        strbuf_add(&b, (const char *)p, 1);
                } else if (*p == ' ') {
                        strbuf_add(&b, "+", 1);
                } else {
                        snprintf(hex, sizeof(hex), "%%%02X", *p);
                        strbuf_add(&b, hex, 3);
                }
        }
        return b.data;
}

int cli_connect_error(struct cli *c, int errnum, berth_error_t **err)
{
        if (errnum == EACCES)
                return berth_error(err, 0,
                                   "permission denied while trying to connect to the Berth daemon socket at %s: %s",
                                   c->host, strerror(errnum));
        return berth_error(err, 0, "Cannot connect to the Berth daemon at %s. Is berthd running?",
                           c->host);
}

/* ---- connections ---- */

int cli_connect(struct cli *c, berth_error_t **err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(c->socket_path) >= sizeof(sa.sun_path))
                return berth_error(err, 0, "socket path too long: %s", c->socket_path);
        strcpy(sa.sun_path, c->socket_path);
        for (;;) {
                _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return berth_error(err, errno, "socket");
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        return steal_fd(&fd);
                /* a signal while the daemon's backlog was full: start over */
                if (errno != EINTR)
                        return cli_connect_error(c, errno, err);
        }
}

/* Whether a kept connection is still good: a daemon that closed it (or,
 * wrongly, sent something unasked) made it readable. */
static bool conn_idle(int fd)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n;

        do
                n = poll(&pfd, 1, 0);
        while (n < 0 && errno == EINTR);
        return n == 0;
}

/* ---- one exchange: a request out, its response in ---- */

struct cli_xfer {
        int fd;
        bool reused;                    /* fd carried an earlier exchange */
        struct http_parser p;

        /* the request: its head (a JSON body included), then an upload */
        char *head;
        size_t head_len;
        FILE *upload;
        long long upload_left;          /* of a sized upload */
        bool chunked, upload_read, upload_eof;
        int phase;                      /* what out holds: 0 head, 1 upload, 2 nothing */
        const char *out;
        size_t out_len, out_off;
        char *blk;                      /* an upload block, room for the chunk framing */
        bool sending;
        bool send_broken;               /* the daemon stopped reading */

        /* the response */
        char *rbuf;
        cli_sink_fn sink;
        void *opaque;
        const char *capture;
        char *captured;
        struct strbuf body;                /* unless the sink takes it */
        bool sink_failed, leftover, eof, done, failed;
        berth_error_t *error;           /* an async exchange's, for finish */
};

static int on_field(void *opaque, const char *name, size_t nlen, const char *value, size_t vlen,
                    berth_error_t **err)
{
        struct cli_xfer *x = opaque;

        (void)err;
        if (x->capture && strlen(x->capture) == nlen && strncasecmp(name, x->capture, nlen) == 0) {
                free(x->captured);
                x->captured = xasprintf("%.*s", (int)vlen, value);
        }
        return 0;
}

static int on_data(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        struct cli_xfer *x = opaque;

        if (x->sink == NULL || x->p.status >= 400) {
                strbuf_add(&x->body, data, len);
                return 0;
        }
        if (x->sink(x->opaque, data, len, err) < 0) {
                x->sink_failed = true;
                if (err && *err == NULL)
                        berth_error(err, 0, "the response was refused");
                return -1;
        }
        return 0;
}

static void xfer_free(struct cli_xfer *x)
{
        if (x == NULL)
                return;
        if (x->fd >= 0)
                close(x->fd);
        free(x->head);
        free(x->blk);
        free(x->rbuf);
        free(x->captured);
        free(x->body.data);
        berth_error_free(&x->error);
        free(x);
}

/* The request as r asks for it, ready to send on c's API version. */
static struct cli_xfer *xfer_new(struct cli *c, const struct cli_req *r, berth_error_t **err)
{
        struct cli_xfer *x = xcalloc(1, sizeof(*x));
        _cleanup_free_ char *target = cli_versioned(c, r->path);
        size_t json_len = 0;
        bool bodyless = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
        struct http_request_head h = {
                .method = r->method, .target = target, .host = CLI_HTTP_HOST,
                .user_agent = CLI_USER_AGENT, .content_length = HTTP_NO_BODY, .headers = r->headers,
        };

        x->fd = -1;
        if (r->upload) {
                x->upload = r->upload;
                x->upload_left = r->upload_size;
                x->chunked = r->upload_size < 0;
                h.content_length = x->chunked ? HTTP_CHUNKED : r->upload_size;
                h.content_type = r->content_type;
                x->blk = xmalloc(CLI_IO_BLOCK + 32);
        } else if (r->json_body && !bodyless) {
                json_len = strlen(r->json_body);
                h.content_length = (long long)json_len;
                h.content_type = r->content_type ? r->content_type : "application/json";
        } else if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
                   strcmp(r->method, "PATCH") == 0) {
                /* an empty body, said so (and no Content-Type), as docker's
                 * client sends a bodyless POST */
                h.content_length = 0;
        }
        x->head = http_request_format(&h, &x->head_len, err);
        if (x->head == NULL) {
                xfer_free(x);
                return NULL;
        }
        if (json_len > 0) {
                /* one write for the whole of a small request */
                x->head = xrealloc(x->head, x->head_len + json_len + 1);
                memcpy(x->head + x->head_len, r->json_body, json_len + 1);
                x->head_len += json_len;
        }
        x->out = x->head;
        x->out_len = x->head_len;
        x->sending = true;
        x->rbuf = xmalloc(CLI_IO_BLOCK);
        x->sink = r->sink;
        x->opaque = r->opaque;
        x->capture = r->capture;
        http_parser_init(&x->p, strcmp(r->method, "HEAD") == 0);
        x->p.on_field = on_field;
        x->p.on_data = on_data;
        x->p.opaque = x;
        return x;
}

/* The next bytes to send once out is all sent. */
static int xfer_refill(struct cli_xfer *x, berth_error_t **err)
{
        x->out_off = x->out_len = 0;
        if (x->phase == 0)
                x->phase = x->upload ? 1 : 2;
        if (x->phase == 1 && !x->chunked) {
                size_t want = x->upload_left < CLI_IO_BLOCK ? (size_t)x->upload_left : CLI_IO_BLOCK, n;
                if (want == 0) {
                        x->phase = 2;
                } else {
                        n = fread(x->blk, 1, want, x->upload);
                        x->upload_read = true;  /* from now on, never replayed */
                        if (n == 0) {
                                if (ferror(x->upload))
                                        return berth_error(err, errno, "read the request body");
                                return berth_error(err, 0, "the request body ended %lld bytes short",
                                                   x->upload_left);
                        }
                        x->upload_left -= (long long)n;
                        x->out = x->blk;
                        x->out_len = n;
                }
        } else if (x->phase == 1 && x->upload_eof) {
                x->phase = 2;
        } else if (x->phase == 1) {
                /* chunk framing around the block: "<hex>\r\n" before, CRLF after */
                char *data = x->blk + 24, hdr[24];
                size_t n = fread(data, 1, CLI_IO_BLOCK, x->upload), hlen;
                x->upload_read = true;
                if (n == 0 && ferror(x->upload))
                        return berth_error(err, errno, "read the request body");
                if (n == 0) {
                        x->upload_eof = true;
                        x->out = "0\r\n\r\n";
                        x->out_len = 5;
                } else {
                        hlen = http_chunk_header(hdr, n);
                        memcpy(data - hlen, hdr, hlen);
                        memcpy(data + n, "\r\n", 2);
                        x->out = data - hlen;
                        x->out_len = hlen + n + 2;
                }
        }
        if (x->phase == 2)
                x->sending = false;
        return 0;
}

static int xfer_write(struct cli_xfer *x, berth_error_t **err)
{
        ssize_t n;

        if (x->out_off == x->out_len && xfer_refill(x, err) < 0)
                return -1;
        if (!x->sending)
                return 0;
        n = send(x->fd, x->out + x->out_off, x->out_len - x->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                        return 0;
                if (errno == EPIPE || errno == ECONNRESET) {
                        /* the daemon is not reading any more: what it
                         * answered, if anything, says why */
                        x->sending = false;
                        x->send_broken = true;
                        return 0;
                }
                return berth_error(err, errno, "error during connect: write to the daemon");
        }
        x->out_off += (size_t)n;
        if (x->out_off == x->out_len)
                return xfer_refill(x, err);
        return 0;
}

static int xfer_read(struct cli_xfer *x, berth_error_t **err)
{
        ssize_t n = read(x->fd, x->rbuf, CLI_IO_BLOCK);
        size_t off = 0;

        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
        if (n < 0 && errno != ECONNRESET)
                return berth_error(err, errno, "error during connect: read from the daemon");
        if (n <= 0) {
                /* a reset after the daemon sent its all is an end too */
                x->eof = true;
                if (http_parse_eof(&x->p, err) < 0)
                        return berth_error_wrap(err, "error during connect");
                x->done = true;
                return 0;
        }
        while (off < (size_t)n) {
                ssize_t used = http_parse(&x->p, x->rbuf + off, (size_t)n - off, err);
                if (used < 0)
                        return x->sink_failed ? -1 : berth_error_wrap(err, "error during connect");
                off += (size_t)used;
                if (http_parser_done(&x->p)) {
                        x->done = true;
                        /* bytes nobody asked for: the connection is not
                         * in a state to carry another request */
                        x->leftover = off < (size_t)n;
                        break;
                }
                if (used == 0)
                        break;
        }
        return 0;
}

/* One round: wait up to timeout_ms for the connection (unless the
 * exchange is over) and the extra fds, whose revents are filled, then move
 * what can move.  A failed exchange has x->failed set. */
static int xfer_step(struct cli_xfer *x, struct pollfd *extra, unsigned n, int timeout_ms, berth_error_t **err)
{
        struct pollfd pfd[1 + CLI_POLL_EXTRA_MAX];
        unsigned np = 0, first;
        bool active = x && !x->done;
        short re = 0;

        if (n > CLI_POLL_EXTRA_MAX)
                return berth_error(err, 0, "poll: too many fds");
        if (active)
                pfd[np++] = (struct pollfd){ .fd = x->fd, .events = POLLIN | (x->sending ? POLLOUT : 0) };
        first = np;
        for (unsigned i = 0; i < n; i++) {
                extra[i].revents = 0;
                pfd[np++] = (struct pollfd){ .fd = extra[i].fd, .events = extra[i].events };
        }
        if (poll(pfd, np, timeout_ms) < 0) {
                if (errno == EINTR)
                        return 0;
                return berth_error(err, errno, "poll");
        }
        for (unsigned i = 0; i < n; i++)
                extra[i].revents = pfd[first + i].revents;
        if (!active)
                return 0;
        re = pfd[0].revents;
        if ((re & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) && xfer_read(x, err) < 0) {
                x->failed = true;
                return -1;
        }
        if (!x->done && x->sending && (re & (POLLOUT | POLLERR)) && xfer_write(x, err) < 0) {
                x->failed = true;
                return -1;
        }
        return 0;
}

/* Whether the exchange failed the way a closed kept connection fails:
 * not a byte came back and the request can be sent again. */
static bool xfer_replayable(const struct cli_xfer *x)
{
        return x->reused && x->p.received == 0 && !x->upload_read && !x->sink_failed;
}

/* The response of a finished exchange into resp (the body moves). */
static void xfer_response(struct cli_xfer *x, struct cli_response *resp)
{
        resp->status = x->p.status;
        if (x->body.data == NULL)
                strbuf_add(&x->body, "", 0);
        resp->body = steal_pointer(&x->body.data);
        resp->len = x->body.len;
        x->body.len = x->body.cap = 0;
}

/* One request on c's keep-alive connection (a new one when there is none
 * or it went stale), the response into resp.  Only transport failures
 * (and a sink's) are errors. */
static int perform(struct cli *c, struct cli_req *r, struct cli_response *resp, berth_error_t **err)
{
        memset(resp, 0, sizeof(*resp));
        for (int attempt = 0;; attempt++) {
                struct cli_xfer *x = xfer_new(c, r, err);
                int ret;

                if (x == NULL)
                        return -1;
                x->fd = steal_fd(&c->fd);
                if (x->fd >= 0 && !conn_idle(x->fd)) {
                        close(x->fd);
                        x->fd = -1;
                }
                x->reused = x->fd >= 0;
                if (x->fd < 0) {
                        x->fd = cli_connect(c, err);
                        if (x->fd < 0) {
                                xfer_free(x);
                                return -1;
                        }
                }
                while (!x->done && !x->failed)
                        if (xfer_step(x, NULL, 0, -1, err) < 0 && !x->failed)
                                x->failed = true;
                if (x->failed) {
                        if (attempt == 0 && xfer_replayable(x)) {
                                berth_error_free(err);
                                xfer_free(x);
                                continue;
                        }
                        xfer_free(x);
                        return -1;
                }
                if (r->capture) {
                        free(r->captured);
                        r->captured = steal_pointer(&x->captured);
                }
                xfer_response(x, resp);
                /* kept for the next call when the response said it may be
                 * and nothing is left half-sent or half-read */
                if (x->p.keep_alive && !x->leftover && !x->eof && !x->sending && !x->send_broken)
                        c->fd = steal_fd(&x->fd);
                ret = 0;
                xfer_free(x);
                return ret;
        }
}

static int ensure_ping(struct cli *c, berth_error_t **err)
{
        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        return 0;
}

static int ping_once(struct cli *c, const char *method, long *status, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        struct cli_req r = { .method = method, .path = "/_ping", .capture = "Api-Version" };

        if (perform(c, &r, &resp, err) < 0)
                return -1;
        *status = resp.status;
        if (r.captured)
                snprintf(c->daemon_api, sizeof(c->daemon_api), "%s", r.captured);
        free(r.captured);
        return 0;
}

static bool parse_api(const char *v, long *major, long *minor)
{
        char *end;

        *major = strtol(v, &end, 10);
        if (end == v || *end != '.')
                return false;
        v = end + 1;
        *minor = strtol(v, &end, 10);
        return end != v && *end == '\0';
}

int cli_ping(struct cli *c, berth_error_t **err)
{
        long status = 0, dmaj, dmin, mmaj, mmin;

        c->daemon_api[0] = '\0';
        if (ping_once(c, "HEAD", &status, err) < 0)
                return -1;
        /* a daemon without HEAD support answers 405: docker retries GET */
        if (status == 405 && ping_once(c, "GET", &status, err) < 0)
                return -1;
        parse_api(CLI_API_MAX, &mmaj, &mmin);
        if (c->daemon_api[0] == '\0' || !parse_api(c->daemon_api, &dmaj, &dmin))
                snprintf(c->api_version, sizeof(c->api_version), "%s", CLI_API_FALLBACK);
        else if (dmaj > mmaj || (dmaj == mmaj && dmin > mmin))
                snprintf(c->api_version, sizeof(c->api_version), "%s", CLI_API_MAX);
        else
                snprintf(c->api_version, sizeof(c->api_version), "%ld.%ld", dmaj, dmin);
        return 0;
}

int cli_daemon_error(const struct cli_response *resp, berth_error_t **err)
{
        _cleanup_json_ json_t *j = NULL;
        const char *msg = NULL;

        if (resp->body && resp->len > 0) {
                j = json_loadb(resp->body, resp->len, 0, NULL);
                if (j && json_is_string(json_object_get(j, "message")))
                        msg = json_string_value(json_object_get(j, "message"));
        }
        if (msg)
                return berth_error(err, 0, "Error response from daemon: %s", msg);
        if (resp->body && resp->len > 0) {
                _cleanup_free_ char *text = xstrdup(resp->body);
                size_t n = strlen(text);
                while (n > 0 && isspace((unsigned char)text[n - 1]))
                        text[--n] = '\0';
                return berth_error(err, 0, "Error response from daemon: %s", text);
        }
        return berth_error(err, 0, "Error response from daemon: request failed with status %ld",
                           resp->status);
}

int cli_call(struct cli *c, const char *method, const char *path, const char *json_body,
             struct cli_response *resp, berth_error_t **err)
{
        struct cli_req r = { .method = method, .path = path, .json_body = json_body };

        memset(resp, 0, sizeof(*resp));
        if (ensure_ping(c, err) < 0)
                return -1;
        return perform(c, &r, resp, err);
}

int cli_call_upload(struct cli *c, const char *path, const char *content_type, FILE *body, long long size,
                    struct cli_response *resp, berth_error_t **err)
{
        /* a streamed POST body: the file is never held in memory */
        struct cli_req r = { .method = "POST", .path = path, .upload = body, .upload_size = size,
                             .content_type = content_type };

        return cli_request_ok(c, &r, resp, err);
}

int cli_call_ok(struct cli *c, const char *method, const char *path, const char *json_body,
                struct cli_response *resp, berth_error_t **err)
{
        if (cli_call(c, method, path, json_body, resp, err) < 0)
                return -1;
        if (resp->status >= 400) {
                int ret = cli_daemon_error(resp, err);
                cli_response_free(resp);
                return ret;
        }
        return 0;
}

int cli_call_json(struct cli *c, const char *method, const char *path, const char *json_body,
                  json_t **out, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        json_error_t jerr;

        if (cli_call_ok(c, method, path, json_body, &resp, err) < 0)
                return -1;
        *out = json_loadb(resp.body, resp.len, JSON_DECODE_ANY, &jerr);
        if (*out == NULL)
                return berth_error(err, 0, "invalid JSON from the daemon for %s: %s", path, jerr.text);
        return 0;
}

int cli_call_stream(struct cli *c, const char *method, const char *path,
                    const char *const *headers, cli_sink_fn sink, void *opaque,
                    berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        struct cli_req r = { .method = method, .path = path, .headers = headers, .sink = sink,
                             .opaque = opaque };

        return cli_request_ok(c, &r, &resp, err);
}

/* ---- the request left running (the wait of run and attach) ---- */

int cli_async_start(struct cli *c, struct cli_async *a, const char *method, const char *path,
                    berth_error_t **err)
{
        struct cli_req r = { .method = method, .path = path };
        struct cli_xfer *x;

        memset(a, 0, sizeof(*a));
        a->c = c;
        if (ensure_ping(c, err) < 0)
                return -1;
        x = xfer_new(c, &r, err);
        if (x == NULL)
                return -1;
        a->x = x;
        /* a connection of its own: the plain calls go on meanwhile */
        x->fd = cli_connect(c, err);
        if (x->fd < 0)
                return -1;
        while (!x->p.headers_done && !x->done) {
                if (xfer_step(x, NULL, 0, -1, err) < 0) {
                        a->done = true;
                        return -1;
                }
        }
        a->headers_done = true;
        a->done = x->done;
        return 0;
}

int cli_async_poll(struct cli_async *a, struct pollfd *extra, unsigned n, int timeout_ms,
                   berth_error_t **err)
{
        struct cli_xfer *x = a->x;

        if (xfer_step(x && !x->failed ? x : NULL, extra, n, timeout_ms, err) < 0) {
                if (x == NULL || !x->failed)
                        return -1;      /* poll itself failed */
                /* the exchange failed: finish says so */
                berth_error_free(&x->error);
                if (err) {
                        x->error = steal_pointer(err);
                }
                x->done = true;
        }
        if (x)
                a->done = x->done;
        return 0;
}

int cli_async_finish(struct cli_async *a, struct cli_response *resp, berth_error_t **err)
{
        struct cli_xfer *x = a->x;

        memset(resp, 0, sizeof(*resp));
        if (x == NULL)
                return berth_error(err, 0, "no request in progress");
        while (!x->done) {
                if (cli_async_poll(a, NULL, 0, -1, err) < 0)
                        return -1;
        }
        if (x->failed) {
                if (x->error) {
                        berth_error_free(err);
                        if (err)
                                *err = steal_pointer(&x->error);
                        return -1;
                }
                return berth_error(err, 0, "error during connect: the request failed");
        }
        xfer_response(x, resp);
        return 0;
}

void cli_async_free(struct cli_async *a)
{
        xfer_free(a->x);
        memset(a, 0, sizeof(*a));
}

/* ---- the general request ---- */

int cli_request(struct cli *c, struct cli_req *r, struct cli_response *resp, berth_error_t **err)
{
        memset(resp, 0, sizeof(*resp));
        if (ensure_ping(c, err) < 0)
                return -1;
        return perform(c, r, resp, err);
}

int cli_request_ok(struct cli *c, struct cli_req *r, struct cli_response *resp, berth_error_t **err)
{
        if (cli_request(c, r, resp, err) < 0)
                return -1;
        if (resp->status >= 400) {
                int ret = cli_daemon_error(resp, err);
                cli_response_free(resp);
                return ret;
        }
        return 0;
}

bool cli_api_at_least(struct cli *c, long major, long minor)
{
        long ma, mi;

        if (c->api_version[0] == '\0') {
                _cleanup_error_ berth_error_t *err = NULL;
                if (cli_ping(c, &err) < 0)
                        return false;
        }
        if (!parse_api(c->api_version, &ma, &mi))
                return false;
        return ma > major || (ma == major && mi >= minor);
}
