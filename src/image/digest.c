#include "image/digest.h"
#include "util/util.h"
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

struct digester {
        EVP_MD_CTX *ctx;
        const EVP_MD *md;
        const char *algo;
};

static const struct {
        const char *name;
        size_t hex_len;
} algorithms[] = {
        { "sha256", 64 },
        { "sha512", 128 },
};

static bool is_lower_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int digest_parse(const char *s, struct digest *out, berth_error_t **err)
{
        _cleanup_free_ char *q = quote(s);
        const char *colon = strchr(s, ':'), *hex;
        size_t algo_len, hex_len, want = 0;
        const char *algo = NULL;

        if (colon == NULL)
                return berth_error(err, 0, "invalid digest %s: expected \"sha256:\" followed by 64 hex digits", q);
        algo_len = (size_t)(colon - s);
        for (size_t i = 0; i < ARRAY_SIZE(algorithms); i++)
                if (strlen(algorithms[i].name) == algo_len && memcmp(s, algorithms[i].name, algo_len) == 0) {
                        algo = algorithms[i].name;
                        want = algorithms[i].hex_len;
                }
        if (algo == NULL) {
                _cleanup_free_ char *a = xmalloc(algo_len + 1);
                _cleanup_free_ char *qa = NULL;

                memcpy(a, s, algo_len);
                a[algo_len] = '\0';
                qa = quote(a);
                return berth_error(err, 0, "invalid digest %s: unsupported algorithm %s (sha256 or sha512)", q, qa);
        }
        hex = colon + 1;
        hex_len = strlen(hex);
        for (size_t i = 0; i < hex_len; i++)
                if (!is_lower_hex(hex[i]))
                        return berth_error(err, 0, "invalid digest %s: character %zu of the hash is not a lowercase hex digit",
                                           q, i + 1);
        if (hex_len != want)
                return berth_error(err, 0, "invalid digest %s: %s needs %zu hex digits, not %zu", q, algo, want, hex_len);
        if (out) {
                strcpy(out->algo, algo);
                memcpy(out->hex, hex, hex_len + 1);
        }
        return 0;
}

static void die(const char *msg)
{
        (void)!write(2, msg, strlen(msg));
        abort();
}

static void ossl_check(int ok)
{
        if (ok != 1)
                die("berth: OpenSSL digest failure\n");
}

struct digester *digester_new_algo(const char *algo)
{
        const EVP_MD *md;
        struct digester *d;

        if (strcmp(algo, "sha256") == 0)
                md = EVP_sha256();
        else if (strcmp(algo, "sha512") == 0)
                md = EVP_sha512();
        else
                return NULL;
        d = xmalloc(sizeof(*d));
        d->md = md;
        d->algo = strcmp(algo, "sha256") == 0 ? "sha256" : "sha512";
        d->ctx = EVP_MD_CTX_new();
        if (d->ctx == NULL)
                die("berth: out of memory\n");
        ossl_check(EVP_DigestInit_ex(d->ctx, d->md, NULL));
        return d;
}

struct digester *digester_new(void)
{
        return digester_new_algo("sha256");
}

void digester_update(struct digester *d, const void *buf, size_t len)
{
        if (len > 0)
                ossl_check(EVP_DigestUpdate(d->ctx, buf, len));
}

char *digester_final(struct digester *d)
{
        static const char xdigits[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        size_t prefix = strlen(d->algo) + 1;
        char *out;

        ossl_check(EVP_DigestFinal_ex(d->ctx, md, &md_len));
        ossl_check(EVP_DigestInit_ex(d->ctx, d->md, NULL));
        out = xmalloc(prefix + md_len * 2 + 1);
        memcpy(out, d->algo, prefix - 1);
        out[prefix - 1] = ':';
        for (unsigned int i = 0; i < md_len; i++) {
                out[prefix + 2 * i] = xdigits[md[i] >> 4];
                out[prefix + 2 * i + 1] = xdigits[md[i] & 0xf];
        }
        out[prefix + md_len * 2] = '\0';
        return out;
}

void digester_free(struct digester *d)
{
        if (d == NULL)
                return;
        EVP_MD_CTX_free(d->ctx);
        free(d);
}

char *digest_of(const void *buf, size_t len)
{
        _cleanup_digester_ struct digester *d = digester_new();

        digester_update(d, buf, len);
        return digester_final(d);
}

int digest_of_file(int fd, char **out, berth_error_t **err)
{
        enum { BUF_SIZE = 128 * 1024 };
        _cleanup_digester_ struct digester *d = digester_new();
        _cleanup_free_ char *buf = xmalloc(BUF_SIZE);

        for (;;) {
                ssize_t n = read(fd, buf, BUF_SIZE);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_error(err, errno, "read fd %d for its digest", fd);
                }
                if (n == 0)
                        break;
                digester_update(d, buf, (size_t)n);
        }
        *out = digester_final(d);
        return 0;
}

char *chain_id(const char *const *diff_ids, size_t n)
{
        _cleanup_digester_ struct digester *d = NULL;
        char *chain;

        if (n == 0)
                return NULL;
        chain = xstrdup(diff_ids[0]);
        if (n > 1)
                d = digester_new();
        for (size_t i = 1; i < n; i++) {
                digester_update(d, chain, strlen(chain));
                digester_update(d, " ", 1);
                digester_update(d, diff_ids[i], strlen(diff_ids[i]));
                free(chain);
                chain = digester_final(d);
        }
        return chain;
}
