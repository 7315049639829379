/* The shim's listening sockets (control, attach, console). */
#include "shim/shim-internal.h"
#include "util/util.h"
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

int shim_listen_unix(const char *path, berth_error_t **err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(addr.sun_path))
                return berth_error(err, 0, "socket path too long (max %zu bytes): %s", sizeof(addr.sun_path) - 1,
                                   path);
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_error(err, errno, "socket");
        /* a socket file left by a shim of an earlier run of this container */
        if (unlink(path) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove %s", path);
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return berth_error(err, errno, "bind %s", path);
        if (chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
                int e = errno;
                unlink(path);
                return berth_error(err, e, "listen on %s", path);
        }
        return steal_fd(&fd);
}

bool shim_socket_live(const char *path)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(addr.sun_path))
                return false;
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
}
