/* IPv4 address management: subnets picked from address pools, addresses
 * handed out within a subnet (or its ip-range), never twice.  Pure
 * bookkeeping over what the caller says is in use: the engine keeps the
 * leases (berth.db) and the lock. */
#pragma once
#include "util/error.h"
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A prefix in host byte order: 172.18.0.0/16 is { 0xac120000, 16 }. */
struct ipam_prefix {
        uint32_t addr;
        unsigned len;
};

/* "172.18.0.0/16"; host bits must be zero unless allow_host_bits (bip's
 * "172.17.0.1/16" names the gateway too). */
int ipam_prefix_parse(const char *s, bool allow_host_bits, struct ipam_prefix *p, berth_error_t **err);
int ipam_addr_parse(const char *s, uint32_t *addr, berth_error_t **err);
/* "172.18.0.0/16"; "172.18.0.2" */
char *ipam_prefix_format(const struct ipam_prefix *p);
char *ipam_addr_format(uint32_t addr);
struct in_addr ipam_in_addr(uint32_t addr);

uint32_t ipam_mask(unsigned len);
bool ipam_contains(const struct ipam_prefix *net, uint32_t addr);
bool ipam_overlaps(const struct ipam_prefix *a, const struct ipam_prefix *b);

/* A default-address-pools entry: subnets of `size` bits carved from base. */
struct ipam_pool {
        struct ipam_prefix base;
        unsigned size;
};

/* The first subnet of the pools overlapping none of used (the other
 * networks' subnets and the host's routes).  ENOSPC when all are taken:
 * "could not find an available, non-overlapping IPv4 address pool among
 * the defaults to assign to the network". */
int ipam_subnet_pick(const struct ipam_pool *pools, size_t n_pools, const struct ipam_prefix *used, size_t n_used,
                     struct ipam_prefix *out, berth_error_t **err);

/* The host's IPv4 routes (the destinations of /proc/net/route, default
 * route excepted), for subnets that must not be picked. */
struct ipam_route {
        struct ipam_prefix prefix;
        char ifname[16];
};
int ipam_host_routes(struct ipam_route **out, size_t *n, berth_error_t **err);

/* One subnet's leases: sorted addresses in use. */
struct ipam_space {
        struct ipam_prefix subnet;
        struct ipam_prefix range;       /* where dynamic addresses come from (the subnet by default) */
        uint32_t gateway;
        uint32_t *used;                 /* sorted */
        size_t n_used, cap;
        uint32_t next;                  /* where the next search starts, as Docker's: addresses rotate */
};

void ipam_space_init(struct ipam_space *s, const struct ipam_prefix *subnet, const struct ipam_prefix *range,
                     uint32_t gateway);
void ipam_space_clear(struct ipam_space *s);
bool ipam_space_in_use(const struct ipam_space *s, uint32_t addr);
/* A given address (--ip): in the subnet, not the network, broadcast or
 * gateway address, not in use.  EEXIST: "Address already in use". */
int ipam_space_take(struct ipam_space *s, uint32_t addr, berth_error_t **err);
/* The next free address of the range.  ENOSPC when there is none. */
int ipam_space_alloc(struct ipam_space *s, uint32_t *addr, berth_error_t **err);
void ipam_space_release(struct ipam_space *s, uint32_t addr);
