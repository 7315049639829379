/* Docker's stdcopy framing: without a TTY, attach and logs carry stdout and
 * stderr on one stream as frames [stream, 0, 0, 0, size (uint32 BE)] +
 * payload.  Bytes arrive in arbitrary pieces, so this is a small state
 * machine that writes each payload piece as soon as it has it (a slow
 * writer's partial line still shows). */
#include "cli/cli.h"

void stdcopy_init(struct stdcopy *s, bool raw)
{
        memset(s, 0, sizeof(*s));
        s->raw = raw;
        s->fd = 1;
}

static int out(int fd, const char *p, size_t n, berth_error_t **err)
{
        if (write_all(fd, p, n) < 0) {
                /* a closed pipe (| head) ends the output quietly, as in
                 * docker, whose copy just stops */
                if (errno == EPIPE)
                        return 0;
                return berth_error(err, errno, "write to %s", fd == 2 ? "stderr" : "stdout");
        }
        return 0;
}

int stdcopy_feed(struct stdcopy *s, const char *data, size_t len, berth_error_t **err)
{
        if (s->raw)
                return out(1, data, len, err);
        while (len > 0) {
                if (s->left == 0) {
                        size_t take = sizeof(s->hdr) - s->hdr_have;
                        if (take > len)
                                take = len;
                        memcpy(s->hdr + s->hdr_have, data, take);
                        s->hdr_have += take;
                        data += take;
                        len -= take;
                        if (s->hdr_have < sizeof(s->hdr))
                                return 0;
                        s->hdr_have = 0;
                        s->left = (size_t)s->hdr[4] << 24 | (size_t)s->hdr[5] << 16 |
                                  (size_t)s->hdr[6] << 8 | (size_t)s->hdr[7];
                        switch (s->hdr[0]) {
                        case 0: /* stdin: echoed input, shown on stdout */
                        case 1:
                                s->fd = 1;
                                break;
                        case 2:
                                s->fd = 2;
                                break;
                        case 3: /* the daemon's own error in the stream */
                                s->fd = -1;
                                break;
                        default:
                                return berth_error(err, 0, "unrecognised stream: %d", s->hdr[0]);
                        }
                        continue;
                }
                size_t take = s->left < len ? s->left : len;
                if (s->fd < 0) {
                        /* report the system error as one message */
                        return berth_error(err, 0, "Error grabbing logs: %.*s", (int)take, data);
                }
                if (out(s->fd, data, take, err) < 0)
                        return -1;
                s->left -= take;
                data += take;
                len -= take;
        }
        return 0;
}
