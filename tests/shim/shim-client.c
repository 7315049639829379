/* shim-client: the test suite's end of berth-shim's sockets (busybox has
 * no unix-socket client).
 *
 *   shim-client ctl SOCKET REQUEST...
 *       send the request line, print the reply line; exit 0 on "ok".
 *   shim-client attach SOCKET OUT [--framed] [--no-stdin]
 *       connect, touch OUT.connected, copy our stdin to the socket and
 *       half-close it at EOF (with --no-stdin send nothing and keep the
 *       write side open), read until EOF.  Raw output goes to OUT; with
 *       --framed the stdcopy frames are checked and their payloads go to
 *       OUT.1 (stdout) and OUT.2 (stderr).  Exit 0 on a clean EOF, 2 on a
 *       bad frame. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int dial(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "shim-client: connect %s: %s\n", path, strerror(errno));
                exit(1);
        }
        return fd;
}

static int ctl(const char *path, int argc, char **argv)
{
        char line[4096] = "", reply[65536];
        size_t len = 0;
        ssize_t n;
        int fd = dial(path);

        for (int i = 0; i < argc; i++) {
                strncat(line, argv[i], sizeof(line) - strlen(line) - 2);
                if (i + 1 < argc)
                        strcat(line, " ");
        }
        strcat(line, "\n");
        if (write(fd, line, strlen(line)) < 0)
                return 1;
        while (len < sizeof(reply) - 1 && (n = read(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
                len += (size_t)n;
        reply[len] = '\0';
        fputs(reply, stdout);
        return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}

struct demux {
        unsigned char header[8];
        size_t have;      /* header bytes, then payload bytes left */
        size_t left;
        int stream;
        FILE *out[3];
};

static bool demux_feed(struct demux *d, const unsigned char *p, size_t n)
{
        while (n > 0) {
                if (d->left == 0) {
                        d->header[d->have++] = *p++;
                        n--;
                        if (d->have < 8)
                                continue;
                        d->have = 0;
                        if ((d->header[0] != 1 && d->header[0] != 2) || d->header[1] || d->header[2] || d->header[3])
                                return false;
                        d->stream = d->header[0];
                        d->left = (size_t)d->header[4] << 24 | (size_t)d->header[5] << 16 | (size_t)d->header[6] << 8 |
                                  d->header[7];
                        if (d->left == 0)
                                return false;
                        continue;
                }
                size_t take = n < d->left ? n : d->left;
                fwrite(p, 1, take, d->out[d->stream]);
                fflush(d->out[d->stream]);
                p += take;
                n -= take;
                d->left -= take;
        }
        return true;
}

static FILE *open_out(const char *base, const char *suffix)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s%s", base, suffix);
        if ((f = fopen(path, "w")) == NULL) {
                fprintf(stderr, "shim-client: %s: %s\n", path, strerror(errno));
                exit(1);
        }
        return f;
}

static int attach(const char *path, const char *out, bool framed, bool no_stdin)
{
        struct demux d = { 0 };
        int fd = dial(path);
        bool in_open = !no_stdin;
        unsigned char buf[65536];
        FILE *raw = NULL;

        fclose(open_out(out, ".connected"));
        if (framed) {
                d.out[1] = open_out(out, ".1");
                d.out[2] = open_out(out, ".2");
        } else {
                raw = open_out(out, "");
        }
        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN } };
                ssize_t n;
                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[1].revents) {
                        n = read(0, buf, sizeof(buf));
                        if (n > 0) {
                                if (write(fd, buf, (size_t)n) != n)
                                        return 1;
                        } else {
                                shutdown(fd, SHUT_WR);
                                in_open = false;
                        }
                }
                if (p[0].revents) {
                        n = read(fd, buf, sizeof(buf));
                        if (n <= 0)
                                return n == 0 ? 0 : 1;
                        if (framed && !demux_feed(&d, buf, (size_t)n)) {
                                fprintf(stderr, "shim-client: bad stdcopy frame\n");
                                return 2;
                        }
                        if (raw) {
                                fwrite(buf, 1, (size_t)n, raw);
                                fflush(raw);
                        }
                }
        }
}

int main(int argc, char **argv)
{
        bool framed = false, no_stdin = false;

        if (argc >= 4 && strcmp(argv[1], "ctl") == 0)
                return ctl(argv[2], argc - 3, argv + 3);
        if (argc >= 4 && strcmp(argv[1], "attach") == 0) {
                for (int i = 4; i < argc; i++) {
                        framed |= strcmp(argv[i], "--framed") == 0;
                        no_stdin |= strcmp(argv[i], "--no-stdin") == 0;
                }
                return attach(argv[2], argv[3], framed, no_stdin);
        }
        fprintf(stderr, "usage: shim-client ctl SOCKET REQUEST... | attach SOCKET OUT [--framed] [--no-stdin]\n");
        return 2;
}
