/* What every step uses: progress messages, expansion, the image config,
 * the cache, the commit of a step's result, the containers of COPY and
 * RUN, and the images FROM and COPY --from name. */
#include "build/builder-internal.h"
#include "image/digest.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/store.h"
#include "util/base64.h"
#include <stdarg.h>

/* ---- progress ------------------------------------------------------------ */

/* Bytes that are not UTF-8 become U+FFFD, as Go's encoder writes them. */
static char *utf8_clean(const char *s, size_t len)
{
        struct strbuf out = { 0 };
        size_t i = 0;

        while (i < len) {
                unsigned char c = (unsigned char)s[i];
                size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
                bool ok = n > 0 && i + n <= len && !(n == 1 && c == 0);
                for (size_t k = 1; ok && k < n; k++)
                        ok = ((unsigned char)s[i + k] >> 6) == 2;
                if (ok) {
                        strbuf_add(&out, s + i, n);
                        i += n;
                } else {
                        strbuf_adds(&out, "\xef\xbf\xbd");
                        i++;
                }
        }
        if (out.data == NULL)
                return xstrdup("");
        return out.data;
}

void build_say_raw(struct build *b, const char *buf, size_t len)
{
        _cleanup_free_ char *text = utf8_clean(buf, len);

        b->emit(b->emit_data, json_pack("{s:s}", "stream", text));
}

void build_say(struct build *b, const char *fmt, ...)
{
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                abort();
        va_end(ap);
        build_say_raw(b, text, strlen(text));
}

const char *short_id(const char *id)
{
        const char *hex = str_has_prefix(id, "sha256:") ? id + 7 : id;
        static __thread char buf[13];

        snprintf(buf, sizeof(buf), "%.12s", hex);
        return buf;
}

bool build_cancelled(struct build *b)
{
        return b->o->cancelled && b->o->cancelled(b->o->cancel_data);
}

/* ---- expansion ----------------------------------------------------------- */

struct lookup {
        struct build *b;
        struct stage_state *s;  /* NULL: FROM lines, meta args only */
};

static const char *lookup_var(const char *name, void *data)
{
        struct lookup *l = data;
        size_t n = strlen(name), i;
        const char *found = NULL;
        json_t *v;

        if (l->s == NULL)
                return json_string_value(json_object_get(l->b->meta, name));
        json_array_foreach(json_object_get(l->s->config, "Env"), i, v) {
                const char *kv = json_string_value(v);
                if (kv && strncmp(kv, name, n) == 0 && kv[n] == '=')
                        found = kv + n + 1;
        }
        if (found)
                return found;
        return json_string_value(json_object_get(l->s->args, name));
}

int build_expand(struct build *b, struct stage_state *s, const char *word, char **out, berth_error_t **err)
{
        struct lookup l = { .b = b, .s = s };

        return dockerfile_expand(word, b->df->escape, lookup_var, &l, out, err);
}

/* ---- config and images ----------------------------------------------------- */

json_t *build_shell(json_t *config)
{
        json_t *sh = json_object_get(config, "Shell");

        if (json_is_array(sh) && json_array_size(sh) > 0)
                return json_deep_copy(sh);
        return json_pack("[s, s]", "/bin/sh", "-c");
}

char *build_nop(json_t *config, const char *text)
{
        _cleanup_json_decref_ json_t *sh = build_shell(config);
        struct strbuf b = { 0 };
        size_t i;
        json_t *v;

        json_array_foreach(sh, i, v) {
                strbuf_adds(&b, json_string_value(v) ?: "");
                strbuf_adds(&b, " ");
        }
        strbuf_adds(&b, "#(nop)  ");
        strbuf_adds(&b, text);
        return b.data;
}

int build_image_config(struct build *b, const char *id, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct image_store *s = engine_images_lock(b->e);
        int r = content_read(image_store_content(s), id, &buf, &len, err);

        engine_images_unlock(b->e);
        if (r < 0)
                return -1;
        _cleanup_json_decref_ json_t *doc = json_loadb(buf, len, 0, NULL);
        json_t *cfg = json_object_get(doc, "config");
        if (!json_is_object(doc))
                return berth_error(err, 0, "the config of image %s is not JSON", id);
        *out = json_is_object(cfg) ? json_deep_copy(cfg) : json_object();
        return 0;
}

char *build_cache_key(const char *text)
{
        return digest_of(text, strlen(text));
}

int build_cache_try(struct build *b, struct stage_state *s, const char *key, bool *hit, berth_error_t **err)
{
        const char *parent = s->image ? s->image : "scratch";
        _cleanup_free_ char *id = NULL;
        json_t *cfg = NULL;

        *hit = false;
        free(s->cache_parent);
        s->cache_parent = xstrdup(parent);
        if (b->o->no_cache)
                return 0;
        int r = engine_build_cache_get(b->e, parent, key, &id, err);
        if (r <= 0)
                return r;
        if (build_image_config(b, id, &cfg, err) < 0)
                return -1;
        json_decref(s->config);
        s->config = cfg;
        free(s->image);
        s->image = steal_pointer(&id);
        build_say(b, " ---> Using cache\n");
        build_say(b, " ---> %s\n", short_id(s->image));
        *hit = true;
        return 0;
}

int build_commit(struct build *b, struct stage_state *s, const char *container, const char *created_by,
                 const char *key, berth_error_t **err)
{
        struct engine_derive_opts d = { .base = s->image, .container = container, .config = s->config,
                                        .created_by = created_by, .author = s->author, .created = b->created,
                                        .reproducible = b->reproducible, .epoch = b->epoch };
        char *id = NULL;
        int r = engine_image_derive(b->e, &d, &id, err);

        if (container) {
                if (r == 0 && b->ran)
                        build_say(b, "Removing intermediate container %s\n", short_id(container));
                b->ran = false;
                build_container_remove(b, container);
        }
        if (r < 0)
                return -1;
        if (key && s->cache_parent)
                engine_build_cache_put(b->e, s->cache_parent, key, id, NULL);
        free(s->image);
        s->image = id;
        build_say(b, " ---> %s\n", short_id(id));
        return 0;
}

int build_ensure_image(struct build *b, struct stage_state *s, berth_error_t **err)
{
        struct engine_derive_opts d = { .config = s->config, .author = s->author, .created = b->created,
                                        .reproducible = b->reproducible, .epoch = b->epoch };

        if (s->image)
                return 0;
        return engine_image_derive(b->e, &d, &s->image, err);
}

int build_container(struct build *b, const char *image, json_t *extra, char **id, berth_error_t **err)
{
        _cleanup_json_decref_ json_t *body = extra ? json_deep_copy(extra) : json_object();
        json_t *hc = json_object_get(body, "HostConfig");

        json_object_set_new(body, "Image", json_string(image));
        if (json_object_get(body, "Cmd") == NULL) {
                json_object_set_new(body, "Cmd", json_pack("[s]", "/bin/true"));
                json_object_set_new(body, "Entrypoint", json_array());
        }
        if (hc == NULL)
                json_object_set_new(body, "HostConfig", hc = json_object());
        if (json_object_get(hc, "NetworkMode") == NULL)
                json_object_set_new(hc, "NetworkMode", json_string("none"));
        /* no healthcheck probes in a build step */
        json_object_set_new(body, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
        return engine_container_create(b->e, body, NULL, id, NULL, err);
}

void build_container_remove(struct build *b, const char *id)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (id && engine_container_remove(b->e, id, true, true, &err) < 0)
                build_say(b, "Failed to remove intermediate container %s: %s\n", short_id(id), err->msg);
}

static void pull_progress(void *data, const struct image_progress *p)
{
        struct build *b = data;
        json_t *j = json_pack("{s:s}", "status", p->status);

        if (p->id) {
                json_object_set_new(j, "id", json_string(p->id));
                json_object_set_new(j, "progressDetail", json_object());
        }
        b->emit(b->emit_data, j);
}

/* The client's credentials for name's registry (X-Registry-Config keys:
 * "host", "https://host", "http://host"; Docker Hub's is
 * "https://index.docker.io/v1/"): username and password, or "auth". */
static void client_auth(struct build *b, const char *name, char **user, char **pass)
{
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        json_t *cfg = b->o->registry_auth, *a = NULL;

        *user = *pass = NULL;
        if (!json_is_object(cfg) || image_ref_parse(name, &ref, NULL) < 0)
                return;
        const char *host = image_ref_registry_host(&ref);
        bool hub = strcmp(ref.domain, "docker.io") == 0;
        _cleanup_free_ char *https = xasprintf("https://%s", host), *http = xasprintf("http://%s", host);
        const char *keys[] = { host, https, http, hub ? "https://index.docker.io/v1/" : NULL, hub ? "docker.io" : NULL };
        for (size_t i = 0; i < ARRAY_SIZE(keys) && a == NULL; i++)
                if (keys[i])
                        a = json_object_get(cfg, keys[i]);
        const char *u = json_string_value(json_object_get(a, "username"));
        const char *p = json_string_value(json_object_get(a, "password"));
        const char *enc = json_string_value(json_object_get(a, "auth"));
        if (u && *u) {
                *user = xstrdup(u);
                *pass = xstrdup(p ? p : "");
                return;
        }
        size_t len = 0;
        _cleanup_free_ char *up = enc && *enc ? base64_decode(enc, &len) : NULL;
        char *colon = up ? strchr(up, ':') : NULL;
        if (colon) {
                *user = strndup(up, (size_t)(colon - up));
                *pass = xstrdup(colon + 1);
                explicit_bzero(up, len);
        }
}

static int pull_image(struct build *b, const char *name, berth_error_t **err)
{
        const struct engine_opts *eo = engine_options(b->e);
        struct image_pull_opts po = { .progress = pull_progress, .progress_data = b };
        char *user = NULL, *pass = NULL;

        po.reg.auth_config = eo->auth_config;
        po.reg.insecure = eo->insecure_registries;
        client_auth(b, name, &user, &pass);
        po.reg.username = user;
        po.reg.password = pass;
        struct image_store *s = engine_images_lock(b->e);
        int r = image_pull(s, name, &po, NULL, err);
        engine_images_unlock(b->e);
        if (pass)
                explicit_bzero(pass, strlen(pass));
        free(user);
        free(pass);
        return r;
}

int build_resolve_image(struct build *b, const char *name, bool stages, char **id, json_t **config,
                        berth_error_t **err)
{
        const struct df_stage *st = stages ? dockerfile_stage(b->df, name) : NULL;

        *id = NULL;
        if (st && b->stages[st->index].done) {
                struct stage_state *ss = &b->stages[st->index];
                if (build_ensure_image(b, ss, err) < 0)
                        return -1;
                *id = xstrdup(ss->image);
                if (config)
                        *config = json_deep_copy(ss->config);
                return 0;
        }
        struct image_store *s = engine_images_lock(b->e);
        int r = b->o->pull ? -1 : image_store_resolve(s, name, id, NULL);
        engine_images_unlock(b->e);
        if (r < 0) {
                if (pull_image(b, name, err) < 0)
                        return -1;
                s = engine_images_lock(b->e);
                r = image_store_resolve(s, name, id, err);
                engine_images_unlock(b->e);
                if (r < 0)
                        return -1;
        }
        if (config && build_image_config(b, *id, config, err) < 0) {
                free(steal_pointer(id));
                return -1;
        }
        return 0;
}

