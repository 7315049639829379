/* The HTTP layer berthd serves Docker's Engine API with: HTTP/1.1 on unix
 * sockets and TLS-only TCP sockets, routes with {name} segments, the
 * /v1.NN version prefix, JSON and error replies with dockerd's headers,
 * chunked streams, and hijacked (101 upgraded) connections for attach and
 * exec.  Our own server (http-in.c parses, http-conn.c serves), not a
 * library's: the Engine API needs a small part of HTTP, and
 * libmicrohttpd, built with GnuTLS, put 2.6 MB of resident libraries into
 * a daemon that idles for days (bench/README.md).
 *
 * Threads.  One thread per connection.  Each request's
 * handler runs in a thread of its own, so it may block for as long as it
 * likes (wait, logs -f, pull progress) while the connection thread feeds
 * it the request body and sends what it writes.  The response goes out
 * when the handler replies, not when it returns: after http_reply_stream
 * the handler keeps writing, and the client already has the headers.
 *
 * Life of a server: http_server_new (binds and listens; clients that
 * connect now wait in the backlog), http_route..., http_server_start,
 * later http_server_stop and http_server_free.  Routes are registered
 * before start and never change afterwards.  Every thread of the server
 * inherits the signal mask of the thread that calls http_server_start. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct http_server;
struct http_request;
struct http_stream;

#define HTTP_API_VERSION_MAX "1.45"
#define HTTP_API_VERSION_MIN "1.24"
#define HTTP_MAX_BODY_DEFAULT ((size_t)64 << 20)

#define HTTP_MAX_LISTENERS 8

/* TLS on a TCP socket, as dockerd's --tlsverify: PEM texts, not paths.
 * Every client must present a certificate that ca signed for client
 * authentication; a request from any other client is answered 403 and
 * reaches no handler.  (The handshake asks for the certificate without
 * requiring it, so a refused client reads a 403; http-tls.c.) */
struct http_tls {
        const char *cert, *key;         /* the server's certificate chain and key */
        const char *ca;                 /* what client certificates must chain to */
};

/* One socket to serve: a unix socket, or a TCP address with TLS. */
struct http_listener {
        /* Unix socket to create (a stale socket file there is removed
         * first; a live one, where a connect succeeds, is an error). */
        const char *unix_path;
        mode_t unix_mode;               /* 0 means 0660 */
        bool unix_chgrp;                /* give the socket to unix_gid */
        gid_t unix_gid;
        /* "HOST:PORT", "[::1]:PORT", ":PORT" (every address); a TCP
         * socket without tls is refused, since it would give root on
         * this host to anyone who reaches it. */
        const char *tcp_addr;
        const struct http_tls *tls;
};

struct http_server_opts {
        /* Sockets to serve, HTTP_MAX_LISTENERS at most, counting the two
         * below. */
        const struct http_listener *listeners;
        size_t n_listeners;
        /* One unix socket, as a listener would give it. */
        const char *unix_path;
        mode_t unix_mode;               /* 0 means 0660 */
        bool unix_chgrp;                /* give the socket to unix_gid */
        gid_t unix_gid;
        /* An already listening socket (socket activation, TCP): the server
         * takes it over, even when http_server_new fails, and closes it. */
        bool use_listen_fd;
        int listen_fd;
        /* Highest API version: sent as Api-Version and used for requests
         * without a /vN.NN prefix.  NULL means HTTP_API_VERSION_MAX. */
        const char *api_version;
        const char *min_api_version;    /* NULL means HTTP_API_VERSION_MIN */
        size_t max_body;                /* buffered bodies; 0 = 64 MiB; beyond: 413 */
};

int http_server_new(const struct http_server_opts *o, struct http_server **out, berth_error_t **err);
/* Start serving: a thread per socket starts accepting. */
int http_server_start(struct http_server *s, berth_error_t **err);
/* Stop accepting, cut every open request (clients see their connection
 * close, handlers see reads and writes fail and the cancel fd fire), then
 * wait until every handler has returned.  A handler that blocks on
 * something other than its request (see http_request_cancel_fd) delays
 * this.  Removes the unix sockets.  Idempotent. */
void http_server_stop(struct http_server *s);
void http_server_free(struct http_server *s);   /* stops first */

/* A handler replies exactly once (http_reply_*).  Returning a negative
 * value without having replied answers with *err: the status from
 * http_status_for_errno(err->status), the message err->msg.  Returning
 * without a reply is a bug and answers 500. */
typedef int (*http_handler_fn)(struct http_request *req, void *data, berth_error_t **err);

enum http_route_flags {
        /* Start the handler as soon as the headers arrived and stream the
         * body to it (http_body_read), instead of buffering it first:
         * image load, build contexts, archive uploads. */
        HTTP_ROUTE_STREAM_BODY = 1 << 0,
};

/* Pattern: "/containers/{id}/start".  {name} matches one non-empty path
 * segment; {name*} one or more, slashes included, for image names such as
 * "/images/{name*}/push".  Patterns omit the version prefix.  The first
 * matching route in registration order wins.  A malformed pattern or a
 * route added after start is a programming error and aborts. */
void http_route(struct http_server *s, const char *method, const char *pattern,
                http_handler_fn fn, void *data);
void http_route_flags(struct http_server *s, const char *method, const char *pattern,
                      unsigned flags, http_handler_fn fn, void *data);
/* HEAD and GET /_ping as dockerd answers them. */
void http_route_ping(struct http_server *s);

/* --- the request (valid until the handler returns) --- */
const char *http_method(const struct http_request *req);
/* The decoded path without the version prefix: "/containers/json". */
const char *http_path(const struct http_request *req);
/* The API version of the request: its prefix, else the server's highest. */
void http_version(const struct http_request *req, unsigned *major, unsigned *minor);
/* <0, 0, >0 as the request's version is below, at, above major.minor. */
int http_version_cmp(const struct http_request *req, unsigned major, unsigned minor);
/* A {name} of the route; NULL when the route has none of that name. */
const char *http_param(const struct http_request *req, const char *name);
/* Decoded query value ('+' is a space); "" for "?all"; NULL if absent.
 * The first one wins when a name repeats. */
const char *http_query(const struct http_request *req, const char *name);
/* Every value of a repeated name (changes=A&changes=B), in order: up to
 * max into out; returns how many. */
size_t http_query_all(const struct http_request *req, const char *name, const char **out, size_t max);
/* dockerd's boolValue: false when absent, "", "0", "no", "false" or
 * "none" (any case, spaces trimmed), true otherwise. */
bool http_query_bool(const struct http_request *req, const char *name);
/* Case-insensitive; NULL if absent. */
const char *http_header(const struct http_request *req, const char *name);

/* Buffered body (routes without HTTP_ROUTE_STREAM_BODY): NUL-terminated,
 * *len excludes the NUL; "" when there is none. */
const char *http_body(const struct http_request *req, size_t *len);
/* The body as JSON: *out NULL for an empty body; a syntax error is
 * EINVAL ("invalid JSON: ..."), which handlers answer with 400. */
int http_body_json(const struct http_request *req, json_t **out, berth_error_t **err);
/* Read the body incrementally, on any route: >0 bytes, 0 at its end,
 * -ECONNRESET when the client went away before sending all of it. */
ssize_t http_body_read(struct http_request *req, void *buf, size_t len);
/* HTTP_ROUTE_STREAM_BODY routes: the socket the body arrives on, for code
 * that wants an fd (libarchive, poll); -1 on other routes.  Read it, never
 * close it; at its EOF http_body_complete says whether that was the whole
 * body or the client went away. */
int http_body_fd(const struct http_request *req);
bool http_body_complete(const struct http_request *req);

/* Readable (never read it) once the client has gone away or closed its
 * sending side, or the server is stopping: what a blocked handler polls
 * alongside its own event (Go's request context, in dockerd). */
int http_request_cancel_fd(const struct http_request *req);
bool http_request_cancelled(const struct http_request *req);

/* --- replies (from the handler's thread, once) --- */
/* An extra header on the reply that follows (X-Docker-Container-Path-Stat). */
void http_reply_header(struct http_request *req, const char *name, const char *value);
/* JSON body + "\n" as Go's encoder writes it.  Takes over the reference
 * to j (decrefs it). */
int http_reply_json(struct http_request *req, unsigned status, json_t *j);
/* {"message":"..."}, the shape the docker CLI prints errors from. */
int http_reply_error(struct http_request *req, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* err->msg with the status for err->status (500 when err is NULL). */
int http_reply_berror(struct http_request *req, const berth_error_t *err);
int http_reply_empty(struct http_request *req, unsigned status);   /* 204, 304, 201 */
int http_reply_raw(struct http_request *req, unsigned status, const char *content_type,
                   const void *buf, size_t len);
/* An error for a handler to return whose message reaches the client as
 * is (no strerror suffix) and whose errno picks the status:
 * return http_errorf(err, ENOENT, "No such container: %s", id); */
int http_errorf(berth_error_t **err, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ENOENT/ESRCH 404, EEXIST/EBUSY 409, EINVAL/ERANGE 400, EPERM/EACCES
 * 403, ENOSYS/EOPNOTSUPP 501, anything else 500. */
unsigned http_status_for_errno(int e);

/* A chunked response whose headers go out now; the handler writes the
 * body with http_stream_* and ends it with http_stream_close (done for it
 * when it returns).  The body goes out only after the whole request body
 * has arrived (the connection thread reads that first): a STREAM_BODY
 * handler reads its body before writing much, or its writes block once
 * ~200 KiB are pending. */
int http_reply_stream(struct http_request *req, unsigned status, const char *content_type,
                      struct http_stream **out);
/* 0, or negative (-EPIPE, -ECONNRESET) once the client has gone away. */
int http_stream_write(struct http_stream *s, const void *buf, size_t len);
/* One object + "\r\n", as dockerd's progress streams (pull, push, build). */
int http_stream_json(struct http_stream *s, json_t *j);         /* decrefs j */
/* One object + "\n", as Go's json.Encoder (wait, events, stats). */
int http_stream_json_lf(struct http_stream *s, json_t *j);      /* decrefs j */
void http_stream_close(struct http_stream *s);

/* --- hijacked connections: attach, exec start --- */
struct http_hijack {
        /* The client's socket: read, write, shutdown(SHUT_WR) to end the
         * output while still reading.  Blocking.  Never close it. */
        int fd;
        /* Bytes the client sent right after the request that the server
         * had already read: they come before anything read from fd.
         * http_hijack_read hands them out first. */
        const char *extra;
        size_t extra_len;
        /* false: the client asked for no upgrade and got a 200 with a raw
         * body (dockerd's old behaviour): fd reads only EOF. */
        bool upgraded;
        struct http_request *req;
};
typedef int (*http_hijack_fn)(struct http_hijack *h, void *data);

/* With "Upgrade:" in the request (docker CLI: Connection: Upgrade,
 * Upgrade: tcp): answer "101" with Content-Type content_type
 * ("application/vnd.docker.raw-stream" or
 * "application/vnd.docker.multiplexed-stream"), Connection: Upgrade and
 * Upgrade: tcp, then run fn in the handler's thread with the raw socket;
 * the connection closes when fn returns.  Returns what fn returned, or
 * -ECONNRESET if the client went away before the upgrade. */
int http_reply_hijack(struct http_request *req, const char *content_type,
                      http_hijack_fn fn, void *data);
/* extra first, then the socket: >0, 0 at EOF (the client's half-close),
 * <0 -errno. */
ssize_t http_hijack_read(struct http_hijack *h, void *buf, size_t len);
/* All of buf, without SIGPIPE: 0 or -errno. */
int http_hijack_write(struct http_hijack *h, const void *buf, size_t len);
/* End the output; reading goes on. */
int http_hijack_close_write(struct http_hijack *h);
