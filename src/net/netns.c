/* Network namespaces bound at a path, as `ip netns add` binds them: the
 * namespace lives as long as its bind mount, with no process in it, so a
 * container's network can be set up before its first process exists and
 * outlives its restarts.  Only the calling thread ever changes namespace
 * (the daemon has others), and it always comes back. */
#include "net/netlink.h"
#include "util/log.h"
#include "util/util.h"

#include <fcntl.h>
#include <libgen.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>

static void mnl_socket_closep(struct mnl_socket **s)
{
        if (*s)
                mnl_socket_close(*s);
}

/* As in netlink.c: a thread that cannot get back would carry on in a
 * container's namespace; better to stop the process. */
static void netns_restore(int self_fd)
{
        if (setns(self_fd, CLONE_NEWNET) < 0) {
                berth_log(BERTH_LOG_ERROR, "cannot return to the original network namespace: %s",
                          strerror(errno));
                abort();
        }
}

/* The empty file the namespace is bound on, and its directory. */
static int netns_file_create(const char *path, berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(path);
        const char *dir = dirname(copy);
        int fd, ret;

        if (strcmp(dir, ".") != 0 && strcmp(dir, "/") != 0) {
                ret = mkdir_p(dir, 0755, err);
                if (ret < 0)
                        return ret;
        }
        /* O_EXCL: binding over a live namespace would leak it under the
         * new mount. */
        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_error(err, errno, "create network namespace %s", path);
        close(fd);
        return 0;
}

/* A new namespace, in the calling thread only, bound on path, and a
 * netlink socket made inside it (it stays in that namespace). */
static int netns_bind(const char *path, struct mnl_socket **sock, berth_error_t **err)
{
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        int ret = 0;

        if (self < 0)
                return berth_error(err, errno, "open /proc/thread-self/ns/net");
        if (unshare(CLONE_NEWNET) < 0)
                return berth_error(err, errno, "create network namespace %s", path);
        if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0) {
                ret = berth_error(err, errno, "bind network namespace on %s", path);
        } else {
                *sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
                if (*sock == NULL) {
                        ret = berth_error(err, errno, "netlink socket in %s", path);
                        umount2(path, MNT_DETACH);
                }
        }
        /* unbound (after a failure), the namespace goes when we leave it */
        netns_restore(self);
        return ret;
}

/* lo up: one request by name, its ack checked. */
static int lo_up(struct mnl_socket *sock, const char *path, berth_error_t **err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ssize_t len;

        nlh->nlmsg_type = RTM_NEWLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = 1;
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_flags = ifm->ifi_change = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
        if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0)
                return berth_error(err, errno, "set lo up in %s", path);
        do
                len = mnl_socket_recvfrom(sock, buf, sizeof(buf));
        while (len < 0 && errno == EINTR);
        /* the socket is unbound: mnl_cb_run must not check the port id */
        if (len < 0 || mnl_cb_run(buf, len, 1, 0, NULL, NULL) < 0)
                return berth_error(err, errno, "set lo up in %s", path);
        return 0;
}

int netns_create(const char *path, berth_error_t **err)
{
        __attribute__((cleanup(mnl_socket_closep))) struct mnl_socket *sock = NULL;
        int ret;

        if (path == NULL || *path == '\0')
                return berth_fail(err, EINVAL, "create network namespace: no path");
        ret = netns_file_create(path, err);
        if (ret < 0)
                return ret;
        ret = netns_bind(path, &sock, err);
        if (ret == 0) {
                ret = lo_up(sock, path, err);
                if (ret < 0)
                        umount2(path, MNT_DETACH);
        }
        if (ret < 0)
                unlink(path);
        return ret;
}

int netns_remove(const char *path, berth_error_t **err)
{
        if (path == NULL || *path == '\0')
                return berth_fail(err, EINVAL, "remove network namespace: no path");
        /* EINVAL: not (or no longer) a mount point; a path bound twice by
         * someone else is unbound down to the file */
        for (int i = 0; i < 16; i++) {
                if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                        continue;
                if (errno == EINVAL || errno == ENOENT)
                        break;
                return berth_error(err, errno, "unmount network namespace %s", path);
        }
        if (unlink(path) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove network namespace %s", path);
        return 0;
}
