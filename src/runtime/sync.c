#include "runtime/sync.h"
#include "util/util.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int sync_socketpair(int fds[2], berth_error_t **err)
{
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
                return berth_error(err, errno, "socketpair");
        return 0;
}

int sync_send(int fd, enum sync_type type, const char *text)
{
        struct sync_msg msg = { .type = (int)type };
        size_t len = offsetof(struct sync_msg, text);

        if (text) {
                snprintf(msg.text, sizeof(msg.text), "%s", text);
                len += strlen(msg.text) + 1;
        }
        for (;;) {
                ssize_t n = send(fd, &msg, len, MSG_NOSIGNAL);
                if (n >= 0)
                        return 0;
                if (errno != EINTR)
                        return -1;
        }
}

int sync_recv(int fd, struct sync_msg *msg)
{
        ssize_t n;

        memset(msg, 0, sizeof(*msg));
        do
                n = recv(fd, msg, sizeof(*msg) - 1, 0);
        while (n < 0 && errno == EINTR);
        /* A peer that exits with a message of ours unread (the child that
         * fails before it reads CGROUP_DONE) leaves ECONNRESET, which the
         * kernel reports once, ahead of what the peer sent before: its
         * SYNC_ERROR is still queued. */
        if (n < 0 && errno == ECONNRESET)
                do
                        n = recv(fd, msg, sizeof(*msg) - 1, 0);
                while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        if (n < (ssize_t)sizeof(int)) {
                errno = 0;
                return -1;
        }
        return 0;
}

int sync_expect(int fd, enum sync_type want, berth_error_t **err)
{
        struct sync_msg msg;

        if (sync_recv(fd, &msg) < 0) {
                if (errno == 0)
                        return berth_error(err, 0, "container process exited during setup");
                return berth_error(err, errno, "read from container process");
        }
        if (msg.type == SYNC_ERROR)
                return berth_error(err, 0, "%s", msg.text);
        if (msg.type != (int)want)
                return berth_error(err, 0, "unexpected message %d from container process (wanted %d)", msg.type,
                                   (int)want);
        return 0;
}

void sync_send_error(int fd, berth_error_t *err)
{
        if (fd >= 0 && err)
                sync_send(fd, SYNC_ERROR, err->msg);
}

int sync_send_fd(int sock, enum sync_type type, int fd)
{
        struct sync_msg msg = { .type = (int)type };
        char control[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = &msg, .iov_len = offsetof(struct sync_msg, text) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                struct cmsghdr *cmsg;
                mh.msg_control = control;
                mh.msg_controllen = sizeof(control);
                cmsg = CMSG_FIRSTHDR(&mh);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        }
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int sync_recv_fd(int sock, struct sync_msg *msg, int *fd)
{
        char control[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof(control) };
        struct cmsghdr *cmsg;
        ssize_t n;

        memset(msg, 0, sizeof(*msg));
        *fd = -1;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < (ssize_t)sizeof(int)) {
                if (n >= 0)
                        errno = 0;
                return -1;
        }
        cmsg = CMSG_FIRSTHDR(&mh);
        if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
                memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
        return 0;
}
