/* Signals through a self-pipe, not signalfd: a blocked mask would be
 * inherited by the processes the runtime forks (hooks), while handlers
 * are reset by exec.  For the same reason SIGPIPE and SIGHUP get an empty
 * handler rather than SIG_IGN. */
#include "shim/shim-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <signal.h>

static int pipe_w = -1;

static void on_signal(int sig)
{
        unsigned char b = (unsigned char)sig;
        int saved = errno;

        (void)!write(pipe_w, &b, 1);
        errno = saved;
}

static void on_ignored(int sig)
{
        (void)sig;
}

int shim_signals_setup(berth_error_t **err)
{
        static const int watched[] = { SIGCHLD, SIGTERM, SIGINT };
        struct sigaction sa = { .sa_flags = SA_RESTART };
        int fds[2];

        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return berth_error(err, errno, "pipe");
        pipe_w = fds[1];
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_signal;
        for (size_t i = 0; i < ARRAY_SIZE(watched); i++)
                sigaction(watched[i], &sa, NULL);
        sa.sa_handler = on_ignored;
        sigaction(SIGPIPE, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        return fds[0];
}

unsigned long shim_signals_take(int fd)
{
        unsigned char buf[64];
        unsigned long seen = 0;
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0)
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] < 8 * sizeof(seen))
                                seen |= 1UL << buf[i];
        return seen;
}
