/* rtnetlink and network namespaces (src/net/netlink.c, netns.c) against
 * the real kernel.  Needs root.  The test process first moves into a
 * network namespace and a mount namespace of its own (with a fresh sysfs,
 * which then shows this namespace's links), so no link, address or
 * packet touches the host, and whatever a failed test leaves goes away
 * with the process.  What the module did is read back through views of
 * its own: sysfs, /proc, ioctls, getifaddrs, and real TCP traffic from
 * forked children inside the containers' namespaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/magic.h>

#include "net/netlink.h"
#include "util/util.h"

#define BRIDGE "brt0"
#define GW4 "10.89.0.1"
#define GW6 "fd00:89::1"

static char tmpdir[64];
static bool have_root;

/* ---- setup: our own namespaces ---- */

static void set_up_lo(void)
{
        struct ifreq ifr = { .ifr_name = "lo" };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
                ifr.ifr_flags |= IFF_UP;
                ioctl(fd, SIOCSIFFLAGS, &ifr);
        }
        close(fd);
}

static int group_setup(void **state)
{
        (void)state;
        if (geteuid() != 0)
                return 0;
        if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
                perror("unshare");
                return -1;
        }
        /* nothing mounted here reaches the host's mount namespace */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                perror("mount");
                return -1;
        }
        set_up_lo();
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-netlink-XXXXXX");
        if (mkdtemp(tmpdir) == NULL) {
                perror("mkdtemp");
                return -1;
        }
        have_root = true;
        return 0;
}

/* Every link but lo is ours: remove them all, then the namespaces. */
static void remove_all(void)
{
        _cleanup_strv_ char **names = NULL;
        _cleanup_close_ int dfd = -1;

        if (nl_links_with_prefix("", &names, NULL) == 0) {
                for (char **n = names; *n; n++)
                        if (strcmp(*n, "lo") != 0)
                                nl_link_remove(*n, NULL);
        }
        for (int pass = 0; pass < 2; pass++) {
                /* namespaces are files in tmpdir and in tmpdir/sub/dir */
                const char *subs[] = { "", "/sub/dir" };

                for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
                        _cleanup_free_ char *d = xasprintf("%s%s", tmpdir, subs[i]);
                        DIR *dir = opendir(d);
                        struct dirent *de;

                        if (dir == NULL)
                                continue;
                        while ((de = readdir(dir))) {
                                _cleanup_free_ char *p = xasprintf("%s/%s", d, de->d_name);

                                if (de->d_type == DT_REG)
                                        netns_remove(p, NULL);
                        }
                        closedir(dir);
                }
        }
        dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                clear_dir(dfd);
}

static int group_teardown(void **state)
{
        (void)state;
        if (!have_root)
                return 0;
        remove_all();
        rmdir(tmpdir);
        return 0;
}

static int setup(void **state)
{
        (void)state;
        if (!have_root)
                skip();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (have_root)
                remove_all();
        return 0;
}

/* ---- small views of the kernel, independent of the module ---- */

static char *nspath(const char *name)
{
        return xasprintf("%s/%s", tmpdir, name);
}

static char *sys_read(const char *fmt, const char *ifname)
{
        _cleanup_free_ char *path = xasprintf(fmt, ifname);
        char *data = NULL;
        size_t len = 0;

        if (read_file(path, &data, &len, NULL) < 0)
                return NULL;
        while (len > 0 && data[len - 1] == '\n')
                data[--len] = '\0';
        return data;
}

static void assert_sys(const char *fmt, const char *ifname, const char *want)
{
        _cleanup_free_ char *got = sys_read(fmt, ifname);

        assert_non_null(got);
        assert_string_equal(got, want);
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static unsigned long sys_flags(const char *ifname)
{
        _cleanup_free_ char *flags = sys_read("/sys/class/net/%s/flags", ifname);

        return flags ? strtoul(flags, NULL, 16) : 0;
}

static bool wait_operstate_up(const char *ifname)
{
        for (int i = 0; i < 200; i++) {
                _cleanup_free_ char *state = sys_read("/sys/class/net/%s/operstate", ifname);

                if (state && strcmp(state, "up") == 0)
                        return true;
                usleep(10000);
        }
        return false;
}

static ino_t netns_ino(const char *path)
{
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        return st.st_ino;
}

static ino_t thread_netns(void)
{
        return netns_ino("/proc/thread-self/ns/net");
}

static unsigned count_links(void)
{
        _cleanup_strv_ char **names = NULL;
        unsigned n = 0;

        assert_int_equal(nl_links_with_prefix("", &names, NULL), 0);
        for (char **p = names; *p; p++)
                n++;
        return n;
}

static void assert_no_links(const char *prefix)
{
        _cleanup_strv_ char **names = NULL;

        assert_int_equal(nl_links_with_prefix(prefix, &names, NULL), 0);
        assert_non_null(names);
        if (names[0])
                fail_msg("link %s left behind", names[0]);
}

static struct in_addr ip4(const char *s)
{
        struct in_addr a;

        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static struct in6_addr ip6(const char *s)
{
        struct in6_addr a;

        assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
        return a;
}

static struct nl_bridge bridge_conf(const char *name, unsigned mtu)
{
        return (struct nl_bridge){
                .name = name, .mtu = mtu, .gw4 = ip4(GW4), .prefix4 = 24,
                .has_v6 = true, .gw6 = ip6(GW6), .prefix6 = 64,
        };
}

/* Endpoint n on BRIDGE: 10.89.0.(n+1), fd00:89::(n+1), 02:42:0a:59:00:(n+1). */
static struct nl_endpoint ep_conf(const char *host, const char *ns, int n)
{
        struct nl_endpoint ep = {
                .bridge = BRIDGE, .host_ifname = host, .netns_path = ns, .ifname = "eth0",
                .mac = { 0x02, 0x42, 0x0a, 0x59, 0x00, (unsigned char)(n + 1) },
                .prefix4 = 24, .gw4 = ip4(GW4), .has_v6 = true, .prefix6 = 64, .gw6 = ip6(GW6),
        };
        char a[64];

        snprintf(a, sizeof(a), "10.89.0.%d", n + 1);
        ep.ip4 = ip4(a);
        snprintf(a, sizeof(a), "fd00:89::%x", n + 1);
        ep.ip6 = ip6(a);
        return ep;
}

static void make_bridge(const char *name, unsigned mtu)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct nl_bridge b = bridge_conf(name, mtu);

        if (nl_bridge_ensure(&b, &err) < 0)
                fail_msg("nl_bridge_ensure: %s", err->msg);
}

static void make_netns(const char *path)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (netns_create(path, &err) < 0)
                fail_msg("netns_create: %s", err->msg);
}

static void add_endpoint(const struct nl_endpoint *ep)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (nl_endpoint_add(ep, &err) < 0)
                fail_msg("nl_endpoint_add: %s", err->msg);
}

/* Count addresses of family on ifname equal to want (NULL: any) in the
 * calling process's namespace; *prefix gets the last match's length. */
static int count_addrs(const char *ifname, int family, const void *want, unsigned *prefix)
{
        struct ifaddrs *ifs, *i;
        int n = 0;

        if (getifaddrs(&ifs) < 0)
                return -1;
        for (i = ifs; i; i = i->ifa_next) {
                const void *a, *m;
                size_t len = family == AF_INET ? 4 : 16;
                unsigned bits = 0;

                if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, ifname) != 0)
                        continue;
                a = family == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                                      : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                m = family == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr
                                      : (void *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
                if (want && memcmp(a, want, len) != 0)
                        continue;
                for (size_t b = 0; b < len; b++)
                        bits += (unsigned)__builtin_popcount(((const unsigned char *)m)[b]);
                if (prefix)
                        *prefix = bits;
                n++;
        }
        freeifaddrs(ifs);
        return n;
}

/* ---- children in a container's namespace ---- */

#define CHECK(cond)                                                                     \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "in namespace, line %d: %s failed (%s)\n",     \
                                __LINE__, #cond, strerror(errno));                      \
                        return 1;                                                       \
                }                                                                       \
        } while (0)

typedef int (*child_fn)(void *arg);

static pid_t spawn_in(const char *ns, child_fn fn, void *arg)
{
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(ns, O_RDONLY | O_CLOEXEC);

                alarm(20);      /* a hung child must not hang the test */
                if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
                        perror("setns");
                        _exit(99);
                }
                _exit(fn(arg));
        }
        return pid;
}

static int wait_child(pid_t pid)
{
        int st;

        if (waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run_in(const char *ns, child_fn fn, void *arg)
{
        return wait_child(spawn_in(ns, fn, arg));
}

union addr {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
};

static socklen_t make_sa(union addr *u, int family, const void *addr, int port)
{
        memset(u, 0, sizeof(*u));
        if (family == AF_INET) {
                u->in.sin_family = AF_INET;
                u->in.sin_port = htons((uint16_t)port);
                memcpy(&u->in.sin_addr, addr, 4);
                return sizeof(u->in);
        }
        u->in6.sin6_family = AF_INET6;
        u->in6.sin6_port = htons((uint16_t)port);
        memcpy(&u->in6.sin6_addr, addr, 16);
        return sizeof(u->in6);
}

/* A TCP listener on addr, port chosen by the kernel. */
static int listen_on(int family, const void *addr, int *port)
{
        union addr u;
        socklen_t len = make_sa(&u, family, addr, 0);
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;

        if (fd < 0)
                return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, &u.sa, len) < 0 || listen(fd, 4) < 0 || getsockname(fd, &u.sa, &len) < 0) {
                close(fd);
                return -1;
        }
        *port = ntohs(family == AF_INET ? u.in.sin_port : u.in6.sin6_port);
        return fd;
}

/* Accept one connection, expect "ping" from peer, answer "pong". */
static bool serve_one(int lfd, int family, const void *peer)
{
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        struct timeval tv = { .tv_sec = 10 };
        union addr u;
        socklen_t len = sizeof(u);
        char buf[8] = "";
        bool ok;
        int fd;

        if (poll(&p, 1, 10000) != 1)
                return false;
        fd = accept4(lfd, &u.sa, &len, SOCK_CLOEXEC);
        if (fd < 0)
                return false;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ok = recv(fd, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "ping", 4) == 0 &&
             u.sa.sa_family == family &&
             memcmp(family == AF_INET ? (void *)&u.in.sin_addr : (void *)&u.in6.sin6_addr, peer,
                    family == AF_INET ? 4 : 16) == 0 &&
             send(fd, "pong", 4, MSG_NOSIGNAL) == 4;
        close(fd);
        return ok;
}

/* Connect to addr:port, send "ping", expect "pong": 0 on success. */
static int talk(int family, const void *addr, int port)
{
        struct timeval tv = { .tv_sec = 10 };
        union addr u;
        socklen_t len = make_sa(&u, family, addr, port);
        char buf[8] = "";
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        CHECK(fd >= 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        CHECK(connect(fd, &u.sa, len) == 0);
        CHECK(send(fd, "ping", 4, MSG_NOSIGNAL) == 4);
        CHECK(recv(fd, buf, 4, MSG_WAITALL) == 4);
        CHECK(memcmp(buf, "pong", 4) == 0);
        close(fd);
        return 0;
}

/* The default route in /proc/net/route: 1 via gw on ifname, 0 none, -1 other. */
static int default_route4(const char *ifname, struct in_addr gw)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
        char line[512], iface[IFNAMSIZ + 1];
        unsigned long dst, via;
        int found = 0;

        if (f == NULL)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "%16s %lx %lx", iface, &dst, &via) != 3 || dst != 0)
                        continue;
                if (strcmp(iface, ifname) != 0 || via != gw.s_addr)
                        return -1;
                found = 1;
        }
        return found;
}

static void hex16(const struct in6_addr *a, char out[33])
{
        for (int i = 0; i < 16; i++)
                sprintf(out + 2 * i, "%02x", a->s6_addr[i]);
}

/* The same for /proc/net/ipv6_route. */
static int default_route6(const char *ifname, const struct in6_addr *gw)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/net/ipv6_route", "re");
        char line[512], dst[33], via[33], want[33], iface[IFNAMSIZ + 1];
        unsigned plen;
        int found = 0;

        if (f == NULL)
                return -1;
        hex16(gw, want);
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "%32s %x %*s %*s %32s %*s %*s %*s %*s %16s", dst, &plen, via, iface) != 4 ||
                    plen != 0 || strcmp(dst, "00000000000000000000000000000000") != 0 ||
                    strcmp(iface, "lo") == 0)
                        continue;
                if (strcmp(iface, ifname) != 0 || strcmp(via, want) != 0)
                        return -1;
                found = 1;
        }
        return found;
}

static int ifreq_get(const char *ifname, unsigned long req, struct ifreq *ifr)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int ret;

        memset(ifr, 0, sizeof(*ifr));
        snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
        ret = ioctl(fd, req, ifr);
        close(fd);
        return ret;
}

/* The links of the calling process's namespace, other than lo. */
static int other_links(char *first, size_t size)
{
        struct if_nameindex *ni = if_nameindex(), *i;
        int n = 0;

        if (ni == NULL)
                return -1;
        for (i = ni; i->if_index; i++) {
                if (strcmp(i->if_name, "lo") == 0)
                        continue;
                if (n++ == 0 && first)
                        snprintf(first, size, "%s", i->if_name);
        }
        if_freenameindex(ni);
        return n;
}

struct container_check {
        const struct nl_endpoint *ep;
        unsigned mtu;
        int port4, port6;       /* the test listens on the gateways; 0: no traffic */
};

/* Inside the container's namespace: the peer is there, only it, as
 * configured, and reaches the gateway. */
static int check_container(void *arg)
{
        const struct container_check *cc = arg;
        const struct nl_endpoint *ep = cc->ep;
        struct ifreq ifr;
        char first[IFNAMSIZ] = "";
        unsigned prefix = 0;

        CHECK(other_links(first, sizeof(first)) == 1);
        CHECK(strcmp(first, ep->ifname) == 0);
        CHECK(ifreq_get(ep->ifname, SIOCGIFHWADDR, &ifr) == 0);
        CHECK(memcmp(ifr.ifr_hwaddr.sa_data, ep->mac, 6) == 0);
        CHECK(ifreq_get(ep->ifname, SIOCGIFMTU, &ifr) == 0);
        CHECK((unsigned)ifr.ifr_mtu == cc->mtu);
        CHECK(ifreq_get(ep->ifname, SIOCGIFFLAGS, &ifr) == 0);
        CHECK(ifr.ifr_flags & IFF_UP);
        CHECK(ifreq_get("lo", SIOCGIFFLAGS, &ifr) == 0);
        CHECK(ifr.ifr_flags & IFF_UP);
        CHECK(count_addrs(ep->ifname, AF_INET, NULL, NULL) == 1);
        CHECK(count_addrs(ep->ifname, AF_INET, &ep->ip4, &prefix) == 1);
        CHECK(prefix == ep->prefix4);
        if (ep->has_v6) {
                CHECK(count_addrs(ep->ifname, AF_INET6, &ep->ip6, &prefix) == 1);
                CHECK(prefix == ep->prefix6);
        }
        if (ep->gw4.s_addr)
                CHECK(default_route4(ep->ifname, ep->gw4) == 1);
        else
                CHECK(default_route4(ep->ifname, ep->gw4) == 0);
        if (ep->has_v6 && !IN6_IS_ADDR_UNSPECIFIED(&ep->gw6))
                CHECK(default_route6(ep->ifname, &ep->gw6) == 1);
        if (cc->port4)
                CHECK(talk(AF_INET, &ep->gw4, cc->port4) == 0);
        if (cc->port6)
                CHECK(talk(AF_INET6, &ep->gw6, cc->port6) == 0);
        return 0;
}

/* Nothing but lo in the namespace. */
static int check_empty(void *arg)
{
        char first[IFNAMSIZ] = "";

        (void)arg;
        if (other_links(first, sizeof(first)) != 0) {
                fprintf(stderr, "in namespace: link %s left behind\n", first);
                return 1;
        }
        return 0;
}

/* ---- namespaces ---- */

static void test_netns_create_remove(void **state)
{
        _cleanup_free_ char *path = nspath("sub/dir/ns1");
        _cleanup_error_ berth_error_t *err = NULL;
        ino_t before = thread_netns();
        struct statfs sfs;
        struct stat st;

        (void)state;
        make_netns(path);       /* its directory is made too */
        assert_int_equal(thread_netns(), before);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(statfs(path, &sfs), 0);
        assert_true(sfs.f_type == NSFS_MAGIC);
        assert_true(netns_ino(path) != before);
        /* lo is up in it, nothing else is there */
        assert_int_equal(run_in(path, check_empty, NULL), 0);

        assert_int_equal(netns_remove(path, &err), 0);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(errno, ENOENT);
        /* again, and a path that never was */
        assert_int_equal(netns_remove(path, &err), 0);
        assert_int_equal(netns_remove("/nonexistent/berth/ns", &err), 0);
        assert_null(err);
}

static int lo_is_up(void *arg)
{
        struct ifreq ifr;

        (void)arg;
        CHECK(ifreq_get("lo", SIOCGIFFLAGS, &ifr) == 0);
        CHECK(ifr.ifr_flags & IFF_UP);
        return 0;
}

static void test_netns_errors(void **state)
{
        _cleanup_free_ char *path = nspath("ns1");
        _cleanup_free_ char *file = nspath("plain");
        _cleanup_free_ char *under_file = nspath("plain/ns");
        _cleanup_error_ berth_error_t *err = NULL;
        ino_t before = thread_netns(), first;

        (void)state;
        make_netns(path);
        first = netns_ino(path);
        assert_int_equal(run_in(path, lo_is_up, NULL), 0);
        /* a second create on the same path fails and leaves the first alone */
        assert_int_equal(netns_create(path, &err), -EEXIST);
        assert_int_equal(err->status, EEXIST);
        assert_non_null(strstr(err->msg, path));
        assert_int_equal(netns_ino(path), first);
        assert_int_equal(thread_netns(), before);
        berth_error_free(&err);

        /* a path under a plain file */
        assert_int_equal(write_file(file, "x", 1, NULL), 0);
        assert_true(netns_create(under_file, &err) < 0);
        assert_int_equal(err->status, ENOTDIR);
        assert_int_equal(thread_netns(), before);
        berth_error_free(&err);
        /* a plain file is not a namespace: removing it just unlinks it */
        assert_int_equal(netns_remove(file, &err), 0);
        assert_int_equal(access(file, F_OK), -1);

        assert_int_equal(netns_create("", &err), -EINVAL);
        berth_error_free(&err);
        assert_int_equal(netns_remove(path, &err), 0);
}

/* ---- bridges ---- */

static void test_bridge_ensure(void **state)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *mac = NULL, *mac2 = NULL;
        struct nl_bridge b = bridge_conf(BRIDGE, 1400);
        struct in_addr gw4 = ip4(GW4), other4 = ip4("10.90.0.1");
        struct in6_addr gw6 = ip6(GW6);
        unsigned prefix = 0;
        struct ifreq ifr;

        (void)state;
        assert_false(nl_link_exists(BRIDGE));
        assert_int_equal(nl_bridge_ensure(&b, &err), 0);
        assert_true(nl_link_exists(BRIDGE));
        assert_int_equal(access("/sys/class/net/" BRIDGE "/bridge", F_OK), 0);
        assert_sys("/sys/class/net/%s/mtu", BRIDGE, "1400");
        assert_true(sys_flags(BRIDGE) & IFF_UP);
        assert_sys("/proc/sys/net/ipv4/conf/%s/route_localnet", BRIDGE, "1");
        assert_sys("/proc/sys/net/ipv6/conf/%s/disable_ipv6", BRIDGE, "0");
        /* its own MAC, so it stays put as ports come and go */
        assert_sys("/sys/class/net/%s/addr_assign_type", BRIDGE, "3");
        mac = sys_read("/sys/class/net/%s/address", BRIDGE);
        assert_int_equal(count_addrs(BRIDGE, AF_INET, NULL, NULL), 1);
        assert_int_equal(count_addrs(BRIDGE, AF_INET, &gw4, &prefix), 1);
        assert_int_equal(prefix, 24);
        assert_int_equal(count_addrs(BRIDGE, AF_INET6, &gw6, &prefix), 1);
        assert_int_equal(prefix, 64);

        /* adopted: idempotent, and it is brought back up */
        assert_int_equal(ifreq_get(BRIDGE, SIOCGIFFLAGS, &ifr), 0);
        ifr.ifr_flags &= ~IFF_UP;
        {
                int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
                close(fd);
        }
        assert_false(sys_flags(BRIDGE) & IFF_UP);
        assert_int_equal(write_file("/proc/sys/net/ipv4/conf/" BRIDGE "/route_localnet", "0", 1, NULL), 0);
        assert_int_equal(nl_bridge_ensure(&b, &err), 0);
        assert_int_equal(nl_bridge_ensure(&b, &err), 0);
        assert_null(err);
        assert_true(sys_flags(BRIDGE) & IFF_UP);
        assert_sys("/proc/sys/net/ipv4/conf/%s/route_localnet", BRIDGE, "1");
        assert_int_equal(count_addrs(BRIDGE, AF_INET, NULL, NULL), 1);
        assert_int_equal(count_addrs(BRIDGE, AF_INET6, &gw6, NULL), 1);
        mac2 = sys_read("/sys/class/net/%s/address", BRIDGE);
        assert_string_equal(mac, mac2);
        /* a missing address is added */
        b.gw4 = other4;
        assert_int_equal(nl_bridge_ensure(&b, &err), 0);
        assert_int_equal(count_addrs(BRIDGE, AF_INET, NULL, NULL), 2);
        assert_int_equal(count_addrs(BRIDGE, AF_INET, &other4, NULL), 1);
        assert_int_equal(count_links(), 2);     /* lo and the bridge */

        assert_int_equal(nl_link_remove(BRIDGE, &err), 0);
        assert_false(nl_link_exists(BRIDGE));
        assert_int_equal(nl_link_remove(BRIDGE, &err), 0);
        assert_null(err);
}

static void test_bridge_errors(void **state)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct nl_bridge b = bridge_conf("brt-0123456789abcdef", 0);
        _cleanup_free_ char *ns = nspath("ns1");
        struct nl_endpoint ep = ep_conf("vetha", ns, 1);

        (void)state;
        assert_int_equal(nl_bridge_ensure(&b, &err), -EINVAL);
        assert_int_equal(err->status, EINVAL);
        assert_non_null(strstr(err->msg, "too long"));
        berth_error_free(&err);
        b.name = "brt/0";
        assert_int_equal(nl_bridge_ensure(&b, &err), -EINVAL);
        berth_error_free(&err);
        assert_int_equal(count_links(), 1);

        /* a link of that name that is not a bridge is not adopted */
        make_bridge(BRIDGE, 0);
        make_netns(ns);
        add_endpoint(&ep);
        b.name = "vetha";
        assert_int_equal(nl_bridge_ensure(&b, &err), -EEXIST);
        assert_non_null(strstr(err->msg, "not a bridge"));
        berth_error_free(&err);
        /* a bad MTU: the kernel's explanation comes along */
        b = bridge_conf("brt1", 10);
        assert_true(nl_bridge_ensure(&b, &err) < 0);
        assert_int_equal(err->status, EINVAL);
        print_message("  %s\n", err->msg);
        assert_non_null(strstr(err->msg, "create bridge brt1: Invalid argument"));
        berth_error_free(&err);
        assert_false(nl_link_exists("brt1"));
}

/* ---- endpoints ---- */

static void test_endpoint_add(void **state)
{
        _cleanup_free_ char *ns = nspath("ns1");
        _cleanup_free_ char *bridge_mac = NULL, *mac_after = NULL, *master = NULL;
        _cleanup_free_ char *master_link = xasprintf("/sys/class/net/%s/master", "vethb1");
        _cleanup_error_ berth_error_t *err = NULL;
        struct nl_endpoint ep = ep_conf("vethb1", ns, 1);
        struct container_check cc = { .ep = &ep, .mtu = 1400 };
        ino_t before = thread_netns();
        double t0;
        char target[PATH_MAX];
        ssize_t n;
        int l4, l6;
        pid_t pid;

        (void)state;
        make_bridge(BRIDGE, 1400);      /* ep.mtu 0: the bridge's */
        bridge_mac = sys_read("/sys/class/net/%s/address", BRIDGE);
        make_netns(ns);
        add_endpoint(&ep);
        assert_int_equal(thread_netns(), before);

        /* host side: on the bridge, hairpin, up, the bridge's MTU */
        assert_true(nl_link_exists("vethb1"));
        n = readlink(master_link, target, sizeof(target) - 1);
        assert_true(n > 0);
        target[n] = '\0';
        master = xstrdup(strrchr(target, '/') + 1);
        assert_string_equal(master, BRIDGE);
        assert_sys("/sys/class/net/%s/brport/hairpin_mode", "vethb1", "1");
        assert_sys("/sys/class/net/%s/mtu", "vethb1", "1400");
        assert_true(sys_flags("vethb1") & IFF_UP);
        /* carrier, as the kernel's linkwatch reports it a moment later */
        assert_true(wait_operstate_up("vethb1"));
        /* the peer never showed up here */
        assert_int_equal(count_links(), 3);
        mac_after = sys_read("/sys/class/net/%s/address", BRIDGE);
        assert_string_equal(bridge_mac, mac_after);

        /* inside: configured, and real traffic to the gateway, v4 and v6 */
        l4 = listen_on(AF_INET, &ep.gw4, &cc.port4);
        l6 = listen_on(AF_INET6, &ep.gw6, &cc.port6);
        assert_true(l4 >= 0 && l6 >= 0);
        t0 = now_us();
        pid = spawn_in(ns, check_container, &cc);
        assert_true(serve_one(l4, AF_INET, &ep.ip4));
        assert_true(serve_one(l6, AF_INET6, &ep.ip6));
        assert_int_equal(wait_child(pid), 0);
        print_message("  checks and traffic in the namespace: %.1f ms\n", (now_us() - t0) / 1000);
        close(l4);
        close(l6);

        /* remove, twice */
        assert_int_equal(nl_endpoint_remove("vethb1", &err), 0);
        assert_false(nl_link_exists("vethb1"));
        assert_int_equal(run_in(ns, check_empty, NULL), 0);
        assert_int_equal(nl_endpoint_remove("vethb1", &err), 0);
        assert_null(err);
}

struct peer_talk {
        const struct nl_endpoint *ep;   /* the one listening */
        struct in_addr from;            /* the one talking */
        int ready[2];
        int port;
};

static int listen_child(void *arg)
{
        struct peer_talk *pt = arg;
        int port = 0, lfd = listen_on(AF_INET, &pt->ep->ip4, &port);

        CHECK(lfd >= 0);
        CHECK(write(pt->ready[1], &port, sizeof(port)) == sizeof(port));
        return serve_one(lfd, AF_INET, &pt->from) ? 0 : 1;
}

static int talk_child(void *arg)
{
        struct peer_talk *pt = arg;

        return talk(AF_INET, &pt->ep->ip4, pt->port);
}

static void test_two_endpoints(void **state)
{
        _cleanup_free_ char *ns_a = nspath("nsa"), *ns_b = nspath("nsb");
        struct nl_endpoint a = ep_conf("vetha", ns_a, 1), b = ep_conf("vethb", ns_b, 2);
        struct container_check cb = { .ep = &b, .mtu = 1500 };
        struct peer_talk pt = { .ep = &a, .from = b.ip4 };
        pid_t listener, client;

        (void)state;
        make_bridge(BRIDGE, 0);
        make_netns(ns_a);
        make_netns(ns_b);
        add_endpoint(&a);
        /* b without v6 and without a default route */
        b.has_v6 = false;
        b.gw4.s_addr = INADDR_ANY;
        b.mtu = 1500;
        add_endpoint(&b);
        assert_int_equal(run_in(ns_b, check_container, &cb), 0);

        assert_int_equal(pipe2(pt.ready, O_CLOEXEC), 0);
        listener = spawn_in(ns_a, listen_child, &pt);
        close(pt.ready[1]);
        assert_int_equal(read(pt.ready[0], &pt.port, sizeof(pt.port)), sizeof(pt.port));
        close(pt.ready[0]);
        client = spawn_in(ns_b, talk_child, &pt);
        assert_int_equal(wait_child(client), 0);
        assert_int_equal(wait_child(listener), 0);

        assert_int_equal(nl_endpoint_remove("vetha", NULL), 0);
        assert_int_equal(nl_endpoint_remove("vethb", NULL), 0);
        assert_no_links("veth");
}

static void expect_add_error(const struct nl_endpoint *ep, int status, const char *in_msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        ino_t before = thread_netns();

        assert_int_equal(nl_endpoint_add(ep, &err), -status);
        assert_non_null(err);
        assert_int_equal(err->status, status);
        print_message("  %s\n", err->msg);
        if (strstr(err->msg, in_msg) == NULL)
                fail_msg("\"%s\" not in \"%s\"", in_msg, err->msg);
        assert_int_equal(thread_netns(), before);
}

static void test_endpoint_errors(void **state)
{
        _cleanup_free_ char *ns1 = nspath("ns1"), *ns2 = nspath("ns2"), *plain = nspath("plain");
        struct nl_endpoint ep = ep_conf("vethe1", ns1, 1);
        struct container_check cc = { .ep = &ep, .mtu = 1500 };

        (void)state;
        make_bridge(BRIDGE, 0);
        make_netns(ns1);
        make_netns(ns2);

        /* bad namespaces */
        ep.netns_path = "/nonexistent/berth-ns";
        expect_add_error(&ep, ENOENT, "endpoint vethe1: open network namespace /nonexistent/berth-ns");
        assert_int_equal(write_file(plain, "", 0, NULL), 0);
        ep.netns_path = plain;
        expect_add_error(&ep, EINVAL, "plain is not a network namespace");
        assert_no_links("veth");

        /* names */
        ep.netns_path = ns1;
        ep.host_ifname = "veth0123456789abcdef";
        expect_add_error(&ep, EINVAL, "too long");
        ep.host_ifname = "vethe1";
        ep.ifname = "eth0123456789abcdef";
        expect_add_error(&ep, EINVAL, "too long");
        ep.ifname = "eth0";
        ep.bridge = "brt9";
        expect_add_error(&ep, ENODEV, "endpoint vethe1: bridge brt9");
        ep.bridge = BRIDGE;
        ep.mtu = 10;
        expect_add_error(&ep, EINVAL, "create veth vethe1");
        ep.mtu = 0;
        assert_no_links("veth");
        assert_int_equal(run_in(ns1, check_empty, NULL), 0);

        /* a duplicate host name: the first endpoint is untouched */
        add_endpoint(&ep);
        {
                struct nl_endpoint dup = ep_conf("vethe1", ns2, 2);

                expect_add_error(&dup, EEXIST, "create veth vethe1: File exists");
        }
        assert_int_equal(run_in(ns2, check_empty, NULL), 0);
        assert_int_equal(run_in(ns1, check_container, &cc), 0);
        /* a duplicate name inside the namespace: undone on the host too */
        {
                struct nl_endpoint dup = ep_conf("vethe2", ns1, 2);

                expect_add_error(&dup, EEXIST, "to eth0 (endpoint vethe2");
        }
        assert_false(nl_link_exists("vethe2"));
        assert_int_equal(run_in(ns1, check_container, &cc), 0);       /* no temporary peer left */
        /* a bad gateway: the namespace batch fails after the rename */
        {
                struct nl_endpoint bad = ep_conf("vethe3", ns2, 3);

                bad.gw4 = ip4("192.0.2.1");
                expect_add_error(&bad, ENETUNREACH, "add default route via 192.0.2.1");
        }
        assert_false(nl_link_exists("vethe3"));
        assert_int_equal(run_in(ns2, check_empty, NULL), 0);

        assert_int_equal(nl_endpoint_remove("vethe1", NULL), 0);
        assert_no_links("veth");
        assert_int_equal(count_links(), 2);     /* lo and the bridge */
}

/* ---- concurrency: many threads, every peer named eth0 ---- */

#define THREADS 8

struct worker {
        int i;
        char host[IFNAMSIZ], ns[128];
        int ret;
        char msg[256];
};

static void *worker_run(void *arg)
{
        struct worker *w = arg;
        _cleanup_error_ berth_error_t *err = NULL;
        struct nl_endpoint ep = ep_conf(w->host, w->ns, 10 + w->i);
        struct stat before, after;

        stat("/proc/thread-self/ns/net", &before);
        w->ret = netns_create(w->ns, &err);
        if (w->ret == 0)
                w->ret = nl_endpoint_add(&ep, &err);
        stat("/proc/thread-self/ns/net", &after);
        if (w->ret == 0 && before.st_ino != after.st_ino)
                w->ret = -1000;
        if (err)
                snprintf(w->msg, sizeof(w->msg), "%s", err->msg);
        return NULL;
}

static void test_concurrent(void **state)
{
        struct worker w[THREADS];
        pthread_t t[THREADS];
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;

        (void)state;
        make_bridge(BRIDGE, 0);
        /* a host link called eth0 changes nothing */
        make_bridge("eth0", 0);
        for (int i = 0; i < THREADS; i++) {
                w[i] = (struct worker){ .i = i };
                snprintf(w[i].host, sizeof(w[i].host), "vethc%d", i);
                snprintf(w[i].ns, sizeof(w[i].ns), "%s/c%d", tmpdir, i);
                assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
        }
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
        for (int i = 0; i < THREADS; i++) {
                struct nl_endpoint ep = ep_conf(w[i].host, w[i].ns, 10 + i);
                struct container_check cc = { .ep = &ep, .mtu = 1500 };

                if (w[i].ret != 0)
                        fail_msg("worker %d: %d %s", i, w[i].ret, w[i].msg);
                assert_int_equal(run_in(w[i].ns, check_container, &cc), 0);
        }
        assert_int_equal(nl_links_with_prefix("vethc", &names, NULL), 0);
        for (char **p = names; *p; p++)
                n++;
        assert_int_equal(n, THREADS);
        for (int i = 0; i < THREADS; i++) {
                assert_int_equal(nl_endpoint_remove(w[i].host, NULL), 0);
                assert_int_equal(netns_remove(w[i].ns, NULL), 0);
        }
        assert_no_links("veth");
}

/* ---- the hot path's cost ---- */


static void test_timing(void **state)
{
        const char *env = getenv("BERTH_NETLINK_ITERATIONS");
        int iterations = env ? atoi(env) : 100;
        _cleanup_free_ char *ns = nspath("timing");
        double sum[4] = { 0 }, max[4] = { 0 };
        const char *names[4] = { "netns_create", "nl_endpoint_add", "nl_endpoint_remove", "netns_remove" };

        (void)state;
        make_bridge(BRIDGE, 0);
        for (int i = 0; i < iterations; i++) {
                struct nl_endpoint ep = ep_conf("vetht", ns, 1);
                double t[5];

                t[0] = now_us();
                make_netns(ns);
                t[1] = now_us();
                add_endpoint(&ep);
                t[2] = now_us();
                assert_int_equal(nl_endpoint_remove("vetht", NULL), 0);
                t[3] = now_us();
                assert_int_equal(netns_remove(ns, NULL), 0);
                t[4] = now_us();
                for (int k = 0; k < 4; k++) {
                        double d = t[k + 1] - t[k];

                        sum[k] += d;
                        if (d > max[k])
                                max[k] = d;
                }
        }
        for (int k = 0; k < 4 && iterations > 0; k++)
                print_message("%-20s mean %7.0f us  max %7.0f us  (%d iterations)\n", names[k],
                              sum[k] / iterations, max[k], iterations);
        assert_no_links("veth");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_netns_create_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_netns_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bridge_ensure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bridge_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_endpoint_add, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_endpoints, setup, teardown),
                cmocka_unit_test_setup_teardown(test_endpoint_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_timing, setup, teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
