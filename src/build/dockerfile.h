/* Dockerfiles, parsed: the syntax of Docker's classic builder and
 * BuildKit's dockerfile frontend (moby/buildkit frontend/dockerfile/parser
 * and instructions), kept close to the text so that the builder, the cache
 * and the linter all see what the user wrote.
 *
 * The parser does no variable substitution: that needs the build's ARG
 * and ENV values, stage by stage, so the builder calls dockerfile_expand()
 * on the words Docker expands (FROM, ADD, COPY, ENV, EXPOSE, LABEL,
 * STOPSIGNAL, USER, VOLUME, WORKDIR, and ONBUILD's trigger when it runs).
 *
 * Errors name the file, the line and the reason:
 *   "Dockerfile:7: unknown instruction: RUNN" */
#pragma once
#include "util/error.h"
#include <stdbool.h>
#include <stddef.h>

enum df_kind {
        DF_FROM, DF_RUN, DF_CMD, DF_LABEL, DF_MAINTAINER, DF_EXPOSE, DF_ENV, DF_ADD, DF_COPY,
        DF_ENTRYPOINT, DF_VOLUME, DF_USER, DF_WORKDIR, DF_ARG, DF_ONBUILD, DF_STOPSIGNAL,
        DF_HEALTHCHECK, DF_SHELL,
};

/* "--from=build", "--chown=1:1", "--interval=5s", "--platform=$P"; a flag
 * given without "=value" has value NULL. */
struct df_flag {
        char *name;             /* without the dashes: "from" */
        char *value;
};

/* ENV, LABEL, ARG: one name=value pair, quotes kept as written (expansion
 * removes them).  ARG without a default: has_value false. */
struct df_kv {
        char *key;
        char *value;
        bool has_value;
};

/* A here-document of RUN or COPY: "<<EOF", "<<-EOF" (leading tabs
 * stripped), "<<'EOF'" or "<<\"EOF\"" (no expansion). */
struct df_heredoc {
        char *name;             /* the delimiter word: "EOF" */
        char *content;          /* the lines between, each ending in "\n"
                                   (with <<-, their leading tabs already stripped) */
        bool expand;            /* unquoted delimiter: variables expand */
        bool chomp_tabs;        /* <<- */
};

struct df_instr {
        enum df_kind kind;
        unsigned line;          /* first line of the instruction, 1-based */
        unsigned end_line;      /* last line (continuations, heredocs) */
        char *keyword;          /* as written: "run", "COPY" */
        char *original;         /* the instruction, continuations joined, as the
                                   history and the cache key see it */
        struct df_flag *flags;
        size_t nflags;
        /* The arguments:
         * - exec form (json true): the JSON array's strings;
         * - RUN, CMD, ENTRYPOINT, SHELL-less shell form: one string, the command
         *   line as written (after the keyword and the flags);
         * - FROM: image [, "AS", name]; ADD/COPY: sources..., dest;
         *   EXPOSE, VOLUME (either form), STOPSIGNAL, USER, WORKDIR,
         *   MAINTAINER: their words (WORKDIR, USER, MAINTAINER: one);
         * - HEALTHCHECK: "NONE", or "CMD" followed by the command as for CMD
         *   (json tells the form of the command);
         * - ONBUILD: none (see onbuild). */
        char **args;
        size_t nargs;
        bool json;
        struct df_kv *kvs;      /* ENV, LABEL, ARG */
        size_t nkvs;
        struct df_heredoc *heredocs;
        size_t nheredocs;
        struct df_instr *onbuild; /* ONBUILD's trigger, parsed (never FROM,
                                     ONBUILD or MAINTAINER) */
};

/* One build stage: its FROM and the instructions up to the next FROM. */
struct df_stage {
        char *name;             /* "AS name", lowercased; NULL without */
        size_t index;           /* 0-based stage number (COPY --from=0) */
        size_t from;            /* index in dockerfile.instrs of its FROM */
        size_t first, n;        /* its instructions after FROM: instrs[first..first+n) */
};

struct dockerfile {
        char *file;             /* the name errors and warnings use */
        char escape;            /* '\\', or '`' with "# escape=`" */
        char *syntax;           /* "# syntax=..." as written, or NULL */
        struct df_instr *instrs; /* every instruction in order, ARGs before the first FROM included */
        size_t n;
        struct df_kv *meta_args; /* the ARGs before the first FROM (FROM lines may use them) */
        size_t nmeta_args;
        struct df_stage *stages;
        size_t nstages;
        char *check;            /* "# check=..." as written, or NULL */
};

/* Parse text (len bytes, NUL bytes refused).  file names it in errors. */
int dockerfile_parse(const char *text, size_t len, const char *file, struct dockerfile **out,
                     berth_error_t **err);
void dockerfile_free(struct dockerfile *df);
const char *dockerfile_kind_name(enum df_kind k);       /* "FROM" */

/* The stage a --from/--target names: by name (case-insensitive) or by
 * number; NULL when there is none. */
const struct df_stage *dockerfile_stage(const struct dockerfile *df, const char *name_or_index);

/* Variable lookup for expansion: the value, or NULL when unset. */
typedef const char *(*df_lookup_fn)(const char *name, void *data);

/* Docker's word processing (the shell lexer of BuildKit's
 * frontend/dockerfile/shell): quotes removed ('...' literal, "..." with
 * expansion), the escape character, $VAR, ${VAR}, ${VAR:-word},
 * ${VAR-word}, ${VAR:+word}, ${VAR+word}, and the errors Docker gives
 * (${VAR:?msg}, a missing '}', bad substitution).  One word in, one
 * word out (ENV values, WORKDIR, USER, ...). */
int dockerfile_expand(const char *word, char escape, df_lookup_fn lookup, void *data, char **out,
                      berth_error_t **err);
/* The same, splitting unquoted whitespace into several words, as for
 * EXPOSE, VOLUME's shell form and COPY/ADD sources. */
int dockerfile_expand_words(const char *text, char escape, df_lookup_fn lookup, void *data, char ***out,
                            size_t *n, berth_error_t **err);

/* ---- additions ---- */

/* Where BuildKit uses which: EXPOSE's words go through
 * dockerfile_expand_words(); every other word (each COPY/ADD source and
 * the destination, each VOLUME path, FROM's image, ENV/LABEL/ARG keys and
 * values, WORKDIR, USER, STOPSIGNAL, flag values) through
 * dockerfile_expand(), one word in, one out: a value with blanks stays one
 * path. */

/* The first flag of that name ("from"), or NULL. */
const struct df_flag *dockerfile_flag(const struct df_instr *in, const char *name);
/* A boolean flag (--link, --parents, --keep-git-dir, --unpack): true when
 * given bare or as "=true" (any case). */
bool dockerfile_flag_bool(const struct df_instr *in, const char *name);

/* The heredoc an ADD/COPY source argument names ("<<EOF", "<<-'EOF'"),
 * or NULL when args[i] is a path. */
const struct df_heredoc *dockerfile_arg_heredoc(const struct df_instr *in, size_t i);

/* A Go duration ("1m30s", "500ms", "1.5h"), as HEALTHCHECK's flags take
 * them, in nanoseconds. */
int dockerfile_duration(const char *s, long long *ns, berth_error_t **err);

/* The lexer behind dockerfile_expand(), with BuildKit's switches (the
 * parser finds heredoc words with it): DF_LEX_RAW_QUOTES keeps the quote
 * characters, DF_LEX_RAW_ESCAPES the escape characters, DF_LEX_SKIP_UNSET
 * leaves an unset variable as written.  word, words and nwords may be NULL;
 * words ends with a NULL. */
#define DF_LEX_RAW_QUOTES 1u
#define DF_LEX_RAW_ESCAPES 2u
#define DF_LEX_SKIP_UNSET 4u
int dockerfile_lex(const char *text, char escape, unsigned flags, df_lookup_fn lookup, void *data, char **word,
                   char ***words, size_t *nwords, berth_error_t **err);
