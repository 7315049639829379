/* docker_spec_build: the steps that turn a create body into config.json,
 * and the parts of the body that only the engine acts on (restart policy,
 * stop signal and timeout, init, auto-remove, healthcheck), checked here
 * so that a bad body fails at create, as with Docker, not later at start. */
#include "engine/docker-spec-internal.h"
#include "oci/signals.h"
#include <signal.h>

#define OCI_VERSION "1.1.0"

static int restart_policy(struct spec_ctx *ctx, berth_error_t **err)
{
        static const struct { const char *name; enum docker_restart_policy policy; } names[] = {
                { "", DOCKER_RESTART_NO },
                { "no", DOCKER_RESTART_NO },
                { "always", DOCKER_RESTART_ALWAYS },
                { "unless-stopped", DOCKER_RESTART_UNLESS_STOPPED },
                { "on-failure", DOCKER_RESTART_ON_FAILURE },
        };
        json_t *rp;
        const char *name;
        long long max;
        size_t i;
        int ret;

        if ((ret = dj_object(ctx->hc, "HostConfig.", "RestartPolicy", &rp, err)) < 0 ||
            (ret = dj_string(rp, "HostConfig.RestartPolicy.", "Name", &name, err)) < 0 ||
            (ret = dj_int(rp, "HostConfig.RestartPolicy.", "MaximumRetryCount", &max, err)) < 0)
                return ret;
        for (i = 0; i < ARRAY_SIZE(names); i++)
                if (strcmp(name, names[i].name) == 0)
                        break;
        if (i == ARRAY_SIZE(names)) {
                _cleanup_free_ char *q = printable(name);
                return berth_error(err, 0, "invalid restart policy: unknown policy '%s'; use one of 'no', 'always', "
                                   "'on-failure', or 'unless-stopped'", q);
        }
        ctx->info->restart = names[i].policy;
        /* Docker lets an empty name (what clients before v25 sent) carry any count */
        if (name[0] != '\0' && names[i].policy != DOCKER_RESTART_ON_FAILURE && max != 0)
                return berth_error(err, 0, "invalid restart policy: maximum retry count can only be used with "
                                   "'on-failure'%s", max < 0 ? " and cannot be negative" : "");
        if (max < 0)
                return berth_error(err, 0, "invalid restart policy: maximum retry count cannot be negative");
        ctx->info->restart_max_retries = names[i].policy == DOCKER_RESTART_ON_FAILURE ? max : 0;
        if (ctx->info->auto_remove && ctx->info->restart != DOCKER_RESTART_NO)
                return berth_error(err, 0, "can't create 'AutoRemove' container with restart policy");
        return 0;
}

static int stop_settings(struct spec_ctx *ctx, berth_error_t **err)
{
        const char *sig;
        json_t *timeout = dj_get(ctx->body, "StopTimeout");
        int ret;

        if ((ret = dj_string(ctx->body, "", "StopSignal", &sig, err)) < 0)
                return ret;
        if (sig[0] == '\0' && ctx->in->image && ctx->in->image->stop_signal)
                sig = ctx->in->image->stop_signal;
        ctx->info->stop_signal = sig[0] ? signal_parse(sig) : SIGTERM;
        if (ctx->info->stop_signal < 0) {
                _cleanup_free_ char *q = printable(sig);
                return berth_error(err, 0, "StopSignal: invalid signal: %s", q);
        }
        ctx->info->stop_timeout = -1;
        if (timeout && !json_is_null(timeout)) {
                if (!json_is_integer(timeout))
                        return berth_error(err, 0, "StopTimeout: expected an integer");
                ctx->info->stop_timeout_set = true;
                ctx->info->stop_timeout = json_integer_value(timeout);
        }
        return 0;
}

/* Config.Healthcheck, checked as dockerd does at create (the engine runs
 * it, engine-health.c): durations 0 (the image's or the default) or at
 * least 1ms, Retries not negative. */
static int healthcheck(struct spec_ctx *ctx, berth_error_t **err)
{
        static const char *const durations[] = { "Interval", "Timeout", "StartPeriod", "StartInterval" };
        _cleanup_free_ const char **test = NULL;
        json_t *hc;
        long long v;
        int ret;

        if ((ret = dj_object(ctx->body, "", "Healthcheck", &hc, err)) < 0 || hc == NULL ||
            (ret = dj_strv(hc, "Healthcheck.", "Test", false, &test, err)) < 0)
                return ret;
        for (size_t i = 0; i < ARRAY_SIZE(durations); i++) {
                if ((ret = dj_int(hc, "Healthcheck.", durations[i], &v, err)) < 0)
                        return ret;
                if (v != 0 && v < 1000000)
                        return berth_error(err, 0, "%s in Healthcheck cannot be less than 1ms", durations[i]);
        }
        if ((ret = dj_int(hc, "Healthcheck.", "Retries", &v, err)) < 0)
                return ret;
        if (v < 0)
                return berth_error(err, 0, "Retries in Healthcheck cannot be negative");
        return 0;
}

/* Windows' process/hyperv isolation means nothing on Linux. */
static int isolation(struct spec_ctx *ctx, berth_error_t **err)
{
        const char *iso;
        int ret;

        if ((ret = dj_string(ctx->hc, "HostConfig.", "Isolation", &iso, err)) < 0)
                return ret;
        if (iso[0] && strcmp(iso, "default") != 0) {
                _cleanup_free_ char *q = printable(iso);
                return berth_error(err, 0, "HostConfig.Isolation: invalid isolation %s: Linux only supports 'default'", q);
        }
        return 0;
}

static int engine_settings(struct spec_ctx *ctx, berth_error_t **err)
{
        struct docker_spec_info *info = ctx->info;
        int ret;

        if ((ret = isolation(ctx, err)) < 0)
                return ret;
        if ((ret = dj_bool(ctx->hc, "HostConfig.", "Init", &info->init, err)) < 0 ||
            (ret = dj_bool(ctx->hc, "HostConfig.", "AutoRemove", &info->auto_remove, err)) < 0 ||
            (ret = dj_bool(ctx->body, "", "Tty", &info->tty, err)) < 0 ||
            (ret = dj_bool(ctx->body, "", "OpenStdin", &info->open_stdin, err)) < 0 ||
            (ret = dj_bool(ctx->body, "", "StdinOnce", &info->stdin_once, err)) < 0)
                return ret;
        if ((ret = restart_policy(ctx, err)) < 0 || (ret = healthcheck(ctx, err)) < 0)
                return ret;
        return stop_settings(ctx, err);
}

/* HostConfig.Annotations go to the runtime as they are (Docker, API 1.43). */
static int annotations(struct spec_ctx *ctx, berth_error_t **err)
{
        json_t *ann, *v, *out;
        const char *key;
        int ret;

        if ((ret = dj_object(ctx->hc, "HostConfig.", "Annotations", &ann, err)) < 0 || ann == NULL)
                return ret;
        out = must(json_object());
        json_object_set_new(ctx->spec, "annotations", out);
        json_object_foreach(ann, key, v) {
                _cleanup_free_ char *field = field_key("HostConfig.Annotations", key);
                const char *s;
                if (key[0] == '\0')
                        return berth_error(err, 0, "HostConfig.Annotations: an annotation key is empty");
                if ((ret = dj_str_value(v, field, &s, err)) < 0)
                        return ret;
                json_object_set_new(out, key, must(json_string(s)));
        }
        return 0;
}

/* Docker's cgroupfs layout, under berth/: <CgroupParent or berth>/<id>. */
static int cgroups_path(struct spec_ctx *ctx, berth_error_t **err)
{
        const char *parent;
        _cleanup_free_ char *path = NULL;
        int ret;

        if ((ret = dj_string(ctx->hc, "HostConfig.", "CgroupParent", &parent, err)) < 0)
                return ret;
        if (strstr(parent, "..")) {
                _cleanup_free_ char *q = printable(parent);
                return berth_error(err, 0, "HostConfig.CgroupParent: %s must not contain \"..\"", q);
        }
        /* relative: the runtime puts it under its own parent ("berth"),
         * which it removes with the last container */
        path = xasprintf("%s%s%s", parent, parent[0] ? "/" : "", ctx->in->id);
        json_object_set_new(json_object_get(ctx->spec, "linux"), "cgroupsPath", must(json_string(path)));
        return 0;
}

static bool id_valid(const char *id)
{
        size_t n = 0;

        for (; id && id[n]; n++)
                if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
                        return false;
        return n == 64;
}

static json_t *skeleton(const struct docker_spec_input *in)
{
        const char *root = in->root_path ? in->root_path : in->rootfs ? in->rootfs : "rootfs";

        /* keys in the order runc's config.json has them; the names are
         * filled in (or dropped) by spec_namespaces */
        return must(json_pack("{s:s, s:{}, s:{s:s, s:b}, s:n, s:n, s:[], s:{}}", "ociVersion", OCI_VERSION, "process",
                              "root", "path", root, "readonly", 0, "hostname", "domainname", "mounts", "linux"));
}

static int build(struct spec_ctx *ctx, berth_error_t **err)
{
        int (*const steps[])(struct spec_ctx *, berth_error_t **) = {
                engine_settings, spec_security, spec_namespaces, spec_process,
                spec_mounts,     spec_resources, spec_seccomp,  annotations, cgroups_path,
        };
        int ret;

        if (!json_is_object(ctx->body))
                return berth_error(err, 0, "container config: expected a JSON object");
        if (!id_valid(ctx->in->id))
                return berth_error(err, 0, "container id: expected 64 lowercase hex digits");
        if ((ret = dj_object(ctx->body, "", "HostConfig", &ctx->hc, err)) < 0)
                return ret;
        for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
                if ((ret = steps[i](ctx, err)) < 0)
                        return ret;
        return 0;
}

int docker_spec_build(const struct docker_spec_input *in, json_t **config_out, struct docker_spec_info *info,
                      berth_error_t **err)
{
        struct spec_ctx ctx = { .in = in, .body = in->create, .info = info };
        int ret;

        memset(info, 0, sizeof(*info));
        *config_out = NULL;
        ctx.spec = skeleton(in);
        ret = build(&ctx, err);
        if (ret < 0) {
                json_decref(ctx.spec);
                docker_spec_info_clear(info);
                return ret;
        }
        *config_out = ctx.spec;
        return 0;
}

void docker_spec_info_clear(struct docker_spec_info *info)
{
        free(info->hostname);
        free(info->home);
        docker_mounts_free(info->mounts, info->n_mounts);
        strv_free_owned(info->warnings);
        memset(info, 0, sizeof(*info));
}
