/* RUN: a container of the current image runs the command with the
 * stage's ENV, its ARGs (those ENV does not set), WorkingDir and User,
 * on the build's network (none unless host); its output goes into the
 * progress stream as it comes; exit 0 commits its writable layer, any
 * other code fails the build with dockerd's message.  The container is
 * removed either way, so nothing of a failed step stays (no container,
 * no mount, no layer: the layer is written only by the commit). */
#include "build/builder-internal.h"
#include <pthread.h>

static int cmp_str(const void *x, const void *y)
{
        return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The stage's ARGs with a value that ENV does not override, "K=V",
 * sorted (dockerd's "|N K=V ..." history prefix). */
static char **allowed_args(struct stage_state *s, size_t *n)
{
        json_t *env = json_object_get(s->config, "Env"), *v, *e;
        size_t cap = json_object_size(s->args) + 1, i;
        char **out = xcalloc(cap, sizeof(char *));
        const char *k;

        *n = 0;
        json_object_foreach(s->args, k, v) {
                bool in_env = false;
                size_t kl = strlen(k);
                if (!json_is_string(v))
                        continue;
                json_array_foreach(env, i, e) {
                        const char *kv = json_string_value(e);
                        if (kv && strncmp(kv, k, kl) == 0 && kv[kl] == '=')
                                in_env = true;
                }
                if (!in_env)
                        out[(*n)++] = xasprintf("%s=%s", k, json_string_value(v));
        }
        qsort(out, *n, sizeof(char *), cmp_str);
        return out;
}

static char *join(json_t *arr)
{
        struct strbuf b = { 0 };
        size_t i;
        json_t *v;

        json_array_foreach(arr, i, v) {
                if (i)
                        strbuf_adds(&b, " ");
                strbuf_adds(&b, json_string_value(v) ?: "");
        }
        return b.data ? b.data : xstrdup("");
}

/* The container's output, in stdcopy frames, into the stream: a thread
 * follows the log while the step's thread waits for the exit, polling
 * for a client that left. */
struct output {
        struct build *b;
        const char *id;
        struct strbuf buf;
        berth_error_t *err;
        int r;
};

static int output_write(void *data, const void *p, size_t len)
{
        struct output *o = data;

        strbuf_add(&o->buf, p, len);
        while (o->buf.len >= 8) {
                const unsigned char *h = (const unsigned char *)o->buf.data;
                size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
                if (o->buf.len < 8 + n)
                        break;
                if (n)
                        build_say_raw(o->b, o->buf.data + 8, n);
                memmove(o->buf.data, o->buf.data + 8 + n, o->buf.len - 8 - n);
                o->buf.len -= 8 + n;
        }
        return 0;
}

static void *follow(void *data)
{
        struct output *o = data;
        struct engine_logs_opts lo = { .stdout_ = true, .stderr_ = true, .follow = true, .tail = -1 };
        bool tty = false;

        o->r = engine_container_logs(o->b->e, o->id, &lo, &tty, output_write, o, &o->err);
        return NULL;
}

static bool wait_cancelled(void *data)
{
        return build_cancelled(data);
}

static int run_container(struct build *b, const char *id, int64_t *code, berth_error_t **err)
{
        struct output out = { .b = b, .id = id };
        pthread_t t;
        int r;

        if (engine_container_start(b->e, id, err) < 0)
                return -1;
        if (pthread_create(&t, NULL, follow, &out) != 0)
                return berth_error(err, errno, "start a thread for the output of %s", short_id(id));
        r = engine_container_wait(b->e, id, ENGINE_WAIT_NOT_RUNNING, code, wait_cancelled, b, err);
        if (r < 0 || build_cancelled(b))
                engine_container_kill(b->e, id, "KILL", NULL);
        pthread_join(t, NULL);
        free(out.buf.data);
        berth_error_free(&out.err);
        if (build_cancelled(b)) {
                if (r < 0)
                        berth_error_free(err);
                return berth_fail(err, ECANCELED, "the build was cancelled");
        }
        return r;
}

/* RUN with here-documents: "RUN <<EOF" alone runs the document as the
 * shell's script; otherwise the shell gets the line and the documents
 * after it, delimiters and all, and reads them as it reads any
 * here-document (expansion, <<- included).  NULL without any. */
static char *heredoc_script(const struct df_instr *in)
{
        const char *line = in->nargs ? in->args[0] : "";
        size_t skip = strspn(line, " \t"), len = strlen(line);
        struct strbuf b = { 0 };

        if (in->nheredocs == 0)
                return NULL;
        while (len > skip && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\n'))
                len--;
        if (in->nheredocs == 1 && strncmp(line + skip, "<<", 2) == 0 && !memchr(line + skip, ' ', len - skip) &&
            !memchr(line + skip, '\t', len - skip))
                return xstrdup(in->heredocs[0].content);
        strbuf_add(&b, line + skip, len - skip);
        strbuf_adds(&b, "\n");
        for (size_t i = 0; i < in->nheredocs; i++) {
                strbuf_adds(&b, in->heredocs[i].content);
                strbuf_adds(&b, in->heredocs[i].name);
                strbuf_adds(&b, "\n");
        }
        return b.data;
}

int build_run_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        _cleanup_json_decref_ json_t *cmd = NULL, *save = NULL, *body = NULL;
        _cleanup_free_ char *created_by = NULL, *key = NULL, *id = NULL, *shown = NULL;
        _cleanup_strv_ char **args = NULL;
        const char *net = b->o->network && strcmp(b->o->network, "host") == 0 ? "host" : "none";
        size_t nargs = 0;
        int64_t code = 0;
        bool hit;

        if (in->json) {
                cmd = json_array();
                for (size_t i = 0; i < in->nargs; i++)
                        json_array_append_new(cmd, json_string(in->args[i]));
        } else {
                _cleanup_free_ char *script = heredoc_script(in);
                cmd = build_shell(s->config);
                json_array_append_new(cmd, json_string(script ? script : in->nargs ? in->args[0] : ""));
        }
        args = allowed_args(s, &nargs);
        save = json_array();
        if (nargs > 0) {
                json_array_append_new(save, json_sprintf("|%zu", nargs));
                for (size_t i = 0; i < nargs; i++)
                        json_array_append_new(save, json_string(args[i]));
        }
        json_array_extend(save, cmd);
        created_by = join(save);
        {
                /* the network changes what a RUN may see: part of the key */
                _cleanup_free_ char *keytext = strcmp(net, "none") == 0 ? xstrdup(created_by)
                                                                        : xasprintf("%s\nnetwork=%s", created_by, net);
                key = build_cache_key(keytext);
        }
        if (build_cache_try(b, s, key, &hit, err) < 0)
                return -1;
        if (hit)
                return 0;
        if (build_ensure_image(b, s, err) < 0)
                return -1;

        json_t *env = json_deep_copy(json_object_get(s->config, "Env"));
        if (!json_is_array(env)) {
                json_decref(env);
                env = json_array();
        }
        for (size_t i = 0; i < nargs; i++)
                json_array_append_new(env, json_string(args[i]));
        body = json_pack("{s:O, s:[], s:o, s:b, s:b, s:{s:s}}", "Cmd", cmd, "Entrypoint", "Env", env, "AttachStdout",
                         true, "AttachStderr", true, "HostConfig", "NetworkMode", net);
        const char *wd = json_string_value(json_object_get(s->config, "WorkingDir"));
        const char *user = json_string_value(json_object_get(s->config, "User"));
        if (wd && *wd)
                json_object_set_new(body, "WorkingDir", json_string(wd));
        if (user && *user)
                json_object_set_new(body, "User", json_string(user));
        if (build_container(b, s->image, body, &id, err) < 0)
                return -1;
        build_say(b, " ---> Running in %s\n", short_id(id));
        b->ran = true;
        if (run_container(b, id, &code, err) < 0) {
                build_container_remove(b, id);
                return -1;
        }
        if (code != 0) {
                build_container_remove(b, id);
                shown = join(cmd);
                b->code = (int)code;
                return berth_fail(err, EIO, "The command '%s' returned a non-zero code: %lld (%s:%u)", shown,
                                  (long long)code, b->df->file, in->line);
        }
        return build_commit(b, s, id, created_by, key, err);
}
