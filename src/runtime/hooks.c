#include "runtime/hooks.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char **json_to_strv(json_t *arr, const char *fallback)
{
        size_t n = json_array_size(arr), i;
        char **v = xcalloc(n + 2, sizeof(char *));
        json_t *s;

        json_array_foreach(arr, i, s)
                v[i] = xstrdup(json_is_string(s) ? json_string_value(s) : "");
        if (n == 0 && fallback)
                v[0] = xstrdup(fallback);
        return v;
}

/* Wait for pid, killing it when timeout (seconds, 0 = none) runs out. */
static int wait_with_timeout(pid_t pid, int timeout, int *status, bool *timed_out)
{
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

        *timed_out = false;
        if (pidfd >= 0 && timeout > 0) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                int r;
                do
                        r = poll(&p, 1, timeout * 1000);
                while (r < 0 && errno == EINTR);
                if (r == 0) {
                        kill(pid, SIGKILL);
                        *timed_out = true;
                }
        }
        if (pidfd >= 0)
                close(pidfd);
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return 0;
}

static int run_one(json_t *hook, const char *kind, size_t index, const char *state_text, berth_error_t **err)
{
        const char *path = json_is_string(json_object_get(hook, "path")) ? json_string_value(json_object_get(hook, "path")) : NULL;
        _cleanup_strv_ char **argv = json_to_strv(json_object_get(hook, "args"), path);
        _cleanup_strv_ char **envp = json_to_strv(json_object_get(hook, "env"), NULL);
        int timeout = (int)json_integer_value(json_object_get(hook, "timeout"));
        int pipefd[2], status = 0;
        bool timed_out;
        pid_t pid;

        if (path == NULL)
                return berth_error(err, 0, "%s hook #%zu: path is missing", kind, index);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return berth_error(err, errno, "fork");
        }
        if (pid == 0) {
                dup2(pipefd[0], 0);
                execve(path, argv, envp);
                dprintf(2, "%s hook %s: exec: %s\n", kind, path, strerror(errno));
                _exit(127);
        }
        close(pipefd[0]);
        signal(SIGPIPE, SIG_IGN);
        (void)write_all(pipefd[1], state_text, strlen(state_text));
        close(pipefd[1]);
        if (wait_with_timeout(pid, timeout, &status, &timed_out) < 0)
                return berth_error(err, errno, "wait for %s hook %s", kind, path);
        if (timed_out)
                return berth_error(err, 0, "%s hook #%zu (%s): timed out after %d s", kind, index, path, timeout);
        if (WIFSIGNALED(status))
                return berth_error(err, 0, "%s hook #%zu (%s): killed by signal %d", kind, index, path,
                                   WTERMSIG(status));
        if (WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "%s hook #%zu (%s): exit status %d", kind, index, path,
                                   WEXITSTATUS(status));
        return 0;
}

int hooks_run(json_t *hooks, const char *kind, json_t *state, berth_error_t **err)
{
        _cleanup_free_ char *text = NULL;
        size_t i;
        json_t *hook;
        int ret;

        if (json_array_size(hooks) == 0)
                return 0;
        text = json_dumps(state, JSON_COMPACT);
        json_array_foreach(hooks, i, hook)
                if ((ret = run_one(hook, kind, i, text, err)) < 0)
                        return ret;
        return 0;
}
