/* HTTP/1.1 for the CLI, the bytes only (RFC 9112): the request head it
 * writes and a strict incremental parser of the responses it reads.  No
 * I/O here: cli-client.c and cli-hijack.c move the bytes. */
#include "cli/cli-http.h"
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

/* ---- the request ---- */

/* tchar of RFC 9110 5.6.2: what a method or a field name is made of. */
static bool is_tchar(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return true;
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
                return true;
        return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field value's bytes: HTAB, visible ASCII, space, obs-text. */
static bool is_field_byte(unsigned char c)
{
        return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool token_ok(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_tchar((unsigned char)s[i]))
                        return false;
        return true;
}

static bool value_ok(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (!is_field_byte(*p))
                        return false;
        return true;
}

static int add_field(struct strbuf *b, const char *name, const char *value, berth_error_t **err)
{
        if (!value_ok(value)) {
                _cleanup_free_ char *q = quote(value);
                return berth_error(err, 0, "invalid value for request header %s: %s", name, q);
        }
        strbuf_adds(b, name);
        strbuf_adds(b, ": ");
        strbuf_adds(b, value);
        strbuf_add(b, "\r\n", 2);
        return 0;
}

char *http_request_format(const struct http_request_head *h, size_t *len, berth_error_t **err)
{
        struct strbuf b = { 0 };
        char num[32];

        if (!token_ok(h->method, strlen(h->method))) {
                _cleanup_free_ char *q = quote(h->method);
                berth_error(err, 0, "invalid request method %s", q);
                return NULL;
        }
        /* origin-form: no blank, control or non-ASCII byte can reach the
         * wire (callers escape paths and queries) */
        bool target_ok = h->target[0] == '/';
        for (const unsigned char *p = (const unsigned char *)h->target; *p && target_ok; p++)
                target_ok = *p > 0x20 && *p < 0x7f;
        if (!target_ok) {
                _cleanup_free_ char *q = quote(h->target);
                berth_error(err, 0, "invalid request path %s", q);
                return NULL;
        }
        strbuf_adds(&b, h->method);
        strbuf_add(&b, " ", 1);
        strbuf_adds(&b, h->target);
        strbuf_adds(&b, " HTTP/1.1\r\n");
        if (add_field(&b, "Host", h->host, err) < 0)
                goto fail;
        if (h->user_agent && add_field(&b, "User-Agent", h->user_agent, err) < 0)
                goto fail;
        if (h->content_length >= 0) {
                snprintf(num, sizeof(num), "%lld", h->content_length);
                add_field(&b, "Content-Length", num, NULL);
        } else if (h->content_length == HTTP_CHUNKED) {
                add_field(&b, "Transfer-Encoding", "chunked", NULL);
        }
        if (h->content_type && add_field(&b, "Content-Type", h->content_type, err) < 0)
                goto fail;
        for (const char *const *f = h->headers; f && *f; f++) {
                const char *colon = strchr(*f, ':');
                if (colon == NULL || !token_ok(*f, (size_t)(colon - *f)) || !value_ok(colon + 1)) {
                        _cleanup_free_ char *q = quote(*f);
                        berth_error(err, 0, "invalid request header %s", q);
                        goto fail;
                }
                strbuf_adds(&b, *f);
                strbuf_add(&b, "\r\n", 2);
        }
        strbuf_add(&b, "\r\n", 2);
        *len = b.len;
        return b.data;
fail:
        free(b.data);
        return NULL;
}

size_t http_chunk_header(char buf[24], size_t n)
{
        return (size_t)snprintf(buf, 24, "%zx\r\n", n);
}

/* ---- the response ---- */

void http_parser_init(struct http_parser *p, bool head)
{
        /* the line buffer needs no clearing */
        memset(p, 0, offsetof(struct http_parser, line));
        p->state = HTTP_STATUS_LINE;
        p->head = head;
        p->content_length = -1;
}

static int fail(struct http_parser *p, berth_error_t **err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(struct http_parser *p, berth_error_t **err, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        p->state = HTTP_ERROR;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        berth_error(err, 0, "malformed response from the daemon: %s", msg);
        return -1;
}

static int parse_status_line(struct http_parser *p, const char *s, size_t n, berth_error_t **err)
{
        /* HTTP/1.1 200 OK; the reason phrase may be empty, its space too */
        if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ' ||
            s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9' ||
            (n > 12 && s[12] != ' ')) {
                _cleanup_free_ char *q = quote_n(s, n);
                return fail(p, err, "bad status line %s", q);
        }
        for (size_t i = 13; i < n; i++) {
                if (!is_field_byte((unsigned char)s[i])) {
                        _cleanup_free_ char *q = quote_n(s, n);
                        return fail(p, err, "bad status line %s", q);
                }
        }
        p->minor = s[7] - '0';
        p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
        p->state = HTTP_HEADER_LINE;
        return 0;
}

static bool name_is(const char *name, size_t n, const char *want)
{
        return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Whether the comma-separated list v holds the token (any case). */
static bool list_has(const char *v, size_t n, const char *token)
{
        size_t tlen = strlen(token), i = 0;

        while (i < n) {
                size_t start, end;
                while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
                        i++;
                start = i;
                while (i < n && v[i] != ',')
                        i++;
                end = i;
                while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
                        end--;
                if (end - start == tlen && strncasecmp(v + start, token, tlen) == 0)
                        return true;
        }
        return false;
}

/* The fields that frame the body, then the caller's callback. */
static int header_field(struct http_parser *p, const char *name, size_t nlen, const char *v, size_t vlen,
                        berth_error_t **err)
{
        if (name_is(name, nlen, "Content-Length")) {
                long long cl = 0;
                if (vlen == 0 || vlen > 18) {
                        _cleanup_free_ char *q = quote_n(v, vlen);
                        return fail(p, err, "bad Content-Length %s", q);
                }
                for (size_t i = 0; i < vlen; i++) {
                        if (v[i] < '0' || v[i] > '9') {
                                _cleanup_free_ char *q = quote_n(v, vlen);
                                return fail(p, err, "bad Content-Length %s", q);
                        }
                        cl = cl * 10 + (v[i] - '0');
                }
                if (p->content_length >= 0 && p->content_length != cl)
                        return fail(p, err, "conflicting Content-Length fields");
                p->content_length = cl;
        } else if (name_is(name, nlen, "Transfer-Encoding")) {
                /* chunked is the one coding this client decodes, and it
                 * must come once: anything else could frame the body in a
                 * way the daemon did not mean */
                if (p->transfer_encoding || vlen != 7 || strncasecmp(v, "chunked", 7) != 0) {
                        _cleanup_free_ char *q = quote_n(v, vlen);
                        return fail(p, err, "unsupported Transfer-Encoding %s", q);
                }
                p->transfer_encoding = true;
        } else if (name_is(name, nlen, "Connection")) {
                if (list_has(v, vlen, "close"))
                        p->close = true;
        }
        if (p->on_field && p->on_field(p->opaque, name, nlen, v, vlen, err) < 0) {
                p->state = HTTP_ERROR;
                return -1;
        }
        return 0;
}

/* name: value, checked; *name_len == 0 for the blank line. */
static int split_field(struct http_parser *p, const char *s, size_t n, size_t *name_len, const char **value,
                       size_t *value_len, berth_error_t **err)
{
        size_t i = 0, end;

        *name_len = 0;
        if (n == 0)
                return 0;
        if (s[0] == ' ' || s[0] == '\t')
                return fail(p, err, "folded header line (obsolete line folding) refused");
        while (i < n && is_tchar((unsigned char)s[i]))
                i++;
        if (i == 0 || i == n || s[i] != ':') {
                _cleanup_free_ char *q = quote_n(s, n);
                return fail(p, err, "bad header line %s", q);
        }
        *name_len = i++;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
        end = n;
        while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
                end--;
        for (size_t j = i; j < end; j++) {
                if (!is_field_byte((unsigned char)s[j])) {
                        _cleanup_free_ char *q = quote_n(s, *name_len);
                        return fail(p, err, "control character in header %s", q);
                }
        }
        *value = s + i;
        *value_len = end - i;
        return 0;
}

/* The blank line after a head: what comes next. */
static void head_done(struct http_parser *p)
{
        if (p->status >= 100 && p->status < 200 && p->status != 101) {
                /* an interim answer: the real one follows */
                p->status = 0;
                p->state = HTTP_STATUS_LINE;
                return;
        }
        p->headers_done = true;
        p->keep_alive = p->minor >= 1 && !p->close;
        p->chunked = p->transfer_encoding;
        if (p->head || p->status == 101 || p->status == 204 || p->status == 304) {
                /* no body, whatever the fields say; after a 101 the
                 * connection speaks another protocol */
                if (p->status == 101)
                        p->keep_alive = false;
                p->state = HTTP_DONE;
        } else if (p->chunked) {
                p->state = HTTP_CHUNK_SIZE;
        } else if (p->content_length >= 0) {
                p->left = (unsigned long long)p->content_length;
                p->state = p->left == 0 ? HTTP_DONE : HTTP_BODY_LENGTH;
        } else {
                p->keep_alive = false;
                p->state = HTTP_BODY_CLOSE;
        }
}

static int header_line(struct http_parser *p, const char *s, size_t n, berth_error_t **err)
{
        const char *v = NULL;
        size_t nlen, vlen = 0;
        bool interim = p->status < 200 && p->status != 101;

        if (split_field(p, s, n, &nlen, &v, &vlen, err) < 0)
                return -1;
        if (nlen == 0) {
                if (!interim && p->content_length >= 0 && p->transfer_encoding)
                        return fail(p, err, "both Content-Length and Transfer-Encoding");
                head_done(p);
                return 0;
        }
        if (++p->fields > HTTP_FIELDS_MAX)
                return fail(p, err, "more than %d header fields", HTTP_FIELDS_MAX);
        if (interim)
                return 0;       /* an interim answer's fields mean nothing here */
        return header_field(p, s, nlen, v, vlen, err);
}

static int chunk_size_line(struct http_parser *p, const char *s, size_t n, berth_error_t **err)
{
        unsigned long long size = 0;
        size_t i = 0, significant = 0;

        for (; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                unsigned d;
                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        d = (c | 0x20) - 'a' + 10;
                else
                        break;
                if (size == 0 && d == 0)
                        continue;       /* leading zeros */
                if (++significant > 15)
                        return fail(p, err, "chunk size too large");
                size = size * 16 + d;
        }
        if (i == 0)
                goto bad;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
        if (i < n) {
                /* chunk extensions: none is understood, all are skipped */
                if (s[i] != ';')
                        goto bad;
                for (; i < n; i++)
                        if (!is_field_byte((unsigned char)s[i]))
                                goto bad;
        }
        if (size == 0) {
                p->state = HTTP_TRAILER_LINE;
        } else {
                p->left = size;
                p->state = HTTP_CHUNK_DATA;
        }
        return 0;
bad:;
        _cleanup_free_ char *q = quote_n(s, n);
        return fail(p, err, "bad chunk size line %s", q);
}

static int trailer_line(struct http_parser *p, const char *s, size_t n, berth_error_t **err)
{
        const char *v;
        size_t nlen, vlen;

        if (split_field(p, s, n, &nlen, &v, &vlen, err) < 0)
                return -1;
        if (nlen == 0)
                p->state = HTTP_DONE;
        else if (++p->fields > HTTP_FIELDS_MAX)
                return fail(p, err, "more than %d header fields", HTTP_FIELDS_MAX);
        return 0;
}

static bool in_line_state(enum http_state s)
{
        return s == HTTP_STATUS_LINE || s == HTTP_HEADER_LINE || s == HTTP_CHUNK_SIZE || s == HTTP_TRAILER_LINE;
}

/* One complete line in p->line, CRLF included. */
static int line_done(struct http_parser *p, berth_error_t **err)
{
        size_t n = p->line_len;

        p->line_len = 0;
        if (n < 2 || p->line[n - 2] != '\r')
                return fail(p, err, "line not ended by CRLF");
        n -= 2;
        if (memchr(p->line, '\r', n) != NULL)
                return fail(p, err, "stray CR in a line");
        if (p->state != HTTP_CHUNK_SIZE) {
                p->head_bytes += n + 2;
                if (p->head_bytes > HTTP_HEAD_MAX)
                        return fail(p, err, "response head larger than %d bytes", HTTP_HEAD_MAX);
        }
        switch (p->state) {
        case HTTP_STATUS_LINE: return parse_status_line(p, p->line, n, err);
        case HTTP_HEADER_LINE: return header_line(p, p->line, n, err);
        case HTTP_CHUNK_SIZE: return chunk_size_line(p, p->line, n, err);
        case HTTP_TRAILER_LINE: return trailer_line(p, p->line, n, err);
        default: return fail(p, err, "internal parser state");
        }
}

static int data(struct http_parser *p, const char *d, size_t n, berth_error_t **err)
{
        if (n > 0 && p->on_data && p->on_data(p->opaque, d, n, err) < 0) {
                p->state = HTTP_ERROR;
                return -1;
        }
        return 0;
}

ssize_t http_parse(struct http_parser *p, const char *d, size_t len, berth_error_t **err)
{
        size_t off = 0;

        if (p->state == HTTP_ERROR) {
                berth_error(err, 0, "malformed response from the daemon");
                return -1;
        }
        while (off < len && p->state != HTTP_DONE) {
                const char *at = d + off;
                size_t avail = len - off, n;

                if (in_line_state(p->state)) {
                        const char *nl = memchr(at, '\n', avail);
                        n = nl ? (size_t)(nl - at) + 1 : avail;
                        if (p->line_len + n > HTTP_LINE_MAX) {
                                fail(p, err, "a line longer than %d bytes", HTTP_LINE_MAX);
                                goto error;
                        }
                        memcpy(p->line + p->line_len, at, n);
                        p->line_len += n;
                        off += n;
                        if (nl == NULL)
                                continue;
                        bool before = p->headers_done;
                        if (line_done(p, err) < 0)
                                goto error;
                        if (p->headers_done && !before)
                                break;  /* the caller sees the head before the body */
                        continue;
                }
                switch (p->state) {
                case HTTP_BODY_LENGTH:
                case HTTP_CHUNK_DATA:
                        n = avail < p->left ? avail : (size_t)p->left;
                        p->left -= n;
                        off += n;
                        if (p->left == 0)
                                p->state = p->state == HTTP_CHUNK_DATA ? HTTP_CHUNK_CR : HTTP_DONE;
                        if (data(p, at, n, err) < 0)
                                goto error;
                        break;
                case HTTP_BODY_CLOSE:
                        off += avail;
                        if (data(p, at, avail, err) < 0)
                                goto error;
                        break;
                case HTTP_CHUNK_CR:
                case HTTP_CHUNK_LF:
                        if (*at != (p->state == HTTP_CHUNK_CR ? '\r' : '\n')) {
                                fail(p, err, "chunk data not followed by CRLF");
                                goto error;
                        }
                        off++;
                        p->state = p->state == HTTP_CHUNK_CR ? HTTP_CHUNK_LF : HTTP_CHUNK_SIZE;
                        break;
                default:
                        fail(p, err, "internal parser state");
                        goto error;
                }
        }
        p->received += off;
        return (ssize_t)off;
error:
        p->received += off;
        return -1;
}

int http_parse_eof(struct http_parser *p, berth_error_t **err)
{
        switch (p->state) {
        case HTTP_DONE:
                return 0;
        case HTTP_BODY_CLOSE:
                p->state = HTTP_DONE;
                return 0;
        case HTTP_ERROR:
                return berth_error(err, 0, "malformed response from the daemon");
        case HTTP_STATUS_LINE:
                if (p->received == 0) {
                        p->state = HTTP_ERROR;
                        return berth_error(err, 0, "the daemon closed the connection without a response");
                }
                /* fall through */
        case HTTP_HEADER_LINE:
                p->state = HTTP_ERROR;
                return berth_error(err, 0, "the daemon closed the connection in the response headers");
        case HTTP_BODY_LENGTH:
                p->state = HTTP_ERROR;
                return berth_error(err, 0, "unexpected EOF: the daemon closed the connection %llu bytes before the end of the response",
                                   p->left);
        default:
                p->state = HTTP_ERROR;
                return berth_error(err, 0, "unexpected EOF: the daemon closed the connection in a chunked response");
        }
}
