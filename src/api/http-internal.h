/* What the files of the HTTP layer share: the server, the request and its
 * hand-over between the connection thread and the handler thread.
 *
 * Locking: one mutex per server guards every request's shared state
 * (refs, reply hand-over, hijack state, upload state, fds another thread
 * may shut down).  An fd is closed only by its owner, under the lock,
 * which sets it to -1; other threads may only shutdown() it, under the
 * lock, so they never touch a number that was reused. */
#pragma once
#include "api/http.h"
#include <microhttpd.h>
#include <pthread.h>
#include <unistd.h>

struct http_kv {
        char *key;
        char *value;
};

struct http_kvs {
        struct http_kv *v;
        size_t n;
};

struct http_api_version {
        unsigned major, minor;
};

/* One segment of a route pattern. */
struct http_seg {
        char *text;     /* literal text, or the parameter's name */
        bool param;     /* {text} */
        bool rest;      /* {text*}: one or more segments */
};

struct http_route {
        char *method;
        struct http_seg *segs;
        size_t nsegs;
        unsigned flags;
        http_handler_fn fn;
        void *data;
};

struct http_server {
        pthread_mutex_t lock;
        pthread_cond_t cond;            /* any request state changed */
        struct MHD_Daemon *daemons[HTTP_MAX_LISTENERS];
        int listen_fds[HTTP_MAX_LISTENERS];     /* ours until start hands them over */
        size_t nlisten;
        char *unix_paths[HTTP_MAX_LISTENERS];   /* removed at stop */
        struct http_tls tls[HTTP_MAX_LISTENERS]; /* owned copies; cert NULL: plain */
        struct http_route *routes;
        size_t nroutes;
        struct http_api_version vmax, vmin;
        char *vmax_str, *vmin_str;
        char *server_header;            /* "Berth/<version> (linux)" */
        size_t max_body;
        bool started, stopping, stopped;
        struct http_request *live;      /* every request not yet freed */
        size_t nlive;
};

enum http_body_mode {
        HTTP_BODY_BUFFER,               /* collect, run the handler at the end */
        HTTP_BODY_STREAM,               /* socketpair to the running handler */
        HTTP_BODY_DISCARD,              /* nobody wants the rest */
};

enum http_hijack_state {
        HTTP_HJ_NONE,
        HTTP_HJ_WAITING,                /* 101 queued, socket not yet ours */
        HTTP_HJ_READY,                  /* the handler runs the hijack fn */
        HTTP_HJ_DONE,
        HTTP_HJ_FAILED,                 /* connection ended before the upgrade */
};

struct http_request {
        struct http_server *srv;
        struct MHD_Connection *conn;
        struct http_request *prev, *next;       /* srv->live */
        unsigned refs;                  /* connection side + handler thread */
        int client_fd;                  /* MHD's socket, for polling only */
        bool http11;

        char *method, *url, *path;      /* url: as received (decoded) */
        char *log_url;                  /* quoted, for log lines */
        struct http_api_version version;
        const struct http_route *route;
        struct http_kvs params, query, headers, reply_headers;
        unsigned pre_status;            /* answered without a handler */
        char *pre_msg;

        enum http_body_mode body_mode;
        char *body;
        size_t body_len, body_cap, body_off;
        int body_rfd, body_wfd;         /* HTTP_BODY_STREAM */
        bool upload_complete;

        bool handler_started;
        bool conn_done;                 /* libmicrohttpd is finished with it */
        int wake_efd;                   /* the connection thread waits on it */
        int cancel_efd;
        bool cancelled;
        struct MHD_Response *response;  /* handed over, not yet queued */
        unsigned status;
        bool replied;
        struct http_stream *stream;     /* closed for the handler if it forgets */

        enum http_hijack_state hj;
        int hj_fd;
        const char *hj_extra;
        size_t hj_extra_len;
};

static inline void http_close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* http-path.c: pure parsing, fuzzable. */
/* "/v1.41/x" -> version 1.41 and rest "/x"; false (rest = url) without a
 * prefix.  vstr gets the version text for messages. */
bool http_split_version(const char *url, struct http_api_version *v, const char **rest,
                        char *vstr, size_t vstr_size);
bool http_parse_version(const char *s, struct http_api_version *v);
int http_version_compare(const struct http_api_version *a, const struct http_api_version *b);
bool http_parse_bool(const char *s);
int http_pattern_parse(const char *pattern, struct http_seg **segs, size_t *nsegs);
void http_segs_free(struct http_seg *segs, size_t n);
/* Match a path; on success params holds the {name} values. */
bool http_pattern_match(const struct http_seg *segs, size_t nsegs, const char *path,
                        struct http_kvs *params);

/* http-body.c: the connection thread's side */
void http_body_take(struct http_request *req, const char *data, size_t n);
void http_body_done(struct http_request *req);

/* http-listen.c */
int http_listen_unix(const char *path, mode_t mode, bool chgrp, gid_t gid, int *out,
                     berth_error_t **err);
int http_listen_tcp(const char *addr, int *out, berth_error_t **err);

/* http-kvs.c */
void http_kvs_add(struct http_kvs *kvs, const char *key, size_t klen, const char *value, size_t vlen);
const char *http_kvs_get(const struct http_kvs *kvs, const char *key, bool nocase);
void http_kvs_clear(struct http_kvs *kvs);

/* http-request.c */
struct http_request *http_request_new(struct http_server *srv, struct MHD_Connection *c,
                                      const char *url, const char *method, const char *version);
void http_request_unref(struct http_request *req);
void http_request_cancel_locked(struct http_request *req);
/* Server stopping: wake and cut everything the request blocks on. */
void http_request_abort_locked(struct http_request *req);
int http_request_start_handler(struct http_request *req);

/* http-conn.c: libmicrohttpd's callbacks */
enum MHD_Result http_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls);
void http_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                       enum MHD_RequestTerminationCode toe);
/* Upgraded TLS connections.  libmicrohttpd's own relay runs only once the
 * upgrade callback returns and passes no half-close on (a client's
 * close_notify never reaches the application as EOF), so the connection
 * thread, parked in the callback anyway, relays instead: the hijack fn
 * gets *app_fd, one end of a socketpair.  NULL when c is not TLS. */
struct http_tls_relay;
struct http_tls_relay *http_tls_relay_new(struct MHD_Connection *c, int *app_fd);
/* Until the client has closed and the app end has ended, or the handler
 * is done (req->hj leaves HTTP_HJ_READY, with req->wake_efd woken). */
void http_tls_relay_run(struct http_tls_relay *t, struct http_request *req);
void http_tls_relay_free(struct http_tls_relay *t);

/* http-route.c */
const struct http_route *http_route_find(const struct http_server *s, const char *method,
                                         const char *path, struct http_kvs *params);

/* http-reply.c */
struct MHD_Response *http_error_response(struct http_server *srv, const char *msg);
/* Add the headers every reply carries (not 101s) and the handler's extras. */
void http_response_headers(struct http_request *req, struct MHD_Response *r, unsigned status);
/* Hand a response to the connection thread; it owns it afterwards. */
int http_reply_response(struct http_request *req, unsigned status, struct MHD_Response *r);
void http_wake(int efd);

/* http-stream.c */
/* A response that streams what is written to the other end of *fd. */
struct MHD_Response *http_stream_response(struct http_request *req, int *fd, bool close_delimited);
