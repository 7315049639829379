#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "build/dockerfile.h"
#include "util/util.h"

/* The Dockerfile parser and Docker's word expansion (src/build).  The
 * expected results are Docker's (BuildKit's dockerfile frontend), many
 * from the Dockerfile reference's own examples. */

static struct dockerfile *ok_(const char *text, int line)
{
        struct dockerfile *df = NULL;
        _cleanup_error_ berth_error_t *err = NULL;

        if (dockerfile_parse(text, strlen(text), "Dockerfile", &df, &err) < 0) {
                print_error("line %d: unexpected error: %s\n", line, err->msg);
                fail();
        }
        assert_non_null(df);
        return df;
}
#define ok(text) ok_(text, __LINE__)

/* The parse fails with exactly this message. */
static void err_(const char *text, const char *want, int line)
{
        struct dockerfile *df = NULL;
        _cleanup_error_ berth_error_t *err = NULL;

        if (dockerfile_parse(text, strlen(text), "Dockerfile", &df, &err) == 0) {
                print_error("line %d: parsed, wanted: %s\n", line, want);
                dockerfile_free(df);
                fail();
        }
        assert_null(df);
        if (strcmp(err->msg, want) != 0) {
                print_error("line %d:\n got: %s\nwant: %s\n", line, err->msg, want);
                fail();
        }
}
#define err(text, want) err_(text, want, __LINE__)

static const struct df_instr *nth(const struct dockerfile *df, size_t i)
{
        assert_true(i < df->n);
        return &df->instrs[i];
}

static void assert_args(const struct df_instr *in, size_t n, ...)
{
        va_list ap;

        if (in->nargs != n) {
                print_error("%s: %zu args, want %zu\n", in->original, in->nargs, n);
                for (size_t i = 0; i < in->nargs; i++)
                        print_error("  [%zu] '%s'\n", i, in->args[i]);
                fail();
        }
        va_start(ap, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(in->args[i], va_arg(ap, const char *));
        va_end(ap);
}

static void assert_kv(const struct df_kv *kv, const char *key, const char *value)
{
        assert_string_equal(kv->key, key);
        if (value == NULL) {
                assert_false(kv->has_value);
                assert_null(kv->value);
        } else {
                assert_true(kv->has_value);
                assert_string_equal(kv->value, value);
        }
}

/* ---- instructions ---- */

static void every_instruction(void **state)
{
        (void)state;
        struct dockerfile *df = ok("# a build\n"
                                   "ARG BASE=debian:12\n"
                                   "FROM $BASE AS build\n"
                                   "RUN make\n"
                                   "CMD [\"./app\"]\n"
                                   "LABEL a=b\n"
                                   "MAINTAINER Jane Doe <jane@example.com>\n"
                                   "EXPOSE 80/tcp 443\n"
                                   "ENV PATH=/app:$PATH\n"
                                   "ADD https://example.com/x.tar.gz /opt/\n"
                                   "COPY --from=build /src /dst\n"
                                   "ENTRYPOINT [\"/bin/app\", \"--serve\"]\n"
                                   "VOLUME /data\n"
                                   "USER app:app\n"
                                   "WORKDIR /app\n"
                                   "ARG VERSION\n"
                                   "ONBUILD RUN echo child\n"
                                   "STOPSIGNAL SIGTERM\n"
                                   "HEALTHCHECK CMD curl -f http://localhost/\n"
                                   "SHELL [\"/bin/bash\", \"-c\"]\n");
        static const enum df_kind kinds[] = {
                DF_ARG, DF_FROM, DF_RUN, DF_CMD, DF_LABEL, DF_MAINTAINER, DF_EXPOSE, DF_ENV, DF_ADD, DF_COPY,
                DF_ENTRYPOINT, DF_VOLUME, DF_USER, DF_WORKDIR, DF_ARG, DF_ONBUILD, DF_STOPSIGNAL, DF_HEALTHCHECK,
                DF_SHELL,
        };

        assert_int_equal(df->n, ARRAY_SIZE(kinds));
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                assert_int_equal(df->instrs[i].kind, kinds[i]);
                assert_int_equal(df->instrs[i].line, i + 2);
                assert_int_equal(df->instrs[i].end_line, i + 2);
                assert_string_equal(df->instrs[i].keyword, dockerfile_kind_name(kinds[i]));
        }
        assert_string_equal(df->file, "Dockerfile");
        assert_int_equal(df->escape, '\\');
        assert_null(df->syntax);
        assert_args(nth(df, 1), 3, "$BASE", "AS", "build");
        assert_args(nth(df, 2), 1, "make");
        assert_false(nth(df, 2)->json);
        assert_args(nth(df, 3), 1, "./app");
        assert_true(nth(df, 3)->json);
        assert_args(nth(df, 5), 1, "Jane Doe <jane@example.com>");
        assert_args(nth(df, 6), 2, "80/tcp", "443");
        assert_kv(&nth(df, 7)->kvs[0], "PATH", "/app:$PATH");
        assert_args(nth(df, 8), 2, "https://example.com/x.tar.gz", "/opt/");
        assert_args(nth(df, 9), 2, "/src", "/dst");
        assert_args(nth(df, 10), 2, "/bin/app", "--serve");
        assert_args(nth(df, 11), 1, "/data");
        assert_args(nth(df, 12), 1, "app:app");
        assert_args(nth(df, 13), 1, "/app");
        assert_int_equal(nth(df, 14)->nkvs, 1);
        assert_kv(&nth(df, 14)->kvs[0], "VERSION", NULL);
        assert_int_equal(nth(df, 15)->nargs, 0);
        assert_non_null(nth(df, 15)->onbuild);
        assert_int_equal(nth(df, 15)->onbuild->kind, DF_RUN);
        assert_args(nth(df, 15)->onbuild, 1, "echo child");
        assert_args(nth(df, 16), 1, "SIGTERM");
        assert_args(nth(df, 17), 2, "CMD", "curl -f http://localhost/");
        assert_false(nth(df, 17)->json);
        assert_args(nth(df, 18), 2, "/bin/bash", "-c");
        assert_true(nth(df, 18)->json);
        /* meta args and the stage */
        assert_int_equal(df->nmeta_args, 1);
        assert_kv(&df->meta_args[0], "BASE", "debian:12");
        assert_int_equal(df->nstages, 1);
        assert_string_equal(df->stages[0].name, "build");
        assert_int_equal(df->stages[0].from, 1);
        assert_int_equal(df->stages[0].first, 2);
        assert_int_equal(df->stages[0].n, 17);
        dockerfile_free(df);
}

static void kind_names(void **state)
{
        (void)state;
        assert_string_equal(dockerfile_kind_name(DF_FROM), "FROM");
        assert_string_equal(dockerfile_kind_name(DF_HEALTHCHECK), "HEALTHCHECK");
        assert_string_equal(dockerfile_kind_name(DF_STOPSIGNAL), "STOPSIGNAL");
        assert_string_equal(dockerfile_kind_name(DF_SHELL), "SHELL");
        assert_string_equal(dockerfile_kind_name((enum df_kind)99), "UNKNOWN");
}

static void keywords_any_case(void **state)
{
        (void)state;
        struct dockerfile *df = ok("from alpine\nRun echo a\nrUN echo b\n  \tcopy a b\n");

        assert_int_equal(df->n, 4);
        assert_string_equal(nth(df, 0)->keyword, "from");
        assert_int_equal(nth(df, 1)->kind, DF_RUN);
        assert_string_equal(nth(df, 1)->keyword, "Run");
        assert_int_equal(nth(df, 2)->kind, DF_RUN);
        assert_int_equal(nth(df, 3)->kind, DF_COPY);
        assert_string_equal(nth(df, 3)->original, "copy a b");
        dockerfile_free(df);
}

/* ---- directives ---- */

static void directives(void **state)
{
        (void)state;
        struct dockerfile *df;

        df = ok("# syntax=docker/dockerfile:1.7\n# escape=`\n# check=skip=JSONArgsRecommended\nFROM a\n");
        assert_string_equal(df->syntax, "docker/dockerfile:1.7");
        assert_string_equal(df->check, "skip=JSONArgsRecommended");
        assert_int_equal(df->escape, '`');
        dockerfile_free(df);

        /* the reference's spellings: all the same directive */
        static const char *const same[] = { "#escape=`", "# escape =`", "#\tescape= `", "# escape = `",
                                            "#\t  eScApE=`", "  # ESCAPE=`  ", "# escape=`\r" };
        for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
                _cleanup_free_ char *t = xasprintf("%s\nFROM a\n", same[i]);
                df = ok(t);
                assert_int_equal(df->escape, '`');
                dockerfile_free(df);
        }

        /* after a comment, an empty line or an instruction: a comment */
        df = ok("# About my dockerfile\n# escape=`\nFROM a\nRUN a \\\n b\n");
        assert_int_equal(df->escape, '\\');
        assert_args(nth(df, 1), 1, "a  b");
        dockerfile_free(df);
        df = ok("\n# escape=`\nFROM a\n");
        assert_int_equal(df->escape, '\\');
        dockerfile_free(df);
        df = ok("FROM a\n# escape=`\n");
        assert_int_equal(df->escape, '\\');
        dockerfile_free(df);
        /* an unknown directive ends them too */
        df = ok("# unknowndirective=value\n# escape=`\nFROM a\n");
        assert_int_equal(df->escape, '\\');
        dockerfile_free(df);
        /* a continuation does not continue a directive */
        err("# direc \\\ntive=value\nFROM a\n", "Dockerfile:2: unknown instruction: tive=value");

        err("# escape=`\n# escape=\\\nFROM a\n", "Dockerfile:2: only one escape parser directive can be used");
        err("# syntax=a\n# SYNTAX=b\nFROM a\n", "Dockerfile:2: only one syntax parser directive can be used");
        err("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
        err("# escape=\\\\\nFROM a\n", "Dockerfile:1: invalid escape token '\\\\' does not match ` or \\");
        /* "# escape=" alone is a comment */
        df = ok("# escape=\nFROM a\n");
        assert_int_equal(df->escape, '\\');
        dockerfile_free(df);
        /* a syntax value keeps its inner blanks */
        df = ok("# syntax = docker/dockerfile:1  extra \nFROM a\n");
        assert_string_equal(df->syntax, "docker/dockerfile:1  extra");
        dockerfile_free(df);
}

static void escape_backtick(void **state)
{
        (void)state;
        /* the reference's Windows example: "c:\" ends no line */
        struct dockerfile *df = ok("# escape=`\n\nFROM mcr.microsoft.com/windows/servercore\n"
                                   "COPY testfile.txt c:\\\nRUN dir c:\\\n"
                                   "RUN a `\n  b\n"
                                   "ENV X=\"a`\"b\" Y=c`\\d\n");

        assert_int_equal(df->n, 5);
        assert_args(nth(df, 1), 2, "testfile.txt", "c:\\");
        assert_args(nth(df, 2), 1, "dir c:\\");
        assert_args(nth(df, 3), 1, "a   b");
        assert_int_equal(nth(df, 3)->line, 6);
        assert_int_equal(nth(df, 3)->end_line, 7);
        assert_kv(&nth(df, 4)->kvs[0], "X", "\"a`\"b\"");
        assert_kv(&nth(df, 4)->kvs[1], "Y", "c`\\d");
        dockerfile_free(df);
}

/* ---- lines ---- */

static void comments_and_continuations(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM a\n"
                                   "# comment\n"
                                   "   # indented comment\n"
                                   "RUN echo hello \\\n"
                                   "# a comment inside\n"
                                   "\n"
                                   "  \t\n"
                                   "    world\n"
                                   "RUN echo # not a comment\n"
                                   "RUN /bin/bash -c 'source $HOME/.bashrc && \\\n"
                                   "echo $HOME'\n"
                                   "RUN a \\  \t\n"
                                   "b\n"
                                   "RUN not \\\\\n"
                                   "RUN x \\\n");

        assert_int_equal(df->n, 7);
        assert_args(nth(df, 1), 1, "echo hello     world");
        assert_int_equal(nth(df, 1)->line, 4);
        assert_int_equal(nth(df, 1)->end_line, 8);
        assert_string_equal(nth(df, 1)->original, "RUN echo hello     world");
        assert_args(nth(df, 2), 1, "echo # not a comment");
        assert_args(nth(df, 3), 1, "/bin/bash -c 'source $HOME/.bashrc && echo $HOME'");
        assert_args(nth(df, 4), 1, "a b");
        /* an escaped escape character continues nothing */
        assert_args(nth(df, 5), 1, "not \\\\");
        assert_int_equal(nth(df, 5)->end_line, 14);
        /* a continuation at the end of the file */
        assert_args(nth(df, 6), 1, "x");
        dockerfile_free(df);

        df = ok("FROM a\nRUN x \\");
        assert_args(nth(df, 1), 1, "x");
        dockerfile_free(df);

        /* a line that is only the escape character */
        df = ok("FROM a\nRUN a\\\n\\\nb\n");
        assert_args(nth(df, 1), 1, "ab");
        assert_int_equal(nth(df, 1)->end_line, 4);
        dockerfile_free(df);

        /* CRLF endings, a byte-order mark, no final newline */
        df = ok("\xef\xbb\xbf# escape=`\r\nFROM a\r\nRUN a `\r\n  b\r\nCMD c");
        assert_int_equal(df->escape, '`');
        assert_args(nth(df, 1), 1, "a   b");
        assert_args(nth(df, 2), 1, "c");
        dockerfile_free(df);

        /* keyword and arguments split by tabs; continued keyword */
        df = ok("FROM\ta\nRU\\\nN\tx\n");
        assert_int_equal(nth(df, 1)->kind, DF_RUN);
        assert_args(nth(df, 1), 1, "x");
        dockerfile_free(df);
}

/* ---- flags ---- */

static void flags(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM --platform=$BUILDPLATFORM golang AS build\n"
                                   "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=x --network=none "
                                   "--security=sandbox go build\n"
                                   "COPY --from=build --chown=1:2 --chmod=0755 --link --exclude=*.md --exclude=*.txt "
                                   "--parents a b /c/\n"
                                   "ADD --chown=app --chmod=644 --link=false --keep-git-dir=true "
                                   "--checksum=sha256:abc --unpack --exclude=x https://x/y.tar /d\n"
                                   "COPY --from=\"a b\" --chown='1 2' --chmod=7\\ 5 x y\n"
                                   "COPY \"--from=x\" y\n"
                                   "COPY -- --notaflag /dst\n"
                                   "COPY --link=TRUE -x y\n"
                                   "HEALTHCHECK --interval=5m --timeout=3s --start-period=1s --start-interval=500ms "
                                   "--retries=3 CMD true\n");
        const struct df_instr *in;

        in = nth(df, 0);
        assert_int_equal(in->nflags, 1);
        assert_string_equal(in->flags[0].name, "platform");
        assert_string_equal(in->flags[0].value, "$BUILDPLATFORM");
        assert_args(in, 3, "golang", "AS", "build");

        in = nth(df, 1);
        assert_int_equal(in->nflags, 4);
        assert_string_equal(in->flags[0].name, "mount");
        assert_string_equal(in->flags[0].value, "type=cache,target=/root/.cache");
        assert_string_equal(in->flags[1].value, "type=secret,id=x");
        assert_string_equal(dockerfile_flag(in, "network")->value, "none");
        assert_string_equal(dockerfile_flag(in, "security")->value, "sandbox");
        assert_args(in, 1, "go build");

        in = nth(df, 2);
        assert_int_equal(in->nflags, 7);
        assert_string_equal(dockerfile_flag(in, "from")->value, "build");
        assert_string_equal(dockerfile_flag(in, "chown")->value, "1:2");
        assert_string_equal(dockerfile_flag(in, "chmod")->value, "0755");
        assert_null(dockerfile_flag(in, "link")->value);
        assert_true(dockerfile_flag_bool(in, "link"));
        assert_true(dockerfile_flag_bool(in, "parents"));
        assert_false(dockerfile_flag_bool(in, "keep-git-dir"));
        assert_null(dockerfile_flag(in, "keep-git-dir"));
        assert_string_equal(in->flags[4].value, "*.md");
        assert_string_equal(in->flags[5].value, "*.txt");
        assert_args(in, 3, "a", "b", "/c/");

        in = nth(df, 3);
        assert_int_equal(in->nflags, 7);
        assert_false(dockerfile_flag_bool(in, "link"));
        assert_true(dockerfile_flag_bool(in, "keep-git-dir"));
        assert_true(dockerfile_flag_bool(in, "unpack"));
        assert_string_equal(dockerfile_flag(in, "checksum")->value, "sha256:abc");

        /* quotes and escapes go from flag words */
        in = nth(df, 4);
        assert_string_equal(dockerfile_flag(in, "from")->value, "a b");
        assert_string_equal(dockerfile_flag(in, "chown")->value, "1 2");
        assert_string_equal(dockerfile_flag(in, "chmod")->value, "7 5");
        assert_args(in, 2, "x", "y");

        /* a quoted word is an argument */
        assert_int_equal(nth(df, 5)->nflags, 0);
        assert_args(nth(df, 5), 2, "\"--from=x\"", "y");
        /* "--" ends the flags; a single '-' starts the arguments */
        assert_int_equal(nth(df, 6)->nflags, 0);
        assert_args(nth(df, 6), 2, "--notaflag", "/dst");
        assert_true(dockerfile_flag_bool(nth(df, 7), "link"));
        assert_args(nth(df, 7), 2, "-x", "y");

        in = nth(df, 8);
        assert_int_equal(in->nflags, 5);
        assert_string_equal(dockerfile_flag(in, "start-interval")->value, "500ms");
        assert_args(in, 2, "CMD", "true");
        dockerfile_free(df);

        err("FROM a\nCOPY --form=x a b\n", "Dockerfile:2: unknown flag: --form (did you mean from?)");
        err("FROM a\nCOPY --bogus a b\n", "Dockerfile:2: unknown flag: --bogus");
        err("FROM a\nADD --from=x a b\n", "Dockerfile:2: unknown flag: --from");
        err("FROM a\nCOPY --keep-git-dir a b\n", "Dockerfile:2: unknown flag: --keep-git-dir");
        err("FROM --plaform=x a\n", "Dockerfile:1: unknown flag: --plaform (did you mean platform?)");
        err("FROM a\nRUN --mnt=x a\n", "Dockerfile:2: unknown flag: --mnt (did you mean mount?)");
        err("FROM a\nENV --x=1 a=b\n", "Dockerfile:2: unknown flag: --x");
        err("FROM a\nWORKDIR --x /a\n", "Dockerfile:2: unknown flag: --x");
        err("FROM a\nCOPY --from a b\n", "Dockerfile:2: missing a value on flag: --from");
        err("FROM a\nCOPY --link= a b\n", "Dockerfile:2: missing a value on flag: --link");
        err("FROM a\nCOPY --link=yes a b\n", "Dockerfile:2: expecting boolean value for flag --link, not: yes");
        err("FROM a\nCOPY --from=a --from=b a b\n", "Dockerfile:2: duplicate flag specified: --from");
        err("FROM a\nRUN --network=none --network=host a\n", "Dockerfile:2: duplicate flag specified: --network");
}

/* ---- exec and shell forms ---- */

static void exec_form(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM a\n"
                                   "CMD [\"echo\", \"a \\\"b\\\"\", \"\\u00e9\\t\\/\"]\n"
                                   "CMD   [ ]  \n"
                                   "ENTRYPOINT [\"a\",]\n"
                                   "RUN [\"a\" \"b\"]\n"
                                   "RUN ['a']\n"
                                   "CMD [\"a\"] x\n"
                                   "ENTRYPOINT []\n"
                                   "RUN [\"\\ud83d\\ude00\", \"\\ud800\", \"\xff\"]\n"
                                   "CMD [1e999]\n"
                                   "COPY [\"a b\", \"/c d/\"]\n"
                                   "VOLUME [\"/a\", \" /b \"]\n"
                                   "VOLUME /c /d\n");

        assert_true(nth(df, 1)->json);
        assert_args(nth(df, 1), 3, "echo", "a \"b\"", "\xc3\xa9\t/");
        assert_true(nth(df, 2)->json);
        assert_int_equal(nth(df, 2)->nargs, 0);
        /* not valid JSON: the shell form */
        assert_false(nth(df, 3)->json);
        assert_args(nth(df, 3), 1, "[\"a\",]");
        assert_args(nth(df, 4), 1, "[\"a\" \"b\"]");
        assert_args(nth(df, 5), 1, "['a']");
        assert_args(nth(df, 6), 1, "[\"a\"] x");
        assert_true(nth(df, 7)->json);
        assert_int_equal(nth(df, 7)->nargs, 0);
        /* Go's decoding: a pair, a lone surrogate, a byte that is not UTF-8 */
        assert_args(nth(df, 8), 3, "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "\xef\xbf\xbd");
        /* a number float64 cannot hold fails to unmarshal: shell form */
        assert_false(nth(df, 9)->json);
        assert_true(nth(df, 10)->json);
        assert_args(nth(df, 10), 2, "a b", "/c d/");
        assert_args(nth(df, 11), 2, "/a", "/b");
        assert_false(nth(df, 12)->json);
        assert_args(nth(df, 12), 2, "/c", "/d");
        dockerfile_free(df);

        err("FROM a\nCMD [\"a\", 1]\n",
            "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
        err("FROM a\nRUN [\"a\", [\"b\"]]\n",
            "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
        err("FROM a\nCOPY [null, \"b\"]\n",
            "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
        err("FROM a\nRUN [\"a\\u0000b\"]\n", "Dockerfile:2: NUL character in a JSON string");
        err("FROM a\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form");
        err("FROM a\nSHELL []\n", "Dockerfile:2: SHELL requires at least one argument");
        err("FROM a\nVOLUME [\"/a\", \" \"]\n", "Dockerfile:2: VOLUME specified can not be an empty string");
        err("FROM a\nVOLUME []\n", "Dockerfile:2: VOLUME requires at least one argument");
        err("FROM a\nCOPY [\"a\"]\n", "Dockerfile:2: COPY requires at least two arguments, but only one was "
                                      "provided. Destination could not be determined");
}

/* ---- heredocs ---- */

static void heredocs(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM a\n"
                                   "RUN <<EOF\n"
                                   "apt-get update\n"
                                   "apt-get install -y curl\n"
                                   "EOF\n"
                                   "RUN <<EOT bash\n"
                                   "  set -ex\n"
                                   "  EOT\n"
                                   "EOT\n"
                                   "COPY <<-EOT /script.sh\n"
                                   "\t\techo \"hello ${FOO}\"\n"
                                   "\tEOT\n"
                                   "RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\n"
                                   "I am\n"
                                   "first\n"
                                   "FILE1\n"
                                   "I am\n"
                                   "second\n"
                                   "FILE2\n"
                                   "COPY <<'EOF' <<\"QUOTED\" << X\"Y\" /dst/\n"
                                   "$NOT expanded\n"
                                   "EOF\n"
                                   "QUOTED\n"
                                   "XY\n"
                                   "RUN [\"<<EOF\"]\n"
                                   "RUN cat<<EOF\n"
                                   "CMD <<EOF\n");
        const struct df_instr *in;

        in = nth(df, 1);
        assert_args(in, 1, "<<EOF");
        assert_int_equal(in->nheredocs, 1);
        assert_string_equal(in->heredocs[0].name, "EOF");
        assert_string_equal(in->heredocs[0].content, "apt-get update\napt-get install -y curl\n");
        assert_true(in->heredocs[0].expand);
        assert_false(in->heredocs[0].chomp_tabs);
        assert_int_equal(in->line, 2);
        assert_int_equal(in->end_line, 5);

        /* the delimiter must be alone on its line */
        in = nth(df, 2);
        assert_args(in, 1, "<<EOT bash");
        assert_string_equal(in->heredocs[0].content, "  set -ex\n  EOT\n");

        /* <<-: tabs before the lines and the delimiter go */
        in = nth(df, 3);
        assert_true(in->heredocs[0].chomp_tabs);
        assert_string_equal(in->heredocs[0].content, "echo \"hello ${FOO}\"\n");
        assert_args(in, 2, "<<-EOT", "/script.sh");
        assert_ptr_equal(dockerfile_arg_heredoc(in, 0), &in->heredocs[0]);
        assert_null(dockerfile_arg_heredoc(in, 1));

        in = nth(df, 4);
        assert_int_equal(in->nheredocs, 2);
        assert_string_equal(in->heredocs[0].name, "FILE1");
        assert_string_equal(in->heredocs[0].content, "I am\nfirst\n");
        assert_string_equal(in->heredocs[1].name, "FILE2");
        assert_string_equal(in->heredocs[1].content, "I am\nsecond\n");
        assert_int_equal(in->end_line, 19);

        /* quoted delimiters: no expansion */
        in = nth(df, 5);
        assert_int_equal(in->nheredocs, 3);
        assert_string_equal(in->heredocs[0].name, "EOF");
        assert_false(in->heredocs[0].expand);
        assert_string_equal(in->heredocs[0].content, "$NOT expanded\n");
        assert_string_equal(in->heredocs[1].name, "QUOTED");
        assert_false(in->heredocs[1].expand);
        assert_string_equal(in->heredocs[1].content, "");
        assert_string_equal(in->heredocs[2].name, "XY");
        assert_false(in->heredocs[2].expand);
        assert_args(in, 5, "<<'EOF'", "<<\"QUOTED\"", "<<", "X\"Y\"", "/dst/");

        /* no heredocs: exec form, "cat<<EOF", CMD */
        assert_int_equal(nth(df, 6)->nheredocs, 0);
        assert_int_equal(nth(df, 7)->nheredocs, 0);
        assert_int_equal(nth(df, 8)->nheredocs, 0);
        dockerfile_free(df);

        /* ONBUILD's trigger carries them */
        df = ok("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\nRUN b\n");
        assert_int_equal(df->n, 3);
        assert_int_equal(nth(df, 1)->nheredocs, 0);
        assert_int_equal(nth(df, 1)->onbuild->nheredocs, 1);
        assert_string_equal(nth(df, 1)->onbuild->heredocs[0].content, "echo hi\n");
        assert_int_equal(nth(df, 1)->end_line, 4);
        dockerfile_free(df);

        /* CRLF delimiter; the content keeps its bytes */
        df = ok("FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n");
        assert_string_equal(nth(df, 1)->heredocs[0].content, "x\r\n");
        dockerfile_free(df);

        err("FROM a\nRUN <<EOF\necho\nEOF \n", "Dockerfile:2: unterminated heredoc");
        err("FROM a\nRUN true\nCOPY <<A <<B /x\nA\n", "Dockerfile:3: unterminated heredoc");
        err("FROM a\nCOPY x <<EOF\nhi\nEOF\n", "Dockerfile:2: COPY cannot accept a heredoc as a destination");
}

/* ---- ENV, LABEL, ARG ---- */

static void env_label_arg(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM a\n"
                                   "ENV MY_NAME=\"John Doe\" MY_DOG=Rex\\ The\\ Dog \\\n"
                                   "    MY_CAT=fluffy\n"
                                   "ENV legacy value with  spaces\n"
                                   "ENV EMPTY= Q='single $x' E=a\\=b\n"
                                   "LABEL \"com.example.vendor\"=\"ACME Incorporated\" version=1.0 "
                                   "description=\"This text illustrates \\\n"
                                   "that label-values can span multiple lines.\"\n"
                                   "LABEL multi.label1=\"value1\" multi.label2=\"value2\" other=\"value3\"\n"
                                   "ARG user1\n"
                                   "ARG buildno=1 other \"q\"=\"r s\"\n"
                                   "ENV a=b\xc2\xa0" "c=d\n");
        const struct df_instr *in;

        in = nth(df, 1);
        assert_int_equal(in->nkvs, 3);
        assert_kv(&in->kvs[0], "MY_NAME", "\"John Doe\"");
        assert_kv(&in->kvs[1], "MY_DOG", "Rex\\ The\\ Dog");
        assert_kv(&in->kvs[2], "MY_CAT", "fluffy");

        in = nth(df, 2);
        assert_int_equal(in->nkvs, 1);
        assert_kv(&in->kvs[0], "legacy", "value with  spaces");

        in = nth(df, 3);
        assert_int_equal(in->nkvs, 3);
        assert_kv(&in->kvs[0], "EMPTY", "");
        assert_kv(&in->kvs[1], "Q", "'single $x'");
        assert_kv(&in->kvs[2], "E", "a\\=b");

        in = nth(df, 4);
        assert_int_equal(in->kind, DF_LABEL);
        assert_int_equal(in->nkvs, 3);
        assert_kv(&in->kvs[0], "\"com.example.vendor\"", "\"ACME Incorporated\"");
        assert_kv(&in->kvs[2], "description",
                  "\"This text illustrates that label-values can span multiple lines.\"");
        assert_int_equal(nth(df, 5)->nkvs, 3);

        in = nth(df, 6);
        assert_int_equal(in->nkvs, 1);
        assert_kv(&in->kvs[0], "user1", NULL);
        in = nth(df, 7);
        assert_int_equal(in->nkvs, 3);
        assert_kv(&in->kvs[0], "buildno", "1");
        assert_kv(&in->kvs[1], "other", NULL);
        assert_kv(&in->kvs[2], "\"q\"", "\"r s\"");
        assert_int_equal(in->nargs, 0);
        /* a Unicode blank separates pairs */
        assert_int_equal(nth(df, 8)->nkvs, 2);
        dockerfile_free(df);

        err("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument");
        err("FROM a\nENV onlyname\n", "Dockerfile:2: ENV must have two arguments");
        err("FROM a\nENV a=b c\n",
            "Dockerfile:2: Syntax error - can't find = in c. Must be of the form: name=value");
        err("FROM a\nENV =b\n", "Dockerfile:2: ENV names can not be blank");
        err("FROM a\nLABEL\n", "Dockerfile:2: LABEL requires at least one argument");
        err("FROM a\nLABEL x\n", "Dockerfile:2: LABEL must have two arguments");
        err("FROM a\nARG\n", "Dockerfile:2: ARG requires at least one argument");
        err("FROM a\nARG =x\n", "Dockerfile:2: ARG names can not be blank");
}

/* ---- FROM and stages ---- */

static void stages(void **state)
{
        (void)state;
        struct dockerfile *df = ok("ARG VERSION=latest\n"
                                   "ARG OTHER\n"
                                   "FROM busybox:$VERSION AS Base\n"
                                   "RUN a\n"
                                   "FROM base as build-2.x_y\n"
                                   "ARG VERSION\n"
                                   "RUN b\n"
                                   "COPY --from=0 / /\n"
                                   "FROM scratch\n"
                                   "FROM x AS dup\n"
                                   "FROM y AS DUP\n"
                                   "CMD z\n");
        const struct df_stage *st;

        assert_int_equal(df->nmeta_args, 2);
        assert_kv(&df->meta_args[0], "VERSION", "latest");
        assert_kv(&df->meta_args[1], "OTHER", NULL);
        assert_int_equal(df->nstages, 5);
        assert_string_equal(df->stages[0].name, "base");
        assert_args(nth(df, 2), 3, "busybox:$VERSION", "AS", "Base");
        assert_int_equal(df->stages[0].index, 0);
        assert_int_equal(df->stages[0].from, 2);
        assert_int_equal(df->stages[0].first, 3);
        assert_int_equal(df->stages[0].n, 1);
        assert_string_equal(df->stages[1].name, "build-2.x_y");
        assert_int_equal(df->stages[1].from, 4);
        assert_int_equal(df->stages[1].n, 3);
        assert_null(df->stages[2].name);
        assert_int_equal(df->stages[2].n, 0);
        assert_int_equal(df->stages[4].n, 1);

        assert_ptr_equal(dockerfile_stage(df, "base"), &df->stages[0]);
        assert_ptr_equal(dockerfile_stage(df, "BASE"), &df->stages[0]);
        assert_ptr_equal(dockerfile_stage(df, "Build-2.X_y"), &df->stages[1]);
        assert_ptr_equal(dockerfile_stage(df, "0"), &df->stages[0]);
        assert_ptr_equal(dockerfile_stage(df, "2"), &df->stages[2]);
        /* a name given twice: the last one */
        assert_ptr_equal(dockerfile_stage(df, "dup"), &df->stages[4]);
        assert_null(dockerfile_stage(df, "5"));
        assert_null(dockerfile_stage(df, "99999999999999999999999"));
        assert_null(dockerfile_stage(df, "missing"));
        assert_null(dockerfile_stage(df, ""));
        assert_null(dockerfile_stage(df, "-1"));
        st = dockerfile_stage(df, "4");
        assert_int_equal(st->index, 4);
        dockerfile_free(df);

        err("FROM\n", "Dockerfile:1: FROM requires either one or three arguments");
        err("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments");
        err("FROM a AS\n", "Dockerfile:1: FROM requires either one or three arguments");
        err("FROM a AS b c\n", "Dockerfile:1: FROM requires either one or three arguments");
        err("FROM a TO b\n", "Dockerfile:1: FROM requires either one or three arguments");
        err("FROM a AS 1st\n", "Dockerfile:1: invalid name for build stage: \"1st\", name can't start with a "
                               "number or contain symbols");
        err("FROM a AS b@c\n", "Dockerfile:1: invalid name for build stage: \"b@c\", name can't start with a "
                               "number or contain symbols");
        err("FROM a AS -x\n", "Dockerfile:1: invalid name for build stage: \"-x\", name can't start with a "
                              "number or contain symbols");
}

/* ---- ONBUILD ---- */

static void onbuild(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM a\n"
                                   "ONBUILD ADD . /app/src\n"
                                   "onbuild   copy --from=x --chown=1 a b\n"
                                   "ONBUILD ENV A=1 B=\"2 3\"\n"
                                   "ONBUILD HEALTHCHECK NONE\n");
        const struct df_instr *t;

        t = nth(df, 1)->onbuild;
        assert_int_equal(t->kind, DF_ADD);
        assert_args(t, 2, ".", "/app/src");
        assert_string_equal(t->original, "ADD . /app/src");
        assert_int_equal(t->line, 2);
        t = nth(df, 2)->onbuild;
        assert_int_equal(t->kind, DF_COPY);
        assert_string_equal(t->keyword, "copy");
        assert_string_equal(dockerfile_flag(t, "from")->value, "x");
        assert_string_equal(t->original, "copy --from=x --chown=1 a b");
        t = nth(df, 3)->onbuild;
        assert_int_equal(t->nkvs, 2);
        assert_kv(&t->kvs[1], "B", "\"2 3\"");
        assert_args(nth(df, 4)->onbuild, 1, "NONE");
        dockerfile_free(df);

        err("FROM a\nONBUILD\n", "Dockerfile:2: ONBUILD requires at least one argument");
        err("FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        err("FROM a\nONBUILD FROM b\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
        err("FROM a\nonbuild maintainer me\n", "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
        err("FROM a\nONBUILD RUNN x\n", "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)");
        err("FROM a\nONBUILD COPY --bogus a b\n", "Dockerfile:2: unknown flag: --bogus");
        err("FROM a\nONBUILD --x RUN a\n", "Dockerfile:2: unknown flag: --x");
        err("FROM a\nONBUILD COPY a\n", "Dockerfile:2: COPY requires at least two arguments, but only one was "
                                         "provided. Destination could not be determined");
}

/* ---- HEALTHCHECK ---- */

static void healthcheck(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM a\n"
                                   "HEALTHCHECK NONE\n"
                                   "healthcheck none\n"
                                   "HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1\n"
                                   "HEALTHCHECK cmd [\"/bin/check\", \"-q\"]\n"
                                   "HEALTHCHECK --interval=0 --timeout=1h2m3.5s --retries=+0 CMD x\n");

        assert_args(nth(df, 1), 1, "NONE");
        assert_args(nth(df, 2), 1, "NONE");
        assert_args(nth(df, 3), 2, "CMD", "curl -f http://localhost/ || exit 1");
        assert_false(nth(df, 3)->json);
        assert_args(nth(df, 4), 3, "CMD", "/bin/check", "-q");
        assert_true(nth(df, 4)->json);
        dockerfile_free(df);

        err("FROM a\nHEALTHCHECK\n", "Dockerfile:2: HEALTHCHECK requires at least one argument");
        err("FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments");
        err("FROM a\nHEALTHCHECK CMD\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD");
        err("FROM a\nHEALTHCHECK CMD []\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD");
        err("FROM a\nHEALTHCHECK RUN x\n", "Dockerfile:2: Unknown type \"RUN\" in HEALTHCHECK (try CMD)");
        err("FROM a\nHEALTHCHECK --interval=5 CMD x\n",
            "Dockerfile:2: time: missing unit in duration \"5\"");
        err("FROM a\nHEALTHCHECK --timeout=5y CMD x\n",
            "Dockerfile:2: time: unknown unit \"y\" in duration \"5y\"");
        err("FROM a\nHEALTHCHECK --timeout=x CMD x\n", "Dockerfile:2: time: invalid duration \"x\"");
        err("FROM a\nHEALTHCHECK --interval=10us CMD x\n",
            "Dockerfile:2: Interval \"interval\" cannot be less than 1ms");
        err("FROM a\nHEALTHCHECK --start-period=-1s CMD x\n",
            "Dockerfile:2: Interval \"start-period\" cannot be less than 1ms");
        err("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "Dockerfile:2: --retries cannot be negative (-1)");
        err("FROM a\nHEALTHCHECK --retries=x CMD x\n",
            "Dockerfile:2: strconv.ParseInt: parsing \"x\": invalid syntax");
        err("FROM a\nHEALTHCHECK --retries=2147483648 CMD x\n",
            "Dockerfile:2: strconv.ParseInt: parsing \"2147483648\": value out of range");
        err("FROM a\nHEALTHCHECK --mount=x CMD x\n", "Dockerfile:2: unknown flag: --mount");
}

static void durations(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                long long ns;
        } good[] = {
                { "0", 0 }, { "+0", 0 }, { "-0", 0 }, { "5s", 5000000000ll }, { "1.5h", 5400000000000ll },
                { "1h2m3.5s", 3723500000000ll }, { "300ms", 300000000 }, { "-1.5m", -90000000000ll },
                { "1us", 1000 }, { "1\xc2\xb5s", 1000 }, { "1\xce\xbcs", 1000 }, { ".5s", 500000000 },
                { "5.s", 5000000000ll }, { "2ns", 2 }, { "9223372036854775807ns", 9223372036854775807ll },
                { "0.000000001s", 1 }, { "1h1h", 7200000000000ll },
        };
        static const char *const bad[] = { "", "5", "s", ".s", "1x", "9223372036854775808ns", "1.5.5s", "-", "+",
                                           "1h-1m", "3000000h" };
        long long ns;

        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                if (dockerfile_duration(good[i].s, &ns, &err) < 0) {
                        print_error("%s: %s\n", good[i].s, err->msg);
                        fail();
                }
                assert_int_equal(ns, good[i].ns);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                if (dockerfile_duration(bad[i], &ns, &err) == 0) {
                        print_error("%s parsed\n", bad[i]);
                        fail();
                }
                assert_non_null(strstr(err->msg, "time: "));
        }
}

/* ---- the one-argument instructions ---- */

static void single_argument(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM a\n"
                                   "USER  patrick  user \n"
                                   "WORKDIR /path/to/workdir with space\n"
                                   "STOPSIGNAL 9\n"
                                   "MAINTAINER me\n"
                                   "EXPOSE 80/udp\t8080\n");

        assert_args(nth(df, 1), 1, "patrick  user");
        assert_args(nth(df, 2), 1, "/path/to/workdir with space");
        assert_args(nth(df, 3), 1, "9");
        assert_args(nth(df, 4), 1, "me");
        assert_args(nth(df, 5), 2, "80/udp", "8080");
        dockerfile_free(df);

        err("FROM a\nUSER\n", "Dockerfile:2: USER requires exactly one argument");
        err("FROM a\nWORKDIR   \n", "Dockerfile:2: WORKDIR requires exactly one argument");
        err("FROM a\nSTOPSIGNAL\n", "Dockerfile:2: STOPSIGNAL requires exactly one argument");
        err("FROM a\nMAINTAINER\n", "Dockerfile:2: MAINTAINER requires exactly one argument");
        err("FROM a\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument");
        err("FROM a\nVOLUME\n", "Dockerfile:2: VOLUME requires at least one argument");
        err("FROM a\nRUN\n", "Dockerfile:2: RUN requires at least one argument");
        err("FROM a\nRUN []\n", "Dockerfile:2: RUN requires at least one argument");
        err("FROM a\nCMD\n", "Dockerfile:2: CMD requires at least one argument");
        err("FROM a\nENTRYPOINT\n", "Dockerfile:2: ENTRYPOINT requires at least one argument");
        err("FROM a\nCOPY a\n", "Dockerfile:2: COPY requires at least two arguments, but only one was provided. "
                                "Destination could not be determined");
        err("FROM a\nADD\n", "Dockerfile:2: ADD requires at least two arguments, but only one was provided. "
                             "Destination could not be determined");
}

/* ---- file-level errors ---- */

static void errors(void **state)
{
        (void)state;
        struct dockerfile *df = NULL;
        _cleanup_error_ berth_error_t *e = NULL;

        err("FROM a\n\nRUNN x\n", "Dockerfile:3: unknown instruction: RUNN (did you mean RUN?)");
        err("FROM a\nrunn x\n", "Dockerfile:2: unknown instruction: runn (did you mean run?)");
        err("FROM a\nCopi x\n", "Dockerfile:2: unknown instruction: Copi (did you mean copy?)");
        err("FROM a\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO (did you mean FROM?)");
        err("FROM a\nRUN x\nXYZ\tbar\n", "Dockerfile:3: unknown instruction: XYZ");
        err("FROM a\nRUN a \\\n  b\nXY\\\nZ\n", "Dockerfile:4: unknown instruction: XYZ");
        err("FROM a\nR\xc3\xa9N x\n", "Dockerfile:2: unknown instruction: \"R\\xc3\\xa9N\" (did you mean run?)");
        err("", "Dockerfile:1: the Dockerfile cannot be empty");
        err("\n# only\n  \n", "Dockerfile:3: file with no instructions");
        err("ARG a\nARG b\n", "Dockerfile:1: dockerfile contains no stages to build (no FROM)");
        err("ARG a\nRUN x\nFROM a\n", "Dockerfile:2: no build stage in current context (RUN before FROM)");
        err("# c\nENV a=b\nFROM a\n", "Dockerfile:2: no build stage in current context (ENV before FROM)");
        /* a parser error wins over an instruction error, as in BuildKit */
        err("FROM a\nFOO\nRUN <<EOF\n", "Dockerfile:3: unterminated heredoc");
        err("FOO\nCMD [\"a\", 2]\n",
            "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");

        /* lines over 64 KiB */
        {
                size_t n = 70000;
                char *big = xmalloc(n + 32);
                strcpy(big, "FROM a\nRUN ");
                memset(big + 11, 'x', n);
                strcpy(big + 11 + n, "\n");
                err(big, "Dockerfile:2: dockerfile line greater than max allowed size of 65535");
                free(big);
        }

        /* the file name; control characters never reach the message */
        assert_int_equal(dockerfile_parse("FROM a\nRUN\x01 x\n", 14, "sub/Dockerfile.dev", &df, &e), -EINVAL);
        assert_string_equal(e->msg, "sub/Dockerfile.dev:2: unknown instruction: \"RUN\\x01\" (did you mean RUN?)");
        assert_int_equal(e->status, EINVAL);
        assert_null(df);
        berth_error_free(&e);

        /* NUL bytes, with the line they are on */
        assert_int_equal(dockerfile_parse("FROM a\nRUN x\0y\nRUN z\n", 20, "Dockerfile", &df, &e), -EINVAL);
        assert_string_equal(e->msg, "Dockerfile:2: NUL byte in the Dockerfile");
        assert_null(df);
}

/* ---- expansion ---- */

static const char *lookup(const char *name, void *data)
{
        static const char *const env[][2] = {
                { "FOO", "/bar" }, { "str", "foobarbaz" }, { "EMPTY", "" }, { "SP", " a  b " },
                { "HOME", "/root" }, { "PWD", "/home" }, { "V", "1.2.3-rc1" }, { "PATHS", "/a/b/c.tar.gz" },
                { "caf\xc3\xa9", "latte" }, { "NL", "x\ny" }, { "1", "one" }, { "_u", "under" },
        };
        (void)data;
        for (size_t i = 0; i < ARRAY_SIZE(env); i++)
                if (strcmp(env[i][0], name) == 0)
                        return env[i][1];
        return NULL;
}

struct xcase {
        const char *in;
        const char *out;        /* NULL: an error */
};

static void expand_table(void **state)
{
        (void)state;
        static const struct xcase cases[] = {
                /* the reference's examples */
                { "${FOO}", "/bar" },
                { "$FOO", "/bar" },
                { "\\$FOO", "$FOO" },
                { "\\${FOO}", "${FOO}" },
                { "${FOO}_bar", "/bar_bar" },
                { "$FOO_bar", "" },
                { "${variable:-word}", "word" },
                { "${FOO:-word}", "/bar" },
                { "${FOO:+word}", "word" },
                { "${variable:+word}", "" },
                { "${str#f*b}", "arbaz" },
                { "${str##f*b}", "az" },
                { "${str%b*}", "foobar" },
                { "${str%%b*}", "foo" },
                { "${str/ba/fo}", "fooforbaz" },
                { "${str//ba/fo}", "fooforfoz" },
                /* quotes */
                { "hello", "hello" },
                { "he'll'o", "hello" },
                { "he'llo", NULL },
                { "he\\'llo", "he'llo" },
                { "\"abc\\tdef\"", "abc\\tdef" },
                { "'abc\\tdef'", "abc\\tdef" },
                { "abc\\tdef", "abctdef" },
                { "hello\\", "hello" },
                { "hello\\\\", "hello\\" },
                { "\"hello", NULL },
                { "\"hello\\\"", NULL },
                { "'hello\\'", "hello\\" },
                { "\"''\"", "''" },
                { "'$FOO'", "$FOO" },
                { "\"$FOO\"", "/bar" },
                { "\"\\$FOO\"", "$FOO" },
                { "\"\\\\$FOO\"", "\\/bar" },
                { "\"a\\b\"", "a\\b" },
                { "\"a \\\" b\"", "a \" b" },
                { "\"${FOO:-\"x\"}\"", "/bar" },
                /* names */
                { "$.", "$." },
                { "$", "$" },
                { "a$", "a$" },
                { "he$1x", "heonex" },
                { "he$12x", "hex" },
                { "$_u-", "under-" },
                { "$caf\xc3\xa9", "latte" },
                { "${caf\xc3\xa9}!", "latte!" },
                { "$HOME$PWD", "/root/home" },
                { "$@ $* $# $? $- $$ $! $0", "       " },
                { "${#}", "" },
                /* modifiers */
                { "${EMPTY:-d}", "d" },
                { "${EMPTY-d}", "" },
                { "${UNSET-d}", "d" },
                { "${EMPTY:+a}", "" },
                { "${EMPTY+a}", "a" },
                { "${UNSET+a}", "" },
                { "he${XXX:-${PWD:-yyy}}xx", "he/homexx" },
                { "he${XXX:-${YYY:-yyy}}xx", "heyyyxx" },
                { "${XXX:-'a b'}", "a b" },
                { "${XXX:-\\}}", "}" },
                { "${FOO:?}", "/bar" },
                { "${EMPTY?}", "" },
                { "${UNSET:?}", NULL },
                { "${UNSET?custom message}", NULL },
                { "${EMPTY:?}", NULL },
                { "${V%.*}", "1.2" },
                { "${V%%.*}", "1" },
                { "${V#*.}", "2.3-rc1" },
                { "${V##*.}", "3-rc1" },
                { "${V%-rc?}", "1.2.3" },
                { "${PATHS##*/}", "c.tar.gz" },
                { "${PATHS%/*}", "/a/b" },
                { "${V#\\*}", "1.2.3-rc1" },
                { "${UNSET%x}", "" },
                { "${V/./_}", "1_2.3-rc1" },
                { "${V//./_}", "1_2_3-rc1" },
                { "${V//[0-9]/x}", "1.2.3-rc1" },
                { "${V//?/x}", "xxxxxxxxx" },
                { "${V/*/all}", "all" },
                { "${V//\\./-}", NULL },
                { "${str//a/$}", "foob$rb$z" },
                { "${NL//*/z}", "z\nz" },
                { "${str///-}", "-f-o-o-b-a-r-b-a-z-" },
                /* errors */
                { "${}", NULL },
                { "${", NULL },
                { "${FOO", NULL },
                { "${FOO:-x", NULL },
                { "${:}", NULL },
                { "${{x}", NULL },
                { "he${.}", NULL },
                { "${FOO:YYY}", NULL },
                { "${FOO!}", NULL },
                { "${FOO:%x}", NULL },
                { "${FOO:#x}", NULL },
                { "${FOO/x}", NULL },
                { "${V#\\x}", NULL },
                /* the word keeps its blanks */
                { "a  b", "a  b" },
                { "$SP", " a  b " },
                { "<< x", "<< x" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *out = NULL;
                int r = dockerfile_expand(cases[i].in, '\\', lookup, NULL, &out, &err);
                if (cases[i].out == NULL) {
                        if (r == 0) {
                                print_error("%s: want an error, got '%s'\n", cases[i].in, out);
                                fail();
                        }
                        assert_non_null(strstr(err->msg, "failed to process"));
                        assert_null(strchr(err->msg, '\n'));
                        continue;
                }
                if (r < 0) {
                        print_error("%s: %s\n", cases[i].in, err->msg);
                        fail();
                }
                if (strcmp(out, cases[i].out) != 0) {
                        print_error("%s: got '%s', want '%s'\n", cases[i].in, out, cases[i].out);
                        fail();
                }
        }
}

static void expand_errors(void **state)
{
        (void)state;
        static const struct xcase cases[] = {
                { "${UNSET:?}", "failed to process \"${UNSET:?}\": UNSET: is not allowed to be unset" },
                { "${EMPTY:?}", "failed to process \"${EMPTY:?}\": EMPTY: is not allowed to be empty" },
                { "${UNSET?need $FOO}", "failed to process \"${UNSET?need $FOO}\": UNSET: need /bar" },
                { "${}", "failed to process \"${}\": syntax error: bad substitution" },
                { "${FOO", "failed to process \"${FOO\": syntax error: missing '}'" },
                { "${FOO:-a", "failed to process \"${FOO:-a\": syntax error: missing '}'" },
                { "${FOO:x}", "failed to process \"${FOO:x}\": unsupported modifier (:x) in substitution" },
                { "'a", "failed to process \"'a\": unexpected end of statement while looking for matching "
                        "single-quote" },
                { "\"a", "failed to process \"\\\"a\": unexpected end of statement while looking for matching "
                         "double-quote" },
                { "${FOO/a}", "failed to process \"${FOO/a}\": syntax error: missing '/' in ${}" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *out = NULL;
                assert_int_equal(dockerfile_expand(cases[i].in, '\\', lookup, NULL, &out, &err), -1);
                assert_null(out);
                assert_string_equal(err->msg, cases[i].out);
        }
}

static void expand_backtick(void **state)
{
        (void)state;
        static const struct xcase cases[] = {
                { "c:\\path", "c:\\path" },
                { "`$FOO", "$FOO" },
                { "a`b", "ab" },
                { "\"a`\"b\"", "a\"b" },
                { "\"a\\b\"", "a\\b" },
                { "\"``\"", "`" },
                { "x`", "x" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *out = NULL;
                assert_int_equal(dockerfile_expand(cases[i].in, '`', lookup, NULL, &out, &err), 0);
                assert_string_equal(out, cases[i].out);
        }
}

static void expand_words(void **state)
{
        (void)state;
        static const struct xcase cases[] = {
                { "hello", "hello" },
                { "hello there", "hello|there" },
                { "  hello   there  ", "hello|there" },
                { "hello\\ there", "hello there" },
                { "hello\" there  \"", "hello there  " },
                { "\"hello\\\" there\"", "hello\" there" },
                { "hello\\\" there", "hello\"|there" },
                { "$SP", "a|b" },
                { "x$SP", "x|a|b" },
                { "\"$SP\"", " a  b " },
                { "x${SP}y", "x|a|b|y" },
                { "a${UNSET:-b c}d", "ab|cd" },
                { "'$FOO' $FOO", "$FOO|/bar" },
                { "80/tcp ${PORT:-8080}/udp", "80/tcp|8080/udp" },
                { "$EMPTY", "" },
                { "\"\"", "" },
                { "a \"\" b", "a|b" },
                { "a\xc2\xa0" "b", "a|b" },
                { "<< EOF x", "<< EOF|x" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_strv_ char **words = NULL;
                struct strbuf joined = { 0 };
                size_t n = 99;

                if (dockerfile_expand_words(cases[i].in, '\\', lookup, NULL, &words, &n, &err) < 0) {
                        print_error("%s: %s\n", cases[i].in, err->msg);
                        fail();
                }
                strbuf_add(&joined, "", 0);
                for (size_t k = 0; k < n; k++) {
                        if (k)
                                strbuf_adds(&joined, "|");
                        strbuf_adds(&joined, words[k]);
                }
                assert_null(words[n]);
                if (strcmp(joined.data, cases[i].out) != 0) {
                        print_error("%s: got '%s', want '%s'\n", cases[i].in, joined.data, cases[i].out);
                        free(joined.data);
                        fail();
                }
                free(joined.data);
        }
        {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_strv_ char **words = NULL;
                size_t n = 0;
                assert_int_equal(dockerfile_expand_words("a 'b", '\\', lookup, NULL, &words, &n, &err), -1);
                assert_null(words);
        }
}

/* The lexer's switches, as the parser uses them for heredoc words. */
static void lex_switches(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *w = NULL;

        assert_int_equal(dockerfile_lex("a'b'\"$X\\$\"${Y:-z}$FOO\\c", '\\',
                                        DF_LEX_RAW_QUOTES | DF_LEX_RAW_ESCAPES | DF_LEX_SKIP_UNSET, lookup, NULL, &w,
                                        NULL, NULL, &err),
                         0);
        assert_string_equal(w, "a'b'\"$X\\$\"${Y:-z}/bar\\c");
        free(w);
        w = NULL;
        assert_int_equal(dockerfile_lex("$UNSET ${UNSET}", '\\', 0, NULL, NULL, &w, NULL, NULL, &err), 0);
        assert_string_equal(w, " ");
}

/* Deep nesting and long patterns end in errors, not in a crash. */
static void expand_limits(void **state)
{
        (void)state;
        struct strbuf b = { 0 };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *out = NULL;

        for (int i = 0; i < 2000; i++)
                strbuf_adds(&b, "${X:-");
        for (int i = 0; i < 2000; i++)
                strbuf_adds(&b, "}");
        assert_int_equal(dockerfile_expand(b.data, '\\', lookup, NULL, &out, &err), -1);
        assert_non_null(strstr(err->msg, "nested too deeply"));
        free(b.data);
        memset(&b, 0, sizeof(b));
        berth_error_free(&err);

        strbuf_adds(&b, "${str#");
        for (int i = 0; i < 300; i++)
                strbuf_adds(&b, "*a");
        strbuf_adds(&b, "}");
        assert_int_equal(dockerfile_expand(b.data, '\\', lookup, NULL, &out, &err), -1);
        assert_non_null(strstr(err->msg, "pattern too complex"));
        free(b.data);
        berth_error_free(&err);

        /* many stars that must backtrack still end quickly */
        assert_int_equal(dockerfile_expand("${str//*o*o*o*o*o*o*o*o*o*o*x/-}", '\\', lookup, NULL, &out, &err), 0);
        assert_string_equal(out, "foobarbaz");
}

/* Expansion over a parsed file, as the builder will run it. */
static void expand_parsed(void **state)
{
        (void)state;
        struct dockerfile *df = ok("FROM busybox\n"
                                   "ENV FOO=/bar\n"
                                   "WORKDIR ${FOO}\n"
                                   "ADD . $FOO\n"
                                   "COPY \\$FOO /quux\n"
                                   "ENV MY_DOG=Rex\\ The\\ Dog Q=\"a b\"'c'\n");
        _cleanup_error_ berth_error_t *err = NULL;
        char *out = NULL;

        assert_int_equal(dockerfile_expand(nth(df, 2)->args[0], df->escape, lookup, NULL, &out, &err), 0);
        assert_string_equal(out, "/bar");
        free(out);
        assert_int_equal(dockerfile_expand(nth(df, 3)->args[1], df->escape, lookup, NULL, &out, &err), 0);
        assert_string_equal(out, "/bar");
        free(out);
        assert_int_equal(dockerfile_expand(nth(df, 4)->args[0], df->escape, lookup, NULL, &out, &err), 0);
        assert_string_equal(out, "$FOO");
        free(out);
        assert_int_equal(dockerfile_expand(nth(df, 5)->kvs[0].value, df->escape, lookup, NULL, &out, &err), 0);
        assert_string_equal(out, "Rex The Dog");
        free(out);
        assert_int_equal(dockerfile_expand(nth(df, 5)->kvs[1].value, df->escape, lookup, NULL, &out, &err), 0);
        assert_string_equal(out, "a bc");
        free(out);
        dockerfile_free(df);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_instruction),
                cmocka_unit_test(kind_names),
                cmocka_unit_test(keywords_any_case),
                cmocka_unit_test(directives),
                cmocka_unit_test(escape_backtick),
                cmocka_unit_test(comments_and_continuations),
                cmocka_unit_test(flags),
                cmocka_unit_test(exec_form),
                cmocka_unit_test(heredocs),
                cmocka_unit_test(env_label_arg),
                cmocka_unit_test(stages),
                cmocka_unit_test(onbuild),
                cmocka_unit_test(healthcheck),
                cmocka_unit_test(durations),
                cmocka_unit_test(single_argument),
                cmocka_unit_test(errors),
                cmocka_unit_test(expand_table),
                cmocka_unit_test(expand_errors),
                cmocka_unit_test(expand_backtick),
                cmocka_unit_test(expand_words),
                cmocka_unit_test(lex_switches),
                cmocka_unit_test(expand_limits),
                cmocka_unit_test(expand_parsed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
