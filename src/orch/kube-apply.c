/* apply, delete, scale, rollback and list: the operations behind
 * /berth/v1.  apply keeps kubectl's client-side semantics on the
 * server: the applied document replaces what the user owns (spec, data,
 * labels), and what the server or the controllers own survives (status,
 * an allocated clusterIP and nodePorts, replicas when the document leaves
 * them out, annotations set by controllers, through
 * kubectl.kubernetes.io/last-applied-configuration). */
#include "orch/kube-api.h"
#include "orch/kube-selector.h"
#include "orch/kube-validate.h"
#include "orch/kube-workloads.h"
#include "orch/kube-yaml.h"
#include "util/util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

static json_t *meta_of(json_t *obj)
{
        json_t *meta = json_object_get(obj, "metadata");
        if (!json_is_object(meta))
                json_object_set_new(obj, "metadata", meta = must(json_object()));
        return meta;
}

/* apiVersion and kind known; the namespace filled in. */
static int identify(json_t *doc, size_t index, const char *ns, const struct kube_kind **out, berth_error_t **err)
{
        const char *kind = json_string_value(json_object_get(doc, "kind"));
        const char *av = json_string_value(json_object_get(doc, "apiVersion"));
        const struct kube_kind *kk = kind ? kube_kind_by_name(kind) : NULL;

        if (!json_is_object(doc))
                return berth_fail(err, EINVAL, "document %zu: not an object", index + 1);
        if (kind == NULL || av == NULL)
                return berth_fail(err, EINVAL, "document %zu: Object 'Kind' is missing or apiVersion is not set",
                                  index + 1);
        if (kk == NULL || strcmp(kk->kind, kind) != 0 || strcmp(kk->api_version, av) != 0 ||
            strcmp(kind, "Event") == 0)
                return berth_fail(err, EINVAL, "document %zu: no matches for kind \"%s\" in version \"%s\"", index + 1,
                                  kind, av);
        json_t *meta = meta_of(doc);
        if (!json_string_value(json_object_get(meta, "name")))
                return berth_fail(err, EINVAL, "document %zu: %s: metadata.name: Required value", index + 1, kind);
        if (kk->namespaced) {
                if (!json_string_value(json_object_get(meta, "namespace")))
                        json_object_set_new(meta, "namespace", json_string(ns ? ns : "default"));
                else if (ns && strcmp(ns, json_string_value(json_object_get(meta, "namespace"))) != 0)
                        return berth_fail(err, EINVAL,
                                          "the namespace from the provided object \"%s\" does not match the "
                                          "namespace \"%s\". You must pass '--namespace=%s' to perform this "
                                          "operation.",
                                          json_string_value(json_object_get(meta, "namespace")), ns,
                                          json_string_value(json_object_get(meta, "namespace")));
        } else {
                json_object_del(meta, "namespace");
        }
        *out = kk;
        return 0;
}

/* Labels and annotations: the document's, plus those the server set
 * that the previous apply did not (a controller's revision annotation). */
static void merge_map(json_t *meta, const json_t *cur_meta, const json_t *last_meta, const char *field)
{
        json_t *mine = json_object_get(meta, field), *cur = json_object_get(cur_meta, field);
        json_t *last = json_object_get(last_meta, field);
        const char *key;
        json_t *v;

        json_object_foreach(cur, key, v) {
                if (json_object_get(mine, key) || json_object_get(last, key) || strcmp(key, LAST_APPLIED) == 0)
                        continue;
                if (!json_is_object(mine))
                        json_object_set_new(meta, field, mine = must(json_object()));
                json_object_set(mine, key, v);
        }
}

/* Fields the server or a controller set: a spec field neither this
 * document nor the previous apply has is kept (an allocated clusterIP,
 * ipFamilies, replicas an HPA manages), as kubectl's three-way merge
 * keeps it; one the previous apply had and this one drops goes.  A
 * Service's allocated nodePorts are kept port by port. */
static void keep_server_fields(json_t *obj, const json_t *cur, const json_t *last)
{
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        json_t *spec = json_object_get(obj, "spec"), *cspec = json_object_get(cur, "spec");
        json_t *lspec = json_object_get(last, "spec"), *v;
        const char *key;

        if (json_object_get(cur, "status"))
                json_object_set(obj, "status", json_object_get(cur, "status"));
        if (!json_is_object(spec) || !json_is_object(cspec))
                return;
        json_object_foreach(cspec, key, v) if (!json_object_get(spec, key) && !json_object_get(lspec, key))
                json_object_set(spec, key, v);
        if (strcmp(kind, "Service") == 0) {
                size_t i;
                json_t *p;
                json_array_foreach(json_object_get(spec, "ports"), i, p) {
                        json_t *cp = json_array_get(json_object_get(cspec, "ports"), i);
                        if (!json_object_get(p, "nodePort") && json_object_get(cp, "nodePort") &&
                            json_equal(json_object_get(p, "port"), json_object_get(cp, "port")))
                                json_object_set(p, "nodePort", json_object_get(cp, "nodePort"));
                }
        }
}

/* What differs between two versions of an object, ignoring the fields the
 * server keeps to itself. */
static bool same_object(const json_t *a, const json_t *b)
{
        json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
        static const char *const server[] = { "uid", "resourceVersion", "generation", "creationTimestamp",
                                              "managedFields" };

        for (size_t i = 0; i < sizeof(server) / sizeof(server[0]); i++) {
                json_object_del(json_object_get(x, "metadata"), server[i]);
                json_object_del(json_object_get(y, "metadata"), server[i]);
        }
        json_object_del(x, "status");
        json_object_del(y, "status");
        bool same = json_equal(x, y);
        json_decref(x);
        json_decref(y);
        return same;
}

struct planned {
        json_t *obj;            /* validated, ready to store */
        bool exists, unchanged;
};

static int plan_one(struct kube *k, json_t *doc, struct planned *p, json_t *warnings, berth_error_t **err)
{
        json_t *meta = meta_of(doc), *cur = NULL, *last = NULL;
        _cleanup_error_ berth_error_t *absent = NULL;
        _cleanup_free_ char *applied = NULL;
        const char *kind = json_string_value(json_object_get(doc, "kind"));
        int r;

        kube_schema_warnings(doc, warnings);
        json_object_del(doc, "status");
        /* what the user applied, for the next apply's three-way merge */
        json_t *clean = json_deep_copy(doc);
        json_object_del(json_object_get(clean, "metadata"), "annotations");
        /* a Secret's values never leave it, not even through this
         * annotation (kubectl would copy stringData into it in clear) */
        if (strcmp(kind, "Secret") == 0) {
                json_object_del(clean, "data");
                json_object_del(clean, "stringData");
        }
        applied = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(clean);
        if (kube_get(k, kind, json_string_value(json_object_get(meta, "namespace")),
                     json_string_value(json_object_get(meta, "name")), &cur, &absent) == 0) {
                json_t *cmeta = json_object_get(cur, "metadata");
                const char *text = json_string_value(json_object_get(json_object_get(cmeta, "annotations"), LAST_APPLIED));
                last = text ? json_loads(text, 0, NULL) : NULL;
                merge_map(meta, cmeta, json_object_get(last, "metadata"), "labels");
                merge_map(meta, cmeta, json_object_get(last, "metadata"), "annotations");
                keep_server_fields(doc, cur, last);
                p->exists = true;
        }
        json_t *ann = json_object_get(meta, "annotations");
        if (!json_is_object(ann))
                json_object_set_new(meta, "annotations", ann = must(json_object()));
        json_object_set_new(ann, LAST_APPLIED, json_string(applied));
        r = kube_validate(k, doc, cur, err);
        if (r == 0) {
                p->obj = json_incref(doc);
                p->unchanged = cur && same_object(doc, cur);
                if (cur)
                        json_object_set(json_object_get(doc, "metadata"), "resourceVersion",
                                        json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
        }
        json_decref(last);
        json_decref(cur);
        return r;
}

static json_t *result_line(const json_t *obj, const char *action)
{
        json_t *meta = json_object_get(obj, "metadata");
        return must(json_pack("{s:O, s:O, s:O*, s:O, s:s}", "apiVersion", json_object_get(obj, "apiVersion"), "kind",
                              json_object_get(obj, "kind"), "namespace", json_object_get(meta, "namespace"), "name",
                              json_object_get(meta, "name"), "action", action));
}

static int parse_docs(const char *text, size_t len, json_t **docs, berth_error_t **err)
{
        if (kube_yaml_parse(text, len, docs, err) < 0)
                return -EINVAL;
        /* a List (kubectl get -o yaml's output) applies its items */
        json_t *flat = must(json_array()), *d, *item;
        size_t i, j;
        json_array_foreach(*docs, i, d) {
                const char *kind = json_string_value(json_object_get(d, "kind"));
                if (kind && strlen(kind) > 4 && strcmp(kind + strlen(kind) - 4, "List") == 0 &&
                    json_is_array(json_object_get(d, "items")))
                        json_array_foreach(json_object_get(d, "items"), j, item) json_array_append(flat, item);
                else
                        json_array_append(flat, d);
        }
        json_decref(*docs);
        *docs = flat;
        return 0;
}

int kube_apply_text(struct kube *k, const char *text, size_t len, const char *ns, json_t **result,
                    berth_error_t **err)
{
        json_t *docs = NULL, *doc;
        size_t i, n;
        int r = 0;

        if (parse_docs(text, len, &docs, err) < 0)
                return -EINVAL;
        n = json_array_size(docs);
        if (n == 0) {
                json_decref(docs);
                return berth_fail(err, EINVAL, "no objects passed to apply");
        }
        struct planned *plan = xcalloc(n, sizeof(*plan));
        json_t *warnings = must(json_array()), *results = must(json_array());
        kube_lock(k);
        json_array_foreach(docs, i, doc) {
                const struct kube_kind *kk;
                if ((r = identify(doc, i, ns, &kk, err)) < 0 || (r = plan_one(k, doc, &plan[i], warnings, err)) < 0)
                        break;
        }
        for (i = 0; r == 0 && i < n; i++) {
                if (plan[i].unchanged) {
                        json_array_append_new(results, result_line(plan[i].obj, "unchanged"));
                        continue;
                }
                r = plan[i].exists ? kube_update(k, plan[i].obj, NULL, err) : kube_create(k, plan[i].obj, NULL, err);
                if (r == 0)
                        json_array_append_new(results, result_line(plan[i].obj, plan[i].exists ? "configured" : "created"));
        }
        kube_unlock(k);
        for (i = 0; i < n; i++)
                json_decref(plan[i].obj);
        free(plan);
        json_decref(docs);
        if (r < 0) {
                json_decref(warnings);
                json_decref(results);
                return r;
        }
        *result = must(json_pack("{s:o, s:o}", "results", results, "warnings", warnings));
        return 0;
}

/* ---- delete ------------------------------------------------------------------ */

/* Orphan propagation: the dependents lose their reference to the owner. */
static void orphan_dependents(struct kube *k, const json_t *owner)
{
        static const char *const kinds[] = { "ReplicaSet", "Pod" };

        for (size_t i = 0; i < 2; i++) {
                json_t *all = kube_list(k, kinds[i], kube_meta_str(owner, "namespace"), NULL), *obj;
                size_t j;
                json_array_foreach(all, j, obj) {
                        if (!kube_is_owned_by(obj, owner))
                                continue;
                        json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *ref;
                        size_t x;
                        json_array_foreach(refs, x, ref) if (strcmp(json_string_value(json_object_get(ref, "uid")),
                                                                    kube_meta_str(owner, "uid")) == 0) {
                                json_array_remove(refs, x);
                                break;
                        }
                        _cleanup_error_ berth_error_t *err = NULL;
                        kube_update(k, obj, NULL, &err);
                }
                json_decref(all);
        }
}

int kube_delete_object(struct kube *k, const char *kind, const char *ns, const char *name, const char *propagation,
                       int64_t grace, json_t **out, berth_error_t **err)
{
        json_t *obj = NULL;

        if (kube_get(k, kind, ns, name, &obj, err) < 0)
                return -ENOENT;
        if (strcmp(kind, "Pod") == 0) {
                if (grace < 0)
                        grace = kube_spec_int(obj, "terminationGracePeriodSeconds", 30);
                json_decref(obj);
                return kube_mark_deleted(k, kind, ns, name, grace, out, err);
        }
        if (propagation && strcmp(propagation, "Orphan") == 0)
                orphan_dependents(k, obj);
        int r;
        /* the owners of others wait for them; anything else has none */
        if (propagation && strcmp(propagation, "Foreground") == 0 &&
            (strcmp(kind, "Deployment") == 0 || strcmp(kind, "ReplicaSet") == 0))
                r = kube_delete_foreground(k, kind, ns, name, err);
        else
                r = kube_remove(k, kind, ns, name, err);
        if (r == 0 && out)
                *out = json_incref(obj);
        json_decref(obj);
        return r;
}

int kube_delete_text(struct kube *k, const char *text, size_t len, const char *ns, const char *propagation,
                     int64_t grace, json_t **result, berth_error_t **err)
{
        json_t *docs = NULL, *doc, *results;
        size_t i;

        if (parse_docs(text, len, &docs, err) < 0)
                return -EINVAL;
        json_array_foreach(docs, i, doc) {
                const struct kube_kind *kk;
                if (identify(doc, i, ns, &kk, err) < 0) {
                        json_decref(docs);
                        return -EINVAL;
                }
        }
        results = must(json_array());
        json_array_foreach(docs, i, doc) {
                _cleanup_error_ berth_error_t *e = NULL;
                int r = kube_delete_object(k, json_string_value(json_object_get(doc, "kind")), kube_meta_str(doc, "namespace"),
                                           kube_meta_str(doc, "name"), propagation, grace, NULL, &e);
                json_array_append_new(results, result_line(doc, r == 0 ? "deleted" : "not found"));
        }
        json_decref(docs);
        *result = must(json_pack("{s:o}", "results", results));
        return 0;
}

/* ---- scale and rollback --------------------------------------------------------- */

int kube_scale(struct kube *k, const char *kind, const char *ns, const char *name, int64_t replicas, json_t **out,
               berth_error_t **err)
{
        json_t *obj = NULL, *stored = NULL;

        if (strcmp(kind, "Deployment") != 0 && strcmp(kind, "ReplicaSet") != 0)
                return berth_fail(err, EINVAL, "%s: the server could not find the requested resource", kind);
        if (replicas < 0)
                return berth_fail(err, EINVAL, "the replicas must be 0 or more");
        if (kube_get(k, kind, ns, name, &obj, err) < 0)
                return -ENOENT;
        json_object_set_new(json_object_get(obj, "spec"), "replicas", json_integer(replicas));
        int r = kube_update(k, obj, &stored, err);
        json_decref(obj);
        if (r < 0)
                return r;
        *out = must(json_pack("{s:s, s:s, s:{s:O, s:O}, s:{s:I}, s:{s:I}}", "apiVersion", "autoscaling/v1", "kind",
                              "Scale", "metadata", "name", json_object_get(json_object_get(stored, "metadata"), "name"),
                              "namespace", json_object_get(json_object_get(stored, "metadata"), "namespace"), "spec",
                              "replicas", (json_int_t)replicas, "status", "replicas",
                              json_integer_value(json_object_get(json_object_get(stored, "status"), "replicas"))));
        json_decref(stored);
        return 0;
}

int kube_rollback(struct kube *k, const char *ns, const char *name, long to_revision, long *revision,
                  berth_error_t **err)
{
        json_t *d = NULL, *all, *rs, *pick = NULL;
        long newest = 0, previous = 0;
        size_t i;

        if (kube_get(k, "Deployment", ns, name, &d, err) < 0)
                return -ENOENT;
        all = kube_list(k, "ReplicaSet", ns, NULL);
        json_array_foreach(all, i, rs) {
                if (!kube_is_owned_by(rs, d))
                        continue;
                long rev = kube_revision(rs);
                if (rev > newest)
                        previous = newest, newest = rev;
                else if (rev > previous)
                        previous = rev;
        }
        long want = to_revision ? to_revision : previous;
        json_array_foreach(all, i, rs) if (kube_is_owned_by(rs, d) && kube_revision(rs) == want && want) pick = rs;
        int r;
        if (pick == NULL) {
                r = to_revision ? berth_fail(err, EINVAL, "unable to find specified revision %ld in history", to_revision)
                                : berth_fail(err, EINVAL, "no rollout history found for deployment \"%s\"", name);
        } else {
                json_object_set_new(json_object_get(d, "spec"), "template", kube_template_without_hash(pick));
                r = kube_update(k, d, NULL, err);
                *revision = want;
        }
        json_decref(all);
        json_decref(d);
        return r;
}

/* ---- list -------------------------------------------------------------------------- */

/* "default" always exists, and so does every namespace an object is in,
 * declared or not (kubectl apply -n x works without a Namespace). */
static void add_implicit_namespaces(struct kube *k, json_t *items, const json_t *sel)
{
        json_t *names = must(json_object()), *all = kube_list(k, NULL, NULL, NULL), *o;
        const char *name;
        size_t i;

        json_object_set_new(names, "default", json_true());
        json_array_foreach(all, i, o) if (kube_meta_str(o, "namespace"))
                json_object_set_new(names, kube_meta_str(o, "namespace"), json_true());
        json_array_foreach(items, i, o) json_object_del(names, kube_meta_str(o, "name"));
        json_object_foreach(names, name, o) {
                json_t *ns = must(json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
                                            "Namespace", "metadata", "name", name, "labels",
                                            "kubernetes.io/metadata.name", name, "status", "phase", "Active"));
                if (kube_selector_matches(sel, json_object_get(json_object_get(ns, "metadata"), "labels")))
                        json_array_append(items, ns);
                json_decref(ns);
        }
        json_decref(all);
        json_decref(names);
}

int kube_list_objects(struct kube *k, const char *kind, const char *ns, const char *selector, json_t **out,
                      berth_error_t **err)
{
        const struct kube_kind *kk = kube_kind_by_name(kind);
        json_t *sel = NULL, *items;

        if (kk == NULL)
                return berth_fail(err, ENOENT, "the server doesn't have a resource type \"%s\"", kind);
        if (selector && *selector && kube_selector_parse(selector, &sel, err) < 0)
                return -EINVAL;
        if (strcmp(kk->kind, "Event") == 0)
                items = kube_events_for(k, NULL, ns, NULL);
        else
                items = kube_list(k, kk->kind, kk->namespaced ? ns : NULL, sel);
        if (strcmp(kk->kind, "Namespace") == 0)
                add_implicit_namespaces(k, items, sel);
        json_decref(sel);
        *out = must(json_pack("{s:s, s:s+, s:{s:s}, s:o}", "apiVersion", kk->api_version, "kind", kk->kind, "List",
                              "metadata", "resourceVersion", "", "items", items));
        return 0;
}
