#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "image/reference.h"
#include "util/util.h"

/* Most cases come from distribution/reference's own tests
 * (reference_test.go, normalize_test.go), with the result Docker gives. */

#define H64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define H128 H64 H64
#define BB_DIGEST "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
#define ID64 "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"

struct valid_case {
        const char *in;
        const char *full;       /* image_ref_string */
        const char *familiar;   /* image_ref_familiar */
        const char *domain, *path, *tag, *digest;
};

static const struct valid_case valid[] = {
        /* Docker Hub, official images */
        { "busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest", NULL },
        { "busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "docker.io", "library/busybox", "1.36", NULL },
        { "library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest", NULL },
        { "docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest", NULL },
        { "docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest", NULL },
        { "index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest", NULL },
        { "index.docker.io/library/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest", "ubuntu-12.04-base:latest",
          "docker.io", "library/ubuntu-12.04-base", "latest", NULL },
        { "index.docker.io/docker/docker", "docker.io/docker/docker:latest", "docker/docker:latest", "docker.io", "docker/docker", "latest", NULL },
        /* Docker Hub, user repositories and nested paths */
        { "user/repo", "docker.io/user/repo:latest", "user/repo:latest", "docker.io", "user/repo", "latest", NULL },
        { "docker.io/user/repo:v1", "docker.io/user/repo:v1", "user/repo:v1", "docker.io", "user/repo", "v1", NULL },
        { "library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest", "docker.io", "library/foo/bar", "latest", NULL },
        { "store/foo/bar", "docker.io/store/foo/bar:latest", "store/foo/bar:latest", "docker.io", "store/foo/bar", "latest", NULL },
        { "other/library", "docker.io/other/library:latest", "other/library:latest", "docker.io", "other/library", "latest", NULL },
        { "test_com/foo", "docker.io/test_com/foo:latest", "test_com/foo:latest", "docker.io", "test_com/foo", "latest", NULL },
        { "docker---rules/docker", "docker.io/docker---rules/docker:latest", "docker---rules/docker:latest", "docker.io",
          "docker---rules/docker", "latest", NULL },
        { "dock__er/do_ck.er", "docker.io/dock__er/do_ck.er:latest", "dock__er/do_ck.er:latest", "docker.io", "dock__er/do_ck.er",
          "latest", NULL },
        { "d/docker", "docker.io/d/docker:latest", "d/docker:latest", "docker.io", "d/docker", "latest", NULL },
        { "jess/t", "docker.io/jess/t:latest", "jess/t:latest", "docker.io", "jess/t", "latest", NULL },
        /* single elements that look like hosts are still Hub images */
        { "localhost", "docker.io/library/localhost:latest", "localhost:latest", "docker.io", "library/localhost", "latest", NULL },
        { "localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "docker.io", "library/localhost", "5000", NULL },
        { "192.168.0.1", "docker.io/library/192.168.0.1:latest", "192.168.0.1:latest", "docker.io", "library/192.168.0.1", "latest", NULL },
        { "192.168.0.1:80", "docker.io/library/192.168.0.1:80", "192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", NULL },
        { "test.com:tag", "docker.io/library/test.com:tag", "test.com:tag", "docker.io", "library/test.com", "tag", NULL },
        { "foo_bar.com:8080", "docker.io/library/foo_bar.com:8080", "foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", NULL },
        { "docker.io", "docker.io/library/docker.io:latest", "docker.io:latest", "docker.io", "library/docker.io", "latest", NULL },
        /* a Hub path that would read back as a registry keeps docker.io (docker drops it) */
        { "docker.io/foo.com/bar", "docker.io/foo.com/bar:latest", "docker.io/foo.com/bar:latest", "docker.io", "foo.com/bar", "latest", NULL },
        { "docker.io/localhost/bar", "docker.io/localhost/bar:latest", "docker.io/localhost/bar:latest", "docker.io", "localhost/bar", "latest", NULL },
        { "docker.io/library/foo.com/bar", "docker.io/library/foo.com/bar:latest", "library/foo.com/bar:latest", "docker.io",
          "library/foo.com/bar", "latest", NULL },
        { "docker.io/library/foo.com", "docker.io/library/foo.com:latest", "foo.com:latest", "docker.io", "library/foo.com", "latest", NULL },
        { "docker.io/localhost", "docker.io/library/localhost:latest", "localhost:latest", "docker.io", "library/localhost", "latest", NULL },
        /* 64 hex digits are refused alone, fine with a domain or a tag; 63 are a name */
        { "docker.io/" ID64, "docker.io/library/" ID64 ":latest", ID64 ":latest", "docker.io", "library/" ID64, "latest", NULL },
        { ID64 ":v1", "docker.io/library/" ID64 ":v1", ID64 ":v1", "docker.io", "library/" ID64, "v1", NULL },
        { "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9:latest",
          "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9:latest", "docker.io",
          "library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "latest", NULL },
        { "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
          "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
          "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest", "docker.io",
          "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "latest", NULL },
        /* other registries */
        { "localhost/foo", "localhost/foo:latest", "localhost/foo:latest", "localhost", "foo", "latest", NULL },
        { "localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", NULL },
        { "localhost:0/x", "localhost:0/x:latest", "localhost:0/x:latest", "localhost:0", "x", "latest", NULL },
        { "127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest", "127.0.0.1:5000", "x", "latest", NULL },
        { "127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian:latest", "127.0.0.1:5000/library/debian:latest",
          "127.0.0.1:5000", "library/debian", "latest", NULL },
        { "192.168.1.1/repo", "192.168.1.1/repo:latest", "192.168.1.1/repo:latest", "192.168.1.1", "repo", "latest", NULL },
        { "192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", NULL },
        { "example.com/privatebase", "example.com/privatebase:latest", "example.com/privatebase:latest", "example.com", "privatebase", "latest", NULL },
        { "example.com:8000/private/moonbase", "example.com:8000/private/moonbase:latest", "example.com:8000/private/moonbase:latest",
          "example.com:8000", "private/moonbase", "latest", NULL },
        { "test:5000/repo", "test:5000/repo:latest", "test:5000/repo:latest", "test:5000", "repo", "latest", NULL },
        { "test-com:8080/foo", "test-com:8080/foo:latest", "test-com:8080/foo:latest", "test-com:8080", "foo", "latest", NULL },
        { "sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
          "sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", NULL },
        { "b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app:test.example.com",
          "b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app", "test.example.com", NULL },
        { "xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com",
          "myimage", "xn--n3h.com", NULL },
        { "docker.io:443/foo", "docker.io:443/foo:latest", "docker.io:443/foo:latest", "docker.io:443", "foo", "latest", NULL },
        /* IPv6 registries */
        { "[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest", "[::1]:5000", "x", "latest", NULL },
        { "[2001:db8::1]/repo", "[2001:db8::1]/repo:latest", "[2001:db8::1]/repo:latest", "[2001:db8::1]", "repo", "latest", NULL },
        { "[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo:tag",
          "[2001:db8:1:2:3:4:5:6]", "repo", "tag", NULL },
        { "[2001:db8::]:5000/repo", "[2001:db8::]:5000/repo:latest", "[2001:db8::]:5000/repo:latest", "[2001:db8::]:5000", "repo", "latest", NULL },
        { "[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
          "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian", "latest", NULL },
        { "[2001:db8::1]:5000/repo:tag@sha256:" H64, "[2001:db8::1]:5000/repo:tag@sha256:" H64, "[2001:db8::1]:5000/repo:tag@sha256:" H64,
          "[2001:db8::1]:5000", "repo", "tag", "sha256:" H64 },
        /* an uppercase first element is taken for a domain (Docker's rule) */
        { "Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo", "bar", "latest", NULL },
        { "FOO/bar", "FOO/bar:latest", "FOO/bar:latest", "FOO", "bar", "latest", NULL },
        { "DOCKER/docker", "DOCKER/docker:latest", "DOCKER/docker:latest", "DOCKER", "docker", "latest", NULL },
        { "Foo.Bar:5000/x", "Foo.Bar:5000/x:latest", "Foo.Bar:5000/x:latest", "Foo.Bar:5000", "x", "latest", NULL },
        /* tags */
        { "lowercase:Uppercase", "docker.io/library/lowercase:Uppercase", "lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", NULL },
        { "busybox:_", "docker.io/library/busybox:_", "busybox:_", "docker.io", "library/busybox", "_", NULL },
        { "busybox:1.0-rc.1_x", "docker.io/library/busybox:1.0-rc.1_x", "busybox:1.0-rc.1_x", "docker.io", "library/busybox", "1.0-rc.1_x", NULL },
        /* digests: with and without a tag (both kept) */
        { "busybox@" BB_DIGEST, "docker.io/library/busybox@" BB_DIGEST, "busybox@" BB_DIGEST, "docker.io", "library/busybox", NULL, BB_DIGEST },
        { "busybox:latest@" BB_DIGEST, "docker.io/library/busybox:latest@" BB_DIGEST, "busybox:latest@" BB_DIGEST, "docker.io",
          "library/busybox", "latest", BB_DIGEST },
        { "dmcgowan/myapp@" BB_DIGEST, "docker.io/dmcgowan/myapp@" BB_DIGEST, "dmcgowan/myapp@" BB_DIGEST, "docker.io", "dmcgowan/myapp",
          NULL, BB_DIGEST },
        { "test:5000/repo@sha256:" H64, "test:5000/repo@sha256:" H64, "test:5000/repo@sha256:" H64, "test:5000", "repo", NULL, "sha256:" H64 },
        { "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" H128, "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" H128,
          "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" H128, "xn--7o8h.com", "myimage", "xn--7o8h.com", "sha512:" H128 },
};

static void check_valid(const struct valid_case *c)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_image_ref_ struct image_ref r = { 0 }, again = { 0 }, fam = { 0 };
        _cleanup_free_ char *full = NULL, *familiar = NULL, *full2 = NULL, *full3 = NULL;

        if (image_ref_parse(c->in, &r, &err) < 0)
                fail_msg("image_ref_parse(\"%s\"): %s", c->in, err->msg);
        full = image_ref_string(&r);
        familiar = image_ref_familiar(&r);
        if (strcmp(full, c->full) != 0 || strcmp(familiar, c->familiar) != 0)
                fail_msg("\"%s\": got %s / %s, want %s / %s", c->in, full, familiar, c->full, c->familiar);
        assert_string_equal(r.domain, c->domain);
        assert_string_equal(r.path, c->path);
        if (c->tag)
                assert_string_equal(r.tag, c->tag);
        else
                assert_null(r.tag);
        if (c->digest)
                assert_string_equal(r.digest, c->digest);
        else
                assert_null(r.digest);

        /* both forms parse back to the same reference */
        if (image_ref_parse(full, &again, &err) < 0)
                fail_msg("reparse of \"%s\": %s", full, err->msg);
        full2 = image_ref_string(&again);
        assert_string_equal(full2, full);
        if (image_ref_parse(familiar, &fam, &err) < 0)
                fail_msg("reparse of \"%s\": %s", familiar, err->msg);
        full3 = image_ref_string(&fam);
        assert_string_equal(full3, full);
}

static void parse_valid(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(valid); i++)
                check_valid(&valid[i]);
}

struct invalid_case {
        const char *in;
        const char *msg; /* the whole message, or a substring when partial */
        bool partial;
};

static const struct invalid_case invalid[] = {
        { "", "invalid reference \"\": the reference is empty", false },
        { ID64, "invalid reference \"" ID64 "\": a 64-digit hexadecimal string is an image ID, not a repository name", false },
        /* uppercase */
        { "Busybox", "invalid reference \"Busybox\": repository name \"library/Busybox\" must be lowercase", false },
        { "Uppercase:tag", "invalid reference \"Uppercase:tag\": repository name \"library/Uppercase\" must be lowercase", false },
        { "docker/Docker", "invalid reference \"docker/Docker\": repository name \"docker/Docker\" must be lowercase", false },
        { "docker.io/docker/Docker", "repository name \"docker/Docker\" must be lowercase", true },
        { "test:5000/Uppercase/lowercase:tag", "invalid reference \"test:5000/Uppercase/lowercase:tag\": repository name "
          "\"Uppercase/lowercase\" must be lowercase", false },
        { "Foo/Bar", "repository name \"Bar\" must be lowercase", true },
        { "localhost/Foo$", "repository name \"Foo$\" must be lowercase", true },
        /* path components */
        { "-docker", "invalid reference \"-docker\": repository name component \"-docker\" must be lowercase letters and digits, "
          "separated by \".\", \"_\", \"__\" or \"-\"", false },
        { "-docker/docker", "repository name component \"-docker\" must be", true },
        { "docker-/docker", "repository name component \"docker-\" must be", true },
        { "-docker-/docker", "repository name component \"-docker-\" must be", true },
        { "____/____", "repository name component \"____\" must be", true },
        { "_docker/_docker", "repository name component \"_docker\" must be", true },
        { "dock___er/docker", "repository name component \"dock___er\" must be", true },
        { "docker/dock..er", "repository name component \"dock..er\" must be", true },
        { "docker/dock_.er", "repository name component \"dock_.er\" must be", true },
        { "docker/dock-.er", "repository name component \"dock-.er\" must be", true },
        { "docker/x.", "repository name component \"x.\" must be", true },
        { "docker/x__", "repository name component \"x__\" must be", true },
        /* a first element with "." is a domain, so these fail as hosts */
        { "dock..er/docker", "registry \"dock..er\" is not a valid host name", true },
        { "dock_.er/docker", "registry \"dock_.er\" is not a valid host name", true },
        { "dock-.er/docker", "registry \"dock-.er\" is not a valid host name", true },
        { "docker./x", "registry \"docker.\" is not a valid host name", true },
        { "aa/asdf$$^/aa", "repository name component \"asdf$$^\" must be", true },
        { "foo bar", "repository name component \"foo bar\" must be", true },
        { "foo\nbar", "invalid reference \"foo\\x0abar\": repository name component \"foo\\x0abar\" must be", true },
        { "caf\xc3\xa9", "repository name component \"caf\\xc3\\xa9\" must be", true },
        { "[fc00::1]", "repository name component \"[fc00\" must be", true },
        { "[fc00::1]:5000", "repository name component \"[fc00\" must be", true },
        /* empty components */
        { "docker/", "invalid reference \"docker/\": repository name \"docker/\" has an empty component", false },
        { "docker///docker", "repository name \"docker///docker\" has an empty component", true },
        { "docker.io/docker///docker", "repository name \"docker///docker\" has an empty component", true },
        { "/foo", "repository name \"/foo\" has an empty component", true },
        { ":justtag", "invalid reference \":justtag\": the repository name is missing", false },
        { "@sha256:" H64, "invalid reference \"@sha256:" H64 "\": the repository name is missing", false },
        { "localhost/", "invalid reference \"localhost/\": the repository name is missing", false },
        { "localhost:5000/:tag", "the repository name is missing", true },
        { "docker.io/", "the repository name is missing", true },
        { "docker.io/@sha256:" H64, "the repository name is missing", true },
        /* registry hosts */
        { "-docker.io/docker/docker", "invalid reference \"-docker.io/docker/docker\": registry \"-docker.io\" is not a valid host name", false },
        { "a_b.com/foo", "registry \"a_b.com\" is not a valid host name", true },
        { "foo..com/bar", "registry \"foo..com\" is not a valid host name", true },
        { ".com/bar", "registry \".com\" is not a valid host name", true },
        { "foo.com./bar", "registry \"foo.com.\" is not a valid host name", true },
        { "ex ample.com/foo", "registry \"ex ample.com\" is not a valid host name", true },
        { "foo:bar/baz", "invalid reference \"foo:bar/baz\": registry \"foo:bar\" has a port that is not a number", false },
        { "localhost:/x", "registry \"localhost:\" has a port that is not a number", true },
        { "example.com:80:80/x", "registry \"example.com:80:80\" has a port that is not a number", true },
        { ":5000/x", "registry \":5000\" is not a valid host name", true },
        { "fc00::1:5000/debian", "registry \"fc00::1:5000\" has a port that is not a number", true },
        { "[fe80::1%eth0]:5000/debian", "registry \"[fe80::1%eth0]:5000\" is not a valid IPv6 address in brackets", true },
        { "[2001:db8:3:4::192.0.2.33]:5000/debian", "is not a valid IPv6 address in brackets", true },
        { "[]:5000/x", "registry \"[]:5000\" is not a valid IPv6 address in brackets", true },
        { "[::1/x", "registry \"[::1\" is not a valid IPv6 address in brackets", true },
        { "[::1]x/y", "registry \"[::1]x\" is not a valid IPv6 address in brackets", true },
        { "[::1]:/y", "registry \"[::1]:\" has a port that is not a number", true },
        { "https://registry.example.com/foo", "invalid reference \"https://registry.example.com/foo\": a reference has no URL scheme, "
          "drop \"https://\"", false },
        { "https://github.com/docker/docker", "drop \"https://\"", true },
        /* tags */
        { "busybox:", "invalid reference \"busybox:\": the tag after \":\" is empty", false },
        { "busybox:-x", "invalid reference \"busybox:-x\": tag \"-x\" must be 1 to 128 letters, digits, \"_\", \".\" or \"-\", "
          "not starting with \".\" or \"-\"", false },
        { "busybox:.x", "tag \".x\" must be", true },
        { "busybox:a:b", "tag \"a:b\" must be", true },
        { "busybox:a/b", "registry \"busybox:a\" has a port that is not a number", true },
        { "docker.io/busybox:a/b", "tag \"a/b\" must be", true },
        { "busybox:t\xc3\xa9", "tag \"t\\xc3\\xa9\" must be", true },
        { "foo:tag/bar", "registry \"foo:tag\" has a port that is not a number", true },
        /* digests */
        { "busybox@", "invalid reference \"busybox@\": invalid digest \"\": expected \"sha256:\" followed by 64 hex digits", false },
        { "repo@sha256:ffffffffffffffffffffffffffffffffff", "invalid reference \"repo@sha256:ffffffffffffffffffffffffffffffffff\": "
          "invalid digest \"sha256:ffffffffffffffffffffffffffffffffff\": sha256 needs 64 hex digits, not 34", false },
        { "validname@invaliddigest:" H64, "invalid digest \"invaliddigest:" H64 "\": unsupported algorithm \"invaliddigest\"", true },
        { "busybox@sha256:" H64 "@sha256:" H64, "character 65 of the hash is not a lowercase hex digit", true },
        { "busybox@sha256:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
          "character 1 of the hash is not a lowercase hex digit", true },
        { "busybox@sha512:" H64, "sha512 needs 128 hex digits, not 64", true },
        { "busybox:tag@", "invalid digest \"\"", true },
        { "busybox:ta@g", "invalid digest \"g\"", true },
};

static void parse_invalid(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
                const struct invalid_case *c = &invalid[i];
                _cleanup_error_ berth_error_t *err = NULL;
                struct image_ref r = { 0 };
                int ret = image_ref_parse(c->in, &r, &err);
                bool ok = ret < 0 && err != NULL &&
                          (c->partial ? strstr(err->msg, c->msg) != NULL : strcmp(err->msg, c->msg) == 0);
                if (!ok)
                        fail_msg("image_ref_parse(\"%s\"): ret=%d msg=%s\n  want %s%s", c->in, ret, err ? err->msg : "(none)",
                                 c->partial ? "substring " : "", c->msg);
                assert_int_equal(err->status, 0);
                assert_null(strchr(err->msg, '\n'));
                /* a failed parse leaves nothing to free */
                assert_null(r.domain);
                assert_null(r.path);
                assert_null(r.tag);
                assert_null(r.digest);
        }
}

static char *repeat(const char *unit, size_t n, const char *tail)
{
        size_t ul = strlen(unit), tl = strlen(tail);
        char *s = xmalloc(ul * n + tl + 1);

        for (size_t i = 0; i < n; i++)
                memcpy(s + i * ul, unit, ul);
        memcpy(s + ul * n, tail, tl + 1);
        return s;
}

static void lengths(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct image_ref r = { 0 };

        /* path of exactly 255 characters: fine, the domain does not count */
        {
                _cleanup_free_ char *s = repeat("a/", 127, "a:tag-puts-this-over-max");
                _cleanup_free_ char *full = NULL, *want = repeat("a/", 127, "a:tag-puts-this-over-max");
                assert_int_equal(image_ref_parse(s, &r, &err), 0);
                assert_int_equal(strlen(r.path), 255);
                assert_string_equal(r.domain, "docker.io");
                full = image_ref_string(&r);
                assert_string_equal(full + strlen("docker.io/"), want);
                image_ref_free(&r);
        }
        {
                _cleanup_free_ char *s = repeat("a", 255, ":tag");
                _cleanup_free_ char *in = xasprintf("example.com/%s", s);
                assert_int_equal(image_ref_parse(in, &r, &err), 0);
                assert_int_equal(strlen(r.path), 255);
                image_ref_free(&r);
        }
        {
                /* "library/" + 247 = 255 */
                _cleanup_free_ char *s = repeat("b", 247, "");
                assert_int_equal(image_ref_parse(s, &r, &err), 0);
                image_ref_free(&r);
        }
        /* one more is too long */
        {
                _cleanup_free_ char *s = repeat("a/", 128, "a:tag");
                assert_true(image_ref_parse(s, &r, &err) < 0);
                assert_non_null(strstr(err->msg, "\"...: repository name is 257 characters long, more than 255"));
        }
        {
                _cleanup_free_ char *s = repeat("a", 256, "");
                _cleanup_free_ char *in = xasprintf("example.com/%s", s);
                assert_true(image_ref_parse(in, &r, &err) < 0);
                assert_non_null(strstr(err->msg, "repository name is 256 characters long, more than 255"));
                /* the echoed reference is cut short, the message stays readable */
                assert_non_null(strstr(err->msg, "aaa\"...: "));
                assert_true(strlen(err->msg) < 400);
        }
        {
                _cleanup_free_ char *s = repeat("b", 248, "");
                assert_true(image_ref_parse(s, &r, &err) < 0);
                assert_non_null(strstr(err->msg, "repository name is 256 characters long"));
        }
        /* tags: 128 characters at most */
        {
                _cleanup_free_ char *t = repeat("t", 128, ""), *s = xasprintf("busybox:%s", t);
                _cleanup_free_ char *t2 = repeat("t", 129, ""), *s2 = xasprintf("busybox:%s", t2);
                assert_int_equal(image_ref_parse(s, &r, &err), 0);
                assert_string_equal(r.tag, t);
                image_ref_free(&r);
                assert_true(image_ref_parse(s2, &r, &err) < 0);
                assert_non_null(strstr(err->msg, "must be 1 to 128 letters"));
        }
}

static void helpers(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_image_ref_ struct image_ref hub = { 0 }, local = { 0 }, v6 = { 0 }, legacy = { 0 };
        _cleanup_free_ char *name = NULL, *name2 = NULL;

        assert_int_equal(image_ref_parse("busybox", &hub, &err), 0);
        assert_string_equal(image_ref_registry_host(&hub), "registry-1.docker.io");
        name = image_ref_name(&hub);
        assert_string_equal(name, "docker.io/library/busybox");

        assert_int_equal(image_ref_parse("localhost:5000/a/b:tag", &local, &err), 0);
        assert_string_equal(image_ref_registry_host(&local), "localhost:5000");
        name2 = image_ref_name(&local);
        assert_string_equal(name2, "localhost:5000/a/b");

        assert_int_equal(image_ref_parse("[::1]:5000/x", &v6, &err), 0);
        assert_string_equal(image_ref_registry_host(&v6), "[::1]:5000");

        assert_int_equal(image_ref_parse("index.docker.io/user/x", &legacy, &err), 0);
        assert_string_equal(image_ref_registry_host(&legacy), "registry-1.docker.io");

        /* free zeroes, so a second free is harmless; NULL is fine too */
        image_ref_free(&hub);
        assert_null(hub.domain);
        image_ref_free(&hub);
        image_ref_free(NULL);
}

static void null_err(void **state)
{
        (void)state;
        struct image_ref r = { 0 };

        /* err may be NULL: the caller only wants to know */
        assert_true(image_ref_parse("Busybox", &r, NULL) < 0);
        assert_true(image_ref_parse("busybox@sha256:0", &r, NULL) < 0);
        assert_int_equal(image_ref_parse("busybox", &r, NULL), 0);
        image_ref_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parse_valid),
                cmocka_unit_test(parse_invalid),
                cmocka_unit_test(lengths),
                cmocka_unit_test(helpers),
                cmocka_unit_test(null_err),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
