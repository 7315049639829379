/* A pod's containers as Docker create bodies: the sandbox (berth-init in
 * pause mode, owning the network, IPC and UTS namespaces) and each init
 * or app container joined to it, with Kubernetes' command/args rules,
 * resources → cgroup knobs (kuberuntime_container_linux.go), names and
 * labels as dockershim had them. */
#include "orch/kubelet.h"
#include "orch/kube-calc.h"
#include "util/util.h"

static const char *md_str(const json_t *pod, const char *key)
{
        const char *v = json_string_value(json_object_get(json_object_get(pod, "metadata"), key));

        return v ? v : "";
}

static const char *pod_ns(const json_t *pod)
{
        const char *ns = md_str(pod, "namespace");

        return *ns ? ns : "default";
}

char *kubelet_container_name(const json_t *pod, const char *ctr, int attempt)
{
        return xasprintf("k8s_%s_%s_%s_%.8s_%d", ctr, md_str(pod, "name"), pod_ns(pod), md_str(pod, "uid"), attempt);
}

char *kubelet_sandbox_name(const json_t *pod)
{
        return xasprintf("k8s_%s_%s_%s_%.8s", KL_SANDBOX, md_str(pod, "name"), pod_ns(pod), md_str(pod, "uid"));
}

json_t *kl_labels(const json_t *pod, const char *ctr, int attempt)
{
        _cleanup_free_ char *a = xasprintf("%d", attempt);

        return must(json_pack("{s:s, s:s, s:s, s:s, s:s}", KL_LABEL_POD, md_str(pod, "name"), KL_LABEL_NS,
                              pod_ns(pod), KL_LABEL_UID, md_str(pod, "uid"), KL_LABEL_CTR, ctr, KL_LABEL_ATTEMPT, a));
}

const char *kubelet_qos(const json_t *pod)
{
        return kube_qos_class(json_object_get(pod, "spec"));
}

char *kubelet_cgroup_parent(const json_t *pod)
{
        const char *qos = kubelet_qos(pod);
        const char *uid = md_str(pod, "uid");

        if (strcmp(qos, "Guaranteed") == 0)
                return xasprintf("kubepods/pod%s", uid);
        return xasprintf("kubepods/%s/pod%s", strcmp(qos, "Burstable") == 0 ? "burstable" : "besteffort", uid);
}

/* ---- resources ------------------------------------------------------------ */

static bool quantity(const json_t *ctr, const char *group, const char *name, bool milli, int64_t *v)
{
        const json_t *q = json_object_get(json_object_get(json_object_get(ctr, "resources"), group), name);

        if (q == NULL || json_is_null(q))
                return false;
        return (milli ? kube_quantity_json_milli(q, v, NULL) : kube_quantity_json_bytes(q, v, NULL)) == 0;
}

/* The memory the pod requests in all, for Burstable's oom_score_adj. */
static int64_t container_mem_request(const json_t *ctr)
{
        int64_t v = 0;

        return quantity(ctr, "requests", "memory", false, &v) ? v : 0;
}

static void resources(const struct kl_body_in *in, json_t *hc, bool *clamped)
{
        const char *qos = kubelet_qos(in->pod);
        int64_t cpu_req = 0, cpu_lim = 0, mem_lim = 0;
        long long adj;

        quantity(in->ctr, "requests", "cpu", true, &cpu_req);
        json_object_set_new(hc, "CpuShares", must(json_integer((json_int_t)kube_cpu_shares(cpu_req))));
        if (quantity(in->ctr, "limits", "cpu", true, &cpu_lim) && cpu_lim > 0) {
                json_object_set_new(hc, "CpuQuota", must(json_integer(kube_cpu_quota(cpu_lim, KUBE_CPU_PERIOD_US))));
                json_object_set_new(hc, "CpuPeriod", must(json_integer(KUBE_CPU_PERIOD_US)));
        }
        if (quantity(in->ctr, "limits", "memory", false, &mem_lim) && mem_lim > 0) {
                json_object_set_new(hc, "Memory", must(json_integer(mem_lim)));
                json_object_set_new(hc, "MemorySwap", must(json_integer(mem_lim)));
        }
        /* requests.memory: no cgroup v1 knob (R4) */
        adj = kube_oom_score_adj(qos, container_mem_request(in->ctr), in->node_mem);
        if (adj < 0) {
                /* no CAP_SYS_RESOURCE on this host: a negative score fails */
                if (clamped)
                        *clamped = true;
                adj = 0;
        }
        json_object_set_new(hc, "OomScoreAdj", must(json_integer(adj)));
}

/* ---- security context ------------------------------------------------------ */

static const json_t *sc_field(const struct kl_body_in *in, const char *key)
{
        const json_t *v = json_object_get(json_object_get(in->ctr, "securityContext"), key);

        if (v == NULL || json_is_null(v))
                v = json_object_get(json_object_get(json_object_get(in->pod, "spec"), "securityContext"), key);
        return v && !json_is_null(v) ? v : NULL;
}

static void security(const struct kl_body_in *in, json_t *body, json_t *hc)
{
        const json_t *sc = json_object_get(in->ctr, "securityContext");
        const json_t *uid = sc_field(in, "runAsUser"), *gid = sc_field(in, "runAsGroup");
        const json_t *caps = json_object_get(sc, "capabilities");

        if (uid && gid)
                json_object_set_new(body, "User", must(json_sprintf("%lld:%lld", (long long)json_integer_value(uid),
                                                                    (long long)json_integer_value(gid))));
        else if (uid)
                json_object_set_new(body, "User", must(json_sprintf("%lld", (long long)json_integer_value(uid))));
        if (json_is_true(json_object_get(sc, "privileged")))
                json_object_set_new(hc, "Privileged", json_true());
        if (json_is_true(json_object_get(sc, "readOnlyRootFilesystem")))
                json_object_set_new(hc, "ReadonlyRootfs", json_true());
        if (json_is_array(json_object_get(caps, "add")))
                json_object_set(hc, "CapAdd", json_object_get(caps, "add"));
        if (json_is_array(json_object_get(caps, "drop")))
                json_object_set(hc, "CapDrop", json_object_get(caps, "drop"));
}

/* ---- command ------------------------------------------------------------- */

static json_t *expand_list(const json_t *list, const json_t *env)
{
        json_t *out = must(json_array()), *v;
        size_t i;

        json_array_foreach(list, i, v) {
                char *s = kubelet_expand(json_string_value(v) ? json_string_value(v) : "", env);
                json_array_append_new(out, must(json_string_nocheck(s)));
                free(s);
        }
        return out;
}

/* command replaces the image's ENTRYPOINT and, with it, its CMD (the
 * engine drops the image's Cmd once an Entrypoint is given); args alone
 * replace CMD. */
static void command(const struct kl_body_in *in, json_t *body)
{
        const json_t *cmd = json_object_get(in->ctr, "command"), *args = json_object_get(in->ctr, "args");

        if (json_array_size(cmd) > 0)
                json_object_set_new(body, "Entrypoint", expand_list(cmd, in->env));
        if (json_array_size(args) > 0)
                json_object_set_new(body, "Cmd", expand_list(args, in->env));
}

static json_t *env_list(const json_t *env)
{
        json_t *out = must(json_array()), *v;
        const char *key;

        json_object_foreach((json_t *)env, key, v) {
                char *s = xasprintf("%s=%s", key, json_string_value(v) ? json_string_value(v) : "");
                json_array_append_new(out, must(json_string_nocheck(s)));
                free(s);
        }
        return out;
}

static json_int_t grace_of(const json_t *pod)
{
        json_t *g = json_object_get(json_object_get(pod, "spec"), "terminationGracePeriodSeconds");

        return json_is_integer(g) ? json_integer_value(g) : 30;
}

json_t *kubelet_container_body(const struct kl_body_in *in, bool *clamped)
{
        const char *name = json_string_value(json_object_get(in->ctr, "name"));
        const char *wd = json_string_value(json_object_get(in->ctr, "workingDir"));
        _cleanup_free_ char *join = xasprintf("container:%s", in->sandbox_id);
        json_t *body = must(json_object()), *hc = must(json_object()), *labels;

        if (clamped)
                *clamped = false;
        json_object_set_new(body, "Image", must(json_string(in->image)));
        command(in, body);
        json_object_set_new(body, "Env", env_list(in->env));
        if (wd && *wd)
                json_object_set_new(body, "WorkingDir", must(json_string(wd)));
        json_object_set_new(body, "Tty", json_boolean(json_is_true(json_object_get(in->ctr, "tty"))));
        json_object_set_new(body, "OpenStdin", json_boolean(json_is_true(json_object_get(in->ctr, "stdin"))));
        json_object_set_new(body, "StdinOnce", json_boolean(json_is_true(json_object_get(in->ctr, "stdinOnce"))));
        labels = kl_labels(in->pod, name, in->attempt);
        if (in->init)
                json_object_set_new(labels, KL_LABEL_INIT, must(json_string("true")));
        json_object_set_new(body, "Labels", labels);
        json_object_set_new(body, "StopTimeout", must(json_integer(grace_of(in->pod))));
        security(in, body, hc);

        json_object_set_new(hc, "NetworkMode", must(json_string(join)));
        json_object_set_new(hc, "IpcMode", must(json_string(join)));
        json_object_set_new(hc, "UTSMode", must(json_string(join)));
        if (json_is_true(json_object_get(json_object_get(in->pod, "spec"), "shareProcessNamespace")))
                json_object_set_new(hc, "PidMode", must(json_string(join)));
        if (in->mounts)
                json_object_set(hc, "Mounts", in->mounts);
        resources(in, hc, clamped);
        if (in->cgroup_parent)
                json_object_set_new(hc, "CgroupParent", must(json_string(in->cgroup_parent)));
        json_object_set_new(body, "HostConfig", hc);
        return body;
}

/* ---- the sandbox ------------------------------------------------------------ */

static void dns(const json_t *spec, const char *ns, json_t *hc)
{
        const char *policy = json_string_value(json_object_get(spec, "dnsPolicy"));
        const json_t *cfg = json_object_get(spec, "dnsConfig");
        bool host_net = json_is_true(json_object_get(spec, "hostNetwork"));
        json_t *search = must(json_array()), *opts = must(json_array()), *v;
        size_t i;

        if (policy == NULL)
                policy = "ClusterFirst";
        /* ClusterFirst with the host's network falls back to Default */
        if ((strcmp(policy, "ClusterFirst") == 0 && !host_net) || strcmp(policy, "ClusterFirstWithHostNet") == 0) {
                json_array_append_new(search, must(json_sprintf("%s.svc.%s", ns, KUBE_CLUSTER_DOMAIN)));
                json_array_append_new(search, must(json_sprintf("svc.%s", KUBE_CLUSTER_DOMAIN)));
                json_array_append_new(search, must(json_string(KUBE_CLUSTER_DOMAIN)));
                json_array_append_new(opts, must(json_string("ndots:5")));
        }
        json_array_foreach(json_object_get(cfg, "searches"), i, v) json_array_append(search, v);
        json_array_foreach(json_object_get(cfg, "options"), i, v) {
                const char *n = json_string_value(json_object_get(v, "name"));
                const char *val = json_string_value(json_object_get(v, "value"));
                if (n)
                        json_array_append_new(opts, val ? must(json_sprintf("%s:%s", n, val)) : must(json_string(n)));
        }
        if (json_array_size(json_object_get(cfg, "nameservers")))
                json_object_set(hc, "Dns", json_object_get(cfg, "nameservers"));
        json_object_set_new(hc, "DnsSearch", search);
        json_object_set_new(hc, "DnsOptions", opts);
}

/* hostPort → the sandbox's port bindings (it owns the network). */
static void host_ports(const json_t *spec, json_t *body, json_t *hc)
{
        json_t *exposed = must(json_object()), *bindings = must(json_object()), *c, *p;
        static const char *const lists[] = { "initContainers", "containers" };
        size_t i, j;

        for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
                json_array_foreach(json_object_get(spec, lists[l]), i, c) json_array_foreach(json_object_get(c, "ports"), j, p) {
                        json_int_t hp = json_integer_value(json_object_get(p, "hostPort"));
                        json_int_t cp = json_integer_value(json_object_get(p, "containerPort"));
                        const char *proto = json_string_value(json_object_get(p, "protocol"));
                        const char *hip = json_string_value(json_object_get(p, "hostIP"));
                        if (hp <= 0 || cp <= 0)
                                continue;
                        _cleanup_free_ char *key = xasprintf("%lld/%s", (long long)cp, proto ? proto : "tcp");
                        for (char *k = key; *k; k++)
                                *k = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
                        _cleanup_free_ char *hps = xasprintf("%lld", (long long)hp);
                        json_object_set_new(exposed, key, must(json_object()));
                        json_object_set_new(bindings, key, must(json_pack("[{s:s, s:s}]", "HostIp", hip ? hip : "",
                                                                          "HostPort", hps)));
                }
        if (json_object_size(bindings)) {
                json_object_set_new(body, "ExposedPorts", exposed);
                json_object_set_new(hc, "PortBindings", bindings);
        } else {
                json_decref(exposed);
                json_decref(bindings);
        }
}

json_t *kubelet_sandbox_body(const json_t *pod, const char *image, const char *network, const char *cgroup_parent)
{
        const json_t *spec = json_object_get(pod, "spec");
        bool host_net = json_is_true(json_object_get(spec, "hostNetwork"));
        const char *hostname = json_string_value(json_object_get(spec, "hostname"));
        json_t *body = must(json_object()), *hc = must(json_object());

        if (hostname == NULL || *hostname == '\0')
                hostname = md_str(pod, "name");
        json_object_set_new(body, "Image", must(json_string(image)));
        json_object_set_new(body, "Entrypoint", must(json_pack("[s]", "/sbin/docker-init")));
        json_object_set_new(body, "Cmd", must(json_pack("[s]", "-p")));
        if (!host_net)
                json_object_set_new(body, "Hostname", must(json_stringn(hostname, MIN(strlen(hostname), 63))));
        json_object_set_new(body, "Labels", kl_labels(pod, KL_SANDBOX, 0));
        json_object_set_new(body, "StopTimeout", must(json_integer(2)));
        json_object_set_new(hc, "NetworkMode", must(json_string(host_net ? "host" : network)));
        if (host_net)
                json_object_set_new(hc, "UTSMode", must(json_string("host")));
        json_object_set_new(hc, "IpcMode", must(json_string("shareable")));
        json_object_set_new(hc, "Init", json_true());
        json_object_set_new(hc, "CpuShares", must(json_integer(2)));
        dns(spec, pod_ns(pod), hc);
        host_ports(spec, body, hc);
        if (cgroup_parent)
                json_object_set_new(hc, "CgroupParent", must(json_string(cgroup_parent)));
        json_object_set_new(body, "HostConfig", hc);
        return body;
}
