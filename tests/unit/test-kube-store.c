/* The orchestrator's object store (src/orch/kube-store.c) over a real
 * berth.db in a temp dir, and label selectors (kube-selector.c). */
#include "orch/kube-internal.h"
#include "orch/kube-selector.h"
#include "util/util.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct kube *open_store(const char *dir)
{
        struct kube *k = xcalloc(1, sizeof(*k));
        berth_error_t *err = NULL;

        k->data_root = xstrdup(dir);
        pthread_mutex_init(&k->store_lock, NULL);
        pthread_mutex_init(&k->wake_lock, NULL);
        pthread_mutex_init(&k->events_lock, NULL);
        pthread_cond_init(&k->wake_cond, NULL);
        assert_int_equal(kube_store_open(k, &err), 0);
        return k;
}

static void close_store(struct kube *k)
{
        kube_store_close(k);
        kube_events_clear(k);
        free(k->data_root);
        free(k);
}

static json_t *deployment(const char *name, int replicas)
{
        return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:i}}", "apiVersion", "apps/v1", "kind", "Deployment",
                         "metadata", "name", name, "namespace", "default", "labels", "app", name, "spec", "replicas",
                         replicas);
}

static const char *meta(const json_t *o, const char *f)
{
        return json_string_value(json_object_get(json_object_get(o, "metadata"), f));
}

static json_int_t generation(const json_t *o)
{
        return json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
}

static void create_get_update(void **state)
{
        char dir[] = "/tmp/test-kube-store.XXXXXX";
        berth_error_t *err = NULL;
        json_t *made = NULL, *got = NULL, *again = NULL;
        (void)state;

        assert_non_null(mkdtemp(dir));
        struct kube *k = open_store(dir);
        json_t *d = deployment("web", 3);
        assert_int_equal(kube_create(k, d, &made, &err), 0);
        assert_int_equal(strlen(meta(made, "uid")), 36);
        assert_int_equal(generation(made), 1);
        assert_non_null(meta(made, "creationTimestamp"));
        /* the name is taken */
        assert_true(kube_create(k, d, NULL, &err) < 0);
        assert_int_equal(err->status, EEXIST);
        assert_string_equal(err->msg, "deployments.apps \"web\" already exists");
        berth_error_free(&err);
        /* a spec change bumps the generation; a status write does not */
        json_object_set_new(json_object_get(made, "spec"), "replicas", json_integer(5));
        assert_int_equal(kube_update(k, made, &got, &err), 0);
        assert_int_equal(generation(got), 2);
        json_object_set_new(got, "status", json_pack("{s:i}", "replicas", 5));
        assert_int_equal(kube_update_status(k, got, &err), 0);
        assert_int_equal(kube_get(k, "Deployment", "default", "web", &again, &err), 0);
        assert_int_equal(generation(again), 2);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(again, "status"), "replicas")), 5);
        /* a write from a stale copy is refused */
        json_object_set_new(json_object_get(made, "spec"), "replicas", json_integer(7));
        assert_true(kube_update(k, made, NULL, &err) < 0);
        assert_int_equal(err->status, EAGAIN);
        berth_error_free(&err);
        json_decref(made);
        json_decref(got);
        json_decref(again);
        json_decref(d);
        close_store(k);

        /* reopened: the object and the counter survive */
        k = open_store(dir);
        assert_int_equal(kube_get(k, "Deployment", "default", "web", &got, &err), 0);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(got, "spec"), "replicas")), 5);
        uint64_t rv = strtoull(meta(got, "resourceVersion"), NULL, 10);
        json_t *other = deployment("api", 1);
        assert_int_equal(kube_create(k, other, &made, &err), 0);
        assert_true(strtoull(meta(made, "resourceVersion"), NULL, 10) > rv);
        assert_int_equal(kube_remove(k, "Deployment", "default", "web", &err), 0);
        assert_true(kube_get(k, "Deployment", "default", "web", &again, &err) < 0);
        assert_int_equal(err->status, ENOENT);
        assert_string_equal(err->msg, "deployments.apps \"web\" not found");
        berth_error_free(&err);
        json_decref(other);
        json_decref(made);
        json_decref(got);
        close_store(k);
        remove_tree_at(-100 /* AT_FDCWD */, dir);
}

static void generate_name_and_deletion(void **state)
{
        char dir[] = "/tmp/test-kube-store.XXXXXX";
        berth_error_t *err = NULL;
        json_t *made = NULL, *marked = NULL;
        (void)state;

        assert_non_null(mkdtemp(dir));
        struct kube *k = open_store(dir);
        json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}}", "apiVersion", "v1", "kind", "Pod", "metadata",
                                "generateName", "web-abc-", "namespace", "default", "spec");
        assert_int_equal(kube_create(k, pod, &made, &err), 0);
        const char *name = meta(made, "name");
        assert_int_equal(strlen(name), strlen("web-abc-") + 5);
        assert_int_equal(kube_mark_deleted(k, "Pod", "default", name, 30, &marked, &err), 0);
        assert_non_null(meta(marked, "deletionTimestamp"));
        json_decref(marked);
        /* a second delete may shorten the grace period, never lengthen it */
        assert_int_equal(kube_mark_deleted(k, "Pod", "default", name, 60, &marked, &err), 0);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(marked, "metadata"),
                                                            "deletionGracePeriodSeconds")),
                         30);
        json_decref(marked);
        assert_int_equal(kube_mark_deleted(k, "Pod", "default", name, 0, &marked, &err), 0);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(marked, "metadata"),
                                                            "deletionGracePeriodSeconds")),
                         0);
        json_decref(marked);
        json_decref(made);
        json_decref(pod);
        close_store(k);
        remove_tree_at(-100, dir);
}

static bool matches(const char *selector, const char *labels_json)
{
        berth_error_t *err = NULL;
        json_t *sel = NULL, *labels = json_loads(labels_json, 0, NULL);

        assert_int_equal(kube_selector_parse(selector, &sel, &err), 0);
        bool m = kube_selector_matches(sel, labels);
        json_decref(sel);
        json_decref(labels);
        return m;
}

static void selectors(void **state)
{
        berth_error_t *err = NULL;
        json_t *sel = NULL;
        (void)state;

        assert_true(matches("app=web", "{\"app\":\"web\",\"x\":\"1\"}"));
        assert_false(matches("app=web", "{\"app\":\"api\"}"));
        assert_true(matches("app==web,tier!=db", "{\"app\":\"web\",\"tier\":\"fe\"}"));
        assert_false(matches("tier!=db", "{\"tier\":\"db\"}"));
        assert_true(matches("tier!=db", "{}"));
        assert_true(matches("env in (a, b),!canary", "{\"env\":\"b\"}"));
        assert_false(matches("env in (a,b),!canary", "{\"env\":\"b\",\"canary\":\"1\"}"));
        assert_true(matches("env notin (a),release", "{\"env\":\"c\",\"release\":\"x\"}"));
        assert_false(matches("release", "{}"));
        assert_true(matches("", "{}"));
        assert_true(kube_selector_parse("app in a", &sel, &err) < 0);
        assert_non_null(strstr(err->msg, "couldn't parse the selector string"));
        berth_error_free(&err);
        /* a Service's plain map and a LabelSelector object */
        json_t *labels = json_pack("{s:s, s:s}", "app", "web", "tier", "fe");
        json_t *svc = json_pack("{s:s}", "app", "web");
        json_t *ls = json_pack("{s:{s:s}, s:[{s:s, s:s, s:[s]}]}", "matchLabels", "app", "web", "matchExpressions",
                               "key", "tier", "operator", "In", "values", "fe");
        assert_true(kube_selector_matches(svc, labels));
        assert_true(kube_selector_matches(ls, labels));
        json_object_set_new(labels, "tier", json_string("db"));
        assert_false(kube_selector_matches(ls, labels));
        json_decref(labels);
        json_decref(svc);
        json_decref(ls);
}

static void kinds_and_times(void **state)
{
        (void)state;
        assert_string_equal(kube_kind_by_name("deploy")->kind, "Deployment");
        assert_string_equal(kube_kind_by_name("deployments")->kind, "Deployment");
        assert_string_equal(kube_kind_by_name("deployment")->kind, "Deployment");
        assert_string_equal(kube_kind_by_name("hpa")->api_version, "autoscaling/v2");
        assert_string_equal(kube_kind_by_name("svc")->resource, "services");
        assert_null(kube_kind_by_name("widgets"));
        assert_int_equal(kube_parse_rfc3339("2026-11-29T17:00:00Z"), 1795971600);
        char *now = kube_now_rfc3339();
        assert_true(kube_parse_rfc3339(now) > 1795971600);
        free(now);
}

static json_t *pod_ref(const char *ns, const char *name, const char *uid)
{
        return must(json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata",
                              "namespace", ns, "name", name, "uid", uid));
}

/* Events: a repeat counts up, filters pick by kind, namespace and name,
 * and the oldest go once KUBE_EVENTS_KEPT are held. */
static void events(void **state)
{
        (void)state;
        struct kube *k = xcalloc(1, sizeof(*k));
        json_t *a = pod_ref("default", "web-1", "u1"), *b = pod_ref("prod", "web-1", "u2"), *list, *ev;

        pthread_mutex_init(&k->events_lock, NULL);
        kube_event(k, a, "Normal", "Started", "Started container %s", "main");
        kube_event(k, a, "Normal", "Started", "Started container %s", "main");
        kube_event(k, a, "Warning", "BackOff", "Back-off restarting failed container");
        kube_event(k, b, "Normal", "Started", "Started container main");
        list = kube_events_for(k, "Pod", "default", "web-1");
        assert_int_equal(json_array_size(list), 2);
        ev = json_array_get(list, 0);
        assert_int_equal(json_integer_value(json_object_get(ev, "count")), 2);
        assert_string_equal(json_string_value(json_object_get(ev, "message")), "Started container main");
        assert_string_equal(json_string_value(json_object_get(ev, "kind")), "Event");
        json_t *inv = json_object_get(ev, "involvedObject");
        assert_string_equal(json_string_value(json_object_get(inv, "uid")), "u1");
        assert_string_equal(json_string_value(json_object_get(inv, "apiVersion")), "v1");
        assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "metadata"), "namespace")),
                            "default");
        assert_true(strncmp(json_string_value(json_object_get(json_object_get(ev, "metadata"), "name")), "web-1.",
                            6) == 0);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "type")), "Warning");
        json_decref(list);
        list = kube_events_for(k, NULL, NULL, NULL);
        assert_int_equal(json_array_size(list), 3);
        json_decref(list);
        list = kube_events_for(k, "Deployment", NULL, NULL);
        assert_int_equal(json_array_size(list), 0);
        json_decref(list);

        for (int i = 0; i < KUBE_EVENTS_KEPT; i++)
                kube_event(k, b, "Normal", "Pulled", "image %d", i);
        list = kube_events_for(k, NULL, NULL, NULL);
        assert_int_equal(json_array_size(list), KUBE_EVENTS_KEPT);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "message")), "image 0");
        json_decref(list);

        json_decref(a);
        json_decref(b);
        kube_events_clear(k);
        free(k);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(create_get_update),
                cmocka_unit_test(generate_name_and_deletion),
                cmocka_unit_test(selectors),
                cmocka_unit_test(kinds_and_times),
                cmocka_unit_test(events),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
