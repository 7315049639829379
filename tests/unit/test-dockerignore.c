#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "util/dockerignore.h"
#include "util/util.h"

/* Patterns (one a line, as in a .dockerignore) x paths, with the answer
 * Docker gives: the examples of Docker's .dockerignore reference, the
 * cases of moby/patternmatcher's tests (MatchesOrParentMatches) and of Go's
 * filepath.Match tests, and the rules of the ignore-file reader. */
struct mcase {
        const char *patterns;
        const char *path;
        bool excluded;
};

static const struct mcase cases[] = {
        /* Docker's reference examples: temp in a subdirectory, two levels down, temp? */
        { "*/temp*", "somedir/temporary.txt", true },
        { "*/temp*", "somedir/temp", true },
        { "*/temp*", "somedir/temp/inner/file", true },
        { "*/temp*", "temp", false },
        { "*/temp*", "temporary.txt", false },
        { "*/temp*", "a/b/temp", false },
        { "*/*/temp*", "somedir/subdir/temporary.txt", true },
        { "*/*/temp*", "somedir/temporary.txt", false },
        { "*/*/temp*", "a/b/c/temp", false },
        { "temp?", "tempa", true },
        { "temp?", "tempb/x", true },
        { "temp?", "temp", false },
        { "temp?", "tempab", false },
        { "temp?", "dir/tempa", false },
        /* "**" matches any number of directories, none included */
        { "**/*.go", "main.go", true },
        { "**/*.go", "cmd/berth/main.go", true },
        { "**/*.go", "main.go.txt", false },
        { "**/*.go", "README", false },
        { "**", "file", true },
        { "**", "dir/file", true },
        { "**/", "file", true },
        { "**/**", "dir/file", true },
        { "dir/**", "dir/file", true },
        { "dir/**", "dir/dir2/file", true },
        { "dir/**", "dir", false },
        { "dir/**", "dirx/file", false },
        { "**/dir", "dir", true },
        { "**/dir", "dir/file", true },
        { "**/dir", "a/b/dir/file", true },
        { "**/dir", "a/bdir", false },
        { "**/dir2/*", "dir/dir2/file", true },
        { "**/dir2/**", "dir/dir2/dir3/file", true },
        { "**/file*txt", "dir/dir/file.txt", true },
        { "**/**/*.txt", "file.txt", true },
        { "**/**/*.txt2", "dir/dir/file.txt", false },
        { "a**/*.txt", "a/file.txt", true },
        { "a**/*.txt", "a/dir/dir/file.txt", true },
        { "a/*.txt", "a/dir/file.txt", false },
        { "a/*.txt**", "a/file.txt", true },
        { "**/.foo", ".foo", true },
        { "**/.foo", "bar.foo", false },
        { "**/foo/bar", "dir/dir2/foo/bar", true },
        /* Docker's quirks kept: "**" + literal matches by suffix; "**" in
         * the middle needs a '/' after what it eats */
        { "**file", "dir/file", true },
        { "**file", "dir/myfile", true },
        { "**.txt", "a/b.txt", true },
        { "a**b", "ab", true },
        { "a**b", "a/x/b", true },
        { "a**b", "axb", false },
        /* "**" never crosses a newline in a name (Go's '.'); '*' does */
        { "**/*x", "a\nb/x", false },
        { "**/x", "a\nb/x", true }, /* a suffix test has no such limit */
        { "*/x", "a\nb/x", true },
        /* '^' outside a class is an anchor in Docker's regular expression */
        { "a*^b", "a^b", false },
        { "^*", "abc", true },
        { "^foo", "^foo", true }, /* no wildcard: compared as text */
        /* '*' and '?' stop at '/' */
        { "*", "fileutils.go", true },
        { "*", "dir/file", true }, /* the parent "dir" matches */
        { "*.go", "fileutils.go", true },
        { "*.go", "dir/x.go", false },
        { "a*", "ab/c", true },
        { "a*/b", "abc/b", true },
        { "a*/b", "a/c/b", false },
        { "a*b", "a/b", false },
        { "a?b", "a/b", false },
        { "a*b*c*d*e*/f", "axbxcxdxexxx/f", true },
        { "a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false },
        { "a*b?c*x", "abxbbxdbxebxczzx", true },
        { "a*b?c*x", "abxbbxdbxebxczzy", false },
        { "*x", "xxx", true },
        /* classes, ranges, negation, escapes */
        { "ab[c]", "abc", true },
        { "ab[b-d]", "abc", true },
        { "ab[e-g]", "abc", false },
        { "ab[^c]", "abc", false },
        { "ab[^e-g]", "abc", true },
        { "a[b-d]e", "ace", true },
        { "a[b-d]e", "ae", false },
        { "a[^b-d]e", "aze", true },
        { "a[!b]e", "a!e", true }, /* '!' is a member, not a negation */
        { "a[!b]e", "aze", false },
        { "a[^x]b", "a/b", true }, /* a class can match '/' */
        { "[\\]a]", "]", true },
        { "[\\-]", "-", true },
        { "[x\\-]", "-", true },
        { "[x\\-]", "z", false },
        { "[a-ζ]*", "α", true },
        { "*[a-ζ]", "A", false },
        { "a\\*b", "a*b", true },
        { "a\\*b", "ab", false },
        { "a\\\\", "a\\", true },
        { "a?b", "a☺b", true },
        { "a[^a]b", "a☺b", true },
        { "a???b", "a☺b", false },
        /* regular-expression characters are literal */
        { ".*", ".foo", true },
        { ".*", "foo", false },
        { "abc.def", "abcZdef", false },
        { "abc?def", "abcZdef", true },
        { "a(b)c/def", "a(b)c/def", true },
        { "a.|)$(}+{bc", "a.|)$(}+{bc", true },
        { "dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true },
        /* exceptions; the last pattern that matches wins */
        { "*.md\n!README*.md\nREADME-secret.md", "CHANGES.md", true },
        { "*.md\n!README*.md\nREADME-secret.md", "README.md", false },
        { "*.md\n!README*.md\nREADME-secret.md", "README-dev.md", false },
        { "*.md\n!README*.md\nREADME-secret.md", "README-secret.md", true },
        { "*.md\nREADME-secret.md\n!README*.md", "README-secret.md", false },
        { "*.md\nREADME-secret.md\n!README*.md", "CHANGES.md", true },
        { "!fileutils.go\n*.go", "fileutils.go", true },
        { "*.go\n!fileutils.go", "fileutils.go", false },
        { "**\n!util/docker/web", "util/docker/web/foo", false },
        { "**\n!util/docker/web\nutil/docker/web/foo", "util/docker/web/foo", true },
        { "**\n!dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false },
        /* a directory excluded, exceptions inside it */
        { "docs\n!docs/README.md", "docs/README.md", false },
        { "docs\n!docs/README.md", "docs/other.md", true },
        { "docs\n!docs/README.md", "docs/sub/README.md", true },
        { "docs/\n!docs/README.md", "docs/README.md", false },
        { "docs/*\n!docs/README.md", "docs/README.md", false },
        { "docs\n!docs/keep", "docs/keep/deep/file", false },
        { "docs", "docs", true },
        { "docs", "docs/a/b/c", true },
        { "docs", "docsx", false },
        { "docs", "a/docs", false },
        /* the reader: comments, blank lines, spaces, cleaning, '/' */
        { "# a comment\n\n   \nfoo", "foo", true },
        { "# foo", "# foo", false },
        { "  # foo", "# foo", true }, /* '#' after spaces is a pattern */
        { "\xEF\xBB\xBF# bom then comment\nbar", "bar", true },
        { "\xEF\xBB\xBF# bom then comment\nbar", "# bom then comment", false },
        { "foo\r\nbar\r\n", "bar", true },
        { "  foo  ", "foo", true },
        { "\tfoo\xC2\xA0", "foo", true }, /* Unicode spaces trimmed, as Go's TrimSpace */
        { "/foo", "foo", true },
        { "//foo//bar/", "foo/bar", true },
        { "./foo/../bar", "bar", true },
        { "./foo/../bar", "foo", false },
        { "!/docs/keep\ndocs", "docs/keep", true },
        { "docs\n! /docs/keep", "docs/keep", false },
        { "docs\n!./docs/keep", "docs/keep", false },
        { "foo/.", "foo/x", true },
        /* paths are cleaned; the root is never excluded */
        { "foo", "./foo", true },
        { "foo", "foo/", true },
        { "foo/bar", "foo//bar", true },
        { "*", ".", false },
        { "*", "", false },
        { "**", ".", false },
        /* no patterns */
        { "", "anything", false },
        { "# only a comment\n", "anything", false },
};

static void test_matches(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_dockerignore_ struct dockerignore *di = NULL;
                _cleanup_error_ berth_error_t *err = NULL;
                const struct mcase *c = &cases[i];

                if (dockerignore_parse(c->patterns, strlen(c->patterns), &di, &err) < 0)
                        fail_msg("case %zu: patterns \"%s\": %s", i, c->patterns, err->msg);
                if (dockerignore_matches(di, c->path) != c->excluded)
                        fail_msg("case %zu: patterns \"%s\", path \"%s\": excluded %d, want %d", i, c->patterns, c->path,
                                 !c->excluded, c->excluded);
        }
}

/* Malformed patterns: the error names the line. */
static void test_errors(void **state)
{
        static const struct {
                const char *text;
                const char *msg;
        } bad[] = {
                { "ok\n[", "line 2: bad pattern \"[\": syntax error in pattern" },
                { "a[", "line 1: bad pattern \"a[\": syntax error in pattern" },
                { "[^", "line 1:" },
                { "[^bc", "line 1:" },
                { "[]a]", "line 1:" },
                { "[-]", "line 1:" },
                { "[x-]", "line 1:" },
                { "[-x]", "line 1:" },
                { "[a-b-c]", "line 1:" },
                { "[]", "line 1:" },
                { "[^]", "line 1:" },
                { "x\n\n\\", "line 3: bad pattern \"\\\\\": syntax error in pattern" },
                { "[z-a]", "line 1:" },                 /* Docker's regexp refuses it */
                { "[Local-Only]/", "line 1:" },         /* l-O: an inverted range */
                { "a\n!", "line 2: illegal exclusion pattern: \"!\"" },
                { "! ", "line 1: illegal exclusion pattern" },
                { "!/", "line 1: illegal exclusion pattern" },
                { "\n\n# c\n!*[\xff]", "line 4:" },     /* invalid UTF-8 in a class */
        };
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct dockerignore *di = NULL;
                _cleanup_error_ berth_error_t *err = NULL;

                if (dockerignore_parse(bad[i].text, strlen(bad[i].text), &di, &err) == 0) {
                        dockerignore_free(di);
                        fail_msg("\"%s\" parses", bad[i].text);
                }
                assert_null(di);
                if (strncmp(err->msg, bad[i].msg, strlen(bad[i].msg)) != 0)
                        fail_msg("\"%s\": \"%s\", want \"%s...\"", bad[i].text, err->msg, bad[i].msg);
        }
}

/* Valid but odd patterns parse. */
static void test_valid_odd(void **state)
{
        static const char *ok[] = {
                "[\\]a]", "[x\\-]", "a]", "]", "[[]", "[*]", "-", "\\[", "a\\\\", "!!", "[^a]", "\xff", "a\xff\x62",
                "./ /.", /* cleans to " ", which is empty once trimmed again */
        };
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                _cleanup_dockerignore_ struct dockerignore *di = NULL;
                _cleanup_error_ berth_error_t *err = NULL;
                if (dockerignore_parse(ok[i], strlen(ok[i]), &di, &err) < 0)
                        fail_msg("\"%s\": %s", ok[i], err->msg);
        }
        {
                _cleanup_dockerignore_ struct dockerignore *di = NULL;
                assert_int_equal(dockerignore_parse("./ /.\n# c\n\n", 11, &di, NULL), 0);
                assert_int_equal(dockerignore_npatterns(di), 0);
        }
        {
                /* "!!" excludes "!" ... an exception for the file "!" */
                _cleanup_dockerignore_ struct dockerignore *di = NULL;
                assert_int_equal(dockerignore_parse("*\n!!", 4, &di, NULL), 0);
                assert_false(dockerignore_matches(di, "!"));
                assert_true(dockerignore_matches(di, "x"));
        }
        {
                /* an invalid byte matches itself; in a wildcard pattern
                 * any invalid byte, as Go's regexp sees U+FFFD in both */
                _cleanup_dockerignore_ struct dockerignore *di = NULL, *wild = NULL;
                assert_int_equal(dockerignore_parse("a\xff", 2, &di, NULL), 0);
                assert_true(dockerignore_matches(di, "a\xff"));
                assert_false(dockerignore_matches(di, "a\xfe"));
                assert_int_equal(dockerignore_parse("?\xfe", 2, &wild, NULL), 0);
                assert_true(dockerignore_matches(wild, "x\xff"));
                assert_false(dockerignore_matches(wild, "xy"));
        }
        {
                /* a NUL byte is an ordinary byte no path has */
                _cleanup_dockerignore_ struct dockerignore *di = NULL;
                assert_int_equal(dockerignore_parse("a\0b\nc", 5, &di, NULL), 0);
                assert_false(dockerignore_matches(di, "a"));
                assert_true(dockerignore_matches(di, "c"));
        }
}

/* Walk a tree as the docker CLI walks a context; returns what is sent,
 * one path a line. */
struct node {
        const char *path;
        bool dir;
};

static char *walk(const char *patterns, const struct node *tree, size_t n, const char *dockerfile)
{
        _cleanup_dockerignore_ struct dockerignore *di = NULL;
        struct strbuf out = { 0 };
        /* a stack of directories and their match infos */
        const char *dirs[16];
        bool *infos[16];
        size_t depth = 0;

        assert_int_equal(dockerignore_parse(patterns, strlen(patterns), &di, NULL), 0);
        if (dockerfile) {
                assert_int_equal(dockerignore_keep(di, ".dockerignore", NULL), 0);
                assert_int_equal(dockerignore_keep(di, dockerfile, NULL), 0);
        }
        for (size_t i = 0; i < n; i++) {
                const char *p = tree[i].path;
                bool *info = NULL, excluded, skip_below = false;

                /* pop directories p is not inside */
                while (depth > 0 && !(str_has_prefix(p, dirs[depth - 1]) && p[strlen(dirs[depth - 1])] == '/')) {
                        depth--;
                        free(infos[depth]);
                }
                if (tree[i].dir)
                        info = xcalloc(dockerignore_npatterns(di) + 1, sizeof(bool));
                excluded = dockerignore_matches_walk(di, p, depth ? infos[depth - 1] : NULL, info);
                if (!excluded) {
                        strbuf_adds(&out, p);
                        strbuf_adds(&out, "\n");
                } else if (!tree[i].dir || !dockerignore_may_reinclude(di, p)) {
                        skip_below = true;
                }
                if (tree[i].dir && !skip_below) {
                        assert_true(depth < ARRAY_SIZE(dirs));
                        dirs[depth] = p;
                        infos[depth++] = info;
                        info = NULL;
                }
                free(info);
                if (skip_below && tree[i].dir) {
                        size_t l = strlen(p);
                        while (i + 1 < n && strncmp(tree[i + 1].path, p, l) == 0 && tree[i + 1].path[l] == '/')
                                i++;
                }
        }
        while (depth > 0)
                free(infos[--depth]);
        if (out.data == NULL)
                return xstrdup("");
        return out.data;
}

static const struct node tree[] = {
        { ".dockerignore", false },
        { "Dockerfile", false },
        { "README.md", false },
        { "build", true },
        { "build/Dockerfile", false },
        { "build/out.o", false },
        { "docs", true },
        { "docs/guide.md", false },
        { "docs/keep", true },
        { "docs/keep/a.txt", false },
        { "docs/sub", true },
        { "docs/sub/keep", false },
        { "src", true },
        { "src/main.c", false },
        { "src/main.o", false },
};

static void test_walk(void **state)
{
        (void)state;
        /* an excluded directory is skipped whole */
        {
                _cleanup_free_ char *s = walk("docs\nbuild\n*.md", tree, ARRAY_SIZE(tree), NULL);
                assert_string_equal(s, ".dockerignore\nDockerfile\nsrc\nsrc/main.c\nsrc/main.o\n");
        }
        /* an exception inside it makes the walk descend, the directory
         * itself is not sent */
        {
                _cleanup_free_ char *s = walk("docs\n!docs/keep", tree, ARRAY_SIZE(tree), NULL);
                assert_non_null(strstr(s, "docs/keep\ndocs/keep/a.txt\n"));
                assert_null(strstr(s, "docs\n"));
                assert_null(strstr(s, "docs/guide.md"));
                assert_null(strstr(s, "docs/sub"));
        }
        /* Docker's prefix test: "!**" + "/keep" opens no excluded directory */
        {
                _cleanup_free_ char *s = walk("docs\n!**/keep", tree, ARRAY_SIZE(tree), NULL);
                assert_null(strstr(s, "docs"));
        }
        /* "*.o" with exceptions elsewhere */
        {
                _cleanup_free_ char *s = walk("**/*.o\n!src/main.o", tree, ARRAY_SIZE(tree), NULL);
                assert_non_null(strstr(s, "src/main.o\n"));
                assert_null(strstr(s, "build/out.o"));
        }
        /* the Dockerfile and .dockerignore are always sent */
        {
                _cleanup_free_ char *s = walk("*\n", tree, ARRAY_SIZE(tree), "Dockerfile");
                assert_string_equal(s, ".dockerignore\nDockerfile\n");
        }
        {
                _cleanup_free_ char *s = walk("build\n.dockerignore", tree, ARRAY_SIZE(tree), "build/Dockerfile");
                assert_non_null(strstr(s, ".dockerignore\n"));
                assert_non_null(strstr(s, "build/Dockerfile\n"));
                assert_null(strstr(s, "build/out.o"));
                assert_null(strstr(s, "build\n"));
        }
        /* Docker's walk differs from MatchesOrParentMatches: "a/x" then
         * "!a": with its parent's results the exception is not tried on
         * the parent again */
        {
                static const struct node t2[] = { { "a", true }, { "a/x", false }, { "a/y", false } };
                _cleanup_dockerignore_ struct dockerignore *di = NULL;
                _cleanup_free_ char *s = walk("a/x\n!a", t2, ARRAY_SIZE(t2), NULL);
                assert_string_equal(s, "a\na/y\n");
                assert_int_equal(dockerignore_parse("a/x\n!a", 6, &di, NULL), 0);
                assert_false(dockerignore_matches(di, "a/x"));
        }
}

static void test_may_reinclude(void **state)
{
        _cleanup_dockerignore_ struct dockerignore *di = NULL;
        const char *text = "docs\nbuild\n!docs/keep/a.txt\n!/build";

        (void)state;
        assert_int_equal(dockerignore_parse(text, strlen(text), &di, NULL), 0);
        assert_true(dockerignore_has_exceptions(di));
        assert_true(dockerignore_may_reinclude(di, "docs"));
        assert_true(dockerignore_may_reinclude(di, "docs/keep"));
        assert_true(dockerignore_may_reinclude(di, "docs/keep/a.txt"));
        assert_false(dockerignore_may_reinclude(di, "docs/kee"));
        assert_false(dockerignore_may_reinclude(di, "doc"));
        assert_false(dockerignore_may_reinclude(di, "docs/other"));
        assert_true(dockerignore_may_reinclude(di, "build"));
        {
                _cleanup_dockerignore_ struct dockerignore *none = NULL;
                assert_int_equal(dockerignore_parse("docs", 4, &none, NULL), 0);
                assert_false(dockerignore_has_exceptions(none));
                assert_false(dockerignore_may_reinclude(none, "docs"));
        }
}

static void test_keep(void **state)
{
        _cleanup_dockerignore_ struct dockerignore *di = NULL;
        _cleanup_error_ berth_error_t *err = NULL;

        (void)state;
        assert_int_equal(dockerignore_parse("*\n", 2, &di, NULL), 0);
        assert_true(dockerignore_matches(di, "Dockerfile"));
        assert_int_equal(dockerignore_keep(di, ".dockerignore", NULL), 0);
        assert_int_equal(dockerignore_keep(di, "Dockerfile", NULL), 0);
        assert_false(dockerignore_matches(di, "Dockerfile"));
        assert_false(dockerignore_matches(di, ".dockerignore"));
        assert_true(dockerignore_matches(di, "other"));
        assert_int_equal(dockerignore_npatterns(di), 3);
        /* the path is cleaned ("./sub/Dockerfile" as "sub/Dockerfile") */
        assert_int_equal(dockerignore_keep(di, "./sub//Dockerfile", NULL), 0);
        assert_false(dockerignore_matches(di, "sub/Dockerfile"));
        assert_true(dockerignore_matches(di, "sub/other"));
        assert_int_equal(dockerignore_npatterns(di), 4);
        /* Docker's "!" + path would clean "!../x" to "." */
        {
                _cleanup_dockerignore_ struct dockerignore *up = NULL;
                assert_int_equal(dockerignore_parse("../x", 4, &up, NULL), 0);
                assert_true(dockerignore_matches(up, "../x"));
                assert_int_equal(dockerignore_keep(up, "../x", NULL), 0);
                assert_false(dockerignore_matches(up, "../x"));
        }
        /* not excluded: nothing added */
        assert_int_equal(dockerignore_keep(di, "Dockerfile", NULL), 0);
        assert_int_equal(dockerignore_npatterns(di), 4);
        /* a name that is not a valid pattern (Docker fails the same way) */
        assert_true(dockerignore_keep(di, "a[b", &err) < 0);
        assert_non_null(strstr(err->msg, "syntax error in pattern"));
        /* an empty matcher */
        {
                _cleanup_dockerignore_ struct dockerignore *e = NULL;
                assert_int_equal(dockerignore_parse(NULL, 0, &e, NULL), 0);
                assert_int_equal(dockerignore_keep(e, "Dockerfile", NULL), 0);
                assert_int_equal(dockerignore_npatterns(e), 0);
                assert_false(dockerignore_matches(e, "Dockerfile"));
        }
}

/* A long name against many stars stays linear. */
static void test_no_blowup(void **state)
{
        _cleanup_dockerignore_ struct dockerignore *di = NULL;
        char path[4097];
        const char *pat = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/**/**/**/**/**/**/**/c";

        (void)state;
        memset(path, 'a', sizeof(path) - 1);
        path[sizeof(path) - 1] = '\0';
        assert_int_equal(dockerignore_parse(pat, strlen(pat), &di, NULL), 0);
        assert_false(dockerignore_matches(di, path));
        for (size_t i = 1; i < sizeof(path) - 1; i += 2)
                path[i] = '/';
        assert_false(dockerignore_matches(di, path));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_matches),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_valid_odd),
                cmocka_unit_test(test_walk),
                cmocka_unit_test(test_may_reinclude),
                cmocka_unit_test(test_keep),
                cmocka_unit_test(test_no_blowup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
