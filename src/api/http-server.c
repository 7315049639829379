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

static int server_sockets(struct http_server *s, const struct http_server_opts *o,
                          berth_error_t **err)
{
        if (o->use_listen_fd)
                s->listen_fds[s->nlisten++] = o->listen_fd;
        if (o->unix_path) {
                int fd;
                if (http_listen_unix(o->unix_path, o->unix_mode, o->unix_chgrp, o->unix_gid, &fd, err) < 0)
                        return -1;
                s->listen_fds[s->nlisten++] = fd;
                s->unix_path = xstrdup(o->unix_path);
        }
        if (s->nlisten == 0)
                return berth_error(err, EINVAL, "API server: no socket to listen on");
        return 0;
}

int http_server_new(const struct http_server_opts *o, struct http_server **out, berth_error_t **err)
{
        struct http_server *s = xcalloc(1, sizeof(*s));

        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->listen_fds[0] = s->listen_fds[1] = -1;
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

/* Thread per connection, because handlers block for as long as a
 * container runs; poll() rather than select(), because berthd's fds
 * outgrow FD_SETSIZE. */
static struct MHD_Daemon *daemon_start(struct http_server *s, int fd)
{
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_POLL | MHD_ALLOW_UPGRADE | MHD_USE_ITC | MHD_USE_ERROR_LOG;

        /* The logger first, or libmicrohttpd complains on stderr. */
        return MHD_start_daemon(flags, 0, NULL, NULL, http_on_request, s,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                MHD_OPTION_LISTEN_SOCKET, fd,
                                MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, s,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                                MHD_OPTION_CONNECTION_TIMEOUT, 0u,
                                MHD_OPTION_END);
}

int http_server_start(struct http_server *s, berth_error_t **err)
{
        if (s->started)
                return berth_error(err, EALREADY, "API server already started");
        s->started = true;
        for (size_t i = 0; i < s->nlisten; i++) {
                int fd = steal_fd(&s->listen_fds[i]); /* MHD's now, even on failure */
                s->daemons[i] = daemon_start(s, fd);
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
        if (s->unix_path)
                unlink(s->unix_path);
}

void http_server_free(struct http_server *s)
{
        if (s == NULL)
                return;
        http_server_stop(s);
        for (size_t i = 0; i < ARRAY_SIZE(s->listen_fds); i++)
                if (s->listen_fds[i] >= 0)
                        close(s->listen_fds[i]);
        if (!s->started && s->unix_path)
                unlink(s->unix_path);
        for (size_t i = 0; i < s->nroutes; i++) {
                free(s->routes[i].method);
                http_segs_free(s->routes[i].segs, s->routes[i].nsegs);
        }
        free(s->routes);
        free(s->unix_path);
        free(s->vmax_str);
        free(s->vmin_str);
        free(s->server_header);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s);
}
