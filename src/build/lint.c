/* Best-practice warnings over a parsed Dockerfile; see lint.h.
 *
 * Commands (RUN, CMD, ENTRYPOINT) are read with a small shell word
 * splitter: quotes, backslashes, and the separators ; && || | & and
 * newlines, which is all the rules need to find "apt-get install" or a
 * process put in the background.  It does not run anything. */
#include "build/lint.h"
#include "util/util.h"
#include <stdarg.h>
#include <strings.h>
#include <sys/types.h>

enum rule {
        R_ROOT_USER,
        R_BASE_LATEST,
        R_FULL_BASE,
        R_PKG_CACHE,
        R_CONSEC_RUN,
        R_MULTI_PROC,
        R_SECRETS,
        R_ADD,
        R_WORKDIR,
        R_COUNT,
};

const struct lint_rule lint_rules[] = {
        [R_ROOT_USER] = { "RootUser", "the final stage runs as root" },
        [R_BASE_LATEST] = { "BaseImageLatest", "a base image without a tag or with :latest" },
        [R_FULL_BASE] = { "FullBaseImage", "a full distribution base where a slim, minimal or alpine image exists" },
        [R_PKG_CACHE] = { "PackageCacheLeft", "package-manager caches not cleaned in the RUN that installs" },
        [R_CONSEC_RUN] = { "ConsecutiveRun", "consecutive RUN instructions that could be one" },
        [R_MULTI_PROC] = { "MultipleProcesses", "several long-running processes in one container" },
        [R_SECRETS] = { "SecretsUsedInArgOrEnv", "a secret in ARG or ENV" },
        [R_ADD] = { "AddInsteadOfCopy", "ADD where COPY serves" },
        [R_WORKDIR] = { "WorkdirRelativePath", "WORKDIR with a relative path" },
};
const size_t lint_nrules = R_COUNT;

#define ALPINE "alpine:3.20"

struct ctx {
        const struct dockerfile *df;
        bool off[R_COUNT];
        struct lint_warning *w;
        size_t n, cap;
        /* per stage */
        char **image;           /* FROM's image, ARG defaults expanded; NULL: unknown */
        ssize_t *base;          /* the earlier stage it is FROM, or -1 */
        bool *in_image;         /* the final stage or one it is built on */
        size_t final;
};

/* ---- rules on and off ---- */

static ssize_t rule_index(const char *id, size_t len)
{
        for (size_t i = 0; i < R_COUNT; i++)
                if (strlen(lint_rules[i].id) == len && strncasecmp(lint_rules[i].id, id, len) == 0)
                        return (ssize_t)i;
        return -1;
}

bool lint_rule_known(const char *id)
{
        return strcasecmp(id, "all") == 0 || rule_index(id, strlen(id)) >= 0;
}

static void skip_one(struct ctx *c, const char *id, size_t len)
{
        ssize_t r;

        while (len > 0 && (*id == ' ' || *id == '\t')) {
                id++;
                len--;
        }
        while (len > 0 && (id[len - 1] == ' ' || id[len - 1] == '\t'))
                len--;
        if (len == 3 && strncasecmp(id, "all", 3) == 0) {
                for (size_t i = 0; i < R_COUNT; i++)
                        c->off[i] = true;
                return;
        }
        r = rule_index(id, len);
        if (r >= 0)
                c->off[r] = true;
}

/* BuildKit's check directive: "skip=ID1,ID2;error=true". */
static void skip_directive(struct ctx *c, const char *v)
{
        while (*v) {
                const char *end = strchr(v, ';');
                size_t n = end ? (size_t)(end - v) : strlen(v);
                const char *p = v;

                while (n > 0 && (*p == ' ' || *p == '\t')) {
                        p++;
                        n--;
                }
                if (n >= 5 && strncasecmp(p, "skip=", 5) == 0) {
                        const char *ids = p + 5, *stop = p + n;
                        while (ids < stop) {
                                const char *comma = memchr(ids, ',', (size_t)(stop - ids));
                                const char *e = comma ? comma : stop;
                                skip_one(c, ids, (size_t)(e - ids));
                                ids = e + 1;
                        }
                }
                if (end == NULL)
                        break;
                v = end + 1;
        }
}

/* ---- output ---- */

/* Text from the Dockerfile for a one-line message: control bytes as '?',
 * at most 120 bytes. */
static char *show(const char *s)
{
        size_t n = strlen(s), m = n > 120 ? 120 : n;
        char *out = xmalloc(m + 4);

        for (size_t i = 0; i < m; i++)
                out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        if (n > m)
                memcpy(out + m, "...", 4);
        else
                out[m] = '\0';
        return out;
}

static void warn(struct ctx *c, enum rule r, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void warn(struct ctx *c, enum rule r, unsigned line, const char *fmt, ...)
{
        va_list ap;
        char *msg;

        if (c->off[r])
                return;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (c->n == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 8;
                c->w = xrealloc(c->w, c->cap * sizeof(*c->w));
        }
        c->w[c->n++] = (struct lint_warning){ lint_rules[r].id, line, msg };
}

/* ---- a small shell word splitter ---- */

struct cmd {
        char **w;
        size_t n;
};

struct shell {
        struct cmd *c;
        size_t n;
        bool background;        /* a lone '&' ends a command */
};

struct splitter {
        struct shell *sh;
        struct strbuf word;
        bool in_word;
        struct cmd cur;
};

static void end_word(struct splitter *s)
{
        if (!s->in_word)
                return;
        s->cur.w = xrealloc(s->cur.w, (s->cur.n + 1) * sizeof(char *));
        s->cur.w[s->cur.n++] = s->word.data ? steal_pointer(&s->word.data) : xstrdup("");
        s->word = (struct strbuf){ 0 };
        s->in_word = false;
}

static void end_cmd(struct splitter *s)
{
        end_word(s);
        if (s->cur.n == 0)
                return;
        s->sh->c = xrealloc(s->sh->c, (s->sh->n + 1) * sizeof(struct cmd));
        s->sh->c[s->sh->n++] = s->cur;
        s->cur = (struct cmd){ 0 };
}

static void add_char(struct splitter *s, char ch)
{
        strbuf_add(&s->word, &ch, 1);
        s->in_word = true;
}

static void shell_split(const char *t, struct shell *sh)
{
        struct splitter s = { .sh = sh };
        size_t i = 0, n = strlen(t);

        while (i < n) {
                char ch = t[i];

                if (ch == '\\') {
                        if (i + 1 < n && t[i + 1] == '\n') {
                                i += 2;
                                continue;
                        }
                        if (i + 1 < n)
                                add_char(&s, t[i + 1]);
                        i += 2;
                } else if (ch == '\'') {
                        s.in_word = true;
                        for (i++; i < n && t[i] != '\''; i++)
                                add_char(&s, t[i]);
                        i++;
                } else if (ch == '"') {
                        s.in_word = true;
                        for (i++; i < n && t[i] != '"'; i++) {
                                if (t[i] == '\\' && i + 1 < n && strchr("\"\\$`", t[i + 1]))
                                        i++;
                                add_char(&s, t[i]);
                        }
                        i++;
                } else if (ch == ' ' || ch == '\t' || ch == '\r') {
                        end_word(&s);
                        i++;
                } else if (ch == '#' && !s.in_word) {
                        while (i < n && t[i] != '\n')
                                i++;
                } else if (ch == '\n' || ch == ';' || ch == '(' || ch == ')') {
                        end_cmd(&s);
                        i++;
                } else if (ch == '|') {
                        end_cmd(&s);
                        i += (i + 1 < n && t[i + 1] == '|') ? 2 : 1;
                } else if (ch == '&') {
                        bool redir_before = s.in_word && s.word.len > 0 &&
                                            (s.word.data[s.word.len - 1] == '>' || s.word.data[s.word.len - 1] == '<');
                        if (i + 1 < n && t[i + 1] == '&') {
                                end_cmd(&s);
                                i += 2;
                        } else if ((i + 1 < n && t[i + 1] == '>') || redir_before) {
                                add_char(&s, ch);        /* &>file, 2>&1 */
                                i++;
                        } else {
                                end_cmd(&s);
                                sh->background = true;
                                i++;
                        }
                } else {
                        add_char(&s, ch);
                        i++;
                }
        }
        end_cmd(&s);
        free(s.word.data);
        free(s.cur.w);
}

static void shell_free(struct shell *sh)
{
        for (size_t i = 0; i < sh->n; i++) {
                for (size_t j = 0; j < sh->c[i].n; j++)
                        free(sh->c[i].w[j]);
                free(sh->c[i].w);
        }
        free(sh->c);
        *sh = (struct shell){ 0 };
}

static const char *base_name(const char *w)
{
        const char *s = strrchr(w, '/');
        return s ? s + 1 : w;
}

static bool is_assignment(const char *w)
{
        if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') || *w == '_'))
                return false;
        for (w++; *w && *w != '='; w++)
                if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9') || *w == '_'))
                        return false;
        return *w == '=';
}

/* The index of the command's program: past "VAR=x", sudo, env, exec,
 * nohup, time, command and their options.  n when there is none. */
static size_t program(const struct cmd *c)
{
        static const char *const wrappers[] = { "sudo", "env", "exec", "nohup", "time", "command", "{", "!" };
        size_t i = 0;

        while (i < c->n) {
                bool wrapper = false;

                if (is_assignment(c->w[i])) {
                        i++;
                        continue;
                }
                for (size_t k = 0; k < ARRAY_SIZE(wrappers); k++)
                        if (strcmp(base_name(c->w[i]), wrappers[k]) == 0)
                                wrapper = true;
                if (!wrapper)
                        return i;
                for (i++; i < c->n && c->w[i][0] == '-'; i++)
                        ;
        }
        return c->n;
}

static bool prog_is(const struct cmd *c, size_t p, const char *const *names)
{
        if (p >= c->n)
                return false;
        for (; *names; names++)
                if (strcmp(base_name(c->w[p]), *names) == 0)
                        return true;
        return false;
}

static bool has_word(const struct cmd *c, size_t from, const char *w)
{
        for (size_t i = from; i < c->n; i++)
                if (strcmp(c->w[i], w) == 0)
                        return true;
        return false;
}

static bool has_prefix_word(const struct cmd *c, size_t from, const char *prefix)
{
        for (size_t i = from; i < c->n; i++)
                if (str_has_prefix(c->w[i], prefix))
                        return true;
        return false;
}

static const char *const APT[] = { "apt-get", "apt", "aptitude", NULL };
static const char *const APK[] = { "apk", NULL };
static const char *const YUM[] = { "yum", "dnf", "microdnf", "tdnf", NULL };
static const char *const PIP[] = { "pip", "pip3", "easy_install", NULL };
static const char *const RM[] = { "rm", NULL };

/* Does any "rm" of the RUN remove something under one of dirs? */
static bool removes(const struct shell *sh, const char *const *dirs)
{
        for (size_t i = 0; i < sh->n; i++) {
                size_t p = program(&sh->c[i]);
                if (!prog_is(&sh->c[i], p, RM))
                        continue;
                for (const char *const *d = dirs; *d; d++)
                        if (has_prefix_word(&sh->c[i], p + 1, *d))
                                return true;
        }
        return false;
}

/* The install command of a package manager: "apt-get install", "apk add",
 * "dnf install", "pip install". */
static bool installs(const struct cmd *c, size_t p, const char *const *mgr)
{
        if (!prog_is(c, p, mgr))
                return false;
        if (mgr == APK)
                return has_word(c, p + 1, "add");
        if (mgr == YUM)
                return has_word(c, p + 1, "install") || has_word(c, p + 1, "groupinstall") ||
                       has_word(c, p + 1, "localinstall");
        return has_word(c, p + 1, "install");
}

static bool installs_supervisor(const struct cmd *c, size_t p)
{
        const char *const *mgrs[] = { APT, APK, YUM, PIP };

        for (size_t m = 0; m < ARRAY_SIZE(mgrs); m++) {
                if (!installs(c, p, mgrs[m]))
                        continue;
                for (size_t i = p + 1; i < c->n; i++)
                        if (strcmp(c->w[i], "supervisor") == 0 || str_has_prefix(c->w[i], "supervisor=") ||
                            str_has_prefix(c->w[i], "supervisor<") || str_has_prefix(c->w[i], "supervisor>"))
                                return true;
        }
        return false;
}

/* The command text of RUN, CMD or ENTRYPOINT for the splitter: the shell
 * form as written, the script of ["sh", "-c", script], other exec forms
 * quoted word by word; heredocs after it. */
static char *command_text(const struct df_instr *in)
{
        struct strbuf b = { 0 };

        if (in->json) {
                /* ["sh", "-c", "script"]: the script */
                if (in->nargs >= 3 && prog_is(&(struct cmd){ in->args, in->nargs }, 0,
                                              (const char *const[]){ "sh", "bash", "ash", "dash", "zsh", NULL })) {
                        for (size_t i = 1; i + 1 < in->nargs; i++)
                                if (strcmp(in->args[i], "-c") == 0)
                                        return xstrdup(in->args[i + 1]);
                }
                /* the words, quoted so that the splitter gives them back */
                for (size_t i = 0; i < in->nargs; i++) {
                        if (i)
                                strbuf_add(&b, " ", 1);
                        strbuf_add(&b, "'", 1);
                        for (const char *p = in->args[i]; *p; p++) {
                                if (*p == '\'')
                                        strbuf_adds(&b, "'\\''");
                                else
                                        strbuf_add(&b, p, 1);
                        }
                        strbuf_add(&b, "'", 1);
                }
        } else if (in->nargs > 0) {
                strbuf_adds(&b, in->args[0]);
        }
        for (size_t i = 0; i < in->nheredocs; i++) {
                strbuf_add(&b, "\n", 1);
                strbuf_adds(&b, in->heredocs[i].content ? in->heredocs[i].content : "");
        }
        return b.data ? b.data : xstrdup("");
}

static const char *flag_value(const struct df_instr *in, const char *name)
{
        for (size_t i = 0; i < in->nflags; i++)
                if (strcmp(in->flags[i].name, name) == 0)
                        return in->flags[i].value ? in->flags[i].value : "";
        return NULL;
}

/* ---- stages ---- */

struct meta {
        const struct dockerfile *df;
        char **vals;            /* the ARGs' defaults, expanded; NULL: none */
        size_t limit;           /* only ARGs before this one */
        bool unknown;
};

static const char *meta_lookup(const char *name, void *data)
{
        struct meta *m = data;

        for (size_t i = m->limit; i-- > 0;) {
                if (strcmp(m->df->meta_args[i].key, name) == 0) {
                        if (m->vals[i] == NULL)
                                m->unknown = true;
                        return m->vals[i];
                }
        }
        /* not an ARG before FROM: BuildKit's automatic platform ARGs, or
         * nothing; either way not for the linter to guess */
        m->unknown = true;
        return NULL;
}

static void resolve_stages(struct ctx *c, const struct lint_options *o)
{
        const struct dockerfile *df = c->df;
        struct meta m = { .df = df };

        m.vals = xcalloc(df->nmeta_args + 1, sizeof(char *));
        for (size_t i = 0; i < df->nmeta_args; i++) {
                const struct df_kv *kv = &df->meta_args[i];
                char *v = NULL;

                m.limit = i;
                m.unknown = false;
                if (kv->has_value && kv->value &&
                    (dockerfile_expand(kv->value, df->escape ? df->escape : '\\', meta_lookup, &m, &v, NULL) < 0 ||
                     m.unknown)) {
                        free(v);
                        v = NULL;
                }
                m.vals[i] = v;
        }
        m.limit = df->nmeta_args;

        c->image = xcalloc(df->nstages + 1, sizeof(char *));
        c->base = xcalloc(df->nstages + 1, sizeof(ssize_t));
        c->in_image = xcalloc(df->nstages + 1, sizeof(bool));
        for (size_t s = 0; s < df->nstages; s++) {
                const struct df_instr *from = &df->instrs[df->stages[s].from];
                char *img = NULL;

                c->base[s] = -1;
                if (from->nargs == 0)
                        continue;
                m.unknown = false;
                if (dockerfile_expand(from->args[0], df->escape ? df->escape : '\\', meta_lookup, &m, &img, NULL) < 0 ||
                    m.unknown) {
                        free(img);
                        img = NULL;
                }
                c->image[s] = img;
                for (size_t k = 0; img && k < s; k++)
                        if (df->stages[k].name && strcasecmp(df->stages[k].name, img) == 0)
                                c->base[s] = (ssize_t)k;
        }
        for (size_t i = 0; i < df->nmeta_args; i++)
                free(m.vals[i]);
        free(m.vals);

        c->final = df->nstages ? df->nstages - 1 : 0;
        if (o && o->target && df->nstages) {
                bool digits = o->target[0] != '\0';
                for (const char *p = o->target; *p; p++)
                        digits = digits && *p >= '0' && *p <= '9';
                for (size_t s = 0; s < df->nstages; s++)
                        if (df->stages[s].name && strcasecmp(df->stages[s].name, o->target) == 0)
                                c->final = s;
                if (digits && parse_ll(o->target) >= 0 && (size_t)parse_ll(o->target) < df->nstages)
                        c->final = (size_t)parse_ll(o->target);
        }
        for (ssize_t s = df->nstages ? (ssize_t)c->final : -1; s >= 0; s = c->base[s])
                c->in_image[s] = true;
}

#define STAGE_INSTRS(df, st, in) \
        for (const struct df_instr *in = &(df)->instrs[(st)->first]; in < &(df)->instrs[(st)->first + (st)->n]; in++)

/* ---- the rules ---- */

static bool user_is_root(const char *u)
{
        size_t n = strcspn(u, ":");
        return (n == 4 && strncmp(u, "root", 4) == 0) || (n == 1 && u[0] == '0');
}

static void rule_root_user(struct ctx *c)
{
        const struct dockerfile *df = c->df;
        const struct df_instr *user = NULL;

        if (df->nstages == 0)
                return;
        for (ssize_t s = (ssize_t)c->final; s >= 0 && user == NULL; s = c->base[s]) {
                STAGE_INSTRS(df, &df->stages[s], in)
                        if (in->kind == DF_USER && in->nargs > 0)
                                user = in;
                if (user == NULL && c->base[s] < 0 && c->image[s] &&
                    (strstr(c->image[s], "nonroot") || strstr(c->image[s], "rootless")))
                        return; /* a base image made to run unprivileged */
        }
        if (user == NULL) {
                warn(c, R_ROOT_USER, df->instrs[df->stages[c->final].from].line,
                     "the final stage sets no USER: the container runs as root unless its base image sets a user; "
                     "add USER with an unprivileged user");
                return;
        }
        if (strchr(user->args[0], '$') == NULL && user_is_root(user->args[0])) {
                _cleanup_free_ char *u = show(user->args[0]);
                warn(c, R_ROOT_USER, user->line,
                     "USER %s is the final stage's last USER: the container runs as root; end with an unprivileged user",
                     u);
        }
}

/* A reference's name and tag: "debian:bookworm@sha256:..." gives "debian"
 * and "bookworm"; *tag NULL without one. */
static void ref_split(const char *ref, char **name, char **tag)
{
        const char *at = strchr(ref, '@');
        size_t end = at ? (size_t)(at - ref) : strlen(ref), start = 0, colon = end;

        for (size_t i = 0; i < end; i++)
                if (ref[i] == '/')
                        start = i + 1;
        for (size_t i = start; i < end; i++)
                if (ref[i] == ':')
                        colon = i;
        *name = strndup(ref, colon);
        *tag = colon < end ? strndup(ref + colon + 1, end - colon - 1) : NULL;
        if (*name == NULL || (colon < end && *tag == NULL))
                abort();
}

static bool is_scratch(const char *img)
{
        return strcasecmp(img, "scratch") == 0;
}

static void rule_base_latest(struct ctx *c)
{
        const struct dockerfile *df = c->df;

        for (size_t s = 0; s < df->nstages; s++) {
                const char *img = c->image[s];
                _cleanup_free_ char *name = NULL, *tag = NULL, *shown = NULL;
                unsigned line = df->instrs[df->stages[s].from].line;

                if (img == NULL || c->base[s] >= 0 || is_scratch(img) || strchr(img, '@'))
                        continue;
                ref_split(img, &name, &tag);
                shown = show(name);
                if (tag == NULL)
                        warn(c, R_BASE_LATEST, line,
                             "FROM %s has no tag, which means :latest and changes under you; pin a version (%s:<version>)",
                             shown, shown);
                else if (strcmp(tag, "latest") == 0)
                        warn(c, R_BASE_LATEST, line,
                             "FROM %s:latest changes under you; pin a version (%s:<version>)", shown, shown);
        }
}

/* "docker.io/library/debian" -> "debian"; NULL for other registries and
 * non-official repositories. */
static const char *official_name(const char *name)
{
        static const char *const hosts[] = { "docker.io/", "index.docker.io/", "registry-1.docker.io/" };

        for (size_t i = 0; i < ARRAY_SIZE(hosts); i++)
                if (str_has_prefix(name, hosts[i])) {
                        name += strlen(hosts[i]);
                        break;
                }
        if (str_has_prefix(name, "library/"))
                name += strlen("library/");
        return strchr(name, '/') ? NULL : name;
}

static void rule_full_base(struct ctx *c)
{
        const struct dockerfile *df = c->df;

        for (size_t s = 0; s < df->nstages; s++) {
                const char *img = c->image[s], *name;
                _cleanup_free_ char *full = NULL, *tag = NULL, *t = NULL, *suggest = NULL;
                unsigned line = df->instrs[df->stages[s].from].line;

                if (!c->in_image[s] || img == NULL || c->base[s] >= 0 || is_scratch(img))
                        continue;
                ref_split(img, &full, &tag);
                name = official_name(full);
                if (name == NULL)
                        continue;
                t = tag ? show(tag) : NULL;
                if (strcasecmp(name, "debian") == 0) {
                        if (t && strstr(t, "slim"))
                                continue;
                        if (t == NULL || strcmp(t, "latest") == 0 || strcmp(t, "stable") == 0)
                                suggest = xstrdup("debian:stable-slim");
                        else
                                suggest = xasprintf("debian:%s-slim", t);
                } else if (strcasecmp(name, "ubuntu") == 0) {
                        suggest = xstrdup(ALPINE ", or debian:bookworm-slim when glibc and apt are needed");
                } else if (strcasecmp(name, "fedora") == 0) {
                        if (t && t[0] >= '0' && t[0] <= '9')
                                suggest = xasprintf("registry.fedoraproject.org/fedora-minimal:%s", t);
                        else
                                suggest = xstrdup("registry.fedoraproject.org/fedora-minimal:<release>");
                } else if (strcasecmp(name, "centos") == 0) {
                        int major = 9;
                        for (const char *p = t; p && *p; p++)
                                if (*p >= '0' && *p <= '9') {
                                        major = *p - '0';
                                        break;
                                }
                        major = major < 7 ? 7 : major > 9 ? 9 : major;
                        suggest = xasprintf("registry.access.redhat.com/ubi%d/ubi-minimal, or " ALPINE, major);
                } else {
                        continue;
                }
                {
                        _cleanup_free_ char *shown = show(img);
                        warn(c, R_FULL_BASE, line,
                             "FROM %s is a full distribution image; a smaller base makes a smaller image with less to "
                             "patch: %s",
                             shown, suggest);
                }
        }
}

static void rule_pkg_cache(struct ctx *c, const struct df_instr *in, const struct shell *sh)
{
        static const char *const apt_lists[] = { "/var/lib/apt/lists", NULL };
        static const char *const apk_cache[] = { "/var/cache/apk", NULL };
        static const char *const yum_cache[] = { "/var/cache/yum", "/var/cache/dnf", NULL };
        const char *mount = flag_value(in, "mount");
        bool apt = false, apk = false, apk_clean = false, yum = false, yum_clean = false;
        const char *yum_name = "yum";

        if (mount && strstr(mount, "type=cache"))
                return; /* the cache is a cache mount, not in the layer */
        for (size_t i = 0; i < sh->n; i++) {
                const struct cmd *cm = &sh->c[i];
                size_t p = program(cm);
                if (installs(cm, p, APT))
                        apt = true;
                if (installs(cm, p, APK)) {
                        apk = true;
                        if (has_word(cm, p + 1, "--no-cache"))
                                apk_clean = true;
                }
                if (installs(cm, p, YUM)) {
                        yum = true;
                        yum_name = base_name(cm->w[p]);
                }
                if (prog_is(cm, p, YUM) && has_word(cm, p + 1, "clean") && has_word(cm, p + 1, "all"))
                        yum_clean = true;
        }
        if (apt && !removes(sh, apt_lists))
                warn(c, R_PKG_CACHE, in->line,
                     "RUN installs with apt-get but leaves /var/lib/apt/lists in the layer: end the same RUN with "
                     "&& rm -rf /var/lib/apt/lists/*");
        if (apk && !apk_clean && !removes(sh, apk_cache))
                warn(c, R_PKG_CACHE, in->line,
                     "RUN apk add leaves the package index in the layer: use apk add --no-cache");
        if (yum && !yum_clean && !removes(sh, yum_cache)) {
                _cleanup_free_ char *y = show(yum_name);
                warn(c, R_PKG_CACHE, in->line,
                     "RUN %s install leaves the package cache in the layer: end the same RUN with && %s clean all", y,
                     y);
        }
}

static void rule_processes(struct ctx *c, const struct df_instr *in, const struct shell *sh)
{
        const char *kw = in->kind == DF_CMD ? "CMD" : "ENTRYPOINT";

        for (size_t i = 0; i < sh->n; i++) {
                const struct cmd *cm = &sh->c[i];
                size_t p = program(cm);
                if (prog_is(cm, p, (const char *const[]){ "supervisord", NULL })) {
                        warn(c, R_MULTI_PROC, in->line,
                             "%s runs supervisord: a container should run one service; run each process in its own "
                             "container",
                             kw);
                        return;
                }
                if (p + 2 < cm->n && prog_is(cm, p, (const char *const[]){ "service", NULL }) &&
                    strcmp(cm->w[p + 2], "start") == 0) {
                        _cleanup_free_ char *svc = show(cm->w[p + 1]);
                        warn(c, R_MULTI_PROC, in->line,
                             "%s starts a service (service %s start): a container should run one process in the "
                             "foreground; run the service in its own container",
                             kw, svc);
                        return;
                }
                if (p + 1 < cm->n && str_has_prefix(cm->w[p], "/etc/init.d/") && strcmp(cm->w[p + 1], "start") == 0) {
                        _cleanup_free_ char *svc = show(cm->w[p]);
                        warn(c, R_MULTI_PROC, in->line,
                             "%s starts a service (%s start): a container should run one process in the foreground; "
                             "run the service in its own container",
                             kw, svc);
                        return;
                }
        }
        if (sh->background)
                warn(c, R_MULTI_PROC, in->line,
                     "%s puts a process in the background with '&': the container's main process should be its one "
                     "service, in the foreground; run the others in their own containers",
                     kw);
}

/* Commands: RUN (caches, supervisor installs), CMD and ENTRYPOINT, in
 * the stages the image is built on. */
static void rule_commands(struct ctx *c)
{
        const struct dockerfile *df = c->df;

        for (size_t s = 0; s < df->nstages; s++) {
                STAGE_INSTRS(df, &df->stages[s], in)
                {
                        _cleanup_free_ char *text = NULL;
                        struct shell sh = { 0 };

                        if (in->kind != DF_RUN && in->kind != DF_CMD && in->kind != DF_ENTRYPOINT)
                                continue;
                        /* a stage the image is not built on leaves no cache
                         * and runs no process in it */
                        if (!c->in_image[s])
                                continue;
                        text = command_text(in);
                        shell_split(text, &sh);
                        if (in->kind == DF_RUN) {
                                rule_pkg_cache(c, in, &sh);
                                for (size_t i = 0; i < sh.n; i++)
                                        if (installs_supervisor(&sh.c[i], program(&sh.c[i]))) {
                                                warn(c, R_MULTI_PROC, in->line,
                                                     "RUN installs supervisor to run several processes in one "
                                                     "container: run each process in its own container");
                                                break;
                                        }
                        } else {
                                rule_processes(c, in, &sh);
                        }
                        shell_free(&sh);
                }
        }
}

static void rule_consecutive_run(struct ctx *c)
{
        const struct dockerfile *df = c->df;

        for (size_t s = 0; s < df->nstages; s++) {
                const struct df_stage *st = &df->stages[s];
                size_t i = st->first, end = st->first + st->n;

                while (i < end) {
                        size_t j = i;
                        struct strbuf lines = { 0 };

                        while (j < end && df->instrs[j].kind == DF_RUN)
                                j++;
                        if (j - i >= 2) {
                                for (size_t k = i; k < j; k++) {
                                        char num[16];
                                        snprintf(num, sizeof(num), "%u", df->instrs[k].line);
                                        if (k > i)
                                                strbuf_adds(&lines, k + 1 == j ? " and " : ", ");
                                        strbuf_adds(&lines, num);
                                }
                                warn(c, R_CONSEC_RUN, df->instrs[i].line,
                                     "RUN on lines %s could be one RUN: each RUN adds a layer; join the commands "
                                     "with &&",
                                     lines.data);
                                free(lines.data);
                        }
                        i = j > i ? j : i + 1;
                }
        }
}

/* A name made of '_'-separated words that has the word w. */
static bool has_name_word(const char *upper, const char *w)
{
        size_t n = strlen(w);

        for (const char *p = upper; (p = strstr(p, w)) != NULL; p++)
                if ((p == upper || p[-1] == '_') && (p[n] == '\0' || p[n] == '_'))
                        return true;
        return false;
}

static bool secret_name(const char *key)
{
        static const char *const tokens[] = { "PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY",
                                              "PRIVATE_KEY", "ACCESS_KEY" };
        _cleanup_free_ char *up = xstrdup(key);
        bool hit = false;

        for (char *p = up; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 'a' + 'A');
        for (size_t i = 0; i < ARRAY_SIZE(tokens) && !hit; i++)
                for (const char *p = up; !hit && (p = strstr(p, tokens[i])) != NULL; p++)
                        /* "TOKENIZER" is not a token */
                        hit = !(i == 3 && str_has_prefix(p, "TOKENIZ"));
        /* Docker's exemptions: a *_FILE name holds a path to the secret, a
         * PUBLIC key or token is not secret, *_VERSION is a version. */
        return hit && !has_name_word(up, "FILE") && !has_name_word(up, "PUBLIC") && !has_name_word(up, "VERSION");
}

static void secrets_in(struct ctx *c, const struct df_instr *in)
{
        if (in->kind == DF_ONBUILD && in->onbuild) {
                secrets_in(c, in->onbuild);
                return;
        }
        if (in->kind != DF_ARG && in->kind != DF_ENV)
                return;
        for (size_t k = 0; k < in->nkvs; k++) {
                if (!secret_name(in->kvs[k].key))
                        continue;
                _cleanup_free_ char *key = show(in->kvs[k].key);
                warn(c, R_SECRETS, in->line,
                     "%s %s looks like a secret: ARG and ENV values stay in the image (its config and history); "
                     "pass secrets at run time or through a secret mount",
                     in->kind == DF_ARG ? "ARG" : "ENV", key);
        }
}

static void rule_secrets(struct ctx *c)
{
        for (size_t i = 0; i < c->df->n; i++)
                secrets_in(c, &c->df->instrs[i]);
}

static bool is_archive(const char *src)
{
        static const char *const ext[] = { ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz",
                                           ".tar.xz", ".txz", ".tar.zst", ".tzst" };
        size_t n = strlen(src);

        for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
                size_t e = strlen(ext[i]);
                if (n > e && strcasecmp(src + n - e, ext[i]) == 0)
                        return true;
        }
        return false;
}

static void rule_add(struct ctx *c)
{
        const struct dockerfile *df = c->df;

        for (size_t i = 0; i < df->n; i++) {
                const struct df_instr *in = &df->instrs[i];
                bool needed = false;

                if (in->kind != DF_ADD || in->nargs < 2)
                        continue;
                /* flags only ADD has: it fetches or unpacks */
                if (flag_value(in, "checksum") || flag_value(in, "keep-git-dir") || flag_value(in, "unpack"))
                        continue;
                for (size_t k = 0; k + 1 < in->nargs && !needed; k++) {
                        const char *src = in->args[k];
                        needed = strstr(src, "://") || str_has_prefix(src, "git@") || strchr(src, '$') ||
                                 is_archive(src);
                }
                if (!needed)
                        warn(c, R_ADD, in->line,
                             "ADD of local files: use COPY, which does only that (ADD also fetches URLs and unpacks "
                             "archives; keep it for those)");
        }
}

static void rule_workdir(struct ctx *c)
{
        const struct dockerfile *df = c->df;
        bool *set = xcalloc(df->nstages + 1, sizeof(bool));

        for (size_t s = 0; s < df->nstages; s++) {
                bool done = c->base[s] >= 0 && set[c->base[s]];

                STAGE_INSTRS(df, &df->stages[s], in)
                {
                        if (in->kind != DF_WORKDIR || in->nargs == 0)
                                continue;
                        /* BuildKit checks a stage's first WORKDIR only: the
                         * ones after are relative to it */
                        if (!done && in->args[0][0] != '/' && in->args[0][0] != '$') {
                                _cleanup_free_ char *p = show(in->args[0]);
                                warn(c, R_WORKDIR, in->line,
                                     "WORKDIR %s is relative: it depends on the base image's working directory; use an "
                                     "absolute path",
                                     p);
                        }
                        done = true;
                }
                set[s] = done;
        }
        free(set);
}

/* ---- entry points ---- */

static bool before(const struct lint_warning *x, const struct lint_warning *y)
{
        if (x->line != y->line)
                return x->line < y->line;
        return rule_index(x->id, strlen(x->id)) < rule_index(y->id, strlen(y->id));
}

/* By line, then by rule; stable (insertion sort: the lists are short). */
static void sort_warnings(struct lint_warning *w, size_t n)
{
        for (size_t i = 1; i < n; i++) {
                struct lint_warning t = w[i];
                size_t j = i;
                while (j > 0 && before(&t, &w[j - 1])) {
                        w[j] = w[j - 1];
                        j--;
                }
                w[j] = t;
        }
}

size_t lint_dockerfile(const struct dockerfile *df, const struct lint_options *o, struct lint_warning **out)
{
        struct ctx c = { .df = df };

        *out = NULL;
        if (df == NULL)
                return 0;
        for (size_t i = 0; o && i < o->nskip; i++)
                if (o->skip[i])
                        skip_one(&c, o->skip[i], strlen(o->skip[i]));
        if (df->check && !(o && o->ignore_directive))
                skip_directive(&c, df->check);
        resolve_stages(&c, o);

        rule_root_user(&c);
        rule_base_latest(&c);
        rule_full_base(&c);
        rule_commands(&c);
        rule_consecutive_run(&c);
        rule_secrets(&c);
        rule_add(&c);
        rule_workdir(&c);

        for (size_t s = 0; s < df->nstages; s++)
                free(c.image[s]);
        free(c.image);
        free(c.base);
        free(c.in_image);
        sort_warnings(c.w, c.n);
        *out = c.w;
        return c.n;
}

void lint_warnings_free(struct lint_warning *w, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(w[i].message);
        free(w);
}

char *lint_format(const struct dockerfile *df, const struct lint_warning *w)
{
        return xasprintf("%s:%u: %s: %s", df && df->file ? df->file : "Dockerfile", w->line, w->id, w->message);
}
