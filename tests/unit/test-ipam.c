/* IPv4 address management (src/net/ipam.c): parsing, subnets from pools
 * around what is taken, addresses handed out once, rotating. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "net/ipam.h"
#include "util/util.h"

static struct ipam_prefix P(const char *s)
{
        struct ipam_prefix p;
        assert_int_equal(ipam_prefix_parse(s, false, &p, NULL), 0);
        return p;
}

static uint32_t A(const char *s)
{
        uint32_t a;
        assert_int_equal(ipam_addr_parse(s, &a, NULL), 0);
        return a;
}

static void parse(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct ipam_prefix p;

        p = P("172.18.0.0/16");
        assert_int_equal(p.addr, 0xac120000);
        assert_int_equal(p.len, 16);
        _cleanup_free_ char *s = ipam_prefix_format(&p);
        assert_string_equal(s, "172.18.0.0/16");
        assert_true(ipam_prefix_parse("172.18.0.1/16", false, &p, &err) < 0);
        assert_non_null(strstr(err->msg, "host bits are set (the network is 172.18.0.0/16)"));
        assert_int_equal(ipam_prefix_parse("172.17.0.1/16", true, &p, NULL), 0);
        assert_int_equal(p.addr, 0xac110001);
        const char *bad[] = { "10.0.0.0/33", "10.0.0.0", "10.0.0/8", "10.0.0.0/", "/8", "10.0.0.0/8x", "x/8",
                              "300.0.0.0/8", "" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_true(ipam_prefix_parse(bad[i], false, &p, NULL) < 0);
        assert_true(ipam_prefix_parse(NULL, false, &p, NULL) < 0);
}

static void overlaps(void **state)
{
        (void)state;
        struct ipam_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8");

        assert_true(ipam_overlaps(&a, &b));
        assert_true(ipam_overlaps(&b, &a));
        assert_false(ipam_overlaps(&a, &c));
        assert_true(ipam_contains(&b, A("10.1.255.255")));
        assert_false(ipam_contains(&b, A("10.2.0.0")));
}

static void subnet_pick(void **state)
{
        (void)state;
        struct ipam_pool pools[] = { { P("172.17.0.0/16"), 24 }, { P("192.168.0.0/16"), 20 } };
        struct ipam_prefix used[] = { P("172.17.0.0/24"), P("172.17.1.0/25"), P("172.17.3.0/24") };
        struct ipam_prefix out;
        _cleanup_error_ berth_error_t *err = NULL;

        assert_int_equal(ipam_subnet_pick(pools, 2, used, 3, &out, NULL), 0);
        _cleanup_free_ char *s = ipam_prefix_format(&out);
        assert_string_equal(s, "172.17.2.0/24");
        /* a route over the whole first pool: the second one */
        struct ipam_prefix wide[] = { P("172.16.0.0/12") };
        assert_int_equal(ipam_subnet_pick(pools, 2, wide, 1, &out, NULL), 0);
        _cleanup_free_ char *s2 = ipam_prefix_format(&out);
        assert_string_equal(s2, "192.168.0.0/20");
        struct ipam_prefix all[] = { P("0.0.0.0/1"), P("128.0.0.0/1") };
        assert_true(ipam_subnet_pick(pools, 2, all, 2, &out, &err) < 0);
        assert_int_equal(err->status, ENOSPC);
        assert_non_null(strstr(err->msg, "could not find an available, non-overlapping IPv4 address pool"));
}

static void space_alloc_take_release(void **state)
{
        (void)state;
        struct ipam_prefix net = P("10.5.0.0/29");
        struct ipam_space s;
        _cleanup_error_ berth_error_t *err = NULL;
        uint32_t a;

        ipam_space_init(&s, &net, NULL, A("10.5.0.1"));
        /* .0 network, .1 gateway, .7 broadcast: .2 to .6 */
        for (unsigned i = 2; i <= 6; i++) {
                assert_int_equal(ipam_space_alloc(&s, &a, NULL), 0);
                assert_int_equal(a, A("10.5.0.0") + i);
        }
        assert_true(ipam_space_alloc(&s, &a, &err) < 0);
        assert_int_equal(err->status, ENOSPC);
        berth_error_free(&err);
        /* released addresses come back, after the rotation */
        ipam_space_release(&s, A("10.5.0.4"));
        assert_false(ipam_space_in_use(&s, A("10.5.0.4")));
        assert_int_equal(ipam_space_alloc(&s, &a, NULL), 0);
        assert_int_equal(a, A("10.5.0.4"));
        ipam_space_release(&s, A("10.5.0.3"));
        assert_true(ipam_space_take(&s, A("10.5.0.4"), &err) < 0);
        assert_int_equal(err->status, EEXIST);
        assert_string_equal(err->msg, "Address already in use: 10.5.0.4");
        berth_error_free(&err);
        assert_true(ipam_space_take(&s, A("10.5.0.1"), &err) < 0);
        assert_non_null(strstr(err->msg, "gateway"));
        berth_error_free(&err);
        assert_true(ipam_space_take(&s, A("10.5.0.7"), &err) < 0);
        assert_non_null(strstr(err->msg, "broadcast"));
        berth_error_free(&err);
        assert_true(ipam_space_take(&s, A("10.6.0.2"), &err) < 0);
        assert_non_null(strstr(err->msg, "no configured subnet contains IP address 10.6.0.2"));
        assert_int_equal(ipam_space_take(&s, A("10.5.0.3"), NULL), 0);
        ipam_space_clear(&s);
}

static void space_range(void **state)
{
        (void)state;
        struct ipam_prefix net = P("10.6.0.0/16"), range = P("10.6.5.0/30");
        struct ipam_space s;
        uint32_t a;

        ipam_space_init(&s, &net, &range, A("10.6.0.1"));
        /* the range's own first and last addresses are the subnet's hosts */
        for (unsigned i = 0; i < 4; i++) {
                assert_int_equal(ipam_space_alloc(&s, &a, NULL), 0);
                assert_int_equal(a, A("10.6.5.0") + i);
        }
        assert_true(ipam_space_alloc(&s, &a, NULL) < 0);
        /* --ip may be anywhere in the subnet */
        assert_int_equal(ipam_space_take(&s, A("10.6.200.9"), NULL), 0);
        ipam_space_clear(&s);
}

static void space_many(void **state)
{
        (void)state;
        struct ipam_prefix net = P("10.7.0.0/16");
        struct ipam_space s;
        uint32_t a, prev = 0;

        ipam_space_init(&s, &net, NULL, A("10.7.0.1"));
        for (unsigned i = 0; i < 65533; i++) {
                assert_int_equal(ipam_space_alloc(&s, &a, NULL), 0);
                assert_true(a > prev);
                prev = a;
        }
        assert_int_equal(s.n_used, 65533);
        assert_true(ipam_space_alloc(&s, &a, NULL) < 0);
        ipam_space_clear(&s);
}

static void host_routes(void **state)
{
        (void)state;
        struct ipam_route *r = NULL;
        size_t n = 0;

        assert_int_equal(ipam_host_routes(&r, &n, NULL), 0);
        for (size_t i = 0; i < n; i++) {
                assert_true(r[i].prefix.len > 0 && r[i].prefix.len <= 32);
                assert_int_equal(r[i].prefix.addr & ~ipam_mask(r[i].prefix.len), 0);
                assert_true(r[i].ifname[0] != '\0');
        }
        free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parse),
                cmocka_unit_test(overlaps),
                cmocka_unit_test(subnet_pick),
                cmocka_unit_test(space_alloc_take_release),
                cmocka_unit_test(space_range),
                cmocka_unit_test(space_many),
                cmocka_unit_test(host_routes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
