/* What clients send, parsed: request heads, body framing (Content-Length
 * or chunked) and request targets.  Everything here reads through a
 * struct http_in, so the same code serves sockets, TLS sessions and the
 * fuzzer.  Strict where laxness has bitten HTTP servers before: no
 * obsolete line folding, no whitespace before a header's colon, one
 * framing per request (request smuggling), lengths checked for overflow. */
#include "api/http-internal.h"
#include "util/util.h"
#include <ctype.h>
#include <strings.h>

#define IN_CHUNK (64 * 1024)
#define CHUNK_LINE_MAX 4096     /* chunk size line with extensions */

void http_in_init(struct http_in *in, ssize_t (*fill)(void *, void *, size_t), void *ctx)
{
        memset(in, 0, sizeof(*in));
        in->fill = fill;
        in->ctx = ctx;
}

void http_in_free(struct http_in *in)
{
        free(in->buf);
        in->buf = NULL;
        in->cap = in->start = in->end = 0;
}

/* Read more, keeping what is unconsumed: >0, 0 at EOF, -errno. */
static ssize_t in_more(struct http_in *in)
{
        ssize_t n;

        if (in->start > 0 && in->start == in->end)
                in->start = in->end = 0;
        if (in->cap - in->end < IN_CHUNK / 4) {
                if (in->start > 0) {
                        memmove(in->buf, in->buf + in->start, in->end - in->start);
                        in->end -= in->start;
                        in->start = 0;
                }
                if (in->cap - in->end < IN_CHUNK / 4) {
                        in->cap = in->cap ? in->cap * 2 : IN_CHUNK;
                        in->buf = xrealloc(in->buf, in->cap);
                }
        }
        do
                n = in->fill(in->ctx, in->buf + in->end, in->cap - in->end);
        while (n == -EINTR);
        if (n > 0)
                in->end += (size_t)n;
        return n;
}

static bool is_tchar(unsigned char c)
{
        return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static char *dup_n(const char *s, size_t n)
{
        char *d = xmalloc(n + 1);

        memcpy(d, s, n);
        d[n] = '\0';
        return d;
}

/* "GET /path HTTP/1.1" */
static int parse_request_line(const char *p, size_t n, struct http_head *h)
{
        const char *sp1 = memchr(p, ' ', n), *sp2;
        size_t mlen, tlen;

        if (sp1 == NULL)
                return -EPROTO;
        mlen = (size_t)(sp1 - p);
        sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
        if (sp2 == NULL || mlen == 0)
                return -EPROTO;
        tlen = (size_t)(sp2 - sp1 - 1);
        for (size_t i = 0; i < mlen; i++)
                if (!is_tchar((unsigned char)p[i]))
                        return -EPROTO;
        if (tlen == 0 || sp1[1] != '/')
                return -EPROTO;
        for (size_t i = 0; i < tlen; i++)
                if ((unsigned char)sp1[1 + i] <= ' ' || sp1[1 + i] == 0x7f)
                        return -EPROTO;
        if ((size_t)(p + n - (sp2 + 1)) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
            (sp2[8] != '0' && sp2[8] != '1'))
                return -EPROTO;
        h->method = dup_n(p, mlen);
        h->target = dup_n(sp1 + 1, tlen);
        h->minor = (unsigned)(sp2[8] - '0');
        return 0;
}

/* "Name: value" with optional whitespace around the value. */
static int parse_header(const char *p, size_t n, struct http_head *h)
{
        const char *colon = memchr(p, ':', n), *v, *end = p + n;

        if (colon == NULL || colon == p)
                return -EPROTO;
        for (const char *q = p; q < colon; q++)
                if (!is_tchar((unsigned char)*q))
                        return -EPROTO;
        v = colon + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        for (const char *q = v; q < end; q++)
                if (((unsigned char)*q < ' ' && *q != '\t') || *q == 0x7f)
                        return -EPROTO;
        http_kvs_add(&h->headers, p, (size_t)(colon - p), v, (size_t)(end - v));
        return 0;
}

/* Lines end in CRLF; a bare LF is accepted as Go's server does. */
static int parse_head(const char *p, size_t n, struct http_head *h)
{
        bool first = true;
        int r;

        while (n > 0) {
                const char *lf = memchr(p, '\n', n);
                size_t len = (size_t)(lf - p), next = len + 1;
                if (len > 0 && p[len - 1] == '\r')
                        len--;
                if (len == 0)
                        return first ? -EPROTO : 0;
                if (first)
                        r = parse_request_line(p, len, h);
                else if (*p == ' ' || *p == '\t')
                        r = -EPROTO;    /* obsolete folding */
                else
                        r = parse_header(p, len, h);
                if (r < 0)
                        return r;
                first = false;
                p += next;
                n -= next;
        }
        return -EPROTO;
}

/* The end of the head in buf[0, n): the offset after the blank line, or 0. */
static size_t head_end(const char *buf, size_t n, size_t from)
{
        for (size_t i = from; i < n; i++) {
                if (buf[i] != '\n')
                        continue;
                if (i + 1 < n && buf[i + 1] == '\n')
                        return i + 2;
                if (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n')
                        return i + 3;
        }
        return 0;
}

int http_read_head(struct http_in *in, struct http_head *h, size_t max)
{
        size_t scanned = 0, end;
        int r;

        memset(h, 0, sizeof(*h));
        /* empty lines before a request are allowed (RFC 9112 2.2) */
        for (;;) {
                while (in->start < in->end && (in->buf[in->start] == '\r' || in->buf[in->start] == '\n'))
                        in->start++;
                if (in->start < in->end)
                        break;
                ssize_t n = in_more(in);
                if (n <= 0)
                        return (int)n;
        }
        while ((end = head_end(in->buf + in->start, in->end - in->start, scanned)) == 0) {
                size_t have = in->end - in->start;
                if (have > max)
                        return -E2BIG;
                scanned = have > 2 ? have - 2 : 0;
                ssize_t n = in_more(in);
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0)
                        return (int)n;
        }
        if (end > max)
                return -E2BIG;
        r = parse_head(in->buf + in->start, end, h);
        in->start += end;
        if (r < 0)
                http_head_clear(h);
        return r < 0 ? r : 1;
}

void http_head_clear(struct http_head *h)
{
        free(h->method);
        free(h->target);
        http_kvs_clear(&h->headers);
        memset(h, 0, sizeof(*h));
}

static int parse_length(const char *s, uint64_t *out)
{
        uint64_t v = 0;

        if (*s == '\0')
                return -EPROTO;
        for (; *s; s++) {
                if (!isdigit((unsigned char)*s) || v > (UINT64_MAX - 9) / 10)
                        return -EPROTO;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *out = v;
        return 0;
}

int http_body_framing(const struct http_head *h, struct http_body_in *b)
{
        const char *te = NULL, *cl = NULL;

        memset(b, 0, sizeof(*b));
        for (size_t i = 0; i < h->headers.n; i++) {
                const struct http_kv *kv = &h->headers.v[i];
                if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
                        if (te)
                                return -EPROTO;
                        te = kv->value;
                } else if (strcasecmp(kv->key, "Content-Length") == 0) {
                        if (cl && strcmp(cl, kv->value) != 0)
                                return -EPROTO;
                        cl = kv->value;
                }
        }
        if (te) {
                if (cl || strcasecmp(te, "chunked") != 0)
                        return -EPROTO;
                b->chunked = true;
                return 0;
        }
        if (cl && parse_length(cl, &b->left) < 0)
                return -EPROTO;
        b->done = b->left == 0;
        return 0;
}

/* One line of at most max bytes, CRLF (or LF) removed, consumed. */
static int read_line(struct http_in *in, char *out, size_t max)
{
        for (;;) {
                char *lf = memchr(in->buf + in->start, '\n', in->end - in->start);
                if (lf) {
                        size_t len = (size_t)(lf - (in->buf + in->start));
                        size_t next = len + 1;
                        if (len > 0 && in->buf[in->start + len - 1] == '\r')
                                len--;
                        if (len >= max)
                                return -EPROTO;
                        memcpy(out, in->buf + in->start, len);
                        out[len] = '\0';
                        in->start += next;
                        return 0;
                }
                if (in->end - in->start >= max)
                        return -EPROTO;
                ssize_t n = in_more(in);
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0)
                        return (int)n;
        }
}

/* "1a2b;ext=1" */
static int parse_chunk_size(const char *line, uint64_t *out)
{
        uint64_t v = 0;
        const char *p = line;

        if (!isxdigit((unsigned char)*p))
                return -EPROTO;
        for (; isxdigit((unsigned char)*p); p++) {
                if (v > (UINT64_MAX >> 4))
                        return -EPROTO;
                v = (v << 4) | (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
        }
        while (*p == ' ' || *p == '\t')
                p++;
        if (*p != '\0' && *p != ';')
                return -EPROTO;
        *out = v;
        return 0;
}

/* Trailer fields after the last chunk: read and dropped. */
static int skip_trailers(struct http_in *in)
{
        char line[CHUNK_LINE_MAX];
        int r;

        for (int i = 0; i < 64; i++) {
                if ((r = read_line(in, line, sizeof(line))) < 0)
                        return r;
                if (line[0] == '\0')
                        return 0;
        }
        return -EPROTO;
}

/* At a chunk boundary: the next chunk's size, or the end. */
static int next_chunk(struct http_in *in, struct http_body_in *b)
{
        char line[CHUNK_LINE_MAX];
        int r;

        if ((r = read_line(in, line, sizeof(line))) < 0 || (r = parse_chunk_size(line, &b->left)) < 0)
                return r;
        if (b->left > 0) {
                b->in_chunk = true;
                return 0;
        }
        if ((r = skip_trailers(in)) < 0)
                return r;
        b->done = true;
        return 0;
}

static ssize_t take(struct http_in *in, struct http_body_in *b, char *buf, size_t len)
{
        size_t n;

        if (in->start == in->end) {
                ssize_t k = in_more(in);
                if (k == 0)
                        return -ECONNRESET;
                if (k < 0)
                        return k;
        }
        n = in->end - in->start;
        if (n > len)
                n = len;
        if (n > b->left)
                n = (size_t)b->left;
        memcpy(buf, in->buf + in->start, n);
        in->start += n;
        b->left -= n;
        return (ssize_t)n;
}

ssize_t http_read_body(struct http_in *in, struct http_body_in *b, char *buf, size_t len)
{
        int r;

        if (len == 0)
                return -EINVAL;
        while (!b->done) {
                if (!b->chunked) {
                        ssize_t n = take(in, b, buf, len);
                        if (n > 0 && b->left == 0)
                                b->done = true;
                        return n;
                }
                if (b->in_chunk) {
                        ssize_t n = take(in, b, buf, len);
                        if (n > 0 && b->left == 0) {
                                char crlf[4];
                                b->in_chunk = false;
                                /* the CRLF after the data */
                                if ((r = read_line(in, crlf, sizeof(crlf))) < 0)
                                        return r;
                                if (crlf[0] != '\0')
                                        return -EPROTO;
                        }
                        return n;
                }
                if ((r = next_chunk(in, b)) < 0)
                        return r;
        }
        return 0;
}

static int hexval(char c)
{
        if (isdigit((unsigned char)c))
                return c - '0';
        if (isxdigit((unsigned char)c))
                return tolower((unsigned char)c) - 'a' + 10;
        return -1;
}

/* %XX decoding (and '+' as space in queries).  A NUL byte is refused:
 * names with one would be cut short in C strings downstream. */
static char *decode(const char *s, size_t n, bool plus, bool *bad)
{
        char *out = xmalloc(n + 1);
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                        char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                        if (c == '\0')
                                *bad = true;
                        out[o++] = c;
                        i += 2;
                } else if (plus && s[i] == '+') {
                        out[o++] = ' ';
                } else {
                        out[o++] = s[i];
                }
        }
        out[o] = '\0';
        return out;
}

int http_decode_target(const char *target, char **path, struct http_kvs *query)
{
        const char *q = strchr(target, '?');
        size_t plen = q ? (size_t)(q - target) : strlen(target);
        bool bad = false;

        *path = decode(target, plen, false, &bad);
        if (bad) {
                free(steal_pointer(path));
                return -EPROTO;
        }
        if (q == NULL)
                return 0;
        /* "?a=1&b&c=" as Go's url.ParseQuery, without its ';' */
        for (const char *p = q + 1; *p;) {
                size_t len = strcspn(p, "&");
                const char *eq = memchr(p, '=', len);
                if (len > 0) {
                        size_t klen = eq ? (size_t)(eq - p) : len;
                        _cleanup_free_ char *k = decode(p, klen, true, &bad);
                        _cleanup_free_ char *v = eq ? decode(eq + 1, len - klen - 1, true, &bad) : xstrdup("");
                        http_kvs_add(query, k, strlen(k), v, strlen(v));
                }
                p += len;
                if (*p == '&')
                        p++;
        }
        if (bad) {
                free(steal_pointer(path));
                http_kvs_clear(query);
                return -EPROTO;
        }
        return 0;
}
