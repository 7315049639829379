#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "image/digest.h"
#include "util/util.h"

#define HEX64_F "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define HEX128_F HEX64_F HEX64_F

/* Known answers, from the shell:
 *   printf '' | sha256sum   printf abc | sha256sum   printf abc | sha512sum */
#define SHA256_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA512_ABC "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" \
                   "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static void parse_valid(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct digest d;

        assert_int_equal(digest_parse(SHA256_ABC, &d, &err), 0);
        assert_null(err);
        assert_string_equal(d.algo, "sha256");
        assert_string_equal(d.hex, &SHA256_ABC[7]);

        assert_int_equal(digest_parse(SHA512_ABC, &d, &err), 0);
        assert_string_equal(d.algo, "sha512");
        assert_int_equal(strlen(d.hex), 128);
        assert_string_equal(d.hex, &SHA512_ABC[7]);

        assert_int_equal(digest_parse("sha256:" HEX64_F, NULL, &err), 0);
        assert_int_equal(digest_parse("sha512:" HEX128_F, NULL, &err), 0);
        assert_null(err);
}

static void parse_invalid(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                const char *msg;
        } cases[] = {
                { "", "invalid digest \"\": expected \"sha256:\" followed by 64 hex digits" },
                { HEX64_F, "invalid digest \"" HEX64_F "\": expected \"sha256:\" followed by 64 hex digits" },
                { "sha256", "invalid digest \"sha256\": expected \"sha256:\" followed by 64 hex digits" },
                { "sha256:", "invalid digest \"sha256:\": sha256 needs 64 hex digits, not 0" },
                { "sha256:" HEX64_F "f", "invalid digest \"sha256:" HEX64_F "f\": sha256 needs 64 hex digits, not 65" },
                { "sha256:fff", "invalid digest \"sha256:fff\": sha256 needs 64 hex digits, not 3" },
                { "sha512:" HEX64_F, "invalid digest \"sha512:" HEX64_F "\": sha512 needs 128 hex digits, not 64" },
                { "sha256:" HEX128_F, "sha256 needs 64 hex digits, not 128" },
                { "sha256:F" HEX64_F, "character 1 of the hash is not a lowercase hex digit" },
                { "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffFf",
                  "character 63 of the hash is not a lowercase hex digit" },
                { "sha256:fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffg",
                  "character 64 of the hash is not a lowercase hex digit" },
                { "sha256: " HEX64_F, "character 1 of the hash is not a lowercase hex digit" },
                { "sha256:" HEX64_F ":", "character 65 of the hash is not a lowercase hex digit" },
                { "SHA256:" HEX64_F, "unsupported algorithm \"SHA256\" (sha256 or sha512)" },
                { "md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm \"md5\" (sha256 or sha512)" },
                { "sha384:" HEX64_F, "unsupported algorithm \"sha384\"" },
                { ":" HEX64_F, "unsupported algorithm \"\"" },
                { "sha256+b64:" HEX64_F, "unsupported algorithm \"sha256+b64\"" },
                /* control bytes are escaped: the message stays one line */
                { "sha\n256:x", "invalid digest \"sha\\x0a256:x\": unsupported algorithm \"sha\\x0a256\"" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                struct digest d;
                int r = digest_parse(cases[i].in, &d, &err);
                if (r >= 0 || err == NULL || strstr(err->msg, cases[i].msg) == NULL)
                        fail_msg("digest_parse(\"%s\"): r=%d msg=%s, want \"%s\"", cases[i].in, r,
                                 err ? err->msg : "(none)", cases[i].msg);
                assert_int_equal(err->status, 0);
                assert_null(strchr(err->msg, '\n'));
        }
}

static void parse_long_input_truncated(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *s = xmalloc(10007);

        memcpy(s, "sha256:", 7);
        memset(s + 7, 'a', 9999);
        s[10006] = '\0';
        assert_true(digest_parse(s, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "aaa\"...: sha256 needs 64 hex digits, not 9999"));
        assert_true(strlen(err->msg) < 400);
}

static void one_shot(void **state)
{
        (void)state;
        _cleanup_free_ char *e = digest_of("", 0), *a = digest_of("abc", 3);

        assert_string_equal(e, SHA256_EMPTY);
        assert_string_equal(a, SHA256_ABC);
        assert_int_equal(digest_parse(a, NULL, NULL), 0);
}

static void streaming(void **state)
{
        (void)state;
        _cleanup_digester_ struct digester *d = digester_new();
        _cleanup_free_ char *one = NULL, *two = NULL, *empty = NULL, *big = NULL;

        digester_update(d, "a", 1);
        digester_update(d, "", 0);
        digester_update(d, "bc", 2);
        one = digester_final(d);
        assert_string_equal(one, SHA256_ABC);
        /* final resets: the digester starts over */
        empty = digester_final(d);
        assert_string_equal(empty, SHA256_EMPTY);
        digester_update(d, "abc", 3);
        two = digester_final(d);
        assert_string_equal(two, SHA256_ABC);

        /* yes 0123456789 | head -c 1000000 | sha256sum, fed in odd-sized pieces */
        {
                _cleanup_free_ char *buf = xmalloc(1000000);
                size_t off = 0, step = 1;
                for (size_t i = 0; i < 1000000; i++)
                        buf[i] = (i % 11 == 10) ? '\n' : (char)('0' + i % 11);
                while (off < 1000000) {
                        size_t n = step < 1000000 - off ? step : 1000000 - off;
                        digester_update(d, buf + off, n);
                        off += n;
                        step = step * 3 + 1;
                }
                big = digester_final(d);
                assert_string_equal(big, "sha256:d21231c4057398f12386196124c72c5775b6c81524db12f9d7d655585c27837f");
        }
}

static void sha512_digester(void **state)
{
        (void)state;
        _cleanup_digester_ struct digester *d = digester_new_algo("sha512");
        _cleanup_free_ char *s = NULL;

        assert_non_null(d);
        digester_update(d, "ab", 2);
        digester_update(d, "c", 1);
        s = digester_final(d);
        assert_string_equal(s, SHA512_ABC);
        assert_int_equal(digest_parse(s, NULL, NULL), 0);
        assert_null(digester_new_algo("md5"));
        assert_null(digester_new_algo("SHA256"));
        digester_free(NULL);
}

static void of_file(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_close_ int fd = memfd_create("digest-test", 0), dirfd = -1;
        _cleanup_free_ char *buf = xmalloc(3000000), *out = NULL, *again = NULL;
        int pipefd[2];

        /* head -c 3000000 /dev/zero | tr '\0' x | sha256sum  (several reads) */
        assert_true(fd >= 0);
        memset(buf, 'x', 3000000);
        assert_int_equal(write_all(fd, buf, 3000000), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(digest_of_file(fd, &out, &err), 0);
        assert_string_equal(out, "sha256:e55b8bdf621ddaa8f462c74745db9680d3bb7536a9cf854f8d6668b34a287890");
        /* from the current offset: at EOF now, so the empty digest */
        assert_int_equal(digest_of_file(fd, &again, &err), 0);
        assert_string_equal(again, SHA256_EMPTY);
        free(again);
        again = NULL;

        /* a pipe works too */
        assert_int_equal(pipe(pipefd), 0);
        assert_int_equal(write_all(pipefd[1], "abc", 3), 0);
        close(pipefd[1]);
        assert_int_equal(digest_of_file(pipefd[0], &again, &err), 0);
        close(pipefd[0]);
        assert_string_equal(again, SHA256_ABC);

        /* errors carry errno and name the fd */
        assert_int_equal(digest_of_file(-1, &again, &err), -EBADF);
        assert_int_equal(err->status, EBADF);
        assert_string_equal(err->msg, "read fd -1 for its digest: Bad file descriptor");
        dirfd = open("/", O_RDONLY | O_DIRECTORY);
        assert_true(dirfd >= 0);
        assert_int_equal(digest_of_file(dirfd, &again, &err), -EISDIR);
        assert_non_null(strstr(err->msg, "Is a directory"));
}

/* Independent vector, computed in the shell:
 *   d0=sha256:$(printf layer0 | sha256sum | cut -d' ' -f1)
 *   d1=sha256:$(printf layer1 | sha256sum | cut -d' ' -f1)
 *   d2=sha256:$(printf layer2 | sha256sum | cut -d' ' -f1)
 *   c1=sha256:$(printf '%s %s' "$d0" "$d1" | sha256sum | cut -d' ' -f1)
 *   c2=sha256:$(printf '%s %s' "$c1" "$d2" | sha256sum | cut -d' ' -f1) */
#define D0 "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e"
#define D1 "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
#define D2 "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
#define C1 "sha256:ef232af0eb422cdfd7917631657cd8ed2bfd5b9461b37c427aa0d3e0a19adf79"
#define C2 "sha256:7ad3896338947cc04ee0b35b50d400ff32538d63f42f85ec87feac78bf71a54d"

static void chain_ids(void **state)
{
        (void)state;
        const char *const ids[] = { D0, D1, D2 };
        const char *const tail[] = { C1, D2 };
        _cleanup_free_ char *c0 = chain_id(ids, 1), *c1 = chain_id(ids, 2), *c2 = chain_id(ids, 3);
        _cleanup_free_ char *c2b = chain_id(tail, 2), *d0 = NULL;

        assert_null(chain_id(ids, 0));
        assert_string_equal(c0, D0);    /* ChainID(L0) = DiffID(L0) */
        assert_string_equal(c1, C1);
        assert_string_equal(c2, C2);
        /* the recursion: ChainID(L2) = sha256(ChainID(L1) + " " + DiffID(L2)) */
        assert_string_equal(c2b, C2);
        /* and the diff ids themselves are what the shell computed */
        d0 = digest_of("layer0", 6);
        assert_string_equal(d0, D0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parse_valid),
                cmocka_unit_test(parse_invalid),
                cmocka_unit_test(parse_long_input_truncated),
                cmocka_unit_test(one_shot),
                cmocka_unit_test(streaming),
                cmocka_unit_test(sha512_digester),
                cmocka_unit_test(of_file),
                cmocka_unit_test(chain_ids),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
