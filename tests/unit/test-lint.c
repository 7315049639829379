#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "build/dockerfile.h"
#include "build/lint.h"
#include "util/util.h"

/* Each rule: Dockerfiles that trigger it (on a given line) and close ones
 * that must not. */

struct result {
        struct dockerfile *df;
        struct lint_warning *w;
        size_t n;
};

static void lint_opts(const char *text, const struct lint_options *o, struct result *r)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (dockerfile_parse(text, strlen(text), "Dockerfile", &r->df, &err) < 0)
                fail_msg("parse: %s\n%s", err->msg, text);
        r->n = lint_dockerfile(r->df, o, &r->w);
}

static void result_free(struct result *r)
{
        lint_warnings_free(r->w, r->n);
        dockerfile_free(r->df);
        *r = (struct result){ 0 };
}

static const struct lint_warning *find(const struct result *r, const char *id, unsigned line)
{
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->w[i].id, id) == 0 && (line == 0 || r->w[i].line == line))
                        return &r->w[i];
        return NULL;
}

static void dump(const struct result *r)
{
        for (size_t i = 0; i < r->n; i++) {
                _cleanup_free_ char *s = lint_format(r->df, &r->w[i]);
                fprintf(stderr, "  %s\n", s);
        }
}

/* text warns id on line (and the message has want, when not NULL) */
static void expect(const char *text, const char *id, unsigned line, const char *want)
{
        struct result r = { 0 };
        const struct lint_warning *w;

        lint_opts(text, NULL, &r);
        w = find(&r, id, line);
        if (w == NULL) {
                dump(&r);
                fail_msg("no %s on line %u for:\n%s", id, line, text);
        }
        if (want && strstr(w->message, want) == NULL)
                fail_msg("%s: \"%s\" lacks \"%s\"", id, w->message, want);
        result_free(&r);
}

/* text does not warn id */
static void clean(const char *text, const char *id)
{
        struct result r = { 0 };

        lint_opts(text, NULL, &r);
        if (find(&r, id, 0)) {
                dump(&r);
                fail_msg("unexpected %s for:\n%s", id, text);
        }
        result_free(&r);
}

static void test_root_user(void **state)
{
        (void)state;
        expect("FROM alpine:3.20\nRUN true\n", "RootUser", 1, "no USER");
        expect("FROM alpine:3.20\nUSER app\nRUN true\nUSER root\n", "RootUser", 4, "USER root");
        expect("FROM alpine:3.20\nUSER 0:0\n", "RootUser", 2, NULL);
        expect("FROM scratch\nCOPY app /app\n", "RootUser", 1, NULL);
        /* a builder stage's USER does not make the final image's */
        expect("FROM alpine:3.20 AS build\nUSER app\nFROM alpine:3.20\nCOPY --from=build /a /a\n", "RootUser", 3, NULL);
        clean("FROM alpine:3.20\nUSER app\n", "RootUser");
        clean("FROM alpine:3.20\nUSER root\nRUN apk add --no-cache x\nUSER 1000:1000\n", "RootUser");
        clean("FROM alpine:3.20\nUSER rootless\n", "RootUser");
        clean("FROM alpine:3.20\nUSER app:root\n", "RootUser");
        clean("FROM alpine:3.20\nARG U=app\nUSER $U\n", "RootUser");
        /* inherited from the stage it is built on */
        clean("FROM alpine:3.20 AS base\nUSER app\nFROM base\nRUN true\n", "RootUser");
        /* an image made to run unprivileged */
        clean("FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\n", "RootUser");
        /* --target picks the final stage */
        {
                struct result r = { 0 };
                struct lint_options o = { .target = "app" };
                lint_opts("FROM alpine:3.20 AS app\nUSER app\nFROM alpine:3.20 AS debug\n", &o, &r);
                assert_null(find(&r, "RootUser", 0));
                result_free(&r);
                o.target = "DEBUG";
                lint_opts("FROM alpine:3.20 AS app\nUSER app\nFROM alpine:3.20 AS debug\n", &o, &r);
                assert_non_null(find(&r, "RootUser", 3));
                result_free(&r);
                o.target = "0";
                lint_opts("FROM alpine:3.20 AS app\nUSER app\nFROM alpine:3.20 AS debug\n", &o, &r);
                assert_null(find(&r, "RootUser", 0));
                result_free(&r);
        }
}

static void test_base_latest(void **state)
{
        (void)state;
        expect("FROM alpine\nUSER app\n", "BaseImageLatest", 1, "no tag");
        expect("FROM alpine:latest\nUSER app\n", "BaseImageLatest", 1, ":latest");
        expect("FROM localhost:5000/app\nUSER app\n", "BaseImageLatest", 1, "localhost:5000/app has no tag");
        expect("FROM alpine:3.20 AS a\nFROM golang AS b\nFROM a\n", "BaseImageLatest", 2, NULL);
        expect("ARG TAG=latest\nFROM alpine:${TAG}\n", "BaseImageLatest", 2, NULL);
        expect("ARG IMG=alpine\nFROM $IMG\n", "BaseImageLatest", 2, "FROM alpine has no tag");
        clean("FROM alpine:3.20\n", "BaseImageLatest");
        clean("FROM localhost:5000/app:1.2\n", "BaseImageLatest");
        clean("FROM scratch\n", "BaseImageLatest");
        clean("FROM alpine:3.20 AS build\nFROM build\n", "BaseImageLatest");
        clean("FROM alpine:3.20 AS Build\nFROM build AS next\n", "BaseImageLatest");
        clean("FROM alpine@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a\n",
              "BaseImageLatest");
        clean("ARG V=3.20\nFROM alpine:$V\n", "BaseImageLatest");
        /* a build argument without a default: not judged */
        clean("ARG TAG\nFROM alpine:${TAG}\n", "BaseImageLatest");
        clean("FROM --platform=$BUILDPLATFORM alpine:3.20\n", "BaseImageLatest");
}

static void test_full_base(void **state)
{
        (void)state;
        expect("FROM debian:bookworm\nUSER app\n", "FullBaseImage", 1, "debian:bookworm-slim");
        expect("FROM docker.io/library/debian:12\n", "FullBaseImage", 1, "debian:12-slim");
        expect("FROM debian\n", "FullBaseImage", 1, "debian:stable-slim");
        expect("FROM ubuntu:22.04\n", "FullBaseImage", 1, "alpine:");
        expect("FROM fedora:40\n", "FullBaseImage", 1, "registry.fedoraproject.org/fedora-minimal:40");
        expect("FROM centos:7\n", "FullBaseImage", 1, "ubi7/ubi-minimal");
        expect("FROM centos:stream9\n", "FullBaseImage", 1, "ubi9/ubi-minimal");
        /* through the stage the final one is built on */
        expect("FROM ubuntu:24.04 AS base\nRUN true\nFROM base\nUSER app\n", "FullBaseImage", 1, NULL);
        clean("FROM debian:bookworm-slim\n", "FullBaseImage");
        clean("FROM debian:stable-slim\n", "FullBaseImage");
        clean("FROM alpine:3.20\n", "FullBaseImage");
        clean("FROM myorg/debian:12\n", "FullBaseImage");
        clean("FROM quay.io/centos/centos:stream9\n", "FullBaseImage");
        /* a full image to build in is fine when the result leaves it */
        clean("FROM debian:bookworm AS build\nRUN make\nFROM debian:bookworm-slim\nCOPY --from=build /a /a\n",
              "FullBaseImage");
}

static void test_package_cache(void **state)
{
        (void)state;
        expect("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n", "PackageCacheLeft", 2,
               "/var/lib/apt/lists");
        expect("FROM debian:bookworm-slim\nRUN apt-get update\nRUN DEBIAN_FRONTEND=noninteractive sudo apt-get -qq install curl\n",
               "PackageCacheLeft", 3, NULL);
        expect("FROM debian:bookworm-slim\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n", "PackageCacheLeft",
               2, NULL);
        expect("FROM debian:bookworm-slim\nRUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n", "PackageCacheLeft", 2, NULL);
        expect("FROM alpine:3.20\nRUN apk add curl\n", "PackageCacheLeft", 2, "--no-cache");
        expect("FROM alpine:3.20\nRUN apk update && apk add curl\n", "PackageCacheLeft", 2, NULL);
        expect("FROM fedora:40\nRUN dnf install -y git\n", "PackageCacheLeft", 2, "dnf clean all");
        expect("FROM centos:7\nRUN yum -y install git && yum makecache\n", "PackageCacheLeft", 2, "yum clean all");
        expect("FROM centos:7\nRUN yum install -y git && rm -rf /tmp/x\n", "PackageCacheLeft", 2, NULL);
        clean("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
              "PackageCacheLeft");
        clean("FROM debian:bookworm-slim\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends curl \\\n"
              "    && rm -rf /var/lib/apt/lists/*\n",
              "PackageCacheLeft");
        clean("FROM debian:bookworm-slim\nRUN apt-get update\n", "PackageCacheLeft");
        clean("FROM debian:bookworm-slim\nRUN echo apt-get install curl\n", "PackageCacheLeft");
        clean("FROM debian:bookworm-slim\nRUN --mount=type=cache,target=/var/cache/apt apt-get install -y curl\n",
              "PackageCacheLeft");
        clean("FROM alpine:3.20\nRUN apk add --no-cache curl\n", "PackageCacheLeft");
        clean("FROM alpine:3.20\nRUN apk --no-cache add curl\n", "PackageCacheLeft");
        clean("FROM alpine:3.20\nRUN apk add curl && rm -rf /var/cache/apk/*\n", "PackageCacheLeft");
        clean("FROM fedora:40\nRUN dnf install -y git && dnf clean all\n", "PackageCacheLeft");
        clean("FROM centos:7\nRUN yum -y install git; yum clean all\n", "PackageCacheLeft");
        /* a build stage the image only copies from */
        clean("FROM debian:bookworm AS build\nRUN apt-get update && apt-get install -y gcc\n"
              "FROM alpine:3.20\nCOPY --from=build /a /a\n",
              "PackageCacheLeft");
        expect("FROM debian:bookworm AS build\nRUN apt-get update && apt-get install -y gcc\nFROM build\n",
               "PackageCacheLeft", 2, NULL);
}

static void test_consecutive_run(void **state)
{
        (void)state;
        expect("FROM alpine:3.20\nRUN a\nRUN b\nUSER app\n", "ConsecutiveRun", 2, "lines 2 and 3");
        expect("FROM alpine:3.20\nRUN a\nRUN b\nRUN c\n", "ConsecutiveRun", 2, "lines 2, 3 and 4");
        expect("FROM alpine:3.20\nRUN a\n# why\n\nRUN b\n", "ConsecutiveRun", 2, "lines 2 and 5");
        expect("FROM alpine:3.20\nRUN a\nENV X=1\nRUN b\nRUN c\n", "ConsecutiveRun", 4, "lines 4 and 5");
        clean("FROM alpine:3.20\nRUN a\nENV X=1\nRUN b\n", "ConsecutiveRun");
        clean("FROM alpine:3.20\nRUN a\nFROM alpine:3.20\nRUN b\n", "ConsecutiveRun");
        clean("FROM alpine:3.20\nRUN a && b\n", "ConsecutiveRun");
        /* one warning for a run of three */
        {
                struct result r = { 0 };
                size_t k = 0;
                lint_opts("FROM alpine:3.20\nRUN a\nRUN b\nRUN c\n", NULL, &r);
                for (size_t i = 0; i < r.n; i++)
                        k += strcmp(r.w[i].id, "ConsecutiveRun") == 0;
                assert_int_equal(k, 1);
                result_free(&r);
        }
}

static void test_processes(void **state)
{
        (void)state;
        expect("FROM alpine:3.20\nCMD supervisord -n\n", "MultipleProcesses", 2, "supervisord");
        expect("FROM alpine:3.20\nCMD [\"/usr/bin/supervisord\", \"-c\", \"/etc/supervisord.conf\"]\n",
               "MultipleProcesses", 2, NULL);
        expect("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y nginx supervisor "
               "&& rm -rf /var/lib/apt/lists/*\n",
               "MultipleProcesses", 2, "supervisor");
        expect("FROM python:3.12-slim\nRUN pip install supervisor==4.2.5\n", "MultipleProcesses", 2, NULL);
        expect("FROM alpine:3.20\nCMD nginx & php-fpm\n", "MultipleProcesses", 2, "'&'");
        expect("FROM alpine:3.20\nENTRYPOINT [\"sh\", \"-c\", \"crond & exec nginx\"]\n", "MultipleProcesses", 2, NULL);
        expect("FROM alpine:3.20\nCMD service nginx start && tail -f /dev/null\n", "MultipleProcesses", 2,
               "service nginx start");
        expect("FROM alpine:3.20\nENTRYPOINT /etc/init.d/ssh start; exec app\n", "MultipleProcesses", 2, NULL);
        clean("FROM alpine:3.20\nCMD nginx -g 'daemon off;'\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nCMD a && b\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nCMD app > /var/log/app 2>&1\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nCMD app &>/dev/null\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nCMD echo \"a & b\" 'c & d' e\\&f\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nCMD [\"sh\", \"-c\", \"exec app 2>&1\"]\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nCMD [\"app\", \"&\"]\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nCMD service nginx status\n", "MultipleProcesses");
        clean("FROM alpine:3.20\nRUN nginx -t & wait\n", "MultipleProcesses");
        /* a build stage's CMD is not the image's */
        clean("FROM alpine:3.20 AS build\nCMD supervisord\nFROM alpine:3.20\nCOPY --from=build /a /a\n",
              "MultipleProcesses");
}

static void test_secrets(void **state)
{
        (void)state;
        expect("FROM alpine:3.20\nARG API_TOKEN\n", "SecretsUsedInArgOrEnv", 2, "ARG API_TOKEN");
        expect("FROM alpine:3.20\nENV DB_PASSWORD=hunter2\n", "SecretsUsedInArgOrEnv", 2, "ENV DB_PASSWORD");
        expect("FROM alpine:3.20\nENV A=1 aws_secret_access_key=AKIA\n", "SecretsUsedInArgOrEnv", 2, NULL);
        expect("FROM alpine:3.20\nENV MYSQL_ROOT_PASSWD x\n", "SecretsUsedInArgOrEnv", 2, NULL);
        expect("FROM alpine:3.20\nARG STRIPE_APIKEY=x\n", "SecretsUsedInArgOrEnv", 2, NULL);
        expect("FROM alpine:3.20\nARG SSH_PRIVATE_KEY\n", "SecretsUsedInArgOrEnv", 2, NULL);
        expect("FROM alpine:3.20\nARG AWS_ACCESS_KEY_ID\n", "SecretsUsedInArgOrEnv", 2, NULL);
        expect("FROM alpine:3.20\nARG API_KEY\n", "SecretsUsedInArgOrEnv", 2, NULL);
        expect("ARG NPM_TOKEN\nFROM alpine:3.20\n", "SecretsUsedInArgOrEnv", 1, NULL);
        expect("FROM alpine:3.20\nONBUILD ENV SECRET_KEY_BASE=x\n", "SecretsUsedInArgOrEnv", 2, NULL);
        /* the value is never printed */
        {
                struct result r = { 0 };
                lint_opts("FROM alpine:3.20\nENV DB_PASSWORD=hunter2 GITHUB_TOKEN=ghp_abc\n", NULL, &r);
                for (size_t i = 0; i < r.n; i++) {
                        _cleanup_free_ char *s = lint_format(r.df, &r.w[i]);
                        assert_null(strstr(s, "hunter2"));
                        assert_null(strstr(s, "ghp_abc"));
                }
                assert_non_null(find(&r, "SecretsUsedInArgOrEnv", 2));
                result_free(&r);
        }
        /* *_FILE holds a path to the secret (Docker exempts it too) */
        clean("FROM alpine:3.20\nENV PASSWORD_FILE=/run/secrets/db\n", "SecretsUsedInArgOrEnv");
        clean("FROM alpine:3.20\nENV POSTGRES_PASSWORD_FILE=/run/secrets/db\n", "SecretsUsedInArgOrEnv");
        clean("FROM alpine:3.20\nENV TOKENIZERS_PARALLELISM=false\n", "SecretsUsedInArgOrEnv");
        clean("FROM alpine:3.20\nENV STRIPE_PUBLIC_TOKEN=pk_x\n", "SecretsUsedInArgOrEnv");
        clean("FROM alpine:3.20\nARG NODE_VERSION=20\nENV USER=app PASS=1\n", "SecretsUsedInArgOrEnv");
}

static void test_add(void **state)
{
        (void)state;
        expect("FROM alpine:3.20\nADD app.py /app/\n", "AddInsteadOfCopy", 2, "COPY");
        expect("FROM alpine:3.20\nADD . /src\n", "AddInsteadOfCopy", 2, NULL);
        expect("FROM alpine:3.20\nADD [\"a b\", \"c\", \"/dst/\"]\n", "AddInsteadOfCopy", 2, NULL);
        expect("FROM alpine:3.20\nADD --chown=1:1 config.json /etc/app/\n", "AddInsteadOfCopy", 2, NULL);
        clean("FROM alpine:3.20\nADD https://example.com/tool /usr/local/bin/tool\n", "AddInsteadOfCopy");
        clean("FROM alpine:3.20\nADD rootfs.tar.gz /\n", "AddInsteadOfCopy");
        clean("FROM alpine:3.20\nADD a.TGZ b.tar.xz c.tar.zst d.tar.bz2 e.tar /opt/\n", "AddInsteadOfCopy");
        clean("FROM alpine:3.20\nADD app.py vendor.tar /app/\n", "AddInsteadOfCopy");
        clean("FROM alpine:3.20\nADD git@github.com:moby/buildkit.git /src\n", "AddInsteadOfCopy");
        clean("FROM alpine:3.20\nARG SRC=x.tar\nADD $SRC /dst\n", "AddInsteadOfCopy");
        clean("FROM alpine:3.20\nCOPY app.py /app/\n", "AddInsteadOfCopy");
        clean("FROM alpine:3.20\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d "
              "https://example.com/x /x\n",
              "AddInsteadOfCopy");
}

static void test_workdir(void **state)
{
        (void)state;
        expect("FROM alpine:3.20\nWORKDIR app\n", "WorkdirRelativePath", 2, "WORKDIR app is relative");
        expect("FROM alpine:3.20\nWORKDIR ./src\n", "WorkdirRelativePath", 2, NULL);
        expect("FROM alpine:3.20 AS a\nWORKDIR /app\nFROM alpine:3.20\nWORKDIR src\n", "WorkdirRelativePath", 4, NULL);
        clean("FROM alpine:3.20\nWORKDIR /app\n", "WorkdirRelativePath");
        clean("FROM alpine:3.20\nWORKDIR /app\nWORKDIR src\n", "WorkdirRelativePath");
        clean("FROM alpine:3.20\nWORKDIR $HOME/src\n", "WorkdirRelativePath");
        clean("FROM alpine:3.20\nWORKDIR ${APP_DIR}\n", "WorkdirRelativePath");
        /* the stage it is built on set it */
        clean("FROM alpine:3.20 AS a\nWORKDIR /app\nFROM a\nWORKDIR src\n", "WorkdirRelativePath");
}

/* Rules switched off: options, the check directive, "all". */
static void test_skip(void **state)
{
        const char *text = "FROM debian\nADD a /a\nWORKDIR x\n";
        struct result r = { 0 };

        (void)state;
        lint_opts(text, NULL, &r);
        assert_non_null(find(&r, "RootUser", 1));
        assert_non_null(find(&r, "BaseImageLatest", 1));
        assert_non_null(find(&r, "FullBaseImage", 1));
        assert_non_null(find(&r, "AddInsteadOfCopy", 2));
        assert_non_null(find(&r, "WorkdirRelativePath", 3));
        assert_int_equal(r.n, 5);
        /* sorted by line, then in the rules' order */
        assert_string_equal(r.w[0].id, "RootUser");
        assert_string_equal(r.w[1].id, "BaseImageLatest");
        assert_string_equal(r.w[2].id, "FullBaseImage");
        {
                _cleanup_free_ char *s = lint_format(r.df, &r.w[3]);
                assert_true(str_has_prefix(s, "Dockerfile:2: AddInsteadOfCopy: ADD of local files"));
        }
        result_free(&r);

        {
                const char *skip[] = { "rootuser", " FullBaseImage ", "NoSuchRule" };
                struct lint_options o = { .skip = skip, .nskip = ARRAY_SIZE(skip) };
                lint_opts(text, &o, &r);
                assert_null(find(&r, "RootUser", 0));
                assert_null(find(&r, "FullBaseImage", 0));
                assert_int_equal(r.n, 3);
                result_free(&r);
        }
        {
                const char *skip[] = { "all" };
                struct lint_options o = { .skip = skip, .nskip = 1 };
                lint_opts(text, &o, &r);
                assert_int_equal(r.n, 0);
                assert_null(r.w);
                result_free(&r);
        }
        /* # check=skip=... (BuildKit's directive) */
        lint_opts("# check=skip=RootUser,BaseImageLatest;error=true\nFROM debian\nADD a /a\n", NULL, &r);
        assert_null(find(&r, "RootUser", 0));
        assert_null(find(&r, "BaseImageLatest", 0));
        assert_non_null(find(&r, "FullBaseImage", 2));
        assert_non_null(find(&r, "AddInsteadOfCopy", 3));
        result_free(&r);
        {
                struct lint_options o = { .ignore_directive = true };
                lint_opts("# check=skip=RootUser\nFROM alpine:3.20\n", &o, &r);
                assert_non_null(find(&r, "RootUser", 2));
                result_free(&r);
        }
        lint_opts("# check=skip=all\nFROM debian\nRUN a\nRUN b\n", NULL, &r);
        assert_int_equal(r.n, 0);
        result_free(&r);

        assert_true(lint_rule_known("RootUser"));
        assert_true(lint_rule_known("workdirrelativepath"));
        assert_true(lint_rule_known("all"));
        assert_false(lint_rule_known("Root"));
        assert_int_equal(lint_nrules, 9);
        for (size_t i = 0; i < lint_nrules; i++)
                assert_true(lint_rule_known(lint_rules[i].id));
}

/* The linter needs only the structs of dockerfile.h: an AST made by hand. */
static void test_hand_built(void **state)
{
        char *from_args[] = { "alpine:latest" };
        char *run_args[] = { "apk add curl" };
        char *user_args[] = { "root" };
        struct df_kv env = { "API_TOKEN", "x", true };
        struct df_instr instrs[] = {
                { .kind = DF_FROM, .line = 1, .end_line = 1, .args = from_args, .nargs = 1 },
                { .kind = DF_RUN, .line = 2, .end_line = 2, .args = run_args, .nargs = 1 },
                { .kind = DF_ENV, .line = 3, .end_line = 3, .kvs = &env, .nkvs = 1 },
                { .kind = DF_USER, .line = 4, .end_line = 4, .args = user_args, .nargs = 1 },
        };
        struct df_stage stage = { .name = NULL, .index = 0, .from = 0, .first = 1, .n = 3 };
        struct dockerfile df = { .file = "Containerfile", .escape = '\\', .instrs = instrs, .n = 4, .stages = &stage,
                                 .nstages = 1 };
        struct lint_warning *w = NULL;
        size_t n;

        (void)state;
        n = lint_dockerfile(&df, NULL, &w);
        assert_int_equal(n, 4);
        assert_string_equal(w[0].id, "BaseImageLatest");
        assert_string_equal(w[1].id, "PackageCacheLeft");
        assert_string_equal(w[2].id, "SecretsUsedInArgOrEnv");
        assert_string_equal(w[3].id, "RootUser");
        assert_int_equal(w[3].line, 4);
        {
                _cleanup_free_ char *s = lint_format(&df, &w[2]);
                assert_true(str_has_prefix(s, "Containerfile:3: SecretsUsedInArgOrEnv: ENV API_TOKEN "));
        }
        lint_warnings_free(w, n);
        df.check = "skip=PackageCacheLeft";
        n = lint_dockerfile(&df, NULL, &w);
        assert_int_equal(n, 3);
        lint_warnings_free(w, n);
        /* nothing to lint */
        assert_int_equal(lint_dockerfile(NULL, NULL, &w), 0);
        assert_null(w);
}

/* A clean Dockerfile has no warnings at all. */
static void test_clean_file(void **state)
{
        struct result r = { 0 };

        (void)state;
        lint_opts("# syntax=docker/dockerfile:1\n"
                  "ARG GO=1.22\n"
                  "FROM golang:${GO} AS build\n"
                  "WORKDIR /src\n"
                  "COPY . .\n"
                  "RUN go build -o /out/app ./cmd/app\n"
                  "FROM debian:bookworm-slim\n"
                  "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\\n"
                  "    && rm -rf /var/lib/apt/lists/*\n"
                  "COPY --from=build /out/app /usr/local/bin/app\n"
                  "ENV APP_PASSWORD_FILE=/run/secrets/app\n"
                  "USER 65534:65534\n"
                  "ENTRYPOINT [\"app\"]\n",
                  NULL, &r);
        if (r.n) {
                dump(&r);
                fail_msg("%zu warnings", r.n);
        }
        result_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root_user),
                cmocka_unit_test(test_base_latest),
                cmocka_unit_test(test_full_base),
                cmocka_unit_test(test_package_cache),
                cmocka_unit_test(test_consecutive_run),
                cmocka_unit_test(test_processes),
                cmocka_unit_test(test_secrets),
                cmocka_unit_test(test_add),
                cmocka_unit_test(test_workdir),
                cmocka_unit_test(test_skip),
                cmocka_unit_test(test_hand_built),
                cmocka_unit_test(test_clean_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
