/* berthd's request parsing (src/api/http-in.c) on hostile bytes: heads,
 * framing, targets and bodies, with the input arriving in pieces whose
 * sizes the fuzzer also picks, as a socket would deliver them. */
#include "api/http-internal.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct feed {
        const uint8_t *data;
        size_t len, off;
        unsigned piece;
};

static ssize_t feed_fill(void *ctx, void *buf, size_t len)
{
        struct feed *f = ctx;
        size_t n = f->len - f->off;

        if (n == 0)
                return 0;
        /* 1..64 bytes at a time, or everything left */
        if (f->piece > 0 && n > f->piece)
                n = f->piece;
        if (n > len)
                n = len;
        memcpy(buf, f->data + f->off, n);
        f->off += n;
        return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct feed f = { .data = data, .len = size };
        struct http_in in;
        char body[1024];

        if (size < 1)
                return 0;
        f.piece = data[0] % 65;
        f.off = 1;
        http_in_init(&in, feed_fill, &f);
        /* several requests on one connection, as keep-alive brings them */
        for (int i = 0; i < 4; i++) {
                struct http_head h;
                struct http_body_in b;
                struct http_kvs query = { 0 };
                char *path = NULL;
                ssize_t n;

                if (http_read_head(&in, &h, 4096) <= 0)
                        break;
                if (http_decode_target(h.target, &path, &query) == 0) {
                        free(path);
                        http_kvs_clear(&query);
                }
                if (http_body_framing(&h, &b) < 0) {
                        http_head_clear(&h);
                        break;
                }
                http_head_clear(&h);
                while ((n = http_read_body(&in, &b, body, sizeof(body))) > 0)
                        ;
                if (n < 0)
                        break;
        }
        http_in_free(&in);
        return 0;
}
