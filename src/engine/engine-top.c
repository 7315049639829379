/* docker top: as dockerd, the host's ps (default "-ef", or the client's
 * ps_args) run once, its rows kept for the container's processes.  The
 * titles are ps's header; a row's last column (CMD, COMMAND) takes the
 * rest of the line, spaces and all. */
#include "engine/engine-internal.h"
#include "runtime/container.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#define PS_OUTPUT_MAX (16u << 20)

/* ps_args split on blanks, as dockerd's strings.Split(ps_args, " "). */
static char **ps_argv(const char *ps_args)
{
        _cleanup_free_ char *copy = xstrdup(ps_args && *ps_args ? ps_args : "-ef");
        char **argv = xcalloc(strlen(copy) / 2 + 3, sizeof(char *));
        size_t n = 0;
        char *save = NULL;

        argv[n++] = xstrdup("ps");
        for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
                argv[n++] = xstrdup(t);
        return argv;
}

static int run_ps(const char *ps_args, char **out, berth_error_t **err)
{
        _cleanup_strv_ char **argv = ps_argv(ps_args);
        int p[2], status;
        size_t len = 0, cap = 0;
        char *buf = NULL;

        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return berth_error(err, errno, "fork");
        }
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                dup2(p[1], 1);
                execvp("ps", argv);
                _exit(127);
        }
        close(p[1]);
        for (;;) {
                if (len + 4096 + 1 > cap)
                        buf = xrealloc(buf, cap = cap ? cap * 2 : 65536);
                ssize_t n = read(p[0], buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || (len += (size_t)n) > PS_OUTPUT_MAX)
                        break;
        }
        close(p[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        buf = buf ? buf : xmalloc(1);
        buf[MIN(len, PS_OUTPUT_MAX)] = '\0';
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(buf);
                return berth_fail(err, EINVAL, "ps: exit status %d: bad ps arguments \"%s\"",
                                  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                  ps_args ? ps_args : "");
        }
        *out = buf;
        return 0;
}

/* Whitespace-separated fields of line; the last of max takes the rest. */
static size_t fields(char *line, char **f, size_t max)
{
        size_t n = 0;
        char *s = line;

        while (n < max) {
                s += strspn(s, " \t");
                if (*s == '\0')
                        break;
                f[n++] = s;
                if (n == max)
                        break;
                s += strcspn(s, " \t");
                if (*s)
                        *s++ = '\0';
        }
        return n;
}

static bool pid_in(pid_t pid, const pid_t *pids, int n)
{
        for (int i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

static int parse_ps(char *text, const pid_t *pids, int n, json_t **out, berth_error_t **err)
{
        char *save = NULL, *line = strtok_r(text, "\n", &save);
        char *title[64];
        size_t nt = line ? fields(line, title, ARRAY_SIZE(title)) : 0;
        size_t pid_col = nt;
        json_t *titles = json_array(), *procs = json_array();

        for (size_t i = 0; i < nt; i++) {
                json_array_append_new(titles, json_string(title[i]));
                if (strcmp(title[i], "PID") == 0)
                        pid_col = i;
        }
        if (pid_col == nt) {
                json_decref(titles);
                json_decref(procs);
                return berth_fail(err, EINVAL, "Couldn't find PID field in ps output");
        }
        while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
                char *f[64];
                size_t nf = fields(line, f, nt);
                if (nf <= pid_col || !pid_in((pid_t)atoi(f[pid_col]), pids, n))
                        continue;
                json_t *row = json_array();
                for (size_t i = 0; i < nf; i++)
                        json_array_append_new(row, json_string(f[i]));
                json_array_append_new(procs, row);
        }
        *out = json_pack("{s:o, s:o}", "Titles", titles, "Processes", procs);
        return 0;
}

int engine_container_top(struct engine *e, const char *name, const char *ps_args, json_t **out,
                         berth_error_t **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        struct ctr *c;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        bool running = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
        pthread_mutex_unlock(&c->lock);
        if (!running) {
                int r = berth_fail(err, EBUSY, "Container %s is not running", c->id);
                ctr_unref(c);
                return r;
        }
        int n = container_pids(e->runtime_root, c->id, &pids, err);
        ctr_unref(c);
        if (n < 0 || run_ps(ps_args, &text, err) < 0)
                return -1;
        return parse_ps(text, pids, n, out, err);
}
