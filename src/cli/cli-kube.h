/* berth kube: kubectl's commands against berthd's /berth/v1 API
 * (docs/kube-api.md).  The pure parts (resource names, label selectors,
 * the columns kubectl computes, its durations, Go's tabwriter, the
 * rollout-status decision) are in cli-kube-names.c, cli-kube-columns.c and
 * cli-kube-tabw.c, which do no I/O so that tests/unit/test-cli-kube.c
 * builds them alone. */
#pragma once
#include "cli/cli.h"

/* ---- resources (cli-kube-names.c) ---- */
struct kube_res {
        const char *kind;               /* "Deployment" */
        const char *resource;           /* "deployments", in paths */
        const char *singular;           /* "deployment" */
        const char *short_name;         /* "deploy", NULL when none */
        const char *group;              /* "apps", "" for the core group */
        bool namespaced;
};
/* A name as kubectl takes it: kind, plural, singular or short name, any
 * case, optionally qualified by its group ("deployments.apps"). */
const struct kube_res *kube_res_find(const char *name);
/* By kind ("Deployment"); NULL when unknown. */
const struct kube_res *kube_res_by_kind(const char *kind);
/* What kubectl prints before a name: "deployment.apps", "pod". */
char *kube_res_qualified(const struct kube_res *r);
/* The same from a kind and apiVersion ("apps/v1"), for kinds the CLI
 * does not know. */
char *kube_kind_qualified(const char *kind, const char *api_version);
/* "deployments.apps", "pods": the plural as NotFound errors name it. */
char *kube_res_plural_qualified(const struct kube_res *r);

/* The objects a command names: "TYPE[,TYPE...] [NAME...]" or
 * "TYPE/NAME..." ("all" is pods, services, deployments, replicasets and
 * horizontalpodautoscalers).  One group per resource, in the order first
 * named; no names means every object of it. */
struct kube_group {
        const struct kube_res *r;
        char **names;
        size_t n;
};
int kube_parse_targets(char **args, int n, struct kube_group **out, size_t *nout, berth_error_t **err);
void kube_groups_free(struct kube_group *g, size_t n);

/* Object access by a dotted path ("metadata.name"); NULL when absent. */
const json_t *kube_at(const json_t *obj, const char *path);
const char *kube_str(const json_t *obj, const char *path);
long long kube_int(const json_t *obj, const char *path, long long dflt);
/* A string in a map (labels, annotations) whose keys hold dots. */
const char *kube_map_str(const json_t *obj, const char *map_path, const char *key);

/* ---- label selectors ---- */
/* Parse "k=v,k!=v,k in (a,b),!k" as kubectl (labels.Parse) does: an array
 * of {key, operator (In, NotIn, Exists, DoesNotExist, Equals, NotEquals),
 * values}; -1 with kubectl's message when malformed. */
int kube_selector_parse(const char *s, json_t **reqs, berth_error_t **err);
/* A LabelSelector object ({matchLabels, matchExpressions}) or a plain map
 * as the selector string kubectl prints ("app=web,tier in (a,b)"), keys
 * sorted; "" when empty. */
char *kube_selector_string(const json_t *selector);
/* A label map as "k=v,k2=v2" (sorted), "<none>" when empty. */
char *kube_labels_string(const json_t *labels);

/* ---- times (cli-kube-columns.c) ---- */
/* RFC 3339 ("2026-11-29T17:00:00Z", fractions and offsets allowed) to Unix
 * seconds; -1 when absent or unparsable. */
long long kube_time_parse(const char *s);
/* A Go duration ("30s", "1m30s", "500ms") or whole seconds ("30") in
 * milliseconds; -1 when neither. */
long long kube_parse_duration(const char *s);
/* kubectl's duration.HumanDuration: "5s", "3m20s", "7h", "2d3h"... */
char *kube_human_duration(long long seconds);
/* The AGE of a timestamp at now, "<unknown>" when there is none. */
char *kube_age(const char *rfc3339, long long now);
/* RFC 1123 with numeric zone in local time, as describe prints times. */
char *kube_time_rfc1123z(const char *rfc3339);

/* ---- columns kubectl computes ---- */
/* A pod's STATUS (printPod): init progress, a waiting or terminated
 * reason, Completed/NotReady, Terminating, else the phase. */
char *kube_pod_status(const json_t *pod);
/* READY "1/2" and RESTARTS "3 (5s ago)". */
char *kube_pod_ready(const json_t *pod);
char *kube_pod_restarts(const json_t *pod, long long now);
/* A Service's PORT(S): "80:30080/TCP,443/TCP", "<none>". */
char *kube_service_ports(const json_t *svc);
/* A Service's EXTERNAL-IP. */
char *kube_service_external_ip(const json_t *svc);
/* An Endpoints' addresses "10.42.0.5:80,..." (at most 3, then " + N
 * more..."), only the ports named port_name when it is not NULL; "<none>". */
char *kube_endpoints_string(const json_t *ep, const char *port_name);
/* An HPA's TARGETS: "cpu: 12%/50%", "<none>". */
char *kube_hpa_targets(const json_t *hpa);
/* Container names and images joined with ",". */
char *kube_container_names(const json_t *containers);
char *kube_container_images(const json_t *containers);
/* The number of bytes a base64 string decodes to. */
size_t kube_b64_len(const char *s);
/* A JSON scalar as text (strings as they are, numbers printed); "" for
 * NULL. */
char *kube_scalar(const json_t *v);

/* ---- rollout status (kubectl's DeploymentStatusViewer) ---- */
/* 1: rolled out (*msg "deployment \"web\" successfully rolled out");
 * 0: not yet (*msg says what is awaited); -1: failed for good (err:
 * exceeded its progress deadline, or another revision is running).
 * revision > 0 asks for that revision. */
int kube_rollout_status(const json_t *deploy, long long revision, char **msg, berth_error_t **err);

/* ---- Go's text/tabwriter, padding with spaces (cli-kube-tabw.c) ---- */
struct tabw {
        struct strbuf text;
        size_t minwidth, padding;
};
void tabw_init(struct tabw *w, size_t minwidth, size_t padding);
void tabw_printf(struct tabw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The aligned text (the caller frees); the writer is emptied. */
char *tabw_render(struct tabw *w);
void tabw_free(struct tabw *w);

/* ---- talking to berthd (cli-kube.c) ---- */
struct kube_opts {
        const char *ns;         /* -n, "default" unless given */
        bool all_ns;            /* -A */
};
/* One request to /berth/v1; a status >= 400 becomes kubectl's
 * "Error from server (NotFound): <message>". */
int kube_request(struct cli *c, const char *method, const char *path, const char *body,
                 const char *content_type, struct cli_response *resp, berth_error_t **err);
int kube_get_json(struct cli *c, const char *path, json_t **out, berth_error_t **err);
/* /berth/v1/namespaces/NS/RESOURCE[/NAME] (or the cluster-wide list when
 * ns is NULL), with query appended when not NULL ("labelSelector=..."). */
char *kube_path(const struct kube_res *r, const char *ns, const char *name, const char *query);
/* List: the items array (a new reference) of RESOURCE in ns (NULL: every
 * namespace) matching selector (NULL: all). */
int kube_list(struct cli *c, const struct kube_res *r, const char *ns, const char *selector, json_t **items,
              berth_error_t **err);
/* Print an error as kubectl does: the server's "Error from server ..."
 * as it is, the CLI's own as "error: ...". */
void kube_print_error(berth_error_t *err);
/* Parse options with kubectl's errors: returns the option, -1 at the end,
 * CLI_GETOPT_HELP after --help or -h (printed), CLI_GETOPT_ERROR after a
 * flag error (printed).  Options and arguments may be mixed, as pflag
 * allows; "--" ends the options. */
int kube_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts, const char *sub);
/* Print the help of "kube SUB" ("kube" alone: the command list). */
void kube_help(const char *sub);
/* The usage error of "kube SUB": "error: WHY" and the help hint; 1. */
int kube_usage(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* err's "Error from server (R): MSG" made "Error from server (R): CONTEXT: MSG"
 * (other errors get "CONTEXT: " in front). */
void kube_error_context(berth_error_t **err, const char *context);
/* Wait until GET path answers 404 (the object is gone): 0; 1 when
 * timeout_ms passed first; -1 on another failure. */
int kube_wait_gone(struct cli *c, const char *path, long long timeout_ms, berth_error_t **err);
/* kubectl's Error from server reason for an HTTP status ("NotFound"). */
const char *kube_status_reason(long status, const char *message);

/* ---- the commands ---- */
int kube_cmd_get(struct cli *c, int argc, char **argv);
int kube_cmd_describe(struct cli *c, int argc, char **argv);
int kube_cmd_rollout(struct cli *c, int argc, char **argv);
int kube_cmd_scale(struct cli *c, int argc, char **argv);
int cmd_kube(struct cli *c, int argc, char **argv);
