/* Platforms as containerd's platforms package has them: parse, normalize,
 * format, match, and picking an index entry for a platform. */
#include "image/manifest-internal.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

void platform_copy(struct platform *dst, const struct platform *src)
{
        dst->os = src->os ? xstrdup(src->os) : NULL;
        dst->arch = src->arch ? xstrdup(src->arch) : NULL;
        dst->variant = src->variant ? xstrdup(src->variant) : NULL;
        dst->os_version = src->os_version ? xstrdup(src->os_version) : NULL;
}

void platform_clear(struct platform *p)
{
        if (p == NULL)
                return;
        free(p->os);
        free(p->arch);
        free(p->variant);
        free(p->os_version);
        memset(p, 0, sizeof(*p));
}

void platform_free(struct platform *p)
{
        platform_clear(p);
        free(p);
}

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__arm__)
#define HOST_ARCH "arm"
#elif defined(__i386__)
#define HOST_ARCH "386"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ARCH "ppc64le"
#elif defined(__powerpc64__)
#define HOST_ARCH "ppc64"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH "riscv64"
#elif defined(__loongarch64)
#define HOST_ARCH "loong64"
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ARCH "mips64le"
#elif defined(__mips64)
#define HOST_ARCH "mips64"
#else
#error "unknown host architecture: add it to HOST_ARCH"
#endif

/* The variant containerd's cpuVariant() would find; NULL where none. */
static const char *host_variant(void)
{
#if defined(__aarch64__)
        return "v8";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
        return "v7";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH == 6
        return "v6";
#elif defined(__arm__)
        return "v5";
#else
        return NULL;
#endif
}

static void lowercase(char *s)
{
        for (; s && *s; s++)
                *s = (char)tolower((unsigned char)*s);
}

static void set_str(char **field_, const char *value)
{
        free(*field_);
        *field_ = value ? xstrdup(value) : NULL;
}

static bool str_is(const char *s, const char *want)
{
        return strcmp(s ? s : "", want) == 0;
}

/* containerd's normalizeArch */
static void normalize_arch(char **arch, char **variant)
{
        lowercase(*arch);
        lowercase(*variant);
        if (str_is(*arch, "i386")) {
                set_str(arch, "386");
                set_str(variant, NULL);
        } else if (str_is(*arch, "x86_64") || str_is(*arch, "x86-64") || str_is(*arch, "amd64")) {
                set_str(arch, "amd64");
                if (str_is(*variant, "v1"))
                        set_str(variant, NULL);
        } else if (str_is(*arch, "aarch64") || str_is(*arch, "arm64")) {
                set_str(arch, "arm64");
                if (str_is(*variant, "8") || str_is(*variant, "v8"))
                        set_str(variant, NULL);
        } else if (str_is(*arch, "armhf")) {
                set_str(arch, "arm");
                set_str(variant, "v7");
        } else if (str_is(*arch, "armel")) {
                set_str(arch, "arm");
                set_str(variant, "v6");
        } else if (str_is(*arch, "arm")) {
                if (str_is(*variant, "") || str_is(*variant, "7"))
                        set_str(variant, "v7");
                else if (str_is(*variant, "5") || str_is(*variant, "6") || str_is(*variant, "8")) {
                        _cleanup_free_ char *v = xasprintf("v%s", *variant);
                        set_str(variant, v);
                }
        }
        if (*variant && **variant == '\0')
                set_str(variant, NULL);
}

static void normalize_os(char **os)
{
        lowercase(*os);
        if (str_is(*os, "macos"))
                set_str(os, "darwin");
}

void platform_normalize(struct platform *p)
{
        normalize_os(&p->os);
        normalize_arch(&p->arch, &p->variant);
}

char *platform_format(const struct platform *p)
{
        const char *os = p->os && *p->os ? p->os : "unknown", *arch = p->arch ? p->arch : "";

        if (p->variant && *p->variant)
                return xasprintf("%s/%s/%s", os, arch, p->variant);
        if (*arch)
                return xasprintf("%s/%s", os, arch);
        return xstrdup(os);
}

static bool in_list(const char *s, const char *const *list)
{
        for (; *list; list++)
                if (strcmp(s, *list) == 0)
                        return true;
        return false;
}

static bool known_os(const char *os)
{
        static const char *const list[] = { "aix", "android", "darwin", "dragonfly", "freebsd", "hurd",
                "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows",
                "zos", NULL };
        return in_list(os, list);
}

static bool known_arch(const char *arch)
{
        static const char *const list[] = { "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be",
                "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
                "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm", NULL };
        return in_list(arch, list);
}

static bool component_valid(const char *s, size_t n, const char *extra)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && !strchr(extra, s[i]))
                        return false;
        return true;
}

/* Between the parentheses of "windows(10.0.17763+win32k)" up to end, which
 * must be the closing one: a version, then "+feature"s. */
static bool os_options_valid(const char *s, const char *end)
{
        const char *p;

        if (end - s < 1 || end[-1] != ')')
                return false;
        end--;
        for (p = s; p < end && *p != '+'; p++)
                if (!component_valid(p, 1, ".%"))
                        return false;
        while (p < end) { /* at a '+' */
                const char *f = ++p;
                for (; p < end && *p != '+'; p++)
                        if (!component_valid(p, 1, ".%"))
                                return false;
                if (p == f)
                        return false;
        }
        return true;
}

static void host_platform(struct platform *p)
{
        p->os = xstrdup("linux");
        p->arch = xstrdup(HOST_ARCH);
        p->variant = host_variant() ? xstrdup(host_variant()) : NULL;
}

/* containerd's Parse. */
int platform_parse(const char *spec, struct platform *out, berth_error_t **err)
{
        _cleanup_platform_ struct platform p = { 0 };
        const char *parts[3], *s = spec, *paren, *end;
        size_t lens[3], n = 0;

        memset(out, 0, sizeof(*out));
        if (spec == NULL || *spec == '\0') {
                host_platform(out);
                return 0;
        }
        if (strchr(spec, '*')) {
                _cleanup_free_ char *q = doc_quoted(spec);
                return berth_error(err, 0, "invalid platform %s: wildcards are not supported", q);
        }
        for (;;) {
                const char *slash = strchr(s, '/');
                if (n == 3) {
                        _cleanup_free_ char *q = doc_quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: want os/arch[/variant]", q);
                }
                parts[n] = s;
                lens[n++] = slash ? (size_t)(slash - s) : strlen(s);
                if (!slash)
                        break;
                s = slash + 1;
        }
        /* <os>[(<os.version>[+<feature>...])] */
        paren = memchr(parts[0], '(', lens[0]);
        end = parts[0] + lens[0];
        if (!component_valid(parts[0], paren ? (size_t)(paren - parts[0]) : lens[0], "") ||
            (paren && !os_options_valid(paren + 1, end))) {
                _cleanup_free_ char *q = doc_quoted(spec);
                return berth_error(err, 0, "invalid platform %s: bad operating system component", q);
        }
        for (size_t i = 1; i < n; i++)
                if (!component_valid(parts[i], lens[i], ".")) {
                        _cleanup_free_ char *q = doc_quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: bad component %zu", q, i + 1);
                }
        p.os = xasprintf("%.*s", (int)(paren ? (size_t)(paren - parts[0]) : lens[0]), parts[0]);
        normalize_os(&p.os);
        if (paren) {
                size_t vlen = strcspn(paren + 1, "+)");
                if (vlen > 0)
                        p.os_version = xasprintf("%.*s", (int)vlen, paren + 1);
        }
        switch (n) {
        case 1:
                if (known_os(p.os)) {
                        p.arch = xstrdup(HOST_ARCH);
                        if (host_variant() && strcmp(HOST_ARCH, "arm") == 0 && strcmp(host_variant(), "v7") != 0)
                                p.variant = xstrdup(host_variant());
                        break;
                }
                if (paren) {
                        _cleanup_free_ char *q = doc_quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: unknown operating system", q);
                }
                p.arch = steal_pointer(&p.os);
                normalize_arch(&p.arch, &p.variant);
                if (str_is(p.arch, "arm") && str_is(p.variant, "v7"))
                        set_str(&p.variant, NULL);
                if (!known_arch(p.arch)) {
                        _cleanup_free_ char *q = doc_quoted(spec);
                        return berth_error(err, 0, "invalid platform %s: unknown operating system or architecture", q);
                }
                p.os = xstrdup("linux");
                break;
        case 2:
                p.arch = xasprintf("%.*s", (int)lens[1], parts[1]);
                normalize_arch(&p.arch, &p.variant);
                if (str_is(p.arch, "arm") && str_is(p.variant, "v7"))
                        set_str(&p.variant, NULL);
                break;
        default:
                p.arch = xasprintf("%.*s", (int)lens[1], parts[1]);
                p.variant = xasprintf("%.*s", (int)lens[2], parts[2]);
                normalize_arch(&p.arch, &p.variant);
                if (str_is(p.arch, "arm64") && p.variant == NULL)
                        p.variant = xstrdup("v8");
                break;
        }
        *out = p;
        memset(&p, 0, sizeof(p));
        return 0;
}

/* The ordered list of platforms `want` runs: containerd's platformVector. */
struct pvec {
        struct platform *v;
        size_t n, cap;
};

static void pvec_push(struct pvec *pv, const struct platform *base, const char *arch, const char *variant)
{
        struct platform *p;

        if (pv->n == pv->cap) {
                pv->cap = pv->cap ? pv->cap * 2 : 16;
                pv->v = xrealloc(pv->v, pv->cap * sizeof(*pv->v));
        }
        p = &pv->v[pv->n++];
        memset(p, 0, sizeof(*p));
        p->os = base->os ? xstrdup(base->os) : NULL;
        p->os_version = base->os_version ? xstrdup(base->os_version) : NULL;
        p->arch = xstrdup(arch);
        p->variant = variant && *variant ? xstrdup(variant) : NULL;
        platform_normalize(p); /* NewMatcher normalises */
}

static void pvec_free(struct pvec *pv)
{
        for (size_t i = 0; i < pv->n; i++)
                platform_clear(&pv->v[i]);
        free(pv->v);
}

/* strconv.Atoi(strings.TrimPrefix(s, "v")) for the small numbers variants
 * are; -1 otherwise (and for absurd ones, so no vector grows unbounded). */
static int variant_number(const char *s)
{
        int v = 0;

        if (s == NULL)
                return -1;
        if (*s == 'v')
                s++;
        if (*s == '\0' || strlen(s) > 2)
                return -1;
        for (; *s; s++) {
                if (!isdigit((unsigned char)*s))
                        return -1;
                v = v * 10 + (*s - '0');
        }
        return v;
}

static void platform_vector(struct pvec *pv, const struct platform *p)
{
        char buf[32];
        int version;

        pvec_push(pv, p, p->arch ? p->arch : "", p->variant);
        if (str_is(p->arch, "amd64")) {
                version = variant_number(p->variant);
                for (version--; version >= 1; version--) {
                        snprintf(buf, sizeof(buf), "v%d", version);
                        pvec_push(pv, p, "amd64", buf);
                }
                pvec_push(pv, p, "386", NULL);
        } else if (str_is(p->arch, "arm")) {
                version = variant_number(p->variant);
                if (version > 5)
                        for (version--; version >= 5; version--) {
                                snprintf(buf, sizeof(buf), "v%d", version);
                                pvec_push(pv, p, "arm", buf);
                        }
        } else if (str_is(p->arch, "arm64")) {
                char variant[32], major[32];
                const char *dot;
                struct platform arm = *p;
                int arm_major, arm_minor = 0;

                snprintf(variant, sizeof(variant), "%s", p->variant && *p->variant ? p->variant : "v8");
                dot = strchr(variant, '.');
                snprintf(major, sizeof(major), "%.*s", dot ? (int)(dot - variant) : (int)strlen(variant), variant);
                arm_major = variant_number(major);
                if (arm_major >= 8) {
                        if (strlen(variant) == 4 && dot && variant_number(dot + 1) >= 0 && dot[1] != 'v')
                                arm_minor = variant_number(dot + 1);
                        if (arm_major == 9) {
                                for (int minor = arm_minor - 1; minor >= 0; minor--) {
                                        if (minor == 0)
                                                snprintf(buf, sizeof(buf), "v9");
                                        else
                                                snprintf(buf, sizeof(buf), "v9.%d", minor);
                                        pvec_push(pv, p, "arm64", buf);
                                }
                                /* v9.0 diverged from v8.5: v9.x runs v8.{x+5} */
                                arm_minor += 5;
                                arm_major = 8;
                                snprintf(buf, sizeof(buf), "v8.%d", arm_minor);
                                pvec_push(pv, p, "arm64", buf);
                        }
                        for (int minor = arm_minor - 1; minor >= 0; minor--) {
                                if (minor == 0)
                                        snprintf(buf, sizeof(buf), "v%d", arm_major);
                                else
                                        snprintf(buf, sizeof(buf), "v%d.%d", arm_major, minor);
                                pvec_push(pv, p, "arm64", buf);
                        }
                }
                if (str_has_prefix(variant, "v8.") || str_has_prefix(variant, "v9."))
                        snprintf(variant, sizeof(variant), "v8");
                /* 64-bit ARM runs 32-bit ARM binaries */
                arm.arch = (char *)"arm";
                arm.variant = variant;
                platform_vector(pv, &arm);
        }
}

static bool same_platform(const struct platform *want /* normalised */, const struct platform *have)
{
        struct platform h = { 0 };
        bool same;

        platform_copy(&h, have);
        platform_normalize(&h);
        same = str_is(want->os, h.os ? h.os : "") && str_is(want->arch, h.arch ? h.arch : "") &&
               str_is(want->variant, h.variant ? h.variant : "");
        platform_clear(&h);
        return same;
}

/* want normalised, then its vector. */
static void want_vector(struct pvec *pv, const struct platform *want)
{
        struct platform w = { 0 };

        platform_copy(&w, want);
        platform_normalize(&w);
        platform_vector(pv, &w);
        platform_clear(&w);
}

bool platform_match(const struct platform *want, const struct platform *have)
{
        struct pvec pv = { 0 };
        bool match = false;

        want_vector(&pv, want);
        for (size_t i = 0; i < pv.n && !match; i++)
                match = same_platform(&pv.v[i], have);
        pvec_free(&pv);
        return match;
}

/* Entries that can be chosen: manifests or nested indexes, and not the
 * attestations BuildKit adds (platform unknown/unknown). */
static bool selectable(const struct descriptor *d)
{
        if (manifest_kind_from_media_type(d->media_type) == 0)
                return false;
        if (json_object_get(d->annotations, "vnd.docker.reference.type"))
                return false;
        if (d->platform && str_is(d->platform->os, "unknown") && str_is(d->platform->arch, "unknown"))
                return false;
        return true;
}

static int no_match_error(const struct index *ix, const struct platform *want, berth_error_t **err)
{
        struct platform w = { 0 };
        _cleanup_free_ char *wanted = NULL, *list = NULL;
        char *seen[33];
        size_t n_seen = 0, list_len = 0;
        bool more = false;
        FILE *f;

        platform_copy(&w, want);
        platform_normalize(&w);
        wanted = platform_format(&w);
        platform_clear(&w);
        f = open_memstream(&list, &list_len);
        if (f == NULL)
                abort();
        for (size_t i = 0; i < ix->n; i++) {
                const struct descriptor *d = &ix->manifests[i];
                bool dup = false;
                char *s;

                if (!selectable(d) || d->platform == NULL)
                        continue;
                s = platform_format(d->platform);
                for (size_t j = 0; j < n_seen && !dup; j++)
                        dup = strcmp(seen[j], s) == 0;
                if (dup) {
                        free(s);
                        continue;
                }
                if (n_seen == ARRAY_SIZE(seen)) {
                        free(s);
                        more = true;
                        break;
                }
                seen[n_seen++] = s;
        }
        for (size_t j = 0; j < n_seen; j++) {
                for (const char *c = seen[j]; *c; c++) {
                        unsigned char uc = (unsigned char)*c;
                        if (uc < 0x20 || uc == 0x7f)
                                fprintf(f, "\\x%02x", uc);
                        else
                                fputc(*c, f);
                }
                if (j + 1 < n_seen)
                        fputs(", ", f);
                free(seen[j]);
        }
        if (more)
                fputs(" and more", f);
        fclose(f);
        if (n_seen == 0)
                return berth_error(err, 0, "no %s in the index; it lists no images", wanted);
        return berth_error(err, 0, "no %s in the index; it has %s", wanted, list);
}

int index_select_platform(const struct index *ix, const char *platform, const struct descriptor **out,
                          berth_error_t **err)
{
        _cleanup_platform_ struct platform want = { 0 };
        struct pvec pv = { 0 };
        int ret;

        *out = NULL;
        if ((ret = platform_parse(platform, &want, err)) < 0)
                return ret;
        want_vector(&pv, &want);
        for (size_t v = 0; v < pv.n && *out == NULL; v++)
                for (size_t i = 0; i < ix->n && *out == NULL; i++)
                        if (selectable(&ix->manifests[i]) && ix->manifests[i].platform &&
                            same_platform(&pv.v[v], ix->manifests[i].platform))
                                *out = &ix->manifests[i];
        pvec_free(&pv);
        if (*out)
                return 0;
        /* containerd keeps entries without a platform, after all the others:
         * the image config then says what they are. */
        for (size_t i = 0; i < ix->n; i++)
                if (selectable(&ix->manifests[i]) && ix->manifests[i].platform == NULL) {
                        *out = &ix->manifests[i];
                        return 1;
                }
        return no_match_error(ix, &want, err);
}
