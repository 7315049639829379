/* berth-init as a program: exit statuses, signal forwarding (to the
 * program, or its process group with -g) and reaping.  Here it is not
 * PID 1, so it reaps as a child subreaper. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static pid_t start(const char *const *argv)
{
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                execv(BERTH_INIT, (char *const *)argv);
                _exit(99);
        }
        return pid;
}

/* The exit status, or -1 when it did not end within ms. */
static int wait_ms(pid_t pid, int ms)
{
        int status;

        for (int i = 0; i < ms / 10; i++) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
                usleep(10000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
}

static int run(const char *const *argv)
{
        return wait_ms(start(argv), 5000);
}

static void exit_status_passes_through(void **state)
{
        (void)state;
        assert_int_equal(run((const char *[]){ BERTH_INIT, "--", "sh", "-c", "exit 7", NULL }), 7);
        assert_int_equal(run((const char *[]){ BERTH_INIT, "sh", "-c", "exit 0", NULL }), 0);
        /* killed by a signal: 128 + its number, as a shell reports it */
        assert_int_equal(run((const char *[]){ BERTH_INIT, "--", "sh", "-c", "kill -KILL $$", NULL }), 137);
        assert_int_equal(run((const char *[]){ BERTH_INIT, "--", "/no/such/program", NULL }), 127);
        assert_int_equal(run((const char *[]){ BERTH_INIT, NULL }), 2);
}

static void signals_reach_the_program(void **state)
{
        (void)state;
        pid_t pid = start((const char *[]){ BERTH_INIT, "--", "sleep", "100", NULL });

        usleep(200000);
        kill(pid, SIGTERM);
        assert_int_equal(wait_ms(pid, 2000), 143);
        /* a signal with a handler in the program: it decides */
        pid = start((const char *[]){ BERTH_INIT, "--", "sh", "-c", "trap 'exit 42' USR1; while :; do sleep 0.05; done",
                                      NULL });
        usleep(200000);
        kill(pid, SIGUSR1);
        assert_int_equal(wait_ms(pid, 2000), 42);
}

/* The shell ignores SIGTERM, its child does not: only -g reaches it.
 * (The first case leaves the shell and its sleep behind when berth-init
 * is killed: a short sleep, so they do not hold the test's output open.) */
static void group_forwarding(void **state)
{
        static const char *const script = "trap '' TERM; (trap - TERM; exec sleep 3); exit $?";
        (void)state;
        pid_t pid = start((const char *[]){ BERTH_INIT, "--", "sh", "-c", script, NULL });

        usleep(200000);
        kill(pid, SIGTERM);
        assert_int_equal(wait_ms(pid, 500), -1);
        pid = start((const char *[]){ BERTH_INIT, "-g", "--", "sh", "-c", script, NULL });
        usleep(200000);
        kill(pid, SIGTERM);
        assert_int_equal(wait_ms(pid, 2000), 143);
}

/* -p holds on until told to stop, and stops cleanly; with a program it
 * is a usage error. */
static void pause_mode(void **state)
{
        (void)state;
        pid_t pid = start((const char *[]){ BERTH_INIT, "-p", NULL });
        int status;

        usleep(300000);
        assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
        kill(pid, SIGUSR1);
        usleep(300000);
        assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
        kill(pid, SIGTERM);
        assert_int_equal(wait_ms(pid, 2000), 0);
        assert_int_equal(run((const char *[]){ BERTH_INIT, "-p", "sleep", "1", NULL }), 2);
}

/* Zombies whose parent is pid. */
static int zombies_of(pid_t pid)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                char path[300], buf[512], *p;
                FILE *f;
                int ppid;
                char st;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                if ((f = fopen(path, "r")) == NULL)
                        continue;
                p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
                fclose(f);
                if (p && sscanf(p, ") %c %d", &st, &ppid) == 2 && st == 'Z' && ppid == pid)
                        n++;
        }
        closedir(d);
        return n;
}

static void orphans_are_reaped(void **state)
{
        (void)state;
        /* the subshell exits at once: its sleep is orphaned to us */
        pid_t pid = start((const char *[]){ BERTH_INIT, "--", "sh", "-c", "(sleep 0.1 &); sleep 1", NULL });

        usleep(600000);
        assert_int_equal(zombies_of(pid), 0);
        assert_int_equal(wait_ms(pid, 3000), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(exit_status_passes_through),
                cmocka_unit_test(signals_reach_the_program),
                cmocka_unit_test(group_forwarding),
                cmocka_unit_test(orphans_are_reaped),
                cmocka_unit_test(pause_mode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
