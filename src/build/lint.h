/* Best-practice warnings over a parsed Dockerfile: what the builder prints
 * at the end of a build and `berth build --check` prints alone.
 *
 * Each rule has a stable id (Docker's own name where BuildKit has the same
 * check, so that "# check=skip=SecretsUsedInArgOrEnv" works for both):
 *
 *   RootUser               the final stage runs as root: no USER in it (nor
 *                          in the stages it builds on), or USER root / 0 last
 *   BaseImageLatest        FROM an image without a tag or with :latest (not
 *                          scratch, an earlier stage, or a digest)
 *   FullBaseImage          the image's base is a full distribution (debian,
 *                          ubuntu, fedora, centos) where a slim, minimal or
 *                          alpine image exists; says which
 *   PackageCacheLeft       a RUN installs with apt-get/apt without removing
 *                          /var/lib/apt/lists, apk add without --no-cache,
 *                          yum/dnf/microdnf install without "clean all"
 *   ConsecutiveRun         two or more RUNs in a row in a stage (each RUN a
 *                          layer): says which lines
 *   MultipleProcesses      several long-running processes in one container:
 *                          supervisord (in CMD/ENTRYPOINT, or installed by
 *                          a RUN), '&' in CMD/ENTRYPOINT, "service X start"
 *                          in CMD/ENTRYPOINT
 *   SecretsUsedInArgOrEnv  an ARG or ENV name that holds a secret (contains
 *                          PASSWORD, PASSWD, SECRET, TOKEN, API_KEY, APIKEY,
 *                          PRIVATE_KEY or ACCESS_KEY, any case); the value
 *                          is never printed
 *   AddInsteadOfCopy       ADD of local files only: COPY does that (ADD is
 *                          for URLs and local tar archives it unpacks)
 *   WorkdirRelativePath    the first WORKDIR of a stage is relative
 *
 * The rules that judge the image (RootUser, FullBaseImage,
 * PackageCacheLeft, MultipleProcesses) look at the final stage and the
 * earlier stages it is built FROM (a build stage whose files are copied
 * out leaves no cache in the image); the others at every stage.  FROM lines are read with the
 * defaults of the ARGs before the first FROM; a base that needs a build
 * argument without a default is not judged. */
#pragma once
#include "build/dockerfile.h"
#include <stdbool.h>
#include <stddef.h>

struct lint_warning {
        const char *id;         /* the rule's id (static) */
        unsigned line;          /* the Dockerfile line, 1-based */
        char *message;          /* one line, without the file and the line */
};

struct lint_options {
        /* Rule ids switched off (any case); "all" switches every rule off. */
        const char *const *skip;
        size_t nskip;
        /* The stage that is the image (--target); NULL: the last. */
        const char *target;
        /* Do not honour the Dockerfile's "# check=skip=ID1,ID2" directive. */
        bool ignore_directive;
};

struct lint_rule {
        const char *id;
        const char *summary;
};

/* The rules, in the order above. */
extern const struct lint_rule lint_rules[];
extern const size_t lint_nrules;
bool lint_rule_known(const char *id);

/* Lint df: *out gets the warnings sorted by line (NULL when none), the
 * return value their number.  o may be NULL. */
size_t lint_dockerfile(const struct dockerfile *df, const struct lint_options *o, struct lint_warning **out);
void lint_warnings_free(struct lint_warning *w, size_t n);

/* "Dockerfile:7: BaseImageLatest: FROM debian has no tag ..." */
char *lint_format(const struct dockerfile *df, const struct lint_warning *w);
