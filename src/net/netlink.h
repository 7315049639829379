/* Links, addresses and routes through rtnetlink (libmnl), never by
 * running `ip`; and network namespaces bound at a path, as `ip netns add`
 * binds them.  Every call is synchronous and thread-safe (each opens its
 * own netlink socket); a call that fails leaves nothing it made behind. */
#pragma once
#include "util/error.h"
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* A new network namespace, bind-mounted on `path` (the file is created),
 * with lo up.  The calling thread's namespace is unchanged afterwards. */
int netns_create(const char *path, berth_error_t **err);
/* Unmount and unlink; a path that does not exist is not an error. */
int netns_remove(const char *path, berth_error_t **err);

struct nl_bridge {
        const char *name;               /* "berth0", "br-<12 hex>" (at most 15 chars) */
        unsigned mtu;                   /* 0: the kernel's default */
        struct in_addr gw4;             /* the gateway address, set on the bridge */
        unsigned prefix4;               /* its subnet's prefix length */
        bool has_v6;
        struct in6_addr gw6;
        unsigned prefix6;
};
/* Create the bridge unless a link of that name exists (then it is
 * adopted: addresses added when missing), up, with route_localnet=1 (so
 * DNAT of 127.0.0.1 to a container works) and, with has_v6, IPv6 on. */
int nl_bridge_ensure(const struct nl_bridge *b, berth_error_t **err);
/* Delete a link by name; no such link is not an error. */
int nl_link_remove(const char *name, berth_error_t **err);
bool nl_link_exists(const char *name);
/* The host's links whose names start with prefix (cleanup after a crash);
 * *names is a NULL-terminated array (free it with cleanup_strvp). */
int nl_links_with_prefix(const char *prefix, char ***names, berth_error_t **err);

struct nl_endpoint {
        const char *bridge;             /* the host side is enslaved to it */
        const char *host_ifname;        /* host side, "veth" + hex, at most 15 chars */
        const char *netns_path;         /* the other side goes into this namespace */
        const char *ifname;             /* and is named this there: "eth0", "eth1"... */
        unsigned mtu;                   /* 0: the bridge's */
        unsigned char mac[6];
        struct in_addr ip4;
        unsigned prefix4;
        struct in_addr gw4;             /* INADDR_ANY: no default route */
        bool has_v6;
        struct in6_addr ip6;
        unsigned prefix6;
        struct in6_addr gw6;            /* :: : no default route */
};
/* A veth pair: host side on the bridge (hairpin on) and up; the peer in
 * the namespace, renamed, addressed, up, with the default route(s). */
int nl_endpoint_add(const struct nl_endpoint *ep, berth_error_t **err);
/* Delete the pair by its host side (the peer goes with it); no such link
 * is not an error. */
int nl_endpoint_remove(const char *host_ifname, berth_error_t **err);

/* A route to dst/prefix through the link dev, with no gateway (scope
 * link, main table), as `ip route replace DST/PREFIX dev DEV` makes it:
 * one that exists for dst/prefix is replaced.  Remove: a route or a
 * link that does not exist is not an error. */
int nl_route_to_link_add(const char *dev, struct in_addr dst, unsigned prefix, berth_error_t **err);
int nl_route_to_link_remove(const char *dev, struct in_addr dst, unsigned prefix, berth_error_t **err);
