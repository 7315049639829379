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
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

struct http_tls_ctx;
struct http_tls_session;

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

/* Buffered input of a connection: what was read but not yet consumed is
 * buf[start, end).  fill reads more from the connection: >0 bytes, 0 at
 * EOF, -errno.  Pure over fill, so the fuzzer feeds it from memory. */
struct http_in {
        char *buf;
        size_t cap, start, end;
        ssize_t (*fill)(void *ctx, void *buf, size_t len);
        void *ctx;
};

/* A request head as it arrived: method, target and headers. */
struct http_head {
        char *method;
        char *target;           /* "/v1.45/containers/json?all=1" */
        unsigned minor;         /* HTTP/1.<minor> */
        struct http_kvs headers;
};

/* How the request body is framed, and how much of it is left. */
struct http_body_in {
        bool chunked;
        uint64_t left;          /* of the Content-Length, or of the chunk */
        bool in_chunk;          /* chunked: inside data (left bytes to go) */
        bool done;
};

/* One client connection, served by one thread. */
struct http_conn {
        struct http_server *srv;
        int fd;
        struct http_tls_ctx *tls_ctx;   /* the listener's; NULL on plain sockets */
        struct http_tls_session *tls;   /* after the handshake */
        struct http_in in;
        struct http_conn *prev, *next;  /* srv->conns */
};

/* What a handler answers with; the connection thread writes it out. */
struct http_response {
        struct http_kvs headers;        /* in the order they go out */
        char *body;                     /* fixed body (Content-Length) */
        size_t len;
        int stream_fd;                  /* or a body read from here until EOF */
        bool close_delimited;           /* ...ended by closing, not chunked */
        bool upgrade;                   /* 101: the socket goes to the handler */
        int cancel_fd;                  /* streams: the request's, dup'ed */
};

struct http_server {
        pthread_mutex_t lock;
        pthread_cond_t cond;            /* any request or connection state changed */
        int listen_fds[HTTP_MAX_LISTENERS];
        size_t nlisten;
        pthread_t acceptors[HTTP_MAX_LISTENERS];
        size_t nacceptors;
        int stop_efd;                   /* wakes the acceptors at stop */
        char *unix_paths[HTTP_MAX_LISTENERS];   /* removed at stop */
        struct http_tls_ctx *tls[HTTP_MAX_LISTENERS]; /* NULL: plain */
        struct http_conn *conns;        /* every connection being served */
        size_t nconns;
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
        struct http_conn *conn;
        struct http_request *prev, *next;       /* srv->live */
        unsigned refs;                  /* connection side + handler thread */
        int client_fd;                  /* the connection's socket, for polling only */
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
        bool conn_done;                 /* the connection thread is finished with it */
        int wake_efd;                   /* the connection thread waits on it */
        int cancel_efd;
        bool cancelled;
        struct http_response *response; /* handed over, not yet sent */
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

/* http-in.c: pure parsing of what clients send, fuzzable. */
void http_in_init(struct http_in *in, ssize_t (*fill)(void *, void *, size_t), void *ctx);
void http_in_free(struct http_in *in);
/* The next request head, consumed from in: 1, 0 at a clean EOF before
 * any byte, -EPROTO when malformed, -E2BIG beyond max bytes, -errno. */
int http_read_head(struct http_in *in, struct http_head *h, size_t max);
void http_head_clear(struct http_head *h);
/* The body's framing from the head: -EPROTO for a framing we refuse
 * (Content-Length and chunked together, a bad length, other codings). */
int http_body_framing(const struct http_head *h, struct http_body_in *b);
/* Body bytes into buf: >0, 0 at its end, -EPROTO, -ECONNRESET at an
 * early EOF, -errno. */
ssize_t http_read_body(struct http_in *in, struct http_body_in *b, char *buf, size_t len);
/* Split and decode a request target: the path (%XX decoded) and the
 * query (also '+' as space); -EPROTO when malformed. */
int http_decode_target(const char *target, char **path, struct http_kvs *query);

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
/* Takes the head's method and headers; NULL when the server is stopping
 * or the target is malformed (*bad set then). */
struct http_request *http_request_new(struct http_conn *c, struct http_head *h, bool *bad);
void http_request_unref(struct http_request *req);
void http_request_cancel_locked(struct http_request *req);
/* Server stopping: wake and cut everything the request blocks on. */
void http_request_abort_locked(struct http_request *req);
int http_request_start_handler(struct http_request *req);

/* http-conn.c: serving a connection */
void *http_conn_main(void *conn);
/* http-server.c: off the server's list of connections (lock held). */
void http_conn_unlink_locked(struct http_server *s, struct http_conn *c);

/* http-tls.c: TLS on TCP listeners, with gnutls. */
int http_tls_ctx_new(const struct http_tls *tls, struct http_tls_ctx **out, berth_error_t **err);
void http_tls_ctx_free(struct http_tls_ctx *ctx);
/* Handshake on a connected socket: NULL when it failed (logged). */
struct http_tls_session *http_tls_accept(struct http_tls_ctx *ctx, int fd);
void http_tls_session_free(struct http_tls_session *t);
ssize_t http_tls_recv(struct http_tls_session *t, void *buf, size_t len);
int http_tls_send_all(struct http_tls_session *t, const void *buf, size_t len);
/* Why the client is refused (as dockerd's --tlsverify: a certificate
 * that chains to the CA and is fit for client authentication), or NULL. */
char *http_tls_client_refusal(struct http_tls_session *t);
/* Upgraded TLS connections: the hijack fn gets *app_fd, one end of a
 * socketpair, and the connection thread relays between it and the TLS
 * session (a client's close_notify becomes EOF there, and the app's
 * shutdown a close_notify), until both sides ended or the handler is done
 * (req->hj leaves HTTP_HJ_READY, with req->wake_efd woken). */
int http_tls_relay(struct http_tls_session *t, struct http_request *req, int app_end);

/* http-route.c */
const struct http_route *http_route_find(const struct http_server *s, const char *method,
                                         const char *path, struct http_kvs *params);

/* http-reply.c */
struct http_response *http_response_new(void);
void http_response_free(struct http_response *r);
void http_response_add(struct http_response *r, const char *name, const char *value);
struct http_response *http_error_response(struct http_server *srv, const char *msg);
/* Add the headers every reply carries (not 101s) and the handler's extras. */
void http_response_headers(struct http_request *req, struct http_response *r, unsigned status);
/* Hand a response to the connection thread; it owns it afterwards. */
int http_reply_response(struct http_request *req, unsigned status, struct http_response *r);
void http_wake(int efd);
const char *http_reason(unsigned status);

/* http-stream.c */
/* A response that streams what is written to the other end of *fd. */
struct http_response *http_stream_response(struct http_request *req, int *fd, bool close_delimited);
