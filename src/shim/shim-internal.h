/* What the shim's files share.  shim.h holds the contract. */
#pragma once
#include "shim/shim.h"
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* stdcopy's stream numbers, also used as indexes */
enum shim_stream { SHIM_STDIN = 0, SHIM_STDOUT = 1, SHIM_STDERR = 2 };

/* ---- shim-buf.c: a growable byte queue ---- */
struct shim_buf {
        char *data;
        size_t len;
        size_t cap;
};
void shim_buf_append(struct shim_buf *b, const void *p, size_t n);
/* Drop the first n bytes. */
void shim_buf_consume(struct shim_buf *b, size_t n);
void shim_buf_free(struct shim_buf *b);

/* ---- shim-format.c: formats shared by the log and the exit record ---- */
#define SHIM_TIME_MAX 40
/* UTC in Go's RFC3339Nano: fraction without trailing zeros. */
void shim_format_time(const struct timespec *ts, char out[SHIM_TIME_MAX]);
/* s as a JSON string (quotes included), escaped as Docker's json-file. */
void shim_json_string(struct shim_buf *b, const char *s, size_t len);

/* ---- shim-log.c: the json-file writer ---- */
#define SHIM_LOG_LINE_MAX (16 * 1024)
struct shim_log {
        char *path;
        int fd;
        long long size;
        long long max_size;
        int max_files;
        bool failed;                 /* a write error was reported once */
        struct shim_buf entry;       /* the line being encoded */
        char *partial[3];            /* per stream: text not yet ended by \n */
        size_t partial_len[3];
};
int shim_log_open(struct shim_log *l, const char *path, long long max_size, int max_files, berth_error_t **err);
void shim_log_write(struct shim_log *l, enum shim_stream s, const char *data, size_t len);
/* Write out unterminated lines (EOF of the stream). */
void shim_log_flush(struct shim_log *l, enum shim_stream s);
void shim_log_close(struct shim_log *l);

/* ---- shim-stdin.c: input for the container, buffered ---- */
struct shim_stdin {
        int fd;                      /* pipe write end, or a dup of the pty master; -1 */
        bool close_pending;          /* close once buf is written */
        struct shim_buf buf;
};
void shim_stdin_init(struct shim_stdin *in, int fd);
/* Room for more input (else stop reading clients: backpressure). */
bool shim_stdin_wants(const struct shim_stdin *in);
void shim_stdin_feed(struct shim_stdin *in, const char *data, size_t len);
void shim_stdin_close(struct shim_stdin *in);
/* poll events wanted on in->fd (0 or POLLOUT), and what to do on them */
short shim_stdin_events(const struct shim_stdin *in);
void shim_stdin_writable(struct shim_stdin *in);

/* ---- shim-attach.c: the attach server ---- */
struct attach_client {
        int fd;
        bool read_eof;
        struct shim_buf out;
};
struct shim_attach {
        int listen_fd;
        bool framed;                 /* stdcopy headers (no tty) */
        bool keep_stdin;
        struct attach_client *clients;
        size_t n;
};
int shim_attach_listen(struct shim_attach *a, const char *path, bool framed, bool keep_stdin, berth_error_t **err);
void shim_attach_broadcast(struct shim_attach *a, enum shim_stream s, const char *data, size_t len);
/* Some client has so much queued that reading output must pause. */
bool shim_attach_congested(const struct shim_attach *a);
/* Fill pfd (room for 1 + a->n) with the listener and clients; returns count. */
size_t shim_attach_pollfds(const struct shim_attach *a, struct pollfd *pfd, bool want_input);
void shim_attach_handle(struct shim_attach *a, const struct pollfd *pfd, size_t n, struct shim_stdin *in);
bool shim_attach_drained(const struct shim_attach *a);
/* EOF to every client (after a last try to send what is queued), close all. */
void shim_attach_close(struct shim_attach *a);

/* ---- the shim itself (shim.c) ---- */
struct shim {
        const struct shim_opts *o;
        char *state_dir;
        char *control_path;
        char *attach_path;
        char *console_path;
        char *pid_path;
        char *exit_path;
        bool owns_files;             /* the sockets and pid file here are ours */
        int signal_fd;               /* self-pipe: SIGCHLD, SIGTERM, SIGINT */
        int control_fd;
        int out_fd[3];               /* [STDOUT] pipe or pty master, [STDERR] pipe; -1 at EOF */
        int master_fd;               /* the pty master (resize), -1 without --tty */
        struct shim_stdin in;
        struct shim_log log;
        struct shim_attach attach;
        pid_t init_pid;
        bool exited;
        int wait_status;
        struct timespec finished;
        bool oom_killed;
};

/* shim-detach.c: fork twice; returns in the detached grandchild with
 * *ready_fd set, exits in the others with the grandchild's verdict. */
int shim_detach(int *ready_fd, berth_error_t **err);
void shim_report_ready(int ready_fd);
void shim_report_error(int ready_fd, const berth_error_t *err);

/* shim-runtime.c: the container through berth-runtime's library, or
 * through the --runtime binary (runc's command line) when one is given. */
struct create_opts;
int shim_rt_create(struct shim *s, const struct create_opts *co, berth_error_t **err);
int shim_rt_init_pid(struct shim *s, pid_t *pid, berth_error_t **err);
int shim_rt_start(struct shim *s, berth_error_t **err);
int shim_rt_kill(struct shim *s, int sig, bool all, berth_error_t **err);
int shim_rt_state(struct shim *s, json_t **state, berth_error_t **err);
/* Kill what is left of the container and delete it. */
int shim_rt_delete(struct shim *s, berth_error_t **err);

/* shim-create.c: the container's stdio and container_create. */
int shim_create(struct shim *s, berth_error_t **err);

/* shim-signals.c */
int shim_signals_setup(berth_error_t **err);
/* Read the self-pipe; returns a bitmask of (1 << signal) seen. */
unsigned long shim_signals_take(int fd);

/* shim-control.c */
int shim_control_listen(struct shim *s, berth_error_t **err);
void shim_control_accept(struct shim *s);

/* shim-exit.c */
/* Reap children; true when the init was among them. */
bool shim_reap(struct shim *s);
/* Kill what is left of the container, record OOM, delete it. */
void shim_teardown_container(struct shim *s);
int shim_write_exit(struct shim *s, berth_error_t **err);
int shim_exit_code(const struct shim *s);

/* Bind a listening unix stream socket at path (non-blocking, cloexec). */
int shim_listen_unix(const char *path, berth_error_t **err);
/* Does a process listen at path (another shim of this container)? */
bool shim_socket_live(const char *path);
