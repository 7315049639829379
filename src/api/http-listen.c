/* The API's sockets: unix ones with their mode and group set before
 * anyone can connect, and TCP ones, with every address form (IPv6, a
 * host name, every address) parsed in one place. */
#include "api/http-internal.h"
#include "util/util.h"
#include <netdb.h>
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

/* "HOST:PORT", "[V6]:PORT", ":PORT": host and port split, brackets gone. */
static int split_addr(const char *addr, char **host, char **port, berth_error_t **err)
{
        const char *colon = strrchr(addr, ':');
        size_t hlen;

        if (colon == NULL || colon[1] == '\0')
                return berth_fail(err, EINVAL, "tcp://%s: expected HOST:PORT", addr);
        hlen = (size_t)(colon - addr);
        if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']')
                *host = xasprintf("%.*s", (int)(hlen - 2), addr + 1);
        else
                *host = xasprintf("%.*s", (int)hlen, addr);
        *port = xstrdup(colon + 1);
        return 0;
}

static int bind_one(const struct addrinfo *ai, berth_error_t **err)
{
        _cleanup_close_ int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        int one = 1;

        if (fd < 0)
                return berth_error(err, errno, "socket");
        /* a restarted daemon must not wait out TIME_WAIT */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
                return berth_error(err, errno, "bind");
        if (listen(fd, 128) < 0)
                return berth_error(err, errno, "listen");
        return steal_fd(&fd);
}

int http_listen_tcp(const char *addr, int *out, berth_error_t **err)
{
        _cleanup_free_ char *host = NULL, *port = NULL;
        struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *res = NULL;
        int r, fd = -1;

        if (split_addr(addr, &host, &port, err) < 0)
                return -1;
        r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
        if (r != 0)
                return berth_fail(err, EINVAL, "tcp://%s: %s", addr, gai_strerror(r));
        /* the first address that binds, as Go's net.Listen */
        for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
                if (err && *err)
                        berth_error_free(err);
                fd = bind_one(ai, err);
        }
        freeaddrinfo(res);
        if (fd < 0)
                return berth_error_wrap(err, "tcp://%s", addr);
        *out = fd;
        return 0;
}
