#include "runtime/console.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

int console_socket_connect(const char *path, berth_error_t **err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(addr.sun_path))
                return berth_error(err, 0, "console socket path too long: %s", path);
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_error(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return berth_error(err, errno, "connect to console socket %s", path);
        return steal_fd(&fd);
}

int send_fd(int sock, int fd, const char *name, berth_error_t **err)
{
        char control[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                              .msg_controllen = sizeof(control) };
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
                return berth_error(err, errno, "send terminal over console socket");
        return 0;
}

int recv_fd(int sock, berth_error_t **err)
{
        char control[CMSG_SPACE(sizeof(int))] = { 0 }, name[256];
        struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                              .msg_controllen = sizeof(control) };
        struct cmsghdr *cmsg;
        int fd;

        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
                return berth_error(err, errno, "receive terminal");
        cmsg = CMSG_FIRSTHDR(&msg);
        if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
                return berth_error(err, 0, "receive terminal: no file descriptor in message");
        memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
        return fd;
}

/* Programs expect /dev/console to be their terminal (runc binds the pty
 * there too). */
static int bind_console(const char *pts, berth_error_t **err)
{
        int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0 && errno != EEXIST)
                return berth_error(err, errno, "create /dev/console");
        if (fd >= 0)
                close(fd);
        if (mount(pts, "/dev/console", NULL, MS_BIND, NULL) < 0)
                return berth_error(err, errno, "bind %s on /dev/console", pts);
        return 0;
}

int console_setup(int sock, json_t *size, bool dev_console, berth_error_t **err)
{
        _cleanup_close_ int master = -1, slave = -1;
        char name[64];
        int ret;

        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return berth_error(err, errno, "open /dev/ptmx");
        if (unlockpt(master) < 0)
                return berth_error(err, errno, "unlockpt");
        if (ptsname_r(master, name, sizeof(name)) != 0)
                return berth_error(err, errno, "ptsname");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return berth_error(err, errno, "open terminal %s", name);
        if (size) {
                struct winsize ws = {
                        .ws_row = (unsigned short)json_integer_value(json_object_get(size, "height")),
                        .ws_col = (unsigned short)json_integer_value(json_object_get(size, "width")),
                };
                if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
                        return berth_error(err, errno, "set terminal size");
        }
        if (dev_console && (ret = bind_console(name, err)) < 0)
                return ret;
        if ((ret = send_fd(sock, master, name, err)) < 0)
                return ret;
        if (setsid() < 0 && errno != EPERM)
                return berth_error(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return berth_error(err, errno, "set controlling terminal %s", name);
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return berth_error(err, errno, "dup terminal to fd %d", fd);
        return 0;
}
