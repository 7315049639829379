/* The port and network flags of `berth run` and `berth create`
 * (src/cli/cli-portspec.c, cli-netopts.c) against what docker CLI 28 does
 * with the same input: -p specs valid and invalid (with docker's error
 * texts), --expose ranges, ps's PORTS column (ranges collapsed, IPv6 in
 * brackets, other mappings last), the natural order of network names,
 * and NetworkingConfig.EndpointsConfig for --network, --ip, --network-alias
 * and the long --network form.  The expected strings were taken from the
 * docker CLI and the bodies it sent to dockerd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cli.h"

static char *dump(json_t *j)
{
        return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

/* Parse the specs; the ExposedPorts and PortBindings they make. */
static void publish(const char *const *specs, char **exposed, char **bindings)
{
        _cleanup_json_ json_t *e = json_object(), *b = json_object();
        _cleanup_error_ berth_error_t *err = NULL;

        for (; *specs; specs++) {
                if (cli_publish_add(e, b, *specs, &err) < 0)
                        fail_msg("%s: %s", *specs, err->msg);
        }
        *exposed = dump(e);
        *bindings = dump(b);
}

static void check_publish(const char *spec, const char *exposed, const char *bindings)
{
        const char *specs[] = { spec, NULL };
        _cleanup_free_ char *e = NULL, *b = NULL;

        publish(specs, &e, &b);
        assert_string_equal(e, exposed);
        assert_string_equal(b, bindings);
}

static void test_publish_valid(void **state)
{
        (void)state;
        check_publish("8080:80", "{\"80/tcp\":{}}", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]}");
        check_publish("127.0.0.1:8080:80", "{\"80/tcp\":{}}",
                      "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"}]}");
        check_publish("127.0.0.1::80", "{\"80/tcp\":{}}", "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}");
        check_publish("80", "{\"80/tcp\":{}}", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
        check_publish(":82", "{\"82/tcp\":{}}", "{\"82/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
        check_publish("53:53/udp", "{\"53/udp\":{}}", "{\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"53\"}]}");
        check_publish("80/tcp", "{\"80/tcp\":{}}", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
        check_publish("84/SCTP", "{\"84/sctp\":{}}", "{\"84/sctp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
        check_publish("80/", "{\"80/tcp\":{}}", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
        check_publish("[::1]:8080:80", "{\"80/tcp\":{}}", "{\"80/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"8080\"}]}");
        check_publish("::1:8081:81", "{\"81/tcp\":{}}", "{\"81/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"8081\"}]}");
        check_publish("08080:080", "{\"80/tcp\":{}}", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]}");
        /* ranges: one binding per port; a host range for one port is the
         * range to pick a port from */
        check_publish("8000-8001:90-91/udp", "{\"90/udp\":{},\"91/udp\":{}}",
                      "{\"90/udp\":[{\"HostIp\":\"\",\"HostPort\":\"8000\"}],"
                      "\"91/udp\":[{\"HostIp\":\"\",\"HostPort\":\"8001\"}]}");
        check_publish("9000-9010:85", "{\"85/tcp\":{}}", "{\"85/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"9000-9010\"}]}");
        check_publish("7000-7001", "{\"7000/tcp\":{},\"7001/tcp\":{}}",
                      "{\"7000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}],"
                      "\"7001/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
        /* the long form */
        check_publish("target=83,published=8083", "{\"83/tcp\":{}}",
                      "{\"83/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8083\"}]}");
        check_publish("target=53,protocol=udp,mode=host", "{\"53/udp\":{}}",
                      "{\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
}

static void test_publish_merges(void **state)
{
        (void)state;
        const char *specs[] = { "127.0.0.1:8080:80", "[::1]:8080:80", "8443:443", NULL };
        _cleanup_free_ char *e = NULL, *b = NULL;

        /* two bindings of one port stay in one list, in order */
        publish(specs, &e, &b);
        assert_string_equal(e, "{\"443/tcp\":{},\"80/tcp\":{}}");
        assert_string_equal(b, "{\"443/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8443\"}],"
                               "\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"},"
                               "{\"HostIp\":\"::1\",\"HostPort\":\"8080\"}]}");
}

static void check_bad(const char *spec, const char *msg)
{
        _cleanup_json_ json_t *e = json_object(), *b = json_object();
        _cleanup_error_ berth_error_t *err = NULL;

        assert_int_equal(cli_publish_add(e, b, spec, &err), -1);
        assert_non_null(err);
        assert_string_equal(err->msg, msg);
        assert_int_equal(json_object_size(e), 0);
}

static void test_publish_invalid(void **state)
{
        (void)state;
        check_bad("80x", "invalid containerPort: 80x");
        check_bad("70000", "invalid containerPort: 70000");
        check_bad("a:80", "invalid hostPort: a");
        check_bad("8000-7000:80", "invalid hostPort: 8000-7000");
        check_bad("1.2.3.4:80:80:90", "invalid IP address: 1.2.3.4:80");
        check_bad("1.2.3:80:80", "invalid IP address: 1.2.3");
        check_bad("8000-8001:80-82", "invalid ranges specified for container and host Ports: 80-82 and 8000-8001");
        check_bad("8080:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8080");
        check_bad("80/xyz", "invalid proto: xyz");
        check_bad("", "no port specified: <empty>");
        check_bad("127.0.0.1::", "no port specified: 127.0.0.1::<empty>");
        check_bad("published=8080", "no port specified: 8080:/tcp<empty>");
        check_bad("target=80,foo", "invalid publish opts format (should be name=value but got 'foo')");
        check_bad("[::1:80:80", "invalid IP address [::1: address [::1:: missing ']' in address");
}

static void check_expose(const char *spec, const char *want)
{
        _cleanup_json_ json_t *e = json_object();
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *s = NULL;

        if (cli_expose_add(e, spec, &err) < 0)
                fail_msg("%s: %s", spec, err->msg);
        s = dump(e);
        assert_string_equal(s, want);
}

static void check_expose_bad(const char *spec, const char *msg)
{
        _cleanup_json_ json_t *e = json_object();
        _cleanup_error_ berth_error_t *err = NULL;

        assert_int_equal(cli_expose_add(e, spec, &err), -1);
        assert_string_equal(err->msg, msg);
}

static void test_expose(void **state)
{
        (void)state;
        check_expose("80", "{\"80/tcp\":{}}");
        check_expose("53/udp", "{\"53/udp\":{}}");
        check_expose("100-102", "{\"100/tcp\":{},\"101/tcp\":{},\"102/tcp\":{}}");
        check_expose_bad("80:90", "invalid port format for --expose: 80:90");
        check_expose_bad("abc", "invalid range format for --expose: abc, error: strconv.ParseUint: parsing \"abc\": invalid syntax");
        check_expose_bad("90-80", "invalid range format for --expose: 90-80, error: invalid range specified for port: 90-80");
        check_expose_bad("99999", "invalid range format for --expose: 99999, error: strconv.ParseUint: parsing \"99999\": value out of range");
}

static void check_display(const char *ports, const char *want)
{
        _cleanup_json_ json_t *p = json_loads(ports, 0, NULL);
        _cleanup_free_ char *s = NULL;

        assert_non_null(p);
        s = cli_ports_display(p);
        assert_string_equal(s, want);
}

#define PORT(ip, priv, pub, type) "{\"IP\":\"" ip "\",\"PrivatePort\":" #priv ",\"PublicPort\":" #pub ",\"Type\":\"" type "\"}"
#define EXPOSED(priv, type) "{\"PrivatePort\":" #priv ",\"Type\":\"" type "\"}"

static void test_ps_ports(void **state)
{
        (void)state;
        check_display("[]", "");
        check_display("[" EXPOSED(80, "tcp") "]", "80/tcp");
        /* what docker ps printed for the same container */
        check_display("[" PORT("0.0.0.0", 80, 8080, "tcp") "," PORT("::", 80, 8080, "tcp") "]",
                      "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp");
        check_display("[" EXPOSED(7002, "tcp") "," PORT("127.0.0.1", 91, 18091, "udp") "," EXPOSED(7000, "tcp") ","
                      PORT("127.0.0.1", 80, 18080, "tcp") "," EXPOSED(7001, "tcp") "," PORT("127.0.0.1", 95, 32768, "tcp") ","
                      PORT("127.0.0.1", 90, 18090, "udp") "]",
                      "7000-7002/tcp, 127.0.0.1:18080->80/tcp, 127.0.0.1:18090->90/udp, 127.0.0.1:18091->91/udp, "
                      "127.0.0.1:32768->95/tcp");
        check_display("[" PORT("127.0.0.1", 18101, 18101, "tcp") "," PORT("127.0.0.1", 18100, 18100, "tcp") ","
                      PORT("127.0.0.1", 18102, 18102, "tcp") "," PORT("::1", 90, 18090, "tcp") "]",
                      "127.0.0.1:18100-18102->18100-18102/tcp, [::1]:18090->90/tcp");
        /* a gap ends a run, which is listed at once; the new run is listed
         * at the end, in its key's place (docker ps printed the same) */
        check_display("[" EXPOSED(80, "tcp") "," EXPOSED(81, "tcp") "," EXPOSED(83, "tcp") "," EXPOSED(53, "udp") "]",
                      "80-81/tcp, 53/udp, 83/tcp");
        check_display("[" PORT("::", 443, 443, "tcp") "," PORT("::", 444, 444, "tcp") "]", "[::]:443-444->443-444/tcp");
}

static void test_natural_order(void **state)
{
        (void)state;
        assert_true(cli_natural_less("net2", "net10"));
        assert_false(cli_natural_less("net10", "net2"));
        assert_true(cli_natural_less("a", "b"));
        assert_true(cli_natural_less("bridge", "host"));
        assert_true(cli_natural_less("n", "n1"));
        assert_true(cli_natural_less("1", "a"));
        assert_true(cli_natural_less("x01", "x001"));
        assert_true(cli_natural_less("80/tcp -> 0.0.0.0:8080", "443/tcp -> 0.0.0.0:8443"));
        assert_int_equal(cli_natural_cmp("same", "same"), 0);
}

/* The EndpointsConfig of --network values and the flat flags. */
static char *endpoints(const char *const *nets, const char *ip, const char *alias, berth_error_t **err)
{
        struct cli_netopts o;
        _cleanup_json_ json_t *eps = NULL;
        char *s = NULL;

        cli_netopts_init(&o);
        o.ipv4 = ip;
        if (alias)
                json_array_append_new(o.aliases, json_string(alias));
        for (; nets && *nets; nets++)
                if (cli_netopts_add_network(&o, *nets, err) < 0)
                        goto out;
        eps = cli_netopts_endpoints(&o, err);
        if (eps)
                s = dump(eps);
out:
        cli_netopts_free(&o);
        return s;
}

#define EP_TAIL "\"DNSNames\":null,\"DriverOpts\":null,\"EndpointID\":\"\",\"Gateway\":\"\",\"GlobalIPv6Address\":\"\"," \
                "\"GlobalIPv6PrefixLen\":0"
#define EP_TAIL2 "\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"Links\":null,\"MacAddress\":\"\",\"NetworkID\":\"\"}"

static void test_endpoints(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *one[] = { "mynet", NULL }, *none[] = { "none", NULL };
        const char *two[] = { "mynet", "none", NULL }, *dup[] = { "mynet", "mynet", NULL };
        const char *lng[] = { "name=MyNet,alias=Z,ip=10.0.0.9", NULL };
        _cleanup_free_ char *a = endpoints(NULL, NULL, NULL, &err);
        _cleanup_free_ char *b = endpoints(one, NULL, NULL, &err);
        _cleanup_free_ char *c = endpoints(one, "172.19.0.50", "al1", &err);
        _cleanup_free_ char *d = endpoints(lng, NULL, NULL, &err);

        /* no --network: the "default" endpoint, every field zero */
        assert_string_equal(a, "{\"default\":{\"Aliases\":null," EP_TAIL ",\"GwPriority\":0,\"IPAMConfig\":null," EP_TAIL2 "}");
        /* one network without options: no entry */
        assert_string_equal(b, "{}");
        assert_string_equal(c, "{\"mynet\":{\"Aliases\":[\"al1\"]," EP_TAIL ",\"GwPriority\":0,"
                               "\"IPAMConfig\":{\"IPv4Address\":\"172.19.0.50\"}," EP_TAIL2 "}");
        /* the long form, lowercased as docker does */
        assert_string_equal(d, "{\"mynet\":{\"Aliases\":[\"z\"]," EP_TAIL ",\"GwPriority\":0,"
                               "\"IPAMConfig\":{\"IPv4Address\":\"10.0.0.9\"}," EP_TAIL2 "}");
        assert_null(endpoints(none, NULL, "x", &err));
        assert_string_equal(err->msg, "network-scoped aliases are only supported for user-defined networks");
        berth_error_free(&err);
        assert_null(endpoints(two, NULL, NULL, &err));
        assert_string_equal(err->msg, "conflicting options: cannot attach both user-defined and non-user-defined network-modes");
        berth_error_free(&err);
        assert_null(endpoints(dup, NULL, NULL, &err));
        assert_string_equal(err->msg, "network \"mynet\" is specified multiple times");
        berth_error_free(&err);
        assert_null(endpoints(lng, NULL, "y", &err));
        assert_string_equal(err->msg, "conflicting options: cannot specify both --network-alias and per-network alias");
}

static void test_flag_checks(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *h = cli_extra_host("g:[::1]", &err), *h2 = cli_extra_host("h=1.2.3.4", &err);
        _cleanup_free_ char *d = cli_dns_search("example.com.", &err), *ip = cli_dns_ip("::ffff:1.2.3.4", &err);

        assert_string_equal(h, "g:::1");
        assert_string_equal(h2, "h:1.2.3.4");
        assert_string_equal(d, "example.com");
        assert_string_equal(ip, "1.2.3.4");
        assert_null(cli_extra_host("foo", &err));
        assert_string_equal(err->msg, "bad format for add-host: \"foo\"");
        berth_error_free(&err);
        assert_null(cli_dns_search("-bad", &err));
        assert_string_equal(err->msg, "-bad is not a valid domain");
        berth_error_free(&err);
        assert_null(cli_dns_ip("notip", &err));
        assert_string_equal(err->msg, "IP address is not correctly formatted: notip");
        berth_error_free(&err);
        assert_int_equal(cli_check_link("a:b:c", &err), -1);
        assert_string_equal(err->msg, "bad format for links: a:b:c");
        assert_true(cli_valid_mac("02:42:ac:11:00:99"));
        assert_true(cli_valid_mac("02-42-AC-11-00-99"));
        assert_true(cli_valid_mac("0242.ac11.0099"));
        assert_false(cli_valid_mac("zz"));
        assert_false(cli_valid_mac("02:42:ac:11:00"));
        assert_false(cli_valid_mac("02:42:ac:11:00:9g"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_publish_valid),
                cmocka_unit_test(test_publish_merges),
                cmocka_unit_test(test_publish_invalid),
                cmocka_unit_test(test_expose),
                cmocka_unit_test(test_ps_ports),
                cmocka_unit_test(test_natural_order),
                cmocka_unit_test(test_endpoints),
                cmocka_unit_test(test_flag_checks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
