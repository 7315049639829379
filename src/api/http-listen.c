/* The API's unix socket.  libmicrohttpd binds only IP sockets, so the
 * server creates this one and hands it over as MHD_OPTION_LISTEN_SOCKET. */
#include "api/http-internal.h"
#include "util/util.h"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static int sockaddr_for(const char *path, struct sockaddr_un *sa, berth_error_t **err)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sa->sun_path))
                return berth_error(err, ENAMETOOLONG, "socket path %s", path);
        strcpy(sa->sun_path, path);
        return 0;
}

/* A socket file left by a daemon that died is removed; one that still
 * answers belongs to a running daemon, and taking it over would cut that
 * daemon off from its clients. */
static int remove_stale(const char *path, const struct sockaddr_un *sa, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : berth_error(err, errno, "stat %s", path);
        if (!S_ISSOCK(st.st_mode))
                return berth_error(err, EEXIST, "%s exists and is not a socket", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_error(err, errno, "socket");
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
                return berth_error(err, EADDRINUSE, "another daemon is listening on %s", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove stale socket %s", path);
        return 0;
}

/* Permissions are set between bind and listen: nobody can connect before
 * listen, so the umask's wider mode is never usable. */
static int secure(const char *path, mode_t mode, bool chgrp, gid_t gid, berth_error_t **err)
{
        if (chmod(path, mode) < 0)
                return berth_error(err, errno, "chmod %s", path);
        if (chgrp && chown(path, (uid_t)-1, gid) < 0)
                return berth_error(err, errno, "chown %s to group %u", path, (unsigned)gid);
        return 0;
}

int http_listen_unix(const char *path, mode_t mode, bool chgrp, gid_t gid, int *out,
                     berth_error_t **err)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa;

        if (sockaddr_for(path, &sa, err) < 0 || remove_stale(path, &sa, err) < 0)
                return -1;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_error(err, errno, "socket");
        if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
                return berth_error(err, errno, "bind %s", path);
        if (secure(path, mode ? mode : 0660, chgrp, gid, err) < 0) {
                unlink(path);
                return -1;
        }
        if (listen(fd, 128) < 0) {
                int r = berth_error(err, errno, "listen %s", path);
                unlink(path);
                return r;
        }
        *out = steal_fd(&fd);
        return 0;
}
