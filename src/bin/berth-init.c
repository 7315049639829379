/* berth-init: the PID 1 of `docker run --init` containers, bind-mounted
 * at /sbin/docker-init as Docker's (tini) is.
 *
 *   berth-init [-g] [--] PROGRAM [ARG...]
 *   berth-init -p
 *
 * A program run as PID 1 gets no default signal actions (the kernel drops
 * SIGTERM unless it has a handler, so `docker stop` waits the full timeout
 * and kills) and inherits every orphan in the container, which most
 * programs never wait for (zombies pile up).  This runs PROGRAM as its
 * child in a process group of its own (the foreground one when stdin is a
 * terminal), forwards every signal it can catch to it (to its whole
 * process group with -g or TINI_KILL_PROCESS_GROUP, as tini), reaps every
 * child, and exits with PROGRAM's status: its exit code, or 128+signal.
 *
 * With -p it runs nothing: it holds a pod's namespaces open (the "pause"
 * process of a Kubernetes sandbox), reaps whatever is reparented to it,
 * and exits 0 on SIGTERM, SIGINT or SIGHUP.
 *
 * Linked statically with libc alone: images need not have a loader. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define NAME "docker-init"

/* Faults of our own: leaving them blocked would hang on a crash. */
static const int synchronous[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS };

struct init {
        bool group;             /* forward to the process group */
        bool pause;             /* -p: no program */
        pid_t child;
};

static void usage(void)
{
        fprintf(stderr, "usage: %s [-g] [--] PROGRAM [ARG...]\n       %s -p\n", NAME, NAME);
}

/* Everything blocked, so signals queue until sigwaitinfo takes them: a
 * blocked signal is delivered to PID 1 even without a handler. */
static int block_signals(void)
{
        sigset_t all;

        sigfillset(&all);
        for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
                sigdelset(&all, synchronous[i]);
        if (sigprocmask(SIG_SETMASK, &all, NULL) < 0) {
                fprintf(stderr, "%s: sigprocmask: %s\n", NAME, strerror(errno));
                return -1;
        }
        return 0;
}

/* The program starts as a program in a fresh session would: default
 * actions and nothing blocked, whatever mask and ignored signals the
 * engine's processes handed down to us (a SIGTERM left blocked would
 * make the forwarding useless). */
static void reset_signals(void)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++)
                sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: its own process group, given the terminal when there is
 * one, so ^C and job control reach the program and not us.  SIGTTOU is
 * ignored meanwhile: tcsetpgrp from a background group raises it. */
static void isolate(void)
{
        struct sigaction ign = { .sa_handler = SIG_IGN };

        if (setpgid(0, 0) < 0)
                return;
        sigaction(SIGTTOU, &ign, NULL);
        sigaction(SIGTTIN, &ign, NULL);
        if (isatty(STDIN_FILENO))
                tcsetpgrp(STDIN_FILENO, getpgrp());
}

static void run_child(char **argv)
{
        isolate();
        reset_signals();
        execvp(argv[0], argv);
        int er = errno;
        fprintf(stderr, "%s: exec %s: %s\n", NAME, argv[0], strerror(er));
        /* the shell's codes: not found, found but not runnable */
        _exit(er == ENOENT ? 127 : 126);
}

static int exit_status(int status)
{
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

/* Reap every child that is done; true (and *status) once the program is. */
static bool reap(const struct init *in, int *status)
{
        bool done = false;
        int st;
        pid_t pid;

        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
                if (pid == in->child) {
                        *status = exit_status(st);
                        done = true;
                }
        return done;
}

static void forward(const struct init *in, int sig)
{
        /* the group may be gone while the program still lives (it left
         * it): then the program itself */
        if (in->group && kill(-in->child, sig) == 0)
                return;
        kill(in->child, sig);
}

static int supervise(struct init *in)
{
        sigset_t all;
        siginfo_t si;
        int status = 0;

        sigfillset(&all);
        for (;;) {
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue; /* EINTR */
                if (sig != SIGCHLD)
                        forward(in, sig);
                else if (reap(in, &status))
                        break;
        }
        /* orphans that died with the program: no zombie left behind */
        reap(in, &(int){ 0 });
        return status;
}

static int parse_args(int argc, char **argv, struct init *in)
{
        const char *env = getenv("TINI_KILL_PROCESS_GROUP");
        int c;

        in->group = env && *env && strcmp(env, "0") != 0;
        while ((c = getopt(argc, argv, "+ghp")) != -1) {
                switch (c) {
                case 'g': in->group = true; break;
                case 'p': in->pause = true; break;
                case 'h': usage(); exit(0);
                default: usage(); return -1;
                }
        }
        if (in->pause != (optind >= argc)) {
                usage();
                return -1;
        }
        return optind;
}

static int pause_forever(void)
{
        sigset_t all;
        siginfo_t si;

        sigfillset(&all);
        for (;;) {
                int sig = sigwaitinfo(&all, &si);
                if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
                        return 0;
                if (sig == SIGCHLD)
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
        }
}

int main(int argc, char **argv)
{
        struct init in = { 0 };
        int first = parse_args(argc, argv, &in);

        if (first < 0)
                return 2;
        /* not PID 1 (--pid host...): orphans still come to us */
        if (getpid() != 1)
                prctl(PR_SET_CHILD_SUBREAPER, 1);
        if (block_signals() < 0)
                return 1;
        if (in.pause)
                return pause_forever();
        in.child = fork();
        if (in.child < 0) {
                fprintf(stderr, "%s: fork: %s\n", NAME, strerror(errno));
                return 1;
        }
        if (in.child == 0)
                run_child(argv + first);
        return supervise(&in);
}
