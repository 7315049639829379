/* seccomp-listener: the agent end of linux.seccomp.listenerPath, as a
 * seccomp agent (runc's contrib/cmd/seccompagent) implements it.
 *
 *   seccomp-listener SOCKET STATEFILE continue|errno=N [NOTIFICATIONS]
 *
 * Listens on the unix socket SOCKET and accepts every connection: from each
 * it receives one fd with SCM_RIGHTS (a seccomp notify fd) and the message
 * that came with it (the runtime-spec containerProcessState JSON), and
 * appends that message as one line to STATEFILE.  It answers notifications
 * from any of the fds it holds: with SECCOMP_USER_NOTIF_FLAG_CONTINUE
 * ("continue": the syscall runs) or with the error -N ("errno=N"), and
 * appends "notif pid=P nr=NR" to STATEFILE.log for each.  After
 * NOTIFICATIONS answers (default 1) it closes every notify fd (later
 * notifications then fail with ENOSYS in the container) and exits 0; 1 on
 * any error; it gives up after 60 s (alarm). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
        fprintf(stderr, "seccomp-listener: %s: %s\n", what, strerror(errno));
        exit(1);
}

/* Receive the notify fd and its message; returns the fd. */
static int receive(int cfd, char *text, size_t cap)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl;
        struct iovec iov = { .iov_base = text, .iov_len = cap - 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                              .msg_controllen = sizeof ctl.buf };
        struct cmsghdr *cm;
        ssize_t n;
        int fd = -1;

        n = recvmsg(cfd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                die("recvmsg");
        text[n] = 0;
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        if (fd < 0) {
                errno = EBADMSG;
                die("no fd in the message");
        }
        return fd;
}

static void answer(int nfd, const char *mode, FILE *log)
{
        struct seccomp_notif_sizes sizes;
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;

        if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
                die("SECCOMP_GET_NOTIF_SIZES");
        req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
        resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
        if (!req || !resp)
                die("calloc");
        while (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
                if (errno != EINTR)
                        die("SECCOMP_IOCTL_NOTIF_RECV");
        fprintf(log, "notif pid=%u nr=%d\n", req->pid, req->data.nr);
        fflush(log);
        resp->id = req->id;
        if (strcmp(mode, "continue") == 0) {
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        } else if (strncmp(mode, "errno=", 6) == 0) {
                resp->error = -atoi(mode + 6);
        } else {
                errno = EINVAL;
                die(mode);
        }
        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0)
                die("SECCOMP_IOCTL_NOTIF_SEND");
        free(req);
        free(resp);
}

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char text[65536], logpath[4096];
        struct pollfd pfd[64];
        FILE *state, *log;
        int lfd, want, answered = 0, n = 1;

        if (argc < 4 || argc > 5) {
                fprintf(stderr, "usage: seccomp-listener SOCKET STATEFILE continue|errno=N [NOTIFICATIONS]\n");
                return 2;
        }
        want = argc == 5 ? atoi(argv[4]) : 1;
        alarm(60);
        signal(SIGPIPE, SIG_IGN);
        if (strlen(argv[1]) >= sizeof sa.sun_path) {
                errno = ENAMETOOLONG;
                die(argv[1]);
        }
        strcpy(sa.sun_path, argv[1]);
        snprintf(logpath, sizeof logpath, "%s.log", argv[2]);
        state = fopen(argv[2], "a");
        log = fopen(logpath, "a");
        if (!state || !log)
                die(argv[2]);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0)
                die("socket");
        unlink(sa.sun_path);
        if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
                die("bind");
        if (listen(lfd, 4) < 0)
                die("listen");
        pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        while (answered < want) {
                if (poll(pfd, (nfds_t)n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        die("poll");
                }
                if (pfd[0].revents & POLLIN) {
                        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                        if (cfd < 0)
                                die("accept");
                        if (n == 64) {
                                errno = EMFILE;
                                die("too many notify fds");
                        }
                        pfd[n++] = (struct pollfd){ .fd = receive(cfd, text, sizeof text), .events = POLLIN };
                        fprintf(state, "%s\n", text);
                        fflush(state);
                        close(cfd);
                }
                for (int i = 1; i < n && answered < want; i++) {
                        if (pfd[i].revents & POLLIN) {
                                answer(pfd[i].fd, argv[3], log);
                                answered++;
                        } else if (pfd[i].revents & (POLLHUP | POLLERR)) {
                                /* every process of that filter is gone */
                                close(pfd[i].fd);
                                pfd[i--] = pfd[--n];
                        }
                }
        }
        for (int i = 1; i < n; i++)
                close(pfd[i].fd);
        close(lfd);
        unlink(sa.sun_path);
        return 0;
}
