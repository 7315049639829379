/* The server: its sockets, a thread accepting on each, a thread per
 * connection, and stopping them all without leaving a handler or a
 * hijacked connection behind. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

static int server_versions(struct http_server *s, const struct http_server_opts *o,
                           berth_error_t **err)
{
        s->vmax_str = xstrdup(o->api_version ? o->api_version : HTTP_API_VERSION_MAX);
        s->vmin_str = xstrdup(o->min_api_version ? o->min_api_version : HTTP_API_VERSION_MIN);
        if (!http_parse_version(s->vmax_str, &s->vmax) || !http_parse_version(s->vmin_str, &s->vmin) ||
            http_version_compare(&s->vmin, &s->vmax) > 0)
                return berth_error(err, EINVAL, "API versions %s to %s", s->vmin_str, s->vmax_str);
        return 0;
}

static int listener_socket(struct http_server *s, const struct http_listener *l, berth_error_t **err)
{
        size_t i = s->nlisten;
        int fd;

        if (i == HTTP_MAX_LISTENERS)
                return berth_error(err, EINVAL, "API server: more than %d sockets", HTTP_MAX_LISTENERS);
        if (l->tcp_addr) {
                if (l->tls == NULL || !l->tls->cert || !l->tls->key || !l->tls->ca)
                        return berth_fail(err, EINVAL, "tcp://%s: TCP is served only with TLS client certificates",
                                          l->tcp_addr);
                if (http_tls_ctx_new(l->tls, &s->tls[i], err) < 0)
                        return berth_error_wrap(err, "tcp://%s", l->tcp_addr);
                if (http_listen_tcp(l->tcp_addr, &fd, err) < 0)
                        return -1;
        } else {
                if (http_listen_unix(l->unix_path, l->unix_mode, l->unix_chgrp, l->unix_gid, &fd, err) < 0)
                        return -1;
                s->unix_paths[i] = xstrdup(l->unix_path);
        }
        s->listen_fds[s->nlisten++] = fd;
        return 0;
}

static int server_sockets(struct http_server *s, const struct http_server_opts *o,
                          berth_error_t **err)
{
        if (o->use_listen_fd)
                s->listen_fds[s->nlisten++] = o->listen_fd;
        if (o->unix_path) {
                struct http_listener l = { .unix_path = o->unix_path, .unix_mode = o->unix_mode,
                                           .unix_chgrp = o->unix_chgrp, .unix_gid = o->unix_gid };
                if (listener_socket(s, &l, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < o->n_listeners; i++)
                if (listener_socket(s, &o->listeners[i], err) < 0)
                        return -1;
        if (s->nlisten == 0)
                return berth_error(err, EINVAL, "API server: no socket to listen on");
        return 0;
}

int http_server_new(const struct http_server_opts *o, struct http_server **out, berth_error_t **err)
{
        struct http_server *s = xcalloc(1, sizeof(*s));

        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        for (size_t i = 0; i < ARRAY_SIZE(s->listen_fds); i++)
                s->listen_fds[i] = -1;
        s->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->stop_efd < 0) {
                int e = errno;
                if (o->use_listen_fd)
                        close(o->listen_fd);
                http_server_free(s);
                return berth_error(err, e, "eventfd");
        }
        s->server_header = xasprintf("Berth/%s (linux)", BERTH_VERSION);
        s->max_body = o->max_body ? o->max_body : HTTP_MAX_BODY_DEFAULT;
        if (server_versions(s, o, err) < 0 || server_sockets(s, o, err) < 0) {
                if (o->use_listen_fd && s->nlisten == 0)
                        close(o->listen_fd);
                http_server_free(s);
                return -1;
        }
        *out = s;
        return 0;
}

static bool conn_link(struct http_server *s, struct http_conn *c)
{
        bool ok;

        pthread_mutex_lock(&s->lock);
        ok = !s->stopping;
        if (ok) {
                c->next = s->conns;
                if (s->conns)
                        s->conns->prev = c;
                s->conns = c;
                s->nconns++;
        }
        pthread_mutex_unlock(&s->lock);
        return ok;
}

void http_conn_unlink_locked(struct http_server *s, struct http_conn *c)
{
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->nconns--;
}

static void conn_start(struct http_server *s, size_t i, int fd)
{
        struct http_conn *c = xcalloc(1, sizeof(*c));
        pthread_attr_t attr;
        pthread_t t;
        int r;

        c->srv = s;
        c->fd = fd;
        c->tls_ctx = s->tls[i];
        /* as Go does on every TCP connection: replies are written whole,
         * and Nagle would hold the last segment for the client's ACK */
        if (c->tls_ctx) {
                int one = 1;
                (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        if (!conn_link(s, c)) {
                close(fd);
                free(c);
                return;
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&t, &attr, http_conn_main, c);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                berth_warn("api: cannot start a connection thread: %s", strerror(r));
                pthread_mutex_lock(&s->lock);
                http_conn_unlink_locked(s, c);
                pthread_mutex_unlock(&s->lock);
                close(fd);
                free(c);
        }
}

struct acceptor {
        struct http_server *s;
        size_t i;
};

/* Blocking sockets for the connections: each has a thread to block in. */
static void *accept_main(void *arg)
{
        struct acceptor a = *(struct acceptor *)arg;
        struct http_server *s = a.s;
        int lfd = s->listen_fds[a.i];

        free(arg);
        for (;;) {
                struct pollfd p[2] = { { lfd, POLLIN, 0 }, { s->stop_efd, POLLIN, 0 } };
                int fd;
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        berth_warn("api: poll: %s", strerror(errno));
                        return NULL;
                }
                if (p[1].revents)
                        return NULL;
                fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0) {
                        /* the client gave up in the backlog, or fds ran out for a moment */
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                                usleep(10000);
                        continue;
                }
                conn_start(s, a.i, fd);
        }
}

int http_server_start(struct http_server *s, berth_error_t **err)
{
        if (s->started)
                return berth_error(err, EALREADY, "API server already started");
        s->started = true;
        for (size_t i = 0; i < s->nlisten; i++) {
                struct acceptor *a = xmalloc(sizeof(*a));
                int r;
                a->s = s;
                a->i = i;
                r = pthread_create(&s->acceptors[i], NULL, accept_main, a);
                if (r != 0) {
                        free(a);
                        http_server_stop(s);
                        return berth_error(err, r, "API server: start a thread");
                }
                s->nacceptors++;
        }
        return 0;
}

/* Requests still blocked once the daemons are gone are handlers that have
 * not returned yet. */
static void wait_for_requests(struct http_server *s)
{
        pthread_mutex_lock(&s->lock);
        while (s->nlive > 0)
                pthread_cond_wait(&s->cond, &s->lock);
        pthread_mutex_unlock(&s->lock);
}

/* Connection threads may wait for a handler, a hijack fn or a body
 * reader that only an abort wakes, or for the client's next request,
 * which only a shutdown of its socket ends. */
static void abort_requests(struct http_server *s)
{
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        for (struct http_request *r = s->live; r; r = r->next)
                http_request_abort_locked(r);
        for (struct http_conn *c = s->conns; c; c = c->next)
                if (c->fd >= 0)
                        shutdown(c->fd, SHUT_RDWR);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

static void wait_for_connections(struct http_server *s)
{
        pthread_mutex_lock(&s->lock);
        while (s->nconns > 0)
                pthread_cond_wait(&s->cond, &s->lock);
        pthread_mutex_unlock(&s->lock);
}

void http_server_stop(struct http_server *s)
{
        if (s == NULL || !s->started || s->stopped)
                return;
        s->stopped = true;
        http_wake(s->stop_efd);
        for (size_t i = 0; i < s->nacceptors; i++)
                pthread_join(s->acceptors[i], NULL);
        s->nacceptors = 0;
        for (size_t i = 0; i < s->nlisten; i++)
                http_close_fd(&s->listen_fds[i]);
        abort_requests(s);
        wait_for_connections(s);
        wait_for_requests(s);
        for (size_t i = 0; i < ARRAY_SIZE(s->unix_paths); i++)
                if (s->unix_paths[i])
                        unlink(s->unix_paths[i]);
}

void http_server_free(struct http_server *s)
{
        if (s == NULL)
                return;
        http_server_stop(s);
        for (size_t i = 0; i < ARRAY_SIZE(s->listen_fds); i++)
                if (s->listen_fds[i] >= 0)
                        close(s->listen_fds[i]);
        for (size_t i = 0; i < ARRAY_SIZE(s->unix_paths); i++) {
                if (!s->started && s->unix_paths[i])
                        unlink(s->unix_paths[i]);
                free(s->unix_paths[i]);
                http_tls_ctx_free(s->tls[i]);
        }
        if (s->stop_efd >= 0)
                close(s->stop_efd);
        for (size_t i = 0; i < s->nroutes; i++) {
                free(s->routes[i].method);
                http_segs_free(s->routes[i].segs, s->routes[i].nsegs);
        }
        free(s->routes);
        free(s->vmax_str);
        free(s->vmin_str);
        free(s->server_header);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
}
