/* The CLI's HTTP transport: libcurl over the daemon's unix socket, the
 * /_ping version negotiation docker does on every invocation, and the
 * translation of error responses into docker's wording. */
#include "cli/cli.h"
#include <ctype.h>
#include <stdarg.h>

#define CLI_URL_BASE "http://api.moby.localhost"
#define CLI_USER_AGENT "User-Agent: Berth-Client/" BERTH_VERSION " (linux)"

struct buf {
        char *data;
        size_t len, cap;
};

static void buf_add(struct buf *b, const char *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->data = xrealloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static size_t buf_write_cb(char *p, size_t size, size_t n, void *opaque)
{
        buf_add(opaque, p, size * n);
        return size * n;
}

int cli_init(struct cli *c, const char *host, berth_error_t **err)
{
        memset(c, 0, sizeof(*c));
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
        c->curl = curl_easy_init();
        if (c->curl == NULL)
                return berth_error(err, 0, "cannot initialise libcurl");
        return 0;
}

void cli_fini(struct cli *c)
{
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->host);
        free(c->socket_path);
        memset(c, 0, sizeof(*c));
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
        struct buf b = { 0 };
        char hex[4];

        buf_add(&b, "", 0);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (unreserved(*p) || *p == ':' || *p == '/' || *p == '@' || *p == '+' ||
                    *p == '=' || *p == ',' || *p == '$' || *p == '&' || *p == '!') {
                        buf_add(&b, (const char *)p, 1);
                } else {
                        snprintf(hex, sizeof(hex), "%%%02X", *p);
                        buf_add(&b, hex, 3);
                }
        }
        return b.data;
}

char *cli_escape_query(const char *s)
{
        struct buf b = { 0 };
        char hex[4];

        buf_add(&b, "", 0);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (unreserved(*p)) {
                        buf_add(&b, (const char *)p, 1);
                } else if (*p == ' ') {
                        buf_add(&b, "+", 1);
                } else {
                        snprintf(hex, sizeof(hex), "%%%02X", *p);
                        buf_add(&b, hex, 3);
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

static int transport_error(struct cli *c, CURL *h, CURLcode rc, berth_error_t **err)
{
        long os_errno = 0;

        if (rc == CURLE_COULDNT_CONNECT) {
                curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
                return cli_connect_error(c, (int)os_errno, err);
        }
        return berth_error(err, 0, "error during connect: %s", curl_easy_strerror(rc));
}

/* Settings shared by every request on handle h. */
static struct curl_slist *setup(struct cli *c, CURL *h, const char *method, const char *path,
                                const char *json_body, const char *const *extra)
{
        _cleanup_free_ char *url = NULL;
        _cleanup_free_ char *vpath = cli_versioned(c, path);
        struct curl_slist *hdrs = NULL;

        url = xasprintf(CLI_URL_BASE "%s", vpath);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        hdrs = curl_slist_append(hdrs, CLI_USER_AGENT);
        /* curl would wait a second for a 100 Continue no daemon sends */
        hdrs = curl_slist_append(hdrs, "Expect:");
        if (strcmp(method, "HEAD") == 0) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (strcmp(method, "GET") != 0) {
                if (strcmp(method, "POST") != 0)
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
                if (strcmp(method, "POST") == 0 || json_body) {
                        curl_easy_setopt(h, CURLOPT_POST, 1L);
                        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body ? json_body : "");
                        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(json_body ? strlen(json_body) : 0));
                }
                if (json_body)
                        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
                else if (strcmp(method, "POST") == 0)
                        hdrs = curl_slist_append(hdrs, "Content-Type:");
        }
        for (; extra && *extra; extra++)
                hdrs = curl_slist_append(hdrs, *extra);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        return hdrs;
}

static size_t ping_header_cb(char *p, size_t size, size_t n, void *opaque)
{
        struct cli *c = opaque;
        size_t len = size * n;
        static const char key[] = "api-version:";

        if (len > sizeof(key) - 1 && strncasecmp(p, key, sizeof(key) - 1) == 0) {
                size_t i = sizeof(key) - 1, j = 0;
                while (i < len && (p[i] == ' ' || p[i] == '\t'))
                        i++;
                while (i < len && p[i] != '\r' && p[i] != '\n' && j < sizeof(c->daemon_api) - 1)
                        c->daemon_api[j++] = p[i++];
                c->daemon_api[j] = '\0';
        }
        return len;
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

static int ping_once(struct cli *c, const char *method, long *status, berth_error_t **err)
{
        struct curl_slist *hdrs;
        struct buf body = { 0 };
        CURLcode rc;

        curl_easy_reset(c->curl);
        hdrs = setup(c, c->curl, method, "/_ping", NULL, NULL);
        curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, ping_header_cb);
        curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &body);
        rc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        free(body.data);
        if (rc != CURLE_OK)
                return transport_error(c, c->curl, rc, err);
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
        return 0;
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
        struct curl_slist *hdrs;
        struct buf body = { 0 };
        CURLcode rc;

        memset(resp, 0, sizeof(*resp));
        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        curl_easy_reset(c->curl);
        hdrs = setup(c, c->curl, method, path, json_body, NULL);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &body);
        rc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        if (rc != CURLE_OK) {
                free(body.data);
                return transport_error(c, c->curl, rc, err);
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (body.data == NULL)
                buf_add(&body, "", 0);
        resp->body = body.data;
        resp->len = body.len;
        return 0;
}

static size_t file_read_cb(char *buf, size_t size, size_t n, void *data)
{
        return fread(buf, size, n, data);
}

int cli_call_upload(struct cli *c, const char *path, const char *content_type, FILE *body, long long size,
                    struct cli_response *resp, berth_error_t **err)
{
        _cleanup_free_ char *ct = xasprintf("Content-Type: %s", content_type);
        const char *extra[] = { ct, NULL };
        struct curl_slist *hdrs;
        struct buf out = { 0 };
        CURLcode rc;

        memset(resp, 0, sizeof(*resp));
        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        curl_easy_reset(c->curl);
        hdrs = setup(c, c->curl, "PUT", path, NULL, extra);
        /* a streamed POST body: the file is never held in memory */
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, "POST");
        curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, file_read_cb);
        curl_easy_setopt(c->curl, CURLOPT_READDATA, body);
        curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &out);
        rc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        if (rc != CURLE_OK) {
                free(out.data);
                return transport_error(c, c->curl, rc, err);
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (out.data == NULL)
                buf_add(&out, "", 0);
        resp->body = out.data;
        resp->len = out.len;
        if (resp->status >= 400) {
                int ret = cli_daemon_error(resp, err);
                cli_response_free(resp);
                return ret;
        }
        return 0;
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

struct stream_ctx {
        CURL *h;
        cli_sink_fn sink;
        void *opaque;
        struct buf errbody;
        berth_error_t *err;
        long status;
};

static size_t stream_write_cb(char *p, size_t size, size_t n, void *opaque)
{
        struct stream_ctx *s = opaque;
        size_t len = size * n;

        if (s->status == 0)
                curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
        if (s->status >= 400) {
                buf_add(&s->errbody, p, len);
                return len;
        }
        if (s->sink(s->opaque, p, len, &s->err) < 0)
                return 0;       /* aborts the transfer */
        return len;
}

int cli_call_stream(struct cli *c, const char *method, const char *path,
                    const char *const *headers, cli_sink_fn sink, void *opaque,
                    berth_error_t **err)
{
        struct stream_ctx s = { .h = c->curl, .sink = sink, .opaque = opaque };
        struct curl_slist *hdrs;
        CURLcode rc;

        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        curl_easy_reset(c->curl);
        hdrs = setup(c, c->curl, method, path, NULL, headers);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, stream_write_cb);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
        rc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        if (s.err) {
                free(s.errbody.data);
                berth_error_free(err);
                *err = s.err;
                return -1;
        }
        if (rc != CURLE_OK) {
                free(s.errbody.data);
                return transport_error(c, c->curl, rc, err);
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &s.status);
        if (s.status >= 400) {
                struct cli_response resp = { .status = s.status, .body = s.errbody.data,
                                             .len = s.errbody.len };
                int ret = cli_daemon_error(&resp, err);
                free(s.errbody.data);
                return ret;
        }
        free(s.errbody.data);
        return 0;
}

static size_t async_header_cb(char *p, size_t size, size_t n, void *opaque)
{
        struct cli_async *a = opaque;
        size_t len = size * n;

        /* the blank line closes the headers; a 1xx interim answer would
         * too, but the API sends none for these requests */
        if ((len == 2 && p[0] == '\r' && p[1] == '\n') || (len == 1 && p[0] == '\n'))
                a->headers_done = true;
        return len;
}

static size_t async_write_cb(char *p, size_t size, size_t n, void *opaque)
{
        struct cli_async *a = opaque;
        struct buf b = { a->body, a->len, a->cap };

        buf_add(&b, p, size * n);
        a->body = b.data;
        a->len = b.len;
        a->cap = b.cap;
        return size * n;
}

static void async_check_done(struct cli_async *a)
{
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(a->multi, &left)) != NULL) {
                if (m->msg == CURLMSG_DONE) {
                        a->done = true;
                        a->result = m->data.result;
                }
        }
}

int cli_async_start(struct cli *c, struct cli_async *a, const char *method, const char *path,
                    berth_error_t **err)
{
        int running;

        memset(a, 0, sizeof(*a));
        a->c = c;
        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        a->easy = curl_easy_init();
        a->multi = curl_multi_init();
        if (a->easy == NULL || a->multi == NULL)
                return berth_error(err, 0, "cannot initialise libcurl");
        a->headers = setup(c, a->easy, method, path, NULL, NULL);
        curl_easy_setopt(a->easy, CURLOPT_HEADERFUNCTION, async_header_cb);
        curl_easy_setopt(a->easy, CURLOPT_HEADERDATA, a);
        curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, async_write_cb);
        curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a);
        curl_multi_add_handle(a->multi, a->easy);
        while (!a->headers_done && !a->done) {
                curl_multi_perform(a->multi, &running);
                async_check_done(a);
                if (a->headers_done || a->done)
                        break;
                curl_multi_poll(a->multi, NULL, 0, 1000, NULL);
        }
        if (a->done && a->result != CURLE_OK)
                return transport_error(c, a->easy, a->result, err);
        return 0;
}

int cli_async_poll(struct cli_async *a, struct curl_waitfd *extra, unsigned n, int timeout_ms,
                   berth_error_t **err)
{
        int running;
        CURLMcode mc;

        for (unsigned i = 0; i < n; i++)
                extra[i].revents = 0;
        if (!a->done) {
                curl_multi_perform(a->multi, &running);
                async_check_done(a);
        }
        mc = curl_multi_poll(a->multi, extra, n, timeout_ms, NULL);
        if (mc != CURLM_OK)
                return berth_error(err, 0, "poll: %s", curl_multi_strerror(mc));
        if (!a->done) {
                curl_multi_perform(a->multi, &running);
                async_check_done(a);
        }
        return 0;
}

int cli_async_finish(struct cli_async *a, struct cli_response *resp, berth_error_t **err)
{
        memset(resp, 0, sizeof(*resp));
        while (!a->done) {
                if (cli_async_poll(a, NULL, 0, 1000, err) < 0)
                        return -1;
        }
        if (a->result != CURLE_OK)
                return transport_error(a->c, a->easy, a->result, err);
        curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &resp->status);
        resp->body = a->body ? a->body : xstrdup("");
        resp->len = a->len;
        a->body = NULL;
        a->len = a->cap = 0;
        return 0;
}

void cli_async_free(struct cli_async *a)
{
        if (a->multi && a->easy)
                curl_multi_remove_handle(a->multi, a->easy);
        if (a->easy)
                curl_easy_cleanup(a->easy);
        if (a->multi)
                curl_multi_cleanup(a->multi);
        curl_slist_free_all(a->headers);
        free(a->body);
        memset(a, 0, sizeof(*a));
}

struct req_ctx {
        CURL *h;
        struct cli_req *r;
        struct buf body;        /* the response, or an error response */
        berth_error_t *err;     /* the sink's */
        long status;
};

static size_t req_write_cb(char *p, size_t size, size_t n, void *opaque)
{
        struct req_ctx *x = opaque;
        size_t len = size * n;

        if (x->status == 0)
                curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
        if (x->r->sink == NULL || x->status >= 400) {
                buf_add(&x->body, p, len);
                return len;
        }
        if (x->r->sink(x->r->opaque, p, len, &x->err) < 0)
                return 0;       /* aborts the transfer */
        return len;
}

static size_t req_header_cb(char *p, size_t size, size_t n, void *opaque)
{
        struct req_ctx *x = opaque;
        size_t len = size * n, nlen = strlen(x->r->capture);

        if (len > nlen && strncasecmp(p, x->r->capture, nlen) == 0 && p[nlen] == ':') {
                size_t i = nlen + 1, end = len;
                while (i < len && (p[i] == ' ' || p[i] == '\t'))
                        i++;
                while (end > i && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' '))
                        end--;
                free(x->r->captured);
                x->r->captured = xasprintf("%.*s", (int)(end - i), p + i);
        }
        return len;
}

int cli_request(struct cli *c, struct cli_req *r, struct cli_response *resp, berth_error_t **err)
{
        struct req_ctx x = { .h = c->curl, .r = r };
        _cleanup_free_ char *ct = r->content_type ? xasprintf("Content-Type: %s", r->content_type) : NULL;
        const char *extra[16];
        size_t n = 0;
        struct curl_slist *hdrs;
        CURLcode rc;

        memset(resp, 0, sizeof(*resp));
        for (const char *const *h = r->headers; h && *h && n < ARRAY_SIZE(extra) - 2; h++)
                extra[n++] = *h;
        if (ct)
                extra[n++] = ct;
        extra[n] = NULL;
        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        curl_easy_reset(c->curl);
        /* an upload is set up as a PUT (no POSTFIELDS), then given its
         * real method */
        hdrs = setup(c, c->curl, r->upload ? "PUT" : r->method, r->path, r->json_body, extra);
        if (r->upload) {
                /* streamed (chunked when the size is unknown), never held
                 * in memory: docker uploads archives the same way */
                curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, r->method);
                curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, file_read_cb);
                curl_easy_setopt(c->curl, CURLOPT_READDATA, r->upload);
                curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->upload_size);
        }
        if (r->capture) {
                curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, req_header_cb);
                curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &x);
        }
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, req_write_cb);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
        rc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        if (x.err) {
                free(x.body.data);
                berth_error_free(err);
                *err = x.err;
                return -1;
        }
        if (rc != CURLE_OK) {
                free(x.body.data);
                return transport_error(c, c->curl, rc, err);
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (x.body.data == NULL)
                buf_add(&x.body, "", 0);
        resp->body = x.body.data;
        resp->len = x.body.len;
        return 0;
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
