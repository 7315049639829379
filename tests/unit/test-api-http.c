/* The API's HTTP layer: the pure parsers with hostile input, then a real
 * server on a temporary unix socket, driven by libcurl for plain requests
 * and by raw sockets where the bytes and their timing matter (streams,
 * disconnects, hijacked connections, half-closes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "api/http-internal.h"
#include "api/http.h"
#include "util/util.h"

#define TIMEOUT_MS 5000
#define BIG_UPLOAD (16u << 20)

struct fixture {
        char dir[64];
        char sock[96];
        struct http_server *srv;
        sem_t go;               /* the test lets a handler go on */
        sem_t reached;          /* a handler tells the test where it is */
        atomic_long count;
        atomic_int seen;        /* what a handler observed */
        int fds;                /* open before the server: none may leak */
};

static int count_fds(void)
{
        int n = 0;
        DIR *d = opendir("/proc/self/fd");

        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* ---- pure parsers ------------------------------------------------------- */

/* ---- request parsing (http-in.c), fed from memory in small pieces ------ */

struct mem_feed {
        const char *data;
        size_t len, off, piece;
};

static ssize_t mem_fill(void *ctx, void *buf, size_t len)
{
        struct mem_feed *m = ctx;
        size_t n = m->len - m->off;

        if (n > m->piece)
                n = m->piece;
        if (n > len)
                n = len;
        memcpy(buf, m->data + m->off, n);
        m->off += n;
        return (ssize_t)n;
}

/* The body of the one request in text, read in every piece size from 1
 * byte up: the framing must not care how the bytes arrive. */
static char *parse_one(const char *text, int *status)
{
        char *out = NULL;

        for (size_t piece = 1; piece <= 7; piece++) {
                struct mem_feed m = { text, strlen(text), 0, piece };
                struct http_in in;
                struct http_head h;
                struct http_body_in b;
                char buf[3], acc[4096];
                size_t alen = 0;
                ssize_t n = 0;
                int r;

                http_in_init(&in, mem_fill, &m);
                r = http_read_head(&in, &h, 4096);
                if (r == 1 && (r = http_body_framing(&h, &b)) == 0) {
                        while ((n = http_read_body(&in, &b, buf, sizeof(buf))) > 0) {
                                memcpy(acc + alen, buf, (size_t)n);
                                alen += (size_t)n;
                        }
                        r = (int)n;
                }
                if (r == 1 || r == 0) {
                        acc[alen] = '\0';
                        if (out)
                                assert_string_equal(out, acc);
                        else
                                out = xstrdup(acc);
                }
                if (piece > 1)
                        assert_int_equal(*status, r);
                *status = r;
                http_head_clear(&h);
                http_in_free(&in);
        }
        return out;
}

static void test_request_parsing(void **state)
{
        int st;
        char *body;

        (void)state;
        body = parse_one("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &st);
        assert_int_equal(st, 0);
        assert_string_equal(body, "hello");
        free(body);
        /* chunk extensions, upper-case hex, trailers */
        body = parse_one("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3;name=v\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n", &st);
        assert_int_equal(st, 0);
        assert_string_equal(body, "abc0123456789");
        free(body);
        /* bare LF line ends, as Go accepts */
        body = parse_one("GET /x HTTP/1.0\nHost: y\n\n", &st);
        assert_int_equal(st, 0);
        free(body);
        /* request smuggling: both framings, or two different lengths */
        free(parse_one("POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        /* malformed chunks */
        free(parse_one("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n", &st));
        assert_int_equal(st, -EPROTO);
        /* a body cut short, and a head cut short */
        free(parse_one("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", &st));
        assert_int_equal(st, -ECONNRESET);
        free(parse_one("GET /x HTTP/1.1\r\nHost", &st));
        assert_int_equal(st, -ECONNRESET);
        /* heads: folding, space before the colon, bad versions and targets */
        free(parse_one("GET /x HTTP/1.1\r\nA: b\r\n c\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("GET /x HTTP/1.1\r\nA : b\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("GET /x HTTP/2.0\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("GET x HTTP/1.1\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("GET /x\x01 HTTP/1.1\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
        free(parse_one("GET /x HTTP/1.1\r\nA: b\x7f\r\n\r\n", &st));
        assert_int_equal(st, -EPROTO);
}

static void test_request_targets(void **state)
{
        struct http_kvs q = { 0 };
        char *path = NULL;

        (void)state;
        assert_int_equal(http_decode_target("/images/a%2Fb/json?x=a+b%2Bc&all&e=&f=%zz", &path, &q), 0);
        assert_string_equal(path, "/images/a/b/json");
        assert_string_equal(http_kvs_get(&q, "x", false), "a b+c");
        assert_string_equal(http_kvs_get(&q, "all", false), "");
        assert_string_equal(http_kvs_get(&q, "e", false), "");
        assert_string_equal(http_kvs_get(&q, "f", false), "%zz");
        free(path);
        http_kvs_clear(&q);
        /* '+' is a space only in the query */
        assert_int_equal(http_decode_target("/a+b", &path, &q), 0);
        assert_string_equal(path, "/a+b");
        free(path);
        /* NUL bytes would cut names short downstream */
        assert_int_equal(http_decode_target("/a%00b", &path, &q), -EPROTO);
        assert_int_equal(http_decode_target("/a?x=%00", &path, &q), -EPROTO);
        assert_int_equal(q.n, 0);
}

static void test_split_version(void **state)
{
        struct http_api_version v;
        const char *rest;
        char vs[8];

        (void)state;
        assert_true(http_split_version("/v1.41/containers/json", &v, &rest, vs, sizeof(vs)));
        assert_int_equal(v.major, 1);
        assert_int_equal(v.minor, 41);
        assert_string_equal(rest, "/containers/json");
        assert_string_equal(vs, "1.41");
        assert_true(http_split_version("/v1.41", &v, &rest, vs, sizeof(vs)));
        assert_string_equal(rest, "");
        assert_false(http_split_version("/version", &v, &rest, vs, sizeof(vs)));
        assert_string_equal(rest, "/version");
        assert_false(http_split_version("/v1.4x/_ping", &v, &rest, vs, sizeof(vs)));
        assert_false(http_split_version("/v/_ping", &v, &rest, vs, sizeof(vs)));
        assert_false(http_split_version("", &v, &rest, vs, sizeof(vs)));
        assert_false(http_split_version("/", &v, &rest, vs, sizeof(vs)));
        assert_false(http_split_version("v1.41/x", &v, &rest, vs, sizeof(vs)));
        /* gorilla's [0-9.]+ takes these; they then compare as 0.0 */
        assert_true(http_split_version("/v./x", &v, &rest, vs, sizeof(vs)));
        assert_int_equal(v.major, 0);
        assert_int_equal(v.minor, 0);
        assert_true(http_split_version("/v1..2/x", &v, &rest, vs, sizeof(vs)));
        assert_int_equal(v.minor, 0);
        /* saturates instead of wrapping, and the message text is cut */
        assert_true(http_split_version("/v99999999999999999999.1/x", &v, &rest, vs, sizeof(vs)));
        assert_int_equal(v.major, 999999);
        assert_int_equal(strlen(vs), sizeof(vs) - 1);
        assert_true(http_split_version("/v1.2.3.4/x", &v, &rest, vs, sizeof(vs)));
        assert_int_equal(v.major, 1);
        assert_int_equal(v.minor, 2);
}

static void test_parse_version_and_bool(void **state)
{
        struct http_api_version a, b;

        (void)state;
        assert_true(http_parse_version("1.45", &a));
        assert_true(http_parse_version("1.9", &b));
        assert_true(http_version_compare(&b, &a) < 0);
        assert_false(http_parse_version("1", &a));
        assert_false(http_parse_version("1.", &a));
        assert_false(http_parse_version(".1", &a));
        assert_false(http_parse_version("1.45x", &a));
        assert_false(http_parse_version("1.2.3", &a));
        assert_false(http_parse_version("1234567.1", &a));
        assert_true(http_parse_bool("1"));
        assert_true(http_parse_bool("true"));
        assert_true(http_parse_bool("yes"));
        assert_false(http_parse_bool(NULL));
        assert_false(http_parse_bool(""));
        assert_false(http_parse_bool(" 0 "));
        assert_false(http_parse_bool("FALSE"));
        assert_false(http_parse_bool("None"));
        assert_false(http_parse_bool("no"));
}

static void test_patterns(void **state)
{
        struct http_seg *segs = NULL;
        struct http_kvs kv = { 0 };
        size_t n = 0;
        static const char *const bad[] = { "", "x", "/a//b", "/{}", "/{a", "/a}", "/{a-b}", "/x{a}",
                                           "/{*}", "/{a*}/{b*}", "/a/" };

        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(http_pattern_parse(bad[i], &segs, &n), -EINVAL);

        assert_int_equal(http_pattern_parse("/containers/{id}/start", &segs, &n), 0);
        assert_true(http_pattern_match(segs, n, "/containers/abc/start", &kv));
        assert_string_equal(http_kvs_get(&kv, "id", false), "abc");
        http_kvs_clear(&kv);
        assert_false(http_pattern_match(segs, n, "/containers//start", &kv));
        assert_false(http_pattern_match(segs, n, "/containers/a/b/start", &kv));
        assert_false(http_pattern_match(segs, n, "/containers/abc/start/", &kv));
        assert_false(http_pattern_match(segs, n, "containers/abc/start", &kv));
        assert_false(http_pattern_match(segs, n, "", &kv));
        assert_int_equal(kv.n, 0);
        http_segs_free(segs, n);

        assert_int_equal(http_pattern_parse("/images/{name*}/push", &segs, &n), 0);
        assert_true(http_pattern_match(segs, n, "/images/127.0.0.1:5000/a/b/push", &kv));
        assert_string_equal(http_kvs_get(&kv, "name", false), "127.0.0.1:5000/a/b");
        http_kvs_clear(&kv);
        assert_true(http_pattern_match(segs, n, "/images/push/push", &kv));
        assert_string_equal(http_kvs_get(&kv, "name", false), "push");
        http_kvs_clear(&kv);
        assert_false(http_pattern_match(segs, n, "/images/push", &kv));
        assert_false(http_pattern_match(segs, n, "/images//push", &kv));
        http_segs_free(segs, n);

        assert_int_equal(http_pattern_parse("/images/{name*}", &segs, &n), 0);
        assert_true(http_pattern_match(segs, n, "/images/a//b", &kv));
        assert_string_equal(http_kvs_get(&kv, "name", false), "a//b");
        http_kvs_clear(&kv);
        http_segs_free(segs, n);
}

/* ---- clients ------------------------------------------------------------ */

static int dial(const struct fixture *f)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        strcpy(sa.sun_path, f->sock);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

static void send_str(int fd, const char *s, size_t n)
{
        assert_int_equal(write_all(fd, s, n), 0);
}
#define SEND_LIT(fd, lit) send_str(fd, lit, sizeof(lit) - 1)

/* 0 at EOF, -ETIMEDOUT when nothing came in time. */
static ssize_t read_timeout(int fd, char *buf, size_t n, int ms)
{
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t k;

        if (poll(&p, 1, ms) == 0)
                return -ETIMEDOUT;
        k = read(fd, buf, n);
        return k < 0 ? -errno : k;
}

/* The response head up to the blank line; what followed in *rest. */
static char *read_head(int fd, char **rest, size_t *rest_len)
{
        char *buf = xmalloc(65536), *end;
        size_t len = 0;

        for (;;) {
                ssize_t k = read_timeout(fd, buf + len, 65535 - len, TIMEOUT_MS);
                if (k <= 0) {
                        free(buf);
                        return NULL;
                }
                len += (size_t)k;
                buf[len] = '\0';
                end = strstr(buf, "\r\n\r\n");
                if (end)
                        break;
        }
        end += 4;
        *rest_len = len - (size_t)(end - buf);
        *rest = xmalloc(*rest_len + 1);
        memcpy(*rest, end, *rest_len);
        (*rest)[*rest_len] = '\0';
        *end = '\0';
        return buf;
}

/* Append everything up to EOF to *buf. */
static void read_to_eof(int fd, char **buf, size_t *len)
{
        char tmp[65536];
        ssize_t k;

        while ((k = read_timeout(fd, tmp, sizeof(tmp), TIMEOUT_MS)) > 0) {
                *buf = xrealloc(*buf, *len + (size_t)k + 1);
                memcpy(*buf + *len, tmp, (size_t)k);
                *len += (size_t)k;
                (*buf)[*len] = '\0';
        }
        assert_int_equal(k, 0);
}

struct resp {
        long status;
        char *body, *head;
        size_t len, hlen;
};

struct sink {
        char *buf;
        size_t len;
};

static size_t collect_cb(char *p, size_t sz, size_t n, void *ud)
{
        struct sink *k = ud;
        size_t add = sz * n;

        k->buf = xrealloc(k->buf, k->len + add + 1);
        memcpy(k->buf + k->len, p, add);
        k->len += add;
        k->buf[k->len] = '\0';
        return add;
}

static void curl_req(struct fixture *f, const char *method, const char *path, const char *body,
                     struct resp *r)
{
        _cleanup_free_ char *url = xasprintf("http://localhost%s", path);
        struct sink b = { 0 }, h = { 0 };
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        CURL *c = curl_easy_init();

        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, f->sock);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        if (strcmp(method, "HEAD") == 0)
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body)
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        r->body = b.buf ? b.buf : xstrdup("");
        r->len = b.len;
        r->head = h.buf ? h.buf : xstrdup("");
        r->hlen = h.len;
}

static void resp_free(struct resp *r)
{
        free(r->body);
        free(r->head);
}

static void assert_has(const char *hay, const char *needle)
{
        if (strstr(hay, needle) == NULL)
                fail_msg("\"%s\" not in:\n%s", needle, hay);
}

/* Decode a complete chunked body; fails unless it ends with 0 CRLF CRLF. */
static char *dechunk(const char *in, size_t *out_len)
{
        char *out = xmalloc(strlen(in) + 1);
        size_t o = 0;

        for (;;) {
                char *end;
                unsigned long n = strtoul(in, &end, 16);
                assert_true(end != in && end[0] == '\r' && end[1] == '\n');
                in = end + 2;
                if (n == 0) {
                        assert_string_equal(in, "\r\n");
                        break;
                }
                memcpy(out + o, in, n);
                o += n;
                in += n;
                assert_true(in[0] == '\r' && in[1] == '\n');
                in += 2;
        }
        out[o] = '\0';
        *out_len = o;
        return out;
}

static bool sem_wait_ms(sem_t *s, int ms)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
        }
        while (sem_timedwait(s, &ts) < 0)
                if (errno != EINTR)
                        return false;
        return true;
}

/* ---- handlers ----------------------------------------------------------- */

static int h_echo_params(struct http_request *req, void *data, berth_error_t **err)
{
        unsigned major, minor;

        (void)data;
        (void)err;
        http_version(req, &major, &minor);
        return http_reply_json(req, 200, json_pack("{s:s, s:s?, s:s?, s:b, s:s?, s:s?, s:s, s:i, s:i, s:s?}",
                                                   "path", http_path(req),
                                                   "id", http_param(req, "id"),
                                                   "name", http_param(req, "name"),
                                                   "all", http_query_bool(req, "all"),
                                                   "filters", http_query(req, "filters"),
                                                   "x", http_query(req, "x"),
                                                   "method", http_method(req),
                                                   "major", (int)major, "minor", (int)minor,
                                                   "ua", http_header(req, "user-agent")));
}

static int h_echo_body(struct http_request *req, void *data, berth_error_t **err)
{
        json_t *j = NULL;

        (void)data;
        if (http_body_json(req, &j, err) < 0)
                return -1;
        if (j == NULL)
                return http_reply_empty(req, 204);
        http_reply_header(req, "X-Echo", "yes");
        return http_reply_json(req, 201, j);
}

static int h_not_found(struct http_request *req, void *data, berth_error_t **err)
{
        (void)data;
        return http_errorf(err, ENOENT, "No such container: %s", http_param(req, "id"));
}

static int h_no_reply(struct http_request *req, void *data, berth_error_t **err)
{
        (void)req;
        (void)data;
        (void)err;
        return 0;
}

/* Reads the body in pieces; tells the test after the first MiB, so the
 * test can hold the rest back until then: proof it was not buffered. */
static int h_upload(struct http_request *req, void *data, berth_error_t **err)
{
        struct fixture *f = data;
        static char buf[65536];
        unsigned long sum = 0;
        size_t total = 0;
        bool told = false;
        ssize_t n;

        (void)err;
        while ((n = http_body_read(req, buf, sizeof(buf))) > 0) {
                for (ssize_t i = 0; i < n; i++)
                        sum += (unsigned char)buf[i];
                total += (size_t)n;
                if (!told && total >= (1u << 20)) {
                        told = true;
                        sem_post(&f->reached);
                }
        }
        f->seen = (int)n;
        f->count = (long)total;
        if (n < 0) {
                sem_post(&f->reached);
                return http_reply_error(req, 400, "upload cut short");
        }
        return http_reply_json(req, 200, json_pack("{s:I, s:I}", "bytes", (json_int_t)total,
                                                   "sum", (json_int_t)sum));
}

/* Headers out, then waits for the test before writing anything. */
static int h_stream(struct http_request *req, void *data, berth_error_t **err)
{
        struct fixture *f = data;
        struct http_stream *s;

        (void)err;
        if (http_reply_stream(req, 200, "application/json", &s) < 0)
                return -1;
        if (!sem_wait_ms(&f->go, TIMEOUT_MS))
                return 0;
        http_stream_json(s, json_pack("{s:s}", "status", "one"));
        http_stream_json_lf(s, json_pack("{s:i}", "StatusCode", 0));
        http_stream_close(s);
        return 0;
}

/* Blocks on the cancel fd only, as a wait handler would. */
static int h_wait_cancel(struct http_request *req, void *data, berth_error_t **err)
{
        struct fixture *f = data;
        struct http_stream *s;
        struct pollfd p = { http_request_cancel_fd(req), POLLIN, 0 };

        (void)err;
        if (http_reply_stream(req, 200, "application/json", &s) < 0)
                return -1;
        sem_post(&f->reached);
        f->seen = poll(&p, 1, TIMEOUT_MS * 2) == 1 && http_request_cancelled(req) ? 1 : -1;
        sem_post(&f->reached);
        return 0;
}

/* Writes until a write fails, as logs -f would. */
static int h_write_until_gone(struct http_request *req, void *data, berth_error_t **err)
{
        struct fixture *f = data;
        struct http_stream *s;
        char line[1024];
        int r = 0;

        (void)err;
        memset(line, 'x', sizeof(line));
        if (http_reply_stream(req, 200, "text/plain", &s) < 0)
                return -1;
        sem_post(&f->reached);
        for (int i = 0; i < 100000 && r == 0; i++) {
                r = http_stream_write(s, line, sizeof(line));
                usleep(100);
        }
        f->seen = r;
        sem_post(&f->reached);
        return 0;
}

/* Refuses at once without reading the body it streams. */
static int h_refuse_upload(struct http_request *req, void *data, berth_error_t **err)
{
        (void)data;
        (void)err;
        return http_reply_error(req, 400, "refused");
}

/* Replies only after the client is gone, then writes far more than a
 * socket buffer holds: each write must fail, none may block. */
static int h_late(struct http_request *req, void *data, berth_error_t **err)
{
        struct fixture *f = data;
        struct pollfd p = { http_request_cancel_fd(req), POLLIN, 0 };
        static char buf[65536];
        struct http_stream *s;
        int r;

        (void)err;
        poll(&p, 1, TIMEOUT_MS);
        usleep(100000);
        r = http_reply_stream(req, 200, "text/plain", &s);
        for (int i = 0; i < 64 && r == 0; i++)
                r = http_stream_write(s, buf, sizeof(buf));
        f->seen = r;
        sem_post(&f->reached);
        return 0;
}

/* Echoes what it reads, uppercased; after the client's half-close it
 * still writes "bye" and ends. */
static int hijack_echo(struct http_hijack *h, void *data)
{
        struct fixture *f = data;
        char buf[4096];
        ssize_t n;

        while ((n = http_hijack_read(h, buf, sizeof(buf))) > 0) {
                for (ssize_t i = 0; i < n; i++)
                        buf[i] = (char)toupper((unsigned char)buf[i]);
                if (http_hijack_write(h, buf, (size_t)n) < 0)
                        return -1;
        }
        f->seen = h->upgraded ? 1 : 2;
        if (http_hijack_write(h, "bye\n", 4) < 0)
                return -1;
        return http_hijack_close_write(h);
}

static int h_attach(struct http_request *req, void *data, berth_error_t **err)
{
        (void)err;
        return http_reply_hijack(req, "application/vnd.docker.raw-stream", hijack_echo, data);
}

/* Parks in the hijack until the server stops. */
static int hijack_park(struct http_hijack *h, void *data)
{
        struct fixture *f = data;
        char buf[64];

        sem_post(&f->reached);
        while (http_hijack_read(h, buf, sizeof(buf)) > 0)
                ;
        return 0;
}

static int h_park(struct http_request *req, void *data, berth_error_t **err)
{
        (void)err;
        return http_reply_hijack(req, "application/vnd.docker.multiplexed-stream", hijack_park, data);
}

/* ---- fixture ------------------------------------------------------------ */

static int setup_opts(void **state, size_t max_body)
{
        struct fixture *f = xcalloc(1, sizeof(*f));
        berth_error_t *err = NULL;
        struct http_server_opts o = { .max_body = max_body };

        f->fds = count_fds();
        strcpy(f->dir, "/tmp/berth-http-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->sock, sizeof(f->sock), "%s/api.sock", f->dir);
        o.unix_path = f->sock;
        sem_init(&f->go, 0, 0);
        sem_init(&f->reached, 0, 0);
        if (http_server_new(&o, &f->srv, &err) < 0)
                fail_msg("server: %s", err->msg);
        http_route_ping(f->srv);
        http_route(f->srv, "GET", "/containers/{id}/json", h_echo_params, f);
        http_route(f->srv, "GET", "/images/{name*}/json", h_echo_params, f);
        http_route(f->srv, "POST", "/echo", h_echo_body, f);
        http_route(f->srv, "DELETE", "/containers/{id}", h_not_found, f);
        http_route(f->srv, "GET", "/noreply", h_no_reply, f);
        http_route_flags(f->srv, "POST", "/images/load", HTTP_ROUTE_STREAM_BODY, h_upload, f);
        http_route_flags(f->srv, "POST", "/build", HTTP_ROUTE_STREAM_BODY, h_refuse_upload, f);
        http_route(f->srv, "GET", "/late", h_late, f);
        http_route(f->srv, "GET", "/stream", h_stream, f);
        http_route(f->srv, "POST", "/containers/{id}/wait", h_wait_cancel, f);
        http_route(f->srv, "GET", "/containers/{id}/logs", h_write_until_gone, f);
        http_route(f->srv, "POST", "/containers/{id}/attach", h_attach, f);
        http_route(f->srv, "POST", "/exec/{id}/start", h_park, f);
        if (http_server_start(f->srv, &err) < 0)
                fail_msg("start: %s", err->msg);
        *state = f;
        return 0;
}

static int setup(void **state) { return setup_opts(state, 0); }
static int setup_small(void **state) { return setup_opts(state, 1u << 20); }

static int teardown(void **state)
{
        struct fixture *f = *state;

        http_server_free(f->srv);
        assert_int_equal(count_fds(), f->fds);
        assert_int_equal(access(f->sock, F_OK), -1);
        rmdir(f->dir);
        sem_destroy(&f->go);
        sem_destroy(&f->reached);
        free(f);
        return 0;
}

/* ---- requests ----------------------------------------------------------- */

/* Two requests in one write, the second chunked with a trailer: both
 * answered, in order, on the same connection. */
static void test_pipelined_and_chunked(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head;
        size_t rest_len = 0;
        int fd = dial(f);

        SEND_LIT(fd, "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "4;x=y\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nT: 1\r\n\r\n");
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "HTTP/1.1 200 OK\r\n");
        while (rest_len < 2) {
                rest = xrealloc(rest, 64);
                ssize_t k = read_timeout(fd, rest + rest_len, 2 - rest_len, TIMEOUT_MS);
                assert_true(k > 0);
                rest_len += (size_t)k;
        }
        assert_memory_equal(rest, "OK", 2);
        /* the second response may have come in the same read */
        if (rest_len > 2) {
                assert_memory_equal(rest + 2, "HTTP/1.1 201", 12);
        } else {
                free(head);
                free(rest);
                head = read_head(fd, &rest, &rest_len);
                assert_non_null(head);
                assert_has(head, "HTTP/1.1 201 Created\r\n");
                assert_has(head, "X-Echo: yes\r\n");
        }
        free(head);
        free(rest);
        close(fd);
}

/* Smuggling attempts and broken heads: a plain 400 and the connection
 * closes, without a handler; the server goes on serving others. */
static void test_bad_requests(void **state)
{
        static const char *const bad[] = {
                "POST /echo HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nnope\r\n",
                "GET /x HTTP/1.1\r\nBad Header: v\r\n\r\n",
                "garbage\r\n\r\n",
                "GET /a%00b HTTP/1.1\r\n\r\n",
        };
        struct fixture *f = *state;
        struct resp r = { 0 };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char *out = NULL;
                size_t len = 0;
                int fd = dial(f);
                send_str(fd, bad[i], strlen(bad[i]));
                read_to_eof(fd, &out, &len);
                assert_non_null(out);
                assert_has(out, "HTTP/1.1 400 Bad Request\r\n");
                assert_has(out, "Connection: close\r\n");
                free(out);
                close(fd);
        }
        curl_req(f, "GET", "/_ping", NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
}

/* A head beyond the limit is 431, not an ever-growing buffer. */
static void test_head_too_large(void **state)
{
        struct fixture *f = *state;
        size_t n = 300 * 1024;
        char *big = xmalloc(n + 64), *out = NULL;
        size_t len = 0;
        int fd = dial(f);

        memcpy(big, "GET /_ping HTTP/1.1\r\nX-Big: ", 29);
        memset(big + 29, 'a', n);
        memcpy(big + 29 + n, "\r\n\r\n", 4);
        (void)write_all(fd, big, 29 + n + 4);   /* the server may close before it read all */
        read_to_eof(fd, &out, &len);
        assert_non_null(out);
        assert_has(out, "HTTP/1.1 431 ");
        free(out);
        free(big);
        close(fd);
}

/* Expect: 100-continue gets its interim answer before the body is sent. */
static void test_expect_continue(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head;
        size_t rest_len = 0;
        int fd = dial(f);

        SEND_LIT(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n");
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "HTTP/1.1 100 Continue\r\n");
        assert_int_equal(rest_len, 0);
        free(head);
        free(rest);
        SEND_LIT(fd, "{\"b\":2}");
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "HTTP/1.1 201 Created\r\n");
        free(head);
        free(rest);
        close(fd);
}

static void test_socket_mode(void **state)
{
        struct fixture *f = *state;
        struct stat st;

        assert_int_equal(stat(f->sock, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0660);
}

static void test_live_socket_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct http_server_opts o = { .unix_path = f->sock };
        struct http_server *s = NULL;
        _cleanup_free_ char *file = xasprintf("%s/file", f->dir);

        assert_true(http_server_new(&o, &s, &err) < 0);
        assert_has(err->msg, "another daemon is listening");
        assert_int_equal(write_file(file, "x", 1, NULL), 0);
        o.unix_path = file;
        assert_true(http_server_new(&o, &s, &err) < 0);
        assert_has(err->msg, "not a socket");
        unlink(file);
        o.unix_path = NULL;
        o.api_version = "1.20";
        assert_true(http_server_new(&o, &s, &err) < 0);
}

/* A socket handed over already listening (socket activation). */
static void test_listen_fd(void **state)
{
        struct fixture *f = *state, g = { 0 };
        berth_error_t *err = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct http_server_opts o = { .use_listen_fd = true };
        struct resp r = { 0 };

        snprintf(g.sock, sizeof(g.sock), "%s/activated.sock", f->dir);
        strcpy(sa.sun_path, g.sock);
        o.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(o.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(o.listen_fd, 8), 0);
        if (http_server_new(&o, &g.srv, &err) < 0)
                fail_msg("server: %s", err->msg);
        http_route_ping(g.srv);
        assert_int_equal(http_server_start(g.srv, &err), 0);
        curl_req(&g, "GET", "/v1.44/_ping", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "OK");
        resp_free(&r);
        http_server_free(g.srv);
        unlink(g.sock);
}

static void test_params_query_version(void **state)
{
        struct fixture *f = *state;
        struct resp r = { 0 };
        json_t *j;

        curl_req(f, "GET", "/v1.41/containers/abc/json?all=1&filters=%7B%22name%22%3A%7B%22d1%22%3Atrue%7D%7D&x=a+b%2Bc",
                 NULL, &r);
        assert_int_equal(r.status, 200);
        assert_has(r.head, "Content-Type: application/json");
        assert_has(r.head, "Api-Version: 1.45");
        assert_has(r.head, "Ostype: linux");
        assert_has(r.head, "Docker-Experimental: false");
        assert_has(r.head, "Server: Berth/" BERTH_VERSION " (linux)");
        assert_true(r.len > 0 && r.body[r.len - 1] == '\n');
        j = json_loads(r.body, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "path")), "/containers/abc/json");
        assert_string_equal(json_string_value(json_object_get(j, "id")), "abc");
        assert_true(json_is_true(json_object_get(j, "all")));
        assert_string_equal(json_string_value(json_object_get(j, "filters")), "{\"name\":{\"d1\":true}}");
        assert_string_equal(json_string_value(json_object_get(j, "x")), "a b+c");
        assert_int_equal(json_integer_value(json_object_get(j, "major")), 1);
        assert_int_equal(json_integer_value(json_object_get(j, "minor")), 41);
        assert_non_null(json_object_get(j, "ua"));
        json_decref(j);
        resp_free(&r);

        /* unversioned: the server's version; image names keep their slashes */
        curl_req(f, "GET", "/images/127.0.0.1:5000/app/json?all=0", NULL, &r);
        assert_int_equal(r.status, 200);
        j = json_loads(r.body, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(j, "name")), "127.0.0.1:5000/app");
        assert_true(json_is_false(json_object_get(j, "all")));
        assert_int_equal(json_integer_value(json_object_get(j, "minor")), 45);
        json_decref(j);
        resp_free(&r);
}

static void test_not_found_and_versions(void **state)
{
        struct fixture *f = *state;
        struct resp r = { 0 };

        curl_req(f, "GET", "/nonexistent", NULL, &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.body, "{\"message\":\"page not found\"}\n");
        assert_has(r.head, "Content-Type: application/json");
        assert_has(r.head, "Api-Version: 1.45");
        resp_free(&r);
        /* a known path with another method is also 404, as dockerd */
        curl_req(f, "POST", "/containers/abc/json", NULL, &r);
        assert_int_equal(r.status, 404);
        resp_free(&r);
        curl_req(f, "GET", "/v1.99/containers/abc/json", NULL, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(r.body, "{\"message\":\"client version 1.99 is too new. "
                                    "Maximum supported API version is 1.45\"}\n");
        resp_free(&r);
        curl_req(f, "GET", "/v1.12/_ping", NULL, &r);
        assert_int_equal(r.status, 400);
        assert_has(r.body, "client version 1.12 is too old. Minimum supported API version is 1.24");
        resp_free(&r);
        curl_req(f, "GET", "/v1.99/nope", NULL, &r);
        assert_int_equal(r.status, 404);
        resp_free(&r);
}

static void test_errors_from_handlers(void **state)
{
        struct fixture *f = *state;
        struct resp r = { 0 };

        curl_req(f, "DELETE", "/containers/zz%C3%A9", NULL, &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.body, "{\"message\":\"No such container: zz\xc3\xa9\"}\n");
        resp_free(&r);
        /* not UTF-8: still valid JSON */
        curl_req(f, "DELETE", "/containers/a%FFb", NULL, &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.body, "{\"message\":\"No such container: a?b\"}\n");
        resp_free(&r);
        curl_req(f, "GET", "/noreply", NULL, &r);
        assert_int_equal(r.status, 500);
        resp_free(&r);
}

static void test_json_body(void **state)
{
        struct fixture *f = *state;
        struct resp r = { 0 };

        curl_req(f, "POST", "/v1.41/echo", "{\"Image\":\"busybox\",\"Cmd\":[\"sh\"]}", &r);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.body, "{\"Image\":\"busybox\",\"Cmd\":[\"sh\"]}\n");
        assert_has(r.head, "X-Echo: yes");
        resp_free(&r);
        curl_req(f, "POST", "/echo", "{\"Image\":", &r);
        assert_int_equal(r.status, 400);
        assert_has(r.body, "invalid JSON");
        resp_free(&r);
        curl_req(f, "POST", "/echo", NULL, &r);
        assert_int_equal(r.status, 204);
        assert_int_equal(r.len, 0);
        resp_free(&r);
}

static void test_body_too_large(void **state)
{
        struct fixture *f = *state;
        struct resp r = { 0 };
        char *big = xmalloc((2u << 20) + 1);

        memset(big, ' ', 2u << 20);
        big[2u << 20] = '\0';
        curl_req(f, "POST", "/echo", big, &r);
        assert_int_equal(r.status, 413);
        assert_has(r.body, "request body larger than");
        resp_free(&r);
        free(big);
}

static void test_ping(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head;
        size_t rest_len = 0;
        struct resp r = { 0 };
        int fd = dial(f);
        static const char req[] = "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\n"
                                  "User-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n";

        send_str(fd, req, sizeof(req) - 1);
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "HTTP/1.1 200 OK\r\n");
        assert_has(head, "Api-Version: 1.45\r\n");
        assert_has(head, "Ostype: linux\r\n");
        assert_has(head, "Docker-Experimental: false\r\n");
        assert_has(head, "Cache-Control: no-cache, no-store, must-revalidate\r\n");
        assert_has(head, "Pragma: no-cache\r\n");
        assert_has(head, "Content-Length: 0\r\n");
        assert_has(head, "Content-Type: text/plain; charset=utf-8\r\n");
        assert_int_equal(rest_len, 0);
        free(head);
        free(rest);
        /* the same connection serves the next request */
        SEND_LIT(fd, "GET /v1.41/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "Content-Length: 2\r\n");
        if (rest_len < 2) {
                ssize_t k = read_timeout(fd, rest + rest_len, 1, TIMEOUT_MS);
                assert_true(k > 0);
                rest_len += (size_t)k;
        }
        assert_memory_equal(rest, "OK", 2);
        free(head);
        free(rest);
        close(fd);

        curl_req(f, "GET", "/_ping", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "OK");
        resp_free(&r);
}

/* The test holds the second half back until the handler has read the
 * first MiB: a layer that buffered the body would deadlock here. */
static void test_streamed_upload(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head, *chunk = xmalloc(65536 + 16);
        size_t rest_len = 0, sent = 0;
        unsigned long sum = 0;
        int fd = dial(f);
        static const char req[] = "POST /v1.41/images/load?quiet=1 HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n";
        _cleanup_free_ char *expect = NULL;

        send_str(fd, req, sizeof(req) - 1);
        while (sent < BIG_UPLOAD) {
                int hl = sprintf(chunk, "%x\r\n", 65536);
                for (size_t i = 0; i < 65536; i++) {
                        chunk[hl + i] = (char)((sent + i) * 7);
                        sum += (unsigned char)chunk[hl + i];
                }
                memcpy(chunk + hl + 65536, "\r\n", 2);
                send_str(fd, chunk, (size_t)hl + 65536 + 2);
                sent += 65536;
                if (sent == (2u << 20))
                        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        }
        SEND_LIT(fd, "0\r\n\r\n");
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "HTTP/1.1 200 OK");
        expect = xasprintf("{\"bytes\":%u,\"sum\":%lu}\n", BIG_UPLOAD, sum);
        while (rest_len < strlen(expect)) {
                rest = xrealloc(rest, strlen(expect) + 1);
                ssize_t k = read_timeout(fd, rest + rest_len, strlen(expect) - rest_len, TIMEOUT_MS);
                assert_true(k > 0);
                rest_len += (size_t)k;
                rest[rest_len] = '\0';
        }
        assert_string_equal(rest, expect);
        free(head);
        free(rest);
        free(chunk);
        close(fd);
}

static void test_upload_cut_short(void **state)
{
        struct fixture *f = *state;
        char *data = xcalloc(1, 300000);
        int fd = dial(f);
        static const char req[] = "POST /images/load HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n";

        send_str(fd, req, sizeof(req) - 1);
        send_str(fd, data, 300000);
        close(fd);
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS)); /* the first MiB: never */
        assert_int_equal(f->seen, -ECONNRESET);
        /* what arrived of an unfinished body reaches the handler, no more */
        assert_true(f->count > 0 && f->count <= 300000);
        free(data);
}

static void test_upload_refused_early(void **state)
{
        struct fixture *f = *state;
        struct resp r = { 0 };
        char *big = xmalloc((8u << 20) + 1);

        memset(big, 'a', 8u << 20);
        big[8u << 20] = '\0';
        curl_req(f, "POST", "/build", big, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(r.body, "{\"message\":\"refused\"}\n");
        resp_free(&r);
        free(big);
}

static void test_reply_after_client_left(void **state)
{
        struct fixture *f = *state;
        int fd = dial(f);

        SEND_LIT(fd, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
        usleep(50000);
        close(fd);
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        assert_true(f->seen < 0);
}

static void test_stream_headers_first(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head, *body;
        size_t rest_len = 0, len;
        int fd = dial(f);

        SEND_LIT(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
        /* the handler is still blocked on f->go */
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "HTTP/1.1 200 OK");
        assert_has(head, "Transfer-Encoding: chunked");
        assert_has(head, "Content-Type: application/json");
        assert_has(head, "Api-Version: 1.45");
        assert_int_equal(rest_len, 0);
        sem_post(&f->go);
        shutdown(fd, SHUT_WR);
        read_to_eof(fd, &rest, &rest_len);
        body = dechunk(rest, &len);
        assert_string_equal(body, "{\"status\":\"one\"}\r\n{\"StatusCode\":0}\n");
        free(body);
        free(head);
        free(rest);
        close(fd);
}

static void test_disconnect_cancels(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head;
        size_t rest_len = 0;
        int fd = dial(f);

        SEND_LIT(fd, "POST /containers/c1/wait HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        close(fd);
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        assert_int_equal(f->seen, 1);
        free(head);
        free(rest);
}

static void test_disconnect_fails_writes(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head;
        size_t rest_len = 0;
        int fd = dial(f);

        SEND_LIT(fd, "GET /containers/c1/logs?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        close(fd);
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        assert_true(f->seen < 0);
        free(head);
        free(rest);
}

/* attach as the docker CLI sends it, with stdin bytes in the same write
 * as the request: those must not be lost. */
static void test_hijack_upgrade(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head, *out = NULL;
        size_t rest_len = 0, out_len = 0;
        int fd = dial(f);
        static const char req[] = "POST /v1.41/containers/c1/attach?stderr=1&stdin=1&stdout=1&stream=1 HTTP/1.1\r\n"
                                  "Host: api.moby.localhost\r\nContent-Length: 0\r\nConnection: Upgrade\r\n"
                                  "Content-Type: text/plain\r\nUpgrade: tcp\r\n\r\nearly-bytes\n";

        send_str(fd, req, sizeof(req) - 1);
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, "HTTP/1.1 101 ");
        assert_has(head, "Content-Type: application/vnd.docker.raw-stream\r\n");
        assert_has(head, "Connection: Upgrade\r\n");
        assert_has(head, "Upgrade: tcp\r\n");
        assert_null(strstr(head, "Api-Version"));
        out = xrealloc(steal_pointer(&rest), 64);
        out_len = rest_len;
        while (out_len < 12) {
                ssize_t k = read_timeout(fd, out + out_len, 12 - out_len, TIMEOUT_MS);
                assert_true(k > 0);
                out_len += (size_t)k;
        }
        assert_memory_equal(out, "EARLY-BYTES\n", 12);
        SEND_LIT(fd, "line2\n");
        out_len = 0;
        while (out_len < 6) {
                ssize_t k = read_timeout(fd, out + out_len, 6 - out_len, TIMEOUT_MS);
                assert_true(k > 0);
                out_len += (size_t)k;
        }
        assert_memory_equal(out, "LINE2\n", 6);
        /* half-close: the fn sees EOF and can still write */
        shutdown(fd, SHUT_WR);
        out_len = 0;
        read_to_eof(fd, &out, &out_len);
        assert_int_equal(out_len, 4);
        assert_memory_equal(out, "bye\n", 4);
        assert_int_equal(f->seen, 1);
        free(out);
        free(head);
        close(fd);
}

/* Without Upgrade: 200, raw output until close, no input. */
static void test_hijack_plain(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head;
        size_t rest_len = 0;
        int fd = dial(f);
        static const char req[] = "POST /containers/c1/attach?stdout=1&stream=1 HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 0\r\n\r\n";

        send_str(fd, req, sizeof(req) - 1);
        head = read_head(fd, &rest, &rest_len);
        assert_non_null(head);
        assert_has(head, " 200 OK\r\n");
        assert_has(head, "Content-Type: application/vnd.docker.raw-stream\r\n");
        assert_null(strstr(head, "chunked"));
        read_to_eof(fd, &rest, &rest_len);
        assert_string_equal(rest, "bye\n");
        assert_int_equal(f->seen, 2);
        free(head);
        free(rest);
        close(fd);
}

/* Stopping with a handler parked in a hijack, one waiting on its cancel
 * fd and an idle keep-alive connection: stop returns, nothing leaks. */
static void test_stop_with_open_requests(void **state)
{
        struct fixture *f = *state;
        char *rest = NULL, *head;
        size_t rest_len = 0;
        int a = dial(f), b = dial(f), c = dial(f);
        static const char park[] = "POST /exec/e1/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                                   "Upgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

        send_str(a, park, sizeof(park) - 1);
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        head = read_head(a, &rest, &rest_len);
        assert_has(head, "application/vnd.docker.multiplexed-stream");
        free(head);
        free(rest);
        SEND_LIT(b, "POST /containers/c1/wait HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assert_true(sem_wait_ms(&f->reached, TIMEOUT_MS));
        SEND_LIT(c, "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
        head = read_head(c, &rest, &rest_len);
        free(head);
        free(rest);
        http_server_stop(f->srv);
        assert_int_equal(f->seen, 1);   /* the wait handler saw the cancel */
        rest = NULL;
        rest_len = 0;
        read_to_eof(a, &rest, &rest_len);
        free(rest);
        close(a);
        close(b);
        close(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_version),
                cmocka_unit_test(test_parse_version_and_bool),
                cmocka_unit_test(test_patterns),
                cmocka_unit_test(test_request_parsing),
                cmocka_unit_test(test_request_targets),
                cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_socket_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_listen_fd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_params_query_version, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_found_and_versions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors_from_handlers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_json_body, setup, teardown),
                cmocka_unit_test_setup_teardown(test_body_too_large, setup_small, teardown),
                cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pipelined_and_chunked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
                cmocka_unit_test_setup_teardown(test_head_too_large, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expect_continue, setup, teardown),
                cmocka_unit_test_setup_teardown(test_streamed_upload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upload_cut_short, setup, teardown),
                cmocka_unit_test_setup_teardown(test_upload_refused_early, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reply_after_client_left, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_headers_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disconnect_cancels, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disconnect_fails_writes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hijack_upgrade, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hijack_plain, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_with_open_requests, setup, teardown),
        };
        int r;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        r = cmocka_run_group_tests(tests, NULL, NULL);
        curl_global_cleanup();
        return r;
}
