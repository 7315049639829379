/* docker exec: a process added to a running container.  The process is
 * the container's own (env, capabilities, rlimits, security) with the
 * exec's command, env, user and working directory.  It runs through
 * berth-runtime exec in a child of berthd whose stdio are pipes (berthd's
 * own stdio and its threads must not be touched), bridged to the
 * hijacked connection with stdcopy frames.  Without a tty only: a
 * terminal needs the console socket (next step). */
#include "engine/docker-user.h"
#include "engine/engine-internal.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>

struct exec_rec {
        char id[CONTAINER_ID_LEN + 1];
        char ctr_id[CONTAINER_ID_LEN + 1];
        json_t *process;        /* OCI process object */
        json_t *body;           /* the exec create request */
        bool attach_stdin, attach_stdout, attach_stderr, tty;
        bool running, done;
        pid_t pid;
        int64_t exit_code;
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

int engine_exec_create(struct engine *e, const char *name, json_t *body, char **id, berth_error_t **err)
{
        struct ctr *c;
        json_t *cmd = json_object_get(body, "Cmd");
        int r = 0;

        if (!json_is_array(cmd) || json_array_size(cmd) == 0)
                return berth_fail(err, EINVAL, "No exec command specified");
        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        bool running = c->status == CTR_RUNNING;
        json_t *process = running ? json_deep_copy(json_object_get(c->config, "process")) : NULL;
        pthread_mutex_unlock(&c->lock);
        if (!running) {
                ctr_unref(c);
                return berth_fail(err, EBUSY, "Container %s is not running", c->id);
        }
        json_object_set_new(process, "args", strv_json(cmd));
        json_object_set_new(process, "terminal", json_boolean(json_is_true(json_object_get(body, "Tty"))));
        json_object_del(process, "consoleSize");
        merge_env(process, json_object_get(body, "Env"));
        const char *wd = json_string_value(json_object_get(body, "WorkingDir"));
        if (wd && *wd)
                json_object_set_new(process, "cwd", json_string(wd));
        const char *user = json_string_value(json_object_get(body, "User"));
        if (user && *user)
                r = set_user(e, c, process, user, err);
        if (r == 0 && json_is_true(json_object_get(body, "Tty")))
                r = berth_fail(err, EOPNOTSUPP, "exec with a terminal (-t) is not available in Berth yet");
        if (r < 0) {
                json_decref(process);
                ctr_unref(c);
                return -1;
        }
        struct exec_rec *x = xcalloc(1, sizeof(*x));
        unsigned char rnd[32];
        if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
                abort();
        for (size_t i = 0; i < sizeof(rnd); i++)
                sprintf(x->id + 2 * i, "%02x", rnd[i]);
        snprintf(x->ctr_id, sizeof(x->ctr_id), "%s", c->id);
        x->process = process;
        x->body = json_incref(body);
        x->attach_stdin = json_is_true(json_object_get(body, "AttachStdin"));
        x->attach_stdout = json_is_true(json_object_get(body, "AttachStdout"));
        x->attach_stderr = json_is_true(json_object_get(body, "AttachStderr"));
        pthread_mutex_lock(&execs_lock);
        x->next = execs;
        execs = x;
        pthread_mutex_unlock(&execs_lock);
        *id = xstrdup(x->id);
        ctr_unref(c);
        return 0;
}

/* ---- start ------------------------------------------------------------ */

static pid_t spawn(struct engine *e, const char *ctr_id, const char *process_file, int in, int out, int errfd)
{
        pid_t pid = fork();

        if (pid != 0)
                return pid;
        dup2(in, 0);
        dup2(out, 1);
        dup2(errfd, 2);
        close_range(3, ~0U, 0);
        execl(e->o.runtime_path, e->o.runtime_path, "--root", e->runtime_root, "exec", "--process", process_file,
              ctr_id, (char *)NULL);
        dprintf(2, "exec %s: %s\n", e->o.runtime_path, strerror(errno));
        _exit(127);
}

static int frame(int fd, int stream, const char *buf, size_t n)
{
        unsigned char h[8];

        stdcopy_header(h, stream, n);
        if (write_all(fd, h, 8) < 0)
                return -1;
        return write_all(fd, buf, n);
}

/* Pump the exec's output to the client and the client's input to it. */
static void bridge(struct exec_rec *x, int client, const void *extra, size_t extra_len, int in, int out, int errp)
{
        struct pollfd p[3] = { { .fd = out, .events = POLLIN }, { .fd = errp, .events = POLLIN },
                               { .fd = x->attach_stdin ? client : -1, .events = POLLIN } };
        char buf[65536];
        bool client_gone = false;

        if (in >= 0 && extra_len > 0)
                (void)write_all(in, extra, extra_len);
        while (p[0].fd >= 0 || p[1].fd >= 0) {
                if (poll(p, 3, -1) < 0) {
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
                        bool want = i == 0 ? x->attach_stdout : x->attach_stderr;
                        if (want && !client_gone && frame(client, i + 1, buf, (size_t)n) < 0)
                                client_gone = true;
                }
                if (p[2].fd >= 0 && p[2].revents) {
                        ssize_t n = read(client, buf, sizeof(buf));
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

int engine_exec_start(struct engine *e, const char *exec_id, int client, const void *extra, size_t extra_len,
                      bool detach, berth_error_t **err)
{
        struct exec_rec *x;
        _cleanup_free_ char *file = NULL;
        int in[2] = { -1, -1 }, out[2], errp[2];
        int status;

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
        file = xasprintf("%s/exec-%s.json", e->exec_root, exec_id);
        if (json_dump_file(x->process, file, 0) < 0)
                return berth_error(err, errno, "write %s", file);
        if ((x->attach_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        x->pid = spawn(e, x->ctr_id, file, in[0] >= 0 ? in[0] : devnull, out[1], errp[1]);
        close(devnull);
        if (in[0] >= 0)
                close(in[0]);
        close(out[1]);
        close(errp[1]);
        if (!detach && client >= 0) {
                bridge(x, client, extra, extra_len, in[1], out[0], errp[0]);
        } else {
                if (in[1] >= 0)
                        close(in[1]);
                char buf[4096];
                /* detached: drain, so the process never blocks on output */
                while (read(out[0], buf, sizeof(buf)) > 0 || read(errp[0], buf, sizeof(buf)) > 0)
                        ;
        }
        close(out[0]);
        close(errp[0]);
        while (waitpid(x->pid, &status, 0) < 0 && errno == EINTR)
                ;
        unlink(file);
        pthread_mutex_lock(&execs_lock);
        x->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        x->running = false;
        x->done = true;
        pthread_mutex_unlock(&execs_lock);
        /* the end of the stream only now: the CLI asks for the exit code
         * as soon as it sees it */
        if (client >= 0)
                shutdown(client, SHUT_WR);
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
