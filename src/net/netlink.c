/* Bridges, veth endpoints, addresses and routes through rtnetlink with
 * libmnl.  Each call opens its own socket, so calls on different threads
 * share nothing.  Requests that belong together go out in one sendmsg and
 * every one of them asks for an ack (NLM_F_ACK): one round trip for the
 * lot, and a named error for the first that failed.  Interface indexes
 * come from SIOCGIFINDEX on the netlink socket itself (an ioctl, not a
 * netlink round trip); it answers in the socket's namespace. */
#include "net/netlink.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>

/* Requests and answers share one buffer; dumps want 32 KiB (libmnl's
 * later MNL_SOCKET_DUMP_SIZE) or the kernel truncates their messages. */
#define NL_BUF_SIZE 32768
/* The most requests in one batch (nl_endpoint_add's namespace batch is 5). */
#define NL_BATCH_MAX 8

struct nl {
        struct mnl_socket *sock;
        char *buf;                      /* NL_BUF_SIZE bytes */
        unsigned seq;                   /* the last sequence number used */
        /* The batch being built. */
        size_t len;                     /* bytes of finished messages */
        struct nlmsghdr *last;          /* the message being built */
        unsigned first_seq, n;
        char *what[NL_BATCH_MAX];       /* "create bridge berth0": the message in errors */
        int ok_errno[NL_BATCH_MAX];     /* an answer that counts as success ("add when missing") */
};

static void nl_batch_reset(struct nl *nl)
{
        for (unsigned i = 0; i < nl->n; i++)
                free(nl->what[i]);
        nl->n = 0;
        nl->len = 0;
        nl->last = NULL;
}

static void nl_closep(struct nl *nl)
{
        nl_batch_reset(nl);
        if (nl->sock)
                mnl_socket_close(nl->sock);
        free(nl->buf);
}
#define _cleanup_nl_ __attribute__((cleanup(nl_closep)))

/* A NETLINK_ROUTE socket in the calling thread's current namespace. */
static int nl_open(struct nl *nl, berth_error_t **err)
{
        int one = 1;

        nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (nl->sock == NULL)
                return berth_error(err, errno, "open netlink socket");
        if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
                return berth_error(err, errno, "bind netlink socket");
        /* Errors carry the kernel's explanation (extack), and echo only the
         * header of the failed request, not all of it. */
        mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
        mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
        nl->buf = xmalloc(NL_BUF_SIZE);
        return 0;
}

/* Put the thread back into the namespace it came from.  Failing that, the
 * thread would go on working in a container's namespace, publishing ports
 * and creating links there: better to stop the process. */
static void netns_restore(int self_fd)
{
        if (setns(self_fd, CLONE_NEWNET) < 0) {
                berth_log(BERTH_LOG_ERROR, "cannot return to the original network namespace: %s",
                          strerror(errno));
                abort();
        }
}

/* A netlink socket bound to the namespace open as ns_fd: made from inside
 * it (the socket keeps the namespace it was made in), then the calling
 * thread, and only it, goes back. */
static int nl_open_in(struct nl *nl, int ns_fd, const char *ns_path, berth_error_t **err)
{
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        int ret;

        if (self < 0)
                return berth_error(err, errno, "open /proc/thread-self/ns/net");
        if (setns(ns_fd, CLONE_NEWNET) < 0) {
                if (errno == EINVAL)
                        return berth_fail(err, EINVAL, "%s is not a network namespace", ns_path);
                return berth_error(err, errno, "enter network namespace %s", ns_path);
        }
        ret = nl_open(nl, err);
        netns_restore(self);
        return ret;
}

/* Start a request in the batch; `what` (taken over) names it in errors. */
static struct nlmsghdr *nl_add(struct nl *nl, uint16_t type, uint16_t flags, int ok_errno, char *what)
{
        struct nlmsghdr *nlh;

        if (nl->last)
                nl->len += NLMSG_ALIGN(nl->last->nlmsg_len);
        /* Requests here are a few hundred bytes at most: running out is a bug. */
        if (nl->n == NL_BATCH_MAX || nl->len + 1024 > NL_BUF_SIZE)
                abort();
        nlh = mnl_nlmsg_put_header(nl->buf + nl->len);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        nlh->nlmsg_seq = ++nl->seq;
        if (nl->n == 0)
                nl->first_seq = nlh->nlmsg_seq;
        nl->what[nl->n] = what;
        nl->ok_errno[nl->n] = ok_errno;
        nl->n++;
        nl->last = nlh;
        return nlh;
}

/* The kernel's own words on a failed request, when it gave some. */
static const char *nl_extack(const struct nlmsghdr *nlh)
{
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *attr;
        size_t off = sizeof(*e);

        if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
                return NULL;
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
        mnl_attr_for_each(attr, nlh, off) {
                if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
                    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
                        return mnl_attr_get_str(attr);
        }
        return NULL;
}

/* Hand an error made on the side (kept when it turned out to matter). */
static void error_pass(berth_error_t **err, berth_error_t **e)
{
        if (err == NULL)
                return;
        berth_error_free(err);
        *err = steal_pointer(e);
}

static int nl_fail(berth_error_t **err, int errnum, const char *what, const char *extack)
{
        if (extack && *extack)
                return berth_fail(err, errnum, "%s: %s (%s)", what, strerror(errnum), extack);
        return berth_error(err, errnum, "%s", what);
}

/* Send the batch in one go and collect an ack for each request.  The
 * kernel carries on after a failed request, so all acks are read; the
 * first failure is the one reported. */
static int nl_commit(struct nl *nl, berth_error_t **err)
{
        _cleanup_free_ char *extack = NULL;
        unsigned pending = nl->n;
        int failed = -1, errnum = 0, ret = 0;

        if (nl->last)
                nl->len += NLMSG_ALIGN(nl->last->nlmsg_len);
        nl->last = NULL;
        if (mnl_socket_sendto(nl->sock, nl->buf, nl->len) < 0) {
                ret = berth_error(err, errno, "%s: netlink send", nl->what[0]);
                nl_batch_reset(nl);
                return ret;
        }
        while (pending > 0) {
                ssize_t len = mnl_socket_recvfrom(nl->sock, nl->buf, NL_BUF_SIZE);
                int left;

                if (len < 0 && errno == EINTR)
                        continue;
                if (len < 0) {
                        ret = berth_error(err, errno, "%s: netlink receive", nl->what[0]);
                        nl_batch_reset(nl);
                        return ret;
                }
                left = (int)len;
                for (struct nlmsghdr *nlh = (struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, left);
                     nlh = mnl_nlmsg_next(nlh, &left)) {
                        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                        unsigned i = nlh->nlmsg_seq - nl->first_seq;

                        if (nlh->nlmsg_type != NLMSG_ERROR || i >= nl->n)
                                continue;
                        pending--;
                        if (e->error == 0 || -e->error == nl->ok_errno[i] || failed >= 0)
                                continue;
                        failed = (int)i;
                        errnum = -e->error;
                        if (nl_extack(nlh))
                                extack = xstrdup(nl_extack(nlh));
                }
        }
        if (failed >= 0)
                ret = nl_fail(err, errnum, nl->what[failed], extack);
        nl_batch_reset(nl);
        return ret;
}

/* One request whose answers go to cb, up to the ack or the end of a
 * dump; mnl_cb_run does the bookkeeping.  Returns 0 or -errno, with
 * *err filled. */
static int nl_query(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data, const char *what,
                    berth_error_t **err)
{
        unsigned seq = req->nlmsg_seq, portid = mnl_socket_get_portid(nl->sock);
        int ret = MNL_CB_OK;

        if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
                return berth_error(err, errno, "%s", what);
        while (ret > 0) {
                ssize_t len = mnl_socket_recvfrom(nl->sock, nl->buf, NL_BUF_SIZE);

                if (len < 0 && errno == EINTR)
                        continue;
                if (len < 0)
                        return berth_error(err, errno, "%s", what);
                ret = mnl_cb_run(nl->buf, len, seq, portid, cb, data);
        }
        if (ret < 0)
                return berth_error(err, errno, "%s", what);
        return 0;
}

/* Interface names as the kernel takes them (dev_valid_name); checked
 * first so a bad one gets a clear message. */
static int check_ifname(const char *name, const char *role, berth_error_t **err)
{
        size_t len = name ? strlen(name) : 0;
        _cleanup_free_ char *q = NULL;

        if (len == 0)
                return berth_fail(err, EINVAL, "%s: empty interface name", role);
        q = quote(name);
        if (len >= IFNAMSIZ)
                return berth_fail(err, EINVAL, "%s %s: interface name too long (at most %d characters)",
                                  role, q, IFNAMSIZ - 1);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strpbrk(name, "/: \t\n\r\v\f"))
                return berth_fail(err, EINVAL, "%s %s: invalid interface name", role, q);
        return 0;
}

static int ifreq_ioctl(struct nl *nl, unsigned long req, const char *name, struct ifreq *ifr)
{
        memset(ifr, 0, sizeof(*ifr));
        strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
        return ioctl(mnl_socket_get_fd(nl->sock), req, ifr);
}

static int nl_ifindex(struct nl *nl, const char *name)
{
        struct ifreq ifr;

        if (ifreq_ioctl(nl, SIOCGIFINDEX, name, &ifr) < 0)
                return -errno;
        return ifr.ifr_ifindex;
}

/* A locally administered unicast MAC.  A bridge with an address of its
 * own keeps it; one with a random address takes the lowest of its ports',
 * so its MAC (the containers' gateway's) would change each time the
 * first container comes or goes, and their ARP caches would go stale. */
static void random_mac(unsigned char mac[6])
{
        if (getrandom(mac, 6, 0) != 6) {
                struct timespec ts;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                for (int i = 0; i < 6; i++)
                        mac[i] = (unsigned char)((ts.tv_nsec >> (i * 5)) ^ getpid() ^ (i * 37));
        }
        mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02);
}

static bool mac_is_zero(const unsigned char mac[6])
{
        static const unsigned char zero[6];

        return memcmp(mac, zero, 6) == 0;
}

static char *addr_str(int family, const void *addr, unsigned prefix)
{
        char buf[INET6_ADDRSTRLEN];

        inet_ntop(family, addr, buf, sizeof(buf));
        return xasprintf("%s/%u", buf, prefix);
}

/* ---- links ---- */

struct link_info {
        int index;
        unsigned flags;
        char kind[32];
};

static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
        struct link_info *li = data;
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *attr, *info;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return MNL_CB_OK;
        li->index = ifm->ifi_index;
        li->flags = ifm->ifi_flags;
        mnl_attr_for_each(attr, nlh, sizeof(*ifm)) {
                if (mnl_attr_get_type(attr) != IFLA_LINKINFO)
                        continue;
                mnl_attr_for_each_nested(info, attr) {
                        if (mnl_attr_get_type(info) == IFLA_INFO_KIND &&
                            mnl_attr_validate(info, MNL_TYPE_STRING) == 0)
                                snprintf(li->kind, sizeof(li->kind), "%.*s",
                                         (int)mnl_attr_get_payload_len(info),
                                         (const char *)mnl_attr_get_payload(info));
                }
        }
        return MNL_CB_OK;
}

/* The link called name: 0, or -ENODEV without an error when there is none. */
static int link_get(struct nl *nl, const char *name, struct link_info *li, berth_error_t **err)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        _cleanup_error_ berth_error_t *e = NULL;
        _cleanup_free_ char *what = xasprintf("look up link %s", name);
        int ret;

        nlh->nlmsg_type = RTM_GETLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = ++nl->seq;
        ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        /* the kind is all we want: spare the kernel the statistics */
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        memset(li, 0, sizeof(*li));
        ret = nl_query(nl, nlh, link_info_cb, li, what, &e);
        if (ret == -ENODEV)
                return ret;
        if (ret < 0)
                error_pass(err, &e);
        return ret < 0 ? ret : 0;
}

static void put_link_name(struct nlmsghdr *nlh, const char *name)
{
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

        ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
}

/* Delete a link by name; none of that name is success. */
static int link_remove(const char *name, const char *role, berth_error_t **err)
{
        _cleanup_nl_ struct nl nl = {0};
        int ret;

        ret = check_ifname(name, role, err);
        if (ret < 0)
                return ret;
        ret = nl_open(&nl, err);
        if (ret < 0)
                return ret;
        put_link_name(nl_add(&nl, RTM_DELLINK, 0, ENODEV, xasprintf("%s %s", role, name)), name);
        return nl_commit(&nl, err);
}

int nl_link_remove(const char *name, berth_error_t **err)
{
        return link_remove(name, "remove link", err);
}

bool nl_link_exists(const char *name)
{
        return name && strlen(name) < IFNAMSIZ && if_nametoindex(name) != 0;
}

struct prefix_match {
        const char *prefix;
        char **names;
        size_t n;
};

static int prefix_cb(const struct nlmsghdr *nlh, void *data)
{
        struct prefix_match *m = data;
        const struct nlattr *attr;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return MNL_CB_OK;
        mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg)) {
                if (mnl_attr_get_type(attr) != IFLA_IFNAME ||
                    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ||
                    !str_has_prefix(mnl_attr_get_str(attr), m->prefix))
                        continue;
                m->names = xrealloc(m->names, (m->n + 2) * sizeof(char *));
                m->names[m->n++] = xstrdup(mnl_attr_get_str(attr));
                m->names[m->n] = NULL;
        }
        return MNL_CB_OK;
}

static void prefix_match_reset(struct prefix_match *m)
{
        cleanup_strvp(&m->names);
        m->names = NULL;
        m->n = 0;
}

/* One dump of the links, names matching into m. */
static int links_dump(struct prefix_match *m, berth_error_t **err)
{
        _cleanup_nl_ struct nl nl = {0};
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifm;
        int ret;

        ret = nl_open(&nl, err);
        if (ret < 0)
                return ret;
        nlh = mnl_nlmsg_put_header(nl.buf);
        nlh->nlmsg_type = RTM_GETLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = ++nl.seq;
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        return nl_query(&nl, nlh, prefix_cb, m, "list links", err);
}

int nl_links_with_prefix(const char *prefix, char ***names, berth_error_t **err)
{
        struct prefix_match m = { .prefix = prefix ? prefix : "" };
        int ret;

        /* A dump that raced with a change ends in EINTR (NLM_F_DUMP_INTR):
         * start again, on a new socket (the old one still holds the rest). */
        for (int attempt = 0;; attempt++) {
                ret = links_dump(&m, err);
                if (ret != -EINTR || attempt == 3)
                        break;
                prefix_match_reset(&m);
                berth_error_free(err);
        }
        if (ret < 0) {
                prefix_match_reset(&m);
                return ret;
        }
        *names = m.names ? m.names : xcalloc(1, sizeof(char *));
        return 0;
}

/* ---- bridges ---- */

static int bridge_create(struct nl *nl, const struct nl_bridge *b, berth_error_t **err)
{
        struct nlmsghdr *nlh = nl_add(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0,
                                      xasprintf("create bridge %s", b->name));
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        struct nlattr *linkinfo;
        unsigned char mac[6];

        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_flags = ifm->ifi_change = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, b->name);
        if (b->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, b->mtu);
        random_mac(mac);
        mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
        linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, linkinfo);
        return nl_commit(nl, err);
}

/* Add an address (a batch entry); existing is fine when ok_errno is EEXIST. */
static void add_address(struct nl *nl, int family, int index, const void *addr, unsigned prefix,
                        int ok_errno, const char *ifname, const char *where)
{
        _cleanup_free_ char *a = addr_str(family, addr, prefix);
        struct nlmsghdr *nlh = nl_add(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ok_errno,
                                      xasprintf("add address %s to %s%s", a, ifname, where));
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        size_t alen = family == AF_INET ? 4 : 16;

        ifa->ifa_family = (unsigned char)family;
        ifa->ifa_prefixlen = (unsigned char)prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned)index;
        mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
        mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
        if (family == AF_INET && prefix < 31) {
                uint32_t host = prefix == 0 ? 0xffffffffu : (1u << (32 - prefix)) - 1;
                uint32_t brd = ((const struct in_addr *)addr)->s_addr | htonl(host);

                mnl_attr_put_u32(nlh, IFA_BROADCAST, brd);
        }
        /* A v6 address usable at once: duplicate address detection would
         * hold it tentative for a second or more, on a link only we fill. */
        if (family == AF_INET6)
                ifa->ifa_flags = IFA_F_NODAD;
}

static int write_sysctl(const char *fmt, const char *ifname, const char *value, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf(fmt, ifname);

        return write_file(path, value, strlen(value), err);
}

static int bridge_sysctls(const struct nl_bridge *b, berth_error_t **err)
{
        int ret;

        /* DNAT of 127.0.0.1 to a container needs the bridge to route
         * loopback sources. */
        ret = write_sysctl("/proc/sys/net/ipv4/conf/%s/route_localnet", b->name, "1", err);
        if (ret < 0 || !b->has_v6)
                return ret;
        /* The host may default to no IPv6 on new links; the v6 address
         * cannot be added until this is 0. */
        return write_sysctl("/proc/sys/net/ipv6/conf/%s/disable_ipv6", b->name, "0", err);
}

/* Find the bridge, creating it when missing; a concurrent creator's EEXIST
 * means it is there. */
static int bridge_find_or_create(struct nl *nl, const struct nl_bridge *b, struct link_info *li,
                                 berth_error_t **err)
{
        int ret = link_get(nl, b->name, li, err);

        if (ret == -ENODEV) {
                _cleanup_error_ berth_error_t *e = NULL;

                ret = bridge_create(nl, b, &e);
                if (ret < 0 && ret != -EEXIST) {
                        error_pass(err, &e);
                        return ret;
                }
                ret = link_get(nl, b->name, li, err);
                if (ret == -ENODEV)
                        ret = berth_error(err, ENODEV, "bridge %s vanished while being created", b->name);
        }
        if (ret < 0)
                return ret;
        if (strcmp(li->kind, "bridge") != 0)
                return berth_fail(err, EEXIST, "create bridge %s: a link of that name exists and is not a bridge",
                                  b->name);
        return 0;
}

int nl_bridge_ensure(const struct nl_bridge *b, berth_error_t **err)
{
        _cleanup_nl_ struct nl nl = {0};
        struct link_info li;
        int ret;

        ret = check_ifname(b->name, "bridge", err);
        if (ret < 0)
                return ret;
        ret = nl_open(&nl, err);
        if (ret < 0)
                return ret;
        ret = bridge_find_or_create(&nl, b, &li, err);
        if (ret < 0)
                return ret;
        ret = bridge_sysctls(b, err);
        if (ret < 0)
                return berth_error_wrap(err, "bridge %s", b->name);
        if (!(li.flags & IFF_UP)) {
                struct nlmsghdr *nlh = nl_add(&nl, RTM_NEWLINK, 0, 0, xasprintf("set bridge %s up", b->name));
                struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

                ifm->ifi_family = AF_UNSPEC;
                ifm->ifi_index = li.index;
                ifm->ifi_flags = ifm->ifi_change = IFF_UP;
        }
        add_address(&nl, AF_INET, li.index, &b->gw4, b->prefix4, EEXIST, b->name, "");
        if (b->has_v6)
                add_address(&nl, AF_INET6, li.index, &b->gw6, b->prefix6, EEXIST, b->name, "");
        return nl_commit(&nl, err);
}

/* ---- veth endpoints ---- */

struct endpoint_ctx {
        const struct nl_endpoint *ep;
        int ns_fd;
        struct nl host, ns;             /* sockets in the host's and the container's namespace */
        char tmp_name[IFNAMSIZ];        /* the peer's name until it is renamed in the namespace */
        int bridge_index, host_index, peer_index;
        unsigned mtu;
};

static void endpoint_ctx_done(struct endpoint_ctx *c)
{
        nl_closep(&c->host);
        nl_closep(&c->ns);
        cleanup_closep(&c->ns_fd);
}

static int endpoint_check(const struct nl_endpoint *ep, berth_error_t **err)
{
        int ret = check_ifname(ep->host_ifname, "endpoint", err);

        if (ret == 0)
                ret = check_ifname(ep->ifname, "endpoint interface", err);
        if (ret == 0)
                ret = check_ifname(ep->bridge, "bridge", err);
        if (ret == 0 && (ep->netns_path == NULL || *ep->netns_path == '\0'))
                ret = berth_fail(err, EINVAL, "endpoint %s: no network namespace", ep->host_ifname);
        return ret;
}

/* Everything that can fail before anything is made: the namespace, both
 * sockets, the bridge's index and MTU. */
static int endpoint_prepare(struct endpoint_ctx *c, berth_error_t **err)
{
        const struct nl_endpoint *ep = c->ep;
        unsigned char rnd[6];
        struct ifreq ifr;
        int ret;

        c->ns_fd = open(ep->netns_path, O_RDONLY | O_CLOEXEC);
        if (c->ns_fd < 0)
                return berth_error(err, errno, "open network namespace %s", ep->netns_path);
        ret = nl_open_in(&c->ns, c->ns_fd, ep->netns_path, err);
        if (ret == 0)
                ret = nl_open(&c->host, err);
        if (ret < 0)
                return ret;
        c->bridge_index = nl_ifindex(&c->host, ep->bridge);
        if (c->bridge_index < 0)
                return berth_error(err, -c->bridge_index, "bridge %s", ep->bridge);
        c->mtu = ep->mtu;
        if (c->mtu == 0) {
                if (ifreq_ioctl(&c->host, SIOCGIFMTU, ep->bridge, &ifr) < 0)
                        return berth_error(err, errno, "MTU of bridge %s", ep->bridge);
                c->mtu = (unsigned)ifr.ifr_mtu;
        }
        /* Unique in the namespace without shared state: 48 random bits. */
        if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
                random_mac(rnd);
        snprintf(c->tmp_name, sizeof(c->tmp_name), "bt%02x%02x%02x%02x%02x%02x",
                 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        return 0;
}

/* The pair in one request: host side up, on the bridge; the peer made
 * straight in the namespace (it never exists on the host), down under its
 * temporary name, with its MAC and MTU. */
static int veth_create(struct endpoint_ctx *c, berth_error_t **err)
{
        const struct nl_endpoint *ep = c->ep;
        struct nlmsghdr *nlh = nl_add(&c->host, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0,
                                      xasprintf("create veth %s", ep->host_ifname));
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        struct nlattr *linkinfo, *data, *peer;
        struct ifinfomsg *peer_ifm;

        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_flags = ifm->ifi_change = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ep->host_ifname);
        mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)c->bridge_index);
        linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* the peer's attributes follow an ifinfomsg of its own */
        peer_ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer_ifm));
        peer_ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, c->tmp_name);
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->ns_fd);
        mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
        if (!mac_is_zero(ep->mac))
                mnl_attr_put(nlh, IFLA_ADDRESS, 6, ep->mac);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, linkinfo);
        return nl_commit(&c->host, err);
}

/* Hairpin on the bridge port: a container reaches itself through a
 * published port (DNAT back out of the port it came in by). */
static int host_hairpin(struct endpoint_ctx *c, berth_error_t **err)
{
        const struct nl_endpoint *ep = c->ep;
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifm;
        struct nlattr *protinfo;

        c->host_index = nl_ifindex(&c->host, ep->host_ifname);
        if (c->host_index < 0)
                return berth_error(err, -c->host_index, "endpoint %s", ep->host_ifname);
        nlh = nl_add(&c->host, RTM_SETLINK, 0, 0, xasprintf("set hairpin on %s", ep->host_ifname));
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_BRIDGE;
        ifm->ifi_index = c->host_index;
        protinfo = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
        /* without NLA_F_NESTED the bridge reads the old one-byte state */
        protinfo->nla_type |= NLA_F_NESTED;
        mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
        mnl_attr_nest_end(nlh, protinfo);
        return nl_commit(&c->host, err);
}

static void add_default_route(struct nl *nl, int family, int index, const void *gw, const char *where)
{
        char buf[INET6_ADDRSTRLEN];
        struct nlmsghdr *nlh;
        struct rtmsg *rtm;

        inet_ntop(family, gw, buf, sizeof(buf));
        nlh = nl_add(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, 0,
                     xasprintf("add default route via %s%s", buf, where));
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = (unsigned char)family;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, gw);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
}

/* In the namespace, one batch: rename and up, addresses, default routes. */
static int peer_configure(struct endpoint_ctx *c, berth_error_t **err)
{
        const struct nl_endpoint *ep = c->ep;
        _cleanup_free_ char *where = xasprintf(" (endpoint %s, %s)", ep->host_ifname, ep->netns_path);
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifm;

        c->peer_index = nl_ifindex(&c->ns, c->tmp_name);
        if (c->peer_index < 0)
                return berth_error(err, -c->peer_index, "endpoint %s: peer %s in %s", ep->host_ifname,
                                   c->tmp_name, ep->netns_path);
        /* renaming needs the link down: the kernel renames before it
         * applies the flags of the same request */
        nlh = nl_add(&c->ns, RTM_NEWLINK, 0, 0, xasprintf("rename %s to %s%s", c->tmp_name, ep->ifname, where));
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = c->peer_index;
        ifm->ifi_flags = ifm->ifi_change = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ep->ifname);
        add_address(&c->ns, AF_INET, c->peer_index, &ep->ip4, ep->prefix4, 0, ep->ifname, where);
        if (ep->has_v6)
                add_address(&c->ns, AF_INET6, c->peer_index, &ep->ip6, ep->prefix6, 0, ep->ifname, where);
        if (ep->gw4.s_addr != INADDR_ANY)
                add_default_route(&c->ns, AF_INET, c->peer_index, &ep->gw4, where);
        if (ep->has_v6 && !IN6_IS_ADDR_UNSPECIFIED(&ep->gw6))
                add_default_route(&c->ns, AF_INET6, c->peer_index, &ep->gw6, where);
        return nl_commit(&c->ns, err);
}

/* Undo after a failure: deleting the host side takes the peer, its
 * addresses and routes with it. */
static void endpoint_undo(struct endpoint_ctx *c)
{
        _cleanup_error_ berth_error_t *e = NULL;

        put_link_name(nl_add(&c->host, RTM_DELLINK, 0, ENODEV,
                             xasprintf("remove veth %s", c->ep->host_ifname)), c->ep->host_ifname);
        if (nl_commit(&c->host, &e) < 0)
                berth_warn("undo endpoint: %s", e->msg);
}

int nl_endpoint_add(const struct nl_endpoint *ep, berth_error_t **err)
{
        struct endpoint_ctx c __attribute__((cleanup(endpoint_ctx_done))) = { .ep = ep, .ns_fd = -1 };
        int ret;

        ret = endpoint_check(ep, err);
        if (ret < 0)
                return ret;
        ret = endpoint_prepare(&c, err);
        if (ret < 0)
                return berth_error_wrap(err, "endpoint %s", ep->host_ifname);
        ret = veth_create(&c, err);
        if (ret < 0)
                return ret;
        ret = host_hairpin(&c, err);
        if (ret == 0)
                ret = peer_configure(&c, err);
        if (ret < 0)
                endpoint_undo(&c);
        return ret;
}

int nl_endpoint_remove(const char *host_ifname, berth_error_t **err)
{
        return link_remove(host_ifname, "remove endpoint", err);
}

/* ---- routes to a link ---- */

/* One request for dst/prefix through dev (scope link, main table). */
static int link_route(uint16_t type, uint16_t flags, int ok_errno, const char *verb, const char *dev,
                      struct in_addr dst, unsigned prefix, berth_error_t **err)
{
        _cleanup_nl_ struct nl nl = {0};
        _cleanup_free_ char *what = NULL;
        struct nlmsghdr *nlh;
        struct rtmsg *rtm;
        int ret, index;

        ret = check_ifname(dev, verb, err);
        if (ret < 0)
                return ret;
        what = addr_str(AF_INET, &dst, prefix);
        if (prefix > 32)
                return berth_fail(err, EINVAL, "%s %s: invalid prefix length", verb, what);
        ret = nl_open(&nl, err);
        if (ret < 0)
                return ret;
        index = nl_ifindex(&nl, dev);
        if (index == -ENODEV && ok_errno == ESRCH)
                return 0;       /* no link: no route through it either */
        if (index < 0)
                return berth_error(err, -index, "%s %s dev %s", verb, what, dev);
        nlh = nl_add(&nl, type, flags, ok_errno, xasprintf("%s %s dev %s", verb, what, dev));
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = AF_INET;
        rtm->rtm_dst_len = (unsigned char)prefix;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_LINK;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_DST, 4, &dst);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
        return nl_commit(&nl, err);
}

int nl_route_to_link_add(const char *dev, struct in_addr dst, unsigned prefix, berth_error_t **err)
{
        return link_route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, 0, "add route", dev, dst, prefix, err);
}

int nl_route_to_link_remove(const char *dev, struct in_addr dst, unsigned prefix, berth_error_t **err)
{
        return link_route(RTM_DELROUTE, 0, ESRCH, "remove route", dev, dst, prefix, err);
}
