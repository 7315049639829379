/* The CLI's HTTP/1.1: the response parser on its own (every split of the
 * input gives the same result; malformed framing is refused; early EOF is
 * an error), the request head it writes, and the transport of cli-client.c
 * against a scripted daemon on a unix socket (one kept connection, stale
 * connections replaced, uploads sized and chunked, early answers, no
 * SIGPIPE, the async request on its own connection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cli/cli.h"
#include "cli/cli-http.h"

/* ---- the parser ---- */

struct got {
        char *body;
        size_t len;
        int fields;
        char *api;              /* the Api-Version field */
        bool refuse;            /* the data callback fails */
};

static int got_data(void *opaque, const char *d, size_t n, berth_error_t **err)
{
        struct got *g = opaque;

        if (g->refuse)
                return berth_error(err, 0, "sink refused");
        g->body = xrealloc(g->body, g->len + n + 1);
        memcpy(g->body + g->len, d, n);
        g->len += n;
        g->body[g->len] = '\0';
        return 0;
}

static int got_field(void *opaque, const char *name, size_t nlen, const char *v, size_t vlen, berth_error_t **err)
{
        struct got *g = opaque;

        (void)err;
        g->fields++;
        if (nlen == 11 && strncasecmp(name, "Api-Version", nlen) == 0) {
                free(g->api);
                g->api = xasprintf("%.*s", (int)vlen, v);
        }
        return 0;
}

static void got_free(struct got *g)
{
        free(g->body);
        free(g->api);
        memset(g, 0, sizeof(*g));
}

static void parser_start(struct http_parser *p, struct got *g, bool head)
{
        http_parser_init(p, head);
        p->on_data = got_data;
        p->on_field = got_field;
        p->opaque = g;
}

/* Feed s cut at the offsets in cuts (ascending), the way reads would hand
 * it over; stops when the response is done.  *used: bytes consumed. */
static int feed_cuts(struct http_parser *p, const char *s, size_t len, const size_t *cuts, size_t ncuts,
                     size_t *used, berth_error_t **err)
{
        size_t pos = 0;

        for (size_t k = 0; k <= ncuts; k++) {
                size_t end = k < ncuts ? cuts[k] : len;
                while (pos < end) {
                        ssize_t n = http_parse(p, s + pos, end - pos, err);
                        if (n < 0)
                                return -1;
                        pos += (size_t)n;
                        if (http_parser_done(p)) {
                                *used = pos;
                                return 0;
                        }
                        if (n == 0)
                                break;
                }
        }
        *used = pos;
        return 0;
}

static int feed(struct http_parser *p, const char *s, size_t *used, berth_error_t **err)
{
        return feed_cuts(p, s, strlen(s), NULL, 0, used, err);
}

/* Parse the whole of s (then EOF when eof); the error's message or NULL. */
static char *parse_error(const char *s, size_t len, bool eof)
{
        struct http_parser p;
        struct got g = { 0 };
        berth_error_t *err = NULL;
        size_t used;
        char *msg = NULL;

        parser_start(&p, &g, false);
        if (feed_cuts(&p, s, len, NULL, 0, &used, &err) < 0 || (eof && http_parse_eof(&p, &err) < 0)) {
                assert_non_null(err);
                assert_null(strchr(err->msg, '\n'));
                msg = xstrdup(err->msg);
        }
        berth_error_free(&err);
        got_free(&g);
        return msg;
}

static void refused(const char *s, const char *why)
{
        char *msg = parse_error(s, strlen(s), false);

        if (msg == NULL)
                fail_msg("accepted: %s", s);
        if (why && strstr(msg, why) == NULL)
                fail_msg("\"%s\": error \"%s\" does not say \"%s\"", s, msg, why);
        free(msg);
}

static const char chunked_resp[] =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Api-Version: 1.45\r\n"
        "\r\n"
        "5\r\nhello\r\n"
        "1;last=\"no\"\r\n \r\n"
        "0A ; a=b ;c\r\n0123456789\r\n"
        "0000C\r\nabcdefghijkl\r\n"
        "0\r\n"
        "X-Trailer: t\r\n"
        "\r\n";
static const char chunked_body[] = "hello 0123456789abcdefghijkl";

/* Every way of cutting the response in three: the same body, status and
 * fields, and the parser consumes exactly the response. */
static void chunked_any_split(void **state)
{
        size_t len = strlen(chunked_resp);

        (void)state;
        for (size_t i = 0; i <= len; i++) {
                for (size_t j = i; j <= len; j++) {
                        struct http_parser p;
                        struct got g = { 0 };
                        berth_error_t *err = NULL;
                        size_t cuts[2] = { i, j }, used = 0;

                        parser_start(&p, &g, false);
                        assert_int_equal(feed_cuts(&p, chunked_resp, len, cuts, 2, &used, &err), 0);
                        assert_true(http_parser_done(&p));
                        assert_int_equal(used, len);
                        assert_int_equal(p.status, 200);
                        assert_true(p.chunked);
                        assert_true(p.keep_alive);
                        assert_int_equal(g.fields, 3);
                        assert_string_equal(g.api, "1.45");
                        assert_int_equal(g.len, strlen(chunked_body));
                        assert_memory_equal(g.body, chunked_body, g.len);
                        got_free(&g);
                }
        }
}

static void chunked_byte_by_byte(void **state)
{
        struct http_parser p;
        struct got g = { 0 };
        berth_error_t *err = NULL;
        size_t len = strlen(chunked_resp);

        (void)state;
        parser_start(&p, &g, false);
        for (size_t i = 0; i < len; i++) {
                ssize_t n;
                do
                        n = http_parse(&p, chunked_resp + i, 1, &err);
                while (n == 0 && !http_parser_done(&p));
                assert_int_equal(n, 1);
        }
        assert_true(http_parser_done(&p));
        assert_string_equal(g.body, chunked_body);
        got_free(&g);
}

static void chunk_extensions_and_sizes(void **state)
{
        (void)state;
        static const char *ok[] = {
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3\t;x=\"a;b\"\r\nabc\r\n0;end\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n000\r\n\r\n",
        };
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                char *msg = parse_error(ok[i], strlen(ok[i]), true);
                if (msg)
                        fail_msg("refused %s: %s", ok[i], msg);
        }
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n", "chunk size");
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\nabc\r\n0\r\n\r\n", "chunk size");
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", "chunk size");
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a\x01\r\nabc\r\n0\r\n\r\n", "chunk size");
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", "too large");
        /* the CRLF after a chunk's data is required, exactly */
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", "CRLF");
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", "CRLF");
        /* trailers are header lines, checked as such */
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n folded\r\n\r\n", "folded");
}

static void odd_headers_refused(void **state)
{
        (void)state;
        refused("HTTP/1.1 200 OK\r\nX-A: 1\r\n continued\r\nContent-Length: 0\r\n\r\n", "folded");
        refused("HTTP/1.1 200 OK\r\nX-A: 1\r\n\tcontinued\r\n\r\n", "folded");
        refused("HTTP/1.1 200 OK\r\n Content-Length: 0\r\n\r\n", "folded");
        refused("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", "bad header line");
        refused("HTTP/1.1 200 OK\r\nBad Name: 0\r\n\r\n", "bad header line");
        refused("HTTP/1.1 200 OK\r\n: value\r\n\r\n", "bad header line");
        refused("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "bad header line");
        refused("HTTP/1.1 200 OK\r\nX-A: a\x7f\r\n\r\n", "control character");
        refused("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", "stray CR");
        /* what frames the body must be unambiguous */
        refused("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "conflicting");
        refused("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc", "Content-Length");
        refused("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", "Content-Length");
        refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length");
        refused("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "Content-Length");
        refused("HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\n", "Content-Length");
        refused("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "both");
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "Transfer-Encoding");
        refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                "Transfer-Encoding");
        /* status lines */
        refused("HTTP/2 200 OK\r\n\r\n", "status line");
        refused("HTTP/1.1 20 OK\r\n\r\n", "status line");
        refused("HTTP/1.1 2000 OK\r\n\r\n", "status line");
        refused("HTTP/1.1 600 Odd\r\n\r\n", "status line");
        refused("HTTP/1.1 099 Odd\r\n\r\n", "status line");
        refused("ICY 200 OK\r\n\r\n", "status line");
        refused("\r\nHTTP/1.1 200 OK\r\n\r\n", "status line");
        refused("HTTP/1.1 200 O\x01K\r\n\r\n", "status line");
        /* a reason phrase is optional, its space too */
        char *msg = parse_error("HTTP/1.1 204\r\n\r\n", 16, true);
        assert_null(msg);
        msg = parse_error("HTTP/1.1 204 \r\n\r\n", 17, true);
        assert_null(msg);
}

static void huge_heads_refused(void **state)
{
        _cleanup_free_ char *line = xmalloc(HTTP_LINE_MAX + 64);
        _cleanup_free_ char *many = NULL;
        struct http_parser p;
        struct got g = { 0 };
        berth_error_t *err = NULL;
        size_t used;

        (void)state;
        /* one line just too long: refused before its end arrives */
        snprintf(line, HTTP_LINE_MAX + 64, "HTTP/1.1 200 OK\r\nX-Big: %0*d", HTTP_LINE_MAX, 0);
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, line, &used, &err), -1);
        assert_non_null(strstr(err->msg, "longer than"));
        berth_error_free(&err);
        /* the longest line allowed passes */
        snprintf(line, HTTP_LINE_MAX + 64, "HTTP/1.1 200 OK\r\nX-Big: %0*d\r\nContent-Length: 0\r\n\r\n",
                 HTTP_LINE_MAX - 9, 0);
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, line, &used, &err), 0);
        assert_true(http_parser_done(&p));
        /* many lines of fair size: the head as a whole is bounded */
        many = xstrdup("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 20; i++) {
                char *m = xasprintf("%sX-%d: %0*d\r\n", many, i, 4000, 0);
                free(many);
                many = m;
        }
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, many, &used, &err), -1);
        assert_non_null(strstr(err->msg, "head larger"));
        berth_error_free(&err);
        /* and so is the number of fields */
        free(many);
        many = xstrdup("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < HTTP_FIELDS_MAX + 1; i++) {
                char *m = xasprintf("%sX: %d\r\n", many, i);
                free(many);
                many = m;
        }
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, many, &used, &err), -1);
        assert_non_null(strstr(err->msg, "header fields"));
        berth_error_free(&err);
        /* an endless stream of interim answers too */
        free(many);
        many = xstrdup("");
        for (int i = 0; i < 5000; i++) {
                char *m = xasprintf("%sHTTP/1.1 100 Continue\r\n\r\n", many);
                free(many);
                many = m;
        }
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, many, &used, &err), -1);
        berth_error_free(&err);
        got_free(&g);
}

static void missing_crlf_refused(void **state)
{
        (void)state;
        refused("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "CRLF");
        refused("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", "CRLF");
        refused("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", "CRLF");
        refused("HTTP/1.1 200 OK\r\nContent-Length: 0\r\r\n\r\n", "stray CR");
}

/* A response cut short is an error once the peer closes, never a hang nor
 * a success; a body that runs until the close is complete then. */
static void early_eof(void **state)
{
        static const struct {
                const char *s;
                const char *why;
        } cut[] = {
                { "", "without a response" },
                { "HTTP/1.1 200 OK\r\nContent-Le", "headers" },
                { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", "headers" },
                { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", "2 bytes before the end" },
                { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "chunked" },
                { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "chunked" },
                { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n", "chunked" },
                { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", "chunked" },
                { "HTTP/1.1 100 Continue\r\n\r\n", "headers" },
        };

        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(cut); i++) {
                char *msg = parse_error(cut[i].s, strlen(cut[i].s), true);
                if (msg == NULL)
                        fail_msg("EOF after \"%s\" accepted", cut[i].s);
                if (strstr(msg, cut[i].why) == NULL)
                        fail_msg("EOF after \"%s\": \"%s\"", cut[i].s, msg);
                free(msg);
        }

        struct http_parser p;
        struct got g = { 0 };
        berth_error_t *err = NULL;
        size_t used;
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, "HTTP/1.0 200 OK\r\n\r\nuntil", &used, &err), 0);
        assert_false(http_parser_done(&p));
        assert_int_equal(feed(&p, " the end", &used, &err), 0);
        assert_int_equal(http_parse_eof(&p, &err), 0);
        assert_true(http_parser_done(&p));
        assert_false(p.keep_alive);
        assert_string_equal(g.body, "until the end");
        got_free(&g);
}

/* Responses back to back on one connection: each parser takes exactly its
 * own; what decides whether the connection can carry the next. */
static void keep_alive_reuse(void **state)
{
        static const char two[] =
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
                "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n"
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, Close\r\n\r\nthree";
        static const struct {
                int status;
                const char *body;
                bool keep;
        } want[] = { { 200, "one", true }, { 404, "two", true }, { 204, "", true }, { 200, "three", false } };
        size_t off = 0, len = strlen(two);

        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                struct http_parser p;
                struct got g = { 0 };
                berth_error_t *err = NULL;
                size_t used;

                parser_start(&p, &g, false);
                assert_int_equal(feed_cuts(&p, two + off, len - off, NULL, 0, &used, &err), 0);
                assert_true(http_parser_done(&p));
                assert_int_equal(p.status, want[i].status);
                assert_string_equal(g.body ? g.body : "", want[i].body);
                assert_int_equal(p.keep_alive, want[i].keep);
                off += used;
                got_free(&g);
        }
        assert_int_equal(off, len);

        /* HTTP/1.0 and a body until the close never keep the connection */
        struct http_parser p;
        struct got g = { 0 };
        berth_error_t *err = NULL;
        size_t used;
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &used, &err), 0);
        assert_true(http_parser_done(&p));
        assert_false(p.keep_alive);
        got_free(&g);
}

static void no_body_responses(void **state)
{
        struct http_parser p;
        struct got g = { 0 };
        berth_error_t *err = NULL;
        size_t used;
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nApi-Version: 1.41\r\n\r\n";
        static const char up[] = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                                 "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x02hi";
        static const char interim[] = "HTTP/1.1 100 Continue\r\nX-Ignored: 1\r\n\r\n"
                                      "HTTP/1.1 102 Processing\r\n\r\n"
                                      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

        (void)state;
        /* HEAD: Content-Length says what a GET would get */
        parser_start(&p, &g, true);
        assert_int_equal(feed(&p, head, &used, &err), 0);
        assert_true(http_parser_done(&p));
        assert_true(p.keep_alive);
        assert_int_equal(used, strlen(head));
        assert_string_equal(g.api, "1.41");
        assert_null(g.body);
        got_free(&g);
        /* 304 */
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", &used, &err), 0);
        assert_true(http_parser_done(&p));
        got_free(&g);
        /* 101: the head, then the raw stream is the caller's */
        parser_start(&p, &g, false);
        assert_int_equal(feed_cuts(&p, up, sizeof(up) - 1, NULL, 0, &used, &err), 0);
        assert_true(http_parser_done(&p));
        assert_int_equal(p.status, 101);
        assert_false(p.keep_alive);
        assert_int_equal(sizeof(up) - 1 - used, 10);
        got_free(&g);
        /* interim 1xx answers are skipped, their fields unseen */
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, interim, &used, &err), 0);
        assert_true(http_parser_done(&p));
        assert_int_equal(p.status, 200);
        assert_int_equal(g.fields, 1);
        assert_string_equal(g.body, "ok");
        got_free(&g);
}

static void sink_refusal_stops(void **state)
{
        struct http_parser p;
        struct got g = { .refuse = true };
        berth_error_t *err = NULL;
        size_t used;

        (void)state;
        parser_start(&p, &g, false);
        assert_int_equal(feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", &used, &err), -1);
        assert_string_equal(err->msg, "sink refused");
        berth_error_free(&err);
        /* and it stays failed */
        assert_int_equal(http_parse(&p, "x", 1, &err), -1);
        assert_int_equal(http_parse_eof(&p, &err), -1);
        berth_error_free(&err);
        got_free(&g);
}

static void request_heads(void **state)
{
        berth_error_t *err = NULL;
        const char *extra[] = { "X-Registry-Auth: e30=", NULL };
        struct http_request_head h = {
                .method = "POST", .target = "/v1.45/containers/create?name=a", .host = "api.moby.localhost",
                .user_agent = "Berth-Client/1 (linux)", .content_type = "application/json",
                .content_length = 2, .headers = extra,
        };
        size_t len;
        char *s;

        (void)state;
        s = http_request_format(&h, &len, &err);
        assert_non_null(s);
        assert_string_equal(s, "POST /v1.45/containers/create?name=a HTTP/1.1\r\n"
                               "Host: api.moby.localhost\r\n"
                               "User-Agent: Berth-Client/1 (linux)\r\n"
                               "Content-Length: 2\r\n"
                               "Content-Type: application/json\r\n"
                               "X-Registry-Auth: e30=\r\n"
                               "\r\n");
        assert_int_equal(len, strlen(s));
        free(s);
        h.content_length = HTTP_CHUNKED;
        h.content_type = NULL;
        h.headers = NULL;
        s = http_request_format(&h, &len, &err);
        assert_non_null(strstr(s, "\r\nTransfer-Encoding: chunked\r\n"));
        assert_null(strstr(s, "Content-Type"));
        free(s);
        /* nothing that would break the framing goes out */
        const char *evil[] = { "X-A: a\r\nX-B: b", NULL };
        h.headers = evil;
        assert_null(http_request_format(&h, &len, &err));
        berth_error_free(&err);
        const char *nocolon[] = { "X-A", NULL };
        h.headers = nocolon;
        assert_null(http_request_format(&h, &len, &err));
        berth_error_free(&err);
        h.headers = NULL;
        h.target = "/a b";
        assert_null(http_request_format(&h, &len, &err));
        berth_error_free(&err);
        h.target = "/a\r\nX: y";
        assert_null(http_request_format(&h, &len, &err));
        berth_error_free(&err);
        h.target = "/a";
        h.method = "GE T";
        assert_null(http_request_format(&h, &len, &err));
        berth_error_free(&err);

        char buf[24];
        assert_int_equal(http_chunk_header(buf, 65536), 7);
        assert_string_equal(buf, "10000\r\n");
}

/* ---- the transport against a scripted daemon ---- */

enum fake_mode {
        FAKE_PLAIN,             /* Content-Length answers, the connection kept */
        FAKE_CHUNKED_DRIP,      /* chunked answers written in awkward pieces */
        FAKE_CLOSE_AFTER,       /* closes after every answer, without saying so */
        FAKE_DROP_SECOND,       /* closes unanswered the second request on a connection */
        FAKE_TRUNCATE,          /* answers with less body than it announced, then closes */
        FAKE_EARLY_ERROR,       /* refuses an upload before reading it, and closes */
        FAKE_OLD_API,           /* pings with Api-Version 1.41 */
};

#define FAKE_MAX_REQ 32
#define FAKE_MAX_CONN 32

struct fake {
        char dir[64];
        char path[96];
        int lfd;
        pthread_t thread;
        enum fake_mode mode;
        pthread_mutex_t lock;
        int connections;
        pthread_t conn_threads[FAKE_MAX_CONN];
        int nreq;
        char *heads[FAKE_MAX_REQ];      /* the request heads, in order */
        size_t body_len[FAKE_MAX_REQ];
        unsigned long body_sum[FAKE_MAX_REQ];
        bool body_chunked[FAKE_MAX_REQ];
};

static bool read_byte(int fd, char *c)
{
        ssize_t n;

        do
                n = read(fd, c, 1);
        while (n < 0 && errno == EINTR);
        return n == 1;
}

static bool read_line(int fd, char *line, size_t cap)
{
        size_t n = 0;
        char c;

        while (n + 1 < cap && read_byte(fd, &c)) {
                line[n++] = c;
                if (c == '\n')
                        break;
        }
        line[n] = '\0';
        return n > 0 && line[n - 1] == '\n';
}

static void put(int fd, const char *s, size_t n)
{
        (void)send_all(fd, s, n);
}

static void puts_(int fd, const char *s)
{
        put(fd, s, strlen(s));
}

/* One request read (the body decoded and summed); false at EOF. */
static bool fake_read_request(struct fake *f, int fd, int *idx)
{
        char line[8192], head[16384] = "";
        long long clen = 0;
        bool chunked = false;
        size_t blen = 0;
        unsigned long sum = 0;
        char c;

        for (;;) {
                if (!read_line(fd, line, sizeof(line)))
                        return false;
                strncat(head, line, sizeof(head) - strlen(head) - 1);
                if (strcmp(line, "\r\n") == 0)
                        break;
                if (strncasecmp(line, "Content-Length:", 15) == 0)
                        clen = atoll(line + 15);
                if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked"))
                        chunked = true;
        }
        if (f->mode == FAKE_EARLY_ERROR && strncmp(head, "HEAD", 4) != 0) {
                clen = 0;       /* not reading it */
                chunked = false;
        }
        if (chunked) {
                for (;;) {
                        long long size;
                        if (!read_line(fd, line, sizeof(line)))
                                return false;
                        size = strtoll(line, NULL, 16);
                        for (long long i = 0; i < size; i++) {
                                if (!read_byte(fd, &c))
                                        return false;
                                sum = sum * 31 + (unsigned char)c;
                                blen++;
                        }
                        if (!read_line(fd, line, sizeof(line)))
                                return false;
                        if (size == 0)
                                break;
                }
        } else {
                for (long long i = 0; i < clen; i++) {
                        if (!read_byte(fd, &c))
                                return false;
                        sum = sum * 31 + (unsigned char)c;
                        blen++;
                }
        }
        pthread_mutex_lock(&f->lock);
        *idx = f->nreq;
        if (f->nreq < FAKE_MAX_REQ) {
                f->heads[f->nreq] = xstrdup(head);
                f->body_len[f->nreq] = blen;
                f->body_sum[f->nreq] = sum;
                f->body_chunked[f->nreq] = chunked;
                f->nreq++;
        }
        pthread_mutex_unlock(&f->lock);
        return true;
}

/* The answer; false to close the connection after it. */
static bool fake_answer(struct fake *f, int fd, int idx, int on_conn)
{
        const char *head;
        char body[128];
        bool is_head, ping;

        pthread_mutex_lock(&f->lock);
        head = idx < FAKE_MAX_REQ ? f->heads[idx] : "";
        is_head = strncmp(head, "HEAD ", 5) == 0;
        ping = strstr(head, "/_ping HTTP/1.1") != NULL;
        snprintf(body, sizeof(body), "{\"n\":%d,\"len\":%zu}", idx, idx < FAKE_MAX_REQ ? f->body_len[idx] : 0);
        pthread_mutex_unlock(&f->lock);

        if (ping) {
                char *r = xasprintf("HTTP/1.1 200 OK\r\nApi-Version: %s\r\nContent-Length: 2\r\n\r\n%s",
                                    f->mode == FAKE_OLD_API ? "1.41" : "1.99", is_head ? "" : "OK");
                puts_(fd, r);
                free(r);
                return f->mode != FAKE_CLOSE_AFTER;
        }
        if (f->mode == FAKE_DROP_SECOND && on_conn == 1)
                return false;
        if (f->mode == FAKE_TRUNCATE) {
                puts_(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
                return false;
        }
        if (f->mode == FAKE_EARLY_ERROR) {
                puts_(fd, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n"
                          "Content-Length: 26\r\n\r\n{\"message\":\"no thank you\"}");
                return false;
        }
        if (f->mode == FAKE_CHUNKED_DRIP) {
                /* the pieces cut through the chunk-size lines and CRLFs */
                char *r = xasprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Docker-Container-Path-Stat: e30=\r\n\r\n"
                                    "%zx;ext=1\r\n%s\r\n1\r\n\n\r\n0\r\n\r\n", strlen(body), body);
                size_t len = strlen(r), cuts[] = { 5, 17, 60, 61, 62, 90, 91, 96, 100, 101, 103, len - 3, len - 1, len };
                size_t pos = 0;
                for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
                        size_t end = cuts[i] < len ? cuts[i] : len;
                        if (end > pos) {
                                put(fd, r + pos, end - pos);
                                pos = end;
                                usleep(2000);
                        }
                }
                free(r);
                return true;
        }
        char *r = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Docker-Container-Path-Stat: e30=\r\n"
                            "Content-Length: %zu\r\n\r\n%s", is_head ? 0 : strlen(body), is_head ? "" : body);
        puts_(fd, r);
        free(r);
        return f->mode != FAKE_CLOSE_AFTER;
}

struct fake_conn {
        struct fake *f;
        int fd;
};

static void *fake_conn_main(void *opaque)
{
        struct fake_conn *fc = opaque;
        int idx, on_conn = 0;

        while (fake_read_request(fc->f, fc->fd, &idx) && fake_answer(fc->f, fc->fd, idx, on_conn++))
                ;
        close(fc->fd);
        free(fc);
        return NULL;
}

/* Accepts, a thread per connection (the async request holds one open
 * beside the plain calls' one). */
static void *fake_main(void *opaque)
{
        struct fake *f = opaque;

        for (;;) {
                int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
                struct fake_conn *fc;
                if (fd < 0) {
                        if (errno == EINTR)
                                continue;
                        return NULL;    /* shut down */
                }
                fc = xmalloc(sizeof(*fc));
                fc->f = f;
                fc->fd = fd;
                pthread_mutex_lock(&f->lock);
                if (f->connections < FAKE_MAX_CONN &&
                    pthread_create(&f->conn_threads[f->connections], NULL, fake_conn_main, fc) == 0) {
                        f->connections++;
                } else {
                        close(fd);
                        free(fc);
                }
                pthread_mutex_unlock(&f->lock);
        }
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        memset(f, 0, sizeof(*f));
        f->mode = mode;
        pthread_mutex_init(&f->lock, NULL);
        snprintf(f->dir, sizeof(f->dir), "/tmp/berth-unit-http-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(f->lfd >= 0);
        assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(f->lfd, 8), 0);
        assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
        /* the client's connections are closed by now: their threads end */
        shutdown(f->lfd, SHUT_RDWR);
        pthread_join(f->thread, NULL);
        for (int i = 0; i < f->connections; i++)
                pthread_join(f->conn_threads[i], NULL);
        close(f->lfd);
        unlink(f->path);
        rmdir(f->dir);
        pthread_mutex_destroy(&f->lock);
}

/* After the checks of what the daemon got. */
static void fake_free(struct fake *f)
{
        for (int i = 0; i < f->nreq && i < FAKE_MAX_REQ; i++)
                free(f->heads[i]);
}

static void client_init(struct cli *c, struct fake *f)
{
        _cleanup_free_ char *host = xasprintf("unix://%s", f->path);
        berth_error_t *err = NULL;

        assert_int_equal(cli_init(c, host, &err), 0);
}

static int fake_connections(struct fake *f)
{
        int n;

        pthread_mutex_lock(&f->lock);
        n = f->connections;
        pthread_mutex_unlock(&f->lock);
        return n;
}

/* ping, then calls one after the other: one connection carries them all,
 * with the headers docker's client sends. */
static void client_keep_alive(void **state)
{
        struct fake f;
        struct cli c;
        berth_error_t *err = NULL;

        (void)state;
        alarm(20);
        fake_start(&f, FAKE_PLAIN);
        client_init(&c, &f);
        for (int i = 0; i < 5; i++) {
                _cleanup_response_ struct cli_response resp = { 0 };
                assert_int_equal(cli_call(&c, i % 2 ? "POST" : "GET", "/containers/json", NULL, &resp, &err), 0);
                assert_int_equal(resp.status, 200);
                assert_non_null(strstr(resp.body, "\"n\":"));
        }
        _cleanup_response_ struct cli_response resp = { 0 };
        assert_int_equal(cli_call(&c, "POST", "/containers/create", "{\"Image\":\"x\"}", &resp, &err), 0);
        assert_non_null(strstr(resp.body, "\"len\":13"));
        assert_int_equal(fake_connections(&f), 1);
        /* the daemon offered more than we speak: our maximum */
        assert_string_equal(c.api_version, CLI_API_MAX);
        cli_fini(&c);
        fake_stop(&f);

        assert_int_equal(f.nreq, 7);
        assert_true(str_has_prefix(f.heads[0], "HEAD /_ping HTTP/1.1\r\n"));
        assert_true(str_has_prefix(f.heads[1], "GET /v" CLI_API_MAX "/containers/json HTTP/1.1\r\n"));
        for (int i = 0; i < f.nreq; i++) {
                assert_non_null(strstr(f.heads[i], "\r\nHost: api.moby.localhost\r\n"));
                assert_non_null(strstr(f.heads[i], "\r\nUser-Agent: Berth-Client/" BERTH_VERSION " (linux)\r\n"));
                assert_null(strstr(f.heads[i], "Expect:"));
        }
        /* a bodyless POST: an empty body said so, no Content-Type */
        assert_true(str_has_prefix(f.heads[2], "POST "));
        assert_non_null(strstr(f.heads[2], "\r\nContent-Length: 0\r\n"));
        assert_null(strstr(f.heads[2], "Content-Type"));
        assert_null(strstr(f.heads[1], "Content-Length"));
        /* a JSON body is labelled so */
        assert_non_null(strstr(f.heads[6], "\r\nContent-Type: application/json\r\n"));
        assert_non_null(strstr(f.heads[6], "\r\nContent-Length: 13\r\n"));
        fake_free(&f);
        alarm(0);
}

static void client_api_negotiation(void **state)
{
        struct fake f;
        struct cli c;
        berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };

        (void)state;
        alarm(20);
        fake_start(&f, FAKE_OLD_API);
        client_init(&c, &f);
        assert_int_equal(cli_call(&c, "GET", "/info", NULL, &resp, &err), 0);
        assert_string_equal(c.api_version, "1.41");
        assert_string_equal(c.daemon_api, "1.41");
        assert_true(cli_api_at_least(&c, 1, 41));
        assert_false(cli_api_at_least(&c, 1, 42));
        cli_fini(&c);
        fake_stop(&f);
        assert_true(str_has_prefix(f.heads[1], "GET /v1.41/info HTTP/1.1\r\n"));
        fake_free(&f);
        alarm(0);
}

/* Chunked answers trickling in pieces; a header captured; the sink gets
 * the body. */
static int collect_sink(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        struct got *g = opaque;
        return got_data(g, data, len, err);
}

static void client_chunked_stream(void **state)
{
        struct fake f;
        struct cli c;
        berth_error_t *err = NULL;
        struct got g = { 0 };

        (void)state;
        alarm(20);
        fake_start(&f, FAKE_CHUNKED_DRIP);
        client_init(&c, &f);
        assert_int_equal(cli_call_stream(&c, "GET", "/events", NULL, collect_sink, &g, &err), 0);
        assert_string_equal(g.body, "{\"n\":1,\"len\":0}\n");
        got_free(&g);
        _cleanup_response_ struct cli_response resp = { 0 };
        struct cli_req r = { .method = "GET", .path = "/containers/x/archive?path=/", .capture = "x-docker-container-path-stat" };
        assert_int_equal(cli_request(&c, &r, &resp, &err), 0);
        assert_string_equal(r.captured, "e30=");
        assert_string_equal(resp.body, "{\"n\":2,\"len\":0}\n");
        free(r.captured);
        assert_int_equal(fake_connections(&f), 1);
        cli_fini(&c);
        fake_stop(&f);
        fake_free(&f);
        alarm(0);
}

/* A daemon that closes its end between calls: the next call notices and
 * uses a new connection; one that drops a request unanswered on a kept
 * connection has it sent again. */
static void client_stale_connection(void **state)
{
        enum fake_mode modes[] = { FAKE_CLOSE_AFTER, FAKE_DROP_SECOND };

        (void)state;
        alarm(20);
        for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
                struct fake f;
                struct cli c;
                berth_error_t *err = NULL;

                fake_start(&f, modes[m]);
                client_init(&c, &f);
                for (int i = 0; i < 4; i++) {
                        _cleanup_response_ struct cli_response resp = { 0 };
                        if (cli_call(&c, "GET", "/info", NULL, &resp, &err) < 0)
                                fail_msg("mode %d call %d: %s", modes[m], i, err->msg);
                        assert_int_equal(resp.status, 200);
                }
                cli_fini(&c);
                fake_stop(&f);
                fake_free(&f);
        }
        alarm(0);
}

/* A response cut short is an error, promptly, never a hang. */
static void client_truncated(void **state)
{
        struct fake f;
        struct cli c;
        berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };

        (void)state;
        alarm(20);
        fake_start(&f, FAKE_TRUNCATE);
        client_init(&c, &f);
        assert_true(cli_call(&c, "GET", "/info", NULL, &resp, &err) < 0);
        assert_non_null(strstr(err->msg, "error during connect"));
        assert_non_null(strstr(err->msg, "90 bytes before the end"));
        berth_error_free(&err);
        cli_fini(&c);
        fake_stop(&f);
        fake_free(&f);
        alarm(0);
}

static FILE *pattern_file(size_t size, unsigned long *sum)
{
        FILE *fp = tmpfile();

        *sum = 0;
        assert_non_null(fp);
        for (size_t i = 0; i < size; i++) {
                unsigned char ch = (unsigned char)(i * 7 + i / 251);
                fputc(ch, fp);
                *sum = *sum * 31 + ch;
        }
        rewind(fp);
        return fp;
}

/* Uploads: with a known size, Content-Length; unknown, chunked; the daemon
 * gets every byte. */
static void client_uploads(void **state)
{
        struct fake f;
        struct cli c;
        berth_error_t *err = NULL;
        size_t size = 300000;
        unsigned long sum;
        FILE *fp;

        (void)state;
        alarm(20);
        fake_start(&f, FAKE_PLAIN);
        client_init(&c, &f);
        fp = pattern_file(size, &sum);
        _cleanup_response_ struct cli_response r1 = { 0 };
        assert_int_equal(cli_call_upload(&c, "/images/load", "application/x-tar", fp, (long long)size, &r1, &err), 0);
        rewind(fp);
        _cleanup_response_ struct cli_response r2 = { 0 };
        struct cli_req r = { .method = "PUT", .path = "/containers/x/archive?path=/", .upload = fp,
                             .upload_size = -1, .content_type = "text/plain" };
        assert_int_equal(cli_request_ok(&c, &r, &r2, &err), 0);
        /* a file shorter than announced is an error, not a hang */
        rewind(fp);
        _cleanup_response_ struct cli_response r3 = { 0 };
        assert_true(cli_call_upload(&c, "/images/load", "application/x-tar", fp, (long long)size + 10, &r3, &err) < 0);
        assert_non_null(strstr(err->msg, "10 bytes short"));
        berth_error_free(&err);
        fclose(fp);
        cli_fini(&c);
        fake_stop(&f);

        assert_int_equal(f.body_len[1], size);
        assert_int_equal(f.body_sum[1], sum);
        assert_false(f.body_chunked[1]);
        assert_non_null(strstr(f.heads[1], "\r\nContent-Length: 300000\r\nContent-Type: application/x-tar\r\n"));
        assert_true(str_has_prefix(f.heads[1], "POST /v" CLI_API_MAX "/images/load HTTP/1.1\r\n"));
        assert_int_equal(f.body_len[2], size);
        assert_int_equal(f.body_sum[2], sum);
        assert_true(f.body_chunked[2]);
        assert_true(str_has_prefix(f.heads[2], "PUT "));
        assert_non_null(strstr(f.heads[2], "\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"));
        fake_free(&f);
        alarm(0);
}

/* The daemon answers an upload with an error before reading it and
 * closes: the answer is reported, and no SIGPIPE kills us meanwhile. */
static void client_early_answer_no_sigpipe(void **state)
{
        struct fake f;
        struct cli c;
        berth_error_t *err = NULL;
        size_t size = 8 << 20;
        unsigned long sum;
        FILE *fp;

        (void)state;
        alarm(20);
        signal(SIGPIPE, SIG_DFL);
        fake_start(&f, FAKE_EARLY_ERROR);
        client_init(&c, &f);
        fp = pattern_file(size, &sum);
        for (int chunked = 0; chunked < 2; chunked++) {
                _cleanup_response_ struct cli_response resp = { 0 };
                rewind(fp);
                assert_true(cli_call_upload(&c, "/images/load", "application/x-tar", fp,
                                            chunked ? -1 : (long long)size, &resp, &err) < 0);
                assert_string_equal(err->msg, "Error response from daemon: no thank you");
                berth_error_free(&err);
        }
        fclose(fp);
        cli_fini(&c);
        fake_stop(&f);
        fake_free(&f);
        alarm(0);
}

/* The async request has its own connection: plain calls go on beside it. */
static void client_async(void **state)
{
        struct fake f;
        struct cli c;
        berth_error_t *err = NULL;
        struct cli_async a = { 0 };
        _cleanup_response_ struct cli_response resp = { 0 };
        struct pollfd pfd[1];
        int pipefd[2];

        (void)state;
        alarm(20);
        fake_start(&f, FAKE_PLAIN);
        client_init(&c, &f);
        assert_int_equal(cli_async_start(&c, &a, "POST", "/containers/x/wait", &err), 0);
        assert_true(a.headers_done);
        for (int i = 0; i < 3; i++) {
                _cleanup_response_ struct cli_response r = { 0 };
                assert_int_equal(cli_call(&c, "GET", "/containers/x/json", NULL, &r, &err), 0);
        }
        /* extra fds come back with their revents */
        assert_int_equal(pipe(pipefd), 0);
        assert_int_equal(write(pipefd[1], "x", 1), 1);
        pfd[0] = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
        assert_int_equal(cli_async_poll(&a, pfd, 1, 1000, &err), 0);
        assert_true(pfd[0].revents & POLLIN);
        close(pipefd[0]);
        close(pipefd[1]);
        assert_int_equal(cli_async_finish(&a, &resp, &err), 0);
        assert_int_equal(resp.status, 200);
        assert_non_null(strstr(resp.body, "\"len\":0"));
        cli_async_free(&a);
        assert_int_equal(fake_connections(&f), 2);
        cli_fini(&c);
        fake_stop(&f);
        assert_true(str_has_prefix(f.heads[1], "POST /v" CLI_API_MAX "/containers/x/wait HTTP/1.1\r\n"));
        /* an async that never started is freed as it is */
        struct cli_async none = { 0 };
        cli_async_free(&none);
        fake_free(&f);
        alarm(0);
}

static void client_cannot_connect(void **state)
{
        struct cli c;
        berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };

        (void)state;
        assert_int_equal(cli_init(&c, "unix:///nonexistent/berth.sock", &err), 0);
        assert_true(cli_call(&c, "GET", "/info", NULL, &resp, &err) < 0);
        assert_string_equal(err->msg, "Cannot connect to the Berth daemon at unix:///nonexistent/berth.sock. Is berthd running?");
        berth_error_free(&err);
        cli_fini(&c);
        assert_true(cli_init(&c, "tcp://127.0.0.1:2375", &err) < 0);
        assert_non_null(strstr(err->msg, "only unix:// sockets are supported"));
        berth_error_free(&err);
        cli_fini(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(chunked_any_split),
                cmocka_unit_test(chunked_byte_by_byte),
                cmocka_unit_test(chunk_extensions_and_sizes),
                cmocka_unit_test(odd_headers_refused),
                cmocka_unit_test(huge_heads_refused),
                cmocka_unit_test(missing_crlf_refused),
                cmocka_unit_test(early_eof),
                cmocka_unit_test(keep_alive_reuse),
                cmocka_unit_test(no_body_responses),
                cmocka_unit_test(sink_refusal_stops),
                cmocka_unit_test(request_heads),
                cmocka_unit_test(client_keep_alive),
                cmocka_unit_test(client_api_negotiation),
                cmocka_unit_test(client_chunked_stream),
                cmocka_unit_test(client_stale_connection),
                cmocka_unit_test(client_truncated),
                cmocka_unit_test(client_uploads),
                cmocka_unit_test(client_early_answer_no_sigpipe),
                cmocka_unit_test(client_async),
                cmocka_unit_test(client_cannot_connect),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
