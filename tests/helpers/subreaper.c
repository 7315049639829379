/* subreaper: run a command as a child subreaper, as containerd's shim is.
 *
 *   subreaper EXITDIR CMD [ARGS...]
 *
 * Containers made with `create` are reparented to the nearest subreaper when
 * the runtime exits.  This program is that subreaper for the test suite: it
 * reaps every orphan it adopts and records its exit status in EXITDIR/<pid>
 * (the exit code, or 128+signal), written atomically.  It exits with CMD's
 * status once CMD exits (processes still running then are left to init;
 * tests/leakcheck.sh reports them). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t main_child;

static void forward(int sig)
{
        if (main_child > 0)
                kill(main_child, sig);
}

static int code_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

static void record(const char *dir, pid_t pid, int status)
{
        char tmp[4096], path[4096];
        int fd;
        snprintf(path, sizeof path, "%s/%d", dir, pid);
        snprintf(tmp, sizeof tmp, "%s/.%d.tmp", dir, pid);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        dprintf(fd, "%d\n", code_of(status));
        close(fd);
        rename(tmp, path);
}

int main(int argc, char **argv)
{
        struct sigaction sa = { .sa_handler = forward };
        int status, main_status = 0;
        pid_t p;

        if (argc < 3) {
                fprintf(stderr, "usage: subreaper EXITDIR CMD [ARGS...]\n");
                return 2;
        }
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                perror("subreaper: PR_SET_CHILD_SUBREAPER");
                return 1;
        }
        main_child = fork();
        if (main_child < 0) {
                perror("subreaper: fork");
                return 1;
        }
        if (main_child == 0) {
                execvp(argv[2], argv + 2);
                fprintf(stderr, "subreaper: exec %s: %s\n", argv[2], strerror(errno));
                _exit(127);
        }
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        for (;;) {
                p = waitpid(-1, &status, 0);
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p == main_child) {
                        main_status = status;
                        break;
                }
                record(argv[1], p, status);
        }
        /* Reap whatever has already exited; leave the rest to init. */
        while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                record(argv[1], p, status);
        return code_of(main_status);
}
