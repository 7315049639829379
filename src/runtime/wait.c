#include "runtime/wait.h"
#include "util/util.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static volatile pid_t forward_to;

static void forward_signal(int sig)
{
        if (forward_to > 0)
                kill(forward_to, sig);
}

int wait_forwarding_signals(pid_t pid)
{
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
        struct sigaction sa;
        int status = 0;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = forward_signal;
        sa.sa_flags = SA_RESTART;
        forward_to = pid;
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
                sigaction(forwarded[i], &sa, NULL);
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return 255;
        }
        forward_to = 0;
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
