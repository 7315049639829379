/* Kubernetes Services in nftables (src/net/nft-svc.c) against the real
 * kernel, in a network namespace of the test's own (unshare at start:
 * the host's rules and links are never seen, let alone touched).
 *
 * A bridge br-s 10.88.0.1/24 (route_localnet=1, as netlink.c makes
 * Berth's bridges) with three "pods" e1..e3 at 10.88.0.2..4, each a
 * namespace held by a child with a TCP and UDP server on 8080 that
 * answers "<its name>|<the peer it saw>", and a client pod at
 * 10.88.0.10.  The service range 10.96.0.0/16 is routed into the
 * bridge, as kube-service.c does.  Children die with the test
 * (PR_SET_PDEATHSIG); the teardown deletes the links and both tables
 * whether the test passed or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/nft-svc.h"
#include "net/nft.h"
#include "util/util.h"

#define EP_PORT 8080            /* what every endpoint server listens on */
#define VIP "10.96.0.10"
#define CLIENT_IP "10.88.0.10"
#define GATEWAY "10.88.0.1"

/* ---- commands and listings ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int status;

        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) < 0)
                abort();
        va_end(ap);
        status = system(cmd);
        if (status != 0)
                print_message("command failed (%d): %s\n", status, cmd);
        return status == 0 ? 0 : -1;
}

static char *capture(const char *cmd)
{
        struct strbuf b = { 0 };
        char buf[4096];
        size_t n;
        FILE *p = popen(cmd, "r");

        assert_non_null(p);
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
                strbuf_add(&b, buf, n);
        pclose(p);
        return b.data ? b.data : xstrdup("");
}

static char *listing(void)
{
        return capture("nft list table ip berth-svc 2>&1");
}

static void assert_has(const char *text, const char *want)
{
        if (strstr(text, want) == NULL)
                fail_msg("missing \"%s\" in:\n%s", want, text);
}

static void assert_lacks(const char *text, const char *unwanted)
{
        if (strstr(text, unwanted) != NULL)
                fail_msg("unexpected \"%s\" in:\n%s", unwanted, text);
}

static int strp_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The table as a sorted list of lines, one for each set or map (its
 * elements sorted), chain and rule (numbered within its chain), without
 * handles: two tables that hold the same compare equal, whatever order
 * their objects were made in. */
static char *canonical(void)
{
        _cleanup_free_ char *out = capture("nft -j list table ip berth-svc");
        json_t *doc = json_loads(out, 0, NULL), *items = json_object_get(doc, "nftables"), *item;
        json_t *lines = json_array(), *counts = json_object();
        struct strbuf b = { 0 };
        size_t i, n;
        const char **v;

        assert_non_null(doc);
        json_array_foreach(items, i, item) {
                const char *kind = json_object_iter_key(json_object_iter(item));
                json_t *o = json_deep_copy(json_object_iter_value(json_object_iter(item)));
                json_t *elem = json_object_get(o, "elem");
                char *s;

                json_object_del(o, "handle");
                if (strcmp(kind, "rule") == 0) {
                        const char *chain = json_string_value(json_object_get(o, "chain"));
                        json_int_t seq = json_integer_value(json_object_get(counts, chain));

                        json_object_set_new(counts, chain, json_integer(seq + 1));
                        json_object_set_new(o, "seq", json_integer(seq));
                }
                if (json_is_array(elem)) {
                        json_t *sorted = json_array();
                        size_t k, m = json_array_size(elem);
                        char **e = xcalloc(m + 1, sizeof(*e));

                        for (k = 0; k < m; k++)
                                e[k] = json_dumps(json_array_get(elem, k), JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
                        qsort(e, m, sizeof(*e), strp_cmp);
                        for (k = 0; k < m; k++) {
                                json_array_append_new(sorted, json_string(e[k]));
                                free(e[k]);
                        }
                        free(e);
                        json_object_set_new(o, "elem", sorted);
                }
                s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
                json_array_append_new(lines, json_sprintf("%s %s", kind, s));
                free(s);
                json_decref(o);
        }
        n = json_array_size(lines);
        v = xcalloc(n + 1, sizeof(*v));
        for (i = 0; i < n; i++)
                v[i] = json_string_value(json_array_get(lines, i));
        qsort(v, n, sizeof(*v), strp_cmp);
        for (i = 0; i < n; i++) {
                strbuf_adds(&b, v[i]);
                strbuf_adds(&b, "\n");
        }
        free(v);
        json_decref(lines);
        json_decref(counts);
        json_decref(doc);
        return b.data ? b.data : xstrdup("");
}

/* ---- namespaces and the processes in them ---- */

static pid_t fork_child(void)
{
        pid_t parent = getpid(), pid = fork();

        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(1);
        }
        return pid;
}

static int enter(pid_t holder)
{
        char path[64];
        int fd, r;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)holder);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        r = setns(fd, CLONE_NEWNET);
        close(fd);
        return r;
}

/* A child that holds a new network namespace until killed. */
static pid_t ns_holder(void)
{
        int p[2];
        char c = 0;
        pid_t pid;

        if (pipe(p) < 0)
                return -1;
        pid = fork_child();
        if (pid == 0) {
                close(p[0]);
                if (unshare(CLONE_NEWNET) < 0 || write(p[1], "r", 1) != 1)
                        _exit(1);
                close(p[1]);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (pid < 0 || read(p[0], &c, 1) != 1) {
                close(p[0]);
                return -1;
        }
        close(p[0]);
        return pid;
}

static int in_ns(pid_t holder, const char *cmd)
{
        pid_t pid = fork_child();
        int status;

        if (pid == 0) {
                if (enter(holder) < 0)
                        _exit(126);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                print_message("in namespace of %d, failed: %s\n", (int)holder, cmd);
                return -1;
        }
        return 0;
}

/* "<name>|<peer>" for whatever came in. */
static void answer(int fd, bool tcp, const char *name)
{
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        struct timeval tv = { 1, 0 };
        char buf[64], out[128], ip[INET_ADDRSTRLEN];
        ssize_t n;
        int c = tcp ? accept(fd, (struct sockaddr *)&peer, &len) : fd;

        if (c < 0)
                return;
        if (tcp) {
                setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                n = read(c, buf, sizeof(buf));
        } else {
                n = recvfrom(c, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
        }
        if (n > 0) {
                inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
                n = snprintf(out, sizeof(out), "%s|%s", name, ip);
                if (sendto(c, out, n, 0, tcp ? NULL : (struct sockaddr *)&peer, tcp ? 0 : len) != n)
                        print_message("server: short write\n");
        }
        if (tcp)
                close(c);
}

static void serve(const char *name, int ready)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(EP_PORT) };
        int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

        signal(SIGPIPE, SIG_IGN);
        setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(t, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(t, 128) < 0 ||
            bind(u, (struct sockaddr *)&a, sizeof(a)) < 0 || write(ready, "r", 1) != 1)
                _exit(1);
        for (;;) {
                struct pollfd p[2] = { { .fd = t, .events = POLLIN }, { .fd = u, .events = POLLIN } };

                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[0].revents)
                        answer(t, true, name);
                if (p[1].revents)
                        answer(u, false, name);
        }
}

static pid_t server_in(pid_t holder, const char *name)
{
        int p[2];
        char c;
        pid_t pid;

        if (pipe(p) < 0)
                return -1;
        pid = fork_child();
        if (pid == 0) {
                close(p[0]);
                if (enter(holder) < 0)
                        _exit(1);
                serve(name, p[1]);
        }
        close(p[1]);
        if (pid < 0 || read(p[0], &c, 1) != 1) {
                close(p[0]);
                return -1;
        }
        close(p[0]);
        return pid;
}

/* What one request got: the answer, or the errno it failed with, and
 * how long it took. */
struct reply {
        int error;                      /* 0: answered */
        char text[128];
        double ms;
};

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* In the child: "ping" to ip:port. */
static void ask(int type, const char *ip, unsigned port, struct reply *r)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        struct timeval tv = { 1, 500 * 1000 };
        size_t got = 0;
        ssize_t n;
        int s = socket(AF_INET, type, 0);

        r->error = EINVAL;
        if (s < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
                return;
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 || send(s, "ping", 4, 0) != 4) {
                r->error = errno;
                return;
        }
        while ((n = recv(s, r->text + got, sizeof(r->text) - 1 - got, 0)) > 0) {
                got += n;
                if (type == SOCK_DGRAM)
                        break;
        }
        r->error = got ? 0 : n < 0 ? errno : ECONNRESET;
        close(s);
}

/* Send "ping" from holder's namespace (0: the test's own, the host). */
static struct reply request(pid_t holder, int type, const char *ip, unsigned port)
{
        struct reply r = { 0 };
        double t = now_ms();
        int p[2], status;
        pid_t pid;

        assert_int_equal(pipe(p), 0);
        pid = fork_child();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct reply mine = { .error = EPERM };

                close(p[0]);
                if (holder == 0 || enter(holder) == 0)
                        ask(type, ip, port, &mine);
                _exit(write(p[1], &mine, sizeof(mine)) == sizeof(mine) ? 0 : 1);
        }
        close(p[1]);
        if (read(p[0], &r, sizeof(r)) != sizeof(r))
                r.error = EIO;
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        r.ms = now_ms() - t;
        return r;
}

#define TCP SOCK_STREAM
#define UDP SOCK_DGRAM

/* The answer, which must come. */
static struct reply expect_answer(pid_t from, int type, const char *ip, unsigned port)
{
        struct reply r = request(from, type, ip, port);

        if (r.error)
                fail_msg("%s %s:%u from %d: %s", type == TCP ? "tcp" : "udp", ip, port, (int)from, strerror(r.error));
        return r;
}

/* Answered by name, who saw peer. */
static void expect_reply(pid_t from, int type, const char *ip, unsigned port, const char *name, const char *peer)
{
        struct reply r = expect_answer(from, type, ip, port);
        _cleanup_free_ char *want = xasprintf("%s|%s", name, peer);

        assert_string_equal(r.text, want);
}

/* Refused at once (S7): never left to time out. */
static void expect_refused(pid_t from, int type, const char *ip, unsigned port)
{
        struct reply r = request(from, type, ip, port);
        /* the host's own datagram is dropped on its way out: send fails */
        int want = from == 0 && type == UDP && strncmp(ip, "127.", 4) != 0 ? EPERM : ECONNREFUSED;

        if (r.error != want)
                fail_msg("%s %s:%u from %d: want %s, got %s%s", type == TCP ? "tcp" : "udp", ip, port, (int)from,
                         strerror(want), r.error ? strerror(r.error) : "an answer: ", r.error ? "" : r.text);
        if (r.ms > 500)
                fail_msg("%s %s:%u from %d: refused after %.0f ms", type == TCP ? "tcp" : "udp", ip, port, (int)from,
                         r.ms);
}

/* ---- fixtures ---- */

struct pod {
        const char *name, *ip;
        pid_t holder, server;
};

static struct fixture {
        struct pod eps[3], client;
} fx;

static const char *const links[] = { "br-s", "br-r", "vs-e1", "vs-e2", "vs-e3", "vs-cl" };

static void kill_child(pid_t *pid)
{
        if (*pid > 0) {
                kill(*pid, SIGKILL);
                waitpid(*pid, NULL, 0);
        }
        *pid = 0;
}

static int teardown(void **state)
{
        (void)state;
        berth_error_t *err = NULL;
        int r = 0;

        for (size_t i = 0; i < ARRAY_SIZE(fx.eps); i++) {
                kill_child(&fx.eps[i].server);
                kill_child(&fx.eps[i].holder);
        }
        kill_child(&fx.client.holder);
        for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
                _cleanup_free_ char *cmd = xasprintf("ip link del %s 2>/dev/null", links[i]);
                if (system(cmd) < 0)
                        print_message("cannot run: %s\n", cmd);
        }
        if (system("ip addr del 10.77.50.1/32 dev lo 2>/dev/null") < 0)
                print_message("cannot run ip\n");
        if (nft_svc_fini(&err) < 0 || nft_fini(&err) < 0) {
                print_message("teardown: %s\n", err->msg);
                berth_error_free(&err);
                r = -1;
        }
        return r;
}

static int setup_empty(void **state)
{
        (void)state;
        memset(&fx, 0, sizeof(fx));
        return 0;
}

static struct in_addr ip4(const char *ip);

/* A pod: a namespace behind a veth on br-s, hairpin on (as netlink.c
 * makes a container's port, so a pod's packets DNATed back to it leave
 * by the port they came in by). */
static int pod_up(struct pod *p, const char *name, const char *ip, bool server)
{
        _cleanup_free_ char *inside = NULL;

        p->name = name;
        p->ip = ip;
        p->holder = ns_holder();
        if (p->holder <= 0 ||
            sh("ip link add vs-%s type veth peer name vs-%sc && ip link set vs-%sc netns %d && "
               "ip link set vs-%s master br-s up && ip link set vs-%s type bridge_slave hairpin on",
               name, name, name, (int)p->holder, name, name) < 0)
                return -1;
        inside = xasprintf("ip link set lo up && ip link set vs-%sc name eth0 && ip addr add %s/24 dev eth0 && "
                           "ip link set eth0 up && ip route add default via " GATEWAY,
                           name, ip);
        if (in_ns(p->holder, inside) < 0)
                return -1;
        if (!server)
                return 0;
        p->server = server_in(p->holder, name);
        return p->server > 0 ? 0 : -1;
}

static int setup_pods(void **state)
{
        static const char *const names[] = { "e1", "e2", "e3" };
        static const char *const ips[] = { "10.88.0.2", "10.88.0.3", "10.88.0.4" };

        berth_error_t *err = NULL;

        setup_empty(state);
        if (sh("ip link add br-s type bridge && ip addr add " GATEWAY "/24 dev br-s && ip link set br-s up && "
               "echo 1 > /proc/sys/net/ipv4/conf/br-s/route_localnet") < 0 ||
            nl_route_to_link_add("br-s", ip4("10.96.0.0"), 16, &err) < 0)
                goto fail;
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (pod_up(&fx.eps[i], names[i], ips[i], true) < 0)
                        goto fail;
        if (pod_up(&fx.client, "cl", CLIENT_IP, false) < 0)
                goto fail;
        return 0;
fail:
        if (err)
                print_message("setup: %s\n", err->msg);
        berth_error_free(&err);
        teardown(state);
        return -1;
}

/* The pods, and Berth's container table with br-s's network rules, as
 * berthd has them beside the service table. */
static int setup_pods_berth(void **state)
{
        struct nft_network n = { .bridge = "br-s", .prefix = 24, .masquerade = true, .icc = true };
        berth_error_t *err = NULL;

        if (setup_pods(state) < 0)
                return -1;
        inet_pton(AF_INET, "10.88.0.0", &n.subnet);
        if (nft_init(&err) < 0 || nft_network_add(&n, &err) < 0) {
                print_message("berth table: %s\n", err->msg);
                berth_error_free(&err);
                teardown(state);
                return -1;
        }
        return 0;
}

/* ---- building services ---- */

static void ok(int r, berth_error_t **err)
{
        if (r < 0)
                fail_msg("unexpected error: %s", *err ? (*err)->msg : "(no message)");
        assert_null(*err);
}

static void failed(int r, berth_error_t **err, int status, const char *msg)
{
        assert_true(r < 0);
        assert_non_null(*err);
        assert_string_equal((*err)->msg, msg);
        assert_int_equal((*err)->status, status);
        berth_error_free(err);
}

static struct nft_svc_endpoint ep(const char *ip, uint16_t port)
{
        struct nft_svc_endpoint e = { .port = port };

        assert_int_equal(inet_pton(AF_INET, ip, &e.ip), 1);
        return e;
}

static struct in_addr ip4(const char *ip)
{
        struct in_addr a;

        assert_int_equal(inet_pton(AF_INET, ip, &a), 1);
        return a;
}

/* The three pods as endpoints of port 8080. */
static const struct nft_svc_endpoint *all_eps(void)
{
        static struct nft_svc_endpoint e[3];

        e[0] = ep("10.88.0.2", EP_PORT);
        e[1] = ep("10.88.0.3", EP_PORT);
        e[2] = ep("10.88.0.4", EP_PORT);
        return e;
}

/* One service "default/web" on VIP, TCP and UDP port 80, node port
 * node_port (TCP), with these endpoints. */
static int sync_web(const struct nft_svc_endpoint *eps, size_t n, uint16_t node_port, bool affinity,
                    uint32_t timeout, berth_error_t **err)
{
        struct nft_svc_port ports[] = {
                { .proto = IPPROTO_TCP, .port = 80, .node_port = node_port, .eps = eps, .n_eps = n },
                { .proto = IPPROTO_UDP, .port = 80, .eps = eps, .n_eps = n },
        };
        struct nft_svc s = { .id = "default/web", .vip = ip4(VIP), .affinity_client_ip = affinity,
                             .affinity_timeout_s = timeout, .ports = ports, .n_ports = ARRAY_SIZE(ports) };

        return nft_svc_sync(&s, 1, err);
}

/* ---- the table ---- */

static void table_lifecycle(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *fresh = NULL, *again = NULL, *tables = NULL;

        ok(nft_svc_fini(&err), &err);
        assert_false(nft_svc_table_exists());
        /* Berth's container table and anyone else's are none of ours */
        ok(nft_init(&err), &err);
        assert_int_equal(sh("nft add table ip other"), 0);
        ok(nft_svc_sync(NULL, 0, &err), &err);
        assert_true(nft_svc_table_exists());
        fresh = listing();
        assert_has(fresh, "set vips {\n\t\ttype ipv4_addr\n\t}");
        assert_has(fresh, "map service_ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t}");
        assert_has(fresh, "map nodeports {\n\t\ttype inet_proto . inet_service : verdict\n\t}");
        assert_has(fresh, "set idle_nodeports {\n\t\ttype inet_proto . inet_service\n\t}");
        assert_has(fresh, "chain services {\n"
                          "\t\tip daddr . meta l4proto . th dport vmap @service_ips\n"
                          "\t\tfib daddr type local meta l4proto . th dport vmap @nodeports\n\t}");
        assert_has(fresh, "type nat hook prerouting priority dstnat; policy accept;\n\t\tjump services\n");
        assert_has(fresh, "type nat hook output priority -100; policy accept;\n\t\tjump services\n");
        assert_has(fresh, "type nat hook postrouting priority srcnat; policy accept;\n"
                          "\t\tmeta mark & 0x00004000 == 0x00000000 return\n"
                          "\t\tmeta mark set meta mark ^ 0x00004000\n"
                          "\t\tmasquerade fully-random\n");
        assert_has(fresh, "chain refuse {\n\t\treject with tcp reset\n\t\treject\n\t}");
        assert_has(fresh, "type filter hook prerouting priority dstnat + 10; policy accept;\n"
                          "\t\tct state new ip daddr @vips jump refuse\n");
        assert_has(fresh, "type filter hook output priority -90; policy accept;\n"
                          "\t\tct state new ip daddr @vips jump refuse\n");
        assert_has(fresh, "type filter hook input priority filter; policy accept;\n"
                          "\t\tct state new meta l4proto . th dport @idle_nodeports jump refuse\n");

        /* a daemon that died left a table: the first sync starts clean */
        ok(nft_svc_fini(&err), &err);
        assert_int_equal(sh("nft add table ip berth-svc && nft add chain ip berth-svc stale && "
                            "nft add set ip berth-svc vips '{ type ipv4_addr; }' && "
                            "nft add element ip berth-svc vips '{ 10.96.9.9 }'"), 0);
        ok(nft_svc_sync(NULL, 0, &err), &err);
        again = listing();
        assert_string_equal(again, fresh);

        ok(nft_svc_fini(&err), &err);
        assert_false(nft_svc_table_exists());
        tables = capture("nft list tables");
        assert_string_equal(tables, "table ip berth\ntable ip other\n");
        assert_int_equal(sh("nft delete table ip other"), 0);
        ok(nft_svc_fini(&err), &err);
}

static void rendering(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *plain = NULL, *pinned = NULL, *one = NULL, *none = NULL;
        struct nft_svc_endpoint e[] = { ep("10.88.0.4", 8080), ep("10.88.0.2", 9090) };

        /* endpoints in a canonical order, whatever order they came in */
        ok(sync_web(e, 2, 30080, false, 0, &err), &err);
        plain = listing();
        assert_has(plain, "elements = { " VIP " }");
        assert_has(plain, VIP " . tcp . 80 : goto svc-default/web/tcp/80");
        assert_has(plain, VIP " . udp . 80 : goto svc-default/web/udp/80");
        assert_has(plain, "elements = { tcp . 30080 : goto svc-default/web/tcp/80 }");
        assert_has(plain, "chain svc-default/web/tcp/80 {\n"
                          "\t\tmeta mark set meta mark | 0x00004000\n"
                          "\t\tmeta l4proto tcp dnat ip to numgen random mod 2 map "
                          "{ 0 : 10.88.0.2 . 9090, 1 : 10.88.0.4 . 8080 }\n"
                          "\t\tmeta l4proto tcp dnat to 10.88.0.2:9090\n\t}");
        assert_lacks(plain, "aff-");

        ok(sync_web(e, 1, 0, false, 0, &err), &err);
        one = listing();
        assert_has(one, "chain svc-default/web/udp/80 {\n"
                        "\t\tmeta mark set meta mark | 0x00004000\n"
                        "\t\tmeta l4proto udp dnat to 10.88.0.4:8080\n\t}");
        assert_lacks(one, "30080");

        ok(sync_web(e, 2, 30080, true, 0, &err), &err);
        pinned = listing();
        assert_has(pinned, "chain svc-default/web/tcp/80 {\n"
                           "\t\tmeta mark set meta mark | 0x00004000\n"
                           "\t\tip saddr @aff-default/web/tcp/80/10.88.0.2/9090/10800 goto ep-default/web/tcp/80/10.88.0.2/9090\n"
                           "\t\tip saddr @aff-default/web/tcp/80/10.88.0.4/8080/10800 goto ep-default/web/tcp/80/10.88.0.4/8080\n"
                           "\t\tnumgen random mod 2 vmap { 0 : goto ep-default/web/tcp/80/10.88.0.2/9090, "
                           "1 : goto ep-default/web/tcp/80/10.88.0.4/8080 }\n"
                           "\t\tgoto ep-default/web/tcp/80/10.88.0.2/9090\n\t}");
        assert_has(pinned, "chain ep-default/web/tcp/80/10.88.0.4/8080 {\n"
                           "\t\tupdate @aff-default/web/tcp/80/10.88.0.4/8080/10800 { ip saddr timeout 3h }\n"
                           "\t\tmeta l4proto tcp dnat to 10.88.0.4:8080\n\t}");
        assert_has(pinned, "set aff-default/web/udp/80/10.88.0.2/9090/10800 {\n"
                           "\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\t}");

        /* no endpoints: no chain, the node port idle, the VIP kept (refused) */
        ok(sync_web(NULL, 0, 30080, true, 0, &err), &err);
        none = listing();
        assert_has(none, "elements = { " VIP " }");
        assert_has(none, "elements = { tcp . 30080 }");
        assert_lacks(none, "svc-");
        assert_lacks(none, "ep-");
        assert_lacks(none, "aff-");
}

static void invalid(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct nft_svc_endpoint e[] = { ep("10.88.0.2", 8080), ep("10.88.0.2", 8080), ep("0.0.0.0", 1) };
        struct nft_svc_port p[] = {
                { .proto = IPPROTO_TCP, .port = 80, .node_port = 30080, .eps = e, .n_eps = 1 },
                { .proto = IPPROTO_TCP, .port = 80, .eps = e, .n_eps = 1 },
        };
        struct nft_svc s[] = {
                { .id = "default/a", .vip = ip4("10.96.0.1"), .ports = p, .n_ports = 1 },
                { .id = "default/b", .vip = ip4("10.96.0.1"), .ports = p, .n_ports = 1 },
        };

        ok(sync_web(all_eps(), 3, 30080, false, 0, &err), &err);
        before = listing();

        s[0].id = "a b";
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: invalid service id \"a b\"");
        s[0].id = "x;flush ruleset";
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: invalid service id \"x;flush ruleset\"");
        s[0].id = "";
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: invalid service id \"\"");
        s[0].id = "default/a";
        s[0].n_ports = 2;
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: service default/a: port tcp/80 twice");
        s[0].n_ports = 1;
        p[0].proto = IPPROTO_ICMP;
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: service default/a: unsupported protocol 1");
        p[0].proto = IPPROTO_TCP;
        p[0].port = 0;
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: service default/a: port tcp/0");
        p[0].port = 80;
        p[0].n_eps = 2;
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL,
               "nftables: service default/a: port tcp/80: endpoint 10.88.0.2:8080 twice");
        p[0].eps = &e[2];
        p[0].n_eps = 1;
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: service default/a: port tcp/80: invalid endpoint 0.0.0.0:1");
        p[0].eps = e;
        s[0].affinity_client_ip = true;
        s[0].affinity_timeout_s = 86401;
        failed(nft_svc_sync(s, 1, &err), &err, EINVAL, "nftables: service default/a: affinity timeout 86401 s is over 86400 s");
        s[0].affinity_client_ip = false;
        failed(nft_svc_sync(s, 2, &err), &err, EINVAL,
               "nftables: services default/a and default/b have the same cluster IP 10.96.0.1");
        s[1].vip = ip4("10.96.0.2");
        failed(nft_svc_sync(s, 2, &err), &err, EINVAL,
               "nftables: services default/a and default/b have the same node port tcp/30080");
        s[1].id = "default/a";
        failed(nft_svc_sync(s, 2, &err), &err, EINVAL, "nftables: service default/a: id default/a twice");

        after = listing();
        assert_string_equal(after, before);
        s[1].id = "default/b";
        p[0].node_port = 0;
        ok(nft_svc_sync(s, 2, &err), &err);
}

/* The service range routed into the bridge (netlink.c's helper, as
 * kube-service.c uses it). */
static void service_route(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *one = NULL, *replaced = NULL, *none = NULL;

        assert_int_equal(sh("ip link add br-r type bridge && ip link set br-r up"), 0);
        one = capture("ip route show 10.96.0.0/16");
        assert_string_equal(one, "10.96.0.0/16 dev br-s scope link \n");
        /* again, and through another link: replaced, never doubled */
        ok(nl_route_to_link_add("br-s", ip4("10.96.0.0"), 16, &err), &err);
        ok(nl_route_to_link_add("br-r", ip4("10.96.0.0"), 16, &err), &err);
        replaced = capture("ip route show 10.96.0.0/16");
        assert_string_equal(replaced, "10.96.0.0/16 dev br-r scope link \n");
        /* removal through another link: no such route, someone else's kept */
        ok(nl_route_to_link_remove("br-s", ip4("10.96.0.0"), 16, &err), &err);
        free(one);
        one = capture("ip route show 10.96.0.0/16");
        assert_string_equal(one, replaced);
        ok(nl_route_to_link_remove("br-r", ip4("10.96.0.0"), 16, &err), &err);
        none = capture("ip route show 10.96.0.0/16");
        assert_string_equal(none, "");
        /* nothing to remove, no such link: done */
        ok(nl_route_to_link_remove("br-r", ip4("10.96.0.0"), 16, &err), &err);
        ok(nl_route_to_link_remove("br-none", ip4("10.96.0.0"), 16, &err), &err);
        failed(nl_route_to_link_add("br-none", ip4("10.96.0.0"), 16, &err), &err, ENODEV,
               "add route 10.96.0.0/16 dev br-none: No such device");
        failed(nl_route_to_link_add("br-s", ip4("10.96.0.0"), 33, &err), &err, EINVAL,
               "add route 10.96.0.0/33: invalid prefix length");
        assert_int_equal(sh("ip link del br-r"), 0);
}

/* ---- packets ---- */

/* Which pod answered each of n connections from `from`; each answer's
 * peer must be peer. */
static void tally(pid_t from, int type, const char *ip, unsigned port, int n, const char *peer, int counts[3])
{
        memset(counts, 0, 3 * sizeof(*counts));
        for (int i = 0; i < n; i++) {
                struct reply r = expect_answer(from, type, ip, port);
                char *bar = strchr(r.text, '|');
                size_t k;

                assert_non_null(bar);
                assert_string_equal(bar + 1, peer);
                *bar = '\0';
                for (k = 0; k < ARRAY_SIZE(fx.eps); k++)
                        if (strcmp(r.text, fx.eps[k].name) == 0)
                                break;
                assert_true(k < ARRAY_SIZE(fx.eps));
                counts[k]++;
        }
}

/* S4: each of 3 endpoints gets some of 60 connections; S1 from pods and
 * from the host; masqueraded (the pods see the bridge's address). */
static void distribution(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        int c[3];

        ok(sync_web(all_eps(), 3, 0, false, 0, &err), &err);
        tally(fx.client.holder, TCP, VIP, 80, 60, GATEWAY, c);
        print_message("60 connections from a pod: %d %d %d\n", c[0], c[1], c[2]);
        /* p(some count < 5) is about 1e-5 */
        for (int i = 0; i < 3; i++)
                assert_true(c[i] >= 5);
        tally(0, TCP, VIP, 80, 30, GATEWAY, c);
        print_message("30 connections from the host: %d %d %d\n", c[0], c[1], c[2]);
        for (int i = 0; i < 3; i++)
                assert_true(c[i] >= 1);
        tally(fx.client.holder, UDP, VIP, 80, 30, GATEWAY, c);
        for (int i = 0; i < 3; i++)
                assert_true(c[i] >= 1);
}

/* A pod reaching itself through its service. */
static void hairpin(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct nft_svc_endpoint self = ep("10.88.0.2", EP_PORT);

        ok(sync_web(&self, 1, 30080, false, 0, &err), &err);
        expect_reply(fx.eps[0].holder, TCP, VIP, 80, "e1", GATEWAY);
        expect_reply(fx.eps[0].holder, UDP, VIP, 80, "e1", GATEWAY);
        expect_reply(fx.eps[0].holder, TCP, GATEWAY, 30080, "e1", GATEWAY);
}

/* S7: no endpoints, or a port the service does not have: refused at
 * once, from pods and from the host, TCP and UDP. */
static void no_endpoints(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        pid_t from[] = { fx.client.holder, 0 };

        ok(sync_web(NULL, 0, 30080, false, 0, &err), &err);
        for (size_t i = 0; i < ARRAY_SIZE(from); i++) {
                expect_refused(from[i], TCP, VIP, 80);
                expect_refused(from[i], UDP, VIP, 80);
                expect_refused(from[i], TCP, GATEWAY, 30080);
        }
        expect_refused(0, TCP, "127.0.0.1", 30080);

        /* endpoints come: served; a port it lacks: refused */
        ok(sync_web(all_eps(), 3, 30080, false, 0, &err), &err);
        expect_answer(fx.client.holder, TCP, VIP, 80);
        expect_answer(0, TCP, "127.0.0.1", 30080);
        expect_refused(fx.client.holder, TCP, VIP, 81);
        expect_refused(0, TCP, VIP, 81);
        expect_refused(fx.client.holder, UDP, VIP, 81);

        /* and go */
        ok(sync_web(NULL, 0, 30080, false, 0, &err), &err);
        expect_refused(fx.client.holder, TCP, VIP, 80);
        expect_refused(0, TCP, "127.0.0.1", 30080);
}

/* S5: a node port on every local address, 127.0.0.1 included, from the
 * host and from pods. */
static void node_port(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct nft_svc_endpoint e2 = ep("10.88.0.3", EP_PORT);

        ok(sync_web(&e2, 1, 30080, false, 0, &err), &err);
        expect_reply(0, TCP, "127.0.0.1", 30080, "e2", GATEWAY);
        expect_reply(0, TCP, GATEWAY, 30080, "e2", GATEWAY);
        assert_int_equal(sh("ip addr add 10.77.50.1/32 dev lo"), 0);
        expect_reply(0, TCP, "10.77.50.1", 30080, "e2", GATEWAY);
        expect_reply(fx.client.holder, TCP, GATEWAY, 30080, "e2", GATEWAY);
        expect_reply(fx.client.holder, TCP, "10.77.50.1", 30080, "e2", GATEWAY);
        /* the node port is TCP only here */
        expect_refused(0, UDP, "127.0.0.1", 30080);
        /* and only on local addresses */
        expect_refused(fx.client.holder, TCP, VIP, 30080);
}

/* S4: ClientIP affinity pins a client, across syncs of other services,
 * until its endpoint goes or its timeout passes. */
static void affinity(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *set = NULL;
        struct nft_svc_endpoint rest[2];
        struct nft_svc_port other_port = { .proto = IPPROTO_TCP, .port = 80, .eps = all_eps(), .n_eps = 3 };
        struct nft_svc_port web_ports[] = { { .proto = IPPROTO_TCP, .port = 80, .eps = all_eps(), .n_eps = 3 } };
        struct nft_svc svcs[] = {
                { .id = "default/web", .vip = ip4(VIP), .affinity_client_ip = true, .ports = web_ports, .n_ports = 1 },
                { .id = "default/other", .vip = ip4("10.96.0.11"), .ports = &other_port, .n_ports = 1 },
        };
        int c[3], pinned = -1, j = 0;

        ok(nft_svc_sync(svcs, 1, &err), &err);
        tally(fx.client.holder, TCP, VIP, 80, 30, GATEWAY, c);
        for (int i = 0; i < 3; i++)
                if (c[i] == 30)
                        pinned = i;
        if (pinned < 0)
                fail_msg("30 connections of one client spread: %d %d %d", c[0], c[1], c[2]);
        set = capture("nft list table ip berth-svc | grep -A5 'set aff-default/web/tcp/80/.*/10800 ' | grep elements");
        assert_has(set, CLIENT_IP " timeout 3h expires ");

        /* another service comes: the pin stays */
        ok(nft_svc_sync(svcs, 2, &err), &err);
        tally(fx.client.holder, TCP, VIP, 80, 10, GATEWAY, c);
        assert_int_equal(c[pinned], 10);

        /* its endpoint goes: another one, pinned in turn */
        for (int i = 0; i < 3; i++)
                if (i != pinned)
                        rest[j++] = all_eps()[i];
        web_ports[0].eps = rest;
        web_ports[0].n_eps = 2;
        ok(nft_svc_sync(svcs, 2, &err), &err);
        tally(fx.client.holder, TCP, VIP, 80, 10, GATEWAY, c);
        assert_int_equal(c[pinned], 0);
        assert_true(c[0] == 10 || c[1] == 10 || c[2] == 10);

        /* the timeout: the client is forgotten after it */
        svcs[0].affinity_timeout_s = 1;
        ok(nft_svc_sync(svcs, 2, &err), &err);
        expect_answer(fx.client.holder, TCP, VIP, 80);
        free(set);
        set = capture("nft list table ip berth-svc | grep -c '" CLIENT_IP " timeout 1s'");
        assert_string_equal(set, "1\n");
        usleep(1500 * 1000);
        free(set);
        set = capture("nft list table ip berth-svc | grep -c '" CLIENT_IP " timeout' ; true");
        assert_string_equal(set, "0\n");
}

/* Services through Berth's own table too, as berthd runs them. */
static void beside_berth_table(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        int c[3];

        ok(sync_web(all_eps(), 3, 30080, false, 0, &err), &err);
        tally(fx.client.holder, TCP, VIP, 80, 30, GATEWAY, c);
        for (int i = 0; i < 3; i++)
                assert_true(c[i] >= 1);
        expect_answer(0, TCP, VIP, 80);
        expect_answer(0, TCP, "127.0.0.1", 30080);
        expect_answer(fx.client.holder, TCP, GATEWAY, 30080);
        expect_answer(fx.eps[0].holder, TCP, VIP, 80);
        ok(sync_web(NULL, 0, 30080, false, 0, &err), &err);
        expect_refused(fx.client.holder, TCP, VIP, 80);
        expect_refused(0, TCP, VIP, 80);
        expect_refused(0, TCP, "127.0.0.1", 30080);
}

/* ---- syncs: incremental, atomic ---- */

/* A state for the sync tests: `which` picks endpoints, affinity, a node
 * port and the services present. */
struct world {
        struct nft_svc_endpoint eps[4][3];
        struct nft_svc_port ports[4][2];
        struct nft_svc svcs[4];
        size_t n;
};

static void make_world(struct world *w, int which)
{
        static const char *const ids[] = { "default/a", "default/b", "kube-system/c", "x/d" };
        static const char *const vips[] = { "10.96.0.1", "10.96.0.2", "10.96.0.3", "10.96.0.4" };
        static const char *const ips[] = { "10.88.0.2", "10.88.0.3", "10.88.0.4" };

        memset(w, 0, sizeof(*w));
        for (int i = 0; i < 4; i++) {
                size_t n_eps = (size_t)((i + which) % 4);

                if (which == 2 && i == 1)
                        continue;       /* b goes */
                for (size_t k = 0; k < n_eps; k++)
                        w->eps[i][k] = ep(which == 1 && k == 0 ? "10.88.0.9" : ips[k], (uint16_t)(8080 + which % 2));
                w->ports[i][0] = (struct nft_svc_port){ .proto = IPPROTO_TCP, .port = 80, .eps = w->eps[i],
                                                        .n_eps = n_eps,
                                                        .node_port = (uint16_t)(which == 3 ? 0 : 30000 + i) };
                w->ports[i][1] = (struct nft_svc_port){ .proto = IPPROTO_UDP, .port = (uint16_t)(53 + which),
                                                        .eps = w->eps[i], .n_eps = n_eps };
                w->svcs[w->n++] = (struct nft_svc){ .id = ids[i],
                                                    .vip = ip4(which == 1 && i == 0 ? "10.96.1.1" : vips[i]),
                                                    .affinity_client_ip = (i + which) % 2 == 0,
                                                    .affinity_timeout_s = (uint32_t)(100 + which),
                                                    .ports = w->ports[i],
                                                    .n_ports = 2 };
        }
}

/* Print the lines of a that b lacks, and those of b that a lacks. */
static void diff(const char *a, const char *b)
{
        const char *texts[2] = { a, b }, *signs = "-+";

        for (int t = 0; t < 2; t++)
                for (const char *l = texts[t]; *l; l += strcspn(l, "\n") + 1) {
                        _cleanup_free_ char *line = xasprintf("%.*s\n", (int)strcspn(l, "\n"), l);
                        if (strstr(texts[1 - t], line) == NULL)
                                print_message("%c %s", signs[t], line);
                }
}

/* After each sync from another state, the table is what a fresh one
 * would be. */
static void incremental(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        static const int order[] = { 0, 1, 2, 3, 0, 2, 1, 3, 2, 0 };
        char *fresh[4] = { 0 };

        for (int i = 0; i < 4; i++) {
                struct world w;

                make_world(&w, i);
                ok(nft_svc_fini(&err), &err);
                ok(nft_svc_sync(w.svcs, w.n, &err), &err);
                fresh[i] = canonical();
        }
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                struct world w;
                _cleanup_free_ char *now = NULL;

                make_world(&w, order[i]);
                ok(nft_svc_sync(w.svcs, w.n, &err), &err);
                now = canonical();
                if (strcmp(now, fresh[order[i]]) != 0) {
                        print_message("after step %zu (state %d), the table differs from a fresh one:\n", i, order[i]);
                        diff(now, fresh[order[i]]);
                        fail();
                }
        }
        for (int i = 0; i < 4; i++)
                free(fresh[i]);
}

/* A table changed behind our back: the next sync finds the difference
 * does not apply, and makes the whole table again. */
static void recovery(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *fresh = NULL, *now = NULL;
        struct world a, b;

        make_world(&a, 0);
        make_world(&b, 1);
        ok(nft_svc_sync(b.svcs, b.n, &err), &err);
        fresh = canonical();
        ok(nft_svc_sync(a.svcs, a.n, &err), &err);
        assert_int_equal(sh("nft flush chain ip berth-svc svc-default/b/tcp/80 && "
                            "nft delete element ip berth-svc service_ips '{ 10.96.0.2 . tcp . 80 }' && "
                            "nft delete element ip berth-svc vips '{ 10.96.0.1 }'"), 0);
        ok(nft_svc_sync(b.svcs, b.n, &err), &err);
        now = canonical();
        assert_string_equal(now, fresh);
}

/* A client connecting in a loop while the endpoints change under it
 * never sees a state between two syncs (none without endpoints). */
static void atomic_swap(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        const struct nft_svc_endpoint *e = all_eps();
        struct nft_svc_endpoint first[] = { e[0], e[1] }, second[] = { e[1], e[2] };
        enum { DURATION_MS = 1500 };
        int p[2], status, syncs = 0, seen[2] = { 0 }, failures = -1;
        pid_t pid;

        ok(sync_web(first, 2, 30080, false, 0, &err), &err);
        assert_int_equal(pipe(p), 0);
        pid = fork_child();
        assert_true(pid >= 0);
        if (pid == 0) {
                int bad = 0, got[2] = { 0 };

                close(p[0]);
                if (enter(fx.client.holder) < 0)
                        _exit(1);
                double end = now_ms() + DURATION_MS;

                for (int i = 0; now_ms() < end; i++) {
                        struct reply r = { 0 };

                        ask(i % 2 ? UDP : TCP, VIP, 80, &r);
                        if (r.error && bad++ == 0)
                                fprintf(stderr, "request %d (%s): %s\n", i, i % 2 ? "udp" : "tcp", strerror(r.error));
                        got[0] += strncmp(r.text, "e1|", 3) == 0;
                        got[1] += strncmp(r.text, "e3|", 3) == 0;
                }
                _exit(write(p[1], &bad, sizeof(bad)) == sizeof(bad) && write(p[1], got, sizeof(got)) == sizeof(got)
                              ? 0
                              : 1);
        }
        close(p[1]);
        while (waitpid(pid, &status, WNOHANG) == 0) {
                ok(sync_web(syncs % 2 ? first : second, 2, 30080, false, 0, &err), &err);
                syncs++;
                usleep(2000);
        }
        assert_true(read(p[0], &failures, sizeof(failures)) == sizeof(failures));
        assert_true(read(p[0], seen, sizeof(seen)) == sizeof(seen));
        close(p[0]);
        print_message("%d syncs in %d ms of requests: %d failed; e1 answered %d, e3 %d\n", syncs, DURATION_MS, failures,
                      seen[0], seen[1]);
        assert_int_equal(failures, 0);
        assert_true(syncs > 10);
        assert_true(seen[0] > 0 && seen[1] > 0);
}

/* ---- cost ---- */

enum { COST_SVCS = 50, COST_EPS = 50 };

struct big {
        struct nft_svc_endpoint eps[COST_SVCS][COST_EPS];
        struct nft_svc_port ports[COST_SVCS];
        struct nft_svc svcs[COST_SVCS];
        char ids[COST_SVCS][32];
};

static void make_big(struct big *b, bool affinity)
{
        for (int i = 0; i < COST_SVCS; i++) {
                for (int k = 0; k < COST_EPS; k++)
                        b->eps[i][k] = (struct nft_svc_endpoint){ .ip.s_addr = htonl(0x0a2a0000 + i * 256 + k + 2),
                                                                  .port = 8080 };
                snprintf(b->ids[i], sizeof(b->ids[i]), "default/svc-%d", i);
                b->ports[i] = (struct nft_svc_port){ .proto = IPPROTO_TCP, .port = 80, .node_port = 30000 + i,
                                                     .eps = b->eps[i], .n_eps = COST_EPS };
                b->svcs[i] = (struct nft_svc){ .id = b->ids[i], .vip.s_addr = htonl(0x0a2b0000 + i + 10),
                                               .affinity_client_ip = affinity, .ports = &b->ports[i], .n_ports = 1 };
        }
}

static double timed_sync(struct big *b)
{
        _cleanup_error_ berth_error_t *err = NULL;
        double t = now_ms();

        ok(nft_svc_sync(b->svcs, COST_SVCS, &err), &err);
        return now_ms() - t;
}

static void measure(bool affinity)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct big *b = xcalloc(1, sizeof(*b));
        double full, same, one, all;

        make_big(b, affinity);
        ok(nft_svc_fini(&err), &err);
        full = timed_sync(b);
        same = timed_sync(b);
        b->eps[7][3].ip.s_addr = htonl(0x0a2affff);
        one = timed_sync(b);
        for (int i = 0; i < COST_SVCS; i++)
                b->eps[i][0].port = 9090;
        all = timed_sync(b);
        print_message("%d services x %d endpoints%s: first sync %.1f ms, unchanged %.1f ms, one endpoint %.1f ms, "
                      "one endpoint in each %.1f ms\n",
                      COST_SVCS, COST_EPS, affinity ? " with affinity" : "", full, same, one, all);
        /* generous: sanitizer builds and loaded machines too */
        assert_true(full < 5000);
        assert_true(same < 500);
        assert_true(one < 1000);
        free(b);
}

static void cost(void **state)
{
        (void)state;
        measure(false);
        measure(true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(table_lifecycle, setup_empty, teardown),
                cmocka_unit_test_setup_teardown(rendering, setup_empty, teardown),
                cmocka_unit_test_setup_teardown(invalid, setup_empty, teardown),
                cmocka_unit_test_setup_teardown(service_route, setup_pods, teardown),
                cmocka_unit_test_setup_teardown(distribution, setup_pods, teardown),
                cmocka_unit_test_setup_teardown(hairpin, setup_pods, teardown),
                cmocka_unit_test_setup_teardown(no_endpoints, setup_pods, teardown),
                cmocka_unit_test_setup_teardown(node_port, setup_pods, teardown),
                cmocka_unit_test_setup_teardown(affinity, setup_pods, teardown),
                cmocka_unit_test_setup_teardown(beside_berth_table, setup_pods_berth, teardown),
                cmocka_unit_test_setup_teardown(incremental, setup_empty, teardown),
                cmocka_unit_test_setup_teardown(recovery, setup_empty, teardown),
                cmocka_unit_test_setup_teardown(atomic_swap, setup_pods, teardown),
                cmocka_unit_test_setup_teardown(cost, setup_empty, teardown),
        };
        const char *path = getenv("PATH");
        _cleanup_free_ char *full = xasprintf("/usr/sbin:/sbin:%s", path ? path : "/usr/bin:/bin");

        if (geteuid() != 0) {
                fprintf(stderr, "skipping: test-nft-svc needs root (network namespaces, nftables)\n");
                return 77;
        }
        /* everything from here on happens in a namespace of our own */
        if (unshare(CLONE_NEWNET) < 0) {
                perror("unshare(CLONE_NEWNET)");
                return 1;
        }
        setenv("PATH", full, 1);
        if (sh("ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward") < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
