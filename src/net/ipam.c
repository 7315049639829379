/* IPv4 address management (ipam.h).  Addresses are kept in host byte
 * order so that ranges are plain integer arithmetic. */
#include "net/ipam.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <stdio.h>

uint32_t ipam_mask(unsigned len)
{
        return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

bool ipam_contains(const struct ipam_prefix *net, uint32_t addr)
{
        return (addr & ipam_mask(net->len)) == net->addr;
}

bool ipam_overlaps(const struct ipam_prefix *a, const struct ipam_prefix *b)
{
        unsigned len = MIN(a->len, b->len);

        return (a->addr & ipam_mask(len)) == (b->addr & ipam_mask(len));
}

struct in_addr ipam_in_addr(uint32_t addr)
{
        return (struct in_addr){ .s_addr = htonl(addr) };
}

int ipam_addr_parse(const char *s, uint32_t *addr, berth_error_t **err)
{
        struct in_addr a;

        if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
                return berth_fail(err, EINVAL, "invalid IPv4 address: %s", s ? s : "(none)");
        *addr = ntohl(a.s_addr);
        return 0;
}

int ipam_prefix_parse(const char *s, bool allow_host_bits, struct ipam_prefix *p, berth_error_t **err)
{
        const char *slash = s ? strchr(s, '/') : NULL;
        char *end;

        if (slash == NULL || slash - s >= 16 || slash[1] < '0' || slash[1] > '9')
                return berth_fail(err, EINVAL, "invalid CIDR address: %s", s ? s : "(none)");
        char host[16];
        memcpy(host, s, (size_t)(slash - s));
        host[slash - s] = '\0';
        unsigned long len = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || len > 32 || ipam_addr_parse(host, &p->addr, NULL) < 0)
                return berth_fail(err, EINVAL, "invalid CIDR address: %s", s);
        p->len = (unsigned)len;
        if (!allow_host_bits && (p->addr & ~ipam_mask(p->len)) != 0) {
                _cleanup_free_ char *net = ipam_addr_format(p->addr & ipam_mask(p->len));
                return berth_fail(err, EINVAL, "invalid CIDR address: %s: host bits are set (the network is %s/%u)",
                                  s, net, p->len);
        }
        return 0;
}

char *ipam_addr_format(uint32_t addr)
{
        return xasprintf("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
}

char *ipam_prefix_format(const struct ipam_prefix *p)
{
        _cleanup_free_ char *a = ipam_addr_format(p->addr);

        return xasprintf("%s/%u", a, p->len);
}

static bool overlaps_any(const struct ipam_prefix *p, const struct ipam_prefix *used, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (ipam_overlaps(p, &used[i]))
                        return true;
        return false;
}

int ipam_subnet_pick(const struct ipam_pool *pools, size_t n_pools, const struct ipam_prefix *used, size_t n_used,
                     struct ipam_prefix *out, berth_error_t **err)
{
        for (size_t i = 0; i < n_pools; i++) {
                const struct ipam_pool *pool = &pools[i];
                if (pool->size < pool->base.len || pool->size > 30)
                        continue;
                uint64_t count = 1ull << (pool->size - pool->base.len);
                uint64_t step = 1ull << (32 - pool->size);
                for (uint64_t k = 0; k < count; k++) {
                        struct ipam_prefix p = { .addr = (uint32_t)(pool->base.addr + k * step), .len = pool->size };
                        if (!overlaps_any(&p, used, n_used)) {
                                *out = p;
                                return 0;
                        }
                }
        }
        return berth_fail(err, ENOSPC, "could not find an available, non-overlapping IPv4 address pool among the "
                                       "defaults to assign to the network");
}

int ipam_host_routes(struct ipam_route **out, size_t *n, berth_error_t **err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
        char line[256];

        *out = NULL;
        *n = 0;
        if (f == NULL)
                return berth_error(err, errno, "open /proc/net/route");
        while (fgets(line, sizeof(line), f)) {
                char ifname[16];
                unsigned dest, gw, flags, refcnt, use, metric, mask;
                if (sscanf(line, "%15s %x %x %x %u %u %u %x", ifname, &dest, &gw, &flags, &refcnt, &use, &metric,
                           &mask) != 8 || mask == 0)
                        continue;
                /* /proc/net/route prints the kernel's network-order words */
                struct ipam_route r = { .prefix = { .addr = ntohl(dest), .len = (unsigned)__builtin_popcount(mask) } };
                snprintf(r.ifname, sizeof(r.ifname), "%s", ifname);
                *out = xrealloc(*out, (*n + 1) * sizeof(**out));
                (*out)[(*n)++] = r;
        }
        return 0;
}

/* ---- one subnet's leases ------------------------------------------------ */

void ipam_space_init(struct ipam_space *s, const struct ipam_prefix *subnet, const struct ipam_prefix *range,
                     uint32_t gateway)
{
        *s = (struct ipam_space){ .subnet = *subnet, .range = range ? *range : *subnet, .gateway = gateway };
        s->next = s->range.addr;
}

void ipam_space_clear(struct ipam_space *s)
{
        free(s->used);
        s->used = NULL;
        s->n_used = s->cap = 0;
}

/* Index of the first address >= addr. */
static size_t lower_bound(const struct ipam_space *s, uint32_t addr)
{
        size_t lo = 0, hi = s->n_used;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (s->used[mid] < addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

bool ipam_space_in_use(const struct ipam_space *s, uint32_t addr)
{
        size_t i = lower_bound(s, addr);

        return i < s->n_used && s->used[i] == addr;
}

static void insert(struct ipam_space *s, uint32_t addr)
{
        size_t i = lower_bound(s, addr);

        if (s->n_used == s->cap) {
                s->cap = s->cap ? 2 * s->cap : 16;
                s->used = xrealloc(s->used, s->cap * sizeof(*s->used));
        }
        memmove(&s->used[i + 1], &s->used[i], (s->n_used - i) * sizeof(*s->used));
        s->used[i] = addr;
        s->n_used++;
}

/* Network and broadcast addresses, and the gateway, are never handed out
 * (a /31 or /32 has neither network nor broadcast address). */
static bool reserved(const struct ipam_space *s, uint32_t addr)
{
        uint32_t net = s->subnet.addr, bcast = net | ~ipam_mask(s->subnet.len);

        if (addr == s->gateway)
                return true;
        return s->subnet.len < 31 && (addr == net || addr == bcast);
}

int ipam_space_take(struct ipam_space *s, uint32_t addr, berth_error_t **err)
{
        _cleanup_free_ char *a = ipam_addr_format(addr);

        if (!ipam_contains(&s->subnet, addr)) {
                _cleanup_free_ char *net = ipam_prefix_format(&s->subnet);
                return berth_fail(err, EINVAL, "no configured subnet contains IP address %s (the network's is %s)", a,
                                  net);
        }
        if (reserved(s, addr))
                return berth_fail(err, EINVAL, "invalid address %s: it is the network's %s address", a,
                                  addr == s->gateway ? "gateway" : addr == s->subnet.addr ? "network" : "broadcast");
        if (ipam_space_in_use(s, addr))
                return berth_fail(err, EEXIST, "Address already in use: %s", a);
        insert(s, addr);
        return 0;
}

int ipam_space_alloc(struct ipam_space *s, uint32_t *addr, berth_error_t **err)
{
        uint32_t first = s->range.addr, last = first | ~ipam_mask(s->range.len);
        uint64_t size = (uint64_t)last - first + 1;
        uint32_t a = s->next < first || s->next > last ? first : s->next;

        for (uint64_t tried = 0; tried < size; tried++) {
                if (!reserved(s, a) && ipam_contains(&s->subnet, a) && !ipam_space_in_use(s, a)) {
                        insert(s, a);
                        *addr = a;
                        s->next = a == last ? first : a + 1;
                        return 0;
                }
                a = a == last ? first : a + 1;
        }
        _cleanup_free_ char *net = ipam_prefix_format(&s->range);
        return berth_fail(err, ENOSPC, "no available IPv4 addresses on this network's address pools (%s)", net);
}

void ipam_space_release(struct ipam_space *s, uint32_t addr)
{
        size_t i = lower_bound(s, addr);

        if (i < s->n_used && s->used[i] == addr) {
                memmove(&s->used[i], &s->used[i + 1], (s->n_used - i - 1) * sizeof(*s->used));
                s->n_used--;
        }
}
