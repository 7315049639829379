/* The server: its sockets, its libmicrohttpd daemons, and stopping them
 * without leaving a handler or a hijacked connection behind. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <stdarg.h>

/* Enough room for large headers (X-Registry-Auth) and for big chunks when
 * streaming tars; the default 32 KiB makes image save crawl. */
#define CONNECTION_MEMORY (256u * 1024)

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

/* The server's own copies: the PEM texts must outlive the caller's. */
static void keep_tls(struct http_server *s, size_t i, const struct http_tls *tls)
{
        s->tls[i].cert = xstrdup(tls->cert);
        s->tls[i].key = xstrdup(tls->key);
        s->tls[i].ca = xstrdup(tls->ca);
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
                if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                        return berth_fail(err, ENOTSUP, "tcp://%s: this libmicrohttpd has no TLS support", l->tcp_addr);
                if (http_listen_tcp(l->tcp_addr, &fd, err) < 0)
                        return -1;
                keep_tls(s, i, l->tls);
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

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        size_t n;

        (void)cls;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        berth_debug("api: libmicrohttpd: %s", msg);
}

/* TLS as Go's server does it for dockerd (1.2 and up); the trust list
 * makes libmicrohttpd ask clients for their certificate. */
static void tls_options(const struct http_tls *tls, struct MHD_OptionItem o[5])
{
        static const char priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
        size_t n = 0;

        if (tls->cert) {
                o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)tls->cert };
                o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)tls->key };
                o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)tls->ca };
                o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)priorities };
        }
        o[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

/* Thread per connection, because handlers block for as long as a
 * container runs; poll() rather than select(), because berthd's fds
 * outgrow FD_SETSIZE. */
static struct MHD_Daemon *daemon_start(struct http_server *s, size_t i, int fd)
{
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_POLL | MHD_ALLOW_UPGRADE | MHD_USE_ITC | MHD_USE_ERROR_LOG;
        struct MHD_OptionItem tls[5];

        tls_options(&s->tls[i], tls);
        if (s->tls[i].cert)
                flags |= MHD_USE_TLS;
        /* The logger first, or libmicrohttpd complains on stderr. */
        return MHD_start_daemon(flags, 0, NULL, NULL, http_on_request, s,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                MHD_OPTION_LISTEN_SOCKET, fd,
                                MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, s,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                                MHD_OPTION_CONNECTION_TIMEOUT, 0u,
                                MHD_OPTION_ARRAY, tls,
                                MHD_OPTION_END);
}

int http_server_start(struct http_server *s, berth_error_t **err)
{
        if (s->started)
                return berth_error(err, EALREADY, "API server already started");
        s->started = true;
        for (size_t i = 0; i < s->nlisten; i++) {
                int fd = steal_fd(&s->listen_fds[i]); /* MHD's now, even on failure */
                s->daemons[i] = daemon_start(s, i, fd);
                if (s->daemons[i] == NULL) {
                        http_server_stop(s);
                        return berth_error(err, 0, "API server: libmicrohttpd would not start");
                }
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

/* Before MHD_stop_daemon: it joins connection threads, and those may wait
 * for a handler, a hijack fn or a body reader that only an abort wakes. */
static void abort_requests(struct http_server *s)
{
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        for (struct http_request *r = s->live; r; r = r->next)
                http_request_abort_locked(r);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

void http_server_stop(struct http_server *s)
{
        if (s == NULL || !s->started || s->stopped)
                return;
        s->stopped = true;
        abort_requests(s);
        for (size_t i = 0; i < ARRAY_SIZE(s->daemons); i++) {
                if (s->daemons[i])
                        MHD_stop_daemon(s->daemons[i]);
                s->daemons[i] = NULL;
        }
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
                free((char *)s->tls[i].cert);
                free((char *)s->tls[i].key);
                free((char *)s->tls[i].ca);
        }
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
