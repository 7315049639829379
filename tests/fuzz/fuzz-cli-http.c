/* libFuzzer target: the CLI's HTTP/1.1 response parser (src/cli/cli-http.c)
 * on whatever a daemon, or something posing as one, could send.  The first
 * byte chooses a HEAD request and the seed of the read sizes; the rest is
 * the response.  It is parsed twice, in one piece and in pieces of
 * pseudo-random sizes down to one byte, then EOF: both must agree on
 * everything (error or not, status, fields, body bytes, where the response
 * ended), the body can never be larger than the input, and an error is one
 * non-empty line. */
#include "cli/cli-http.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
        int rc;                 /* 0, or -1 failed */
        bool done, headers_done, keep_alive;
        int status;
        size_t used;            /* where the response ended */
        unsigned fields;
        uint64_t field_hash;
        char *body;
        size_t body_len, body_cap;
};

static uint64_t mix(uint64_t h, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
        return h * 0x100000001b3ULL;
}

static int on_field(void *opaque, const char *name, size_t nlen, const char *value, size_t vlen,
                    berth_error_t **err)
{
        struct outcome *o = opaque;

        (void)err;
        if (nlen == 0)
                abort();
        for (size_t i = 0; i < vlen; i++)
                if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
                        abort();
        if (vlen > 0 && (value[0] == ' ' || value[vlen - 1] == ' '))
                abort();        /* the blanks around a value are trimmed */
        o->fields++;
        o->field_hash = mix(mix(o->field_hash, name, nlen), value, vlen);
        return 0;
}

static int on_data(void *opaque, const char *d, size_t n, berth_error_t **err)
{
        struct outcome *o = opaque;

        (void)err;
        if (n == 0 || o->body_len + n > o->body_cap)
                abort();
        memcpy(o->body + o->body_len, d, n);
        o->body_len += n;
        return 0;
}

static void check_error(berth_error_t *err)
{
        if (err == NULL || err->msg == NULL || err->msg[0] == '\0' || strchr(err->msg, '\n') != NULL)
                abort();
}

static void run(const char *in, size_t len, bool head, uint32_t seed, struct outcome *o)
{
        struct http_parser *p = xmalloc(sizeof(*p));
        berth_error_t *err = NULL;
        size_t pos = 0;

        memset(o, 0, sizeof(*o));
        o->body_cap = len;
        o->body = xmalloc(len + 1);
        http_parser_init(p, head);
        p->on_field = on_field;
        p->on_data = on_data;
        p->opaque = o;
        while (pos < len && !http_parser_done(p)) {
                size_t piece = len - pos;
                ssize_t n;
                if (seed) {
                        seed = seed * 1103515245u + 12345u;
                        piece = 1 + (seed >> 16) % 64;
                        if (piece > len - pos)
                                piece = len - pos;
                }
                n = http_parse(p, in + pos, piece, &err);
                if (n < 0) {
                        check_error(err);
                        o->rc = -1;
                        break;
                }
                if ((size_t)n > piece)
                        abort();
                /* fewer bytes only at the end of the head or of the response */
                if ((size_t)n < piece && !p->headers_done)
                        abort();
                pos += (size_t)n;
        }
        if (o->rc == 0 && !http_parser_done(p) && http_parse_eof(p, &err) < 0) {
                check_error(err);
                o->rc = -1;
        }
        if (o->rc == 0 && !http_parser_done(p))
                abort();
        if (p->received != pos && o->rc == 0)
                abort();
        o->done = http_parser_done(p);
        o->headers_done = p->headers_done;
        o->keep_alive = p->keep_alive;
        o->status = p->status;
        o->used = pos;
        if (o->done && (o->status < 100 || o->status > 599 || !o->headers_done))
                abort();
        if (o->done && o->keep_alive && p->chunked == false && p->content_length < 0 && !head &&
            o->status != 204 && o->status != 304 && o->status >= 200)
                abort();        /* a body until the close cannot keep the connection */
        berth_error_free(&err);
        free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct outcome whole, pieces;
        bool head;
        uint32_t seed;

        if (size < 1)
                return 0;
        head = data[0] & 1;
        seed = (uint32_t)data[0] * 2654435761u + 1;
        run((const char *)data + 1, size - 1, head, 0, &whole);
        run((const char *)data + 1, size - 1, head, seed, &pieces);
        if (whole.rc != pieces.rc || whole.done != pieces.done || whole.status != pieces.status ||
            whole.keep_alive != pieces.keep_alive || whole.fields != pieces.fields ||
            whole.field_hash != pieces.field_hash || whole.body_len != pieces.body_len ||
            memcmp(whole.body, pieces.body, whole.body_len) != 0 ||
            (whole.rc == 0 && whole.used != pieces.used)) {
                fprintf(stderr, "one piece and many disagree: rc %d/%d status %d/%d body %zu/%zu used %zu/%zu\n",
                        whole.rc, pieces.rc, whole.status, pieces.status, whole.body_len, pieces.body_len,
                        whole.used, pieces.used);
                abort();
        }
        free(whole.body);
        free(pieces.body);
        return 0;
}
