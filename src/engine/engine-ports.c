/* Published ports: each host port held by a socket bound to it (neither
 * listening nor reading: the traffic is DNATed before any socket sees it),
 * so that a port another program or container has is an error at start,
 * as dockerd's "port is already allocated", and the kernel picks the
 * ports of -P; then the DNAT map elements (src/net/nft.c). */
#include "engine/daemon-config.h"
#include "engine/engine-network.h"
#include "net/nft.h"
#include <netinet/in.h>
#include <sys/socket.h>

struct port_hold {
        char id[CONTAINER_ID_LEN + 1];
        int fd;
};

/* "80/tcp" */
static int port_key(const char *key, uint16_t *port, int *proto, berth_error_t **err)
{
        char *end;
        unsigned long p = strtoul(key, &end, 10);

        *proto = IPPROTO_TCP;
        if (*end == '/') {
                if (strcmp(end + 1, "tcp") == 0)
                        *proto = IPPROTO_TCP;
                else if (strcmp(end + 1, "udp") == 0)
                        *proto = IPPROTO_UDP;
                else if (strcmp(end + 1, "sctp") == 0)
                        *proto = IPPROTO_SCTP;
                else
                        return berth_fail(err, EINVAL, "invalid proto: %s", end + 1);
        } else if (*end != '\0') {
                return berth_fail(err, EINVAL, "invalid port: %s", key);
        }
        if (end == key || p == 0 || p > 65535)
                return berth_fail(err, EINVAL, "invalid port: %s", key);
        *port = (uint16_t)p;
        return 0;
}

static const char *proto_name(int proto)
{
        return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_SCTP ? "sctp" : "tcp";
}

json_t *ports_wanted(struct ctr *c)
{
        json_t *hc = json_object_get(c->body, "HostConfig");
        json_t *bindings = json_object_get(hc, "PortBindings"), *v;
        json_t *out = json_is_object(bindings) ? json_deep_copy(bindings) : json_object();
        const char *key;

        if (json_is_true(json_object_get(hc, "PublishAllPorts")))
                json_object_foreach(json_object_get(c->body, "ExposedPorts"), key, v)
                        if (json_array_size(json_object_get(out, key)) == 0)
                                json_object_set_new(out, key, json_pack("[{s:s, s:s}]", "HostIp", "", "HostPort", ""));
        return out;
}

/* A socket bound to ip:port (port 0: the kernel picks; *port gets it). */
static int reserve(int proto, uint32_t ip, uint16_t *port, int *fd_out)
{
        int type = proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, proto == IPPROTO_SCTP ? IPPROTO_SCTP : 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(*port), .sin_addr = ipam_in_addr(ip) };
        socklen_t len = sizeof(a);

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *port = ntohs(a.sin_port);
        *fd_out = fd;
        return 0;
}

/* HostPort: "", "0", "8080" or a range "8000-8010" (the first free). */
static int host_port_range(const char *s, uint16_t *lo, uint16_t *hi, berth_error_t **err)
{
        char *end;
        unsigned long a = 0, b;

        if (s == NULL || *s == '\0') {
                *lo = *hi = 0;
                return 0;
        }
        a = strtoul(s, &end, 10);
        b = a;
        if (*end == '-')
                b = strtoul(end + 1, &end, 10);
        if (*end != '\0' || a > 65535 || b > 65535 || b < a)
                return berth_fail(err, EINVAL, "invalid host port: %s", s);
        *lo = (uint16_t)a;
        *hi = (uint16_t)b;
        return 0;
}

/* daemon.json "ip": where ports bind when -p names no address */
static const char *default_host_ip(void)
{
        const struct daemon_config *c = daemon_config_current();
        const char *ip = c ? json_string_value(json_object_get(c->given, "ip")) : NULL;
        return ip ? ip : "0.0.0.0";
}

struct publish {
        struct engine *e;
        const char *id;
        uint32_t ctr_ip;
        struct nft_port *ports;
        int *fds;
        size_t n;
        json_t *bound;
};

static int bind_one(struct publish *p, const char *key, json_t *b, berth_error_t **err)
{
        const char *hip = json_string_value(json_object_get(b, "HostIp"));
        uint16_t ctr_port, lo = 0, hi = 0, port;
        uint32_t ip = 0;
        int proto, fd = -1, r = -EADDRINUSE;

        if (hip == NULL || *hip == '\0')
                hip = default_host_ip();
        if (port_key(key, &ctr_port, &proto, err) < 0 ||
            host_port_range(json_string_value(json_object_get(b, "HostPort")), &lo, &hi, err) < 0)
                return -1;
        if (strchr(hip, ':'))
                return 0; /* an IPv6 host address: Berth publishes IPv4 only for now */
        if (ipam_addr_parse(hip, &ip, err) < 0)
                return berth_error_wrap(err, "port %s", key);
        for (uint32_t want = lo; want <= hi && r == -EADDRINUSE; want++) {
                port = (uint16_t)want;
                r = reserve(proto, ip, &port, &fd);
        }
        if (r < 0) {
                if (r == -EADDRINUSE)
                        return berth_fail(err, EADDRINUSE, "driver failed programming external connectivity on "
                                                           "endpoint %.12s: Bind for %s:%s failed: port is already "
                                                           "allocated",
                                          p->id, hip, json_string_value(json_object_get(b, "HostPort")) ?: "");
                return berth_fail(err, -r, "driver failed programming external connectivity on endpoint %.12s: "
                                           "bind %s:%u/%s: %s",
                                  p->id, hip, lo, proto_name(proto), strerror(-r));
        }
        p->ports = xrealloc(p->ports, (p->n + 1) * sizeof(*p->ports));
        p->fds = xrealloc(p->fds, (p->n + 1) * sizeof(*p->fds));
        p->ports[p->n] = (struct nft_port){ .proto = proto, .host_ip = ipam_in_addr(ip), .host_port = port,
                                            .ctr_ip = ipam_in_addr(p->ctr_ip), .ctr_port = ctr_port };
        p->fds[p->n++] = fd;
        json_t *list = json_object_get(p->bound, key);
        if (list == NULL)
                json_object_set_new(p->bound, key, list = json_array());
        _cleanup_free_ char *ps = xasprintf("%u", port);
        json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", hip, "HostPort", ps));
        return 0;
}

static void hold(struct engine *e, const char *id, int *fds, size_t n)
{
        struct netmgr *m = e->net;

        pthread_mutex_lock(&m->lock);
        m->holds = xrealloc(m->holds, (m->n_holds + n) * sizeof(*m->holds));
        for (size_t i = 0; i < n; i++) {
                snprintf(m->holds[m->n_holds].id, sizeof(m->holds[0].id), "%s", id);
                m->holds[m->n_holds++].fd = fds[i];
        }
        pthread_mutex_unlock(&m->lock);
}

int ports_publish(struct engine *e, const char *id, json_t *wanted, uint32_t ctr_ip, json_t **bound,
                  berth_error_t **err)
{
        struct publish p = { .e = e, .id = id, .ctr_ip = ctr_ip, .bound = json_object() };
        const char *key;
        json_t *list, *b;
        size_t i;
        int r = 0;

        json_object_foreach(wanted, key, list) {
                if (json_array_size(list) == 0) {
                        /* exposed, not published: listed, with no binding */
                        continue;
                }
                json_array_foreach(list, i, b)
                        if (r == 0)
                                r = bind_one(&p, key, b, err);
        }
        if (r == 0 && p.n > 0 && ((r = net_nft_ready(e, err)) < 0 || (r = nft_ports_add(p.ports, p.n, err)) < 0))
                berth_error_wrap(err, "publish ports");
        if (r < 0) {
                for (size_t k = 0; k < p.n; k++)
                        close(p.fds[k]);
                json_decref(p.bound);
        } else {
                hold(e, id, p.fds, p.n);
                *bound = p.bound;
        }
        free(p.ports);
        free(p.fds);
        return r;
}

void ports_unpublish(struct engine *e, const char *id, json_t *bound, uint32_t ctr_ip)
{
        struct netmgr *m = e->net;
        _cleanup_free_ struct nft_port *ports = NULL;
        size_t n = 0, i;
        const char *key;
        json_t *list, *b;

        json_object_foreach(bound, key, list) {
                uint16_t ctr_port, port;
                int proto;
                uint32_t ip;
                if (port_key(key, &ctr_port, &proto, NULL) < 0)
                        continue;
                json_array_foreach(list, i, b) {
                        if (ipam_addr_parse(json_string_value(json_object_get(b, "HostIp")), &ip, NULL) < 0)
                                continue;
                        port = (uint16_t)atoi(json_string_value(json_object_get(b, "HostPort")) ?: "0");
                        ports = xrealloc(ports, (n + 1) * sizeof(*ports));
                        ports[n++] = (struct nft_port){ .proto = proto, .host_ip = ipam_in_addr(ip),
                                                        .host_port = port, .ctr_ip = ipam_in_addr(ctr_ip),
                                                        .ctr_port = ctr_port };
                }
        }
        _cleanup_error_ berth_error_t *err = NULL;
        if (n > 0 && m->nft_ready && nft_ports_remove(ports, n, &err) < 0)
                berth_warn("container %.12s: unpublish: %s", id, err->msg);
        /* the sockets last: the port is free once its DNAT is gone */
        pthread_mutex_lock(&m->lock);
        for (size_t k = 0; k < m->n_holds;) {
                if (strcmp(m->holds[k].id, id) == 0) {
                        close(m->holds[k].fd);
                        m->holds[k] = m->holds[--m->n_holds];
                } else {
                        k++;
                }
        }
        pthread_mutex_unlock(&m->lock);
}

void ports_close_all(struct engine *e)
{
        struct netmgr *m = e->net;

        pthread_mutex_lock(&m->lock);
        for (size_t k = 0; k < m->n_holds; k++)
                close(m->holds[k].fd);
        free(m->holds);
        m->holds = NULL;
        m->n_holds = 0;
        pthread_mutex_unlock(&m->lock);
}
