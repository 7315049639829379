/* How long one move of a process into a cgroup v1 hierarchy takes when
 * nothing moved shortly before: the kernel's floor under every container
 * start that uses cgroups on a v1/hybrid host (cgroup_threadgroup_rwsem's
 * writer waits for an RCU grace period unless the hierarchy is mounted
 * with favordynmods).  Usage: cgroup-move HIERARCHY-DIR [ROUNDS] */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
        char dir[4096], procs[4200], pid[32];
        int rounds = argc > 2 ? atoi(argv[2]) : 5;

        if (argc < 2) {
                fprintf(stderr, "usage: cgroup-move HIERARCHY-DIR [ROUNDS]\n");
                return 2;
        }
        snprintf(dir, sizeof(dir), "%s/berth-bench-move-%d", argv[1], (int)getpid());
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
        if (mkdir(dir, 0755) < 0) {
                perror(dir);
                return 1;
        }
        for (int i = 0; i < rounds; i++) {
                pid_t child = fork();
                if (child == 0) {
                        pause();
                        _exit(0);
                }
                int n = snprintf(pid, sizeof(pid), "%d", (int)child);
                int fd = open(procs, O_WRONLY);
                double t0 = now_ms();
                if (fd < 0 || write(fd, pid, (size_t)n) != n)
                        perror("move");
                printf("move %d: %.3f ms\n", i + 1, now_ms() - t0);
                close(fd);
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
                usleep(200 * 1000); /* let the kernel forget the last writer */
        }
        for (int i = 0; i < 100 && rmdir(dir) < 0; i++)
                usleep(10 * 1000);
        return 0;
}
