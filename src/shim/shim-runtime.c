/* The runtime the shim drives: berth-runtime's library in this process,
 * or with --runtime an external OCI runtime binary with runc's command
 * line (runc, crun), run as `PATH --root RUNTIME_ROOT ...`.
 *
 * An external runtime's `create` inherits the shim's fds 0-2, which
 * shim_create has pointed at the container's stdio, and its init is
 * reparented to the shim (a subreaper) when `create` exits, so the rest
 * of the shim works the same for both.  The runtime's own errors go to a
 * JSON log (--log, one object per line, as runc writes for containerd)
 * and the last "error" line is what the shim reports: stderr, during
 * create, is the container's. */
#include "shim/shim-internal.h"
#include "runtime/container.h"
#include "util/log.h"
#include "util/util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#define MAX_ARGS 24

static char *runtime_log(struct shim *s)
{
        return xasprintf("%s/runtime.log", s->o->state_dir);
}

/* The message of the last error line of the runtime's log. */
static char *last_error(struct shim *s)
{
        _cleanup_free_ char *path = runtime_log(s);
        return berth_log_last_error(path);
}

static _Noreturn void exec_runtime(struct shim *s, const char *const *args, int out_fd)
{
        _cleanup_free_ char *log = runtime_log(s);
        const char *argv[MAX_ARGS + 8];
        size_t n = 0;

        argv[n++] = s->o->runtime;
        argv[n++] = "--root", argv[n++] = s->o->runtime_root;
        argv[n++] = "--log", argv[n++] = log;
        argv[n++] = "--log-format", argv[n++] = "json";
        for (size_t i = 0; args[i] && i < MAX_ARGS; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        if (out_fd >= 0)
                dup2(out_fd, 1);
        /* the shim's signal handling is not the runtime's */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
}

static void read_all(int fd, char **out)
{
        size_t len = 0, cap = 4096;
        char *buf = xmalloc(cap);
        ssize_t r;

        while ((r = read(fd, buf + len, cap - len - 1)) != 0) {
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        break;
                len += (size_t)r;
                if (cap - len < 2)
                        buf = xrealloc(buf, cap *= 2);
        }
        buf[len] = '\0';
        *out = buf;
}

/* Run the runtime and wait for it; *out (may be NULL) gets its stdout. */
static int run_runtime(struct shim *s, const char *const *args, char **out, berth_error_t **err)
{
        _cleanup_free_ char *log = runtime_log(s);
        int p[2] = { -1, -1 }, status;
        pid_t pid;

        unlink(log);
        if (out && pipe2(p, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return berth_error(err, errno, "fork");
        }
        if (pid == 0)
                exec_runtime(s, args, p[1]);
        if (out) {
                close(p[1]);
                read_all(p[0], out);
                close(p[0]);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (out)
                free(steal_pointer(out));
        _cleanup_free_ char *why = last_error(s);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && why == NULL)
                return berth_fail(err, ENOENT, "exec %s: No such file or directory", s->o->runtime);
        return berth_fail(err, EIO, "%s %s: %s", s->o->runtime, args[0], why ? why : "failed");
}

static char *init_pid_path(struct shim *s)
{
        return xasprintf("%s/init.pid", s->o->state_dir);
}

int shim_rt_create(struct shim *s, const struct create_opts *co, berth_error_t **err)
{
        _cleanup_free_ char *pid_file = init_pid_path(s);
        const char *args[10] = { "create", "--bundle", co->bundle, "--pid-file", pid_file };
        size_t n = 5;

        if (s->o->runtime == NULL)
                return container_create(s->o->runtime_root, s->o->id, co, err);
        if (co->console_socket)
                args[n++] = "--console-socket", args[n++] = co->console_socket;
        args[n++] = s->o->id;
        return run_runtime(s, args, NULL, err);
}

int shim_rt_init_pid(struct shim *s, pid_t *pid, berth_error_t **err)
{
        _cleanup_free_ char *path = init_pid_path(s), *text = NULL;
        json_t *state = NULL;
        size_t len;

        if (s->o->runtime == NULL) {
                if (container_state(s->o->runtime_root, s->o->id, &state, err) < 0)
                        return -1;
                *pid = (pid_t)json_integer_value(json_object_get(state, "pid"));
                json_decref(state);
                return 0;
        }
        if (read_file(path, &text, &len, err) < 0)
                return -1;
        *pid = (pid_t)parse_ll(text);
        return 0;
}

int shim_rt_start(struct shim *s, berth_error_t **err)
{
        const char *args[] = { "start", s->o->id, NULL };

        if (s->o->runtime == NULL)
                return container_start(s->o->runtime_root, s->o->id, err);
        return run_runtime(s, args, NULL, err);
}

int shim_rt_kill(struct shim *s, int sig, bool all, berth_error_t **err)
{
        char num[16];
        const char *args[6] = { "kill" };
        size_t n = 1;

        if (s->o->runtime == NULL)
                return container_kill(s->o->runtime_root, s->o->id, sig, all, err);
        snprintf(num, sizeof(num), "%d", sig);
        if (all)
                args[n++] = "--all";
        args[n++] = s->o->id;
        args[n++] = num;
        return run_runtime(s, args, NULL, err);
}

int shim_rt_state(struct shim *s, json_t **state, berth_error_t **err)
{
        const char *args[] = { "state", s->o->id, NULL };
        _cleanup_free_ char *out = NULL;

        if (s->o->runtime == NULL)
                return container_state(s->o->runtime_root, s->o->id, state, err);
        if (run_runtime(s, args, &out, err) < 0)
                return -1;
        *state = json_loads(out, 0, NULL);
        return *state ? 0 : berth_fail(err, EIO, "%s state: not JSON", s->o->runtime);
}

/* With its own pid namespace the container died with its init; sharing
 * the host's, its other processes live on and must go before the cgroup
 * can be removed (berth-runtime's delete kills only containers that are
 * not stopped; runc's --force kills what the cgroup holds). */
int shim_rt_delete(struct shim *s, berth_error_t **err)
{
        const char *args[] = { "delete", "--force", s->o->id, NULL };
        _cleanup_free_ pid_t *pids = NULL;
        int n;

        if (s->o->runtime)
                return run_runtime(s, args, NULL, err);
        n = container_pids(s->o->runtime_root, s->o->id, &pids, NULL);
        for (int i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        return container_delete(s->o->runtime_root, s->o->id, true, err);
}
