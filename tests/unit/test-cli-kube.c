/* The pure parts of `berth kube` (src/cli/cli-kube-names.c, cli-kube-columns.c, cli-kube-tabw.c): kubectl's
 * names for resources, the targets a command names, label selectors
 * (parsed as labels.Parse takes them, printed as LabelSelectorAsSelector
 * prints them), apimachinery's HumanDuration, the columns kubectl's
 * printers compute (a pod's READY, STATUS and RESTARTS, a Service's
 * PORT(S), an Endpoints' addresses, an HPA's TARGETS), the
 * rollout-status decision of kubectl's DeploymentStatusViewer, and Go's
 * text/tabwriter (the expected texts were printed by Go 1.19's
 * tabwriter from the same input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cli-kube.h"

static json_t *parse(const char *s)
{
        json_error_t e;
        json_t *j = json_loads(s, 0, &e);

        if (j == NULL)
                fail_msg("bad test JSON: %s: %s", e.text, s);
        return j;
}

/* ---- names ---- */

static void test_resource_names(void **state)
{
        static const struct {
                const char *name, *resource;
        } cases[] = {
                { "po", "pods" }, { "pod", "pods" }, { "pods", "pods" }, { "Pod", "pods" }, { "PODS", "pods" },
                { "deploy", "deployments" }, { "deployment", "deployments" }, { "Deployment", "deployments" },
                { "deployments.apps", "deployments" }, { "deploy.apps", "deployments" }, { "rs", "replicasets" },
                { "ReplicaSet", "replicasets" }, { "svc", "services" }, { "service", "services" },
                { "ep", "endpoints" }, { "endpoints", "endpoints" }, { "cm", "configmaps" },
                { "configmap", "configmaps" }, { "secret", "secrets" }, { "Secret", "secrets" },
                { "hpa", "horizontalpodautoscalers" }, { "horizontalpodautoscaler", "horizontalpodautoscalers" },
                { "horizontalpodautoscalers.autoscaling", "horizontalpodautoscalers" }, { "ns", "namespaces" },
                { "namespace", "namespaces" }, { "ev", "events" }, { "events", "events" },
        };
        static const char *const unknown[] = { "foo", "deployments.core", "pods.apps", "", "statefulsets" };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct kube_res *r = kube_res_find(cases[i].name);
                if (r == NULL)
                        fail_msg("%s: unknown", cases[i].name);
                assert_string_equal(r->resource, cases[i].resource);
        }
        for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
                if (kube_res_find(unknown[i]))
                        fail_msg("%s: found", unknown[i]);
        assert_false(kube_res_find("ns")->namespaced);
        assert_true(kube_res_find("po")->namespaced);
}

static void test_qualified_names(void **state)
{
        static const struct {
                const char *kind, *api, *want;
        } cases[] = {
                { "Deployment", "apps/v1", "deployment.apps" },
                { "Pod", "v1", "pod" },
                { "Service", "v1", "service" },
                { "HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscaler.autoscaling" },
                { "StatefulSet", "apps/v1", "statefulset.apps" },
                { "Widget", "v1", "widget" },
                { "CronJob", "batch/v1", "cronjob.batch" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *q = kube_kind_qualified(cases[i].kind, cases[i].api);
                assert_string_equal(q, cases[i].want);
        }
        _cleanup_free_ char *p = kube_res_plural_qualified(kube_res_find("deploy"));
        assert_string_equal(p, "deployments.apps");
        _cleanup_free_ char *s = kube_res_plural_qualified(kube_res_find("svc"));
        assert_string_equal(s, "services");
}

/* The groups of a command line, as "resource:name,name;..." */
static char *targets(const char *const *args, berth_error_t **err)
{
        struct kube_group *g = NULL;
        size_t ng = 0, n = 0;
        struct strbuf b = { 0 };

        while (args[n])
                n++;
        if (kube_parse_targets((char **)args, (int)n, &g, &ng, err) < 0)
                return NULL;
        strbuf_adds(&b, "");
        for (size_t i = 0; i < ng; i++) {
                strbuf_adds(&b, i ? ";" : "");
                strbuf_adds(&b, g[i].r->resource);
                strbuf_adds(&b, ":");
                for (size_t j = 0; j < g[i].n; j++) {
                        strbuf_adds(&b, j ? "," : "");
                        strbuf_adds(&b, g[i].names[j]);
                }
        }
        kube_groups_free(g, ng);
        return b.data;
}

static void check_targets(const char *const *args, const char *want)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *got = targets(args, &err);

        if (got == NULL)
                fail_msg("%s: %s", args[0], err->msg);
        assert_string_equal(got, want);
}

static void check_targets_fail(const char *const *args, const char *msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *got = targets(args, &err);

        if (got)
                fail_msg("%s: accepted as %s", args[0], got);
        assert_non_null(strstr(err->msg, msg));
}

static void test_targets(void **state)
{
        (void)state;
        check_targets((const char *[]){ "pods", NULL }, "pods:");
        check_targets((const char *[]){ "po", "a", "b", NULL }, "pods:a,b");
        check_targets((const char *[]){ "pods,svc", "web", NULL }, "pods:web;services:web");
        check_targets((const char *[]){ "deploy/web", NULL }, "deployments:web");
        check_targets((const char *[]){ "deploy/web", "svc/web", "deployment/api", NULL },
                      "deployments:web,api;services:web");
        check_targets((const char *[]){ "all", NULL },
                      "pods:;services:;deployments:;replicasets:;horizontalpodautoscalers:");
        check_targets((const char *[]){ "po,pods", NULL }, "pods:");
        check_targets_fail((const char *[]){ "foo", NULL }, "the server doesn't have a resource type \"foo\"");
        check_targets_fail((const char *[]){ "deploy/web", "web2", NULL }, "resource/name form");
        check_targets_fail((const char *[]){ "pods", "deploy/web", NULL }, "resource/name form");
        check_targets_fail((const char *[]){ "foo/x", NULL }, "\"foo\"");
        check_targets_fail((const char *[]){ "deploy/", NULL }, "single resource and name");
        check_targets_fail((const char *[]){ NULL }, "you must specify the type of resource");
}

/* ---- selectors ---- */

static void check_selector(const char *s, const char *want)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *reqs = NULL;
        _cleanup_free_ char *got = NULL;

        if (kube_selector_parse(s, &reqs, &err) < 0)
                fail_msg("%s: %s", s, err->msg);
        got = json_dumps(reqs, JSON_COMPACT);
        assert_string_equal(got, want);
}

static void check_selector_fail(const char *s, const char *msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *reqs = NULL;

        if (kube_selector_parse(s, &reqs, &err) == 0)
                fail_msg("%s: accepted", s);
        if (strstr(err->msg, msg) == NULL)
                fail_msg("%s: %s (expected %s)", s, err->msg, msg);
}

static void test_selector_parse(void **state)
{
        (void)state;
        check_selector("app=web", "[{\"key\":\"app\",\"operator\":\"Equals\",\"values\":[\"web\"]}]");
        check_selector("app==web", "[{\"key\":\"app\",\"operator\":\"Equals\",\"values\":[\"web\"]}]");
        check_selector("app!=web", "[{\"key\":\"app\",\"operator\":\"NotEquals\",\"values\":[\"web\"]}]");
        check_selector(" app = web , tier ", "[{\"key\":\"app\",\"operator\":\"Equals\",\"values\":[\"web\"]},"
                                             "{\"key\":\"tier\",\"operator\":\"Exists\",\"values\":[]}]");
        check_selector("!canary", "[{\"key\":\"canary\",\"operator\":\"DoesNotExist\",\"values\":[]}]");
        check_selector("env in (prod, qa),tier notin (db)",
                       "[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"qa\"]},"
                       "{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"db\"]}]");
        check_selector("app=", "[{\"key\":\"app\",\"operator\":\"Equals\",\"values\":[\"\"]}]");
        check_selector("example.com/app=v1.2_x-y",
                       "[{\"key\":\"example.com/app\",\"operator\":\"Equals\",\"values\":[\"v1.2_x-y\"]}]");
        check_selector("", "[]");
        check_selector_fail("app in ()", "values set can't be empty");
        check_selector_fail("app in (a", "expected: ',' or ')'");
        check_selector_fail("app=web,", "expected: identifier after ','");
        check_selector_fail("app web", "expected: in, notin, =, ==, !=, gt, lt");
        check_selector_fail("!", "expected: identifier");
        check_selector_fail("=web", "expected: identifier");
        check_selector_fail("-app=web", "invalid label key");
        check_selector_fail("app=-web", "invalid label value");
        check_selector_fail("app=web)", "found ')'");
}

static void check_selector_string(const char *json, const char *want)
{
        _cleanup_json_ json_t *sel = parse(json);
        _cleanup_free_ char *got = kube_selector_string(sel);

        assert_string_equal(got, want);
}

static void test_selector_string(void **state)
{
        (void)state;
        check_selector_string("{\"matchLabels\":{\"tier\":\"web\",\"app\":\"shop\"}}", "app=shop,tier=web");
        check_selector_string("{\"matchLabels\":{\"app\":\"shop\"},\"matchExpressions\":["
                              "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"qa\",\"prod\"]},"
                              "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"},"
                              "{\"key\":\"track\",\"operator\":\"NotIn\",\"values\":[\"b\",\"a\"]},"
                              "{\"key\":\"zone\",\"operator\":\"Exists\"}]}",
                              "app=shop,!canary,env in (prod,qa),track notin (a,b),zone");
        check_selector_string("{\"app\":\"web\",\"a\":\"b\"}", "a=b,app=web");
        check_selector_string("{}", "");
        _cleanup_json_ json_t *empty = json_object(), *labels = parse("{\"b\":\"2\",\"a\":\"1\"}");
        _cleanup_free_ char *none = kube_labels_string(empty), *two = kube_labels_string(labels);
        _cleanup_free_ char *null = kube_labels_string(NULL);
        assert_string_equal(none, "<none>");
        assert_string_equal(null, "<none>");
        assert_string_equal(two, "a=1,b=2");
}

/* ---- times (cli-kube-columns.c) ---- */

static void test_human_duration(void **state)
{
        static const struct {
                long long s;
                const char *want;
        } cases[] = {
                { -5, "<invalid>" }, { -2, "<invalid>" }, { -1, "0s" }, { 0, "0s" }, { 5, "5s" },
                { 119, "119s" }, { 120, "2m" }, { 150, "2m30s" }, { 599, "9m59s" }, { 600, "10m" },
                { 10799, "179m" }, { 10800, "3h" }, { 3 * 3600 + 30 * 60, "3h30m" }, { 8 * 3600 - 1, "7h59m" },
                { 8 * 3600, "8h" }, { 47 * 3600 + 59 * 60, "47h" }, { 48 * 3600, "2d" }, { 51 * 3600, "2d3h" },
                { 8 * 86400, "8d" }, { 729 * 86400, "729d" }, { 730 * 86400, "2y" }, { 760 * 86400, "2y30d" },
                { 8 * 365 * 86400, "8y" }, { 20 * 365 * 86400LL, "20y" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *got = kube_human_duration(cases[i].s);
                if (strcmp(got, cases[i].want) != 0)
                        fail_msg("%lld: %s, expected %s", cases[i].s, got, cases[i].want);
        }
}

static void test_times(void **state)
{
        (void)state;
        assert_int_equal(kube_time_parse("1970-01-01T00:00:00Z"), 0);
        assert_int_equal(kube_time_parse("2026-11-29T17:00:00Z"), 1795971600LL);
        assert_int_equal(kube_time_parse("2026-11-29T17:00:00.123456Z"), 1795971600LL);
        assert_int_equal(kube_time_parse("2026-11-29T18:30:00+01:30"), 1795971600LL);
        assert_int_equal(kube_time_parse("2026-11-29T15:00:00-02:00"), 1795971600LL);
        assert_int_equal(kube_time_parse("2026-11-29 17:00:00"), -1);
        assert_int_equal(kube_time_parse("2026-11-29T17:00:00"), -1);
        assert_int_equal(kube_time_parse(""), -1);
        assert_int_equal(kube_time_parse(NULL), -1);
        _cleanup_free_ char *a = kube_age("2026-11-29T17:00:00Z", 1795971600LL + 200);
        _cleanup_free_ char *u = kube_age(NULL, 1795971600LL);
        assert_string_equal(a, "3m20s");
        assert_string_equal(u, "<unknown>");
}

static void test_durations(void **state)
{
        (void)state;
        assert_int_equal(kube_parse_duration("30"), 30000);
        assert_int_equal(kube_parse_duration("30s"), 30000);
        assert_int_equal(kube_parse_duration("1m30s"), 90000);
        assert_int_equal(kube_parse_duration("500ms"), 500);
        assert_int_equal(kube_parse_duration("1.5h"), 5400000);
        assert_int_equal(kube_parse_duration("0"), 0);
        assert_int_equal(kube_parse_duration("0s"), 0);
        assert_int_equal(kube_parse_duration("10x"), -1);
        assert_int_equal(kube_parse_duration("s"), -1);
        assert_int_equal(kube_parse_duration(""), -1);
        assert_int_equal(kube_parse_duration("-5s"), -1);
}

/* ---- pods ---- */

#define NOW 1795971600LL        /* 2026-11-29T17:00:00Z */

/* A pod with one container "a" of the given status (JSON), and extra
 * pod fields. */
static json_t *pod(const char *status, const char *extra)
{
        _cleanup_free_ char *s = xasprintf("{\"metadata\":{\"name\":\"p\"%s},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
                                           "\"status\":%s}",
                                           extra ? extra : "", status);
        return parse(s);
}

static void check_pod(const char *status, const char *extra, const char *want_status, const char *want_ready,
                      const char *want_restarts)
{
        _cleanup_json_ json_t *p = pod(status, extra);
        _cleanup_free_ char *st = kube_pod_status(p), *rd = kube_pod_ready(p), *rs = kube_pod_restarts(p, NOW);

        if (strcmp(st, want_status) != 0)
                fail_msg("%s: STATUS %s, expected %s", status, st, want_status);
        assert_string_equal(rd, want_ready);
        assert_string_equal(rs, want_restarts);
}

static void test_pod_status(void **state)
{
        (void)state;
        check_pod("{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
                  "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":0,"
                  "\"state\":{\"running\":{\"startedAt\":\"2026-11-29T16:59:00Z\"}}}]}",
                  NULL, "Running", "1/1", "0");
        check_pod("{\"phase\":\"Pending\"}", NULL, "Pending", "0/1", "0");
        check_pod("{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":0,"
                  "\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}",
                  NULL, "ContainerCreating", "0/1", "0");
        check_pod("{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":4,"
                  "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\",\"message\":\"back-off 40s\"}},"
                  "\"lastState\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\","
                  "\"finishedAt\":\"2026-11-29T16:59:55Z\"}}}]}",
                  NULL, "CrashLoopBackOff", "0/1", "4 (5s ago)");
        check_pod("{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":0,"
                  "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}",
                  NULL, "Completed", "0/1", "0");
        check_pod("{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\",\"restartCount\":0,"
                  "\"state\":{\"terminated\":{\"exitCode\":3}}}]}",
                  NULL, "ExitCode:3", "0/1", "0");
        check_pod("{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\",\"restartCount\":0,"
                  "\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}",
                  NULL, "Signal:9", "0/1", "0");
        check_pod("{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":1,"
                  "\"state\":{\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\"}}}]}",
                  NULL, "OOMKilled", "0/1", "1");
        check_pod("{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":0,"
                  "\"state\":{\"running\":{}}}]}",
                  ",\"deletionTimestamp\":\"2026-11-29T17:00:30Z\"", "Terminating", "1/1", "0");
        check_pod("{\"phase\":\"Succeeded\"}", ",\"deletionTimestamp\":\"2026-11-29T17:00:30Z\"", "Succeeded", "0/1", "0");
        check_pod("{\"phase\":\"Failed\",\"reason\":\"Evicted\"}", NULL, "Evicted", "0/1", "0");
}

static void check_pod_json(const char *json, const char *want_status, const char *want_ready)
{
        _cleanup_json_ json_t *p = parse(json);
        _cleanup_free_ char *st = kube_pod_status(p), *rd = kube_pod_ready(p);

        if (strcmp(st, want_status) != 0)
                fail_msg("%s: STATUS %s, expected %s", json, st, want_status);
        assert_string_equal(rd, want_ready);
}

static void test_pod_status_multi(void **state)
{
        (void)state;
        /* init containers: progress, a failing one, a crashing one */
        check_pod_json("{\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],\"containers\":[{\"name\":\"a\"}]},"
                       "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
                       "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
                       "{\"name\":\"i2\",\"state\":{\"running\":{}}}],"
                       "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}",
                       "Init:1/2", "0/1");
        check_pod_json("{\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],\"containers\":[{\"name\":\"a\"}]},"
                       "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
                       "{\"name\":\"i1\",\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
                       "Init:CrashLoopBackOff", "0/1");
        check_pod_json("{\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],\"containers\":[{\"name\":\"a\"}]},"
                       "\"status\":{\"phase\":\"Failed\",\"initContainerStatuses\":["
                       "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\"}}}]}}",
                       "Init:Error", "0/1");
        check_pod_json("{\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],\"containers\":[{\"name\":\"a\"}]},"
                       "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
                       "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":2}}}]}}",
                       "Init:ExitCode:2", "0/1");
        /* the first container's state wins; a completed one beside a running one */
        check_pod_json("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                       "\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
                       "{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}},"
                       "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
                       "ImagePullBackOff", "1/2");
        check_pod_json("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                       "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
                       "\"containerStatuses\":["
                       "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
                       "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
                       "NotReady", "1/2");
        check_pod_json("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                       "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
                       "\"containerStatuses\":["
                       "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
                       "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
                       "Running", "1/2");
        /* a sidecar (restartPolicy Always init container) counts as a container */
        check_pod_json("{\"spec\":{\"initContainers\":[{\"name\":\"s\",\"restartPolicy\":\"Always\"}],"
                       "\"containers\":[{\"name\":\"a\"}]},"
                       "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"}],"
                       "\"initContainerStatuses\":[{\"name\":\"s\",\"started\":true,\"ready\":true,\"state\":{\"running\":{}}}],"
                       "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
                       "Running", "2/2");
}

/* ---- services, endpoints, autoscalers, secrets ---- */

static void check_str(char *got, const char *want)
{
        if (strcmp(got, want) != 0)
                fail_msg("got \"%s\", expected \"%s\"", got, want);
        free(got);
}

static void test_service_columns(void **state)
{
        _cleanup_json_ json_t *np = parse("{\"spec\":{\"type\":\"NodePort\",\"ports\":["
                                          "{\"port\":80,\"nodePort\":30080,\"protocol\":\"TCP\"},"
                                          "{\"port\":53,\"protocol\":\"UDP\"},{\"port\":443}]}}");
        _cleanup_json_ json_t *none = parse("{\"spec\":{\"type\":\"ClusterIP\"}}");
        _cleanup_json_ json_t *ext = parse("{\"spec\":{\"type\":\"ClusterIP\",\"externalIPs\":[\"1.2.3.4\",\"5.6.7.8\"]}}");
        _cleanup_json_ json_t *lb = parse("{\"spec\":{\"type\":\"LoadBalancer\"}}");
        _cleanup_json_ json_t *en = parse("{\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}}");

        (void)state;
        check_str(kube_service_ports(np), "80:30080/TCP,53/UDP,443/TCP");
        check_str(kube_service_ports(none), "<none>");
        check_str(kube_service_external_ip(np), "<none>");
        check_str(kube_service_external_ip(ext), "1.2.3.4,5.6.7.8");
        check_str(kube_service_external_ip(lb), "<pending>");
        check_str(kube_service_external_ip(en), "db.example.com");
}

static void test_endpoints_column(void **state)
{
        _cleanup_json_ json_t *two = parse("{\"subsets\":[{\"addresses\":[{\"ip\":\"10.42.0.5\"},{\"ip\":\"10.42.0.6\"}],"
                                           "\"ports\":[{\"name\":\"http\",\"port\":8080},{\"name\":\"m\",\"port\":9090}]}]}");
        _cleanup_json_ json_t *five = parse("{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"},"
                                            "{\"ip\":\"10.0.0.3\"},{\"ip\":\"10.0.0.4\"},{\"ip\":\"10.0.0.5\"}],"
                                            "\"ports\":[{\"port\":80}]}]}");
        _cleanup_json_ json_t *notready = parse("{\"subsets\":[{\"notReadyAddresses\":[{\"ip\":\"10.0.0.1\"}],"
                                                "\"ports\":[{\"port\":80}]}]}");
        _cleanup_json_ json_t *empty = parse("{}");

        (void)state;
        check_str(kube_endpoints_string(two, NULL), "10.42.0.5:8080,10.42.0.6:8080,10.42.0.5:9090 + 1 more...");
        check_str(kube_endpoints_string(two, "http"), "10.42.0.5:8080,10.42.0.6:8080");
        check_str(kube_endpoints_string(two, "none"), "<none>");
        check_str(kube_endpoints_string(five, NULL), "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...");
        check_str(kube_endpoints_string(five, ""), "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...");
        check_str(kube_endpoints_string(notready, NULL), "<none>");
        check_str(kube_endpoints_string(empty, NULL), "<none>");
}

static void test_hpa_column(void **state)
{
        _cleanup_json_ json_t *cpu = parse("{\"spec\":{\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
                                           "\"target\":{\"type\":\"Utilization\",\"averageUtilization\":50}}}]},"
                                           "\"status\":{\"currentMetrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
                                           "\"current\":{\"averageUtilization\":12,\"averageValue\":\"6m\"}}}]}}");
        _cleanup_json_ json_t *unknown = parse("{\"spec\":{\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
                                               "\"target\":{\"type\":\"Utilization\",\"averageUtilization\":80}}}]}}");
        _cleanup_json_ json_t *value = parse("{\"spec\":{\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\","
                                             "\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"100Mi\"}}}]}}");
        _cleanup_json_ json_t *three = parse("{\"spec\":{\"metrics\":["
                                             "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"averageUtilization\":1}}},"
                                             "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"averageUtilization\":2}}},"
                                             "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"averageUtilization\":3}}}]}}");
        _cleanup_json_ json_t *none = parse("{\"spec\":{}}");

        (void)state;
        check_str(kube_hpa_targets(cpu), "cpu: 12%/50%");
        check_str(kube_hpa_targets(unknown), "cpu: <unknown>/80%");
        check_str(kube_hpa_targets(value), "memory: <unknown>/100Mi");
        check_str(kube_hpa_targets(three), "cpu: <unknown>/1%, cpu: <unknown>/2% + 1 more...");
        check_str(kube_hpa_targets(none), "<none>");
}

static void test_misc_columns(void **state)
{
        _cleanup_json_ json_t *ctrs = parse("[{\"name\":\"web\",\"image\":\"nginx:1\"},{\"name\":\"log\",\"image\":\"busybox\"}]");

        (void)state;
        check_str(kube_container_names(ctrs), "web,log");
        check_str(kube_container_images(ctrs), "nginx:1,busybox");
        assert_int_equal(kube_b64_len(""), 0);
        assert_int_equal(kube_b64_len(NULL), 0);
        assert_int_equal(kube_b64_len("YQ=="), 1);
        assert_int_equal(kube_b64_len("YWI="), 2);
        assert_int_equal(kube_b64_len("YWJj"), 3);
        assert_int_equal(kube_b64_len("aGVsbG8gd29ybGQ="), 11);
        assert_int_equal(kube_b64_len("cGFzc3dvcmQ"), 8);  /* unpadded */
}

/* ---- rollout status ---- */

static int rollout(const char *status, long long generation, long long revision, char **msg, berth_error_t **err)
{
        _cleanup_free_ char *s = xasprintf("{\"metadata\":{\"name\":\"web\",\"generation\":%lld,"
                                           "\"annotations\":{\"deployment.kubernetes.io/revision\":\"2\"}},"
                                           "\"spec\":{\"replicas\":3},\"status\":%s}",
                                           generation, status);
        _cleanup_json_ json_t *d = parse(s);

        return kube_rollout_status(d, revision, msg, err);
}

static void check_rollout(const char *status, long long generation, int want, const char *want_msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *msg = NULL;
        int ret = rollout(status, generation, 0, &msg, &err);

        if (ret != want)
                fail_msg("%s: %d (%s), expected %d", status, ret, err ? err->msg : msg, want);
        assert_string_equal(ret < 0 ? err->msg : msg, want_msg);
}

static void test_rollout_status(void **state)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *msg = NULL;

        (void)state;
        check_rollout("{\"observedGeneration\":1}", 2, 0, "Waiting for deployment spec update to be observed...");
        check_rollout("{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":1,\"availableReplicas\":2}", 2, 0,
                      "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...");
        check_rollout("{\"observedGeneration\":2,\"replicas\":4,\"updatedReplicas\":3,\"availableReplicas\":3}", 2, 0,
                      "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...");
        check_rollout("{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,\"availableReplicas\":1}", 2, 0,
                      "Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available...");
        check_rollout("{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,\"availableReplicas\":3}", 2, 1,
                      "deployment \"web\" successfully rolled out");
        check_rollout("{\"observedGeneration\":3,\"replicas\":3,\"updatedReplicas\":3,\"availableReplicas\":3}", 2, 1,
                      "deployment \"web\" successfully rolled out");
        check_rollout("{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":1,\"availableReplicas\":2,"
                      "\"conditions\":[{\"type\":\"Available\",\"status\":\"True\",\"reason\":\"MinimumReplicasAvailable\"},"
                      "{\"type\":\"Progressing\",\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\"}]}",
                      2, -1, "deployment \"web\" exceeded its progress deadline");
        /* the deadline counts only once the spec was observed */
        check_rollout("{\"observedGeneration\":1,\"conditions\":[{\"type\":\"Progressing\",\"status\":\"False\","
                      "\"reason\":\"ProgressDeadlineExceeded\"}]}",
                      2, 0, "Waiting for deployment spec update to be observed...");
        /* a Progressing condition that is fine */
        check_rollout("{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,\"availableReplicas\":3,"
                      "\"conditions\":[{\"type\":\"Progressing\",\"status\":\"True\",\"reason\":\"NewReplicaSetAvailable\"}]}",
                      2, 1, "deployment \"web\" successfully rolled out");
        /* --revision */
        assert_int_equal(rollout("{\"observedGeneration\":2,\"replicas\":3,\"updatedReplicas\":3,\"availableReplicas\":3}", 2, 2,
                                 &msg, &err),
                         1);
        free(msg);
        msg = NULL;
        assert_int_equal(rollout("{\"observedGeneration\":2}", 2, 3, &msg, &err), -1);
        assert_string_equal(err->msg, "desired revision (3) is different from the running revision (2)");
}

/* ---- tabwriter ---- */

static void check_tabw(const char *in, size_t minwidth, size_t padding, const char *want)
{
        struct tabw w;
        _cleanup_free_ char *got = NULL;

        tabw_init(&w, minwidth, padding);
        tabw_printf(&w, "%s", in);
        got = tabw_render(&w);
        tabw_free(&w);
        if (strcmp(got, want) != 0)
                fail_msg("tabwriter of\n%s\ngave\n%s\nexpected\n%s", in, got, want);
}

static void test_tabwriter(void **state)
{
        (void)state;
        check_tabw("Name:\tweb\nNamespace:\tdefault\nLabels:\tapp=web\n\ttier=x\nAnnotations:\t<none>\n", 0, 2,
                   "Name:         web\nNamespace:    default\nLabels:       app=web\n              tier=x\nAnnotations:  <none>\n");
        check_tabw("Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n"
                   "  Normal\tScheduled\t5s\tdefault-scheduler\tok\n",
                   0, 2,
                   "Events:\n  Type    Reason     Age   From               Message\n"
                   "  ----    ------     ----  ----               -------\n"
                   "  Normal  Scheduled  5s    default-scheduler  ok\n");
        check_tabw("Containers:\n  web:\n    Image:\tbusybox\n    Port:\t<none>\n    State:\tRunning\n      Started:\tMon\n"
                   "    Ready:\tTrue\nConditions:\n  Type\tStatus\n  Initialized \tTrue \n  Ready \tTrue \nVolumes:\t<none>\n",
                   0, 2,
                   "Containers:\n  web:\n    Image:      busybox\n    Port:       <none>\n    State:      Running\n"
                   "      Started:  Mon\n    Ready:      True\nConditions:\n  Type          Status\n  Initialized   True \n"
                   "  Ready         True \nVolumes:        <none>\n");
        check_tabw("Port:\thttp\t80/TCP\nTargetPort:\t8080/TCP\nNodePort:\thttp\t30080/TCP\nEndpoints:\t<none>\n", 0, 2,
                   "Port:        http  80/TCP\nTargetPort:  8080/TCP\nNodePort:    http  30080/TCP\nEndpoints:   <none>\n");
        check_tabw("a\tb\tc\n\naa\tbbbbbb\tc\n", 0, 2, "a  b  c\n\naa  bbbbbb  c\n");
        check_tabw("NAME\tREADY\tSTATUS\tRESTARTS\tAGE\nweb-abc\t1/1\tRunning\t0\t5s\n", 6, 3,
                   "NAME      READY   STATUS    RESTARTS   AGE\nweb-abc   1/1     Running   0          5s\n");
        check_tabw("", 0, 2, "");
        check_tabw("no tabs\n", 0, 2, "no tabs\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resource_names),
                cmocka_unit_test(test_qualified_names),
                cmocka_unit_test(test_targets),
                cmocka_unit_test(test_selector_parse),
                cmocka_unit_test(test_selector_string),
                cmocka_unit_test(test_human_duration),
                cmocka_unit_test(test_times),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_pod_status),
                cmocka_unit_test(test_pod_status_multi),
                cmocka_unit_test(test_service_columns),
                cmocka_unit_test(test_endpoints_column),
                cmocka_unit_test(test_hpa_column),
                cmocka_unit_test(test_misc_columns),
                cmocka_unit_test(test_rollout_status),
                cmocka_unit_test(test_tabwriter),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
