/* Berth's nftables table through libnftables (nft.h).
 *
 * Every change is one batch of nft commands as text, which the kernel
 * applies as one transaction: all of it or none.  The table:
 *
 *   set bridges        the bridges of Berth's networks
 *   map ports          proto . port -> ctr addr . port   (any local address)
 *   map ports_addr     host addr . proto . port -> ctr addr . port
 *   chain published    DNAT through the maps, the specific address first;
 *                      jumped to from prerouting and output for traffic to
 *                      a local address
 *   chain localnet     drops 127.0.0.0/8 coming in by a bridge
 *   chain postrouting  masquerade 127.0.0.0/8 leaving by a bridge, then
 *                      ip saddr vmap @post_src -> post-<bridge>
 *   chain forward      iifname vmap @fwd_in -> fwd-in-<bridge>,
 *                      oifname vmap @fwd_out -> fwd-out-<bridge>
 *
 * A network's rules live in chains named after its bridge, reached
 * through verdict maps (kube-proxy's nftables mode does the same per
 * service): adding or removing a network touches only its own chains and
 * elements.  Forwarding knows the input link and dispatches on it;
 * postrouting does not know it (meta iif is 0 there for a routed packet
 * that leaves by the link it came in by, the hairpin case), so NAT is
 * dispatched on the source subnet, which is the one thing about a network
 * that this file remembers (removal is by bridge name).
 *
 * Deleting something that may not exist is spelt "add X; delete X" in one
 * batch (nft 1.0.6 has no "destroy"): the add is a no-op when X exists,
 * and either way X is gone afterwards. */
#include "net/nft.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdarg.h>

/* What differs between the ip table and the ip6 one to come. */
struct nft_family {
        const char *name;               /* nft's family: "ip" */
        const char *addr_type;          /* "ipv4_addr" */
        /* Loopback DNATed to a container leaves by a bridge with a source
         * the container cannot answer: masqueraded.  NULL where loopback
         * cannot be routed at all (::1). */
        const char *loopback;
};

static const struct nft_family nft_ip = { "ip", "ipv4_addr", "127.0.0.0/8" };

/* A network with rules: its post_src element is keyed by the subnet. */
struct nft_net {
        char bridge[16];
        struct in_addr net;             /* host bits clear */
        unsigned prefix;
        char subnet[INET_ADDRSTRLEN + 3];
};

/* All under nft_lock. */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;
static bool nft_ready;                  /* nft_init made the table */
static bool nft_dry_run;                /* batches are checked, not committed */
static bool nft_started;                /* nft_init ran: nft_fini cleans up */
static struct nft_net *nft_nets;
static size_t nft_n_nets;

/* Why a batch failed: the first line of nft's message, and an errno
 * when the message ends with one. */
struct nft_failure {
        char *why;
        int status;
};

static void cmdf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmdf(struct strbuf *b, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        strbuf_adds(b, s);
        strbuf_adds(b, "\n");
}

/* The errno a kernel refusal ends with, so callers can act on it. */
static int failure_status(const char *why)
{
        static const int known[] = { EEXIST, ENOENT, EBUSY, EPERM, EINVAL, ENOMEM, ENOSPC, EOPNOTSUPP };
        size_t len = strlen(why);

        for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
                const char *s = strerror(known[i]);
                size_t n = strlen(s);

                if (len >= n && strcmp(why + len - n, s) == 0)
                        return known[i];
        }
        return 0;
}

/* nft's first error line reads "Error: Could not process rule: File
 * exists"; the lines after it quote the command. */
static void parse_failure(const char *buf, struct nft_failure *f)
{
        _cleanup_free_ char *first = xasprintf("%.*s", (int)(buf ? strcspn(buf, "\n") : 0), buf ? buf : "");
        const char *msg = strstr(first, "Error: ");

        msg = msg ? msg + strlen("Error: ") : first;
        f->why = xstrdup(*msg ? msg : "failed, and said nothing");
        f->status = failure_status(f->why);
}

/* "nftables: <what>: <nft's message>", or <exists> in its place when
 * the kernel said EEXIST and the caller knows what that means. */
static int fail(berth_error_t **err, struct nft_failure *f, const char *what, const char *exists)
{
        const char *why = f->status == EEXIST && exists ? exists : f->why;
        int r = berth_fail(err, f->status, "nftables: %s: %s", what, why);

        free(f->why);
        f->why = NULL;
        return r;
}

/* A libnftables context for one batch.  Kept between batches, it would
 * keep its cache of the host's whole ruleset too (hash tables of 8192
 * buckets per table: about 2 MB here) in a daemon that mostly waits; a
 * new one costs some 20 us, next to the kernel's round trip. */
static struct nft_ctx *ctx_new(void)
{
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

        if (ctx == NULL)
                return NULL;
        /* buffered: errors come back to us, never to the daemon's stderr */
        if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0) {
                nft_ctx_free(ctx);
                return NULL;
        }
        nft_ctx_set_dry_run(ctx, nft_dry_run);
        return ctx;
}

/* Run one batch, nft_lock held: 0, or -1 with *f filled (free f->why).
 * *out (optional) gets what it printed. */
static int run_locked(const char *cmds, struct nft_failure *f, char **out)
{
        struct nft_ctx *ctx = ctx_new();
        int r;

        if (ctx == NULL) {
                *f = (struct nft_failure){ xstrdup("cannot make a libnftables context"), ENOMEM };
                return -1;
        }
        r = nft_run_cmd_from_buffer(ctx, cmds);
        if (out) {
                const char *o = nft_ctx_get_output_buffer(ctx);
                *out = xstrdup(o ? o : "");
        }
        if (r != 0)
                parse_failure(nft_ctx_get_error_buffer(ctx), f);
        nft_ctx_free(ctx);
        return r == 0 ? 0 : -1;
}

/* Take nft_lock for a change to the table, which must exist. */
static int lock_ready(berth_error_t **err)
{
        pthread_mutex_lock(&nft_lock);
        if (nft_ready)
                return 0;
        pthread_mutex_unlock(&nft_lock);
        return berth_fail(err, EINVAL, "nftables: nft_init was not called");
}

static void forget_networks_locked(void)
{
        free(nft_nets);
        nft_nets = NULL;
        nft_n_nets = 0;
}

/* ---- the table ---- */

static void table_cmds(struct strbuf *b, const struct nft_family *fam)
{
        /* a stale table (a daemon that died) goes in the same transaction */
        cmdf(b, "add table %s berth", fam->name);
        cmdf(b, "delete table %s berth", fam->name);
        cmdf(b, "table %s berth {", fam->name);
        cmdf(b, "set bridges { type ifname; }");
        cmdf(b, "map ports { type inet_proto . inet_service : %s . inet_service; }", fam->addr_type);
        cmdf(b, "map ports_addr { type %s . inet_proto . inet_service : %s . inet_service; }",
             fam->addr_type, fam->addr_type);
        cmdf(b, "map post_src { type %s : verdict; flags interval; }", fam->addr_type);
        cmdf(b, "map fwd_in { type ifname : verdict; }");
        cmdf(b, "map fwd_out { type ifname : verdict; }");
        /* a lookup that misses ends the rule, so a port published on one
         * address and on all of them resolves to the specific one */
        cmdf(b, "chain published {");
        cmdf(b, "dnat to %s daddr . meta l4proto . th dport map @ports_addr", fam->name);
        cmdf(b, "dnat to meta l4proto . th dport map @ports");
        cmdf(b, "}");
        /* route_localnet=1 on the bridges (for DNAT of loopback) would
         * also let a container that routes 127.0.0.0/8 to its gateway reach
         * the host's loopback-only services (CVE-2020-8558 in kube-proxy).
         * At raw priority, before conntrack turns the replies of DNATed
         * loopback connections back into packets to 127.0.0.1. */
        if (fam->loopback) {
                cmdf(b, "chain localnet { type filter hook prerouting priority raw; policy accept;");
                cmdf(b, "iifname @bridges %s daddr %s drop", fam->name, fam->loopback);
                cmdf(b, "}");
        }
        cmdf(b, "chain prerouting { type nat hook prerouting priority dstnat; policy accept;");
        cmdf(b, "fib daddr type local jump published");
        cmdf(b, "}");
        /* the host's own connections, to 127.0.0.1 and its other addresses */
        cmdf(b, "chain output { type nat hook output priority -100; policy accept;");
        cmdf(b, "fib daddr type local jump published");
        cmdf(b, "}");
        cmdf(b, "chain postrouting { type nat hook postrouting priority srcnat; policy accept;");
        if (fam->loopback)
                cmdf(b, "%s saddr %s oifname @bridges masquerade", fam->name, fam->loopback);
        cmdf(b, "%s saddr vmap @post_src", fam->name);
        cmdf(b, "}");
        cmdf(b, "chain forward { type filter hook forward priority filter; policy accept;");
        cmdf(b, "iifname vmap @fwd_in");
        cmdf(b, "oifname vmap @fwd_out");
        cmdf(b, "}");
        cmdf(b, "}");
}

int nft_init(berth_error_t **err)
{
        struct strbuf b = { 0 };
        struct nft_failure f = { 0 };
        int r;

        table_cmds(&b, &nft_ip);
        pthread_mutex_lock(&nft_lock);
        forget_networks_locked();
        nft_started = true;
        r = run_locked(b.data, &f, NULL);
        nft_ready = r == 0;
        pthread_mutex_unlock(&nft_lock);
        free(b.data);
        if (f.why)
                return fail(err, &f, "create table ip berth", NULL);
        return r;
}

int nft_fini(berth_error_t **err)
{
        struct nft_failure f = { 0 };
        int r = 0;

        pthread_mutex_lock(&nft_lock);
        if (nft_started)
                r = run_locked("add table ip berth\ndelete table ip berth\n", &f, NULL);
        nft_started = false;
        nft_ready = false;
        forget_networks_locked();
        pthread_mutex_unlock(&nft_lock);
        if (r < 0)
                return fail(err, &f, "delete table ip berth", NULL);
        return 0;
}

bool nft_table_exists(void)
{
        _cleanup_free_ char *out = NULL;
        struct nft_failure f = { 0 };
        bool found = false;

        pthread_mutex_lock(&nft_lock);
        if (run_locked("list tables ip", &f, &out) == 0)
                for (char *sp, *l = strtok_r(out, "\n", &sp); l && !found; l = strtok_r(NULL, "\n", &sp))
                        found = strcmp(l, "table ip berth") == 0;
        pthread_mutex_unlock(&nft_lock);
        free(f.why);
        return found;
}

/* ---- networks ---- */

/* Bridge names go into the commands' text: only what a Berth bridge can
 * be called, so that no name can say more than a name. */
static int check_bridge(const char *name, berth_error_t **err)
{
        size_t len = name ? strlen(name) : 0;

        if (len == 0 || len > 15 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len) {
                _cleanup_free_ char *q = quote(name ? name : "");
                return berth_fail(err, EINVAL, "nftables: invalid bridge name %s", q);
        }
        return 0;
}

static struct nft_net *find_network_locked(const char *bridge)
{
        for (size_t i = 0; i < nft_n_nets; i++)
                if (strcmp(nft_nets[i].bridge, bridge) == 0)
                        return &nft_nets[i];
        return NULL;
}

/* Its chains: NAT for traffic from its subnet, drops for traffic that
 * came in by its bridge or leaves by it. */
static void network_cmds(struct strbuf *b, const struct nft_family *fam, const struct nft_network *n,
                         const char *subnet)
{
        const char *br = n->bridge, *t = fam->name;

        /* "create" fails on a network that has its chains already */
        cmdf(b, "create chain %s berth post-%s", t, br);
        if (n->masquerade)
                cmdf(b, "add rule %s berth post-%s oifname != \"%s\" masquerade", t, br, br);
        /* hairpin: a container reaching a published port of its own
         * network through the host would get its reply straight from the
         * container it dialled, not from the address it dialled */
        cmdf(b, "add rule %s berth post-%s oifname \"%s\" ct status dnat masquerade", t, br, br);

        cmdf(b, "create chain %s berth fwd-in-%s", t, br);
        if (n->internal)
                cmdf(b, "add rule %s berth fwd-in-%s oifname != \"%s\" drop", t, br, br);
        /* published ports stay reachable from everywhere, as through
         * Docker's userland proxy */
        cmdf(b, "add rule %s berth fwd-in-%s ct status dnat return", t, br);
        /* without br_netfilter, bridged traffic never reaches this hook:
         * icc=false then binds routed traffic only, as with Docker */
        if (!n->icc)
                cmdf(b, "add rule %s berth fwd-in-%s oifname \"%s\" drop", t, br, br);
        cmdf(b, "add rule %s berth fwd-in-%s oifname @bridges oifname != \"%s\" drop", t, br, br);
        if (n->internal) {
                cmdf(b, "create chain %s berth fwd-out-%s", t, br);
                cmdf(b, "add rule %s berth fwd-out-%s iifname != \"%s\" drop", t, br, br);
                cmdf(b, "add element %s berth fwd_out { \"%s\" : jump fwd-out-%s }", t, br, br);
        }
        cmdf(b, "add element %s berth bridges { \"%s\" }", t, br);
        /* an interval map: a subnet overlapping another network's fails */
        cmdf(b, "add element %s berth post_src { %s : jump post-%s }", t, subnet, br);
        cmdf(b, "add element %s berth fwd_in { \"%s\" : jump fwd-in-%s }", t, br, br);
}

static uint32_t mask(unsigned prefix)
{
        return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

/* Its bridge or its subnet taken: said plainly, before nft says "File
 * exists" or "interval overlaps". */
static int check_new_network_locked(const struct nft_net *new, berth_error_t **err)
{
        for (size_t i = 0; i < nft_n_nets; i++) {
                const struct nft_net *o = &nft_nets[i];
                uint32_t m = mask(MIN(o->prefix, new->prefix));

                if (strcmp(o->bridge, new->bridge) == 0)
                        return berth_fail(err, EEXIST, "nftables: network %s %s: its rules exist already",
                                          new->bridge, new->subnet);
                if ((o->net.s_addr & m) == (new->net.s_addr & m))
                        return berth_fail(err, EEXIST, "nftables: network %s %s: overlaps network %s %s",
                                          new->bridge, new->subnet, o->bridge, o->subnet);
        }
        return 0;
}

static void remember_network_locked(const struct nft_net *net)
{
        nft_nets = xrealloc(nft_nets, (nft_n_nets + 1) * sizeof(*nft_nets));
        nft_nets[nft_n_nets++] = *net;
}

int nft_network_add(const struct nft_network *n, berth_error_t **err)
{
        char addr[INET_ADDRSTRLEN];
        _cleanup_free_ char *what = NULL;
        struct nft_failure f = { 0 };
        struct strbuf b = { 0 };
        struct nft_net net = { .prefix = n->prefix };
        int r;

        if (check_bridge(n->bridge, err) < 0)
                return -EINVAL;
        if (n->prefix > 32)
                return berth_fail(err, EINVAL, "nftables: network %s: invalid prefix length %u", n->bridge, n->prefix);
        snprintf(net.bridge, sizeof(net.bridge), "%s", n->bridge);
        net.net.s_addr = n->subnet.s_addr & mask(n->prefix);
        inet_ntop(AF_INET, &net.net, addr, sizeof(addr));
        snprintf(net.subnet, sizeof(net.subnet), "%s/%u", addr, n->prefix);

        network_cmds(&b, &nft_ip, n, net.subnet);
        if (lock_ready(err) < 0) {
                free(b.data);
                return -EINVAL;
        }
        r = check_new_network_locked(&net, err);
        if (r == 0 && (r = run_locked(b.data, &f, NULL)) == 0)
                remember_network_locked(&net);
        pthread_mutex_unlock(&nft_lock);
        free(b.data);
        if (f.why == NULL)
                return r;
        what = xasprintf("network %s %s", n->bridge, net.subnet);
        return fail(err, &f, what, NULL);
}

/* Whatever of a network exists (fwd-out only for internal ones) goes;
 * subnet is NULL for a network we have no rules for (then there is no
 * post_src element to delete either). */
static void network_remove_cmds(struct strbuf *b, const struct nft_family *fam, const char *br, const char *subnet)
{
        static const char *const chains[] = { "post", "fwd-in", "fwd-out" };
        const char *t = fam->name;

        for (size_t i = 0; i < ARRAY_SIZE(chains); i++)
                cmdf(b, "add chain %s berth %s-%s", t, chains[i], br);
        cmdf(b, "add element %s berth fwd_in { \"%s\" : jump fwd-in-%s }", t, br, br);
        cmdf(b, "add element %s berth fwd_out { \"%s\" : jump fwd-out-%s }", t, br, br);
        cmdf(b, "add element %s berth bridges { \"%s\" }", t, br);
        /* the elements first: a chain a map still jumps to cannot go */
        cmdf(b, "delete element %s berth fwd_in { \"%s\" }", t, br);
        cmdf(b, "delete element %s berth fwd_out { \"%s\" }", t, br);
        cmdf(b, "delete element %s berth bridges { \"%s\" }", t, br);
        if (subnet)
                cmdf(b, "delete element %s berth post_src { %s }", t, subnet);
        for (size_t i = 0; i < ARRAY_SIZE(chains); i++)
                cmdf(b, "delete chain %s berth %s-%s", t, chains[i], br);
}

int nft_network_remove(const char *bridge, berth_error_t **err)
{
        _cleanup_free_ char *what = NULL;
        struct nft_failure f = { 0 };
        struct strbuf b = { 0 };
        struct nft_net *net;
        int r;

        if (check_bridge(bridge, err) < 0)
                return -EINVAL;
        if (lock_ready(err) < 0)
                return -EINVAL;
        net = find_network_locked(bridge);
        network_remove_cmds(&b, &nft_ip, bridge, net ? net->subnet : NULL);
        r = run_locked(b.data, &f, NULL);
        if (r == 0 && net)
                *net = nft_nets[--nft_n_nets];
        pthread_mutex_unlock(&nft_lock);
        free(b.data);
        if (r == 0)
                return 0;
        what = xasprintf("remove network %s", bridge);
        return fail(err, &f, what, NULL);
}

/* ---- published ports ---- */

static const char *proto_name(int proto)
{
        switch (proto) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_SCTP: return "sctp";
        }
        return NULL;
}

/* "tcp 0.0.0.0:18080 -> 172.18.0.2:80", for messages. */
static char *port_desc(const struct nft_port *p)
{
        char host[INET_ADDRSTRLEN], ctr[INET_ADDRSTRLEN];
        const char *proto = proto_name(p->proto);

        inet_ntop(AF_INET, &p->host_ip, host, sizeof(host));
        inet_ntop(AF_INET, &p->ctr_ip, ctr, sizeof(ctr));
        if (proto)
                return xasprintf("%s %s:%u -> %s:%u", proto, host, p->host_port, ctr, p->ctr_port);
        return xasprintf("protocol %d %s:%u -> %s:%u", p->proto, host, p->host_port, ctr, p->ctr_port);
}

static int check_port(const struct nft_port *p, const char *verb, berth_error_t **err)
{
        const char *bad = NULL;
        _cleanup_free_ char *d = NULL;

        if (proto_name(p->proto) == NULL)
                bad = "unsupported protocol";
        else if (p->host_port == 0 || p->ctr_port == 0)
                bad = "port 0";
        else if (p->ctr_ip.s_addr == htonl(INADDR_ANY))
                bad = "no container address";
        if (bad == NULL)
                return 0;
        d = port_desc(p);
        return berth_fail(err, EINVAL, "nftables: %s %s: %s", verb, d, bad);
}

/* One element command: "create element ip berth ports { tcp . 18080 :
 * 172.18.0.2 . 80 }", or in ports_addr with the host address first. */
static void port_cmd(struct strbuf *b, const struct nft_family *fam, const char *verb, const struct nft_port *p)
{
        char host[INET_ADDRSTRLEN], ctr[INET_ADDRSTRLEN];
        const char *proto = proto_name(p->proto);

        inet_ntop(AF_INET, &p->ctr_ip, ctr, sizeof(ctr));
        if (p->host_ip.s_addr == htonl(INADDR_ANY)) {
                cmdf(b, "%s element %s berth ports { %s . %u : %s . %u }", verb, fam->name, proto, p->host_port,
                     ctr, p->ctr_port);
                return;
        }
        inet_ntop(AF_INET, &p->host_ip, host, sizeof(host));
        cmdf(b, "%s element %s berth ports_addr { %s . %s . %u : %s . %u }", verb, fam->name, host, proto,
             p->host_port, ctr, p->ctr_port);
}

/* The commands for one port: publish ("create": a taken port is a bug
 * upstream, since the engine reserves ports first, never a silent no-op)
 * or unpublish ("add" first, a no-op for the same mapping: a port not
 * published is skipped; one published to another container makes the
 * add fail, and is left alone). */
static void port_cmds(struct strbuf *b, bool publish, const struct nft_port *p)
{
        if (publish) {
                port_cmd(b, &nft_ip, "create", p);
                return;
        }
        port_cmd(b, &nft_ip, "add", p);
        port_cmd(b, &nft_ip, "delete", p);
}

/* nft merges consecutive element commands into one message and blames
 * the first of them: the port that failed is found by trying each alone,
 * in dry-run mode (the kernel checks, nothing is committed). */
static size_t find_culprit_locked(const struct nft_port *p, size_t n, bool publish)
{
        size_t bad = 0;

        if (n < 2)
                return 0;
        nft_dry_run = true;
        for (size_t i = 0; i < n; i++) {
                struct nft_failure f = { 0 };
                struct strbuf b = { 0 };
                int r;

                port_cmds(&b, publish, &p[i]);
                r = run_locked(b.data, &f, NULL);
                free(b.data);
                free(f.why);
                if (r < 0) {
                        bad = i;
                        break;
                }
        }
        nft_dry_run = false;
        return bad;
}

static int ports_change(const struct nft_port *p, size_t n, bool publish, berth_error_t **err)
{
        const char *verb = publish ? "publish" : "unpublish";
        _cleanup_free_ char *d = NULL, *what = NULL;
        struct nft_failure f = { 0 };
        struct strbuf b = { 0 };
        size_t bad = 0;
        int r;

        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (check_port(&p[i], verb, err) < 0)
                        return -EINVAL;
        for (size_t i = 0; i < n; i++)
                port_cmds(&b, publish, &p[i]);
        if (lock_ready(err) < 0) {
                free(b.data);
                return -EINVAL;
        }
        r = run_locked(b.data, &f, NULL);
        if (r < 0)
                bad = find_culprit_locked(p, n, publish);
        pthread_mutex_unlock(&nft_lock);
        free(b.data);
        if (r == 0)
                return 0;
        d = port_desc(&p[bad]);
        what = xasprintf("%s %s", verb, d);
        return fail(err, &f, what,
                    publish ? "the host port is published already" : "the host port is published to another address");
}

int nft_ports_add(const struct nft_port *p, size_t n, berth_error_t **err)
{
        return ports_change(p, n, true, err);
}

int nft_ports_remove(const struct nft_port *p, size_t n, berth_error_t **err)
{
        return ports_change(p, n, false, err);
}
