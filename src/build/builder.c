/* The builder's driver: the Dockerfile read and parsed, the stages the
 * target needs, the steps in order with dockerd's progress lines, the
 * final image, its tags and the linter's warnings.  The steps are in
 * builder-config.c (config only), builder-run.c (RUN) and builder-copy.c
 * (COPY, ADD, WORKDIR, with builder-tar.c); what they share (progress,
 * expansion, the cache, commits, containers) in builder-step.c. */
#include "build/builder-internal.h"
#include "build/lint.h"
#include "util/dockerignore.h"
#include "image/image.h"
#include "image/reference.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <time.h>

/* ---- steps ------------------------------------------------------------------ */

static void say_step(struct build *b, const struct df_instr *in)
{
        build_say(b, "Step %u/%u : %s", ++b->step, b->total, in->original);
        build_say(b, "\n");
}

static int dispatch(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err);

/* ONBUILD triggers of the base run right after FROM, as dockerd runs
 * them; the new image does not inherit them. */
static int run_triggers(struct build *b, struct stage_state *s, berth_error_t **err)
{
        _cleanup_json_decref_ json_t *triggers = json_incref(json_object_get(s->config, "OnBuild"));
        size_t n = json_array_size(triggers), i;
        json_t *v;

        json_object_del(s->config, "OnBuild");
        if (n == 0)
                return 0;
        build_say(b, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
        json_array_foreach(triggers, i, v) {
                _cleanup_free_ char *text = xasprintf("FROM scratch\n%s\n", json_string_value(v) ?: "");
                struct dockerfile *df = NULL;
                if (dockerfile_parse(text, strlen(text), "ONBUILD", &df, err) < 0)
                        return -1;
                int r = 0;
                for (size_t k = 0; k < df->n && r == 0; k++)
                        if (df->instrs[k].kind != DF_FROM)
                                r = dispatch(b, s, &df->instrs[k], err);
                dockerfile_free(df);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int from_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        _cleanup_free_ char *name = NULL;

        say_step(b, in);
        if (in->nargs < 1)
                return berth_fail(err, EINVAL, "%s:%u: FROM requires the name of an image", b->df->file, in->line);
        if (build_expand(b, NULL, in->args[0], &name, err) < 0)
                return -1;
        if (strcasecmp(name, "scratch") == 0) {
                s->image = NULL;
                s->config = json_object();
                return 0;
        }
        /* an earlier stage by name (dockerd: names, not numbers, in FROM) */
        const struct df_stage *st = dockerfile_stage(b->df, name);
        bool stage = st && st->name && st->index < s->st->index;
        if (build_resolve_image(b, name, stage, &s->image, &s->config, err) < 0)
                return -1;
        build_say(b, " ---> %s\n", short_id(s->image));
        return run_triggers(b, s, err);
}

static int dispatch(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        if (build_cancelled(b))
                return berth_fail(err, ECANCELED, "the build was cancelled");
        switch (in->kind) {
        case DF_FROM:
                return berth_fail(err, EINVAL, "%s:%u: FROM inside a stage", b->df->file, in->line);
        case DF_RUN:
                return build_run_step(b, s, in, err);
        case DF_COPY:
        case DF_ADD:
                return build_copy_step(b, s, in, err);
        case DF_WORKDIR:
                return build_workdir_step(b, s, in, err);
        case DF_ARG:
                return build_arg_step(b, s, in, err);
        default:
                return build_config_step(b, s, in, err);
        }
}

static int run_stage(struct build *b, struct stage_state *s, berth_error_t **err)
{
        const struct df_stage *st = s->st;

        s->args = json_object();
        if (from_step(b, s, &b->df->instrs[st->from], err) < 0)
                return -1;
        for (size_t i = 0; i < st->n; i++) {
                const struct df_instr *in = &b->df->instrs[st->first + i];
                say_step(b, in);
                if (dispatch(b, s, in, err) < 0)
                        return -1;
        }
        s->done = true;
        return 0;
}

static int cmp_str(const void *x, const void *y)
{
        return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* --label: one LABEL step at the end of the target stage, as dockerd
 * appends it. */
static int labels_step(struct build *b, struct stage_state *s, berth_error_t **err)
{
        json_t *labels = b->o->labels;
        size_t n = json_object_size(labels), i = 0;
        const char **keys, *k;
        struct strbuf text = { 0 };
        json_t *v;

        if (!json_is_object(labels) || n == 0)
                return 0;
        keys = xcalloc(n, sizeof(*keys));
        json_object_foreach(labels, k, v)
                keys[i++] = k;
        qsort(keys, n, sizeof(*keys), cmp_str);
        json_t *cl = json_object_get(s->config, "Labels");
        if (!json_is_object(cl))
                json_object_set_new(s->config, "Labels", cl = json_object());
        strbuf_adds(&text, "LABEL");
        for (i = 0; i < n; i++) {
                const char *val = json_string_value(json_object_get(labels, keys[i])) ?: "";
                json_t *js = json_string(val);
                _cleanup_free_ char *q = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
                json_decref(js);
                strbuf_adds(&text, " ");
                strbuf_adds(&text, keys[i]);
                strbuf_adds(&text, "=");
                strbuf_adds(&text, q ? q : "\"\"");
        }
        free(keys);
        build_say(b, "Step %u/%u : %s", ++b->step, b->total, text.data);
        build_say(b, "\n");
        _cleanup_free_ char *created_by = build_nop(s->config, text.data);
        _cleanup_free_ char *key = build_cache_key(created_by);
        bool hit;
        free(text.data);
        if (build_cache_try(b, s, key, &hit, err) < 0)
                return -1;
        if (hit)
                return 0;
        json_object_foreach(labels, k, v)
                json_object_set_new(cl, k, json_string(json_is_string(v) ? json_string_value(v) : ""));
        return build_commit(b, s, NULL, created_by, key, err);
}

/* ---- the Dockerfile and the stages ----------------------------------------- */

/* dockerd's rule: the .dockerignore and the Dockerfile leave the context
 * when the .dockerignore lists them (the docker CLI lists the Dockerfile
 * it adds for a -f from outside the context), so COPY . cannot copy
 * them. */
static int drop_ignored(int root, const char *dockerfile, berth_error_t **err)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, root, ".dockerignore", &how, sizeof(how));
        _cleanup_dockerignore_ struct dockerignore *di = NULL;
        struct strbuf text = { 0 };
        char chunk[8192];
        ssize_t n;

        if (fd < 0)
                return 0;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                strbuf_add(&text, chunk, (size_t)n);
        int r = dockerignore_parse(text.data ? text.data : "", text.len, &di, err);
        free(text.data);
        if (r < 0)
                return berth_error_wrap(err, ".dockerignore");
        const char *paths[] = { ".dockerignore", dockerfile };
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                if (!dockerignore_matches(di, paths[i]))
                        continue;
                _cleanup_free_ char *dir = xstrdup(paths[i]);
                char *slash = strrchr(dir, '/');
                const char *base = slash ? slash + 1 : dir;
                if (slash)
                        *slash = '\0';
                struct open_how dh = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
                _cleanup_close_ int dfd = (int)syscall(SYS_openat2, root, slash ? dir : ".", &dh, sizeof(dh));
                if (dfd >= 0 && *base)
                        unlinkat(dfd, base, 0);
        }
        return 0;
}

static int read_dockerfile(struct build *b, char **text, size_t *len, berth_error_t **err)
{
        const char *name = b->o->dockerfile && *b->o->dockerfile ? b->o->dockerfile : "Dockerfile";
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int root = open(b->o->context, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;

        if (root < 0)
                return berth_error(err, errno, "open the build context");
        fd = (int)syscall(SYS_openat2, root, name, &how, sizeof(how));
        if (fd < 0)
                return berth_fail(err, ENOENT, "Cannot locate specified Dockerfile: %s", name);
        struct strbuf buf = { 0 };
        char chunk[8192];
        ssize_t n;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        strbuf_add(&buf, chunk, (size_t)n);
        if (n < 0) {
                free(buf.data);
                return berth_error(err, errno, "read %s", name);
        }
        *len = buf.len;
        *text = buf.data ? buf.data : xstrdup("");
        if (drop_ignored(root, name, err) < 0) {
                free(steal_pointer(text));
                return -1;
        }
        return 0;
}

/* The stages the target needs: itself, and what its FROM and COPY --from
 * name, transitively (dockerd's legacy builder runs every stage up to the
 * target; BuildKit only these). */
static void mark_needed(struct build *b, size_t target)
{
        b->stages[target].needed = true;
        for (size_t i = target + 1; i-- > 0;) {
                struct stage_state *s = &b->stages[i];
                if (!s->needed)
                        continue;
                const struct df_instr *from = &b->df->instrs[s->st->from];
                const struct df_stage *dep = from->nargs ? dockerfile_stage(b->df, from->args[0]) : NULL;
                if (dep && dep->name && dep->index < i)
                        b->stages[dep->index].needed = true;
                for (size_t k = 0; k < s->st->n; k++) {
                        const struct df_instr *in = &b->df->instrs[s->st->first + k];
                        if (in->kind != DF_COPY && in->kind != DF_ADD)
                                continue;
                        for (size_t f = 0; f < in->nflags; f++)
                                if (strcmp(in->flags[f].name, "from") == 0 && in->flags[f].value &&
                                    (dep = dockerfile_stage(b->df, in->flags[f].value)) != NULL && dep->index < i)
                                        b->stages[dep->index].needed = true;
                }
        }
}

static int meta_args(struct build *b, berth_error_t **err)
{
        for (size_t i = 0; i < b->df->n && b->df->instrs[i].kind != DF_FROM; i++) {
                const struct df_instr *in = &b->df->instrs[i];
                if (in->kind != DF_ARG)
                        continue;
                say_step(b, in);
                for (size_t k = 0; k < in->nkvs; k++) {
                        const struct df_kv *kv = &in->kvs[k];
                        json_t *given = json_object_get(b->o->build_args, kv->key);
                        char *v = NULL;
                        if (given) {
                                json_object_set_new(b->used_args, kv->key, json_true());
                                json_object_set(b->meta, kv->key, given);
                                continue;
                        }
                        if (kv->has_value && build_expand(b, NULL, kv->value, &v, err) < 0)
                                return -1;
                        json_object_set_new(b->meta, kv->key, v ? json_string(v) : json_null());
                        free(v);
                }
        }
        return 0;
}

static unsigned count_steps(struct build *b)
{
        unsigned n = 0;

        for (size_t i = 0; i < b->df->n && b->df->instrs[i].kind != DF_FROM; i++)
                n += b->df->instrs[i].kind == DF_ARG;
        for (size_t i = 0; i < b->df->nstages; i++)
                if (b->stages[i].needed)
                        n += 1 + (unsigned)b->stages[i].st->n;
        return n + (json_object_size(b->o->labels) > 0);
}

static void unused_args(struct build *b)
{
        struct strbuf names = { 0 };
        const char *k;
        json_t *v;

        json_object_foreach(b->o->build_args, k, v) {
                if (json_object_get(b->used_args, k))
                        continue;
                strbuf_adds(&names, names.len ? " " : "");
                strbuf_adds(&names, k);
        }
        if (names.len)
                build_say(b, "[Warning] One or more build-args [%s] were not consumed\n", names.data);
        free(names.data);
}

static int tag_all(struct build *b, const char *id, berth_error_t **err)
{
        for (size_t i = 0; b->o->tags && b->o->tags[i]; i++) {
                _cleanup_image_ref_ struct image_ref ref = { 0 };
                _cleanup_free_ char *familiar = NULL;
                if (image_ref_parse(b->o->tags[i], &ref, err) < 0)
                        return -1;
                familiar = image_ref_familiar(&ref);
                struct image_store *s = engine_images_lock(b->e);
                int r = image_tag(s, id, b->o->tags[i], err);
                engine_images_unlock(b->e);
                if (r < 0)
                        return -1;
                engine_event(b->e, "image", "tag", id, json_pack("{s:s}", "name", familiar));
                build_say(b, "Successfully tagged %s\n", familiar);
        }
        return 0;
}

static char *epoch_created(const char *epoch)
{
        long long t = epoch && *epoch ? parse_ll(epoch) : -1;
        struct tm tm;
        char buf[64];

        if (t < 0)
                return NULL;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return xstrdup(buf);
}

/* The best-practice warnings, one line each ("Dockerfile:7:
 * BaseImageLatest: ..."); the number of them. */
static size_t lint(struct build *b, const char *indent)
{
        struct lint_options lo = { .target = b->o->target && *b->o->target ? b->o->target : NULL };
        struct lint_warning *w = NULL;
        size_t n = lint_dockerfile(b->df, &lo, &w);

        if (n > 0 && *indent)
                build_say(b, "%zu warning%s found:\n", n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *line = lint_format(b->df, &w[i]);
                build_say(b, "%s%s\n", indent, line);
        }
        lint_warnings_free(w, n);
        return n;
}

static void build_clear(struct build *b)
{
        for (size_t i = 0; b->stages && i < b->df->nstages; i++) {
                free(b->stages[i].image);
                free(b->stages[i].author);
                free(b->stages[i].cache_parent);
                json_decref(b->stages[i].config);
                json_decref(b->stages[i].args);
        }
        free(b->stages);
        dockerfile_free(b->df);
        json_decref(b->meta);
        json_decref(b->used_args);
        free(b->created);
}

static int build_all(struct build *b, char **id, berth_error_t **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0, target;
        const char *file = b->o->dockerfile && *b->o->dockerfile ? b->o->dockerfile : "Dockerfile";

        if (read_dockerfile(b, &text, &len, err) < 0 || dockerfile_parse(text, len, file, &b->df, err) < 0)
                return -1;
        if (b->df->nstages == 0)
                return berth_fail(err, EINVAL, "the Dockerfile (%s) cannot be empty", file);
        if (b->o->target && *b->o->target) {
                const struct df_stage *t = dockerfile_stage(b->df, b->o->target);
                if (t == NULL)
                        return berth_fail(err, EINVAL, "failed to reach build target %s in Dockerfile",
                                          b->o->target);
                target = t->index;
        } else {
                target = b->df->nstages - 1;
        }
        if (b->o->check) {
                size_t n = lint(b, "");
                if (n == 0)
                        build_say(b, "Check complete, no warnings found.\n");
                else
                        build_say(b, "Check complete, %zu warning%s found.\n", n, n == 1 ? " has been" : "s have been");
                return 0;
        }
        b->stages = xcalloc(b->df->nstages, sizeof(*b->stages));
        for (size_t i = 0; i < b->df->nstages; i++)
                b->stages[i].st = &b->df->stages[i];
        mark_needed(b, target);
        b->total = count_steps(b);
        if (meta_args(b, err) < 0)
                return -1;
        for (size_t i = 0; i <= target; i++)
                if (b->stages[i].needed && run_stage(b, &b->stages[i], err) < 0)
                        return -1;
        struct stage_state *s = &b->stages[target];
        if (labels_step(b, s, err) < 0 || build_ensure_image(b, s, err) < 0)
                return -1;
        unused_args(b);
        /* before dockerd's last lines, which clients look for at the end */
        lint(b, " - ");
        b->emit(b->emit_data, json_pack("{s:{s:s}}", "aux", "ID", s->image));
        build_say(b, "Successfully built %s\n", short_id(s->image));
        if (tag_all(b, s->image, err) < 0)
                return -1;
        *id = xstrdup(s->image);
        return 0;
}

int builder_build(struct engine *e, const struct builder_opts *o, builder_emit_fn emit, void *data, char **id,
                  int *code, berth_error_t **err)
{
        struct build b = { .e = e, .o = o, .emit = emit, .emit_data = data, .meta = json_object(),
                           .used_args = json_object() };
        int r;

        b.created = epoch_created(o->source_date_epoch);
        b.reproducible = b.created != NULL;
        if (json_object_get(o->build_args, "SOURCE_DATE_EPOCH"))
                json_object_set_new(b.used_args, "SOURCE_DATE_EPOCH", json_true());
        b.epoch = b.reproducible ? parse_ll(o->source_date_epoch) : 0;
        *id = NULL;
        r = build_all(&b, id, err);
        *code = b.code;
        build_clear(&b);
        return r;
}
