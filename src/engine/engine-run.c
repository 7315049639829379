/* Running containers: the shim launched at start, its control socket, the
 * monitor that records the exit, stop/kill/pause, wait, and removal. */
#include "engine/daemon-config.h"
#include "engine/engine-network.h"
#include "image/image-store.h"
#include "oci/signals.h"
#include "runtime/container.h"
#include "storage/rootfs.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

/* ---- the shim's control socket ------------------------------------------ */

int shim_connect(struct engine *e, struct ctr *c, const char *socket_name, berth_error_t **err)
{
        _cleanup_free_ char *dir = ctr_shim_dir(e, c);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, socket_name) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "socket path %s/%s is too long", dir, socket_name);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_error(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int er = errno;
                close(fd);
                return berth_error(err, er, "container %.12s: connect to the shim's %s", c->id, socket_name);
        }
        return fd;
}

int shim_control(struct engine *e, struct ctr *c, const char *line, char **reply, berth_error_t **err)
{
        _cleanup_close_ int fd = shim_connect(e, c, "control.sock", err);
        char buf[4096];
        size_t got = 0;
        ssize_t n;

        if (fd < 0)
                return -1;
        if (write_all(fd, line, strlen(line)) < 0 || write_all(fd, "\n", 1) < 0)
                return berth_error(err, errno, "container %.12s: shim control", c->id);
        shutdown(fd, SHUT_WR);
        while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
                got += (size_t)n;
        buf[got] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (str_has_prefix(buf, "error"))
                return berth_fail(err, EIO, "%s", buf[5] ? buf + 6 : "the shim failed");
        if (reply)
                *reply = xstrdup(buf);
        return 0;
}

/* ---- errors of the shim -------------------------------------------------- */

/* Go spells errno texts in lower case ("no such file or directory"), and
 * the docker CLI picks run's exit code by looking for them: 127 for a
 * missing executable, 126 for one it may not run. */
static void go_errno_case(char *msg)
{
        static const char *const texts[] = { "No such file or directory", "Permission denied", "Is a directory",
                                             "Exec format error", "Not a directory" };

        for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
                for (char *p = strstr(msg, texts[i]); p; p = strstr(p + 1, texts[i]))
                        *p = (char)(*p - 'A' + 'a');
}

/* ---- the log driver ------------------------------------------------------- */

struct log_opts {
        bool none;              /* driver "none": no log at all */
        long long max_size;     /* 0: never rotate */
        long long max_files;
};

/* units.FromHumanSize, as dockerd reads max-size: decimal units ("10m" is
 * 10,000,000 bytes), one optional space, an optional "i" and "b"; -1 when
 * s is not a size. */
static long long human_size(const char *s)
{
        static const char units[] = "kmgtp";
        double v, mult = 1;
        char *end;

        if (*s < '0' || *s > '9')
                return -1;
        v = strtod(s, &end);
        if (*end == ' ')
                end++;
        const char *u = *end ? strchr(units, *end | 0x20) : NULL;
        if (u) {
                for (const char *p = units; p <= u; p++)
                        mult *= 1000;
                end++;
        }
        if (*end == 'i' || *end == 'I')
                end++;
        if (*end == 'b' || *end == 'B')
                end++;
        return *end ? -1 : (long long)(v * mult);
}

/* Docker's json-file options.  Those past max-size and max-file add
 * attributes to each entry (or compress rotated files): accepted, as a
 * compose file may carry them, and not acted on. */
static int json_file_opts(json_t *cfg, struct log_opts *o, berth_error_t **err)
{
        static const char *const known[] = { "max-size", "max-file", "compress",  "labels",
                                             "labels-regex", "env",  "env-regex", "tag" };
        const char *key;
        json_t *v;

        json_object_foreach(cfg, key, v) {
                size_t k = 0;
                while (k < ARRAY_SIZE(known) && strcmp(known[k], key) != 0)
                        k++;
                if (k == ARRAY_SIZE(known))
                        return berth_fail(err, EINVAL, "unknown log opt '%s' for json-file log driver", key);
                if (!json_is_string(v))
                        return berth_fail(err, EINVAL, "log opt '%s': expected a string", key);
        }
        const char *size = json_string_value(json_object_get(cfg, "max-size"));
        const char *files = json_string_value(json_object_get(cfg, "max-file"));
        if (size && (o->max_size = human_size(size)) < 0)
                return berth_fail(err, EINVAL, "invalid size: '%s'", size);
        if (size && o->max_size == 0)
                return berth_fail(err, EINVAL, "max-size must be a positive number");
        if (files && (o->max_files = parse_ll(files)) < 1)
                return berth_fail(err, EINVAL, "max-file cannot be less than 1");
        return 0;
}

/* HostConfig.LogConfig: json-file (the default, also for Type "") or none. */
static int log_opts_parse(json_t *hc, struct log_opts *o, berth_error_t **err)
{
        json_t *lc = json_object_get(hc, "LogConfig");
        const char *type = json_string_value(json_object_get(lc, "Type"));

        *o = (struct log_opts){ .max_files = 1 };
        if (lc && !json_is_object(lc))
                return berth_fail(err, EINVAL, "HostConfig.LogConfig: expected an object");
        if (type == NULL || *type == '\0' || strcmp(type, "json-file") == 0)
                return json_file_opts(json_object_get(lc, "Config"), o, err);
        if (strcmp(type, "none") == 0) {
                o->none = true;
                return 0;
        }
        return berth_fail(err, EINVAL, "logger: no log driver named '%s' is registered (Berth has json-file and none)",
                          type);
}

int engine_log_config_check(json_t *host_config, berth_error_t **err)
{
        struct log_opts o;
        return log_opts_parse(host_config, &o, err);
}

/* ---- launching the shim ---------------------------------------------------- */

/* posix_spawn, not fork: the child shares berthd's memory until it execs
 * (CLONE_VFORK), where a fork copied the page tables of a multi-threaded
 * daemon and then faulted its way to execve, 3 ms of every start.  The
 * shim gets /dev/null for stdin and stdout, the pipe for stderr, and
 * berthd's signal mask and ignored signals, as a fork would give it.
 * Returns 0 or an errno. */
static int spawn_shim(const char *const *argv, int err_fd, pid_t *pid)
{
        posix_spawn_file_actions_t fa;
        int r;

        if ((r = posix_spawn_file_actions_init(&fa)) != 0)
                return r;
        if ((r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0)) == 0 &&
            (r = posix_spawn_file_actions_adddup2(&fa, 0, 1)) == 0 &&
            (r = posix_spawn_file_actions_adddup2(&fa, err_fd, 2)) == 0)
                r = posix_spawn(pid, argv[0], &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        return r;
}

/* berth-shim creates the runtime container and stays with it; the process
 * we start exits once the container is created (0) or failed (its stderr
 * says why, one line). */
static int launch_shim(struct engine *e, struct ctr *c, berth_error_t **err)
{
        _cleanup_free_ char *state = ctr_shim_dir(e, c);
        _cleanup_free_ char *bundle = ctr_dir(e, c);
        _cleanup_free_ char *log = ctr_log_path(e, c);
        _cleanup_free_ char *exit_file = xasprintf("%s/exit", state);
        char max_size[32], max_files[32];
        struct log_opts lo;
        const struct daemon_runtime *rt;
        const char *argv[32];   /* room for every option the shim takes */
        int n = 0, errpipe[2], status, r;
        char msg[1024] = "";
        pid_t pid;

        if (log_opts_parse(json_object_get(c->body, "HostConfig"), &lo, err) < 0 ||
            daemon_config_container_runtime(c->body, &rt, err) < 0)
                return -1;
        remove_tree_at(AT_FDCWD, state);
        if (mkdir_p(state, 0700, err) < 0)
                return -1;
        snprintf(max_size, sizeof(max_size), "%lld", lo.max_size);
        snprintf(max_files, sizeof(max_files), "%lld", lo.max_files);
        argv[n++] = e->o.shim_path;
        argv[n++] = "--id", argv[n++] = c->id;
        argv[n++] = "--bundle", argv[n++] = bundle;
        /* an external runtime (daemon.json "runtimes") keeps its state apart */
        argv[n++] = "--runtime-root", argv[n++] = rt->path ? rt->root : e->runtime_root;
        if (rt->path)
                argv[n++] = "--runtime", argv[n++] = rt->path;
        argv[n++] = "--state-dir", argv[n++] = state;
        /* the shim always writes a log: with "none" it goes nowhere */
        argv[n++] = "--log", argv[n++] = lo.none ? "/dev/null" : log;
        argv[n++] = "--log-max-size", argv[n++] = max_size;
        argv[n++] = "--log-max-files", argv[n++] = max_files;
        argv[n++] = "--exit-file", argv[n++] = exit_file;
        if (c->tty)
                argv[n++] = "--tty";
        if (c->open_stdin)
                argv[n++] = "--stdin";
        /* as dockerd: an attach client's EOF closes the container's stdin
         * only with StdinOnce (docker run -i attaching at the start) */
        if (c->open_stdin && !json_is_true(json_object_get(c->body, "StdinOnce")))
                argv[n++] = "--keep-stdin";
        argv[n] = NULL;
        if (pipe2(errpipe, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        if ((r = spawn_shim(argv, errpipe[1], &pid)) != 0) {
                close(errpipe[0]);
                close(errpipe[1]);
                return berth_error(err, r, "start %s", argv[0]);
        }
        close(errpipe[1]);
        ssize_t got = read(errpipe[0], msg, sizeof(msg) - 1);
        close(errpipe[0]);
        msg[got > 0 ? got : 0] = '\0';
        msg[strcspn(msg, "\n")] = '\0';
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        go_errno_case(msg);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_fail(err, EINVAL, "%s", msg[0] ? msg : "the shim failed to create the container");
        return 0;
}

static pid_t read_pid_file(const char *path)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        if (read_file(path, &buf, &len, NULL) < 0)
                return 0;
        return (pid_t)atoi(buf);
}

/* ---- exit and monitor -------------------------------------------------- */

static int start_locked(struct engine *e, struct ctr *c, berth_error_t **err);

static void set_str(char **field, char *value)
{
        free(*field);
        *field = value;
}

/* The shim wrote the exit file (or died without): record the exit. */
static void record_exit(struct engine *e, struct ctr *c)
{
        _cleanup_free_ char *state = ctr_shim_dir(e, c);
        _cleanup_free_ char *path = xasprintf("%s/exit", state);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        json_t *j = NULL;

        if (read_file(path, &buf, &len, NULL) == 0)
                j = json_loadb(buf, len, 0, NULL);
        pthread_mutex_lock(&c->lock);
        if (j) {
                c->exit_code = json_integer_value(json_object_get(j, "exit_code"));
                c->oom_killed = json_is_true(json_object_get(j, "oom_killed"));
                const char *fin = json_string_value(json_object_get(j, "finished_at"));
                set_str(&c->finished_at, fin ? xstrdup(fin) : now_rfc3339());
        } else {
                c->exit_code = 255;
                set_str(&c->error, xstrdup("the container's shim died without recording the exit"));
                set_str(&c->finished_at, now_rfc3339());
        }
        json_decref(j);
        c->status = CTR_EXITED;
        c->pid = c->shim_pid = 0;
        c->exits++;
        engine_db_save(e, c, NULL);
        pthread_cond_broadcast(&c->changed);
        _cleanup_free_ char *code = xasprintf("%lld", (long long)c->exit_code);
        engine_container_event(e, c, "die", json_pack("{s:s}", "exitCode", code));
        pthread_mutex_unlock(&c->lock);
        /* the runtime container is the shim's to delete; make sure */
        container_delete(e->runtime_root, c->id, true, NULL);
        ctr_net_down(e, c);
}

struct monitor {
        struct engine *e;
        struct ctr *c;
};

static void auto_remove(struct engine *e, struct ctr *c)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (engine_container_remove(e, c->id, true, true, &err) < 0)
                berth_warn("container %.12s: --rm: %s", c->id, err->msg);
}

/* Restart policies, as Docker's: always and unless-stopped restart any
 * exit, on-failure[:N] a non-zero one (at most N times); none after a stop
 * or kill through the API.  The delay starts at 100 ms and doubles up to a
 * minute, and starts over after 10 s of running. */
static bool should_restart(struct ctr *c)
{
        json_t *policy = json_object_get(json_object_get(c->body, "HostConfig"), "RestartPolicy");
        const char *name = json_string_value(json_object_get(policy, "Name"));
        json_int_t max = json_integer_value(json_object_get(policy, "MaximumRetryCount"));

        if (name == NULL || c->stop_requested || c->removed || c->auto_remove)
                return false;
        if (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0)
                return true;
        return strcmp(name, "on-failure") == 0 && c->exit_code != 0 && (max <= 0 || c->restart_count < max);
}

static bool restart_after_delay(struct engine *e, struct ctr *c)
{
        int64_t ran = rfc3339_to_unix(c->finished_at) - rfc3339_to_unix(c->started_at);
        struct timespec ts;

        pthread_mutex_lock(&c->lock);
        if (!should_restart(c)) {
                pthread_mutex_unlock(&c->lock);
                return false;
        }
        c->restart_delay_ms = ran >= 10 || c->restart_delay_ms == 0 ? 100 : MIN(c->restart_delay_ms * 2, 60000u);
        c->status = CTR_RESTARTING;
        engine_db_save(e, c, NULL);
        unsigned delay = c->restart_delay_ms;
        pthread_mutex_unlock(&c->lock);
        ts.tv_sec = delay / 1000;
        ts.tv_nsec = (long)(delay % 1000) * 1000000;
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&c->lock);
        /* stopped or removed meanwhile */
        if (c->stop_requested || c->removed) {
                c->status = CTR_EXITED;
                engine_db_save(e, c, NULL);
                pthread_cond_broadcast(&c->changed);
                pthread_mutex_unlock(&c->lock);
                return false;
        }
        c->status = CTR_EXITED;
        _cleanup_error_ berth_error_t *err = NULL;
        int r = start_locked(e, c, &err);
        if (r == 0)
                c->restart_count++;
        else
                berth_warn("container %.12s: restart: %s", c->id, err->msg);
        pthread_mutex_unlock(&c->lock);
        return r == 0;
}

static void *monitor_thread(void *arg)
{
        struct monitor *m = arg;
        struct ctr *c = m->c;
        int fd = (int)syscall(SYS_pidfd_open, c->shim_pid, 0);

        if (fd >= 0) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                health_start(m->e, c); /* HEALTHCHECK while it runs (engine-health.c) */
                while (poll(&p, 1, -1) < 0 && errno == EINTR)
                        ;
                close(fd);
                health_stop(c);
        }
        record_exit(m->e, c);
        if (c->auto_remove)
                auto_remove(m->e, c);
        else if (restart_after_delay(m->e, c))
                ctr_monitor(m->e, c);
        ctr_unref(c);
        free(m);
        return NULL;
}

void ctr_monitor(struct engine *e, struct ctr *c)
{
        struct monitor *m = xmalloc(sizeof(*m));
        pthread_t tid;

        m->e = e;
        m->c = c;
        ctr_ref(c);
        if (c->shim_pid <= 0) {
                _cleanup_free_ char *state = ctr_shim_dir(e, c);
                _cleanup_free_ char *pidfile = xasprintf("%s/shim.pid", state);
                c->shim_pid = read_pid_file(pidfile);
        }
        if (pthread_create(&tid, NULL, monitor_thread, m) != 0)
                abort();
        pthread_detach(tid);
}

/* ---- start ---------------------------------------------------------- */

/* Attach clients that asked before the start get to connect before the
 * container runs, so they see its first output (docker run). */
static void let_attachers_in(struct ctr *c)
{
        struct timespec deadline;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 2;
        while (c->attach_waiting > 0)
                if (pthread_cond_timedwait(&c->changed, &c->lock, &deadline) == ETIMEDOUT)
                        break;
}

static int runtime_pid(struct engine *e, const char *id, pid_t *pid)
{
        json_t *st = NULL;

        if (container_state(e->runtime_root, id, &st, NULL) < 0)
                return -1;
        *pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
        json_decref(st);
        return 0;
}

/* A start that failed before its shim ran: the endpoints go at once (the
 * monitor that would release them runs only with a shim). */
static void net_release_locked(struct engine *e, struct ctr *c)
{
        if (c->net == NULL)
                return;
        pthread_mutex_unlock(&c->lock);
        ctr_net_down(e, c);
        pthread_mutex_lock(&c->lock);
}

static int start_locked(struct engine *e, struct ctr *c, berth_error_t **err)
{
        _cleanup_free_ char *state = ctr_shim_dir(e, c);
        _cleanup_free_ char *pidfile = xasprintf("%s/shim.pid", state);

        if (c->status == CTR_RUNNING || c->status == CTR_PAUSED)
                return berth_fail(err, EALREADY, "container %s is already running", c->name);
        if (c->status == CTR_REMOVING || c->removed)
                return berth_fail(err, EBUSY, "container %s is marked for removal", c->name);
        if (ctr_rootfs_ensure(e, c, err) < 0 || ctr_net_up(e, c, err) < 0 || launch_shim(e, c, err) < 0) {
                net_release_locked(e, c);
                set_str(&c->error, xstrdup((*err)->msg));
                c->exit_code = 127;
                c->start_failures++;
                engine_db_save(e, c, NULL);
                pthread_cond_broadcast(&c->changed);
                return -1;
        }
        c->shim_pid = read_pid_file(pidfile);
        /* shim up: the attachers may connect now */
        c->status = CTR_CREATED;
        pthread_cond_broadcast(&c->changed);
        let_attachers_in(c);
        pthread_mutex_unlock(&c->lock);
        int r = shim_control(e, c, "start", NULL, err);
        pthread_mutex_lock(&c->lock);
        if (r < 0) {
                /* the shim goes with its container; the monitor records
                 * that, started by the caller */
                set_str(&c->error, xstrdup((*err)->msg));
                shim_control(e, c, "kill 9", NULL, NULL);
                c->start_failures++;
                pthread_cond_broadcast(&c->changed);
                return -1;
        }
        runtime_pid(e, c->id, &c->pid);
        c->status = CTR_RUNNING;
        set_str(&c->started_at, now_rfc3339());
        set_str(&c->error, NULL);
        engine_db_save(e, c, NULL);
        pthread_cond_broadcast(&c->changed);
        engine_container_event(e, c, "start", NULL);
        return 0;
}

int engine_container_start(struct engine *e, const char *name, berth_error_t **err)
{
        struct ctr *c;
        int r;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        c->stop_requested = false;
        r = start_locked(e, c, err);
        bool shim_up = c->shim_pid > 0;
        pthread_mutex_unlock(&c->lock);
        if (r == 0 || shim_up)
                ctr_monitor(e, c);
        /* docker run --rm: a container that could not start goes too */
        if (r < 0 && c->auto_remove && !shim_up)
                engine_container_remove(e, c->id, true, true, NULL);
        ctr_unref(c);
        return r;
}

/* ---- signals, stop, pause ---------------------------------------------- */

static int send_signal(struct engine *e, struct ctr *c, int sig, berth_error_t **err)
{
        char line[32];

        snprintf(line, sizeof(line), "kill %d", sig);
        return shim_control(e, c, line, NULL, err);
}

static bool running(struct ctr *c)
{
        return c->status == CTR_RUNNING || c->status == CTR_PAUSED;
}

int engine_container_kill(struct engine *e, const char *name, const char *signal, berth_error_t **err)
{
        struct ctr *c;
        int sig = SIGKILL, r;

        if (signal && *signal && (sig = signal_parse(signal)) <= 0)
                return berth_fail(err, EINVAL, "invalid signal: %s", signal);
        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        r = running(c) ? 0 : berth_fail(err, EBUSY, "Container %s is not running", c->id);
        if (r == 0)
                c->stop_requested = true;
        pthread_mutex_unlock(&c->lock);
        if (r == 0)
                r = send_signal(e, c, sig, err);
        if (r == 0) {
                _cleanup_free_ char *s = xasprintf("%d", sig);
                engine_container_event(e, c, "kill", json_pack("{s:s}", "signal", s));
        }
        ctr_unref(c);
        return r;
}

/* Wait for an exit until deadline (NULL: forever); true when it came. */
static bool wait_exit(struct ctr *c, unsigned exits_before, const struct timespec *deadline)
{
        while (c->exits == exits_before && running(c)) {
                if (deadline == NULL)
                        pthread_cond_wait(&c->changed, &c->lock);
                else if (pthread_cond_timedwait(&c->changed, &c->lock, deadline) == ETIMEDOUT)
                        return c->exits != exits_before || !running(c);
        }
        return true;
}

static int stop_ctr(struct engine *e, struct ctr *c, int timeout, berth_error_t **err)
{
        struct timespec deadline;
        unsigned exits;
        int sig;

        pthread_mutex_lock(&c->lock);
        c->stop_requested = true;
        if (!running(c)) {
                pthread_mutex_unlock(&c->lock);
                return berth_fail(err, EALREADY, "container already stopped");
        }
        exits = c->exits;
        sig = c->stop_signal ? signal_parse(c->stop_signal) : SIGTERM;
        if (timeout < 0)
                timeout = c->stop_timeout >= 0 ? c->stop_timeout : 10;
        pthread_mutex_unlock(&c->lock);
        if (c->status == CTR_PAUSED)
                container_pause(e->runtime_root, c->id, false, NULL);
        send_signal(e, c, sig > 0 ? sig : SIGTERM, NULL);
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout;
        pthread_mutex_lock(&c->lock);
        bool gone = wait_exit(c, exits, &deadline);
        pthread_mutex_unlock(&c->lock);
        if (!gone) {
                send_signal(e, c, SIGKILL, NULL);
                pthread_mutex_lock(&c->lock);
                wait_exit(c, exits, NULL);
                pthread_mutex_unlock(&c->lock);
        }
        return 0;
}

int engine_container_stop(struct engine *e, const char *name, int timeout, berth_error_t **err)
{
        struct ctr *c;
        int r;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        r = stop_ctr(e, c, timeout, err);
        if (r == 0)
                engine_container_event(e, c, "stop", NULL);
        ctr_unref(c);
        return r;
}

int engine_container_restart(struct engine *e, const char *name, int timeout, berth_error_t **err)
{
        _cleanup_error_ berth_error_t *stop_err = NULL;
        struct ctr *c;
        int r;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        r = stop_ctr(e, c, timeout, &stop_err);
        if (r < 0 && stop_err->status != EALREADY) {
                *err = steal_pointer(&stop_err);
                ctr_unref(c);
                return -1;
        }
        pthread_mutex_lock(&c->lock);
        c->stop_requested = false;
        r = start_locked(e, c, err);
        if (r == 0)
                c->restart_count++;
        pthread_mutex_unlock(&c->lock);
        if (r == 0)
                ctr_monitor(e, c);
        ctr_unref(c);
        return r;
}

int engine_container_pause(struct engine *e, const char *name, bool pause, berth_error_t **err)
{
        struct ctr *c;
        int r;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        if (c->status != (pause ? CTR_RUNNING : CTR_PAUSED))
                r = berth_fail(err, EBUSY, pause ? "Container %s is not running" : "Container %s is not paused",
                                c->id);
        else
                r = container_pause(e->runtime_root, c->id, pause, err);
        if (r == 0) {
                c->status = pause ? CTR_PAUSED : CTR_RUNNING;
                engine_db_save(e, c, NULL);
                pthread_cond_broadcast(&c->changed);
                engine_container_event(e, c, pause ? "pause" : "unpause", NULL);
        }
        pthread_mutex_unlock(&c->lock);
        ctr_unref(c);
        return r;
}

/* ---- wait ------------------------------------------------------------ */

int engine_container_wait(struct engine *e, const char *name, enum engine_wait cond, int64_t *exit_code,
                          bool (*cancelled)(void *data), void *data, berth_error_t **err)
{
        struct ctr *c;
        unsigned exits;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        exits = c->exits;
        for (;;) {
                bool done = cond == ENGINE_WAIT_REMOVED  ? c->removed
                            : cond == ENGINE_WAIT_NEXT_EXIT ? c->exits != exits
                                                            : c->status != CTR_RUNNING && c->status != CTR_PAUSED &&
                                                                      c->status != CTR_RESTARTING;
                if (done)
                        break;
                struct timespec t;
                clock_gettime(CLOCK_REALTIME, &t);
                t.tv_sec += 1;
                pthread_cond_timedwait(&c->changed, &c->lock, &t);
                if (cancelled && cancelled(data)) {
                        pthread_mutex_unlock(&c->lock);
                        ctr_unref(c);
                        return berth_fail(err, ECANCELED, "the client went away");
                }
        }
        *exit_code = c->exit_code;
        pthread_mutex_unlock(&c->lock);
        ctr_unref(c);
        return 0;
}

/* ---- remove ---------------------------------------------------------- */

static int remove_files(struct engine *e, struct ctr *c, berth_error_t **err)
{
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        _cleanup_free_ char *state = ctr_shim_dir(e, c);
        struct image_store *s = engine_images_lock(e);
        int r = rootfs_remove(s, c->id, rootfs, err);

        engine_images_unlock(e);
        if (r < 0)
                return r;
        remove_tree_at(AT_FDCWD, state);
        if ((r = remove_tree_at(AT_FDCWD, dir)) < 0)
                return berth_error(err, -r, "remove %s", dir);
        return 0;
}

/* docker rm -v (and --rm): the container's anonymous volumes go too. */
static void remove_anonymous_volumes(struct engine *e, struct ctr *c)
{
        _cleanup_free_ char *prefix = xasprintf("%s/volumes/", e->data_root);
        json_t *mounts = json_object_get(c->config, "mounts"), *m;
        size_t i;

        json_array_foreach(mounts, i, m) {
                const char *src = json_string_value(json_object_get(m, "source"));
                if (src == NULL || !str_has_prefix(src, prefix))
                        continue;
                _cleanup_free_ char *vname = xstrdup(src + strlen(prefix));
                char *slash = strchr(vname, '/');
                if (slash)
                        *slash = '\0';
                _cleanup_free_ char *meta_path = xasprintf("%s%s/meta.json", prefix, vname);
                json_t *meta = json_load_file(meta_path, 0, NULL);
                if (json_is_true(json_object_get(meta, "anonymous")))
                        engine_volume_remove(e, vname, true, NULL);
                json_decref(meta);
        }
}

int engine_container_remove(struct engine *e, const char *name, bool force, bool volumes, berth_error_t **err)
{
        struct ctr *c;
        int r = 0;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        if (c->removed || c->status == CTR_REMOVING) {
                pthread_mutex_unlock(&c->lock);
                ctr_unref(c);
                return berth_fail(err, EBUSY, "removal of container %s is already in progress", c->name);
        }
        if (!running(c) || force)
                c->stop_requested = true;
        if (running(c) && !force)
                r = berth_fail(err, EBUSY,
                                "You cannot remove a %s container %s. Stop the container before attempting removal "
                                "or force remove",
                                ctr_status_name(c->status), c->id);
        pthread_mutex_unlock(&c->lock);
        if (r == 0 && running(c)) {
                send_signal(e, c, SIGKILL, NULL);
                engine_container_event(e, c, "kill", json_pack("{s:s}", "signal", "9"));
                pthread_mutex_lock(&c->lock);
                wait_exit(c, c->exits, NULL);
                pthread_mutex_unlock(&c->lock);
        }
        if (r == 0) {
                ctr_net_down(e, c);
                r = remove_files(e, c, err);
        }
        if (r == 0)
                r = engine_db_delete(e, c->id, err);
        if (r == 0) {
                pthread_mutex_lock(&c->lock);
                c->removed = true;
                pthread_cond_broadcast(&c->changed);
                pthread_mutex_unlock(&c->lock);
                engine_container_event(e, c, "destroy", NULL);
                engine_exec_forget(c->id);
                health_forget(c);
                ctr_forget(e, c);
                /* after forgetting it: the volumes are no longer in use */
                if (volumes)
                        remove_anonymous_volumes(e, c);
        }
        ctr_unref(c);
        return r;
}
