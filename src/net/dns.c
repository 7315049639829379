/* The embedded DNS server (see dns.h).
 *
 * One thread and one epoll set serve every client's UDP socket, its TCP
 * listener and connections, and the queries forwarded upstream (each an
 * async socket in the same loop, so a slow upstream never holds up an
 * answer).  All of that state and the records sit under one mutex, which
 * the thread holds while it handles a batch of events: any thread may
 * attach, detach or change records at any time.  An object closed while
 * the thread may still hold an event for it (a detach from another thread
 * between epoll_wait and the lock) is only marked dead and put in a
 * graveyard, which the thread empties once its batch is done. */
#include "net/dns.h"
#include "net/dns-msg.h"
#include "util/log.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#define DNS_TTL 600 /* Docker's */
/* Names in a zone (Kubernetes' cluster.local) follow pods and services
 * as they come and go: CoreDNS's kubernetes plugin answers with 5 s. */
#define ZONE_TTL 5
#define MAX_ZONES 16
#define UPSTREAM_TIMEOUT_MS 2000
#define TCP_IDLE_MS 5000
#define MAX_UPSTREAMS 16
/* Caps, so that one misbehaving container cannot exhaust the daemon. */
#define MAX_TCP_PER_CLIENT 8
#define MAX_TCP_OUT (128 * 1024)
#define MAX_FORWARDS 64
#define MAX_FORWARDS_PER_CLIENT 32
#define MAX_ANSWERS 128
/* Messages handled per wakeup of one socket: the others get their turn. */
#define BURST 32
#define MAX_EVENTS 64
/* A listener that cannot accept (out of fds) rests this long instead of
 * waking the thread again at once. */
#define ACCEPT_PAUSE_MS 1000
#define RESOLVER_ADDR 0x7f00000b /* 127.0.0.11 */

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

enum watch_kind { WATCH_WAKE, WATCH_UDP, WATCH_LISTEN, WATCH_CONN, WATCH_FWD };

/* What an epoll event points at. */
struct watch {
        enum watch_kind kind;
};

struct upstream {
        struct sockaddr_storage addr;
        socklen_t len;
};

struct record {
        char *network, *owner, *name;
        bool has4, has6;
        struct in_addr ip4;
        struct in6_addr ip6;
        unsigned rotation;
};

/* Names under a zone, asked by a client on its network, are answered
 * here only: a name with no record is NXDOMAIN at once, never forwarded
 * (a pod's search list tries <name>.<ns>.svc.cluster.local and two more
 * before the name itself: each miss forwarded upstream would cost a
 * round trip, or the upstream timeout when there is none). */
struct zone {
        char *network;
        char *dot_name;                 /* ".cluster.local" */
};

struct conn;

struct client {
        struct watch udp_w, listen_w;
        char *id;
        char **networks;
        size_t n_networks;
        struct upstream ups[MAX_UPSTREAMS];
        size_t n_ups;
        int udp_fd, tcp_fd;
        int64_t listen_resume; /* 0, or when a paused listener resumes */
        struct conn *conns;
        size_t n_conns, n_fwds;
        bool dead;
        struct client *next;
};

/* A client's TCP connection: 2-byte length framing both ways. */
struct conn {
        struct watch w;
        struct client *c;
        int fd;
        uint8_t len_buf[2];
        uint8_t *in; /* the message being read, once its length is known */
        size_t have, in_len;
        uint8_t *out;
        size_t out_len, out_off;
        bool want_out;
        int64_t idle_deadline;
        size_t n_fwds;
        bool dead;
        struct conn *next;
};

enum fwd_state { FWD_UDP, FWD_TCP_CONNECT, FWD_TCP_SEND, FWD_TCP_RECV };

/* A query on its way upstream: over UDP when the client asked over UDP,
 * over TCP when it asked over TCP (as Docker: a TCP client may want an
 * answer too big for UDP). */
struct fwd {
        struct watch w;
        struct client *c;
        struct conn *conn; /* NULL: the client asked over UDP, from src */
        struct sockaddr_in src;
        struct dns_query q;
        uint8_t *query; /* the client's bytes; the ID is ours on the upstream side */
        size_t qlen;
        uint16_t id;
        struct upstream ups[MAX_UPSTREAMS];
        size_t n_ups, next_up;
        int fd;
        enum fwd_state state;
        uint8_t len_buf[2];
        uint8_t *buf; /* TCP: the framed query, then the answer */
        size_t off, need;
        int64_t deadline;
        bool dead;
        struct fwd *next;
};

struct dns_server {
        pthread_mutex_t lock;
        /* Attaches one at a time: two of the same container must not both
         * make sockets in its namespace. */
        pthread_mutex_t attach_lock;
        pthread_t thread;
        bool started, stop;
        int epfd, wakefd;
        struct watch wake_w;
        struct record *recs;
        size_t n_recs, cap_recs;
        struct zone zones[MAX_ZONES];
        size_t n_zones;
        struct upstream ups[MAX_UPSTREAMS];
        size_t n_ups;
        struct client *clients;
        struct fwd *fwds;
        size_t n_fwds;
        struct client *dead_clients;
        struct conn *dead_conns;
        struct fwd *dead_fwds;
        uint8_t buf[DNS_MSG_MAX];
        uint8_t out[DNS_MSG_MAX];
};

/* Where an answer goes. */
struct origin {
        struct client *c;
        struct conn *conn; /* NULL: UDP, to src */
        struct sockaddr_in src;
};

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int watch_fd(struct dns_server *s, int op, int fd, uint32_t events, struct watch *w)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };

        return epoll_ctl(s->epfd, op, fd, &ev);
}

static void close_watched(struct dns_server *s, int *fd)
{
        if (*fd < 0)
                return;
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, *fd, NULL);
        close(*fd);
        *fd = -1;
}

static void wake(struct dns_server *s)
{
        uint64_t one = 1;

        if (write(s->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
                berth_debug("dns: wake: %s", strerror(errno));
}

/* ---- upstreams ---- */

static int parse_port(const char *str, uint16_t *port)
{
        long long v = parse_ll(str);

        if (v < 1 || v > 65535)
                return -1;
        *port = (uint16_t)v;
        return 0;
}

/* An IPv6 address of n bytes at str, with an optional %zone. */
static int parse_ip6(const char *str, size_t n, uint16_t port, struct upstream *u)
{
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&u->addr;
        char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
        char *zone;

        if (n == 0 || n >= sizeof(buf))
                return -1;
        memcpy(buf, str, n);
        buf[n] = '\0';
        zone = strchr(buf, '%');
        if (zone)
                *zone++ = '\0';
        if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
                return -1;
        if (zone) {
                long long idx = parse_ll(zone);
                sin6->sin6_scope_id = idx > 0 && idx <= UINT32_MAX ? (uint32_t)idx : if_nametoindex(zone);
                if (sin6->sin6_scope_id == 0)
                        return -1;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        u->len = sizeof(*sin6);
        return 0;
}

static int parse_ip4(const char *str, size_t n, uint16_t port, struct upstream *u)
{
        struct sockaddr_in *sin = (struct sockaddr_in *)&u->addr;
        char buf[INET_ADDRSTRLEN];

        if (n == 0 || n >= sizeof(buf))
                return -1;
        memcpy(buf, str, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1)
                return -1;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        u->len = sizeof(*sin);
        return 0;
}

/* "IP", "IP:port", "[IPv6]" or "[IPv6]:port"; a bare IPv6 address too. */
static int parse_upstream(const char *str, struct upstream *u)
{
        const char *colon = strchr(str, ':');
        uint16_t port = 53;

        memset(u, 0, sizeof(*u));
        if (str[0] == '[') {
                const char *close = strchr(str, ']');
                if (close == NULL || (close[1] != '\0' && close[1] != ':'))
                        return -1;
                if (close[1] == ':' && parse_port(close + 2, &port) < 0)
                        return -1;
                return parse_ip6(str + 1, (size_t)(close - str - 1), port, u);
        }
        if (colon && strchr(colon + 1, ':'))
                return parse_ip6(str, strlen(str), port, u);
        if (colon && parse_port(colon + 1, &port) < 0)
                return -1;
        return parse_ip4(str, colon ? (size_t)(colon - str) : strlen(str), port, u);
}

/* 127.0.0.11 is where the containers find us: forwarding there is at
 * best a loop. */
static bool upstream_is_self(const struct upstream *u)
{
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&u->addr;
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&u->addr;
        uint32_t self = htonl(RESOLVER_ADDR);

        if (u->addr.ss_family == AF_INET)
                return sin->sin_addr.s_addr == self;
        return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && memcmp(&sin6->sin6_addr.s6_addr[12], &self, 4) == 0;
}

static int parse_upstreams(const char *const *strs, size_t n, struct upstream *out, size_t *n_out,
                           berth_error_t **err)
{
        size_t k = 0;

        if (n > MAX_UPSTREAMS)
                return berth_fail(err, EINVAL, "%zu DNS servers: at most %d are used", n, MAX_UPSTREAMS);
        for (size_t i = 0; i < n; i++) {
                if (strs[i] == NULL || parse_upstream(strs[i], &out[k]) < 0) {
                        _cleanup_free_ char *q = quote(strs[i] ? strs[i] : "");
                        return berth_fail(err, EINVAL, "invalid DNS server %s: want IP, IP:port or [IPv6]:port",
                                          q);
                }
                if (upstream_is_self(&out[k])) {
                        berth_debug("dns: DNS server %s skipped: it is the embedded server itself", strs[i]);
                        continue;
                }
                k++;
        }
        *n_out = k;
        return 0;
}

int dns_server_set_upstreams(struct dns_server *s, const char *const *servers, size_t n, berth_error_t **err)
{
        struct upstream ups[MAX_UPSTREAMS];
        size_t k;

        if (parse_upstreams(servers, n, ups, &k, err) < 0)
                return -1;
        pthread_mutex_lock(&s->lock);
        memcpy(s->ups, ups, k * sizeof(ups[0]));
        s->n_ups = k;
        pthread_mutex_unlock(&s->lock);
        return 0;
}

/* ---- records ---- */

static char *name_normalize(const char *name)
{
        char *n = xstrdup(name);
        size_t len = strlen(n);

        if (len > 1 && n[len - 1] == '.' && n[len - 2] != '\\')
                n[len - 1] = '\0';
        return n;
}

static struct record *record_find(struct dns_server *s, const char *network, const char *owner, const char *name)
{
        for (size_t i = 0; i < s->n_recs; i++) {
                struct record *r = &s->recs[i];
                if (strcmp(r->network, network) == 0 && strcmp(r->owner, owner) == 0 &&
                    dns_name_equal(r->name, name))
                        return r;
        }
        return NULL;
}

void dns_record_add(struct dns_server *s, const char *network, const char *owner, const char *name,
                    const struct in_addr *ip4, const struct in6_addr *ip6)
{
        _cleanup_free_ char *n = name_normalize(name);
        uint8_t wire[DNS_NAME_WIRE_MAX];
        struct record *r;

        if (n[0] == '\0' || strcmp(n, ".") == 0 || dns_name_encode(n, wire, sizeof(wire)) < 0) {
                _cleanup_free_ char *q = quote(name);
                berth_warn("dns: %s is not a DNS name, not added", q);
                return;
        }
        pthread_mutex_lock(&s->lock);
        r = record_find(s, network, owner, n);
        if (r == NULL) {
                if (s->n_recs == s->cap_recs) {
                        s->cap_recs = s->cap_recs ? s->cap_recs * 2 : 16;
                        s->recs = xrealloc(s->recs, s->cap_recs * sizeof(*s->recs));
                }
                r = &s->recs[s->n_recs++];
                *r = (struct record){ .network = xstrdup(network), .owner = xstrdup(owner),
                                      .name = steal_pointer(&n) };
        }
        r->has4 = ip4 != NULL;
        r->has6 = ip6 != NULL;
        if (ip4)
                r->ip4 = *ip4;
        if (ip6)
                r->ip6 = *ip6;
        pthread_mutex_unlock(&s->lock);
}

void dns_records_remove(struct dns_server *s, const char *network, const char *owner)
{
        size_t k = 0;

        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n_recs; i++) {
                struct record *r = &s->recs[i];
                if (strcmp(r->owner, owner) == 0 && (network == NULL || strcmp(r->network, network) == 0)) {
                        free(r->network);
                        free(r->owner);
                        free(r->name);
                        continue;
                }
                s->recs[k++] = *r;
        }
        s->n_recs = k;
        pthread_mutex_unlock(&s->lock);
}

void dns_zone_set(struct dns_server *s, const char *network, const char *zone)
{
        _cleanup_free_ char *n = zone ? name_normalize(zone) : NULL;
        size_t k = 0;

        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n_zones; i++) {
                if (strcmp(s->zones[i].network, network) == 0) {
                        free(s->zones[i].network);
                        free(s->zones[i].dot_name);
                        continue;
                }
                s->zones[k++] = s->zones[i];
        }
        s->n_zones = k;
        if (n && *n && strcmp(n, ".") != 0 && s->n_zones < MAX_ZONES)
                s->zones[s->n_zones++] = (struct zone){ .network = xstrdup(network), .dot_name = xasprintf(".%s", n) };
        else if (n && *n && strcmp(n, ".") != 0)
                berth_warn("dns: zone %s on network %.12s: too many zones, not added", n, network);
        pthread_mutex_unlock(&s->lock);
}

/* ---- lookups: only the networks of the client that asks ---- */

static bool client_on(const struct client *c, const char *network)
{
        for (size_t i = 0; i < c->n_networks; i++)
                if (strcmp(c->networks[i], network) == 0)
                        return true;
        return false;
}

static bool answer_known(const struct dns_answer *ans, size_t n, const struct dns_answer *a)
{
        for (size_t i = 0; i < n; i++) {
                if (ans[i].type != a->type)
                        continue;
                if (a->type == DNS_TYPE_A && ans[i].a.s_addr == a->a.s_addr)
                        return true;
                if (a->type == DNS_TYPE_AAAA && memcmp(&ans[i].aaaa, &a->aaaa, sizeof(a->aaaa)) == 0)
                        return true;
        }
        return false;
}

static void answer_add(struct dns_answer *ans, size_t *n, const struct dns_answer *a)
{
        if (*n < MAX_ANSWERS && !answer_known(ans, *n, a))
                ans[(*n)++] = *a;
}

/* Round robin: each query of a name starts one further along its
 * addresses (the counter lives in the name's first record). */
static void answers_rotate(struct dns_answer *ans, size_t n, unsigned by)
{
        struct dns_answer tmp[MAX_ANSWERS];

        if (n < 2 || by % n == 0)
                return;
        by %= n;
        memcpy(tmp, ans, by * sizeof(*ans));
        memmove(ans, ans + by, (n - by) * sizeof(*ans));
        memcpy(ans + n - by, tmp, by * sizeof(*ans));
}

static bool lookup_name(struct dns_server *s, const struct client *c, const struct dns_query *q,
                        struct dns_answer *ans, size_t *n)
{
        bool want4 = q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_ANY;
        bool want6 = q->qtype == DNS_TYPE_AAAA || q->qtype == DNS_TYPE_ANY;
        struct record *first = NULL;

        for (size_t i = 0; i < s->n_recs; i++) {
                struct record *r = &s->recs[i];
                if (!client_on(c, r->network) || !dns_name_equal(r->name, q->name))
                        continue;
                if (first == NULL)
                        first = r;
                if (want4 && r->has4)
                        answer_add(ans, n, &(struct dns_answer){ .type = DNS_TYPE_A, .a = r->ip4 });
                if (want6 && r->has6)
                        answer_add(ans, n, &(struct dns_answer){ .type = DNS_TYPE_AAAA, .aaaa = r->ip6 });
        }
        if (first)
                answers_rotate(ans, *n, first->rotation++);
        return first != NULL;
}

static bool suffix_is(const char *name, size_t len, const char *suffix)
{
        size_t n = strlen(suffix);

        return len >= n && dns_name_equal(name + len - n, suffix);
}

/* "4.3.2.1.in-addr.arpa" to 1.2.3.4. */
static bool ptr_ip4(const char *name, size_t len, struct in_addr *a)
{
        uint8_t b[4];
        const char *p = name;

        if (!suffix_is(name, len, ".in-addr.arpa"))
                return false;
        for (int i = 3; i >= 0; i--) {
                unsigned v = 0, digits = 0;
                while (*p >= '0' && *p <= '9' && digits < 3) {
                        v = v * 10 + (unsigned)(*p++ - '0');
                        digits++;
                }
                if (digits == 0 || v > 255 || *p++ != '.')
                        return false;
                b[i] = (uint8_t)v;
        }
        if ((size_t)(p - name) != len - strlen("in-addr.arpa"))
                return false;
        memcpy(a, b, 4);
        return true;
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)(c | 0x20);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 32 nibbles, least significant first, then ".ip6.arpa". */
static bool ptr_ip6(const char *name, size_t len, struct in6_addr *a)
{
        if (len != 64 + strlen("ip6.arpa") || !suffix_is(name, len, ".ip6.arpa"))
                return false;
        memset(a, 0, sizeof(*a));
        for (int i = 0; i < 32; i++) {
                int v = hex_value(name[2 * i]);
                if (v < 0 || name[2 * i + 1] != '.')
                        return false;
                a->s6_addr[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
        }
        return true;
}

static bool lookup_ptr(struct dns_server *s, const struct client *c, const struct dns_query *q,
                       struct dns_answer *ans, size_t *n)
{
        size_t len = strlen(q->name);
        struct in_addr a4;
        struct in6_addr a6;
        bool is4 = ptr_ip4(q->name, len, &a4), is6 = !is4 && ptr_ip6(q->name, len, &a6);

        if (!is4 && !is6)
                return false;
        for (size_t i = 0; i < s->n_recs; i++) {
                const struct record *r = &s->recs[i];
                if (!client_on(c, r->network))
                        continue;
                if ((is4 && r->has4 && r->ip4.s_addr == a4.s_addr) ||
                    (is6 && r->has6 && memcmp(&r->ip6, &a6, sizeof(a6)) == 0)) {
                        ans[(*n)++] = (struct dns_answer){ .type = DNS_TYPE_PTR, .ptr = r->name };
                        return true;
                }
        }
        return false;
}

static bool suffix_is(const char *name, size_t len, const char *suffix);

/* Whether the name is in a zone of one of the client's networks. */
static bool in_zone(struct dns_server *s, const struct client *c, const char *name)
{
        size_t len = strlen(name);

        for (size_t i = 0; i < s->n_zones; i++) {
                const struct zone *z = &s->zones[i];
                if (client_on(c, z->network) &&
                    (dns_name_equal(name, z->dot_name + 1) || suffix_is(name, len, z->dot_name)))
                        return true;
        }
        return false;
}

/* Whether the name is ours to answer for this client; *n answers (none:
 * the name exists but has no data of that type). */
static bool lookup(struct dns_server *s, const struct client *c, const struct dns_query *q,
                   struct dns_answer *ans, size_t *n)
{
        *n = 0;
        if (q->qclass != DNS_CLASS_IN && q->qclass != DNS_CLASS_ANY)
                return false;
        if (q->qtype == DNS_TYPE_PTR && lookup_ptr(s, c, q, ans, n))
                return true;
        return lookup_name(s, c, q, ans, n);
}

/* ---- answering ---- */

static void conn_kill(struct dns_server *s, struct conn *conn);

static void conn_want_out(struct dns_server *s, struct conn *conn, bool want)
{
        if (conn->want_out == want)
                return;
        conn->want_out = want;
        watch_fd(s, EPOLL_CTL_MOD, conn->fd, EPOLLIN | (want ? EPOLLOUT : 0), &conn->w);
}

static void conn_flush(struct dns_server *s, struct conn *conn)
{
        while (conn->out_off < conn->out_len) {
                ssize_t n = send(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                if (n < 0) {
                        conn_kill(s, conn);
                        return;
                }
                conn->out_off += (size_t)n;
                conn->idle_deadline = now_ms() + TCP_IDLE_MS;
        }
        if (conn->out_off == conn->out_len)
                conn->out_off = conn->out_len = 0;
        conn_want_out(s, conn, conn->out_len > 0);
}

static void conn_send(struct dns_server *s, struct conn *conn, const uint8_t *msg, size_t len)
{
        size_t pending = conn->out_len - conn->out_off;

        if (pending + 2 + len > MAX_TCP_OUT) {
                /* A client that does not read its answers. */
                conn_kill(s, conn);
                return;
        }
        if (conn->out_off > 0) {
                memmove(conn->out, conn->out + conn->out_off, pending);
                conn->out_off = 0;
                conn->out_len = pending;
        }
        conn->out = xrealloc(conn->out, pending + 2 + len);
        conn->out[pending] = (uint8_t)(len >> 8);
        conn->out[pending + 1] = (uint8_t)len;
        memcpy(conn->out + pending + 2, msg, len);
        conn->out_len = pending + 2 + len;
        conn_flush(s, conn);
}

static void reply(struct dns_server *s, const struct origin *o, const uint8_t *msg, size_t len)
{
        if (o->conn) {
                conn_send(s, o->conn, msg, len);
                return;
        }
        /* UDP is lossy anyway: a full socket buffer drops the answer. */
        if (sendto(o->c->udp_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&o->src,
                   sizeof(o->src)) < 0)
                berth_debug("dns: answer to container %s: %s", o->c->id, strerror(errno));
}

static void answer(struct dns_server *s, const struct origin *o, const struct dns_query *q, int rcode,
                   const struct dns_answer *ans, size_t n, uint32_t ttl)
{
        size_t max = o->conn ? DNS_MSG_MAX : dns_query_udp_max(q);
        int len = dns_response_build(q, rcode, ans, n, ttl, s->out, max);

        if (len < 0) {
                berth_debug("dns: answer to container %s: %s", o->c->id, strerror(-len));
                return;
        }
        reply(s, o, s->out, (size_t)len);
}

/* ---- forwarding ---- */

static void fwd_kill(struct dns_server *s, struct fwd *f)
{
        struct fwd **pp;

        if (f->dead)
                return;
        f->dead = true;
        close_watched(s, &f->fd);
        for (pp = &s->fwds; *pp != f; pp = &(*pp)->next)
                ;
        *pp = f->next;
        s->n_fwds--;
        f->c->n_fwds--;
        if (f->conn)
                f->conn->n_fwds--;
        f->next = s->dead_fwds;
        s->dead_fwds = f;
}

static struct origin fwd_origin(const struct fwd *f)
{
        return (struct origin){ .c = f->c, .conn = f->conn, .src = f->src };
}

/* The end of a forwarded query: the upstream's answer with the client's
 * ID back in it, or SERVFAIL when no upstream answered. */
static void fwd_end(struct dns_server *s, struct fwd *f, uint8_t *msg, size_t len)
{
        struct origin o = fwd_origin(f);

        if (msg) {
                msg[0] = (uint8_t)(f->q.h.id >> 8);
                msg[1] = (uint8_t)f->q.h.id;
                reply(s, &o, msg, len);
        } else {
                berth_debug("dns: no DNS server answered for %s", f->q.name);
                answer(s, &o, &f->q, DNS_RCODE_SERVFAIL, NULL, 0, DNS_TTL);
        }
        fwd_kill(s, f);
}

static uint16_t random_id(void)
{
        static uint16_t counter;
        uint16_t id;

        if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
                id = (uint16_t)(++counter * 40503u) ^ (uint16_t)now_ms();
        return id;
}

/* Open a socket to u and start the query on it; fails at once when u is
 * unreachable. */
static int fwd_open(struct dns_server *s, struct fwd *f, const struct upstream *u)
{
        bool tcp = f->conn != NULL;
        _cleanup_close_ int fd = socket(u->addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
                                        SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        f->id = random_id();
        f->query[0] = (uint8_t)(f->id >> 8);
        f->query[1] = (uint8_t)f->id;
        if (connect(fd, (const struct sockaddr *)&u->addr, u->len) < 0 && !(tcp && errno == EINPROGRESS))
                return -errno;
        if (!tcp && send(fd, f->query, f->qlen, MSG_NOSIGNAL) < 0)
                return -errno;
        if (tcp) {
                free(f->buf);
                f->buf = xmalloc(f->qlen + 2);
                f->buf[0] = (uint8_t)(f->qlen >> 8);
                f->buf[1] = (uint8_t)f->qlen;
                memcpy(f->buf + 2, f->query, f->qlen);
                f->off = 0;
                f->need = f->qlen + 2;
        }
        f->state = tcp ? FWD_TCP_CONNECT : FWD_UDP;
        if (watch_fd(s, EPOLL_CTL_ADD, fd, tcp ? EPOLLOUT : EPOLLIN, &f->w) < 0)
                return -errno;
        f->fd = steal_fd(&fd);
        f->deadline = now_ms() + UPSTREAM_TIMEOUT_MS;
        return 0;
}

/* On to the next upstream; past the last, SERVFAIL. */
static void fwd_next(struct dns_server *s, struct fwd *f)
{
        close_watched(s, &f->fd);
        while (f->next_up < f->n_ups) {
                int r = fwd_open(s, f, &f->ups[f->next_up++]);
                if (r == 0)
                        return;
                berth_debug("dns: DNS server %zu for %s: %s", f->next_up, f->q.name, strerror(-r));
        }
        fwd_end(s, f, NULL, 0);
}

static void forward(struct dns_server *s, const struct origin *o, const struct dns_query *q, const uint8_t *msg,
                    size_t len)
{
        const struct upstream *ups = o->c->n_ups ? o->c->ups : s->ups;
        size_t n_ups = o->c->n_ups ? o->c->n_ups : s->n_ups;
        struct fwd *f;

        if (n_ups == 0 || s->n_fwds >= MAX_FORWARDS || o->c->n_fwds >= MAX_FORWARDS_PER_CLIENT) {
                berth_debug("dns: %s not forwarded: %s", q->name, n_ups ? "too many queries in flight"
                                                                          : "no DNS server");
                answer(s, o, q, DNS_RCODE_SERVFAIL, NULL, 0, DNS_TTL);
                return;
        }
        f = xcalloc(1, sizeof(*f));
        *f = (struct fwd){ .w.kind = WATCH_FWD, .c = o->c, .conn = o->conn, .src = o->src, .q = *q,
                           .query = xmalloc(len), .qlen = len, .n_ups = n_ups, .fd = -1, .next = s->fwds };
        memcpy(f->query, msg, len);
        memcpy(f->ups, ups, n_ups * sizeof(*ups));
        s->fwds = f;
        s->n_fwds++;
        o->c->n_fwds++;
        if (o->conn)
                o->conn->n_fwds++;
        fwd_next(s, f);
}

/* An answer to our query (our ID, our question), not some stray packet. */
static bool fwd_answer_ok(const struct fwd *f, const uint8_t *msg, size_t len)
{
        struct dns_header h;
        struct dns_query q;
        size_t off = DNS_HEADER_SIZE;

        if (dns_header_parse(msg, len, &h) < 0 || !(h.flags & DNS_FLAG_QR) || h.id != f->id)
                return false;
        if (h.qdcount == 0) /* FORMERR and the like may carry no question */
                return true;
        return dns_question_parse(msg, len, &off, &q) == 0 && q.qtype == f->q.qtype &&
               q.qclass == f->q.qclass && dns_name_equal(q.name, f->q.name);
}

static void fwd_udp(struct dns_server *s, struct fwd *f)
{
        for (int i = 0; i < BURST; i++) {
                ssize_t n = recv(f->fd, s->buf, sizeof(s->buf), 0);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (n < 0) { /* ECONNREFUSED: nothing listens there */
                        fwd_next(s, f);
                        return;
                }
                if (fwd_answer_ok(f, s->buf, (size_t)n)) {
                        fwd_end(s, f, s->buf, (size_t)n);
                        return;
                }
        }
}

/* A step of I/O on the TCP socket: 1 when done, 0 for more later, -1 on
 * failure. */
static int fwd_io(struct fwd *f, uint8_t *p, size_t need, bool out)
{
        while (f->off < need) {
                ssize_t n = out ? send(f->fd, p + f->off, need - f->off, MSG_NOSIGNAL)
                                : recv(f->fd, p + f->off, need - f->off, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0;
                if (n <= 0)
                        return -1;
                f->off += (size_t)n;
        }
        return 1;
}

static int fwd_tcp_step(struct dns_server *s, struct fwd *f)
{
        int r, e = 0;
        socklen_t elen = sizeof(e);

        switch (f->state) {
        case FWD_TCP_CONNECT:
                if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 || e != 0)
                        return -1;
                f->state = FWD_TCP_SEND;
                /* fall through */
        case FWD_TCP_SEND:
                r = fwd_io(f, f->buf, f->need, true);
                if (r <= 0)
                        return r;
                f->state = FWD_TCP_RECV;
                f->off = 0;
                watch_fd(s, EPOLL_CTL_MOD, f->fd, EPOLLIN, &f->w);
                return 0;
        case FWD_TCP_RECV:
                if (f->off < 2) {
                        r = fwd_io(f, f->len_buf, 2, false);
                        if (r <= 0)
                                return r;
                        f->need = 2 + ((size_t)f->len_buf[0] << 8 | f->len_buf[1]);
                        free(f->buf);
                        f->buf = xmalloc(f->need);
                        memcpy(f->buf, f->len_buf, 2);
                }
                return fwd_io(f, f->buf, f->need, false);
        default:
                return -1;
        }
}

static void fwd_tcp(struct dns_server *s, struct fwd *f)
{
        int r = fwd_tcp_step(s, f);

        if (r < 0 || (r > 0 && !fwd_answer_ok(f, f->buf + 2, f->need - 2)))
                fwd_next(s, f);
        else if (r > 0)
                fwd_end(s, f, f->buf + 2, f->need - 2);
}

static void fwd_event(struct dns_server *s, struct fwd *f)
{
        if (f->state == FWD_UDP)
                fwd_udp(s, f);
        else
                fwd_tcp(s, f);
}

/* ---- queries ---- */

static void handle_query(struct dns_server *s, const struct origin *o, const uint8_t *msg, size_t len)
{
        struct dns_query q;
        struct dns_answer ans[MAX_ANSWERS];
        size_t n;
        int r = dns_query_parse(msg, len, &q);

        if (r < 0)
                return;
        if (r > 0)
                answer(s, o, &q, r, NULL, 0, DNS_TTL);
        else if (lookup(s, o->c, &q, ans, &n))
                answer(s, o, &q, DNS_RCODE_NOERROR, ans, n, in_zone(s, o->c, q.name) ? ZONE_TTL : DNS_TTL);
        else if (in_zone(s, o->c, q.name))
                answer(s, o, &q, DNS_RCODE_NXDOMAIN, NULL, 0, ZONE_TTL);
        else
                forward(s, o, &q, msg, len);
}

static void udp_readable(struct dns_server *s, struct client *c)
{
        for (int i = 0; i < BURST && !c->dead; i++) {
                struct origin o = { .c = c };
                socklen_t slen = sizeof(o.src);
                ssize_t n = recvfrom(c->udp_fd, s->buf, sizeof(s->buf), 0, (struct sockaddr *)&o.src, &slen);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return;
                if (o.src.sin_family != AF_INET)
                        continue;
                handle_query(s, &o, s->buf, (size_t)n);
        }
}

/* ---- TCP connections ---- */

static void conn_kill(struct dns_server *s, struct conn *conn)
{
        struct conn **pp;

        if (conn->dead)
                return;
        conn->dead = true;
        for (struct fwd *f = s->fwds, *next; f; f = next) {
                next = f->next;
                if (f->conn == conn)
                        fwd_kill(s, f);
        }
        close_watched(s, &conn->fd);
        for (pp = &conn->c->conns; *pp != conn; pp = &(*pp)->next)
                ;
        *pp = conn->next;
        conn->c->n_conns--;
        conn->next = s->dead_conns;
        s->dead_conns = conn;
}

static void listen_readable(struct dns_server *s, struct client *c)
{
        int fd = accept4(c->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *conn;

        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
                berth_debug("dns: accept for container %s: %s", c->id, strerror(errno));
                watch_fd(s, EPOLL_CTL_MOD, c->tcp_fd, 0, &c->listen_w);
                c->listen_resume = now_ms() + ACCEPT_PAUSE_MS;
                return;
        }
        if (fd < 0)
                return;
        if (c->n_conns >= MAX_TCP_PER_CLIENT) {
                close(fd);
                return;
        }
        conn = xcalloc(1, sizeof(*conn));
        *conn = (struct conn){ .w.kind = WATCH_CONN, .c = c, .fd = fd,
                               .idle_deadline = now_ms() + TCP_IDLE_MS };
        if (watch_fd(s, EPOLL_CTL_ADD, fd, EPOLLIN, &conn->w) < 0) {
                close(fd);
                free(conn);
                return;
        }
        conn->next = c->conns;
        c->conns = conn;
        c->n_conns++;
}

/* Read on: 1 when a whole message is in, 0 for more later, -1 when the
 * connection is over. */
static int conn_read(struct conn *conn)
{
        for (;;) {
                bool head = conn->in == NULL;
                uint8_t *p = head ? conn->len_buf : conn->in;
                size_t need = head ? 2 : conn->in_len;
                ssize_t n = recv(conn->fd, p + conn->have, need - conn->have, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0;
                if (n <= 0)
                        return -1;
                conn->have += (size_t)n;
                if (conn->have < need)
                        continue;
                conn->have = 0;
                if (!head)
                        return 1;
                conn->in_len = (size_t)conn->len_buf[0] << 8 | conn->len_buf[1];
                if (conn->in_len < DNS_HEADER_SIZE)
                        return -1;
                conn->in = xmalloc(conn->in_len);
        }
}

static void conn_readable(struct dns_server *s, struct conn *conn)
{
        for (int i = 0; i < BURST && !conn->dead; i++) {
                _cleanup_free_ uint8_t *msg = NULL;
                struct origin o = { .c = conn->c, .conn = conn };
                int r = conn_read(conn);
                if (r < 0)
                        conn_kill(s, conn);
                if (r <= 0)
                        return;
                msg = steal_pointer(&conn->in);
                conn->idle_deadline = now_ms() + TCP_IDLE_MS;
                handle_query(s, &o, msg, conn->in_len);
        }
}

static void conn_event(struct dns_server *s, struct conn *conn, uint32_t events)
{
        if (events & EPOLLOUT)
                conn_flush(s, conn);
        if (!conn->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                conn_readable(s, conn);
}

/* ---- the thread ---- */

static void dispatch(struct dns_server *s, struct watch *w, uint32_t events)
{
        struct client *c;
        uint64_t v;

        switch (w->kind) {
        case WATCH_WAKE:
                if (read(s->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                        berth_debug("dns: wake: %s", strerror(errno));
                break;
        case WATCH_UDP:
                c = container_of(w, struct client, udp_w);
                if (!c->dead)
                        udp_readable(s, c);
                break;
        case WATCH_LISTEN:
                c = container_of(w, struct client, listen_w);
                if (!c->dead)
                        listen_readable(s, c);
                break;
        case WATCH_CONN:
                if (!container_of(w, struct conn, w)->dead)
                        conn_event(s, container_of(w, struct conn, w), events);
                break;
        case WATCH_FWD:
                if (!container_of(w, struct fwd, w)->dead)
                        fwd_event(s, container_of(w, struct fwd, w));
                break;
        }
}

static struct fwd *fwd_expired(struct dns_server *s, int64_t now)
{
        for (struct fwd *f = s->fwds; f; f = f->next)
                if (f->deadline <= now)
                        return f;
        return NULL;
}

/* Idle connections go, unless a query of theirs is still upstream. */
static struct conn *conn_expired(struct dns_server *s, int64_t now)
{
        for (struct client *c = s->clients; c; c = c->next)
                for (struct conn *conn = c->conns; conn; conn = conn->next)
                        if (conn->n_fwds == 0 && conn->idle_deadline <= now)
                                return conn;
        return NULL;
}

/* Deadlines that passed (searched anew after each: handling one can end
 * others); returns the milliseconds to the next one, -1 for none. */
static int run_timers(struct dns_server *s)
{
        int64_t now = now_ms(), next = INT64_MAX;
        struct fwd *f;
        struct conn *conn;

        while ((f = fwd_expired(s, now)))
                fwd_next(s, f);
        while ((conn = conn_expired(s, now)))
                conn_kill(s, conn);
        for (f = s->fwds; f; f = f->next)
                next = f->deadline < next ? f->deadline : next;
        for (struct client *c = s->clients; c; c = c->next) {
                if (c->listen_resume && c->listen_resume <= now) {
                        c->listen_resume = 0;
                        watch_fd(s, EPOLL_CTL_MOD, c->tcp_fd, EPOLLIN, &c->listen_w);
                }
                if (c->listen_resume)
                        next = c->listen_resume < next ? c->listen_resume : next;
                for (conn = c->conns; conn; conn = conn->next)
                        if (conn->n_fwds == 0)
                                next = conn->idle_deadline < next ? conn->idle_deadline : next;
        }
        if (next == INT64_MAX)
                return -1;
        return next <= now ? 0 : (int)MIN(next - now, 60000);
}

static void client_free(struct client *c)
{
        for (size_t i = 0; i < c->n_networks; i++)
                free(c->networks[i]);
        free(c->networks);
        free(c->id);
        free(c);
}

static void reap(struct dns_server *s)
{
        while (s->dead_fwds) {
                struct fwd *f = s->dead_fwds;
                s->dead_fwds = f->next;
                free(f->query);
                free(f->buf);
                free(f);
        }
        while (s->dead_conns) {
                struct conn *conn = s->dead_conns;
                s->dead_conns = conn->next;
                free(conn->in);
                free(conn->out);
                free(conn);
        }
        while (s->dead_clients) {
                struct client *c = s->dead_clients;
                s->dead_clients = c->next;
                client_free(c);
        }
}

static void *server_main(void *arg)
{
        struct dns_server *s = arg;
        struct epoll_event ev[MAX_EVENTS];
        int timeout = -1;

        for (;;) {
                int n = epoll_wait(s->epfd, ev, MAX_EVENTS, timeout);
                if (n < 0 && errno != EINTR) {
                        berth_log(BERTH_LOG_ERROR, "dns: epoll_wait: %s", strerror(errno));
                        break;
                }
                pthread_mutex_lock(&s->lock);
                if (s->stop) {
                        pthread_mutex_unlock(&s->lock);
                        break;
                }
                for (int i = 0; i < n; i++)
                        dispatch(s, ev[i].data.ptr, ev[i].events);
                timeout = run_timers(s);
                reap(s);
                pthread_mutex_unlock(&s->lock);
        }
        return NULL;
}

/* ---- clients ---- */

static struct client *client_find(struct dns_server *s, const char *id)
{
        for (struct client *c = s->clients; c; c = c->next)
                if (strcmp(c->id, id) == 0)
                        return c;
        return NULL;
}

static void client_kill(struct dns_server *s, struct client *c)
{
        struct client **pp;

        c->dead = true;
        for (struct fwd *f = s->fwds, *next; f; f = next) {
                next = f->next;
                if (f->c == c)
                        fwd_kill(s, f);
        }
        while (c->conns)
                conn_kill(s, c->conns);
        close_watched(s, &c->udp_fd);
        close_watched(s, &c->tcp_fd);
        for (pp = &s->clients; *pp != c; pp = &(*pp)->next)
                ;
        *pp = c->next;
        c->next = s->dead_clients;
        s->dead_clients = c;
}

static void client_configure(struct client *c, const struct dns_client *dc, const struct upstream *ups,
                             size_t n_ups)
{
        for (size_t i = 0; i < c->n_networks; i++)
                free(c->networks[i]);
        free(c->networks);
        c->networks = xcalloc(dc->n_networks ? dc->n_networks : 1, sizeof(char *));
        for (size_t i = 0; i < dc->n_networks; i++)
                c->networks[i] = xstrdup(dc->networks[i]);
        c->n_networks = dc->n_networks;
        memcpy(c->ups, ups, n_ups * sizeof(*ups));
        c->n_ups = n_ups;
}

static int resolver_sockets(int *udp, int *tcp, berth_error_t **err)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53),
                                 .sin_addr.s_addr = htonl(RESOLVER_ADDR) };
        _cleanup_close_ int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        _cleanup_close_ int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;

        if (u < 0 || t < 0)
                return berth_error(err, errno, "socket");
        if (bind(u, (struct sockaddr *)&a, sizeof(a)) < 0)
                return berth_error(err, errno, "bind UDP 127.0.0.11:53");
        /* Connections of a detached resolver may linger in TIME_WAIT. */
        if (setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return berth_error(err, errno, "SO_REUSEADDR");
        if (bind(t, (struct sockaddr *)&a, sizeof(a)) < 0)
                return berth_error(err, errno, "bind TCP 127.0.0.11:53");
        if (listen(t, 64) < 0)
                return berth_error(err, errno, "listen on 127.0.0.11:53");
        *udp = steal_fd(&u);
        *tcp = steal_fd(&t);
        return 0;
}

/* The sockets are made in the container's namespace, where they stay;
 * only this thread goes there, and it always comes back (the daemon's
 * other threads go on in the host's namespace meanwhile). */
static int sockets_in_netns(const char *netns_path, int *udp, int *tcp, berth_error_t **err)
{
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int target = open(netns_path, O_RDONLY | O_CLOEXEC);
        int r;

        if (self < 0)
                return berth_error(err, errno, "open /proc/thread-self/ns/net");
        if (target < 0)
                return berth_error(err, errno, "open %s", netns_path);
        if (setns(target, CLONE_NEWNET) < 0)
                return berth_error(err, errno, "setns %s", netns_path);
        r = resolver_sockets(udp, tcp, err);
        if (setns(self, CLONE_NEWNET) < 0) {
                /* Going on would open every later socket of this thread in
                 * the container's namespace. */
                berth_log(BERTH_LOG_ERROR, "dns: cannot return to the daemon's network namespace: %s",
                          strerror(errno));
                abort();
        }
        return r;
}

static struct client *client_new(const struct dns_client *dc, int udp, int tcp)
{
        struct client *c = xcalloc(1, sizeof(*c));

        c->udp_w.kind = WATCH_UDP;
        c->listen_w.kind = WATCH_LISTEN;
        c->id = xstrdup(dc->id);
        c->udp_fd = udp;
        c->tcp_fd = tcp;
        return c;
}

static int client_add(struct dns_server *s, const struct dns_client *dc, const struct upstream *ups,
                      size_t n_ups, berth_error_t **err)
{
        int udp = -1, tcp = -1;
        struct client *c;

        if (sockets_in_netns(dc->netns_path, &udp, &tcp, err) < 0)
                return berth_error_wrap(err, "DNS resolver in %s", dc->netns_path);
        c = client_new(dc, udp, tcp);
        client_configure(c, dc, ups, n_ups);
        pthread_mutex_lock(&s->lock);
        if (watch_fd(s, EPOLL_CTL_ADD, udp, EPOLLIN, &c->udp_w) < 0 ||
            watch_fd(s, EPOLL_CTL_ADD, tcp, EPOLLIN, &c->listen_w) < 0) {
                int e = errno;
                close_watched(s, &c->udp_fd);
                close_watched(s, &c->tcp_fd);
                pthread_mutex_unlock(&s->lock);
                client_free(c);
                return berth_error(err, e, "epoll_ctl");
        }
        c->next = s->clients;
        s->clients = c;
        wake(s);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

static int attach_locked(struct dns_server *s, const struct dns_client *dc, const struct upstream *ups,
                         size_t n_ups, berth_error_t **err)
{
        struct client *c;

        pthread_mutex_lock(&s->lock);
        c = client_find(s, dc->id);
        if (c) {
                client_configure(c, dc, ups, n_ups);
                pthread_mutex_unlock(&s->lock);
                return 0;
        }
        pthread_mutex_unlock(&s->lock);
        /* Without the lock: the server thread goes on meanwhile. */
        return client_add(s, dc, ups, n_ups, err);
}

int dns_client_attach(struct dns_server *s, const struct dns_client *dc, berth_error_t **err)
{
        struct upstream ups[MAX_UPSTREAMS];
        size_t n_ups;
        int r;

        if (parse_upstreams(dc->upstreams, dc->n_upstreams, ups, &n_ups, err) < 0)
                return berth_error_wrap(err, "container %s", dc->id);
        pthread_mutex_lock(&s->attach_lock);
        r = attach_locked(s, dc, ups, n_ups, err);
        pthread_mutex_unlock(&s->attach_lock);
        return r;
}

void dns_client_detach(struct dns_server *s, const char *id)
{
        struct client *c;

        pthread_mutex_lock(&s->lock);
        c = client_find(s, id);
        if (c) {
                client_kill(s, c);
                wake(s);
        }
        pthread_mutex_unlock(&s->lock);
}

/* ---- the server ---- */

static int server_start(struct dns_server *s, berth_error_t **err)
{
        sigset_t all, old;
        int r;

        s->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (s->epfd < 0)
                return berth_error(err, errno, "epoll_create1");
        s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s->wakefd < 0)
                return berth_error(err, errno, "eventfd");
        s->wake_w.kind = WATCH_WAKE;
        if (watch_fd(s, EPOLL_CTL_ADD, s->wakefd, EPOLLIN, &s->wake_w) < 0)
                return berth_error(err, errno, "epoll_ctl");
        /* Signals are for the daemon's own threads to take. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = pthread_create(&s->thread, NULL, server_main, s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                return berth_error(err, r, "DNS server thread");
        s->started = true;
        return 0;
}

int dns_server_new(struct dns_server **out, berth_error_t **err)
{
        struct dns_server *s = xcalloc(1, sizeof(*s));

        pthread_mutex_init(&s->lock, NULL);
        pthread_mutex_init(&s->attach_lock, NULL);
        s->epfd = s->wakefd = -1;
        if (server_start(s, err) < 0) {
                dns_server_free(s);
                return -1;
        }
        *out = s;
        return 0;
}

void dns_server_free(struct dns_server *s)
{
        if (s == NULL)
                return;
        if (s->started) {
                pthread_mutex_lock(&s->lock);
                s->stop = true;
                wake(s);
                pthread_mutex_unlock(&s->lock);
                pthread_join(s->thread, NULL);
        }
        while (s->clients)
                client_kill(s, s->clients);
        reap(s);
        for (size_t i = 0; i < s->n_recs; i++) {
                free(s->recs[i].network);
                free(s->recs[i].owner);
                free(s->recs[i].name);
        }
        free(s->recs);
        for (size_t i = 0; i < s->n_zones; i++) {
                free(s->zones[i].network);
                free(s->zones[i].dot_name);
        }
        if (s->wakefd >= 0)
                close(s->wakefd);
        if (s->epfd >= 0)
                close(s->epfd);
        pthread_mutex_destroy(&s->lock);
        pthread_mutex_destroy(&s->attach_lock);
        free(s);
}
