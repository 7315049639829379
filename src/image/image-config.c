/* Image configs: the parts of the document the engine uses, and the checks
 * against the manifest and the platform it was pulled for. */
#include "image/manifest-internal.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

void image_history_clear(struct image_history *h)
{
        if (h == NULL)
                return;
        free(h->created);
        free(h->created_by);
        free(h->author);
        free(h->comment);
        memset(h, 0, sizeof(*h));
}

void image_config_free(struct image_config *c)
{
        if (c == NULL)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->os_version);
        free(c->created);
        free(c->author);
        strv_free(c->env);
        strv_free(c->cmd);
        strv_free(c->entrypoint);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        json_decref(c->labels);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++)
                image_history_clear(&c->history[i]);
        free(c->history);
        json_decref(c->raw);
        free(c);
}

/* "80", "80/tcp", "8000-8010/udp", "53/sctp" */
static bool port_valid(const char *s)
{
        const char *proto = strchr(s, '/');
        size_t n = proto ? (size_t)(proto - s) : strlen(s);
        long lo = 0, hi = -1, *cur = &lo;
        size_t digits = 0;

        if (proto && strcmp(proto + 1, "tcp") != 0 && strcmp(proto + 1, "udp") != 0 && strcmp(proto + 1, "sctp") != 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '-' && cur == &lo && digits > 0) {
                        cur = &hi;
                        hi = 0;
                        digits = 0;
                        continue;
                }
                if (!isdigit((unsigned char)s[i]) || ++digits > 5)
                        return false;
                *cur = *cur * 10 + (s[i] - '0');
        }
        if (digits == 0 || lo > 65535 || (cur == &hi && (hi > 65535 || hi < lo)))
                return false;
        return true;
}

/* The keys of an object whose values are ({} in practice) ignored. */
static int get_keys(json_t *obj, const char *at, const char *key, bool ports, char ***out, berth_error_t **err)
{
        json_t *v = doc_member(obj, key), *val;
        const char *k;
        char f[160];
        size_t i = 0;

        if (v == NULL)
                return 0;
        doc_field(f, sizeof(f), at, key);
        if (!json_is_object(v))
                return berth_error(err, 0, "%s: not an object", f);
        *out = xcalloc(json_object_size(v) + 1, sizeof(char *));
        json_object_foreach(v, k, val) {
                if (ports && !port_valid(k)) {
                        _cleanup_free_ char *q = doc_quoted(k);
                        return berth_error(err, 0, "%s: %s is not a port (\"80/tcp\")", f, q);
                }
                (*out)[i++] = xstrdup(k);
        }
        return 0;
}

static int parse_history(json_t *doc, struct image_config *c, berth_error_t **err)
{
        json_t *list = doc_member(doc, "history"), *h, *empty;
        char at[64];
        size_t i;
        int ret;

        if (list == NULL)
                return 0;
        if (!json_is_array(list))
                return berth_error(err, 0, "history: not an array");
        if (json_array_size(list) > IMAGE_CONFIG_MAX_HISTORY)
                return berth_error(err, 0, "history: %zu entries, more than the %d allowed", json_array_size(list),
                                   IMAGE_CONFIG_MAX_HISTORY);
        c->n_history = json_array_size(list);
        c->history = xcalloc(c->n_history, sizeof(*c->history));
        json_array_foreach(list, i, h) {
                struct image_history *e = &c->history[i];
                snprintf(at, sizeof(at), "history[%zu]", i);
                if (!json_is_object(h))
                        return berth_error(err, 0, "%s: not an object", at);
                if ((ret = doc_get_string(h, at, "created", false, &e->created, err)) < 0 ||
                    (ret = doc_get_string(h, at, "created_by", false, &e->created_by, err)) < 0 ||
                    (ret = doc_get_string(h, at, "author", false, &e->author, err)) < 0 ||
                    (ret = doc_get_string(h, at, "comment", false, &e->comment, err)) < 0)
                        return ret;
                if ((empty = doc_member(h, "empty_layer"))) {
                        if (!json_is_boolean(empty))
                                return berth_error(err, 0, "%s.empty_layer: not a boolean", at);
                        e->empty_layer = json_is_true(empty);
                }
        }
        return 0;
}

static int parse_container_config(json_t *doc, struct image_config *c, berth_error_t **err)
{
        json_t *cfg = doc_member(doc, "config");
        const char *at = "config";
        int ret;

        if (cfg == NULL)
                return 0;
        if (!json_is_object(cfg))
                return berth_error(err, 0, "config: not an object");
        if ((ret = doc_get_strv(cfg, at, "Env", SIZE_MAX, &c->env, NULL, err)) < 0 ||
            (ret = doc_get_strv(cfg, at, "Cmd", SIZE_MAX, &c->cmd, NULL, err)) < 0 ||
            (ret = doc_get_strv(cfg, at, "Entrypoint", SIZE_MAX, &c->entrypoint, NULL, err)) < 0 ||
            (ret = doc_get_string(cfg, at, "WorkingDir", false, &c->working_dir, err)) < 0 ||
            (ret = doc_get_string(cfg, at, "User", false, &c->user, err)) < 0 ||
            (ret = get_keys(cfg, at, "ExposedPorts", true, &c->exposed_ports, err)) < 0 ||
            (ret = get_keys(cfg, at, "Volumes", false, &c->volumes, err)) < 0 ||
            (ret = doc_get_string_map(cfg, at, "Labels", &c->labels, err)) < 0 ||
            (ret = doc_get_string(cfg, at, "StopSignal", false, &c->stop_signal, err)) < 0)
                return ret;
        return 0;
}

static int parse_config_doc(json_t *doc, struct image_config *c, berth_error_t **err)
{
        json_t *rootfs = doc_member(doc, "rootfs");
        const char *type;
        char at[64];
        int ret;

        if ((ret = doc_get_string(doc, "", "architecture", true, &c->architecture, err)) < 0 ||
            (ret = doc_get_string(doc, "", "os", true, &c->os, err)) < 0 ||
            (ret = doc_get_string(doc, "", "variant", false, &c->variant, err)) < 0 ||
            (ret = doc_get_string(doc, "", "os.version", false, &c->os_version, err)) < 0 ||
            (ret = doc_get_string(doc, "", "created", false, &c->created, err)) < 0 ||
            (ret = doc_get_string(doc, "", "author", false, &c->author, err)) < 0)
                return ret;
        if ((ret = parse_container_config(doc, c, err)) < 0)
                return ret;
        if (rootfs == NULL)
                return berth_error(err, 0, "rootfs: missing");
        if (!json_is_object(rootfs))
                return berth_error(err, 0, "rootfs: not an object");
        if (doc_member(rootfs, "type") == NULL)
                return berth_error(err, 0, "rootfs.type: missing");
        if ((type = json_string_value(doc_member(rootfs, "type"))) == NULL)
                return berth_error(err, 0, "rootfs.type: not a string");
        if (strcmp(type, "layers") != 0) {
                _cleanup_free_ char *q = doc_quoted(type);
                return berth_error(err, 0, "rootfs.type: %s is not supported (want \"layers\")", q);
        }
        if (doc_member(rootfs, "diff_ids") == NULL)
                return berth_error(err, 0, "rootfs.diff_ids: missing");
        if ((ret = doc_get_strv(rootfs, "rootfs", "diff_ids", MANIFEST_MAX_LAYERS, &c->diff_ids, &c->n_diff_ids,
                                err)) < 0)
                return ret;
        for (size_t i = 0; i < c->n_diff_ids; i++) {
                snprintf(at, sizeof(at), "rootfs.diff_ids[%zu]", i);
                if ((ret = doc_check_digest(c->diff_ids[i], at, err)) < 0)
                        return ret;
        }
        return parse_history(doc, c, err);
}

int image_config_parse(const void *data, size_t len, struct image_config **out, berth_error_t **err)
{
        _cleanup_image_config_ struct image_config *c = xcalloc(1, sizeof(*c));

        *out = NULL;
        if (doc_load(data, len, IMAGE_CONFIG_MAX_SIZE, &c->raw, err) < 0 || parse_config_doc(c->raw, c, err) < 0)
                return berth_error_wrap(err, "image config");
        *out = steal_pointer(&c);
        return 0;
}

int image_config_check_layers(const struct image_config *c, const struct manifest *m, berth_error_t **err)
{
        if (c->n_diff_ids != m->n_layers)
                return berth_error(err, 0, "image config: rootfs.diff_ids has %zu entries but the manifest has %zu layers",
                                   c->n_diff_ids, m->n_layers);
        return 0;
}

int image_config_check_platform(const struct image_config *c, const char *platform, berth_error_t **err)
{
        _cleanup_platform_ struct platform want = { 0 }, have = { 0 };
        _cleanup_free_ char *w = NULL, *h = NULL;
        int ret;

        if ((ret = platform_parse(platform, &want, err)) < 0)
                return ret;
        have.os = xstrdup(c->os);
        have.arch = xstrdup(c->architecture);
        have.variant = c->variant ? xstrdup(c->variant) : NULL;
        if (platform_match(&want, &have))
                return 0;
        platform_normalize(&want);
        w = platform_format(&want);
        h = platform_format(&have);
        return berth_error(err, 0, "image config: the image is for %s, not %s", h, w);
}
