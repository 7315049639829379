/* The attach server: the container's output to every connected client,
 * framed with stdcopy headers unless it comes from a pty, and what the
 * clients send to the container's stdin. */
#include "shim/shim-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <errno.h>
#include <sys/socket.h>

/* past this much queued for one client, output reading pauses */
#define CLIENT_QUEUE_MAX (1024 * 1024)

int shim_attach_listen(struct shim_attach *a, const char *path, bool framed, bool keep_stdin, berth_error_t **err)
{
        memset(a, 0, sizeof(*a));
        a->framed = framed;
        a->keep_stdin = keep_stdin;
        a->listen_fd = shim_listen_unix(path, err);
        return a->listen_fd < 0 ? -1 : 0;
}

static void drop_client(struct shim_attach *a, size_t i)
{
        close(a->clients[i].fd);
        shim_buf_free(&a->clients[i].out);
        a->clients[i] = a->clients[--a->n];
        if (a->n == 0) {
                free(a->clients);
                a->clients = NULL;
        }
}

/* Send what is queued; false when the client is gone. */
static bool client_send(struct attach_client *c)
{
        while (c->out.len > 0) {
                ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return true;
                if (n < 0)
                        return false;
                shim_buf_consume(&c->out, (size_t)n);
        }
        return true;
}

void shim_attach_broadcast(struct shim_attach *a, enum shim_stream s, const char *data, size_t len)
{
        unsigned char header[8] = { (unsigned char)s, 0, 0, 0, (unsigned char)(len >> 24),
                                    (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len };

        for (size_t i = 0; i < a->n;) {
                struct attach_client *c = &a->clients[i];
                if (a->framed)
                        shim_buf_append(&c->out, header, sizeof(header));
                shim_buf_append(&c->out, data, len);
                if (!client_send(c)) {
                        drop_client(a, i);
                        continue;
                }
                i++;
        }
}

bool shim_attach_congested(const struct shim_attach *a)
{
        for (size_t i = 0; i < a->n; i++)
                if (a->clients[i].out.len > CLIENT_QUEUE_MAX)
                        return true;
        return false;
}

bool shim_attach_drained(const struct shim_attach *a)
{
        for (size_t i = 0; i < a->n; i++)
                if (a->clients[i].out.len > 0)
                        return false;
        return true;
}

size_t shim_attach_pollfds(const struct shim_attach *a, struct pollfd *pfd, bool want_input)
{
        size_t k = 0;

        pfd[k++] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
        for (size_t i = 0; i < a->n; i++) {
                const struct attach_client *c = &a->clients[i];
                short ev = c->out.len > 0 ? POLLOUT : 0;
                /* input is read only while stdin has room (or is dropped
                 * anyway); POLLHUP still tells a vanished client */
                if (!c->read_eof && want_input)
                        ev |= POLLIN;
                pfd[k++] = (struct pollfd){ .fd = c->fd, .events = ev };
        }
        return k;
}

static void accept_client(struct shim_attach *a)
{
        int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        berth_log(BERTH_LOG_ERROR, "accept attach client: %s", strerror(errno));
                return;
        }
        a->clients = xrealloc(a->clients, (a->n + 1) * sizeof(*a->clients));
        a->clients[a->n++] = (struct attach_client){ .fd = fd };
}

/* Input from one client; false when it must be dropped. */
static bool client_read(struct shim_attach *a, struct attach_client *c, struct shim_stdin *in)
{
        char buf[8192];
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR;
        if (n == 0) {
                /* half-close: the client still gets output; its stdin ends */
                c->read_eof = true;
                if (!a->keep_stdin)
                        shim_stdin_close(in);
                return true;
        }
        shim_stdin_feed(in, buf, (size_t)n);
        return true;
}

void shim_attach_handle(struct shim_attach *a, const struct pollfd *pfd, size_t n, struct shim_stdin *in)
{
        size_t clients = n - 1;

        /* clients first, by fd: a drop moves the last client into its slot */
        for (size_t k = clients; k >= 1; k--) {
                short re = pfd[k].revents;
                size_t i = 0;
                bool ok = true;
                while (i < a->n && a->clients[i].fd != pfd[k].fd)
                        i++;
                if (i == a->n || re == 0)
                        continue;
                if (re & POLLIN)
                        ok = client_read(a, &a->clients[i], in);
                if (ok && (re & POLLOUT))
                        ok = client_send(&a->clients[i]);
                /* POLLHUP with POLLIN pending: read the EOF first */
                if (ok && (re & (POLLERR | POLLNVAL)))
                        ok = false;
                if (ok && (re & POLLHUP) && !(re & POLLIN))
                        ok = false;
                if (!ok)
                        drop_client(a, i);
        }
        if (pfd[0].revents & POLLIN)
                accept_client(a);
}

void shim_attach_close(struct shim_attach *a)
{
        while (a->n > 0) {
                struct attach_client *c = &a->clients[a->n - 1];
                client_send(c);
                shutdown(c->fd, SHUT_WR);
                drop_client(a, a->n - 1);
        }
        if (a->listen_fd >= 0)
                close(a->listen_fd);
        a->listen_fd = -1;
}
