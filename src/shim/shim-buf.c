/* A byte queue for output waiting on a slow reader.  Consumed bytes are
 * dropped from the front; the memory goes back once the queue is empty,
 * so an idle shim holds none. */
#include "shim/shim-internal.h"
#include "util/util.h"

void shim_buf_append(struct shim_buf *b, const void *p, size_t n)
{
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                while (cap < b->len + n)
                        cap *= 2;
                b->data = xrealloc(b->data, cap);
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
}

void shim_buf_consume(struct shim_buf *b, size_t n)
{
        if (n >= b->len) {
                shim_buf_free(b);
                return;
        }
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
}

void shim_buf_free(struct shim_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}
