/* The container's stdin: what attach clients send, queued while the pipe
 * (or pty) is full, which is also how input sent before start waits for
 * the process.  At most STDIN_QUEUE_MAX bytes wait here; beyond that the
 * shim stops reading its clients. */
#include "shim/shim-internal.h"
#include "util/util.h"
#include <errno.h>

#define STDIN_QUEUE_MAX (64 * 1024)

void shim_stdin_init(struct shim_stdin *in, int fd)
{
        memset(in, 0, sizeof(*in));
        in->fd = fd;
}

bool shim_stdin_wants(const struct shim_stdin *in)
{
        return in->fd >= 0 && !in->close_pending && in->buf.len < STDIN_QUEUE_MAX;
}

static void stdin_shut(struct shim_stdin *in)
{
        if (in->fd >= 0)
                close(in->fd);
        in->fd = -1;
        shim_buf_free(&in->buf);
}

void shim_stdin_writable(struct shim_stdin *in)
{
        while (in->fd >= 0 && in->buf.len > 0) {
                ssize_t n = write(in->fd, in->buf.data, in->buf.len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        /* EPIPE: the container closed its stdin; input has nowhere to go */
                        stdin_shut(in);
                        return;
                }
                shim_buf_consume(&in->buf, (size_t)n);
        }
        if (in->close_pending)
                stdin_shut(in);
}

void shim_stdin_feed(struct shim_stdin *in, const char *data, size_t len)
{
        if (in->fd < 0 || in->close_pending)
                return;
        shim_buf_append(&in->buf, data, len);
        shim_stdin_writable(in);
}

/* A pipe's reader sees EOF.  A pty has no such thing without hanging up
 * the session, so there input just stops (as with containerd's shim). */
void shim_stdin_close(struct shim_stdin *in)
{
        in->close_pending = true;
        if (in->buf.len == 0)
                stdin_shut(in);
}

short shim_stdin_events(const struct shim_stdin *in)
{
        return in->fd >= 0 && in->buf.len > 0 ? POLLOUT : 0;
}
