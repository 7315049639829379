/* Berth's nftables table (src/net/nft.c) against the real kernel, in a
 * network namespace of the test's own (unshare at start: the host's
 * rules and links are never seen, let alone touched).
 *
 * The rules and map elements are checked as `nft list` prints them, and
 * real packets go through them: a bridge, "containers" (namespaces held
 * by a child, a veth on the bridge) running a TCP and UDP server that
 * answers "<what it got>|<the peer it saw>", and an "outside" namespace
 * behind a veth of its own.  The fixtures use `ip` and `nft`; children
 * die with the test (PR_SET_PDEATHSIG) and teardowns delete what the
 * setups made, whether the test passed or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#include "net/nft.h"
#include "util/util.h"

#define SERVICE_PORT 80         /* what every server listens on, in its namespace */

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

/* What a command prints on stdout. */
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
        return capture("nft list table ip berth 2>&1");
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

/* ---- namespaces and the processes in them ---- */

/* A child that dies with the test. */
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

/* Run a shell command in holder's namespace. */
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

static void answer_tcp(int l)
{
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        struct timeval tv = { 1, 0 };
        char buf[64], out[128], ip[INET_ADDRSTRLEN];
        int c = accept(l, (struct sockaddr *)&peer, &len);
        ssize_t n;

        if (c < 0)
                return;
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        n = read(c, buf, sizeof(buf));
        if (n > 0) {
                inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
                n = snprintf(out, sizeof(out), "%.*s|%s", (int)n, buf, ip);
                if (write(c, out, n) != n)
                        print_message("server: short write\n");
        }
        close(c);
}

static void answer_udp(int u)
{
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        char buf[64], out[128], ip[INET_ADDRSTRLEN];
        ssize_t n = recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);

        if (n <= 0)
                return;
        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
        n = snprintf(out, sizeof(out), "%.*s|%s", (int)n, buf, ip);
        sendto(u, out, n, 0, (struct sockaddr *)&peer, len);
}

static void serve(int ready)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SERVICE_PORT) };
        int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

        signal(SIGPIPE, SIG_IGN);
        setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(t, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(t, 64) < 0 ||
            bind(u, (struct sockaddr *)&a, sizeof(a)) < 0 || write(ready, "r", 1) != 1)
                _exit(1);
        for (;;) {
                struct pollfd p[2] = { { .fd = t, .events = POLLIN }, { .fd = u, .events = POLLIN } };

                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[0].revents)
                        answer_tcp(t);
                if (p[1].revents)
                        answer_udp(u);
        }
}

/* The TCP and UDP server, in holder's namespace (0: the test's own). */
static pid_t server_in(pid_t holder)
{
        int p[2];
        char c;
        pid_t pid;

        if (pipe(p) < 0)
                return -1;
        pid = fork_child();
        if (pid == 0) {
                close(p[0]);
                if (holder != 0 && enter(holder) < 0)
                        _exit(1);
                serve(p[1]);
        }
        close(p[1]);
        if (pid < 0 || read(p[0], &c, 1) != 1) {
                close(p[0]);
                return -1;
        }
        close(p[0]);
        return pid;
}

/* In the child: "ping" to ip:port, the answer to out. */
static int ask(int type, const char *ip, unsigned port, int out)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        /* long enough for a veth, short enough for the cases that must fail */
        struct timeval tv = { 0, 700 * 1000 };
        char buf[128];
        size_t got = 0;
        ssize_t n;
        int s = socket(AF_INET, type, 0);

        if (s < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
                return -1;
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 || send(s, "ping", 4, 0) != 4)
                return -1;
        while ((n = recv(s, buf + got, sizeof(buf) - 1 - got, 0)) > 0) {
                got += n;
                if (type == SOCK_DGRAM)
                        break;
        }
        if (got == 0)
                return -1;
        return write(out, buf, got) == (ssize_t)got ? 0 : -1;
}

/* Send "ping" from holder's namespace (0: the test's own) to ip:port;
 * the answer, or NULL when none came. */
static char *request(pid_t holder, int type, const char *ip, unsigned port)
{
        struct strbuf b = { 0 };
        char buf[128];
        ssize_t n;
        int p[2], status;
        pid_t pid;

        assert_int_equal(pipe(p), 0);
        pid = fork_child();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                _exit((holder == 0 || enter(holder) == 0) && ask(type, ip, port, p[1]) == 0 ? 0 : 1);
        }
        close(p[1]);
        while ((n = read(p[0], buf, sizeof(buf))) > 0)
                strbuf_add(&b, buf, n);
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(b.data);
                return NULL;
        }
        return b.data;
}

#define TCP SOCK_STREAM
#define UDP SOCK_DGRAM

/* The server at ip:port answers, and saw the connection come from peer. */
static void expect_reply(pid_t from, int type, const char *ip, unsigned port, const char *peer)
{
        _cleanup_free_ char *got = request(from, type, ip, port);
        _cleanup_free_ char *want = xasprintf("ping|%s", peer);

        if (got == NULL)
                fail_msg("%s %s:%u from %d: no answer", type == TCP ? "tcp" : "udp", ip, port, (int)from);
        assert_string_equal(got, want);
}

static void expect_no_reply(pid_t from, int type, const char *ip, unsigned port)
{
        _cleanup_free_ char *got = request(from, type, ip, port);

        if (got != NULL)
                fail_msg("%s %s:%u from %d: answered \"%s\"", type == TCP ? "tcp" : "udp", ip, port, (int)from, got);
}

/* ---- links ---- */

static int bridge_up(const char *br, const char *gw_cidr)
{
        return sh("ip link add %s type bridge && ip addr add %s dev %s && ip link set %s up && "
                  "echo 1 > /proc/sys/net/ipv4/conf/%s/route_localnet",
                  br, gw_cidr, br, br, br);
}

/* A namespace behind a veth: on bridge br when br is set, else a point
 * to point link whose host side has host_cidr.  *holder is set as soon
 * as there is one, for the teardown. */
static int ns_on_link(pid_t *holder, const char *br, const char *host_cidr, const char *veth, const char *cidr,
                      const char *gw)
{
        _cleanup_free_ char *inside = NULL;

        *holder = ns_holder();
        if (*holder <= 0 ||
            sh("ip link add %s type veth peer name %sc && ip link set %sc netns %d", veth, veth, veth, (int)*holder) < 0)
                return -1;
        /* hairpin on, as src/net/netlink.c makes a container's port: a
         * container's packets DNATed back to it leave by the port they
         * came in by */
        if (br ? sh("ip link set %s master %s up && ip link set %s type bridge_slave hairpin on", veth, br, veth)
               : sh("ip addr add %s dev %s && ip link set %s up", host_cidr, veth, veth))
                return -1;
        inside = xasprintf("ip link set lo up && ip link set %sc name eth0 && ip addr add %s dev eth0 && "
                           "ip link set eth0 up && ip route add default via %s",
                           veth, cidr, gw);
        return in_ns(*holder, inside);
}

static void kill_child(pid_t *pid)
{
        if (*pid > 0) {
                kill(*pid, SIGKILL);
                waitpid(*pid, NULL, 0);
        }
        *pid = 0;
}

/* ---- fixtures ---- */

struct ns {
        pid_t holder, server;
};

static struct fixture {
        struct ns ctr1, ctr2, ext;
        pid_t host_server;              /* a server in the test's own namespace */
} fx;

/* Every link any fixture makes: deleting the host side of a veth takes
 * its peer along; the namespaces go with their holders. */
static const char *const links[] = { "br-t", "br-i1", "br-i2", "vt-h", "v1-h", "v2-h", "vx-h" };

static int teardown(void **state)
{
        (void)state;
        berth_error_t *err = NULL;
        struct ns *all[] = { &fx.ctr1, &fx.ctr2, &fx.ext };

        for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
                kill_child(&all[i]->server);
                kill_child(&all[i]->holder);
        }
        kill_child(&fx.host_server);
        for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
                _cleanup_free_ char *cmd = xasprintf("ip link del %s 2>/dev/null", links[i]);
                if (system(cmd) < 0)
                        print_message("cannot run: %s\n", cmd);
        }
        if (system("ip addr del 10.77.50.1/32 dev lo 2>/dev/null") < 0)
                print_message("cannot run ip\n");
        if (nft_fini(&err) < 0) {
                print_message("nft_fini: %s\n", err->msg);
                berth_error_free(&err);
                return -1;
        }
        return 0;
}

static int setup_table(void **state)
{
        berth_error_t *err = NULL;

        memset(&fx, 0, sizeof(fx));
        if (nft_init(&err) < 0) {
                print_message("nft_init: %s\n", err->msg);
                berth_error_free(&err);
                teardown(state);
                return -1;
        }
        return 0;
}

/* A namespace with a server, behind a veth. */
static int ns_with_server(struct ns *ns, const char *br, const char *host_cidr, const char *veth, const char *cidr,
                          const char *gw)
{
        if (ns_on_link(&ns->holder, br, host_cidr, veth, cidr, gw) < 0)
                return -1;
        ns->server = server_in(ns->holder);
        return ns->server > 0 ? 0 : -1;
}

/* The outside world: 10.77.9.2, routed through the test's namespace
 * (10.77.9.1), for traffic that leaves by a link that is no bridge. */
static int outside_up(void)
{
        return ns_with_server(&fx.ext, NULL, "10.77.9.1/24", "vx-h", "10.77.9.2/24", "10.77.9.1");
}

static int add_network(const char *br, const char *subnet, unsigned prefix, bool masquerade, bool internal)
{
        struct nft_network n = { .bridge = br, .prefix = prefix, .masquerade = masquerade, .internal = internal,
                                 .icc = true };
        berth_error_t *err = NULL;

        inet_pton(AF_INET, subnet, &n.subnet);
        if (nft_network_add(&n, &err) < 0) {
                print_message("nft_network_add %s: %s\n", br, err->msg);
                berth_error_free(&err);
                return -1;
        }
        return 0;
}

/* br-t 10.77.1.0/24 with a container at .2; the outside; br-t's rules. */
static int setup_published(void **state)
{
        if (setup_table(state) < 0)
                return -1;
        if (bridge_up("br-t", "10.77.1.1/24") < 0 ||
            ns_with_server(&fx.ctr1, "br-t", NULL, "vt-h", "10.77.1.2/24", "10.77.1.1") < 0 ||
            outside_up() < 0 || add_network("br-t", "10.77.1.0", 24, true, false) < 0) {
                teardown(state);
                return -1;
        }
        return 0;
}

/* br-i1 10.77.2.0/24 and br-i2 10.77.3.0/24, a container at .2 on each,
 * the outside; no network rules yet. */
static int setup_two_networks(void **state)
{
        if (setup_table(state) < 0)
                return -1;
        if (bridge_up("br-i1", "10.77.2.1/24") < 0 || bridge_up("br-i2", "10.77.3.1/24") < 0 ||
            ns_with_server(&fx.ctr1, "br-i1", NULL, "v1-h", "10.77.2.2/24", "10.77.2.1") < 0 ||
            ns_with_server(&fx.ctr2, "br-i2", NULL, "v2-h", "10.77.3.2/24", "10.77.3.1") < 0 || outside_up() < 0) {
                teardown(state);
                return -1;
        }
        return 0;
}

/* ---- helpers for the calls under test ---- */

static struct nft_port port(int proto, const char *host_ip, unsigned host_port, const char *ctr_ip,
                            unsigned ctr_port)
{
        struct nft_port p = { .proto = proto, .host_port = host_port, .ctr_port = ctr_port };

        inet_pton(AF_INET, host_ip, &p.host_ip);
        inet_pton(AF_INET, ctr_ip, &p.ctr_ip);
        return p;
}

static void ok(int r, berth_error_t **err)
{
        if (r < 0)
                fail_msg("unexpected error: %s", *err ? (*err)->msg : "(no message)");
        assert_null(*err);
}

/* The call failed with this status and message. */
static void failed(int r, berth_error_t **err, int status, const char *msg)
{
        assert_true(r < 0);
        assert_non_null(*err);
        assert_string_equal((*err)->msg, msg);
        assert_int_equal((*err)->status, status);
        berth_error_free(err);
}

/* ---- the table ---- */

static void table_lifecycle(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *fresh = NULL, *again = NULL, *tables = NULL;
        struct nft_port p = port(IPPROTO_TCP, "0.0.0.0", 18080, "10.77.1.2", 80);
        struct nft_network n = { .bridge = "br-x", .prefix = 24 };

        ok(nft_fini(&err), &err);
        assert_false(nft_table_exists());
        /* nothing before nft_init */
        failed(nft_ports_add(&p, 1, &err), &err, EINVAL, "nftables: nft_init was not called");
        failed(nft_network_add(&n, &err), &err, EINVAL, "nftables: nft_init was not called");

        /* someone else's table is none of ours */
        assert_int_equal(sh("nft add table ip other"), 0);
        ok(nft_init(&err), &err);
        assert_true(nft_table_exists());
        fresh = listing();
        assert_has(fresh, "map ports {\n\t\ttype inet_proto . inet_service : ipv4_addr . inet_service\n");
        assert_has(fresh, "map ports_addr {\n"
                          "\t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service\n");
        assert_has(fresh, "set bridges {\n\t\ttype ifname\n");
        assert_has(fresh, "\t\tdnat ip to ip daddr . meta l4proto . th dport map @ports_addr\n"
                          "\t\tdnat ip to meta l4proto . th dport map @ports\n");
        assert_has(fresh, "type filter hook prerouting priority raw; policy accept;\n"
                          "\t\tiifname @bridges ip daddr 127.0.0.0/8 drop\n");
        assert_has(fresh, "type nat hook prerouting priority dstnat; policy accept;\n"
                          "\t\tfib daddr type local jump published\n");
        assert_has(fresh, "type nat hook output priority -100; policy accept;\n"
                          "\t\tfib daddr type local jump published\n");
        assert_has(fresh, "type nat hook postrouting priority srcnat; policy accept;\n"
                          "\t\tip saddr 127.0.0.0/8 oifname @bridges masquerade\n\t\tip saddr vmap @post_src\n");
        assert_has(fresh, "map post_src {\n\t\ttype ipv4_addr : verdict\n\t\tflags interval\n");
        assert_has(fresh, "type filter hook forward priority filter; policy accept;\n"
                          "\t\tiifname vmap @fwd_in\n\t\toifname vmap @fwd_out\n");

        /* a daemon that died left rules and elements: a new one starts clean */
        assert_int_equal(sh("nft add chain ip berth stale && "
                            "nft add element ip berth ports '{ tcp . 1 : 10.0.0.1 . 1 }'"), 0);
        ok(nft_init(&err), &err);
        again = listing();
        assert_string_equal(again, fresh);

        ok(nft_fini(&err), &err);
        assert_false(nft_table_exists());
        tables = capture("nft list tables");
        assert_string_equal(tables, "table ip other\n");
        assert_int_equal(sh("nft delete table ip other"), 0);
        /* a second fini has nothing to do */
        ok(nft_fini(&err), &err);
        ok(nft_init(&err), &err);
        assert_true(nft_table_exists());
}

/* ---- networks ---- */

static void network_rules(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *empty = listing(), *one = NULL, *two = NULL, *after = NULL, *none = NULL;
        /* host bits in the subnet are dropped */
        struct nft_network a = { .bridge = "br-a", .prefix = 24, .masquerade = true, .icc = true };
        struct nft_network b = { .bridge = "br-b", .prefix = 16, .internal = true };
        struct nft_network c = { .bridge = "br-c", .masquerade = true, .icc = true };

        inet_pton(AF_INET, "10.77.1.5", &a.subnet);
        inet_pton(AF_INET, "10.78.0.0", &b.subnet);
        ok(nft_network_add(&a, &err), &err);
        one = listing();
        assert_has(one, "set bridges {\n\t\ttype ifname\n\t\telements = { \"br-a\" }\n");
        assert_has(one, "elements = { 10.77.1.0/24 : jump post-br-a }");
        assert_has(one, "elements = { \"br-a\" : jump fwd-in-br-a }");
        assert_has(one, "chain post-br-a {\n"
                        "\t\toifname != \"br-a\" masquerade\n"
                        "\t\toifname \"br-a\" ct status dnat masquerade\n\t}");
        assert_has(one, "chain fwd-in-br-a {\n"
                        "\t\tct status dnat return\n"
                        "\t\toifname @bridges oifname != \"br-a\" drop\n\t}");
        assert_lacks(one, "fwd-out-br-a");

        /* the same network again: refused, nothing changed */
        failed(nft_network_add(&a, &err), &err, EEXIST, "nftables: network br-a 10.77.1.0/24: its rules exist already");
        /* a subnet inside its own, or around it */
        c.prefix = 25;
        inet_pton(AF_INET, "10.77.1.128", &c.subnet);
        failed(nft_network_add(&c, &err), &err, EEXIST,
               "nftables: network br-c 10.77.1.128/25: overlaps network br-a 10.77.1.0/24");
        c.prefix = 16;
        failed(nft_network_add(&c, &err), &err, EEXIST,
               "nftables: network br-c 10.77.0.0/16: overlaps network br-a 10.77.1.0/24");
        after = listing();
        assert_string_equal(after, one);

        /* internal, no masquerade, no icc */
        ok(nft_network_add(&b, &err), &err);
        two = listing();
        assert_has(two, "10.77.1.0/24 : jump post-br-a");
        assert_has(two, "10.78.0.0/16 : jump post-br-b");
        assert_has(two, "chain post-br-b {\n"
                        "\t\toifname \"br-b\" ct status dnat masquerade\n\t}");
        assert_has(two, "chain fwd-in-br-b {\n"
                        "\t\toifname != \"br-b\" drop\n"
                        "\t\tct status dnat return\n"
                        "\t\toifname \"br-b\" drop\n"
                        "\t\toifname @bridges oifname != \"br-b\" drop\n\t}");
        assert_has(two, "chain fwd-out-br-b {\n\t\tiifname != \"br-b\" drop\n\t}");
        assert_has(two, "elements = { \"br-b\" : jump fwd-out-br-b }");

        /* removal takes exactly its own */
        ok(nft_network_remove("br-b", &err), &err);
        free(after);
        after = listing();
        assert_string_equal(after, one);
        ok(nft_network_remove("br-a", &err), &err);
        none = listing();
        assert_string_equal(none, empty);
        /* a network with no rules: nothing to do */
        ok(nft_network_remove("br-a", &err), &err);
}

static void network_invalid(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *before = listing(), *after = NULL;
        struct nft_network n = { .bridge = "br\" drop; flush", .prefix = 24 };

        /* a name is never more than a name in the commands' text */
        failed(nft_network_add(&n, &err), &err, EINVAL, "nftables: invalid bridge name \"br\\\" drop; flush\"");
        n.bridge = "br-0123456789abc";
        failed(nft_network_add(&n, &err), &err, EINVAL, "nftables: invalid bridge name \"br-0123456789abc\"");
        n.bridge = "";
        failed(nft_network_add(&n, &err), &err, EINVAL, "nftables: invalid bridge name \"\"");
        failed(nft_network_remove("a b", &err), &err, EINVAL, "nftables: invalid bridge name \"a b\"");
        n.bridge = "br-a";
        n.prefix = 33;
        failed(nft_network_add(&n, &err), &err, EINVAL, "nftables: network br-a: invalid prefix length 33");
        after = listing();
        assert_string_equal(after, before);
}

/* ---- published ports: the maps ---- */

static void port_elements(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *two = NULL, *after = NULL, *empty = listing(), *none = NULL;
        struct nft_port p[] = {
                port(IPPROTO_TCP, "0.0.0.0", 18080, "10.77.1.2", 80),
                port(IPPROTO_UDP, "10.77.1.1", 5353, "10.77.1.3", 53),
                port(IPPROTO_SCTP, "0.0.0.0", 3868, "10.77.1.4", 3868),
        };
        /* a new port and a taken one */
        struct nft_port dup[] = {
                port(IPPROTO_TCP, "0.0.0.0", 18081, "10.77.1.2", 81),
                port(IPPROTO_TCP, "0.0.0.0", 18080, "10.77.1.9", 80),
        };
        struct nft_port bad = port(IPPROTO_TCP, "0.0.0.0", 0, "10.77.1.2", 80);

        ok(nft_ports_add(p, ARRAY_SIZE(p), &err), &err);
        two = listing();
        /* a hash map: in no particular order */
        assert_has(two, " tcp . 18080 : 10.77.1.2 . 80");
        assert_has(two, " sctp . 3868 : 10.77.1.4 . 3868");
        assert_has(two, "elements = { 10.77.1.1 . udp . 5353 : 10.77.1.3 . 53 }");

        /* all or none, and the one that failed is named */
        failed(nft_ports_add(dup, ARRAY_SIZE(dup), &err), &err, EEXIST,
               "nftables: publish tcp 0.0.0.0:18080 -> 10.77.1.9:80: the host port is published already");
        failed(nft_ports_add(&p[1], 1, &err), &err, EEXIST,
               "nftables: publish udp 10.77.1.1:5353 -> 10.77.1.3:53: the host port is published already");
        after = listing();
        assert_string_equal(after, two);

        failed(nft_ports_add(&bad, 1, &err), &err, EINVAL, "nftables: publish tcp 0.0.0.0:0 -> 10.77.1.2:80: port 0");
        bad = port(IPPROTO_ICMP, "0.0.0.0", 1, "10.77.1.2", 1);
        failed(nft_ports_add(&bad, 1, &err), &err, EINVAL,
               "nftables: publish protocol 1 0.0.0.0:1 -> 10.77.1.2:1: unsupported protocol");
        bad = port(IPPROTO_TCP, "0.0.0.0", 1, "0.0.0.0", 1);
        failed(nft_ports_add(&bad, 1, &err), &err, EINVAL,
               "nftables: publish tcp 0.0.0.0:1 -> 0.0.0.0:1: no container address");

        /* a host port published to another container is not ours to remove */
        failed(nft_ports_remove(&dup[1], 1, &err), &err, EEXIST,
               "nftables: unpublish tcp 0.0.0.0:18080 -> 10.77.1.9:80: the host port is published to another address");
        free(after);
        after = listing();
        assert_string_equal(after, two);

        /* ports not published (dup[0]) are skipped */
        ok(nft_ports_remove(dup, 1, &err), &err);
        ok(nft_ports_remove(p, ARRAY_SIZE(p), &err), &err);
        none = listing();
        assert_string_equal(none, empty);
        ok(nft_ports_remove(p, ARRAY_SIZE(p), &err), &err);
        ok(nft_ports_add(p, 0, &err), &err);
}

/* ---- published ports: packets ---- */

static void published_traffic(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct nft_port p[] = {
                port(IPPROTO_TCP, "0.0.0.0", 18080, "10.77.1.2", SERVICE_PORT),
                port(IPPROTO_UDP, "0.0.0.0", 18080, "10.77.1.2", SERVICE_PORT),
                port(IPPROTO_TCP, "10.77.1.1", 18081, "10.77.1.2", SERVICE_PORT),
        };

        ok(nft_ports_add(p, ARRAY_SIZE(p), &err), &err);
        /* from the host: loopback (masqueraded to the bridge's address,
         * or the container could not answer), the gateway, any other
         * local address */
        expect_reply(0, TCP, "127.0.0.1", 18080, "10.77.1.1");
        expect_reply(0, UDP, "127.0.0.1", 18080, "10.77.1.1");
        expect_reply(0, TCP, "10.77.1.1", 18080, "10.77.1.1");
        expect_reply(0, UDP, "10.77.1.1", 18080, "10.77.1.1");
        assert_int_equal(sh("ip addr add 10.77.50.1/32 dev lo"), 0);
        expect_reply(0, TCP, "10.77.50.1", 18080, "10.77.50.1");
        /* from outside, through prerouting: the client's own address */
        expect_reply(fx.ext.holder, TCP, "10.77.9.1", 18080, "10.77.9.2");
        expect_reply(fx.ext.holder, UDP, "10.77.9.1", 18080, "10.77.9.2");

        /* a port published on one address only */
        expect_reply(0, TCP, "10.77.1.1", 18081, "10.77.1.1");
        expect_no_reply(0, TCP, "127.0.0.1", 18081);
        expect_no_reply(fx.ext.holder, TCP, "10.77.9.1", 18081);

        ok(nft_ports_remove(p, ARRAY_SIZE(p), &err), &err);
        expect_no_reply(0, TCP, "127.0.0.1", 18080);
        expect_no_reply(0, UDP, "127.0.0.1", 18080);
        expect_no_reply(0, TCP, "10.77.1.1", 18081);
        expect_no_reply(fx.ext.holder, TCP, "10.77.9.1", 18080);
}

/* A container reaching its own published port through the host. */
static void hairpin(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct nft_port p[] = {
                port(IPPROTO_TCP, "0.0.0.0", 18080, "10.77.1.2", SERVICE_PORT),
                port(IPPROTO_UDP, "0.0.0.0", 18080, "10.77.1.2", SERVICE_PORT),
        };

        ok(nft_ports_add(p, ARRAY_SIZE(p), &err), &err);
        expect_reply(fx.ctr1.holder, TCP, "10.77.1.1", 18080, "10.77.1.1");
        expect_reply(fx.ctr1.holder, UDP, "10.77.1.1", 18080, "10.77.1.1");
        /* through the outside-facing address too */
        expect_reply(fx.ctr1.holder, TCP, "10.77.9.1", 18080, "10.77.1.1");

        /* without the network's rules the reply would come from the
         * container's own address, which it drops */
        ok(nft_network_remove("br-t", &err), &err);
        expect_no_reply(fx.ctr1.holder, TCP, "10.77.1.1", 18080);
        assert_int_equal(add_network("br-t", "10.77.1.0", 24, true, false), 0);
        expect_reply(fx.ctr1.holder, TCP, "10.77.1.1", 18080, "10.77.1.1");
}

/* route_localnet=1 on a bridge (for DNAT of 127.0.0.1) would also let a
 * container reach the host's loopback-only services (CVE-2020-8558 in
 * kube-proxy): a container that routes 127.0.0.0/8 to its gateway. */
static void localhost_guarded(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;

        fx.host_server = server_in(0);
        assert_true(fx.host_server > 0);
        expect_reply(0, TCP, "127.0.0.1", SERVICE_PORT, "127.0.0.1");
        assert_int_equal(in_ns(fx.ctr1.holder, "echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet && "
                                               "ip route del local 127.0.0.0/8 dev lo table local && "
                                               "ip route add 127.0.0.0/8 via 10.77.1.1 dev eth0"), 0);
        /* 127.0.0.1 is still its own (a /32 local route): .2 is not */
        expect_no_reply(fx.ctr1.holder, TCP, "127.0.0.2", SERVICE_PORT);
        expect_no_reply(fx.ctr1.holder, UDP, "127.0.0.2", SERVICE_PORT);

        /* the attack is real: without the table, it gets through */
        ok(nft_fini(&err), &err);
        expect_reply(fx.ctr1.holder, TCP, "127.0.0.2", SERVICE_PORT, "10.77.1.2");
        ok(nft_init(&err), &err);
}

/* ---- networks: packets ---- */

static void isolation(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct nft_port p = port(IPPROTO_TCP, "0.0.0.0", 18082, "10.77.3.2", SERVICE_PORT);

        /* no rules: routed between the bridges, and out unmasqueraded */
        expect_reply(fx.ctr1.holder, TCP, "10.77.3.2", SERVICE_PORT, "10.77.2.2");
        expect_reply(fx.ctr2.holder, UDP, "10.77.2.2", SERVICE_PORT, "10.77.3.2");
        expect_reply(fx.ctr1.holder, TCP, "10.77.9.2", SERVICE_PORT, "10.77.2.2");

        assert_int_equal(add_network("br-i1", "10.77.2.0", 24, true, false), 0);
        assert_int_equal(add_network("br-i2", "10.77.3.0", 24, true, false), 0);
        expect_no_reply(fx.ctr1.holder, TCP, "10.77.3.2", SERVICE_PORT);
        expect_no_reply(fx.ctr2.holder, UDP, "10.77.2.2", SERVICE_PORT);
        /* leaving by a link that is no bridge: masqueraded */
        expect_reply(fx.ctr1.holder, TCP, "10.77.9.2", SERVICE_PORT, "10.77.9.1");
        expect_reply(fx.ctr2.holder, UDP, "10.77.9.2", SERVICE_PORT, "10.77.9.1");
        /* a published port of the other network stays reachable */
        ok(nft_ports_add(&p, 1, &err), &err);
        expect_reply(fx.ctr1.holder, TCP, "10.77.2.1", 18082, "10.77.3.1");

        /* internal: nothing in or out but through its own bridge */
        ok(nft_network_remove("br-i1", &err), &err);
        assert_int_equal(add_network("br-i1", "10.77.2.0", 24, false, true), 0);
        expect_no_reply(fx.ctr1.holder, TCP, "10.77.9.2", SERVICE_PORT);
        expect_no_reply(fx.ctr1.holder, TCP, "10.77.2.1", 18082);
        expect_no_reply(fx.ext.holder, TCP, "10.77.2.2", SERVICE_PORT);
        expect_reply(fx.ctr2.holder, TCP, "10.77.9.2", SERVICE_PORT, "10.77.9.1");

        /* the rules gone, the traffic flows again */
        ok(nft_network_remove("br-i1", &err), &err);
        ok(nft_network_remove("br-i2", &err), &err);
        expect_reply(fx.ctr1.holder, TCP, "10.77.3.2", SERVICE_PORT, "10.77.2.2");
        expect_reply(fx.ext.holder, TCP, "10.77.2.2", SERVICE_PORT, "10.77.9.2");
}

/* ---- cost ---- */

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Mean cost of publishing and unpublishing one port, with `others`
 * ports published besides. */
static void measure(unsigned others)
{
        _cleanup_error_ berth_error_t *err = NULL;
        enum { ROUNDS = 200 };
        double add = 0, rm = 0, t;

        for (unsigned i = 0; i < others; i++) {
                struct nft_port o = port(IPPROTO_TCP, "0.0.0.0", 20000 + i, "10.77.1.2", 80);
                ok(nft_ports_add(&o, 1, &err), &err);
        }
        for (int i = 0; i < ROUNDS; i++) {
                struct nft_port p = port(IPPROTO_TCP, "0.0.0.0", 18080, "10.77.1.2", 80);

                t = now_us();
                ok(nft_ports_add(&p, 1, &err), &err);
                add += now_us() - t;
                t = now_us();
                ok(nft_ports_remove(&p, 1, &err), &err);
                rm += now_us() - t;
        }
        print_message("nft_ports_add %.0f us, nft_ports_remove %.0f us (mean of %d, %u other ports)\n",
                      add / ROUNDS, rm / ROUNDS, ROUNDS, others);
        /* generous: sanitizer builds and loaded machines too */
        assert_true(add / ROUNDS < 20000);
        assert_true(rm / ROUNDS < 20000);
}

/* Mean cost of making the table, and of a network's rules. */
static void measure_table(void)
{
        _cleanup_error_ berth_error_t *err = NULL;
        enum { ROUNDS = 50 };
        struct nft_network n = { .bridge = "br-m", .prefix = 24, .masquerade = true, .icc = true };
        double init = 0, add = 0, rm = 0, t;

        inet_pton(AF_INET, "10.77.1.0", &n.subnet);
        for (int i = 0; i < ROUNDS; i++) {
                t = now_us();
                ok(nft_init(&err), &err);
                init += now_us() - t;
                t = now_us();
                ok(nft_network_add(&n, &err), &err);
                add += now_us() - t;
                t = now_us();
                ok(nft_network_remove(n.bridge, &err), &err);
                rm += now_us() - t;
        }
        print_message("nft_init %.0f us, nft_network_add %.0f us, nft_network_remove %.0f us (mean of %d)\n",
                      init / ROUNDS, add / ROUNDS, rm / ROUNDS, ROUNDS);
        assert_true(init / ROUNDS < 50000);
}

static void cost(void **state)
{
        (void)state;

        measure(0);
        measure(1000);
        measure_table();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(table_lifecycle, setup_table, teardown),
                cmocka_unit_test_setup_teardown(network_rules, setup_table, teardown),
                cmocka_unit_test_setup_teardown(network_invalid, setup_table, teardown),
                cmocka_unit_test_setup_teardown(port_elements, setup_table, teardown),
                cmocka_unit_test_setup_teardown(published_traffic, setup_published, teardown),
                cmocka_unit_test_setup_teardown(hairpin, setup_published, teardown),
                cmocka_unit_test_setup_teardown(localhost_guarded, setup_published, teardown),
                cmocka_unit_test_setup_teardown(isolation, setup_two_networks, teardown),
                cmocka_unit_test_setup_teardown(cost, setup_table, teardown),
        };
        const char *path = getenv("PATH");
        _cleanup_free_ char *full = xasprintf("/usr/sbin:/sbin:%s", path ? path : "/usr/bin:/bin");

        if (geteuid() != 0) {
                fprintf(stderr, "skipping: test-nft needs root (network namespaces, nftables)\n");
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
