/* The embedded DNS server (Docker's 127.0.0.11): each container on a
 * user-defined network gets a resolver socket (UDP and TCP) bound to
 * 127.0.0.11:53 inside its own network namespace.  A query is answered
 * from the names on the networks of the container that asked (container
 * names, aliases, short ids); other names go to the container's own
 * upstreams (--dns) or the daemon's, forwarded from the host's namespace.
 * One thread serves every socket. */
#pragma once
#include "util/error.h"
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct dns_server;

int dns_server_new(struct dns_server **out, berth_error_t **err);
/* Stops the thread and closes every socket. */
void dns_server_free(struct dns_server *s);

/* Upstreams for names no network knows: "IP" or "IP:port" ("[v6]:port"),
 * tried in order, 2 s each.  The daemon's defaults come from daemon.json
 * "dns" or the host's /etc/resolv.conf. */
int dns_server_set_upstreams(struct dns_server *s, const char *const *servers, size_t n, berth_error_t **err);

/* A container's resolver: sockets on 127.0.0.11:53 made in the namespace
 * at netns_path.  networks: the network ids whose names it sees;
 * upstreams: its --dns (n_upstreams 0: the daemon's).  Attaching a
 * client already attached replaces its networks and upstreams and keeps
 * its sockets. */
struct dns_client {
        const char *id;                 /* the container's id */
        const char *netns_path;
        const char *const *networks;
        size_t n_networks;
        const char *const *upstreams;
        size_t n_upstreams;
};
int dns_client_attach(struct dns_server *s, const struct dns_client *c, berth_error_t **err);
void dns_client_detach(struct dns_server *s, const char *id);

/* Names on a network, owned by a container: A (and AAAA with ip6) and the
 * matching PTR.  One name may belong to several owners: all addresses are
 * answered. */
void dns_record_add(struct dns_server *s, const char *network, const char *owner, const char *name,
                    const struct in_addr *ip4, const struct in6_addr *ip6);
/* Every name of owner on network (network NULL: on every network). */
void dns_records_remove(struct dns_server *s, const char *network, const char *owner);

/* Names in zone ("cluster.local"), asked by a client on network, are
 * answered here only: one with no record gets NXDOMAIN at once instead of
 * going upstream, and answers carry a 5 s TTL, as their records follow
 * pods.  One zone a network; zone NULL removes it. */
void dns_zone_set(struct dns_server *s, const char *network, const char *zone);
