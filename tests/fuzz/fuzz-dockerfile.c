/* libFuzzer target: Dockerfiles as a build context hands them to us.  A
 * parse either fails with one line "Dockerfile:<line>: <reason>", or gives
 * a file whose instructions, stages and lines hold together; then every
 * word Docker would expand is expanded (one word and split into words)
 * with a fixed set of variables, as is the input itself. */
#include "build/dockerfile.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(const char *name, void *unused)
{
        static const char *const env[][2] = {
                { "A", "a" }, { "EMPTY", "" }, { "SP", " x  y " }, { "V", "1.2.3-rc1" }, { "NL", "a\nb" },
                { "D", "$A ${A} \\$" }, { "P", "*?[]\\" }, { "U", "h\xc3\xa9llo" }, { "BAD", "\xff\xfe" },
        };
        (void)unused;
        for (size_t i = 0; i < ARRAY_SIZE(env); i++)
                if (strcmp(env[i][0], name) == 0)
                        return env[i][1];
        return NULL;
}

static void check_error(const berth_error_t *err)
{
        if (err == NULL || err->msg == NULL || err->msg[0] == '\0' || strchr(err->msg, '\n') != NULL)
                abort();
}

static void expand(const char *word, char escape)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *out = NULL;
        _cleanup_strv_ char **words = NULL;
        size_t n = 0;

        if (dockerfile_expand(word, escape, lookup, NULL, &out, &err) < 0) {
                check_error(err);
                if (out)
                        abort();
        } else if (out == NULL) {
                abort();
        }
        berth_error_free(&err);
        if (dockerfile_expand_words(word, escape, lookup, NULL, &words, &n, &err) < 0) {
                check_error(err);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (words[i] == NULL || words[i][0] == '\0')
                        abort();
        if (words[n] != NULL)
                abort();
}

static void check_instr(const struct dockerfile *df, const struct df_instr *in, bool trigger)
{
        if ((unsigned)in->kind > DF_SHELL || in->line == 0 || in->end_line < in->line || in->keyword == NULL ||
            in->original == NULL || strcmp(dockerfile_kind_name(in->kind), "UNKNOWN") == 0)
                abort();
        if (trigger && (in->kind == DF_FROM || in->kind == DF_ONBUILD || in->kind == DF_MAINTAINER))
                abort();
        if ((in->kind == DF_ONBUILD) != (in->onbuild != NULL))
                abort();
        for (size_t i = 0; i < in->nargs; i++) {
                expand(in->args[i], df->escape);
                if (in->kind == DF_ADD || in->kind == DF_COPY)
                        (void)dockerfile_arg_heredoc(in, i);
        }
        for (size_t i = 0; i < in->nkvs; i++) {
                if (in->kvs[i].key == NULL || in->kvs[i].key[0] == '\0' || (in->kvs[i].value == NULL) == in->kvs[i].has_value)
                        abort();
                expand(in->kvs[i].key, df->escape);
                if (in->kvs[i].value)
                        expand(in->kvs[i].value, df->escape);
        }
        for (size_t i = 0; i < in->nflags; i++) {
                if (dockerfile_flag(in, in->flags[i].name) == NULL)
                        abort();
                if (in->flags[i].value)
                        expand(in->flags[i].value, df->escape);
        }
        for (size_t i = 0; i < in->nheredocs; i++) {
                if (in->heredocs[i].name == NULL || in->heredocs[i].content == NULL)
                        abort();
                if (in->heredocs[i].expand)
                        expand(in->heredocs[i].content, df->escape);
        }
        if (in->onbuild)
                check_instr(df, in->onbuild, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct dockerfile *df = NULL;
        size_t before = 0, in_stages = 0;

        /* the input as one word, with both escape characters */
        if (size < 4096 && memchr(data, '\0', size) == NULL) {
                _cleanup_free_ char *s = xmalloc(size + 1);
                memcpy(s, data, size);
                s[size] = '\0';
                expand(s, '\\');
                expand(s, '`');
        }

        if (dockerfile_parse((const char *)data, size, "Dockerfile", &df, &err) < 0) {
                check_error(err);
                if (df != NULL || strncmp(err->msg, "Dockerfile:", 11) != 0 || err->msg[11] < '0' ||
                    err->msg[11] > '9')
                        abort();
                return 0;
        }
        if (df == NULL || df->n == 0 || df->nstages == 0 || (df->escape != '\\' && df->escape != '`'))
                abort();
        for (size_t i = 0; i < df->n; i++) {
                check_instr(df, &df->instrs[i], false);
                if (i > 0 && df->instrs[i].line <= df->instrs[i - 1].end_line)
                        abort();
        }
        /* ARGs, then stages that cover every other instruction */
        while (before < df->n && df->instrs[before].kind == DF_ARG)
                before++;
        if (before != df->stages[0].from)
                abort();
        for (size_t i = 0; i < df->nstages; i++) {
                const struct df_stage *st = &df->stages[i];
                char idx[32];
                if (st->index != i || df->instrs[st->from].kind != DF_FROM || st->first != st->from + 1)
                        abort();
                in_stages += 1 + st->n;
                if (st->name && (dockerfile_stage(df, st->name) == NULL ||
                                 strcmp(dockerfile_stage(df, st->name)->name, st->name) != 0))
                        abort();
                snprintf(idx, sizeof(idx), "%zu", i);
                if (dockerfile_stage(df, idx) != st)
                        abort();
        }
        if (before + in_stages != df->n)
                abort();
        dockerfile_free(df);
        return 0;
}
