/* recvtty: the receiving end of a runtime's --console-socket, as containerd's
 * shim (or runc's own contrib/cmd/recvtty) implements it.
 *
 *   recvtty SOCKET OUTFILE [INPUT]
 *
 * Listens on the unix socket SOCKET, accepts one connection, receives one fd
 * with SCM_RIGHTS (the pty master), writes "ptn=N" (the pty number, proof it
 * is a pty master) to OUTFILE.info, writes INPUT (if given) to the master,
 * then copies everything read from the master into OUTFILE until the slave
 * side is closed by every process (read returns EIO) or SIGTERM arrives.
 * Exits 0 when a master was received, 1 otherwise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what)
{
        fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
        exit(1);
}

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int lfd, cfd, master = -1, out;
        char name[4096];
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl;
        struct iovec iov = { .iov_base = name, .iov_len = sizeof name - 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                              .msg_controllen = sizeof ctl.buf };
        struct cmsghdr *cm;
        ssize_t n;
        char buf[4096], info[4200];
        unsigned int ptn = 0;

        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: recvtty SOCKET OUTFILE [INPUT]\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (strlen(argv[1]) >= sizeof sa.sun_path) {
                errno = ENAMETOOLONG;
                die(argv[1]);
        }
        strcpy(sa.sun_path, argv[1]);
        out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                die(argv[2]);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0)
                die("socket");
        unlink(argv[1]);
        if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
                die("bind");
        if (listen(lfd, 1) < 0)
                die("listen");
        cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
                die("accept");
        n = recvmsg(cfd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                die("recvmsg");
        name[n > 0 ? n : 0] = 0;
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&master, CMSG_DATA(cm), sizeof master);
        close(cfd);
        close(lfd);
        unlink(argv[1]);
        if (master < 0) {
                fprintf(stderr, "recvtty: no fd received\n");
                return 1;
        }
        snprintf(info, sizeof info, "%s.info", argv[2]);
        {
                FILE *f = fopen(info, "we");
                if (f) {
                        if (ioctl(master, TIOCGPTN, &ptn) == 0)
                                fprintf(f, "ptn=%u name=%s\n", ptn, name);
                        else
                                fprintf(f, "notpty errno=%d name=%s\n", errno, name);
                        fclose(f);
                }
        }
        if (argc == 4 && write(master, argv[3], strlen(argv[3])) < 0)
                die("write to master");
        for (;;) {
                n = read(master, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* EIO: every slave fd is closed */
                if (write(out, buf, (size_t)n) != n)
                        die("write");
        }
        return 0;
}
