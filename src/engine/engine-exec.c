/* docker exec: a process added to a running container.  The process is
 * the container's own (env, capabilities, rlimits, security) with the
 * exec's command, env, user and working directory.  It runs through
 * berth-runtime exec in a child of berthd (berthd's own stdio and its
 * threads must not be touched):
 *   - without a tty, its stdio are pipes, bridged to the hijacked
 *     connection in stdcopy frames;
 *   - with one, the runtime sends the pty master over --console-socket
 *     (a socket of ours, SCM_RIGHTS) and the master is bridged raw;
 *     POST /exec/{id}/resize sets its size.
 * A process the runtime could not start (no such program, or one that
 * may not run) ends as with dockerd: its error on the client's stdout,
 * exit status 127 or 126 (out_finish).
 * Healthcheck probes run the same way with no client (exec_probe_run). */
#include "engine/docker-user.h"
#include "engine/daemon-config.h"
#include "engine/engine-internal.h"
#include "runtime/console.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

struct exec_rec {
        char id[CONTAINER_ID_LEN + 1];
        char ctr_id[CONTAINER_ID_LEN + 1];
        json_t *process;        /* OCI process object */
        json_t *body;           /* the exec create request */
        bool attach_stdin, attach_stdout, attach_stderr, tty;
        bool running, done;
        pid_t pid;
        int64_t exit_code;
        int master;             /* a Tty exec's terminal while it runs, else -1 */
        unsigned short rows, cols; /* the last resize, for a terminal not there yet */
        struct exec_rec *next;
};

static pthread_mutex_t execs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct exec_rec *execs;

static struct exec_rec *exec_find(const char *id)
{
        for (struct exec_rec *x = execs; x; x = x->next)
                if (strcmp(x->id, id) == 0)
                        return x;
        return NULL;
}

static json_t *strv_json(json_t *arr)
{
        return json_is_array(arr) ? json_deep_copy(arr) : json_array();
}

/* env: the container's, then the exec's (same key replaced). */
static void merge_env(json_t *process, json_t *extra)
{
        json_t *env = json_object_get(process, "env");
        size_t i, k;
        json_t *v, *have;

        json_array_foreach(extra, i, v) {
                const char *kv = json_string_value(v);
                const char *eq = kv ? strchr(kv, '=') : NULL;
                size_t klen = eq ? (size_t)(eq - kv) : (kv ? strlen(kv) : 0);
                bool replaced = false;
                if (kv == NULL)
                        continue;
                json_array_foreach(env, k, have) {
                        const char *h = json_string_value(have);
                        if (h && strncmp(h, kv, klen) == 0 && (h[klen] == '=' || h[klen] == '\0')) {
                                json_array_set(env, k, v);
                                replaced = true;
                                break;
                        }
                }
                if (!replaced)
                        json_array_append(env, v);
        }
}

static int set_user(struct engine *e, struct ctr *c, json_t *process, const char *spec, berth_error_t **err)
{
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        struct docker_user u = { 0 };
        json_t *gids = json_array();

        if (docker_user_resolve(rootfs, spec, NULL, &u, err) < 0) {
                json_decref(gids);
                return -1;
        }
        for (size_t i = 0; i < u.n_gids; i++)
                json_array_append_new(gids, json_integer(u.gids[i]));
        json_object_set_new(process, "user",
                            json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid,
                                      "additionalGids", gids));
        docker_user_clear(&u);
        return 0;
}

/* The container's process running args instead; NULL unless it runs.
 * Caller holds c->lock. */
static json_t *exec_process(struct ctr *c, json_t *args, bool tty)
{
        json_t *process;

        if (c->status != CTR_RUNNING)
                return NULL;
        process = json_deep_copy(json_object_get(c->config, "process"));
        json_object_set_new(process, "args", strv_json(args));
        json_object_set_new(process, "terminal", json_boolean(tty));
        json_object_del(process, "consoleSize");
        return process;
}

/* ConsoleSize [height, width] (API 1.42+): the terminal's size from the
 * start, before any resize. */
static void console_size(json_t *process, json_t *body)
{
        json_t *size = json_object_get(body, "ConsoleSize");
        json_int_t h = json_integer_value(json_array_get(size, 0)), w = json_integer_value(json_array_get(size, 1));

        if (h > 0 && w > 0 && h <= 65535 && w <= 65535)
                json_object_set_new(process, "consoleSize", json_pack("{s:I, s:I}", "height", h, "width", w));
}

static bool env_has(json_t *process, const char *key)
{
        size_t i, n = strlen(key);
        json_t *v;

        json_array_foreach(json_object_get(process, "env"), i, v) {
                const char *kv = json_string_value(v);
                if (kv && strncmp(kv, key, n) == 0 && kv[n] == '=')
                        return true;
        }
        return false;
}

static int exec_options(struct engine *e, struct ctr *c, json_t *process, json_t *body, berth_error_t **err)
{
        const char *wd = json_string_value(json_object_get(body, "WorkingDir"));
        const char *user = json_string_value(json_object_get(body, "User"));

        /* dockerd: a terminal gets TERM=xterm unless the container says */
        if (json_is_true(json_object_get(body, "Tty")) && !env_has(process, "TERM"))
                json_array_append_new(json_object_get(process, "env"), json_string("TERM=xterm"));
        merge_env(process, json_object_get(body, "Env"));
        if (wd && *wd)
                json_object_set_new(process, "cwd", json_string(wd));
        if (json_is_true(json_object_get(body, "Tty")))
                console_size(process, body);
        if (user && *user)
                return set_user(e, c, process, user, err);
        return 0;
}

static void exec_add(struct ctr *c, json_t *process, json_t *body, char **id)
{
        struct exec_rec *x = xcalloc(1, sizeof(*x));

        random_hex_id(x->id);
        snprintf(x->ctr_id, sizeof(x->ctr_id), "%s", c->id);
        x->process = process;
        x->body = json_incref(body);
        x->attach_stdin = json_is_true(json_object_get(body, "AttachStdin"));
        x->attach_stdout = json_is_true(json_object_get(body, "AttachStdout"));
        x->attach_stderr = json_is_true(json_object_get(body, "AttachStderr"));
        x->tty = json_is_true(json_object_get(body, "Tty"));
        x->master = -1;
        pthread_mutex_lock(&execs_lock);
        x->next = execs;
        execs = x;
        pthread_mutex_unlock(&execs_lock);
        *id = xstrdup(x->id);
}

int engine_exec_create(struct engine *e, const char *name, json_t *body, char **id, berth_error_t **err)
{
        struct ctr *c;
        json_t *cmd = json_object_get(body, "Cmd"), *process;

        if (!json_is_array(cmd) || json_array_size(cmd) == 0)
                return berth_fail(err, EINVAL, "No exec command specified");
        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        process = exec_process(c, cmd, json_is_true(json_object_get(body, "Tty")));
        pthread_mutex_unlock(&c->lock);
        if (process == NULL) {
                ctr_unref(c);
                return berth_fail(err, EBUSY, "Container %s is not running", c->id);
        }
        if (exec_options(e, c, process, body, err) < 0) {
                json_decref(process);
                ctr_unref(c);
                return -1;
        }
        exec_add(c, process, body, id);
        ctr_unref(c);
        return 0;
}

/* ---- running berth-runtime exec ------------------------------------------ */

struct spawn_opts {
        const char *ctr_id, *process_file;
        const char *console_socket;     /* NULL: no terminal */
        const char *pid_file;           /* NULL: none */
        const char *log;                /* the runtime's JSON log; NULL: none */
        int in, out, err;               /* the runtime's stdio */
};

/* The runtime binary and --root the container was started with (an
 * external one from daemon.json, or berth-runtime), copied: a reload may
 * replace the configuration meanwhile. */
static void runtime_of(struct engine *e, const char *ctr_id, char **path, char **root)
{
        const char *p = e->o.runtime_path, *r = e->runtime_root;
        struct ctr *c = NULL;

        if (ctr_find(e, ctr_id, &c, NULL) == 0) {
                pthread_mutex_lock(&c->lock);
                daemon_config_runtime_cmd(c->body, e->o.runtime_path, e->runtime_root, &p, &r);
                *path = xstrdup(p);
                *root = xstrdup(r);
                pthread_mutex_unlock(&c->lock);
                ctr_unref(c);
                return;
        }
        *path = xstrdup(p);
        *root = xstrdup(r);
}

static pid_t spawn(struct engine *e, const struct spawn_opts *o)
{
        _cleanup_free_ char *runtime = NULL;
        _cleanup_free_ char *root = NULL;
        const char *argv[24];
        int n = 0;

        /* before the fork: the child of a threaded process may not lock */
        runtime_of(e, o->ctr_id, &runtime, &root);
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        dup2(o->in, 0);
        dup2(o->out, 1);
        dup2(o->err, 2);
        close_range(3, ~0U, 0);
        /* berthd ignores SIGPIPE and its threads block the signals its
         * main thread waits for: neither is for the runtime and what it
         * runs (a blocked SIGTERM survives exec) */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        /* a process group of its own: berthd's terminal signals are not
         * for it, and a probe is killed with what it started */
        setsid();
        argv[n++] = runtime;
        argv[n++] = "--root", argv[n++] = root;
        if (o->log)
                argv[n++] = "--log", argv[n++] = o->log, argv[n++] = "--log-format", argv[n++] = "json";
        argv[n++] = "exec", argv[n++] = "--process", argv[n++] = o->process_file;
        if (o->console_socket)
                argv[n++] = "--console-socket", argv[n++] = o->console_socket;
        if (o->pid_file)
                argv[n++] = "--pid-file", argv[n++] = o->pid_file;
        argv[n++] = o->ctr_id;
        argv[n] = NULL;
        execv(argv[0], (char *const *)argv);
        dprintf(2, "exec %s: %s\n", runtime, strerror(errno));
        _exit(127);
}

static int pidfd_of(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int reap_status(pid_t pid)
{
        int status = 0;

        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- what the client sees ------------------------------------------------ */

/* While output is held back, how often the runtime's pid file is looked
 * for; and past how much held output it cannot be the runtime's error. */
#define START_POLL_MS 10
#define HELD_MAX (64 * 1024)

/* The client's end of an exec's output.  Until the runtime has started
 * the process (its --pid-file is there) what comes out is held back: when
 * the start fails, it is the runtime's own complaint on the process's
 * stdio, and the client gets the error as dockerd words it instead
 * (out_finish). */
struct exec_out {
        int client;             /* -1: nobody to tell (detached) */
        bool gone;              /* the client stopped reading */
        bool tty;               /* raw, else stdcopy frames */
        const char *pid_file;
        bool started;
        char *held;
        size_t held_len;
};

static void out_send(struct exec_out *o, const void *buf, size_t n)
{
        if (o->client >= 0 && !o->gone && n > 0 && write_all(o->client, buf, n) < 0)
                o->gone = true;
}

/* Let what was held go out: the process runs (or the runtime's own
 * words are all there is to show). */
static void out_release(struct exec_out *o)
{
        o->started = true;
        out_send(o, o->held, o->held_len);
        free(steal_pointer(&o->held));
        o->held_len = 0;
}

static bool out_started(struct exec_out *o)
{
        if (!o->started && (access(o->pid_file, F_OK) == 0 || o->held_len > HELD_MAX))
                out_release(o);
        return o->started;
}

/* The poll timeout of a bridge: while output is held, look again soon. */
static int out_timeout(struct exec_out *o)
{
        return out_started(o) ? -1 : START_POLL_MS;
}

static void out_put(struct exec_out *o, const void *buf, size_t n)
{
        if (out_started(o)) {
                out_send(o, buf, n);
                return;
        }
        o->held = xrealloc(o->held, o->held_len + n);
        memcpy(o->held + o->held_len, buf, n);
        o->held_len += n;
}

/* Output of stream 1 or 2 (a terminal merges them) for the client. */
static void out_write(struct exec_out *o, int stream, const void *buf, size_t n)
{
        unsigned char h[8];

        if (o->client < 0 || o->gone)
                return;
        if (!o->tty) {
                stdcopy_header(h, stream, n);
                out_put(o, h, sizeof(h));
        }
        out_put(o, buf, n);
}

/* dockerd's exit status for a process that did not start, told by the
 * runtime's words (translateContainerdStartErr): 127 for a program that
 * is not there, 126 for one that may not run and for anything else. */
static int start_failure_status(const char *why)
{
        int status = 126;

        if (strcasestr(why, "executable file not found") || strcasestr(why, "no such file or directory"))
                status = 127;
        if (strcasestr(why, "permission denied"))
                status = 126;
        if (strcasestr(why, "not a directory"))
                status = 127;
        return status;
}

/* The runtime has exited with status.  When the process never started,
 * the client gets dockerd's line for why (on stdout, where dockerd writes
 * it) and the status is dockerd's; else what was held goes out. */
static int out_finish(struct exec_out *o, const char *log, int status)
{
        _cleanup_free_ char *why = out_started(o) ? NULL : berth_log_last_error(log);

        if (why == NULL) {
                out_release(o);
                return status;
        }
        free(steal_pointer(&o->held));
        o->held_len = 0;
        o->started = true;
        _cleanup_free_ char *line = xasprintf("OCI runtime exec failed: %s: unknown\r\n", why);
        out_write(o, 1, line, strlen(line));
        return start_failure_status(why);
}

/* ---- without a terminal ---------------------------------------------------- */

/* Pump the exec's output to the client and the client's input to it. */
static void bridge(struct exec_rec *x, struct exec_out *o, const void *extra, size_t extra_len, int in, int out,
                   int errp)
{
        struct pollfd p[3] = { { .fd = out, .events = POLLIN }, { .fd = errp, .events = POLLIN },
                               { .fd = x->attach_stdin ? o->client : -1, .events = POLLIN } };
        char buf[65536];

        if (in >= 0 && extra_len > 0)
                (void)write_all(in, extra, extra_len);
        while (p[0].fd >= 0 || p[1].fd >= 0) {
                if (poll(p, 3, out_timeout(o)) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        ssize_t n = read(p[i].fd, buf, sizeof(buf));
                        if (n <= 0) {
                                p[i].fd = -1;
                                continue;
                        }
                        if (i == 0 ? x->attach_stdout : x->attach_stderr)
                                out_write(o, i + 1, buf, (size_t)n);
                }
                if (p[2].fd >= 0 && p[2].revents) {
                        ssize_t n = read(o->client, buf, sizeof(buf));
                        if (n <= 0 || in < 0 || write_all(in, buf, (size_t)n) < 0) {
                                /* half-close: the exec's stdin ends */
                                if (in >= 0)
                                        close(in);
                                in = -1;
                                p[2].fd = -1;
                        }
                }
        }
        if (in >= 0)
                close(in);
}

/* Without a tty: pipes for stdio, stdout and stderr framed apart. */
static int run_piped(struct engine *e, struct exec_rec *x, struct spawn_opts *so, int client, const void *extra,
                     size_t extra_len, berth_error_t **err)
{
        int in[2] = { -1, -1 }, out[2], errp[2];
        _cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        struct exec_out o = { .client = client, .pid_file = so->pid_file };

        if ((x->attach_stdin && client >= 0 && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
            pipe2(errp, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        so->in = in[0] >= 0 ? in[0] : devnull;
        so->out = out[1];
        so->err = errp[1];
        x->pid = spawn(e, so);
        if (in[0] >= 0)
                close(in[0]);
        close(out[1]);
        close(errp[1]);
        /* detached too: drain, so the process never blocks on output */
        bridge(x, &o, extra, extra_len, in[1], out[0], errp[0]);
        close(out[0]);
        close(errp[0]);
        return out_finish(&o, so->log, reap_status(x->pid));
}

/* ---- with a terminal ------------------------------------------------------ */

static void set_winsize(int master, unsigned short rows, unsigned short cols)
{
        struct winsize ws = { .ws_row = rows, .ws_col = cols };

        if (rows > 0 && cols > 0)
                ioctl(master, TIOCSWINSZ, &ws);
}

/* The socket the runtime connects to with --console-socket. */
static int console_listen(struct engine *e, const char *exec_id, char **path, berth_error_t **err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        *path = xasprintf("%s/exec-%.12s.sock", e->exec_root, exec_id);
        if (strlen(*path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "console socket path %s is too long", *path);
        strcpy(sa.sun_path, *path);
        unlink(*path);
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
                return berth_error(err, errno, "socket");
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
                return berth_error(err, errno, "console socket %s", *path);
        return steal_fd(&fd);
}

/* Wait for fd to become readable unless the runtime (pidfd) ends first. */
static bool readable_before_exit(int fd, int pidfd)
{
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };

        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return false;
                }
                if (p[0].revents)
                        return true;
                if (p[1].revents)
                        return poll(p, 1, 0) == 1;
        }
}

/* The pty master the runtime sends once it made the terminal; -1 when
 * the runtime failed before (its stderr says why). */
static int receive_master(int listen_fd, int pidfd)
{
        _cleanup_close_ int conn = -1;

        if (!readable_before_exit(listen_fd, pidfd))
                return -1;
        if ((conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0 || !readable_before_exit(conn, pidfd))
                return -1;
        return recv_fd(conn, NULL);
}

static void master_publish(struct exec_rec *x, int master)
{
        pthread_mutex_lock(&execs_lock);
        x->master = master;
        if (master >= 0)
                set_winsize(master, x->rows, x->cols);
        pthread_mutex_unlock(&execs_lock);
}

/* Copy what fd has now (non-blocking) to the client. */
static void drain_to(int fd, struct exec_out *o)
{
        char buf[65536];
        ssize_t n;

        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                out_write(o, 1, buf, (size_t)n);
}

struct tty_bridge {
        int master, client, pidfd, errfd;
        bool attach_stdin;
        struct exec_out *out;
};

/* Copy one read of from to the client; false at its end. */
static bool pump_out(int from, struct tty_bridge *b)
{
        char buf[65536];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0)
                return false;
        out_write(b->out, 1, buf, (size_t)n);
        return true;
}

/* The client's keystrokes to the terminal; false once its input ends
 * (the terminal stays: only the process decides when it is done). */
static bool pump_in(struct tty_bridge *b)
{
        char buf[65536];
        ssize_t n = read(b->client, buf, sizeof(buf));

        return n > 0 && write_all(b->master, buf, (size_t)n) == 0;
}

/* One round of the raw bridge; false once the runtime has exited (the
 * process is gone: what the terminal still holds is flushed). */
static bool tty_round(struct tty_bridge *b, struct pollfd p[4])
{
        if (poll(p, 4, out_timeout(b->out)) < 0)
                return errno == EINTR;
        /* EIO from the master: every slave fd is closed */
        if (p[0].revents && !pump_out(b->master, b))
                p[0].fd = -1;
        if (p[1].revents && !pump_in(b))
                p[1].fd = -1;
        if (p[3].revents && !pump_out(b->errfd, b))
                p[3].fd = -1;
        if (!p[2].revents)
                return true;
        drain_to(b->master, b->out);
        drain_to(b->errfd, b->out);
        return false;
}

/* Raw both ways: the terminal already merged stdout and stderr.  The
 * runtime's own stderr (its errors once the process runs) goes to the
 * client as well. */
static void bridge_tty(struct tty_bridge *b, const void *extra, size_t extra_len)
{
        struct pollfd p[4] = { { .fd = b->master, .events = POLLIN },
                               { .fd = b->attach_stdin ? b->client : -1, .events = POLLIN },
                               { .fd = b->pidfd, .events = POLLIN },
                               { .fd = b->errfd, .events = POLLIN } };

        if (b->master >= 0 && extra_len > 0)
                (void)write_all(b->master, extra, extra_len);
        while (tty_round(b, p))
                ;
}

static int run_tty(struct engine *e, struct exec_rec *x, struct spawn_opts *so, int client, const void *extra,
                   size_t extra_len, berth_error_t **err)
{
        _cleanup_free_ char *sock_path = NULL;
        _cleanup_close_ int listen_fd = console_listen(e, x->id, &sock_path, err);
        _cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), pidfd = -1;
        struct exec_out o = { .client = client, .tty = true, .pid_file = so->pid_file };
        int errp[2];

        if (listen_fd < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                unlink(sock_path);
                return listen_fd < 0 ? -1 : berth_error(err, errno, "pipe");
        }
        so->console_socket = sock_path;
        so->in = so->out = devnull;
        so->err = errp[1];
        x->pid = spawn(e, so);
        close(errp[1]);
        pidfd = pidfd_of(x->pid);
        struct tty_bridge b = { .master = receive_master(listen_fd, pidfd), .client = client, .pidfd = pidfd,
                                .errfd = errp[0], .attach_stdin = x->attach_stdin, .out = &o };
        unlink(sock_path);
        master_publish(x, b.master);
        bridge_tty(&b, extra, extra_len);
        master_publish(x, -1);
        if (b.master >= 0)
                close(b.master);
        close(errp[0]);
        return out_finish(&o, so->log, reap_status(x->pid));
}

/* ---- start ------------------------------------------------------------ */

static int exec_claim(const char *exec_id, struct exec_rec **out, berth_error_t **err)
{
        struct exec_rec *x;

        pthread_mutex_lock(&execs_lock);
        x = exec_find(exec_id);
        if (x && (x->running || x->done)) {
                pthread_mutex_unlock(&execs_lock);
                return berth_fail(err, EBUSY, "Error: Exec command %s has already run", exec_id);
        }
        if (x)
                x->running = true;
        pthread_mutex_unlock(&execs_lock);
        if (x == NULL)
                return berth_fail(err, ENOENT, "No such exec instance: %s", exec_id);
        *out = x;
        return 0;
}

static void exec_finish(struct exec_rec *x, int code)
{
        pthread_mutex_lock(&execs_lock);
        x->exit_code = code;
        x->running = false;
        x->done = true;
        pthread_mutex_unlock(&execs_lock);
}

static int run_exec(struct engine *e, struct exec_rec *x, int client, const void *extra, size_t extra_len,
                    berth_error_t **err)
{
        _cleanup_free_ char *file = xasprintf("%s/exec-%s.json", e->exec_root, x->id);
        _cleanup_free_ char *pid_file = xasprintf("%s/exec-%s.pid", e->exec_root, x->id);
        _cleanup_free_ char *log = xasprintf("%s/exec-%s.log", e->exec_root, x->id);
        /* the pid file says the process started; the log, why not */
        struct spawn_opts so = { .ctr_id = x->ctr_id, .process_file = file, .pid_file = pid_file, .log = log };
        int code;

        if (json_dump_file(x->process, file, 0) < 0)
                code = berth_error(err, errno, "write %s", file);
        else if (x->tty)
                code = run_tty(e, x, &so, client, extra, extra_len, err);
        else
                code = run_piped(e, x, &so, client, extra, extra_len, err);
        unlink(file);
        unlink(pid_file);
        unlink(log);
        exec_finish(x, code < 0 ? 126 : code);
        /* the end of the stream only now: the CLI asks for the exit code
         * as soon as it sees it */
        if (client >= 0)
                shutdown(client, SHUT_WR);
        return code < 0 ? -1 : 0;
}

struct detached {
        struct engine *e;
        struct exec_rec *x;
};

static void *detached_thread(void *arg)
{
        struct detached *d = arg;
        _cleanup_error_ berth_error_t *err = NULL;

        if (run_exec(d->e, d->x, -1, NULL, 0, &err) < 0)
                berth_warn("exec %.12s: %s", d->x->id, err->msg);
        free(d);
        return NULL;
}

int engine_exec_start(struct engine *e, const char *exec_id, int client, const void *extra, size_t extra_len,
                      bool detach, berth_error_t **err)
{
        struct exec_rec *x = NULL;
        pthread_t tid;

        if (exec_claim(exec_id, &x, err) < 0)
                return -1;
        if (!detach && client >= 0)
                return run_exec(e, x, client, extra, extra_len, err);
        /* detached: the request returns now, the process runs on */
        struct detached *d = xmalloc(sizeof(*d));
        *d = (struct detached){ e, x };
        if (pthread_create(&tid, NULL, detached_thread, d) != 0)
                abort();
        pthread_detach(tid);
        return 0;
}

int engine_exec_resize(struct engine *e, const char *exec_id, int rows, int cols, berth_error_t **err)
{
        struct exec_rec *x;

        (void)e;
        if (rows < 0 || cols < 0 || rows > 65535 || cols > 65535)
                return berth_fail(err, EINVAL, "invalid terminal size %dx%d", rows, cols);
        pthread_mutex_lock(&execs_lock);
        x = exec_find(exec_id);
        if (x) {
                x->rows = (unsigned short)rows;
                x->cols = (unsigned short)cols;
                if (x->master >= 0)
                        set_winsize(x->master, x->rows, x->cols);
        }
        pthread_mutex_unlock(&execs_lock);
        if (x == NULL)
                return berth_fail(err, ENOENT, "No such exec instance: %s", exec_id);
        return 0;
}

void engine_exec_forget(const char *ctr_id)
{
        pthread_mutex_lock(&execs_lock);
        for (struct exec_rec **pp = &execs; *pp;) {
                struct exec_rec *x = *pp;
                /* a running exec's thread still uses its record */
                if (strcmp(x->ctr_id, ctr_id) == 0 && !x->running) {
                        *pp = x->next;
                        json_decref(x->process);
                        json_decref(x->body);
                        free(x);
                } else {
                        pp = &x->next;
                }
        }
        pthread_mutex_unlock(&execs_lock);
}

int engine_exec_inspect(struct engine *e, const char *exec_id, json_t **out, berth_error_t **err)
{
        struct exec_rec *x;

        (void)e;
        pthread_mutex_lock(&execs_lock);
        x = exec_find(exec_id);
        if (x) {
                json_t *args = json_object_get(x->process, "args");
                *out = json_pack("{s:s, s:b, s:I, s:{s:s, s:O, s:b}, s:b, s:b, s:b, s:s, s:i}", "ID", x->id, "Running",
                                 x->running, "ExitCode", (json_int_t)(x->done ? x->exit_code : 0), "ProcessConfig",
                                 "entrypoint", json_string_value(json_array_get(args, 0)) ?: "", "arguments", args,
                                 "tty", x->tty, "OpenStdin", x->attach_stdin, "OpenStdout", x->attach_stdout,
                                 "OpenStderr", x->attach_stderr, "ContainerID", x->ctr_id, "Pid",
                                 x->running ? (int)x->pid : 0);
        }
        pthread_mutex_unlock(&execs_lock);
        if (x == NULL)
                return berth_fail(err, ENOENT, "No such exec instance: %s", exec_id);
        return 0;
}

/* ---- healthcheck probes --------------------------------------------------- */

struct probe_run {
        struct exec_probe *p;
        size_t len;
        bool truncated;
        pid_t runtime;
        const char *pid_file;
};

static void probe_append(struct probe_run *r, const char *buf, size_t n)
{
        size_t keep = r->len < r->p->max ? MIN(n, r->p->max - r->len) : 0;

        memcpy(r->p->output + r->len, buf, keep);
        r->len += keep;
        r->truncated |= keep < n;
}

/* SIGKILL to the runtime's process group, which the probe's processes
 * are in unless they left it (a shell's children too: nothing of the
 * probe lingers in the container), and to the probe's process itself. */
static void probe_kill(struct probe_run *r)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (read_file(r->pid_file, &buf, &len, NULL) == 0 && atoi(buf) > 0)
                kill((pid_t)atoi(buf), SIGKILL);
        kill(-r->runtime, SIGKILL);
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Collect output until the runtime exits, the timeout, or a cancel:
 * 0, ETIMEDOUT or ECANCELED. */
static int probe_collect(struct probe_run *r, int out, int pidfd)
{
        struct pollfd p[3] = { { .fd = out, .events = POLLIN }, { .fd = pidfd, .events = POLLIN },
                               { .fd = r->p->cancel_fd, .events = POLLIN } };
        int64_t deadline = now_ms() + r->p->timeout_ms;
        char buf[4096];
        ssize_t n;

        for (;;) {
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return ETIMEDOUT;
                if (poll(p, 3, (int)MIN(left, 1000)) < 0 && errno != EINTR)
                        return errno;
                if (p[2].revents)
                        return ECANCELED;
                if (p[0].revents && (n = read(out, buf, sizeof(buf))) > 0)
                        probe_append(r, buf, (size_t)n);
                else if (p[0].revents)
                        p[0].fd = -1;
                if (p[1].revents)
                        break;
        }
        /* what is left in the pipe; a child left behind may hold it open */
        fcntl(out, F_SETFL, O_NONBLOCK);
        while ((n = read(out, buf, sizeof(buf))) > 0)
                probe_append(r, buf, (size_t)n);
        return 0;
}

static int probe_spawn(struct engine *e, struct ctr *c, const char *file, const char *pid_file, int out)
{
        _cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        struct spawn_opts so = { .ctr_id = c->id, .process_file = file, .pid_file = pid_file, .in = devnull,
                                 .out = out, .err = out };

        return spawn(e, &so);
}

int exec_probe_run(struct engine *e, struct ctr *c, struct exec_probe *p, berth_error_t **err)
{
        char id[CONTAINER_ID_LEN + 1];
        json_t *process;
        int out[2], r;

        pthread_mutex_lock(&c->lock);
        process = exec_process(c, p->args, false);
        pthread_mutex_unlock(&c->lock);
        if (process == NULL)
                return berth_fail(err, EBUSY, "Container %s is not running", c->id);
        random_hex_id(id);
        _cleanup_free_ char *file = xasprintf("%s/probe-%.16s.json", e->exec_root, id);
        _cleanup_free_ char *pid_file = xasprintf("%s/probe-%.16s.pid", e->exec_root, id);
        r = json_dump_file(process, file, 0);
        json_decref(process);
        if (r < 0 || pipe2(out, O_CLOEXEC) < 0)
                return berth_error(err, errno, "probe %s", file);
        p->output = xmalloc(p->max + 4);
        struct probe_run run = { .p = p, .runtime = probe_spawn(e, c, file, pid_file, out[1]), .pid_file = pid_file };
        close(out[1]);
        _cleanup_close_ int pidfd = pidfd_of(run.runtime);
        r = probe_collect(&run, out[0], pidfd);
        close(out[0]);
        if (r != 0)
                probe_kill(&run);
        p->exit_code = reap_status(run.runtime);
        p->timed_out = r == ETIMEDOUT;
        strcpy(p->output + run.len, run.truncated ? "..." : "");
        unlink(file);
        unlink(pid_file);
        if (r == ECANCELED)
                return berth_fail(err, ECANCELED, "the probe was cancelled");
        return r == 0 || r == ETIMEDOUT ? 0 : berth_error(err, r, "probe");
}

int engine_exec_timed(struct engine *e, const char *name, json_t *args, int64_t timeout_ms, size_t max,
                      struct engine_exec_result *out, berth_error_t **err)
{
        struct exec_probe p = { .args = args, .timeout_ms = timeout_ms, .max = max, .cancel_fd = -1 };
        struct ctr *c = NULL;
        int r;

        *out = (struct engine_exec_result){ 0 };
        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        r = exec_probe_run(e, c, &p, err);
        ctr_unref(c);
        if (r < 0) {
                free(p.output);
                return r;
        }
        *out = (struct engine_exec_result){ p.output, p.exit_code, p.timed_out };
        return 0;
}
